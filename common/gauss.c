/*
 * gauss.c — tanh-squashed Gaussian policy math (gauss.h) and the actor-side "gauss" sampler.
 * Row loops over (B, D) buffers; the sampler runs one nn_infer per batch.
 */
#include "common/gauss.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config.h"
#include "common/hash.h"
#include "common/nn.h"
#include "common/rng.h"
#include "common/util.h"

#define HALF_LOG_2PI 0.91893853320467274178

// ---- network -------------------------------------------------------------------------------

int gauss_spec(struct nn_spec *s, const struct rl_config *c, int obs_dim, int D, char *err,
               size_t errlen)
{
    if (obs_dim < 1 || D < 1 || D > NN_MAX_DIM / 2) {
        snprintf(err, errlen, "gauss: bad dims obs %d, action %d", obs_dim, D);
        return -EINVAL;
    }
    if (c->sac_layers < 1 || c->sac_layers > NN_MAX_HIDDEN) {
        snprintf(err, errlen, "gauss: sac_layers %d must be 1..%d", c->sac_layers, NN_MAX_HIDDEN);
        return -EINVAL;
    }
    nn_spec_mlp(s, obs_dim, 2 * D, c->sac_hidden, c->sac_layers, NN_ACT_RELU);
    return nn_spec_check(s, err, errlen);
}

uint64_t gauss_layout(uint64_t net_hash)
{
    uint64_t h = hash_fnv1a_u64(HASH_FNV_INIT, 0x6761757373ULL); /* "gauss" */
    return hash_fnv1a_u64(h, net_hash);
}

// ---- row math ------------------------------------------------------------------------------

float gauss_log_std(float o)
{
    return GAUSS_LOG_STD_MIN + 0.5f * (GAUSS_LOG_STD_MAX - GAUSS_LOG_STD_MIN) * (tanhf(o) + 1.0f);
}

/* log(1 − tanh²(u)) = 2 (log 2 − u − softplus(−2u)), stable for any u */
static float log1m_tanh2(float u)
{
    float x = -2.0f * u;
    float sp = x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
    return 2.0f * (0.69314718056f - u - sp);
}

void gauss_sample(const float *out, const float *eps, int B, int D, float *u, float *a, float *logp)
{
    for (int i = 0; i < B; i++) {
        const float *m = out + (size_t)i * 2 * D;
        const float *e = eps + (size_t)i * D;
        float *ur = u + (size_t)i * D;
        float *ar = a + (size_t)i * D;
        double lp = 0;
        for (int j = 0; j < D; j++) {
            float ls = gauss_log_std(m[D + j]);
            ur[j] = m[j] + expf(ls) * e[j];
            ar[j] = tanhf(ur[j]);
            lp += -0.5 * e[j] * e[j] - ls - HALF_LOG_2PI - log1m_tanh2(ur[j]);
        }
        if (logp)
            logp[i] = (float)lp;
    }
}

void gauss_log_prob(const float *out, const float *u, int B, int D, float *logp)
{
    for (int i = 0; i < B; i++) {
        const float *m = out + (size_t)i * 2 * D;
        const float *ur = u + (size_t)i * D;
        double lp = 0;
        for (int j = 0; j < D; j++) {
            float ls = gauss_log_std(m[D + j]);
            float z = (ur[j] - m[j]) * expf(-ls);
            lp += -0.5 * z * z - ls - HALF_LOG_2PI - log1m_tanh2(ur[j]);
        }
        logp[i] = (float)lp;
    }
}

// deterministic action a (B, D) = tanh(mean) of out (B, 2D)
static void gauss_mean_action(const float *out, int B, int D, float *a)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < D; j++)
            a[(size_t)i * D + j] = tanhf(out[(size_t)i * 2 * D + j]);
}

/*
 * With ε fixed: ∂u/∂m = 1, ∂u/∂ls = σε, ∂a/∂u = 1 − a², ∂logπ/∂u = 2a (from the squash term),
 * ∂logπ/∂ls = −1 directly, ∂ls/∂o = (LS_MAX − LS_MIN)/2 · (1 − tanh² o).
 */
void gauss_backward(const float *out, const float *eps, const float *u, const float *g_a,
                    const float *g_lp, int B, int D, float *d_out)
{
    const float half_range = 0.5f * (GAUSS_LOG_STD_MAX - GAUSS_LOG_STD_MIN);
    for (int i = 0; i < B; i++) {
        const float *m = out + (size_t)i * 2 * D;
        const float *e = eps + (size_t)i * D;
        const float *ur = u + (size_t)i * D;
        float *d = d_out + (size_t)i * 2 * D;
        float glp = g_lp ? g_lp[i] : 0.0f;
        for (int j = 0; j < D; j++) {
            float a = tanhf(ur[j]);
            float ga = g_a ? g_a[(size_t)i * D + j] : 0.0f;
            float du = ga * expf(log1m_tanh2(ur[j])) + glp * 2.0f * a;
            float to = tanhf(m[D + j]);
            float sigma = expf(gauss_log_std(m[D + j]));
            d[j] = du;
            d[D + j] = (du * sigma * e[j] - glp) * half_range * (1.0f - to * to);
        }
    }
}

// ---- actor-side sampler --------------------------------------------------------------------

struct gauss_policy {
    struct nn *net;
    struct nn_ctx *ctx;
    int D;
    int max_batch;
    float *out; /* (max_batch, 2D) */
    float *eps; /* (max_batch, D) */
    float *u;   /* (max_batch, D) */
};

static void gp_destroy(void *impl)
{
    struct gauss_policy *g = impl;
    if (!g)
        return;
    nn_destroy(&g->net);
    nn_ctx_destroy(&g->ctx);
    free(g->out);
    free(g->eps);
    free(g->u);
    free(g);
}

static void *gp_create(const struct rl_config *c, const struct policy_dims *d, int max_batch,
                       char *err, size_t errlen)
{
    struct nn_spec sp;
    if (d->chunk < 1 || d->act_dim < 1 || d->chunk > NN_MAX_DIM / d->act_dim) {
        snprintf(err, errlen, "gauss: bad action dims %d x %d", d->chunk, d->act_dim);
        return NULL;
    }
    if (max_batch < 1) {
        snprintf(err, errlen, "gauss: max_batch %d must be at least 1", max_batch);
        return NULL;
    }
    int D = d->chunk * d->act_dim;
    if (gauss_spec(&sp, c, d->obs_dim, D, err, errlen))
        return NULL;
    struct gauss_policy *g = calloc(1, sizeof(*g));
    if (!g)
        goto err_nomem;
    g->D = D;
    g->max_batch = max_batch;
    g->net = nn_new(&sp, err, errlen);
    if (!g->net)
        goto err_free;
    g->ctx = nn_ctx_new_infer(g->net, max_batch);
    g->out = calloc((size_t)max_batch * 2 * D, sizeof(float));
    g->eps = calloc((size_t)max_batch * D, sizeof(float));
    g->u = calloc((size_t)max_batch * D, sizeof(float));
    if (!g->ctx || !g->out || !g->eps || !g->u)
        goto err_free_nomem;
    return g;

err_free_nomem:
    snprintf(err, errlen, "gauss: out of memory");
err_free:
    gp_destroy(g);
    return NULL;
err_nomem:
    snprintf(err, errlen, "gauss: out of memory");
    return NULL;
}

static size_t gp_nparams(const void *impl)
{
    const struct gauss_policy *g = impl;
    return g->net->n_params;
}

static uint64_t gp_layout(const void *impl)
{
    const struct gauss_policy *g = impl;
    return gauss_layout(g->net->hash);
}

static float *gp_params(void *impl)
{
    struct gauss_policy *g = impl;
    return g->net->params;
}

static void gp_act(void *impl, const float *obs, int B, struct rng *r, bool deterministic,
                   float *out)
{
    struct gauss_policy *g = impl;
    RL_ASSERT(B >= 1 && B <= g->max_batch);
    nn_infer(g->net, g->ctx, obs, g->out, B);
    if (deterministic) {
        gauss_mean_action(g->out, B, g->D, out);
        return;
    }
    rng_normal_fill(r, g->eps, (long)B * g->D);
    gauss_sample(g->out, g->eps, B, g->D, g->u, out, NULL);
}

const struct policy_ops gauss_policy_ops = {
    .kind = "gauss",
    .create = gp_create,
    .destroy = gp_destroy,
    .nparams = gp_nparams,
    .layout = gp_layout,
    .params = gp_params,
    .act = gp_act,
};
