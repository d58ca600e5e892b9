/*
 * hello_limit.c — per-connection token buckets for Hellos (see hello_limit.h).
 */
#include "learner/hello_limit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/util.h"

#define PROBE 8 /* slots looked at per id (open addressing) */

struct bucket {
    uint8_t id[HELLO_LIMIT_ID];
    size_t len; /* 0: free */
    double tokens;
    double seen; /* time of the last Hello */
};

struct hello_limit {
    double burst, rate;
    struct bucket b[HELLO_LIMIT_SLOTS];
};

struct hello_limit *hello_limit_new(double burst, double per_sec)
{
    struct hello_limit *h = calloc(1, sizeof(*h));
    if (h) {
        h->burst = burst;
        h->rate = per_sec;
    }
    return h;
}

void hello_limit_destroy(struct hello_limit **h)
{
    if (h) {
        free(*h);
        *h = NULL;
    }
}

// the bucket of id: its own, else a free one, else the least recently seen of its probe run
static struct bucket *find(struct hello_limit *h, const uint8_t *id, size_t len, bool *fresh)
{
    size_t start = (size_t)(hash_fnv1a(HASH_FNV_INIT, id, len) % HELLO_LIMIT_SLOTS);
    struct bucket *pick = NULL;
    for (size_t k = 0; k < PROBE; k++) {
        struct bucket *b = &h->b[(start + k) % HELLO_LIMIT_SLOTS];
        if (b->len == len && !memcmp(b->id, id, len)) {
            *fresh = false;
            return b;
        }
        if (!pick || (pick->len && (!b->len || b->seen < pick->seen)))
            pick = b;
    }
    *fresh = true;
    return pick;
}

bool hello_limit_take(struct hello_limit *h, const void *id, size_t len, double now)
{
    len = RL_MIN(len, (size_t)HELLO_LIMIT_ID);
    if (len == 0)
        return true; /* no routing id: nothing to key on (the control socket always has one) */
    bool fresh;
    struct bucket *b = find(h, id, len, &fresh);
    if (fresh) {
        memcpy(b->id, id, len);
        b->len = len;
        b->tokens = h->burst;
    } else {
        b->tokens = RL_MIN(h->burst, b->tokens + (now - b->seen) * h->rate);
    }
    b->seen = now;
    if (b->tokens < 1)
        return false;
    b->tokens -= 1;
    return true;
}
