/*
 * policy.c — dispatch to a kind of policy (random, gauss, flow) and optional min-max
 * normalisation around it.
 */
#include "common/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gauss.h"
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
    "random", random_create, random_destroy, random_nparams, random_layout, random_params,
    random_act,
};

// ---- dispatch ----------------------------------------------------------------------------

static const struct policy_ops *const kinds[] = {&random_ops, &gauss_policy_ops};

struct policy {
    const struct policy_ops *ops;
    void *impl;
    struct policy_dims d;
    int max_batch;
    float *bounds; /* obs_lo, obs_hi (O each), act_lo, act_hi (A each), or NULL */
    float *nobs;   /* (max_batch, O) normalised observations */
};

const char *policy_kind_for_algo(const char *algo)
{
    if (!strcmp(algo, "sac"))
        return "gauss";
    if (!strncmp(algo, "rldt", 4))
        return "flow";
    return NULL;
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
    free(p->bounds);
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
    return 0;
}

int policy_set_bounds(struct policy *p, const float *obs_lo, const float *obs_hi,
                      const float *act_lo, const float *act_hi)
{
    int O = p->d.obs_dim, A = p->d.act_dim;
    if (!obs_lo || !obs_hi || !act_lo || !act_hi) {
        free(p->bounds);
        p->bounds = NULL;
        return 0;
    }
    if (!p->bounds) {
        p->bounds = malloc((size_t)(2 * O + 2 * A) * sizeof(float));
        p->nobs = malloc((size_t)p->max_batch * (size_t)O * sizeof(float));
        if (!p->bounds || !p->nobs) {
            free(p->bounds);
            p->bounds = NULL;
            return -ENOMEM;
        }
    }
    memcpy(p->bounds, obs_lo, (size_t)O * sizeof(float));
    memcpy(p->bounds + O, obs_hi, (size_t)O * sizeof(float));
    memcpy(p->bounds + 2 * O, act_lo, (size_t)A * sizeof(float));
    memcpy(p->bounds + 2 * O + A, act_hi, (size_t)A * sizeof(float));
    return 0;
}

// x' = 2 (x - lo) / (hi - lo + 1e-6) - 1, and back (ALGORITHM.md §1)
static void normalise_obs(const struct policy *p, const float *obs, int B)
{
    int O = p->d.obs_dim;
    const float *lo = p->bounds, *hi = p->bounds + O;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < O; k++)
            p->nobs[i * O + k] = 2.0f * (obs[i * O + k] - lo[k]) / (hi[k] - lo[k] + 1e-6f) - 1.0f;
}

static void denormalise_act(const struct policy *p, float *out, int B)
{
    int O = p->d.obs_dim, A = p->d.act_dim, D = p->d.chunk * A;
    const float *lo = p->bounds + 2 * O, *hi = lo + A;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < D; j++) {
            float x = out[i * D + j];
            x = x < -1.0f ? -1.0f : x > 1.0f ? 1.0f : x;
            int k = j % A;
            out[i * D + j] = (x + 1.0f) * 0.5f * (hi[k] - lo[k] + 1e-6f) + lo[k];
        }
}

void policy_act(struct policy *p, const float *obs, int B, struct rng *r, bool deterministic,
                float *out)
{
    RL_ASSERT(B >= 1 && B <= p->max_batch);
    if (p->bounds) {
        normalise_obs(p, obs, B);
        obs = p->nobs;
    }
    p->ops->act(p->impl, obs, B, r, deterministic, out);
    if (p->bounds)
        denormalise_act(p, out, B);
}
