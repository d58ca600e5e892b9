/*
 * shared.c — helpers on the learner's shared state: params references, reject counting.
 */
#include "learner/shared.h"

#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"

const char *const learner_reject_names[REJECT_COUNT] = {
    "bad_size",      "decode_error", "bad_version",  "wrong_type", "stale_epoch",
    "unknown_actor", "wrong_dims",   "stale_policy", "duplicate",
};

struct params_blob *shared_params_get(struct shared *s)
{
    pthread_mutex_lock(&s->params_lock);
    struct params_blob *b = s->params;
    if (b)
        atomic_fetch_add(&b->refs, 1);
    pthread_mutex_unlock(&s->params_lock);
    return b;
}

void shared_params_put(struct params_blob *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

void shared_reject(struct shared *s, enum learner_reject why, const char *detail)
{
    RL_ASSERT(why >= 0 && why < REJECT_COUNT);
    uint64_t n = atomic_fetch_add(&s->rejected[why], 1);
    // the first of each reason is logged; then every 1000th, as a summary
    if (n == 0 || (n + 1) % 1000 == 0)
        log_warn("rejected message (%s, %llu so far): %s", learner_reject_names[why],
                 (unsigned long long)(n + 1), detail ? detail : "");
}
