/*
 * replay.c — a ring of chunk steps (see replay.h).
 */
#include "learner/replay.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct replay {
    long cap;
    int O, D;
    float *obs, *next_obs, *act, *rew, *steps;
    uint8_t *term;
    uint64_t *traj;
    int32_t *pos, *len; /* position in segment, segment length */
    uint64_t *serial;   /* global insertion index of each slot */
    long head;          /* next slot to write */
    long size;
    uint64_t inserted, evicted;
    pthread_mutex_t lock;
};

struct replay *replay_new(long capacity, int obs_dim, int act_dim)
{
    if (capacity < 1 || obs_dim < 1 || act_dim < 1)
        return NULL;
    struct replay *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    size_t n = (size_t)capacity;
    r->cap = capacity;
    r->O = obs_dim;
    r->D = act_dim;
    r->obs = malloc(n * (size_t)obs_dim * sizeof(float));
    r->next_obs = malloc(n * (size_t)obs_dim * sizeof(float));
    r->act = malloc(n * (size_t)act_dim * sizeof(float));
    r->rew = malloc(n * sizeof(float));
    r->steps = malloc(n * sizeof(float));
    r->term = malloc(n);
    r->traj = malloc(n * sizeof(uint64_t));
    r->pos = malloc(n * sizeof(int32_t));
    r->len = malloc(n * sizeof(int32_t));
    r->serial = malloc(n * sizeof(uint64_t));
    pthread_mutex_init(&r->lock, NULL);
    if (!r->obs || !r->next_obs || !r->act || !r->rew || !r->steps || !r->term || !r->traj ||
        !r->pos || !r->len || !r->serial)
        replay_destroy(&r);
    return r;
}

void replay_destroy(struct replay **pr)
{
    struct replay *r = pr ? *pr : NULL;
    if (!r)
        return;
    free(r->obs);
    free(r->next_obs);
    free(r->act);
    free(r->rew);
    free(r->steps);
    free(r->term);
    free(r->traj);
    free(r->pos);
    free(r->len);
    free(r->serial);
    pthread_mutex_destroy(&r->lock);
    free(r);
    *pr = NULL;
}

int replay_add(struct replay *r, const struct replay_segment *s)
{
    if (s->T < 1 || s->T > r->cap)
        return -EINVAL;
    size_t O = (size_t)r->O, D = (size_t)r->D;
    pthread_mutex_lock(&r->lock);
    for (int t = 0; t < s->T; t++) {
        long i = r->head;
        memcpy(r->obs + (size_t)i * O, s->obs + (size_t)t * O, O * sizeof(float));
        memcpy(r->next_obs + (size_t)i * O, s->obs + (size_t)(t + 1) * O, O * sizeof(float));
        memcpy(r->act + (size_t)i * D, s->act + (size_t)t * D, D * sizeof(float));
        r->rew[i] = s->rew[t];
        r->steps[i] = s->steps ? (float)s->steps[t] : 0.0f;
        r->term[i] = s->term[t] ? 1 : 0;
        r->traj[i] = s->traj_id;
        r->pos[i] = t;
        r->len[i] = s->T;
        r->serial[i] = r->inserted++;
        r->head = (i + 1) % r->cap;
        if (r->size < r->cap)
            r->size++;
        else
            r->evicted++;
    }
    pthread_mutex_unlock(&r->lock);
    return 0;
}

long replay_size(struct replay *r)
{
    pthread_mutex_lock(&r->lock);
    long n = r->size;
    pthread_mutex_unlock(&r->lock);
    return n;
}

uint64_t replay_inserted(struct replay *r)
{
    pthread_mutex_lock(&r->lock);
    uint64_t n = r->inserted;
    pthread_mutex_unlock(&r->lock);
    return n;
}

uint64_t replay_evicted(struct replay *r)
{
    pthread_mutex_lock(&r->lock);
    uint64_t n = r->evicted;
    pthread_mutex_unlock(&r->lock);
    return n;
}

long replay_capacity(const struct replay *r)
{
    return r->cap;
}

static void copy_row(struct replay *r, long i, struct replay_batch *b, int row)
{
    size_t O = (size_t)r->O, D = (size_t)r->D;
    memcpy(b->obs + row * O, r->obs + (size_t)i * O, O * sizeof(float));
    memcpy(b->next_obs + row * O, r->next_obs + (size_t)i * O, O * sizeof(float));
    memcpy(b->act + row * D, r->act + (size_t)i * D, D * sizeof(float));
    b->rew[row] = r->rew[i];
    b->done[row] = r->term[i];
    if (b->steps)
        b->steps[row] = r->steps[i];
    if (b->traj)
        b->traj[row] = r->traj[i];
    if (b->index)
        b->index[row] = i;
}

// slot of the k-th oldest stored step
static long slot_of(const struct replay *r, long k)
{
    long oldest = (r->head - r->size + r->cap) % r->cap;
    return (oldest + k) % r->cap;
}

static long pick(struct replay *r, struct rng *g, long window, int parity)
{
    // rejection sampling for parity: halves are balanced, so ~2 draws on average
    for (int tries = 0; tries < 64; tries++) {
        long k = r->size - window + (long)rng_below(g, (uint64_t)window);
        long i = slot_of(r, k);
        if (parity < 0 || (int)(r->traj[i] % 2) == parity)
            return i;
    }
    // fall back to a scan from a random start
    long start = (long)rng_below(g, (uint64_t)window);
    for (long n = 0; n < window; n++) {
        long i = slot_of(r, r->size - window + (start + n) % window);
        if ((int)(r->traj[i] % 2) == parity)
            return i;
    }
    return -1;
}

int replay_sample(struct replay *r, struct rng *g, int B, double fresh_frac, long fresh_window,
                  int parity, struct replay_batch *out)
{
    pthread_mutex_lock(&r->lock);
    int got = 0;
    if (r->size > 0) {
        long fw = RL_MIN(RL_MAX(fresh_window, 1), r->size);
        int nfresh = fresh_frac > 0 ? (int)(fresh_frac * B + 0.999999) : 0;
        nfresh = RL_MIN(nfresh, B);
        for (int row = 0; row < B; row++) {
            long i = pick(r, g, row < nfresh ? fw : r->size, parity);
            if (i < 0 && row < nfresh)
                i = pick(r, g, r->size, parity); /* no fresh step of this parity */
            if (i < 0)
                break;
            copy_row(r, i, out, row);
            got++;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return got == B ? B : 0;
}

int64_t replay_next(struct replay *r, int64_t index)
{
    pthread_mutex_lock(&r->lock);
    int64_t out = -1;
    long i = (long)index;
    if (i >= 0 && i < r->cap && r->pos[i] + 1 < r->len[i]) {
        long j = (i + 1) % r->cap;
        // the next slot holds the same segment unless it was overwritten since
        if (j != r->head && r->serial[j] == r->serial[i] + 1 && r->traj[j] == r->traj[i])
            out = j;
    }
    pthread_mutex_unlock(&r->lock);
    return out;
}

void replay_get(struct replay *r, int64_t index, struct replay_batch *out, int row)
{
    pthread_mutex_lock(&r->lock);
    RL_ASSERT(index >= 0 && index < r->cap);
    copy_row(r, (long)index, out, row);
    pthread_mutex_unlock(&r->lock);
}
