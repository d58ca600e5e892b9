/*
 * dataset.c — building, fitting, summarising, saving and verifying datasets (dataset.h).
 */
#include "common/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/hash.h"
#include "common/norm.h"
#include "common/task.h"

#define DATASET_TAG 0x6473657400000001ULL /* "dset", layout version 1 */

/* the meta section: all 8-byte fields, no padding */
struct dataset_meta {
    int64_t version;
    int64_t obs_dim, act_dim;
    int64_t n, n_episodes;
    int64_t has_bounds;
    char env[DATASET_ENV_MAX];
};

static uint64_t layout_of(int O, int A)
{
    uint64_t h = hash_fnv1a_u64(HASH_FNV_INIT, DATASET_TAG);
    return hash_fnv1a_u64(hash_fnv1a_u64(h, (uint64_t)O), (uint64_t)A);
}

int dataset_init(struct dataset *d, const char *env, int obs_dim, int act_dim)
{
    memset(d, 0, sizeof(*d));
    if (obs_dim < 1 || obs_dim > 65536 || act_dim < 1 || act_dim > 65536 || !env ||
        strlen(env) >= DATASET_ENV_MAX)
        return -EINVAL;
    snprintf(d->env, sizeof(d->env), "%s", env);
    d->obs_dim = obs_dim;
    d->act_dim = act_dim;
    return 0;
}

void dataset_fini(struct dataset *d)
{
    free(d->obs);
    free(d->act);
    free(d->rew);
    free(d->term);
    free(d->trunc);
    free(d->ep);
    free(d->label);
    free(d->final_obs);
    free(d->bounds);
    free(d->img);
    free(d->final_img);
    memset(d, 0, sizeof(*d));
}

static int grow(void **p, size_t elem, long n)
{
    void *q = realloc(*p, elem * (size_t)n);
    if (!q)
        return -ENOMEM;
    *p = q;
    return 0;
}

/* room for `rows` more rows and one more episode */
static int reserve(struct dataset *d, long rows)
{
    size_t O = (size_t)d->obs_dim, A = (size_t)d->act_dim;
    if (d->n + rows > d->cap) {
        long cap = d->cap ? d->cap : 4096;
        while (cap < d->n + rows)
            cap *= 2;
        if (grow((void **)&d->obs, O * sizeof(float), cap) ||
            grow((void **)&d->act, A * sizeof(float), cap) ||
            grow((void **)&d->rew, sizeof(float), cap) || grow((void **)&d->term, 1, cap) ||
            grow((void **)&d->trunc, 1, cap) ||
            (dataset_image_bytes(d) && grow((void **)&d->img, dataset_image_bytes(d), cap)))
            return -ENOMEM;
        d->cap = cap;
    }
    if (d->n_episodes + 1 > d->ep_cap) {
        long cap = d->ep_cap ? 2 * d->ep_cap : 256;
        if (grow((void **)&d->ep, sizeof(*d->ep), cap) ||
            grow((void **)&d->label, sizeof(*d->label), cap) ||
            grow((void **)&d->final_obs, O * sizeof(float), cap) ||
            (dataset_image_bytes(d) && grow((void **)&d->final_img, dataset_image_bytes(d), cap)))
            return -ENOMEM;
        d->ep_cap = cap;
    }
    return 0;
}

int dataset_add_episode(struct dataset *d, long len, const float *obs, const float *act,
                        const float *rew, const float *final_obs, int flags)
{
    if (len < 1 || (flags != DATASET_EP_TERMINATED && flags != DATASET_EP_TIMELIMIT &&
                    flags != DATASET_EP_CUT))
        return -EINVAL;
    int rc = reserve(d, len);
    if (rc)
        return rc;
    size_t O = (size_t)d->obs_dim, A = (size_t)d->act_dim, n = (size_t)d->n;
    memcpy(d->obs + n * O, obs, (size_t)len * O * sizeof(float));
    memcpy(d->act + n * A, act, (size_t)len * A * sizeof(float));
    memcpy(d->rew + n, rew, (size_t)len * sizeof(float));
    memset(d->term + n, 0, (size_t)len);
    memset(d->trunc + n, 0, (size_t)len);
    d->term[n + len - 1] = flags == DATASET_EP_TERMINATED;
    d->trunc[n + len - 1] = flags != DATASET_EP_TERMINATED;
    struct dataset_episode *e = &d->ep[d->n_episodes];
    e->start = (int64_t)n;
    e->len = len;
    e->ret = 0;
    for (long i = 0; i < len; i++)
        e->ret += rew[i];
    e->flags = flags;
    d->label[d->n_episodes] = (struct dataset_label){-1, -1};
    memcpy(d->final_obs + (size_t)d->n_episodes * O, final_obs, O * sizeof(float));
    d->n += len;
    d->n_episodes++;
    return 0;
}

static bool image_shape_ok(int64_t h, int64_t w, int64_t c)
{
    return h >= 1 && h <= 512 && w >= 1 && w <= 512 && c >= 1 && c <= 4;
}

int dataset_set_images(struct dataset *d, int h, int w, int c)
{
    if (!image_shape_ok(h, w, c) || d->n_episodes > 0 || d->cap > 0)
        return -EINVAL;
    d->img_h = h;
    d->img_w = w;
    d->img_c = c;
    return 0;
}

size_t dataset_image_bytes(const struct dataset *d)
{
    return (size_t)d->img_h * (size_t)d->img_w * (size_t)d->img_c;
}

int dataset_add_images(struct dataset *d, const uint8_t *img, const uint8_t *final_img)
{
    size_t ib = dataset_image_bytes(d);
    if (!ib || d->n_episodes == 0 || d->img_episodes != d->n_episodes - 1)
        return -EINVAL;
    const struct dataset_episode *e = &d->ep[d->n_episodes - 1];
    memcpy(d->img + (size_t)e->start * ib, img, (size_t)e->len * ib);
    memcpy(d->final_img + (size_t)(d->n_episodes - 1) * ib, final_img, ib);
    d->img_episodes++;
    return 0;
}

static bool label_ok(int64_t success, int64_t strategy)
{
    return success >= -1 && success <= 1 && strategy >= -1 && strategy < 64;
}

int dataset_label_last(struct dataset *d, int success, int strategy)
{
    if (d->n_episodes < 1 || !label_ok(success, strategy))
        return -EINVAL;
    d->label[d->n_episodes - 1] = (struct dataset_label){success, strategy};
    d->has_labels = true;
    return 0;
}

int dataset_fit_bounds(struct dataset *d, char *err, size_t errlen)
{
    int O = d->obs_dim, A = d->act_dim;
    float *b = calloc((size_t)(2 * O + 2 * A), sizeof(float));
    struct norm no = {0}, na = {0};
    int rc = -ENOMEM;
    if (!b || norm_init(&no, O) || norm_init(&na, A)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = norm_fit(&no, d->obs, d->n, err, errlen);
    if (!rc)
        rc = norm_fit(&na, d->act, d->n, err, errlen);
    if (rc)
        goto out;
    memcpy(b, no.lo, (size_t)O * sizeof(float));
    memcpy(b + O, no.hi, (size_t)O * sizeof(float));
    memcpy(b + 2 * O, na.lo, (size_t)A * sizeof(float));
    memcpy(b + 2 * O + A, na.hi, (size_t)A * sizeof(float));
    free(d->bounds);
    d->bounds = b;
    d->has_bounds = true;
    b = NULL;
out:
    free(b);
    norm_fini(&no);
    norm_fini(&na);
    return rc;
}

void dataset_stats(const struct dataset *d, struct dataset_stats *st)
{
    memset(st, 0, sizeof(*st));
    double s = 0, ss = 0, sl = 0;
    for (long e = 0; e < d->n_episodes; e++) {
        const struct dataset_episode *ep = &d->ep[e];
        st->episodes++;
        st->terminated += ep->flags == DATASET_EP_TERMINATED;
        st->timelimit += ep->flags == DATASET_EP_TIMELIMIT;
        st->cut += ep->flags == DATASET_EP_CUT;
        const struct dataset_label *lb = &d->label[e];
        st->labelled += lb->success >= 0;
        st->successes += lb->success == 1;
        if (lb->strategy >= 0 && lb->strategy < 8)
            st->strategy[lb->strategy]++;
        if (ep->flags == DATASET_EP_CUT)
            continue;
        if (st->complete == 0 || ep->ret < st->ret_min)
            st->ret_min = ep->ret;
        if (st->complete == 0 || ep->ret > st->ret_max)
            st->ret_max = ep->ret;
        st->complete++;
        s += ep->ret;
        ss += ep->ret * ep->ret;
        sl += (double)ep->len;
    }
    if (st->complete) {
        st->ret_mean = s / st->complete;
        st->ret_std = sqrt(fmax(0.0, ss / st->complete - st->ret_mean * st->ret_mean));
        st->len_mean = sl / st->complete;
    }
    double r = 0;
    for (long i = 0; i < d->n; i++)
        r += d->rew[i];
    st->rew_mean = d->n ? r / d->n : 0;
}

// ---- files ---------------------------------------------------------------------------------

static int add_section(struct ckpt_writer *w, const char *name, const void *p, size_t size,
                       const void *empty)
{
    return ckpt_add(w, name, size ? p : empty, size);
}

int dataset_save(const struct dataset *d, const char *path, char *err, size_t errlen)
{
    size_t O = (size_t)d->obs_dim, A = (size_t)d->act_dim, n = (size_t)d->n;
    size_t E = (size_t)d->n_episodes, ib = dataset_image_bytes(d);
    if (ib && d->img_episodes != d->n_episodes) {
        snprintf(err, errlen, "%ld of %ld episodes have no images", d->n_episodes - d->img_episodes,
                 d->n_episodes);
        return -EINVAL;
    }
    int64_t shape[3] = {d->img_h, d->img_w, d->img_c};
    struct dataset_meta m = {.version = DATASET_VERSION,
                             .obs_dim = d->obs_dim,
                             .act_dim = d->act_dim,
                             .n = d->n,
                             .n_episodes = d->n_episodes,
                             .has_bounds = d->has_bounds};
    memcpy(m.env, d->env, sizeof(m.env));
    struct ckpt_writer *w = ckpt_writer_new("DSET", layout_of(d->obs_dim, d->act_dim));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc = ckpt_add(w, "dataset.meta", &m, sizeof(m));
    // empty sections still get a (valid) pointer
    static const char empty[1];
#define ADD(name, ptr, size)                                                                       \
    if (!rc)                                                                                       \
    rc = add_section(w, name, ptr, size, empty)
    ADD("dataset.obs", d->obs, n * O * sizeof(float));
    ADD("dataset.act", d->act, n * A * sizeof(float));
    ADD("dataset.rew", d->rew, n * sizeof(float));
    ADD("dataset.term", d->term, n);
    ADD("dataset.trunc", d->trunc, n);
    ADD("dataset.episodes", d->ep, E * sizeof(*d->ep));
    ADD("dataset.final_obs", d->final_obs, E * O * sizeof(float));
    if (d->has_labels)
        ADD("dataset.labels", d->label, E * sizeof(*d->label));
    if (d->has_bounds)
        ADD("dataset.bounds", d->bounds, (2 * O + 2 * A) * sizeof(float));
    ADD("dataset.source", d->source, strlen(d->source) + 1);
    if (ib) {
        ADD("dataset.image_shape", shape, sizeof(shape));
        ADD("dataset.images", d->img, n * ib);
        ADD("dataset.final_images", d->final_img, E * ib);
    }
#undef ADD
    if (rc)
        snprintf(err, errlen, "cannot assemble dataset: %s", strerror(-rc));
    else
        rc = ckpt_writer_save(w, path, err, errlen);
    ckpt_writer_destroy(&w);
    return rc;
}

/*
 * copy a section of exactly `size` bytes into a new buffer at *dst; the size comes from the
 * file's header, so it is compared with the section before anything is allocated
 */
static int take(const struct ckpt *k, const char *name, void **dst, size_t size, char *err,
                size_t errlen)
{
    size_t have = 0;
    *dst = NULL;
    if (!ckpt_get(k, name, &have) || have != size) {
        char one;
        return ckpt_read(k, name, &one, size, err, errlen); // absent or wrong size: no copy
    }
    *dst = malloc(size ? size : 1);
    if (!*dst) {
        snprintf(err, errlen, "out of memory (%s, %zu bytes)", name, size);
        return -ENOMEM;
    }
    return ckpt_read(k, name, *dst, size, err, errlen);
}

static int check_meta(const struct dataset_meta *m, char *err, size_t errlen)
{
    if (m->version != DATASET_VERSION) {
        snprintf(err, errlen, "dataset version %lld, this build reads version %d",
                 (long long)m->version, DATASET_VERSION);
        return -EPROTO;
    }
    if (memchr(m->env, 0, sizeof(m->env)) == NULL) {
        snprintf(err, errlen, "bad task name");
        return -EPROTO;
    }
    const struct task_info *t = task_find(m->env);
    if (!t) {
        snprintf(err, errlen, "unknown task '%s'", m->env);
        return -EPROTO;
    }
    if (m->obs_dim != t->obs_dim || m->act_dim != t->act_dim) {
        snprintf(err, errlen, "dimensions obs %lld act %lld do not match task %s (obs %d act %d)",
                 (long long)m->obs_dim, (long long)m->act_dim, t->name, t->obs_dim, t->act_dim);
        return -EPROTO;
    }
    if (m->n < 0 || m->n > (1LL << 34) || m->n_episodes < 0 || m->n_episodes > m->n) {
        snprintf(err, errlen, "bad counts: %lld steps, %lld episodes", (long long)m->n,
                 (long long)m->n_episodes);
        return -EPROTO;
    }
    return 0;
}

/* the episode table covers the rows in order and agrees with the per-step flags */
static int check_episodes(const struct dataset *d, char *err, size_t errlen)
{
    int64_t next = 0;
    for (long e = 0; e < d->n_episodes; e++) {
        const struct dataset_episode *ep = &d->ep[e];
        bool flags_ok = ep->flags == DATASET_EP_TERMINATED || ep->flags == DATASET_EP_TIMELIMIT ||
                        ep->flags == DATASET_EP_CUT;
        if (ep->start != next || ep->len < 1 || ep->len > d->n - next || !flags_ok ||
            !isfinite(ep->ret)) {
            snprintf(err, errlen, "episode %ld is malformed (start %lld len %lld flags %lld)", e,
                     (long long)ep->start, (long long)ep->len, (long long)ep->flags);
            return -EPROTO;
        }
        next += ep->len;
        for (int64_t i = ep->start; i < next; i++) {
            bool last = i == next - 1;
            int want_t = last && ep->flags == DATASET_EP_TERMINATED;
            int want_u = last && ep->flags != DATASET_EP_TERMINATED;
            if (d->term[i] != want_t || d->trunc[i] != want_u) {
                snprintf(err, errlen,
                         "step %lld: terminal/truncated flags disagree with episode "
                         "%ld",
                         (long long)i, e);
                return -EPROTO;
            }
        }
    }
    if (next != d->n) {
        snprintf(err, errlen, "episodes cover %lld of %ld steps", (long long)next, d->n);
        return -EPROTO;
    }
    return 0;
}

static int check_finite(const char *what, const float *x, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            snprintf(err, errlen, "%s holds a non-finite value at %zu", what, i);
            return -EPROTO;
        }
    }
    return 0;
}

/* the optional labels: all unknown when the file has none */
static int load_labels(struct dataset *d, const struct ckpt *k, char *err, size_t errlen)
{
    size_t E = (size_t)d->n_episodes, len = 0;
    d->has_labels = ckpt_get(k, "dataset.labels", &len) != NULL;
    if (!d->has_labels) {
        d->label = malloc(E ? E * sizeof(*d->label) : 1);
        if (!d->label)
            return -ENOMEM;
        for (size_t e = 0; e < E; e++)
            d->label[e] = (struct dataset_label){-1, -1};
        return 0;
    }
    int rc = take(k, "dataset.labels", (void **)&d->label, E * sizeof(*d->label), err, errlen);
    for (size_t e = 0; !rc && e < E; e++) {
        if (!label_ok(d->label[e].success, d->label[e].strategy)) {
            snprintf(err, errlen, "episode %zu has bad labels (success %lld, strategy %lld)", e,
                     (long long)d->label[e].success, (long long)d->label[e].strategy);
            rc = -EPROTO;
        }
    }
    return rc;
}

/* the optional images: a plausible shape, then exactly one picture per row and episode */
static int load_images(struct dataset *d, const struct ckpt *k, char *err, size_t errlen)
{
    size_t len = 0;
    if (!ckpt_get(k, "dataset.image_shape", &len))
        return 0;
    int64_t s[3];
    int rc = ckpt_read(k, "dataset.image_shape", s, sizeof(s), err, errlen);
    if (rc)
        return rc;
    if (!image_shape_ok(s[0], s[1], s[2])) {
        snprintf(err, errlen, "image shape %lldx%lldx%lld is outside 1..512 x 1..512 x 1..4",
                 (long long)s[0], (long long)s[1], (long long)s[2]);
        return -EPROTO;
    }
    d->img_h = (int)s[0];
    d->img_w = (int)s[1];
    d->img_c = (int)s[2];
    size_t ib = dataset_image_bytes(d);
    rc = take(k, "dataset.images", (void **)&d->img, (size_t)d->n * ib, err, errlen);
    if (!rc)
        rc = take(k, "dataset.final_images", (void **)&d->final_img, (size_t)d->n_episodes * ib,
                  err, errlen);
    d->img_episodes = rc ? 0 : d->n_episodes;
    return rc;
}

static int load_from(struct dataset *d, const struct ckpt *k, char *err, size_t errlen)
{
    struct dataset_meta m;
    int rc = ckpt_read(k, "dataset.meta", &m, sizeof(m), err, errlen);
    if (!rc)
        rc = check_meta(&m, err, errlen);
    if (!rc && ckpt_layout_hash(k) != layout_of((int)m.obs_dim, (int)m.act_dim)) {
        snprintf(err, errlen, "layout hash does not match its dimensions");
        rc = -EPROTO;
    }
    if (rc)
        return rc < 0 ? rc : -EPROTO;
    dataset_init(d, m.env, (int)m.obs_dim, (int)m.act_dim);
    size_t O = (size_t)m.obs_dim, A = (size_t)m.act_dim, n = (size_t)m.n;
    size_t E = (size_t)m.n_episodes;
    d->n = (long)n;
    d->n_episodes = (long)E;
    d->cap = (long)n;
    d->ep_cap = (long)E;
    rc = take(k, "dataset.obs", (void **)&d->obs, n * O * sizeof(float), err, errlen);
    if (!rc)
        rc = take(k, "dataset.act", (void **)&d->act, n * A * sizeof(float), err, errlen);
    if (!rc)
        rc = take(k, "dataset.rew", (void **)&d->rew, n * sizeof(float), err, errlen);
    if (!rc)
        rc = take(k, "dataset.term", (void **)&d->term, n, err, errlen);
    if (!rc)
        rc = take(k, "dataset.trunc", (void **)&d->trunc, n, err, errlen);
    if (!rc)
        rc = take(k, "dataset.episodes", (void **)&d->ep, E * sizeof(*d->ep), err, errlen);
    if (!rc)
        rc = take(k, "dataset.final_obs", (void **)&d->final_obs, E * O * sizeof(float), err,
                  errlen);
    if (!rc && m.has_bounds) {
        rc = take(k, "dataset.bounds", (void **)&d->bounds, (2 * O + 2 * A) * sizeof(float), err,
                  errlen);
        d->has_bounds = true;
    }
    if (!rc)
        rc = load_labels(d, k, err, errlen);
    if (!rc)
        rc = load_images(d, k, err, errlen);
    if (!rc)
        rc = check_episodes(d, err, errlen);
    if (!rc)
        rc = check_finite("observations", d->obs, n * O, err, errlen);
    if (!rc)
        rc = check_finite("actions", d->act, n * A, err, errlen);
    if (!rc)
        rc = check_finite("rewards", d->rew, n, err, errlen);
    if (!rc)
        rc = check_finite("final observations", d->final_obs, E * O, err, errlen);
    for (size_t i = 0; !rc && d->has_bounds && i < O + A; i++) {
        size_t lo = i < O ? i : O + i, hi = lo + (i < O ? O : A);
        if (!isfinite(d->bounds[lo]) || !isfinite(d->bounds[hi]) || d->bounds[lo] > d->bounds[hi]) {
            snprintf(err, errlen, "bounds of dimension %zu are invalid", i);
            rc = -EPROTO;
        }
    }
    size_t sl = 0;
    const char *src = ckpt_get(k, "dataset.source", &sl);
    if (!rc && src && sl > 0)
        snprintf(d->source, sizeof(d->source), "%.*s", (int)strnlen(src, sl), src);
    return rc < 0 ? rc : rc ? -EPROTO : 0;
}

int dataset_load(struct dataset *d, const char *path, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    char e[400];
    struct ckpt *k = ckpt_load(path, "DSET", 0, e, sizeof(e));
    if (!k) {
        snprintf(err, errlen, "%s", e);
        return -EPROTO;
    }
    int rc = load_from(d, k, e, sizeof(e));
    ckpt_destroy(&k);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, e);
        dataset_fini(d);
    }
    return rc;
}
