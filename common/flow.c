/*
 * flow.c — flow-matching policy math (flow.h): two nets in one parameter block, training
 * forward/backward, Euler sampling with the whole chain, expected targets, exploration noise,
 * the "flow" policy kind and its checkpoint sections.
 *
 * Shapes: B rows, D = H·A chunk columns, E time-embedding columns, O observation columns,
 * trunk input (B, D + E + O) = [x | temb | obs].
 */
#include "common/flow.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/hash.h"
#include "common/nn.h"
#include "common/rng.h"
#include "common/task.h"
#include "common/util.h"

#define FLOW_LAYOUT_TAG 0x666c6f7700000001ULL /* "flow", layout version 1 */

struct flow_ctx {
    uint64_t layout;
    int max_batch;
    int rows_t; /* rows of the time-net ctx: max(max_batch, N) */
    bool train;
    int B;                      /* rows of the last flow_forward */
    struct nn_ctx *tcx;         /* time net */
    struct nn_ctx *kcx;         /* trunk */
    float *in;                  /* (max_batch, in_dim) trunk input */
    float *temb;                /* (rows_t, E) embeddings (inference) */
    float *tk;                  /* (rows_t) times t_k of the sampler */
    float *v;                   /* (max_batch, D) velocities of the sampler */
    float *d_in;                /* train: (max_batch, in_dim) */
    float *d_temb;              /* train: (max_batch, E) */
    const struct nn_pack *pack; /* borrowed: the trunk's packed weights for small batches */
    /* train: flow_sample_forward caches rows in step order, row perm[j] at cache row j */
    bool permuted; /* the last forward was flow_sample_forward */
    int *perm;     /* (max_batch) */
    int *first;    /* (N + 1) cache row of each step's first row */
    float *tp;     /* (max_batch) times in cache order; scratch for d_t in backward */
    float *vt;     /* (max_batch, D) velocities at the drawn steps, in row order */
    float *dvp;    /* (max_batch, D) d_v in cache order */
};

// ---- spec ----------------------------------------------------------------------------------

static void time_spec(const struct flow_spec *s, struct nn_spec *t)
{
    nn_spec_time_embed(t, s->temb);
}

static void trunk_spec(const struct flow_spec *s, struct nn_spec *k)
{
    int D = s->chunk * s->act_dim;
    nn_spec_mlp(k, D + s->temb + s->obs_dim, D, s->hidden, s->depth, NN_ACT_RELU);
    k->residual = true;
}

int flow_spec_check(const struct flow_spec *s, char *err, size_t errlen)
{
    const char *bad = NULL;
    if (s->obs_dim < 1 || s->obs_dim > 4096 || s->act_dim < 1 || s->act_dim > 4096)
        bad = "observation and action dims must be in 1..4096";
    else if (s->chunk < 1 || s->chunk > 64 || s->chunk * s->act_dim > 4096)
        bad = "chunk must be in 1..64 with chunk·act_dim at most 4096";
    else if (s->hidden < 1 || s->hidden > 4096 || s->depth < 1 || s->depth > NN_MAX_HIDDEN)
        bad = "trunk width must be in 1..4096 and depth in 1..15";
    else if (s->temb < 2 || s->temb > 1024 || s->temb % 2)
        bad = "time embedding size must be even, 2..1024";
    else if (s->steps < 1 || s->steps > 1000)
        bad = "Euler steps must be in 1..1000";
    if (bad && err && errlen)
        snprintf(err, errlen,
                 "flow: %s (obs %d, act %d, chunk %d, width %d, depth %d, temb %d, "
                 "steps %d)",
                 bad, s->obs_dim, s->act_dim, s->chunk, s->hidden, s->depth, s->temb, s->steps);
    return bad ? -EINVAL : 0;
}

int flow_spec_from_config(struct flow_spec *s, const struct rl_config *c, int obs_dim, int act_dim,
                          int chunk, char *err, size_t errlen)
{
    s->obs_dim = obs_dim;
    s->act_dim = act_dim;
    s->chunk = chunk;
    s->hidden = c->flow_hidden;
    s->depth = c->flow_depth;
    s->temb = c->flow_temb;
    s->steps = c->flow_steps;
    return flow_spec_check(s, err, errlen);
}

static uint64_t hash_nets(const struct flow_spec *s)
{
    struct nn_spec t, k;
    time_spec(s, &t);
    trunk_spec(s, &k);
    uint64_t h = hash_fnv1a_u64(HASH_FNV_INIT, FLOW_LAYOUT_TAG);
    h = hash_fnv1a_u64(h, nn_spec_hash(&t));
    h = hash_fnv1a_u64(h, nn_spec_hash(&k));
    h = hash_fnv1a_u64(h, (uint64_t)s->obs_dim);
    h = hash_fnv1a_u64(h, (uint64_t)s->act_dim);
    return hash_fnv1a_u64(h, (uint64_t)s->chunk);
}

uint64_t flow_spec_net_hash(const struct flow_spec *s)
{
    return flow_spec_check(s, NULL, 0) ? 0 : hash_nets(s);
}

uint64_t flow_spec_layout(const struct flow_spec *s)
{
    return flow_spec_check(s, NULL, 0) ? 0 : hash_fnv1a_u64(hash_nets(s), (uint64_t)s->steps);
}

// ---- the network pair ----------------------------------------------------------------------

/* let net use dst/gdst as its parameter and gradient storage */
static void borrow(struct nn *net, float *dst, float *gdst)
{
    free(net->params);
    free(net->grads);
    net->params = dst;
    net->grads = gdst;
}

static void unborrow(struct nn *net)
{
    if (net) {
        net->params = NULL;
        net->grads = NULL;
    }
}

struct flow *flow_new(const struct flow_spec *s, char *err, size_t errlen)
{
    if (flow_spec_check(s, err, errlen))
        return NULL;
    struct flow *f = calloc(1, sizeof(*f));
    if (!f)
        goto err_nomem;
    f->spec = *s;
    f->D = s->chunk * s->act_dim;
    f->in_dim = f->D + s->temb + s->obs_dim;
    struct nn_spec t, k;
    time_spec(s, &t);
    trunk_spec(s, &k);
    f->tnet = nn_new(&t, err, errlen);
    f->trunk = f->tnet ? nn_new(&k, err, errlen) : NULL;
    if (!f->trunk)
        goto err_destroy;
    size_t nt = f->tnet->n_params;
    f->n_params = nt + f->trunk->n_params;
    f->layout = flow_spec_layout(s);
    f->params = calloc(f->n_params, sizeof(float));
    f->grads = calloc(f->n_params, sizeof(float));
    if (!f->params || !f->grads) {
        flow_destroy(&f);
        goto err_nomem;
    }
    borrow(f->tnet, f->params, f->grads);
    borrow(f->trunk, f->params + nt, f->grads + nt);
    return f;

err_destroy:
    flow_destroy(&f);
    return NULL;
err_nomem:
    if (err && errlen)
        snprintf(err, errlen, "flow: out of memory");
    return NULL;
}

void flow_destroy(struct flow **p)
{
    struct flow *f = p ? *p : NULL;
    if (!f)
        return;
    if (f->params) {
        unborrow(f->tnet);
        unborrow(f->trunk);
    }
    nn_destroy(&f->tnet);
    nn_destroy(&f->trunk);
    free(f->params);
    free(f->grads);
    free(f);
    *p = NULL;
}

void flow_init(struct flow *f, struct rng *r)
{
    nn_init(f->tnet, r);
    nn_init(f->trunk, r);
}

void flow_zero_grad(struct flow *f)
{
    memset(f->grads, 0, f->n_params * sizeof(float));
}

void flow_copy_params(struct flow *dst, const struct flow *src)
{
    RL_ASSERT(dst->n_params == src->n_params && dst->trunk->hash == src->trunk->hash &&
              dst->tnet->hash == src->tnet->hash);
    memcpy(dst->params, src->params, src->n_params * sizeof(float));
}

double flow_flops_velocity(const struct flow *f, int B)
{
    return nn_flops_forward(f->tnet, B) + nn_flops_forward(f->trunk, B);
}

double flow_flops_sample(const struct flow *f, int B)
{
    int N = f->spec.steps;
    return nn_flops_forward(f->tnet, N) + N * nn_flops_forward(f->trunk, B);
}

// ---- workspaces ----------------------------------------------------------------------------

struct flow_ctx *flow_ctx_new(const struct flow *f, int max_batch, bool train)
{
    if (max_batch < 1 || max_batch > (1 << 24))
        return NULL;
    struct flow_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    int E = f->spec.temb;
    c->layout = f->layout;
    c->max_batch = max_batch;
    c->rows_t = RL_MAX(max_batch, f->spec.steps);
    c->train = train;
    c->tcx = train ? nn_ctx_new(f->tnet, c->rows_t) : nn_ctx_new_infer(f->tnet, c->rows_t);
    c->kcx = train ? nn_ctx_new(f->trunk, max_batch) : nn_ctx_new_infer(f->trunk, max_batch);
    c->in = calloc((size_t)max_batch * f->in_dim, sizeof(float));
    c->temb = calloc((size_t)c->rows_t * E, sizeof(float));
    c->tk = calloc((size_t)c->rows_t, sizeof(float));
    c->v = calloc((size_t)max_batch * f->D, sizeof(float));
    bool ok = c->tcx && c->kcx && c->in && c->temb && c->tk && c->v;
    if (ok && train) {
        c->d_in = calloc((size_t)max_batch * f->in_dim, sizeof(float));
        c->d_temb = calloc((size_t)max_batch * E, sizeof(float));
        c->perm = calloc((size_t)max_batch, sizeof(int));
        c->first = calloc((size_t)f->spec.steps + 1, sizeof(int));
        c->tp = calloc((size_t)max_batch, sizeof(float));
        c->vt = calloc((size_t)max_batch * f->D, sizeof(float));
        c->dvp = calloc((size_t)max_batch * f->D, sizeof(float));
        ok = c->d_in && c->d_temb && c->perm && c->first && c->tp && c->vt && c->dvp;
    }
    if (!ok)
        flow_ctx_destroy(&c);
    return c;
}

void flow_ctx_destroy(struct flow_ctx **p)
{
    struct flow_ctx *c = p ? *p : NULL;
    if (!c)
        return;
    nn_ctx_destroy(&c->tcx);
    nn_ctx_destroy(&c->kcx);
    free(c->in);
    free(c->temb);
    free(c->tk);
    free(c->v);
    free(c->d_in);
    free(c->d_temb);
    free(c->perm);
    free(c->first);
    free(c->tp);
    free(c->vt);
    free(c->dvp);
    free(c);
    *p = NULL;
}

// ---- passes --------------------------------------------------------------------------------

/* trunk input columns: x → [0, D), temb → [D, D+E), obs → [D+E, in) */
static void fill_input(const struct flow *f, float *in, const float *x, const float *temb,
                       const float *obs, int B)
{
    int D = f->D, E = f->spec.temb, O = f->spec.obs_dim;
    if (x)
        nn_copy_cols(in, f->in_dim, x, D, B, D);
    if (temb)
        nn_copy_cols(in + D, f->in_dim, temb, E, B, E);
    if (obs)
        nn_copy_cols(in + D + E, f->in_dim, obs, O, B, O);
}

const float *flow_forward(const struct flow *f, struct flow_ctx *ctx, const float *x,
                          const float *t, const float *obs, int B)
{
    RL_ASSERT(ctx->train && ctx->layout == f->layout && B >= 1 && B <= ctx->max_batch);
    const float *temb = nn_forward(f->tnet, ctx->tcx, t, B);
    fill_input(f, ctx->in, x, temb, obs, B);
    ctx->B = B;
    ctx->permuted = false;
    return nn_forward(f->trunk, ctx->kcx, ctx->in, B);
}

void flow_backward(struct flow *f, struct flow_ctx *ctx, const float *d_v, float *d_x, float *d_t)
{
    RL_ASSERT(ctx->train && ctx->layout == f->layout && ctx->B > 0);
    int D = f->D, E = f->spec.temb, B = ctx->B;
    const int *perm = ctx->perm;
    if (ctx->permuted) {
        for (int j = 0; j < B; j++)
            memcpy(ctx->dvp + (size_t)j * D, d_v + (size_t)perm[j] * D, (size_t)D * sizeof(float));
        d_v = ctx->dvp;
    }
    nn_backward(f->trunk, ctx->kcx, d_v, ctx->d_in);
    // the embedding columns of dL/din flow back through the time net
    nn_copy_cols(ctx->d_temb, E, ctx->d_in + D, f->in_dim, B, E);
    nn_backward(f->tnet, ctx->tcx, ctx->d_temb, d_t && ctx->permuted ? ctx->tp : d_t);
    for (int j = 0; d_t && ctx->permuted && j < B; j++)
        d_t[perm[j]] = ctx->tp[j];
    if (d_x && !ctx->permuted)
        nn_copy_cols(d_x, D, ctx->d_in, f->in_dim, B, D);
    for (int j = 0; d_x && ctx->permuted && j < B; j++)
        memcpy(d_x + (size_t)perm[j] * D, ctx->d_in + (size_t)j * f->in_dim,
               (size_t)D * sizeof(float));
}

void flow_backward_obs(const struct flow *f, const struct flow_ctx *ctx, float *d_obs)
{
    RL_ASSERT(ctx->train && ctx->layout == f->layout && ctx->B > 0);
    int D = f->D, E = f->spec.temb, O = f->spec.obs_dim;
    nn_copy_cols(d_obs, O, ctx->d_in + D + E, f->in_dim, ctx->B, O);
}

void flow_velocity(const struct flow *f, struct flow_ctx *ctx, const float *x, const float *t,
                   const float *obs, float *v, int B)
{
    RL_ASSERT(ctx->layout == f->layout && B >= 1 && B <= ctx->max_batch);
    nn_infer(f->tnet, ctx->tcx, t, ctx->temb, B);
    fill_input(f, ctx->in, x, ctx->temb, obs, B);
    nn_infer(f->trunk, ctx->kcx, ctx->in, v, B);
}

void flow_sample(const struct flow *f, struct flow_ctx *ctx, const float *obs, int B, float *chain)
{
    RL_ASSERT(ctx->layout == f->layout && B >= 1 && B <= ctx->max_batch);
    int N = f->spec.steps, D = f->D, E = f->spec.temb;
    size_t BD = (size_t)B * D;
    // the N step embeddings in one pass; observations enter the trunk input once
    for (int k = 0; k < N; k++)
        ctx->tk[k] = (float)k / (float)N;
    nn_infer(f->tnet, ctx->tcx, ctx->tk, ctx->temb, N);
    fill_input(f, ctx->in, NULL, NULL, obs, B);
    float h = 1.0f / (float)N;
    for (int k = 0; k < N; k++) {
        const float *x = chain + (size_t)k * BD;
        float *y = chain + (size_t)(k + 1) * BD;
        const float *e = ctx->temb + (size_t)k * E;
        for (int i = 0; i < B; i++) {
            float *row = ctx->in + (size_t)i * f->in_dim;
            memcpy(row, x + (size_t)i * D, (size_t)D * sizeof(float));
            memcpy(row + D, e, (size_t)E * sizeof(float));
        }
        nn_infer_packed(f->trunk, ctx->pack, ctx->kcx, ctx->in, ctx->v, B);
        for (size_t j = 0; j < BD; j++)
            y[j] = x[j] + h * ctx->v[j];
    }
}

/*
 * Let flow_sample on ctx run the trunk through trunk's packed weights (nn.h nn_pack) when the
 * batch is small; borrowed: the caller keeps it up to date with the flow's parameters and
 * alive while ctx uses it. NULL turns it off (the default).
 */
static void flow_ctx_set_pack(struct flow_ctx *ctx, const struct nn_pack *trunk)
{
    ctx->pack = trunk;
}

/* cache order of flow_sample_forward: rows by drawn step (stable), their times in tp */
static void order_rows(const struct flow *f, struct flow_ctx *ctx, const int *step, int B)
{
    int N = f->spec.steps;
    int *first = ctx->first;
    memset(first, 0, (size_t)(N + 1) * sizeof(int));
    for (int i = 0; i < B; i++) {
        RL_ASSERT(step[i] >= 0 && step[i] < N);
        first[step[i] + 1]++;
    }
    for (int k = 0; k < N; k++)
        first[k + 1] += first[k];
    for (int i = 0, k = 0; k < N; k++) {
        for (int r = 0; r < B && i < first[k + 1]; r++) {
            if (step[r] == k) {
                ctx->perm[i] = r;
                ctx->tp[i++] = (float)k / (float)N;
            }
        }
    }
}

/* one flow_sample_forward call: rows B, drawn steps, observations, embeddings in cache order */
struct sample_pass {
    const struct flow *f;
    struct flow_ctx *ctx;
    const int *step;
    const float *obs, *te;
    int B;
};

static void put_row(const struct sample_pass *p, int j, const float *x, const float *e, int r)
{
    int D = p->f->D, E = p->f->spec.temb, O = p->f->spec.obs_dim;
    float *row = p->ctx->in + (size_t)j * p->f->in_dim;
    memcpy(row, x + (size_t)r * D, (size_t)D * sizeof(float));
    memcpy(row + D, e, (size_t)E * sizeof(float));
    memcpy(row + D + E, p->obs + (size_t)r * O, (size_t)O * sizeof(float));
}

/*
 * Euler step k, x → y: the trunk input holds the rows drawn at k first (cache order, through
 * the cached forward into cache rows [first[k], first[k + 1])), then the others (row order,
 * through inference).
 */
static void sample_step(const struct sample_pass *p, int k, const float *x, float *y)
{
    const struct flow *f = p->f;
    struct flow_ctx *c = p->ctx;
    int D = f->D, E = f->spec.temb, B = p->B, j0 = c->first[k], n = c->first[k + 1] - j0;
    float h = 1.0f / (float)f->spec.steps;
    for (int j = 0; j < n; j++)
        put_row(p, j, x, p->te + (size_t)(j0 + j) * E, c->perm[j0 + j]);
    for (int r = 0, j = n; r < B; r++)
        if (p->step[r] != k)
            put_row(p, j++, x, c->temb + (size_t)k * E, r);
    if (n > 0) {
        const float *v = nn_forward_rows(f->trunk, c->kcx, c->in, j0, n);
        for (int j = 0; j < n; j++) {
            size_t o = (size_t)c->perm[j0 + j] * D;
            for (int q = 0; q < D; q++) {
                c->vt[o + q] = v[(size_t)j * D + q];
                y[o + q] = x[o + q] + h * v[(size_t)j * D + q];
            }
        }
    }
    if (n < B)
        nn_infer_packed(f->trunk, c->pack, c->kcx, c->in + (size_t)n * f->in_dim, c->v, B - n);
    for (int r = 0, j = 0; n < B && r < B; r++) {
        if (p->step[r] == k)
            continue;
        size_t o = (size_t)r * D;
        for (int q = 0; q < D; q++)
            y[o + q] = x[o + q] + h * c->v[(size_t)j * D + q];
        j++;
    }
}

const float *flow_sample_forward(const struct flow *f, struct flow_ctx *ctx, const float *obs,
                                 int B, float *chain, const int *step)
{
    RL_ASSERT(ctx->train && ctx->layout == f->layout && B >= 1 && B <= ctx->max_batch);
    int N = f->spec.steps;
    size_t BD = (size_t)B * f->D;
    order_rows(f, ctx, step, B);
    for (int k = 0; k < N; k++)
        ctx->tk[k] = (float)k / (float)N;
    nn_infer(f->tnet, ctx->tcx, ctx->tk, ctx->temb, N);
    struct sample_pass p = {f, ctx, step, obs, nn_forward(f->tnet, ctx->tcx, ctx->tp, B), B};
    for (int k = 0; k < N; k++)
        sample_step(&p, k, chain + (size_t)k * BD, chain + (size_t)(k + 1) * BD);
    ctx->B = B;
    ctx->permuted = true;
    return ctx->vt;
}

void flow_expected_target(const float *x, const float *t, const float *v, int B, int D, float *ahat)
{
    for (int i = 0; i < B; i++) {
        float w = 1.0f - t[i];
        size_t o = (size_t)i * D;
        for (int j = 0; j < D; j++)
            ahat[o + j] = x[o + j] + w * v[o + j];
    }
}

static float clip1(float x)
{
    return x < -1.0f ? -1.0f : x > 1.0f ? 1.0f : x;
}

/*
 * Exploration (learner/algo/README.md §6) with k = N−2. Under Euler sampling
 * v_k = N (x_{k+1} − x_k), so â_k = x_k + (1 − k/N) v_k; at k = N−1 this is exactly x_N (zero
 * noise, always), which is why the late step used is k = N−2: â_{N−2} = x_{N−2} + 2 (x_{N−1} −
 * x_{N−2}), and a − â_{N−2} is the change of velocity over the last step, (v_{N−1} − v_{N−2})/N.
 * It is read off the chain: no
 * extra network evaluation.
 */
void flow_chain_actions(const float *chain, int N, int B, int D, struct rng *r, float *a)
{
    size_t BD = (size_t)B * D;
    const float *xN = chain + (size_t)N * BD;
    if (!r || N < 2) {
        for (size_t j = 0; j < BD; j++)
            a[j] = clip1(xN[j]);
        return;
    }
    const float *x1 = chain + (size_t)(N - 1) * BD;
    const float *x2 = chain + (size_t)(N - 2) * BD;
    for (int i = 0; i < B; i++) {
        size_t o = (size_t)i * D;
        double ss = 0;
        for (int j = 0; j < D; j++) {
            float ahat = x2[o + j] + 2.0f * (x1[o + j] - x2[o + j]);
            double d = (double)xN[o + j] - ahat;
            ss += d * d;
        }
        float sigma = (float)sqrt(ss);
        for (int j = 0; j < D; j++)
            a[o + j] = clip1(xN[o + j] + sigma * (float)rng_normal(r));
    }
}

// ---- the "flow" policy kind ----------------------------------------------------------------

struct flow_policy {
    struct flow *f;
    struct flow_ctx *ctx;
    struct nn_pack *pack; /* the trunk for small batches; NULL without the kernel */
    float *chain;         /* ((N+1), max_batch, D) */
    int max_batch;
};

static void fp_destroy(void *impl)
{
    struct flow_policy *p = impl;
    if (!p)
        return;
    flow_ctx_destroy(&p->ctx);
    nn_pack_destroy(&p->pack);
    flow_destroy(&p->f);
    free(p->chain);
    free(p);
}

static void *fp_create(const struct rl_config *c, const struct policy_dims *d, int max_batch,
                       char *err, size_t errlen)
{
    struct flow_spec s;
    if (flow_spec_from_config(&s, c, d->obs_dim, d->act_dim, d->chunk, err, errlen))
        return NULL;
    struct flow_policy *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "flow: out of memory");
        return NULL;
    }
    p->max_batch = max_batch;
    p->f = flow_new(&s, err, errlen);
    if (!p->f) {
        fp_destroy(p);
        return NULL;
    }
    p->ctx = flow_ctx_new(p->f, max_batch, false);
    p->pack = c->flow_small_batch ? nn_pack_new(p->f->trunk) : NULL; /* NULL: sgemm always */
    if (p->ctx)
        flow_ctx_set_pack(p->ctx, p->pack);
    p->chain = calloc((size_t)(s.steps + 1) * max_batch * p->f->D, sizeof(float));
    if (!p->ctx || !p->chain) {
        snprintf(err, errlen, "flow: out of memory");
        fp_destroy(p);
        return NULL;
    }
    return p;
}

static size_t fp_nparams(const void *impl)
{
    const struct flow_policy *p = impl;
    return p->f->n_params;
}

static uint64_t fp_layout(const void *impl)
{
    const struct flow_policy *p = impl;
    return p->f->layout;
}

static float *fp_params(void *impl)
{
    struct flow_policy *p = impl;
    return p->f->params;
}

static void fp_params_changed(void *impl)
{
    struct flow_policy *p = impl;
    if (p->pack)
        nn_pack_update(p->pack, p->f->trunk);
}

static void fp_act(void *impl, const float *obs, int B, struct rng *r, bool deterministic,
                   float *out)
{
    struct flow_policy *p = impl;
    RL_ASSERT(B >= 1 && B <= p->max_batch);
    long BD = (long)B * p->f->D;
    if (deterministic)
        memset(p->chain, 0, (size_t)BD * sizeof(float));
    else
        rng_normal_fill(r, p->chain, BD);
    flow_sample(p->f, p->ctx, obs, B, p->chain);
    flow_chain_actions(p->chain, p->f->spec.steps, B, p->f->D, deterministic ? NULL : r, out);
}

const struct policy_ops flow_policy_ops = {
    .kind = "flow",
    .create = fp_create,
    .destroy = fp_destroy,
    .nparams = fp_nparams,
    .layout = fp_layout,
    .params = fp_params,
    .params_changed = fp_params_changed,
    .act = fp_act,
};

// ---- files ---------------------------------------------------------------------------------

int flow_policy_save(const char *path, const char *cfg_text, const struct flow *f,
                     const float *bounds, char *err, size_t errlen)
{
    struct ckpt_writer *w = ckpt_writer_new("CKPT", f->layout);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    const char *kind = flow_policy_ops.kind;
    size_t nb = (size_t)(2 * f->spec.obs_dim + 2 * f->spec.act_dim) * sizeof(float);
    int rc = ckpt_add(w, "learner.config", cfg_text, strlen(cfg_text) + 1);
    if (!rc)
        rc = ckpt_add(w, "policy.kind", kind, strlen(kind) + 1);
    if (!rc)
        rc = ckpt_add(w, "policy.layout", &f->layout, sizeof(f->layout));
    if (!rc)
        rc = ckpt_add(w, "policy.weights", f->params, f->n_params * sizeof(float));
    if (!rc && bounds)
        rc = ckpt_add(w, "policy.bounds", bounds, nb);
    if (rc < 0)
        snprintf(err, errlen, "cannot assemble policy file: %s", strerror(-rc));
    else
        rc = ckpt_writer_save(w, path, err, errlen);
    ckpt_writer_destroy(&w);
    return rc;
}

static const char *text_section(const struct ckpt *k, const char *name)
{
    size_t len = 0;
    const char *t = ckpt_get(k, name, &len);
    return t && len > 0 && t[len - 1] == 0 ? t : NULL;
}

/* the flow spec a policy file was written for (its config and task dims) */
static int file_spec(const struct ckpt *k, struct flow_spec *s, char *err, size_t errlen)
{
    const char *cfg = text_section(k, "learner.config");
    const char *kind = text_section(k, "policy.kind");
    if (kind && !strcmp(kind, "pixflow")) {
        snprintf(err, errlen,
                 "is a pixel policy (it sees camera images): only rldt fine-tunes from pixels "
                 "(with pixels = true); this algorithm trains policies of the state vector");
        return -EINVAL;
    }
    if (!cfg || !kind || strcmp(kind, flow_policy_ops.kind)) {
        snprintf(err, errlen, "not a flow policy (policy.kind '%s')", kind ? kind : "missing");
        return -EINVAL;
    }
    struct rl_config c;
    config_default(&c);
    char e[300];
    if (config_load_string(&c, cfg, e, sizeof(e)) < 0 || config_validate(&c, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "its config: %s", e);
        return -EPROTO;
    }
    const struct task_info *t = task_find(c.env);
    if (!t) {
        snprintf(err, errlen, "unknown task '%s'", c.env);
        return -EPROTO;
    }
    return flow_spec_from_config(s, &c, t->obs_dim, t->act_dim, c.chunk, err, errlen);
}

static int load_from(const struct ckpt *k, struct flow *f, float *bounds, bool *has_bounds,
                     char *err, size_t errlen)
{
    struct flow_spec s;
    int rc = file_spec(k, &s, err, errlen);
    if (rc)
        return rc;
    size_t nl = 0, nw = 0, nb = 0;
    const uint64_t *layout = ckpt_get(k, "policy.layout", &nl);
    const float *w = ckpt_get(k, "policy.weights", &nw);
    const float *b = ckpt_get(k, "policy.bounds", &nb);
    if (!layout || nl != sizeof(uint64_t) || *layout != flow_spec_layout(&s) || !w) {
        snprintf(err, errlen, "policy layout or weights missing or inconsistent with its config");
        return -EPROTO;
    }
    if (flow_spec_net_hash(&s) != flow_spec_net_hash(&f->spec) ||
        nw != f->n_params * sizeof(float)) {
        snprintf(err, errlen,
                 "written for another network (obs %d act %d chunk %d width %d depth %d temb %d), "
                 "this one is obs %d act %d chunk %d width %d depth %d temb %d",
                 s.obs_dim, s.act_dim, s.chunk, s.hidden, s.depth, s.temb, f->spec.obs_dim,
                 f->spec.act_dim, f->spec.chunk, f->spec.hidden, f->spec.depth, f->spec.temb);
        return -EINVAL;
    }
    size_t want = (size_t)(2 * s.obs_dim + 2 * s.act_dim) * sizeof(float);
    if (b && nb != want) {
        snprintf(err, errlen, "policy bounds have %zu bytes, expected %zu", nb, want);
        return -EPROTO;
    }
    memcpy(f->params, w, nw);
    if (b && bounds)
        memcpy(bounds, b, nb);
    if (has_bounds)
        *has_bounds = b != NULL;
    return 0;
}

int flow_load_weights(const char *path, struct flow *f, float *bounds, bool *has_bounds, char *err,
                      size_t errlen)
{
    char e[400];
    struct ckpt *k = ckpt_load(path, "CKPT", 0, e, sizeof(e));
    if (!k) {
        snprintf(err, errlen, "%s", e);
        return -EPROTO;
    }
    int rc = load_from(k, f, bounds, has_bounds, e, sizeof(e));
    if (rc)
        snprintf(err, errlen, "%s: %s", path, e);
    ckpt_destroy(&k);
    return rc;
}
