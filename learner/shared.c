/*
 * shared.c — helpers on the learner's shared state: params references, reject counting.
 */
#include "learner/shared.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <zmq.h>

#include "common/log.h"
#include "common/util.h"
#include "learner/stats.h"

const char *const learner_reject_names[REJECT_COUNT] = {
    "bad_size",     "decode_error", "bad_version",  "wrong_type",  "stale_epoch",   "unknown_actor",
    "wrong_dims",   "stale_policy", "duplicate",    "bad_session", "not_evaluator", "rate_limited",
    "obs_range",    "action_range", "reward_range", "bad_steps",   "bad_episodes",  "hello_rate",
    "key_identity", "bad_chain",    "bad_image",    "auth_failed",
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

int shared_decode(struct shared *s, struct wire_decoder *dec, const char *where, const void *buf,
                  size_t len, size_t max, struct wire_msg *m)
{
    char err[200], why[240];
    if (len == 0 || len > max) {
        snprintf(why, sizeof(why), "%s: message size %zu", where, len);
        shared_reject(s, REJECT_BAD_SIZE, why);
        return -EMSGSIZE;
    }
    int rc = wire_decode(dec, buf, len, m, err, sizeof(err));
    if (rc == 0)
        return 0;
    // a readable envelope of another version (0, absent, included) is an old peer, not noise
    bool version = m->version != WIRE_VERSION_UNREAD && m->version != WIRE_PROTOCOL_VERSION;
    snprintf(why, sizeof(why), "%s: %s", where, err);
    shared_reject(s,
                  rc == -EMSGSIZE ? REJECT_BAD_SIZE
                  : version       ? REJECT_BAD_VERSION
                                  : REJECT_DECODE,
                  why);
    return rc;
}

void shared_schedule(struct shared *s, struct schedule *out)
{
    const struct rl_config *c = &s->cfg;
    bool paced = c->updates_per_step > 0 && !c->collect_only; /* collect only: never held */
    int64_t start = atomic_load(&s->train_start);
    long size = replay_size(s->replay);
    *out = (struct schedule){.started = start >= 0};
    if (start < 0) { /* filling the replay (counters may be restored from a checkpoint) */
        out->start = size >= c->min_replay && !c->collect_only;
        out->hold = paced && size > c->min_replay + c->ingest_slack;
    } else {
        double chunk = (double)atomic_load(&s->chunk_steps);
        uint64_t taken = atomic_load(&s->updates) + atomic_load(&s->skipped);
        double done = (double)(taken - atomic_load(&s->train_start_updates));
        out->step = !paced || done < c->updates_per_step * (chunk - (double)start + 1);
        out->hold = paced && chunk > (double)start + done / c->updates_per_step + c->ingest_slack;
    }
    if (atomic_load(&s->finished))
        out->hold = false;
}

void shared_reject_peer(struct shared *s, enum actors_check why, const char *detail)
{
    static const enum learner_reject map[] = {
        [ACTORS_UNKNOWN] = REJECT_UNKNOWN_ACTOR, [ACTORS_BAD_SESSION] = REJECT_BAD_SESSION,
        [ACTORS_DUPLICATE] = REJECT_DUPLICATE,   [ACTORS_NOT_EVAL] = REJECT_NOT_EVALUATOR,
        [ACTORS_TOO_SOON] = REJECT_RATE_LIMITED,
    };
    RL_ASSERT(why > ACTORS_OK && why <= ACTORS_TOO_SOON);
    shared_reject(s, map[why], detail);
}

void shared_stats_rejected(struct shared *s, struct stats *st)
{
    for (int r = 0; r < REJECT_COUNT; r++)
        stats_set_rejected(st, learner_reject_names[r], atomic_load(&s->rejected[r]));
}

const char *shared_peer_key(void *msg)
{
    const char *k = zmq_msg_gets(msg, "User-Id");
    return k ? k : "";
}

double shared_recent_return(struct shared *s, int *n)
{
    pthread_mutex_lock(&s->ret_lock);
    double sum = 0;
    for (int i = 0; i < s->ret_n; i++)
        sum += s->ret[i];
    *n = s->ret_n;
    pthread_mutex_unlock(&s->ret_lock);
    return *n ? sum / *n : NAN;
}
