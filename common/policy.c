/*
 * policy.c — dispatch to a kind of policy (random, gauss, flow) and optional min-max
 * normalisation around it.
 */
#include "common/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/algoinfo.h"
#include "common/ckpt.h"
#include "common/config.h"
#include "common/flow.h"
#include "common/gauss.h"
#include "common/norm.h"
#include "common/pixflow.h"
#include "common/reinflow_policy.h"
#include "common/task.h"
#include "common/rng.h"
#include "common/util.h"

// ---- the "random" kind: uniform actions in [-1, 1], no parameters -------------------------

struct random_impl {
    int D;
};

static void *random_create(const struct rl_config *c, const struct policy_dims *d, int max_batch,
                           char *err, size_t errlen)
{
    (void)c;
    (void)max_batch;
    struct random_impl *r = calloc(1, sizeof(*r));
    if (!r)
        snprintf(err, errlen, "out of memory");
    else
        r->D = d->chunk * d->act_dim;
    return r;
}

static void random_destroy(void *impl)
{
    free(impl);
}

static size_t random_nparams(const void *impl)
{
    (void)impl;
    return 0;
}

static uint64_t random_layout(const void *impl)
{
    (void)impl;
    return 0;
}

static float *random_params(void *impl)
{
    (void)impl;
    return NULL;
}

static void random_act(void *impl, const float *obs, int B, struct rng *r, bool deterministic,
                       float *out)
{
    struct random_impl *p = impl;
    (void)obs;
    for (long i = 0; i < (long)B * p->D; i++)
        out[i] = deterministic ? 0.0f : (float)rng_range(r, -1.0, 1.0);
}

static const struct policy_ops random_ops = {
    .kind = "random",
    .create = random_create,
    .destroy = random_destroy,
    .nparams = random_nparams,
    .layout = random_layout,
    .params = random_params,
    .act = random_act,
};

// ---- dispatch ----------------------------------------------------------------------------

static const struct policy_ops *const kinds[] = {&random_ops, &gauss_policy_ops, &flow_policy_ops,
                                                 &reinflow_policy_ops, &pixflow_policy_ops};

struct policy {
    const struct policy_ops *ops;
    void *impl;
    struct policy_dims d;
    int max_batch;
    bool bounded;      /* normalisation on */
    struct norm obs_n; /* obs_dim bounds */
    struct norm act_n; /* act_dim bounds (each action of a chunk) */
    float *nobs;       /* (max_batch, O) normalised observations */
};

const char *policy_kind_for_algo(const char *algo)
{
    const struct algoinfo *ai = algoinfo_find(algo);
    return ai ? ai->policy_kind : NULL;
}

struct policy *policy_new(const char *kind, const struct rl_config *c, const struct policy_dims *d,
                          int max_batch, char *err, size_t errlen)
{
    const struct policy_ops *ops = NULL;
    for (size_t i = 0; i < RL_ARRAY_LEN(kinds); i++)
        if (!strcmp(kinds[i]->kind, kind))
            ops = kinds[i];
    if (!ops) {
        snprintf(err, errlen, "unknown policy kind '%s'", kind);
        return NULL;
    }
    if (d->obs_dim < 1 || d->act_dim < 1 || d->chunk < 1 || max_batch < 1) {
        snprintf(err, errlen, "bad policy dimensions");
        return NULL;
    }
    struct policy *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->ops = ops;
    p->d = *d;
    p->max_batch = max_batch;
    p->impl = ops->create(c, d, max_batch, err, errlen);
    if (!p->impl) {
        free(p);
        return NULL;
    }
    return p;
}

void policy_destroy(struct policy **pp)
{
    struct policy *p = pp ? *pp : NULL;
    if (!p)
        return;
    p->ops->destroy(p->impl);
    norm_fini(&p->obs_n);
    norm_fini(&p->act_n);
    free(p->nobs);
    free(p);
    *pp = NULL;
}

const char *policy_kind(const struct policy *p)
{
    return p->ops->kind;
}

size_t policy_nparams(const struct policy *p)
{
    return p->ops->nparams(p->impl);
}

uint64_t policy_layout(const struct policy *p)
{
    return p->ops->layout(p->impl);
}

int policy_set_params(struct policy *p, const float *w, size_t n, uint64_t layout, char *err,
                      size_t errlen)
{
    size_t have = policy_nparams(p);
    if (n != have || layout != policy_layout(p)) {
        snprintf(err, errlen,
                 "weights do not fit this %s policy: %zu floats layout %016llx, expected %zu "
                 "floats layout %016llx",
                 p->ops->kind, n, (unsigned long long)layout, have,
                 (unsigned long long)policy_layout(p));
        return -EINVAL;
    }
    if (n)
        memcpy(p->ops->params(p->impl), w, n * sizeof(float));
    if (p->ops->params_changed)
        p->ops->params_changed(p->impl);
    return 0;
}

int policy_set_bounds(struct policy *p, const float *obs_lo, const float *obs_hi,
                      const float *act_lo, const float *act_hi)
{
    if (!obs_lo || !obs_hi || !act_lo || !act_hi) {
        p->bounded = false;
        return 0;
    }
    if (!p->nobs) {
        p->nobs = malloc((size_t)p->max_batch * (size_t)p->d.obs_dim * sizeof(float));
        if (!p->nobs || norm_init(&p->obs_n, p->d.obs_dim) < 0 ||
            norm_init(&p->act_n, p->d.act_dim) < 0)
            return -ENOMEM;
    }
    char err[200];
    if (norm_set(&p->obs_n, obs_lo, obs_hi, err, sizeof(err)) < 0 ||
        norm_set(&p->act_n, act_lo, act_hi, err, sizeof(err)) < 0)
        return -EINVAL;
    p->bounded = true;
    return 0;
}

size_t policy_image_bytes(const struct policy *p)
{
    return p->ops->image_bytes ? p->ops->image_bytes(p->impl) : 0;
}

void policy_act(struct policy *p, const float *obs, int B, struct rng *r, bool deterministic,
                float *out)
{
    RL_ASSERT(!p->ops->act_img);
    policy_act_img(p, obs, NULL, B, r, deterministic, out);
}

void policy_act_img(struct policy *p, const float *obs, const uint8_t *img, int B, struct rng *r,
                    bool deterministic, float *out)
{
    RL_ASSERT(B >= 1 && B <= p->max_batch);
    RL_ASSERT(img || !p->ops->act_img);
    if (p->bounded) {
        norm_normalize(&p->obs_n, obs, p->nobs, B, false);
        obs = p->nobs;
    }
    if (p->ops->act_img)
        p->ops->act_img(p->impl, obs, img, B, r, deterministic, out);
    else
        p->ops->act(p->impl, obs, B, r, deterministic, out);
    // actions leave [-1, 1] (clipped) for the env's range, one chunk row of A at a time
    if (p->bounded)
        norm_denormalize(&p->act_n, out, out, (long)B * p->d.chunk, true);
}

int policy_chain_len(const struct policy *p)
{
    return p->ops->chain_len ? p->ops->chain_len(p->impl) : 0;
}

void policy_chain(const struct policy *p, const float **chain, const float **logp)
{
    RL_ASSERT(p->ops->chain);
    p->ops->chain(p->impl, chain, logp);
}

// ---- loading from a file -----------------------------------------------------------------

static const char *section_text(const struct ckpt *k, const char *name)
{
    size_t len;
    const char *t = ckpt_get(k, name, &len);
    return t && len > 0 && t[len - 1] == 0 ? t : NULL;
}

static struct policy *build_from(const struct ckpt *k, struct rl_config *c, int max_batch,
                                 bool images, char *err, size_t errlen)
{
    const char *cfg = section_text(k, "learner.config");
    const char *kind = section_text(k, "policy.kind");
    if (!cfg || !kind) {
        snprintf(err, errlen, "no policy in this file (sections learner.config, policy.kind)");
        return NULL;
    }
    if (!images && !strcmp(kind, pixflow_policy_ops.kind)) {
        snprintf(err, errlen,
                 "a pixel policy (it sees camera images): this command has no camera; rldt eval "
                 "runs it");
        return NULL;
    }
    config_default(c);
    char e[300];
    if (config_load_string(c, cfg, e, sizeof(e)) < 0 || config_validate(c, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "its config: %s", e);
        return NULL;
    }
    const struct task_info *t = task_find(c->env);
    if (!t) {
        snprintf(err, errlen, "unknown task '%s'", c->env);
        return NULL;
    }
    struct policy_dims d = {t->obs_dim, t->act_dim, c->chunk};
    struct policy *p = policy_new(kind, c, &d, max_batch, err, errlen);
    if (!p)
        return NULL;
    size_t nw = 0, nl = 0, nb = 0;
    const float *w = ckpt_get(k, "policy.weights", &nw);
    const uint64_t *layout = ckpt_get(k, "policy.layout", &nl);
    const float *b = ckpt_get(k, "policy.bounds", &nb);
    int O = d.obs_dim, A = d.act_dim;
    if (!w || !layout || nl != sizeof(uint64_t) || nw % sizeof(float) ||
        policy_set_params(p, w, nw / sizeof(float), *layout, err, errlen) < 0) {
        if (!w || !layout || nl != sizeof(uint64_t) || nw % sizeof(float))
            snprintf(err, errlen, "policy weights missing or malformed");
        policy_destroy(&p);
        return NULL;
    }
    if (b && nb != (size_t)(2 * O + 2 * A) * sizeof(float)) {
        snprintf(err, errlen, "policy bounds have %zu bytes, expected %zu", nb,
                 (size_t)(2 * O + 2 * A) * sizeof(float));
        policy_destroy(&p);
        return NULL;
    }
    if (b && policy_set_bounds(p, b, b + O, b + 2 * O, b + 2 * O + A) < 0) {
        snprintf(err, errlen, "bad normalisation bounds");
        policy_destroy(&p);
    }
    if (p && p->ops->check_file && p->ops->check_file(p->impl, k, err, errlen) < 0)
        policy_destroy(&p);
    return p;
}

static struct policy *load(const char *path, struct rl_config *c, int max_batch, bool images,
                           char *err, size_t errlen)
{
    char e[400];
    struct ckpt *k = ckpt_load(path, "CKPT", 0, e, sizeof(e));
    if (!k) {
        snprintf(err, errlen, "%s", e);
        return NULL;
    }
    struct policy *p = build_from(k, c, max_batch, images, e, sizeof(e));
    if (!p)
        snprintf(err, errlen, "%s: %s", path, e);
    ckpt_destroy(&k);
    return p;
}

struct policy *policy_load(const char *path, struct rl_config *c, int max_batch, char *err,
                           size_t errlen)
{
    return load(path, c, max_batch, false, err, errlen);
}

struct policy *policy_load_img(const char *path, struct rl_config *c, int max_batch, char *err,
                               size_t errlen)
{
    return load(path, c, max_batch, true, err, errlen);
}
