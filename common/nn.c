/*
 * nn.c — layouts, parameter blocks, workspaces and the forward/backward passes of nn.h.
 * Shapes: B rows; a layer maps x (B, in) to z = x W^T + b (B, out), then optional LayerNorm,
 * activation and skip. Elementwise kernels (nn_act.c) work one row at a time, in L1.
 */
#include "common/nn.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/nn_act.h"
#include "common/nn_small.h"
#include "common/rng.h"
#include "common/util.h"

#define NN_MAX_PARAMS (1L << 30)
#define NN_ALIGN_FLOATS 16

struct nn_ctx {
    uint64_t hash;
    int max_batch;
    bool train;                     /* caches allocated */
    int B;                          /* rows of the last nn_forward, 0 before */
    const struct nn *fwd_net;       /* net of the last nn_forward */
    float *x0;                      /* (B, in_dim) copy of the input */
    float *emb;                     /* (B, time_dim) sinusoidal features, when time_dim */
    float *pre[NN_MAX_HIDDEN + 1];  /* (B, out): f'(z + b), or x̂ with LayerNorm */
    float *out[NN_MAX_HIDDEN + 1];  /* (B, out): layer output (== pre for identity layers) */
    float *rstd[NN_MAX_HIDDEN + 1]; /* (B): LayerNorm 1/sqrt(var + eps) */
    float *s0, *s1;                 /* (B, max_width) scratch */
    float *sink;                    /* (2 max_width) nn_backward_input's discarded gradients */
    float *freq;                    /* (time_dim / 2) embedding frequencies */
    float *mem;                     /* the one allocation */
};

// ---- spec ----------------------------------------------------------------------------------

static const char *const act_names[NN_ACT_COUNT] = {"none", "relu", "silu", "mish", "tanh"};

const char *nn_act_name(enum nn_act a)
{
    return (unsigned)a < NN_ACT_COUNT ? act_names[a] : "?";
}

int nn_act_parse(const char *name, enum nn_act *out)
{
    for (int i = 0; name && i < NN_ACT_COUNT; i++) {
        if (!strcmp(name, act_names[i])) {
            *out = (enum nn_act)i;
            return 0;
        }
    }
    return -EINVAL;
}

void nn_spec_mlp(struct nn_spec *s, int in, int out, int width, int depth, enum nn_act act)
{
    memset(s, 0, sizeof(*s));
    s->in_dim = in;
    s->out_dim = out;
    s->n_hidden = depth;
    for (int i = 0; i < depth && i < NN_MAX_HIDDEN; i++)
        s->hidden[i] = width;
    s->act = act;
    s->out_act = NN_ACT_NONE;
    s->time_scale = 1000.0f;
}

void nn_spec_time_embed(struct nn_spec *s, int dim)
{
    nn_spec_mlp(s, 1, dim, 2 * dim, 1, NN_ACT_MISH);
    s->time_dim = dim;
}

static bool dim_ok(int d)
{
    return d >= 1 && d <= NN_MAX_DIM;
}

int nn_spec_check(const struct nn_spec *s, char *err, size_t errlen)
{
    if (!dim_ok(s->in_dim) || !dim_ok(s->out_dim)) {
        return rl_err(-EINVAL, err, errlen,
                      "nn: input and output dims must be in 1..%d (got %d, %d)", NN_MAX_DIM,
                      s->in_dim, s->out_dim);
    }
    if (s->n_hidden < 0 || s->n_hidden > NN_MAX_HIDDEN) {
        return rl_err(-EINVAL, err, errlen, "nn: %d hidden layers, must be 0..%d", s->n_hidden,
                      NN_MAX_HIDDEN);
    }
    for (int i = 0; i < s->n_hidden; i++) {
        if (!dim_ok(s->hidden[i])) {
            return rl_err(-EINVAL, err, errlen, "nn: hidden width %d of layer %d out of 1..%d",
                          s->hidden[i], i, NN_MAX_DIM);
        }
    }
    if ((unsigned)s->act >= NN_ACT_COUNT || (unsigned)s->out_act >= NN_ACT_COUNT) {
        return rl_err(-EINVAL, err, errlen, "nn: unknown activation (%d, %d)", (int)s->act,
                      (int)s->out_act);
    }
    if (s->time_dim < 0 || s->time_dim > NN_MAX_DIM || s->time_dim % 2) {
        return rl_err(-EINVAL, err, errlen, "nn: time_dim %d must be 0 or even, at most %d",
                      s->time_dim, NN_MAX_DIM);
    }
    if (s->time_dim && (s->in_dim != 1 || !isfinite(s->time_scale) || s->time_scale <= 0)) {
        return rl_err(-EINVAL, err, errlen,
                      "nn: a time embedding needs in_dim 1 (got %d) and time_scale > 0", s->in_dim);
    }
    long n = 0;
    int prev = s->time_dim ? s->time_dim : s->in_dim;
    for (int i = 0; i <= s->n_hidden; i++) {
        int w = i < s->n_hidden ? s->hidden[i] : s->out_dim;
        n += (long)prev * w + w + (i < s->n_hidden && s->layer_norm ? 2L * w : 0);
        prev = w;
    }
    if (n > NN_MAX_PARAMS) {
        return rl_err(-EINVAL, err, errlen, "nn: %ld parameters, more than the limit %ld", n,
                      NN_MAX_PARAMS);
    }
    return 0;
}

/* the layer list of a valid spec; returns the parameter count */
static size_t build_layers(const struct nn_spec *s, struct nn_layer *layer)
{
    size_t off = 0;
    int prev = s->time_dim ? s->time_dim : s->in_dim;
    for (int i = 0; i <= s->n_hidden; i++) {
        struct nn_layer *L = &layer[i];
        bool hidden = i < s->n_hidden;
        L->in = prev;
        L->out = hidden ? s->hidden[i] : s->out_dim;
        L->act = hidden ? s->act : s->out_act;
        L->ln = hidden && s->layer_norm;
        L->skip = hidden && s->residual && i > 0 && L->out == L->in;
        L->w = off;
        off += (size_t)L->in * L->out;
        L->b = off;
        off += L->out;
        L->g = L->beta = 0;
        if (L->ln) {
            L->g = off;
            L->beta = off + L->out;
            off += 2 * (size_t)L->out;
        }
        prev = L->out;
    }
    return off;
}

uint64_t nn_spec_hash(const struct nn_spec *s)
{
    struct nn_layer layer[NN_MAX_HIDDEN + 1];
    uint32_t scale_bits = 0;
    float scale = s->time_dim ? s->time_scale : 0.0f;
    uint64_t h = hash_fnv1a_u64(HASH_FNV_INIT, 0x6e6e0001); /* "nn" layout version 1 */

    if (nn_spec_check(s, NULL, 0))
        return 0;
    build_layers(s, layer);
    memcpy(&scale_bits, &scale, sizeof(scale_bits));
    h = hash_fnv1a_u64(h, (uint64_t)s->in_dim);
    h = hash_fnv1a_u64(h, (uint64_t)s->time_dim);
    h = hash_fnv1a_u64(h, scale_bits);
    h = hash_fnv1a_u64(h, (uint64_t)s->n_hidden + 1);
    for (int i = 0; i <= s->n_hidden; i++) {
        const struct nn_layer *L = &layer[i];
        h = hash_fnv1a_u64(h, (uint64_t)L->in);
        h = hash_fnv1a_u64(h, (uint64_t)L->out);
        h = hash_fnv1a_u64(h, (uint64_t)L->act | (uint64_t)L->ln << 8 | (uint64_t)L->skip << 9);
    }
    return h;
}

// ---- net -----------------------------------------------------------------------------------

struct nn *nn_new(const struct nn_spec *s, char *err, size_t errlen)
{
    if (nn_spec_check(s, err, errlen))
        return NULL;
    struct nn *net = calloc(1, sizeof(*net));
    if (!net)
        goto err_nomem;
    net->spec = *s;
    net->n_layers = s->n_hidden + 1;
    net->n_params = build_layers(s, net->layer);
    net->hash = nn_spec_hash(s);
    net->max_width = RL_MAX(s->in_dim, s->time_dim);
    for (int i = 0; i < net->n_layers; i++)
        net->max_width = RL_MAX(net->max_width, net->layer[i].out);
    net->params = calloc(net->n_params, sizeof(float));
    net->grads = calloc(net->n_params, sizeof(float));
    if (!net->params || !net->grads)
        goto err_free_net;
    return net;

err_free_net:
    nn_destroy(&net);
err_nomem:
    rl_err(0, err, errlen, "nn: out of memory");
    return NULL;
}

void nn_destroy(struct nn **p)
{
    if (!p || !*p)
        return;
    free((*p)->params);
    free((*p)->grads);
    free(*p);
    *p = NULL;
}

void nn_init(struct nn *net, struct rng *r)
{
    for (int i = 0; i < net->n_layers; i++) {
        const struct nn_layer *L = &net->layer[i];
        double a = 1.0 / sqrt((double)L->in);
        float *w = net->params + L->w;
        for (size_t k = 0; k < (size_t)L->in * L->out; k++)
            w[k] = (float)rng_range(r, -a, a);
        for (int k = 0; k < L->out; k++)
            net->params[L->b + k] = (float)rng_range(r, -a, a);
        if (L->ln) {
            for (int k = 0; k < L->out; k++) {
                net->params[L->g + k] = 1.0f;
                net->params[L->beta + k] = 0.0f;
            }
        }
    }
}

void nn_zero_grad(struct nn *net)
{
    memset(net->grads, 0, net->n_params * sizeof(float));
}

void nn_copy_params(struct nn *dst, const struct nn *src)
{
    RL_ASSERT(dst->hash == src->hash && dst->n_params == src->n_params);
    memcpy(dst->params, src->params, src->n_params * sizeof(float));
}

double nn_flops_forward(const struct nn *net, int B)
{
    double f = 0;
    for (int i = 0; i < net->n_layers; i++)
        f += 2.0 * B * net->layer[i].in * net->layer[i].out;
    return f;
}

double nn_flops_backward(const struct nn *net, int B, bool with_d_in)
{
    double f = 2 * nn_flops_forward(net, B);
    if (!with_d_in)
        f -= 2.0 * B * net->layer[0].in * net->layer[0].out;
    return f;
}

void nn_copy_cols(float *dst, int ld_dst, const float *src, int ld_src, int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        memcpy(dst + (size_t)i * ld_dst, src + (size_t)i * ld_src, (size_t)cols * sizeof(float));
}

// ---- workspace -----------------------------------------------------------------------------

static size_t round_up(size_t n)
{
    return (n + NN_ALIGN_FLOATS - 1) / NN_ALIGN_FLOATS * NN_ALIGN_FLOATS;
}

static bool is_identity(const struct nn_layer *L)
{
    return L->act == NN_ACT_NONE && !L->ln && !L->skip;
}

/* carve the buffers of ctx from base (NULL: only count); returns the floats needed */
static size_t ctx_carve(struct nn_ctx *c, const struct nn *net, float *base)
{
    size_t B = (size_t)c->max_batch;
    size_t off = 0;
#define CARVE(ptr, n)                                                                              \
    do {                                                                                           \
        if (base)                                                                                  \
            (ptr) = base + off;                                                                    \
        off += round_up(n);                                                                        \
    } while (0)
    CARVE(c->s0, B * net->max_width);
    CARVE(c->s1, B * net->max_width);
    CARVE(c->freq, (size_t)net->spec.time_dim / 2 + 1);
    if (c->train) {
        CARVE(c->sink, 2 * (size_t)net->max_width);
        CARVE(c->x0, B * net->spec.in_dim);
        if (net->spec.time_dim)
            CARVE(c->emb, B * net->spec.time_dim);
        for (int i = 0; i < net->n_layers; i++) {
            const struct nn_layer *L = &net->layer[i];
            CARVE(c->pre[i], B * L->out);
            if (is_identity(L))
                c->out[i] = c->pre[i];
            else
                CARVE(c->out[i], B * L->out);
            if (L->ln)
                CARVE(c->rstd[i], B);
        }
    }
#undef CARVE
    return off;
}

static struct nn_ctx *ctx_new(const struct nn *net, int max_batch, bool train)
{
    if (max_batch < 1 || max_batch > (1 << 24))
        return NULL;
    struct nn_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->hash = net->hash;
    c->max_batch = max_batch;
    c->train = train;
    size_t n = ctx_carve(c, net, NULL);
    void *mem = NULL;
    if (posix_memalign(&mem, 64, n * sizeof(float))) {
        free(c);
        return NULL;
    }
    c->mem = mem;
    memset(c->mem, 0, n * sizeof(float));
    ctx_carve(c, net, c->mem);
    int half = net->spec.time_dim / 2;
    for (int k = 0; k < half; k++)
        c->freq[k] = net->spec.time_scale * (float)exp(-log(10000.0) * k / half);
    return c;
}

struct nn_ctx *nn_ctx_new(const struct nn *net, int max_batch)
{
    return ctx_new(net, max_batch, true);
}

struct nn_ctx *nn_ctx_new_infer(const struct nn *net, int max_batch)
{
    return ctx_new(net, max_batch, false);
}

void nn_ctx_destroy(struct nn_ctx **p)
{
    if (!p || !*p)
        return;
    free((*p)->mem);
    free(*p);
    *p = NULL;
}

// ---- passes --------------------------------------------------------------------------------

/* emb (B, 2·half) = [sin(ω_k t), cos(ω_k t)] for t = in[i] */
static void time_fwd(const float *freq, int half, const float *t, float *emb, int B)
{
    for (int i = 0; i < B; i++) {
        float *e = emb + (size_t)i * 2 * half;
        for (int k = 0; k < half; k++) {
            double a = (double)freq[k] * t[i];
            e[k] = (float)sin(a);
            e[half + k] = (float)cos(a);
        }
    }
}

/* dt[i] = Σ_k ω_k (d_emb[k] cos − d_emb[half+k] sin) */
static void time_bwd(const float *freq, int half, const float *emb, const float *d_emb, float *dt,
                     int B)
{
    for (int i = 0; i < B; i++) {
        const float *e = emb + (size_t)i * 2 * half;
        const float *d = d_emb + (size_t)i * 2 * half;
        float s = 0;
        for (int k = 0; k < half; k++)
            s += freq[k] * (d[k] * e[half + k] - d[half + k] * e[k]);
        dt[i] = s;
    }
}

/*
 * One layer forward (layer_fwd: the GEMM, then layer_post): z = x W^T + b in pre, y = act(..)
 * (+ x). When caching (pre != y), pre
 * keeps what backward needs: act'(z), or x̂ and rstd with LayerNorm. With pre == y (inference,
 * identity layers) nothing is kept; rstd is NULL unless caching LayerNorm.
 */
static void layer_post(const struct nn *net, const struct nn_layer *L, const float *x, float *pre,
                       float *y, float *rstd, int B)
{
    const float *p = net->params;
    int n = L->out;
    for (int i = 0; i < B; i++) {
        float *z = pre + (size_t)i * n;
        float *yr = y + (size_t)i * n;
        const float *xr = L->skip ? x + (size_t)i * n : NULL; /* skip: in == out */
        if (L->ln) {
            float r = nn_ln_fwd_row(z, p + L->b, p + L->g, p + L->beta, yr, n);
            if (rstd)
                rstd[i] = r;
            nn_act_fwd(L->act, yr, yr, n);
            if (xr)
                nn_add_row(yr, xr, n);
        } else if (z != yr) {
            nn_act_fwd_bias_d(L->act, z, p + L->b, xr, yr, n);
        } else {
            nn_act_fwd_bias(L->act, z, p + L->b, xr, yr, n);
        }
    }
}

static void layer_fwd(const struct nn *net, const struct nn_layer *L, const float *x, float *pre,
                      float *y, float *rstd, int B)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, L->out, L->in, 1.0f, x, L->in,
                net->params + L->w, L->in, 0.0f, pre, L->out);
    layer_post(net, L, x, pre, y, rstd, B);
}

/*
 * One layer backward: dz from g (dz may equal g for identity layers), gradient accumulation,
 * and dx = dz W (+ dx when the layer has a skip: then the caller passed dx == g). Nullable: dx.
 * With sink (2·out floats) the parameter gradients are skipped: the elementwise ones go to
 * sink, the weight GEMM is not done (input gradients only).
 */
static void layer_bwd(struct nn *net, const struct nn_ctx *ctx, int li, const float *g, float *dz,
                      float *dx, float *sink)
{
    const struct nn_layer *L = &net->layer[li];
    const struct nn_spec *s = &net->spec;
    const float *x = li ? ctx->out[li - 1] : s->time_dim ? ctx->emb : ctx->x0;
    const float *pre = ctx->pre[li], *p = net->params;
    int n = L->out, B = ctx->B;
    float *gb = sink ? sink : net->grads + L->b;
    float *gg = sink ? sink : net->grads + L->g, *gbeta = sink ? sink + n : net->grads + L->beta;
    for (int i = 0; dz == g && !sink && i < B; i++)
        nn_add_row(gb, g + (size_t)i * n, n);
    for (int i = 0; dz != g && i < B; i++) {
        size_t o = (size_t)i * n;
        if (L->ln) {
            nn_ln_bwd_row(L->act, pre + o, ctx->rstd[li][i], p + L->g, p + L->beta, g + o, dz + o,
                          gg, gbeta, n);
            nn_add_row(gb, dz + o, n);
        } else {
            nn_mul_acc_row(dz + o, g + o, pre + o, gb, n);
        }
    }
    if (!sink)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, L->in, B, 1.0f, dz, n, x, L->in,
                    1.0f, net->grads + L->w, L->in);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, L->in, n, 1.0f, dz, n, p + L->w,
                    L->in, L->skip ? 1.0f : 0.0f, dx, L->in);
}

const float *nn_forward_rows(const struct nn *net, struct nn_ctx *ctx, const float *in, int r0,
                             int B)
{
    RL_ASSERT(ctx->train && ctx->hash == net->hash);
    RL_ASSERT(r0 >= 0 && B >= 1 && r0 + B <= ctx->max_batch);
    const struct nn_spec *s = &net->spec;
    size_t r = (size_t)r0;
    float *x0 = ctx->x0 + r * s->in_dim;
    memcpy(x0, in, (size_t)B * s->in_dim * sizeof(float));
    const float *x = x0;
    if (s->time_dim) {
        float *emb = ctx->emb + r * s->time_dim;
        time_fwd(ctx->freq, s->time_dim / 2, x0, emb, B);
        x = emb;
    }
    for (int i = 0; i < net->n_layers; i++) {
        size_t o = r * net->layer[i].out;
        float *rstd = ctx->rstd[i] ? ctx->rstd[i] + r : NULL;
        layer_fwd(net, &net->layer[i], x, ctx->pre[i] + o, ctx->out[i] + o, rstd, B);
        x = ctx->out[i] + o;
    }
    ctx->B = r0 + B;
    ctx->fwd_net = net;
    return x;
}

const float *nn_forward(const struct nn *net, struct nn_ctx *ctx, const float *in, int B)
{
    return nn_forward_rows(net, ctx, in, 0, B);
}

/* backward of the last nn_forward; sink as layer_bwd */
static void backward(struct nn *net, struct nn_ctx *ctx, const float *d_out, float *d_in,
                     float *sink)
{
    RL_ASSERT(ctx->train && ctx->fwd_net == net && ctx->hash == net->hash && ctx->B > 0);
    const struct nn_spec *s = &net->spec;
    const float *g = d_out;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        const struct nn_layer *L = &net->layer[i];
        /* identity layers use g as dz (g is never written then) */
        float *dz = is_identity(L) ? (float *)g : (g == ctx->s0 ? ctx->s1 : ctx->s0);
        float *dx = dz == ctx->s0 ? ctx->s1 : ctx->s0;
        if (L->skip)
            dx = (float *)g; /* a scratch buffer: skip layers are never the output layer */
        else if (i == 0 && !d_in)
            dx = NULL;
        else if (i == 0 && !s->time_dim)
            dx = d_in;
        layer_bwd(net, ctx, i, g, dz, dx, sink);
        g = dx;
    }
    if (s->time_dim && d_in)
        time_bwd(ctx->freq, s->time_dim / 2, ctx->emb, g, d_in, ctx->B);
}

void nn_backward(struct nn *net, struct nn_ctx *ctx, const float *d_out, float *d_in)
{
    backward(net, ctx, d_out, d_in, NULL);
}

void nn_backward_input(const struct nn *net, struct nn_ctx *ctx, const float *d_out, float *d_in)
{
    /* the net is only read: every gradient write goes to the ctx's sink */
    RL_ASSERT(d_in);
    backward((struct nn *)net, ctx, d_out, d_in, ctx->sink);
}

// ---- inference: plain, or small batches with pre-packed weights -----------------------------

struct nn_pack {
    uint64_t hash;
    float *w[NN_MAX_HIDDEN + 1]; /* each layer's W packed (nn_small.h) */
    float *mem;
};

/* the forward pass of nn_infer (pk NULL) and nn_infer_packed (pk's weights, B <= its rows) */
static void infer(const struct nn *net, const struct nn_pack *pk, struct nn_ctx *ctx,
                  const float *in, float *out, int B)
{
    RL_ASSERT(ctx->hash == net->hash && (!pk || pk->hash == net->hash));
    RL_ASSERT(B >= 1 && B <= ctx->max_batch);
    const struct nn_spec *s = &net->spec;
    const float *x = in;
    if (s->time_dim) {
        time_fwd(ctx->freq, s->time_dim / 2, in, ctx->s0, B);
        x = ctx->s0;
    }
    for (int i = 0; i < net->n_layers; i++) {
        const struct nn_layer *L = &net->layer[i];
        float *y = i == net->n_layers - 1 ? out : x == ctx->s0 ? ctx->s1 : ctx->s0;
        if (pk) {
            nn_small_gemm(x, B, L->in, pk->w[i], L->out, y);
            layer_post(net, L, x, y, y, NULL, B);
        } else {
            layer_fwd(net, L, x, y, y, NULL, B);
        }
        x = y;
    }
}

void nn_infer(const struct nn *net, struct nn_ctx *ctx, const float *in, float *out, int B)
{
    infer(net, NULL, ctx, in, out, B);
}

struct nn_pack *nn_pack_new(const struct nn *net)
{
    if (!nn_small_available())
        return NULL;
    struct nn_pack *p = calloc(1, sizeof(*p));
    size_t n = 0;
    for (int i = 0; i < net->n_layers; i++)
        n += nn_small_packed_size(net->layer[i].out, net->layer[i].in);
    if (!p || !(p->mem = malloc(n * sizeof(float)))) {
        free(p);
        return NULL;
    }
    p->hash = net->hash;
    n = 0;
    for (int i = 0; i < net->n_layers; i++) {
        p->w[i] = p->mem + n;
        n += nn_small_packed_size(net->layer[i].out, net->layer[i].in);
    }
    nn_pack_update(p, net);
    return p;
}

void nn_pack_update(struct nn_pack *p, const struct nn *net)
{
    RL_ASSERT(p->hash == net->hash);
    for (int i = 0; i < net->n_layers; i++) {
        const struct nn_layer *L = &net->layer[i];
        nn_small_pack(net->params + L->w, L->out, L->in, p->w[i]);
    }
}

void nn_pack_destroy(struct nn_pack **p)
{
    if (!p || !*p)
        return;
    free((*p)->mem);
    free(*p);
    *p = NULL;
}

void nn_infer_packed(const struct nn *net, const struct nn_pack *pk, struct nn_ctx *ctx,
                     const float *in, float *out, int B)
{
    infer(net, pk && B <= NN_PACK_MAX_ROWS ? pk : NULL, ctx, in, out, B);
}
