/*
 * reinflow_policy.c — the noisy flow sampler of the ReinFlow baseline (reinflow_policy.h). A
 * sampler keeps the chain and log-likelihood of its last call so the actor can send them with
 * the chunk steps; nothing allocates after creation.
 */
#include "common/reinflow_policy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/hash.h"
#include "common/nn.h"
#include "common/rng.h"
#include "common/util.h"

#define HALF_LOG_2PI 0.91893853320467274

int reinflow_noise_spec(struct nn_spec *s, int D, int O, int hidden)
{
    if (D < 1 || O < 1 || hidden < 1)
        return -EINVAL;
    nn_spec_mlp(s, D + 1 + O, D, hidden, 2, NN_ACT_TANH);
    return nn_spec_check(s, NULL, 0);
}

uint64_t reinflow_layout(uint64_t flow_layout, const struct nn_spec *noise)
{
    uint64_t h = hash_fnv1a_u64(HASH_FNV_INIT, 0x7265696e666c6f77ULL); /* "reinflow" */
    h = hash_fnv1a_u64(h, flow_layout);
    return hash_fnv1a_u64(h, nn_spec_hash(noise));
}

void reinflow_noise_rows(float *in, const float *x, const float *t, const float *obs, int B, int D,
                         int O)
{
    size_t w = (size_t)(D + 1 + O);
    for (int i = 0; i < B; i++) {
        float *row = in + (size_t)i * w;
        memcpy(row, x + (size_t)i * D, (size_t)D * sizeof(float));
        row[D] = t[i];
        memcpy(row + D + 1, obs + (size_t)i * O, (size_t)O * sizeof(float));
    }
}

float reinflow_std(float u, float lo, float hi)
{
    return lo + (hi - lo) * 0.5f * (tanhf(u) + 1.0f);
}

// ---- the "reinflow" policy kind ------------------------------------------------------------

struct rf_policy {
    struct flow *f;
    struct nn *noise;
    struct flow_ctx *fctx;
    struct nn_ctx *nctx;
    float lo, hi;
    int B, N, D, O;
    float *w;     /* [flow | noise] weight block as received */
    float *x;     /* (B, D) current state x_k */
    float *t;     /* (B) */
    float *v;     /* (B, D) velocity */
    float *u;     /* (B, D) raw noise output */
    float *in;    /* (B, D + 1 + O) noise-net input */
    float *chain; /* (B, N+1, D) per row */
    float *logp;  /* (B) */
};

static void rf_destroy(void *impl)
{
    struct rf_policy *p = impl;
    if (!p)
        return;
    flow_ctx_destroy(&p->fctx);
    nn_ctx_destroy(&p->nctx);
    flow_destroy(&p->f);
    nn_destroy(&p->noise);
    free(p->w);
    free(p->x);
    free(p->t);
    free(p->v);
    free(p->u);
    free(p->in);
    free(p->chain);
    free(p->logp);
    free(p);
}

static bool rf_alloc(struct rf_policy *p)
{
    size_t B = (size_t)p->B, D = (size_t)p->D;
    p->w = calloc(p->f->n_params + p->noise->n_params, sizeof(float));
    p->x = calloc(B * D, sizeof(float));
    p->t = calloc(B, sizeof(float));
    p->v = calloc(B * D, sizeof(float));
    p->u = calloc(B * D, sizeof(float));
    p->in = calloc(B * (D + 1 + (size_t)p->O), sizeof(float));
    p->chain = calloc(B * (size_t)(p->N + 1) * D, sizeof(float));
    p->logp = calloc(B, sizeof(float));
    p->fctx = flow_ctx_new(p->f, p->B, false);
    p->nctx = nn_ctx_new_infer(p->noise, p->B);
    return p->w && p->x && p->t && p->v && p->u && p->in && p->chain && p->logp && p->fctx &&
           p->nctx;
}

static void *rf_create(const struct rl_config *c, const struct policy_dims *d, int max_batch,
                       char *err, size_t errlen)
{
    struct flow_spec s;
    if (flow_spec_from_config(&s, c, d->obs_dim, d->act_dim, d->chunk, err, errlen))
        return NULL;
    if (!(c->reinflow_std_min <= c->reinflow_std_max)) {
        snprintf(err, errlen, "reinflow: reinflow_std_min %g > reinflow_std_max %g",
                 c->reinflow_std_min, c->reinflow_std_max);
        return NULL;
    }
    struct rf_policy *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "reinflow: out of memory");
        return NULL;
    }
    p->B = max_batch;
    p->lo = (float)c->reinflow_std_min;
    p->hi = (float)c->reinflow_std_max;
    p->f = flow_new(&s, err, errlen);
    if (!p->f)
        goto err_free;
    p->N = s.steps;
    p->D = p->f->D;
    p->O = d->obs_dim;
    struct nn_spec ns;
    if (reinflow_noise_spec(&ns, p->D, p->O, c->reinflow_noise_hidden) < 0) {
        snprintf(err, errlen, "reinflow: bad noise network sizes");
        goto err_free;
    }
    p->noise = nn_new(&ns, err, errlen);
    if (!p->noise)
        goto err_free;
    if (!rf_alloc(p)) {
        snprintf(err, errlen, "reinflow: out of memory");
        goto err_free;
    }
    return p;

err_free:
    rf_destroy(p);
    return NULL;
}

static size_t rf_nparams(const void *impl)
{
    const struct rf_policy *p = impl;
    return p->f->n_params + p->noise->n_params;
}

static uint64_t rf_layout(const void *impl)
{
    const struct rf_policy *p = impl;
    return reinflow_layout(p->f->layout, &p->noise->spec);
}

static float *rf_params(void *impl)
{
    return ((struct rf_policy *)impl)->w;
}

static void rf_params_changed(void *impl)
{
    struct rf_policy *p = impl;
    memcpy(p->f->params, p->w, p->f->n_params * sizeof(float));
    memcpy(p->noise->params, p->w + p->f->n_params, p->noise->n_params * sizeof(float));
}

// one transition k of all B rows: x ← μ + σ ξ (noise only when r), log-likelihood added
static void rf_step(struct rf_policy *p, const float *obs, int B, int k, struct rng *r)
{
    int D = p->D;
    for (int i = 0; i < B; i++)
        p->t[i] = (float)k / (float)p->N;
    flow_velocity(p->f, p->fctx, p->x, p->t, obs, p->v, B);
    if (r) {
        reinflow_noise_rows(p->in, p->x, p->t, obs, B, D, p->O);
        nn_infer(p->noise, p->nctx, p->in, p->u, B);
    }
    for (int i = 0; i < B; i++) {
        double lp = 0;
        for (int j = 0; j < D; j++) {
            size_t o = (size_t)i * D + j;
            float mu = p->x[o] + p->v[o] / (float)p->N;
            if (!r) {
                p->x[o] = mu;
                continue;
            }
            float sd = reinflow_std(p->u[o], p->lo, p->hi);
            float xi = fminf(fmaxf((float)rng_normal(r), -REINFLOW_XI_CLIP), REINFLOW_XI_CLIP);
            p->x[o] = mu + sd * xi;
            lp -= 0.5 * (double)xi * xi + log(sd) + HALF_LOG_2PI;
        }
        p->logp[i] += (float)lp;
        memcpy(p->chain + ((size_t)i * (p->N + 1) + k + 1) * D, p->x + (size_t)i * D,
               (size_t)D * sizeof(float));
    }
}

static void rf_act(void *impl, const float *obs, int B, struct rng *r, bool deterministic,
                   float *out)
{
    struct rf_policy *p = impl;
    RL_ASSERT(B >= 1 && B <= p->B);
    int D = p->D;
    size_t BD = (size_t)B * D;
    if (deterministic)
        memset(p->x, 0, BD * sizeof(float));
    else
        rng_normal_fill(r, p->x, (long)BD);
    for (int i = 0; i < B; i++) {
        memcpy(p->chain + (size_t)i * (p->N + 1) * D, p->x + (size_t)i * D,
               (size_t)D * sizeof(float));
        p->logp[i] = 0;
    }
    for (int k = 0; k < p->N; k++)
        rf_step(p, obs, B, k, deterministic ? NULL : r);
    for (size_t j = 0; j < BD; j++)
        out[j] = fminf(fmaxf(p->x[j], -1.0f), 1.0f);
}

static int rf_chain_len(const void *impl)
{
    const struct rf_policy *p = impl;
    return (p->N + 1) * p->D;
}

static void rf_chain(const void *impl, const float **chain, const float **logp)
{
    const struct rf_policy *p = impl;
    *chain = p->chain;
    *logp = p->logp;
}

const struct policy_ops reinflow_policy_ops = {
    .kind = "reinflow",
    .create = rf_create,
    .destroy = rf_destroy,
    .nparams = rf_nparams,
    .layout = rf_layout,
    .params = rf_params,
    .params_changed = rf_params_changed,
    .act = rf_act,
    .chain_len = rf_chain_len,
    .chain = rf_chain,
};
