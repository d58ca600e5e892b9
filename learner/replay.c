/*
 * replay.c — a ring of chunk steps (see replay.h): storage, sampling, outcome classes,
 * quarantine and on-policy chains. Saving and loading are in replay_file.c.
 */
#include "learner/replay.h"
#include "learner/replay_impl.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void rows_free(struct rows *s)
{
    free(s->obs);
    free(s->next_obs);
    free(s->act);
    free(s->rew);
    free(s->steps);
    free(s->term);
    free(s->traj);
    free(s->serial);
    free(s->pos);
    free(s->len);
    memset(s, 0, sizeof(*s));
}

bool rows_alloc(struct rows *s, long n, int O, int D)
{
    size_t m = (size_t)(n > 0 ? n : 1);
    s->obs = malloc(m * (size_t)O * sizeof(float));
    s->next_obs = malloc(m * (size_t)O * sizeof(float));
    s->act = malloc(m * (size_t)D * sizeof(float));
    s->rew = malloc(m * sizeof(float));
    s->steps = malloc(m * sizeof(float));
    s->term = malloc(m);
    s->traj = malloc(m * sizeof(uint64_t));
    s->serial = malloc(m * sizeof(uint64_t));
    s->pos = malloc(m * sizeof(int32_t));
    s->len = malloc(m * sizeof(int32_t));
    if (s->obs && s->next_obs && s->act && s->rew && s->steps && s->term && s->traj && s->serial &&
        s->pos && s->len)
        return true;
    rows_free(s);
    return false;
}

struct replay *replay_new(long capacity, int obs_dim, int act_dim)
{
    return replay_new_img(capacity, obs_dim, act_dim, 0, 1);
}

struct replay *replay_new_img(long capacity, int obs_dim, int act_dim, size_t img_bytes,
                              int seg_len)
{
    if (capacity < 1 || obs_dim < 1 || act_dim < 1 || seg_len < 1 || img_bytes > (64u << 20))
        return NULL;
    struct replay *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cap = capacity;
    r->O = obs_dim;
    r->D = act_dim;
    pthread_mutex_init(&r->lock, NULL);
    r->cls = calloc((size_t)capacity, 1);
    r->k[0].slot = malloc((size_t)capacity * sizeof(long));
    r->k[1].slot = malloc((size_t)capacity * sizeof(long));
    r->dead = calloc((size_t)capacity, 1);
    if (!r->cls || !r->k[0].slot || !r->k[1].slot || !r->dead ||
        !rows_alloc(&r->d, capacity, obs_dim, act_dim)) {
        replay_destroy(&r);
        return NULL;
    }
    if (img_bytes) {
        r->ib = img_bytes;
        r->icap = capacity + (capacity + seg_len - 1) / seg_len + 1;
        r->imgs = malloc((size_t)r->icap * img_bytes);
        r->irow = calloc((size_t)capacity, sizeof(*r->irow));
        if (!r->imgs || !r->irow)
            replay_destroy(&r);
    }
    return r;
}

size_t replay_img_bytes(const struct replay *r)
{
    return r->ib;
}

double replay_bytes_per_step(const struct replay *r)
{
    double row = 2.0 * r->O * sizeof(float) + (double)r->D * sizeof(float) + 2 * sizeof(float) + 2 +
                 2 * sizeof(uint64_t) + 2 * sizeof(int32_t); /* + term and dead bytes */
    if (r->C) /* chain, log-likelihood, version, flag */
        row += (double)r->C * sizeof(float) + sizeof(float) + sizeof(uint64_t) + 1;
    double img = r->ib ? (double)r->icap * r->ib / r->cap + sizeof(*r->irow) : 0;
    return row + img;
}

void replay_destroy(struct replay **pr)
{
    struct replay *r = pr ? *pr : NULL;
    if (!r)
        return;
    rows_free(&r->d);
    free(r->imgs);
    free(r->irow);
    free(r->cls);
    free(r->k[0].slot);
    free(r->k[1].slot);
    free(r->dead);
    free(r->chain);
    free(r->logp);
    free(r->ver);
    free(r->has);
    pthread_mutex_destroy(&r->lock);
    free(r);
    *pr = NULL;
}

// ---- outcome classes ---------------------------------------------------------------------

static void klass_push(struct replay *r, long slot)
{
    struct klass *k = &r->k[r->cls[slot]];
    k->slot[(k->head + k->n) % r->cap] = slot;
    k->n++;
}

/* the oldest stored step (slot) leaves: it is the oldest of its class */
static void klass_pop_oldest(struct replay *r, long slot)
{
    struct klass *k = &r->k[r->cls[slot]];
    if (k->n > 0) {
        k->head = (k->head + 1) % r->cap;
        k->n--;
    }
}

static void klass_pop_newest(struct replay *r, long slot)
{
    struct klass *k = &r->k[r->cls[slot]];
    if (k->n > 0)
        k->n--;
}

/*
 * Chunk steps of s to keep, and whether the segment succeeded: with a success threshold, the
 * step at which the segment's cumulative reward reaches it is the last one kept (the states
 * after a success are masked out of every batch by not being stored).
 */
static int kept_steps(const struct replay *r, const struct replay_segment *s, bool *succeeded)
{
    *succeeded = false;
    if (r->success <= 0)
        return s->T;
    double cum = 0;
    for (int t = 0; t < s->T; t++) {
        cum += s->rew[t];
        if (cum >= r->success) {
            *succeeded = true;
            return t + 1;
        }
    }
    return s->T;
}

// slot of the k-th oldest stored step
long slot_of(const struct replay *r, long k)
{
    long oldest = (r->head - r->size + r->cap) % r->cap;
    return (oldest + k) % r->cap;
}

// write one image at the ring head, first evicting the oldest steps whose rows it would reuse
long put_img(struct replay *r, const uint8_t *src)
{
    long p = r->ihead;
    // rows in use run from the oldest step's row to ihead - 1: p is taken only when all are
    while (r->size > 0 && r->irow[slot_of(r, 0)] == p) {
        long old = slot_of(r, 0);
        klass_pop_oldest(r, old);
        if (r->dead[old]) {
            r->dead[old] = 0;
            r->ndead--;
        }
        r->size--;
        r->evicted++;
    }
    memcpy(r->imgs + (size_t)p * r->ib, src, r->ib);
    r->ihead = (p + 1) % r->icap;
    return p;
}

// the chain part of step t of s into slot i (chainless when s carries none)
static void put_chain(struct replay *r, long i, const struct replay_segment *s, int t)
{
    size_t C = (size_t)r->C;
    r->has[i] = s->chain && s->logp;
    r->ver[i] = s->version;
    if (!r->has[i])
        return;
    memcpy(r->chain + (size_t)i * C, s->chain + (size_t)t * C, C * sizeof(float));
    r->logp[i] = s->logp[t];
}

int replay_add(struct replay *r, const struct replay_segment *s)
{
    return replay_add_img(r, s, NULL);
}

int replay_add_img(struct replay *r, const struct replay_segment *s, const uint8_t *img)
{
    if (s->T < 1 || s->T > r->cap || !img != !r->ib)
        return -EINVAL;
    size_t O = (size_t)r->O, D = (size_t)r->D;
    pthread_mutex_lock(&r->lock);
    bool ok;
    int T = kept_steps(r, s, &ok);
    long row = img ? put_img(r, img) : 0;
    for (int t = 0; t < T; t++) {
        if (img) /* the next image first: it may evict, the step must not be stored yet */
            put_img(r, img + (size_t)(t + 1) * r->ib);
        long i = r->head;
        if (r->size == r->cap)
            klass_pop_oldest(r, i);
        memcpy(r->d.obs + (size_t)i * O, s->obs + (size_t)t * O, O * sizeof(float));
        memcpy(r->d.next_obs + (size_t)i * O, s->obs + (size_t)(t + 1) * O, O * sizeof(float));
        memcpy(r->d.act + (size_t)i * D, s->act + (size_t)t * D, D * sizeof(float));
        r->d.rew[i] = s->rew[t];
        r->d.steps[i] = s->steps ? (float)s->steps[t] : 0.0f;
        /* the success step is terminal for the critic (an episode may go on after it) */
        r->d.term[i] = s->term[t] || (ok && t == T - 1) ? 1 : 0;
        r->d.traj[i] = s->traj_id;
        r->d.pos[i] = t;
        r->d.len[i] = T;
        r->d.serial[i] = r->inserted++;
        if (img) {
            r->irow[i] = row;
            row = (row + 1) % r->icap;
        }
        r->cls[i] = ok;
        klass_push(r, i);
        if (r->dead[i]) { /* a quarantined step overwritten (or a trimmed slot reused) */
            r->dead[i] = 0;
            r->ndead--;
        }
        if (r->C)
            put_chain(r, i, s, t);
        r->head = (i + 1) % r->cap;
        if (r->size < r->cap)
            r->size++;
        else
            r->evicted++;
    }
    pthread_mutex_unlock(&r->lock);
    return 0;
}

long replay_trim(struct replay *r, uint64_t inserted)
{
    pthread_mutex_lock(&r->lock);
    long k = 0;
    while (r->size > 0 && r->inserted > inserted) {
        r->head = (r->head - 1 + r->cap) % r->cap;
        klass_pop_newest(r, r->head);
        if (r->dead[r->head]) {
            r->dead[r->head] = 0;
            r->ndead--;
        }
        r->size--;
        r->inserted--;
        k++;
    }
    if (r->ib && k && r->size > 0) /* the newest step's next image is the last row in use */
        r->ihead = (r->irow[(r->head - 1 + r->cap) % r->cap] + 2) % r->icap;
    pthread_mutex_unlock(&r->lock);
    return k;
}

enum counter { COUNTER_SIZE, COUNTER_INSERTED, COUNTER_EVICTED };

// one counter read under the lock
static uint64_t counter(struct replay *r, enum counter which)
{
    pthread_mutex_lock(&r->lock);
    uint64_t n = which == COUNTER_SIZE       ? (uint64_t)(r->size - r->ndead)
                 : which == COUNTER_INSERTED ? r->inserted
                                             : r->evicted;
    pthread_mutex_unlock(&r->lock);
    return n;
}

long replay_size(struct replay *r)
{
    return (long)counter(r, COUNTER_SIZE);
}

uint64_t replay_inserted(struct replay *r)
{
    return counter(r, COUNTER_INSERTED);
}

uint64_t replay_evicted(struct replay *r)
{
    return counter(r, COUNTER_EVICTED);
}

long replay_capacity(const struct replay *r)
{
    return r->cap;
}

static void copy_row(struct replay *r, long i, struct replay_batch *b, int row)
{
    size_t O = (size_t)r->O, D = (size_t)r->D;
    memcpy(b->obs + row * O, r->d.obs + (size_t)i * O, O * sizeof(float));
    memcpy(b->next_obs + row * O, r->d.next_obs + (size_t)i * O, O * sizeof(float));
    memcpy(b->act + row * D, r->d.act + (size_t)i * D, D * sizeof(float));
    b->rew[row] = r->d.rew[i];
    b->done[row] = r->d.term[i];
    if (b->steps)
        b->steps[row] = r->d.steps[i];
    if (b->traj)
        b->traj[row] = r->d.traj[i];
    if (b->index)
        b->index[row] = i;
}

// image and next image of slot i into row `row` of img and next_img (each nullable)
static void copy_img(struct replay *r, long i, uint8_t *img, uint8_t *next_img, int row)
{
    size_t ib = r->ib;
    long a = r->irow[i];
    if (img)
        memcpy(img + (size_t)row * ib, r->imgs + (size_t)a * ib, ib);
    if (next_img)
        memcpy(next_img + (size_t)row * ib, r->imgs + (size_t)((a + 1) % r->icap) * ib, ib);
}

static long pick(struct replay *r, struct rng *g, long window, int parity)
{
    // rejection sampling for parity: halves are balanced, so ~2 draws on average
    for (int tries = 0; tries < 64; tries++) {
        long k = r->size - window + (long)rng_below(g, (uint64_t)window);
        long i = slot_of(r, k);
        if (!r->dead[i] && (parity < 0 || (int)(r->d.traj[i] % 2) == parity))
            return i;
    }
    // fall back to a scan from a random start
    long start = (long)rng_below(g, (uint64_t)window);
    for (long n = 0; n < window; n++) {
        long i = slot_of(r, r->size - window + (start + n) % window);
        if (!r->dead[i] && (parity < 0 || (int)(r->d.traj[i] % 2) == parity))
            return i;
    }
    return -1;
}

/* a uniform step of class c (and parity), or -1 when the class holds none */
static long pick_class(struct replay *r, struct rng *g, int c, int parity)
{
    const struct klass *k = &r->k[c];
    if (k->n == 0)
        return -1;
    for (int tries = 0; tries < 64; tries++) {
        long i = k->slot[(k->head + (long)rng_below(g, (uint64_t)k->n)) % r->cap];
        if (!r->dead[i] && (parity < 0 || (int)(r->d.traj[i] % 2) == parity))
            return i;
    }
    return -1;
}

/* row `row` of a batch whose first nfresh rows are fresh; the others alternate between the
 * classes from `first` when stratified, falling back to a uniform draw */
static long pick_row(struct replay *r, struct rng *g, int row, int nfresh, long fw, int first,
                     int parity)
{
    long i = -1;
    if (row < nfresh) {
        i = pick(r, g, fw, parity);
        return i >= 0 ? i : pick(r, g, r->size, parity); /* no fresh step of this parity */
    }
    if (r->stratify) {
        int c = (row - nfresh + first) % 2;
        i = pick_class(r, g, c, parity);
        if (i < 0)
            i = pick_class(r, g, 1 - c, parity);
    }
    return i >= 0 ? i : pick(r, g, r->size, parity);
}

int replay_sample(struct replay *r, struct rng *g, int B, double fresh_frac, long fresh_window,
                  int parity, struct replay_batch *out)
{
    return replay_sample_img(r, g, B, fresh_frac, fresh_window, parity, out, NULL, NULL);
}

int replay_sample_img(struct replay *r, struct rng *g, int B, double fresh_frac, long fresh_window,
                      int parity, struct replay_batch *out, uint8_t *img, uint8_t *next_img)
{
    bool images = r->ib && (img || next_img);
    pthread_mutex_lock(&r->lock);
    int got = 0;
    if (r->size > 0) {
        long fw = RL_MIN(RL_MAX(fresh_window, 1), r->size);
        int nfresh = fresh_frac > 0 ? (int)(fresh_frac * B + 0.999999) : 0;
        nfresh = RL_MIN(nfresh, B);
        int first = r->stratify ? (int)rng_below(g, 2) : 0;
        for (int row = 0; row < B; row++) {
            long i = pick_row(r, g, row, nfresh, fw, first, parity);
            if (i < 0)
                break;
            copy_row(r, i, out, row);
            if (images)
                copy_img(r, i, img, next_img, row);
            got++;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return got == B ? B : 0;
}

/* classes of every stored step from its segment's stored rewards (oldest first); lock held */
void reclassify(struct replay *r)
{
    r->k[0].head = r->k[0].n = r->k[1].head = r->k[1].n = 0;
    long k = 0;
    while (k < r->size) {
        long e = k + 1;
        double sum = r->d.rew[slot_of(r, k)];
        for (; e < r->size; e++) {
            long a = slot_of(r, e - 1), b = slot_of(r, e);
            if (r->d.traj[b] != r->d.traj[a] || r->d.serial[b] != r->d.serial[a] + 1 ||
                r->d.pos[b] == 0)
                break;
            sum += r->d.rew[b];
        }
        uint8_t c = r->success > 0 && sum >= r->success;
        for (long j = k; j < e; j++) {
            r->cls[slot_of(r, j)] = c;
            klass_push(r, slot_of(r, j));
        }
        k = e;
    }
}

void replay_set_sparse(struct replay *r, double success, bool stratify)
{
    pthread_mutex_lock(&r->lock);
    r->success = success > 0 ? success : 0;
    r->stratify = stratify && r->success > 0;
    reclassify(r);
    pthread_mutex_unlock(&r->lock);
}

void replay_class_sizes(struct replay *r, long n[2])
{
    pthread_mutex_lock(&r->lock);
    n[0] = r->k[0].n;
    n[1] = r->k[1].n;
    pthread_mutex_unlock(&r->lock);
}

int64_t replay_next(struct replay *r, int64_t index)
{
    pthread_mutex_lock(&r->lock);
    int64_t out = -1;
    long i = (long)index;
    if (i >= 0 && i < r->cap && r->d.pos[i] + 1 < r->d.len[i]) {
        long j = (i + 1) % r->cap;
        // the next slot holds the same segment unless it was overwritten since
        if (j != r->head && !r->dead[j] && r->d.serial[j] == r->d.serial[i] + 1 &&
            r->d.traj[j] == r->d.traj[i])
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

void replay_get_img(struct replay *r, int64_t index, uint8_t *img, uint8_t *next_img)
{
    pthread_mutex_lock(&r->lock);
    RL_ASSERT(r->ib && index >= 0 && index < r->cap);
    copy_img(r, (long)index, img, next_img, 0);
    pthread_mutex_unlock(&r->lock);
}

// ---- quarantine ----------------------------------------------------------------------------

// is ring slot i one of the stored steps?
static bool stored(const struct replay *r, long i)
{
    long oldest = (r->head - r->size + r->cap) % r->cap;
    return i >= 0 && i < r->cap && (i - oldest + r->cap) % r->cap < r->size;
}

// are slots i and j = i + 1 (ring order) consecutive steps of one segment?
static bool same_segment(const struct replay *r, long i, long j)
{
    return stored(r, i) && stored(r, j) && j != r->head && r->d.pos[j] == r->d.pos[i] + 1 &&
           r->d.serial[j] == r->d.serial[i] + 1 && r->d.traj[j] == r->d.traj[i];
}

// mark the stored steps of slot i's segment dead; returns how many were newly marked
static long quarantine_segment(struct replay *r, long i)
{
    long first = i, k = 0;
    while (r->d.pos[first] > 0 && same_segment(r, (first - 1 + r->cap) % r->cap, first))
        first = (first - 1 + r->cap) % r->cap;
    for (long j = first;; j = (j + 1) % r->cap) {
        if (!r->dead[j]) {
            r->dead[j] = 1;
            r->ndead++;
            k++;
        }
        if (!same_segment(r, j, (j + 1) % r->cap))
            break;
    }
    return k;
}

// the largest magnitude among a step's values (+inf for a non-finite one)
static float step_magnitude(const struct replay *r, long i)
{
    size_t O = (size_t)r->O, D = (size_t)r->D;
    float m = fabsf(r->d.rew[i]);
    const float *v[3] = {r->d.obs + (size_t)i * O, r->d.next_obs + (size_t)i * O,
                         r->d.act + (size_t)i * D};
    size_t n[3] = {O, O, D};
    for (int a = 0; a < 3; a++)
        for (size_t j = 0; j < n[a]; j++)
            m = fmaxf(m, fabsf(v[a][j])); /* fmaxf ignores NaN: counted below */
    for (int a = 0; a < 3; a++)
        for (size_t j = 0; j < n[a]; j++)
            if (!isfinite(v[a][j]))
                return INFINITY;
    return isfinite(r->d.rew[i]) ? m : INFINITY;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int replay_quarantine(struct replay *r, const int64_t *slots, int n, double ratio,
                      struct replay_quarantined *out)
{
    *out = (struct replay_quarantined){0};
    float *mag = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof(float));
    if (!mag)
        return -ENOMEM;
    float *sorted = mag + n;
    pthread_mutex_lock(&r->lock);
    int live = 0, top = -1;
    for (int k = 0; k < n; k++) {
        long i = (long)slots[k];
        mag[k] = stored(r, i) && !r->dead[i] ? step_magnitude(r, i) : -1;
        if (mag[k] >= 0) {
            sorted[live++] = mag[k];
            if (top < 0 || mag[k] > mag[top])
                top = k;
        }
    }
    if (live > 0) {
        qsort(sorted, (size_t)live, sizeof(float), cmp_float);
        double limit = ratio * ((double)sorted[live / 2] + 1.0);
        for (int k = 0; k < n; k++) {
            long i = (long)slots[k];
            if (mag[k] < 0 || (isfinite(mag[k]) && !((double)mag[k] > limit)))
                continue; /* a non-finite row is always an outlier */
            out->outliers++;
            if (r->dead[i])
                continue; /* its segment went with an earlier row of this batch */
            out->steps += quarantine_segment(r, i);
            out->segments++;
        }
        // no outlier: the step with the largest magnitude goes (each failure removes one)
        if (out->segments == 0 && top >= 0 && !r->dead[slots[top]]) {
            out->steps += quarantine_segment(r, (long)slots[top]);
            out->segments++;
        }
    }
    pthread_mutex_unlock(&r->lock);
    free(mag);
    return 0;
}

// ---- on-policy chains ----------------------------------------------------------------------

int replay_set_chain(struct replay *r, int chain_len)
{
    if (chain_len < 1)
        return -EINVAL;
    size_t n = (size_t)r->cap;
    float *c = calloc(n * (size_t)chain_len, sizeof(*c));
    float *lp = calloc(n, sizeof(*lp));
    uint64_t *ver = calloc(n, sizeof(*ver));
    uint8_t *has = calloc(n, 1);
    if (!c || !lp || !ver || !has) {
        free(c);
        free(lp);
        free(ver);
        free(has);
        return -ENOMEM;
    }
    pthread_mutex_lock(&r->lock);
    r->chain = c;
    r->logp = lp;
    r->ver = ver;
    r->has = has;
    r->C = chain_len;
    pthread_mutex_unlock(&r->lock);
    return 0;
}

int replay_chain_len(const struct replay *r)
{
    return r->C;
}

static void copy_chain_row(struct replay *r, long i, struct replay_chain_rows *o, long row)
{
    size_t O = (size_t)r->O, C = (size_t)r->C, k = (size_t)row;
    memcpy(o->obs + k * O, r->d.obs + (size_t)i * O, O * sizeof(float));
    memcpy(o->next_obs + k * O, r->d.next_obs + (size_t)i * O, O * sizeof(float));
    memcpy(o->chain + k * C, r->chain + (size_t)i * C, C * sizeof(float));
    o->rew[k] = r->d.rew[i];
    o->steps[k] = r->d.steps[i];
    o->done[k] = r->d.term[i];
    o->traj[k] = r->d.traj[i];
    o->logp[k] = r->logp[i];
}

long replay_chain_latest(struct replay *r, uint64_t min_version, long max,
                         struct replay_chain_rows *out, uint64_t *version)
{
    pthread_mutex_lock(&r->lock);
    uint64_t v = 0;
    bool any = false;
    for (long k = 0; r->C && k < r->size; k++) {
        long i = slot_of(r, k);
        if (r->has[i] && !r->dead[i] && (!any || r->ver[i] > v)) {
            v = r->ver[i];
            any = true;
        }
    }
    long n = 0;
    for (long k = 0; any && v >= min_version && k < r->size; k++) {
        long i = slot_of(r, k);
        if (!r->has[i] || r->dead[i] || r->ver[i] != v) /* quarantined steps never train */
            continue;
        if (out && n < max)
            copy_chain_row(r, i, out, n);
        n++;
    }
    pthread_mutex_unlock(&r->lock);
    if (version)
        *version = v;
    return n;
}
