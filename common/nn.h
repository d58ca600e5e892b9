/*
 * nn.h — small float32 multilayer networks with explicit forward/backward: Linear, LayerNorm,
 * ReLU/SiLU/Mish/Tanh, residual hidden layers, sinusoidal time embedding. Every matrix product
 * goes through cblas_sgemm; buffers are contiguous row-major (B rows, one per sample).
 *
 * A `struct nn` holds a layout and ONE contiguous parameter block plus ONE gradient block of
 * the same layout (copy / checkpoint / broadcast = memcpy of `params`). Activations live in a
 * `struct nn_ctx` (workspace for up to max_batch rows), so one net can be run on several
 * batches, each with its own ctx, and backward through each. Nothing allocates after *_new.
 * Thread-safety: forward/infer only read the net, so threads may share a net if each uses its
 * own ctx; backward writes net->grads (one thread at a time).
 *
 * Layout built from a `struct nn_spec` (L = n_hidden hidden layers, widths h[0..L)):
 *   [time_dim > 0: input is one scalar t per row → sinusoidal features (time_dim)]
 *   hidden l:  z = x W^T + b;  u = LayerNorm(z) if layer_norm else z;  y = act(u)
 *              and, if residual and l > 0 and h[l] == h[l-1]:  y = x + act(u)  (skip)
 *   output:    y = out_act(x W^T + b)
 * So "residual MLP 3×512" = Linear(in,512)+act, then two skip layers x + act(W x + b), then
 * Linear(512,out): the same 2 GEMMs of 512×512 per row as the plain MLP, plus identity paths.
 * W is (out, in) row-major as in PyTorch; init: W and b ~ U(±1/sqrt(in)), LN gain 1, bias 0.
 *
 * Usage (twin critic with ∇ₐQ; input rows are [obs (S) | action (A)]):
 *   struct nn_spec sp;
 *   nn_spec_mlp(&sp, S + A, 1, 256, 3, NN_ACT_SILU);
 *   struct nn *q = nn_new(&sp, err, sizeof(err));            // NULL + message on a bad spec
 *   nn_init(q, &rng);
 *   struct nn_ctx *cx = nn_ctx_new(q, 256);
 *   nn_zero_grad(q);
 *   const float *qv = nn_forward(q, cx, in, B);              // (B,1), borrowed from cx
 *   for (i...) dq[i] = 2 * (qv[i] - target[i]) / B;          // dL/dQ
 *   nn_backward(q, cx, dq, d_in);                            // grads += ..., d_in (B,S+A)
 *   // ∇ₐQ of row i is d_in + i*(S+A) + S, A floats; d_in may be NULL when not needed
 *   optim_step(opt, q->params, q->grads);                    // common/optim.h
 *   nn_copy_params(q_target, q);  or  optim_polyak(q_target->params, q->params, n, tau);
 * Actor side: struct nn_ctx *ci = nn_ctx_new_infer(pol, n_envs); nn_infer(pol, ci, obs, act, B).
 * Composition (flow net): t-subnet forward → copy its output into columns of the trunk input
 * (nn_copy_cols) → trunk forward/backward with d_in → copy the embedding columns of d_in out
 * → t-subnet backward with them as d_out.
 */
#ifndef RL_NN_H
#define RL_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rng;

#define NN_MAX_HIDDEN 15
#define NN_MAX_DIM 65536
#define NN_LN_EPS 1e-5f

enum nn_act { NN_ACT_NONE = 0, NN_ACT_RELU, NN_ACT_SILU, NN_ACT_MISH, NN_ACT_TANH, NN_ACT_COUNT };

/* The shape of a network (plain data; fill with nn_spec_mlp, then adjust fields). */
struct nn_spec {
    int in_dim;                /* input columns; 1 when time_dim > 0 */
    int out_dim;               /* output columns */
    int n_hidden;              /* hidden layers, 0..NN_MAX_HIDDEN */
    int hidden[NN_MAX_HIDDEN]; /* their widths */
    enum nn_act act;           /* hidden activation */
    enum nn_act out_act;       /* output activation (NN_ACT_NONE = linear output) */
    bool residual;             /* skip connections on hidden layers l > 0 of equal width */
    bool layer_norm;           /* LayerNorm (gain, bias) before every hidden activation */
    int time_dim;              /* > 0: sinusoidal embedding of a scalar input (even) */
    float time_scale;          /* embedding frequencies: time_scale * 10000^(-k/(time_dim/2)) */
};

/* One Linear (+LayerNorm) (+activation) (+skip) step; offsets index net->params. */
struct nn_layer {
    int in, out;
    enum nn_act act;
    bool ln;
    bool skip;
    size_t w, b;    /* W (out, in), b (out) */
    size_t g, beta; /* LayerNorm gain and bias (out), when ln */
};

/* A network: layout + parameters + gradients. Fields are read-only except params/grads data. */
struct nn {
    struct nn_spec spec;
    int n_layers; /* n_hidden + 1 */
    struct nn_layer layer[NN_MAX_HIDDEN + 1];
    int max_width;   /* max over input, embedding and layer widths */
    size_t n_params; /* floats in params (and in grads) */
    uint64_t hash;   /* nn_spec_hash of spec */
    float *params;   /* owned, n_params floats */
    float *grads;    /* owned, n_params floats, same layout */
};

struct nn_ctx;

/*
 * Fill *s as a plain MLP: in → depth hidden layers of `width` with `act` → out; no LayerNorm,
 * no residual, linear output, no time embedding (time_scale preset to 1000 for t in [0,1]).
 */
void nn_spec_mlp(struct nn_spec *s, int in, int out, int width, int depth, enum nn_act act);

/* Fill *s as the flow time embedding: t → sinusoidal(dim) → Linear(dim, 2·dim) → Mish →
 * Linear(2·dim, dim); in_dim 1, time_scale 1000 (for t in [0, 1]). */
void nn_spec_time_embed(struct nn_spec *s, int dim);

/*
 * Check a spec (outside input, e.g. from a config). Returns 0, or -EINVAL with a message in err.
 * Nullable: err (when errlen is 0).
 */
int nn_spec_check(const struct nn_spec *s, char *err, size_t errlen);

/* 64-bit FNV-1a hash of the layout: equal ⇔ interchangeable parameter blocks; 0 if invalid. */
uint64_t nn_spec_hash(const struct nn_spec *s);

/* Activation name ("none", "relu", "silu", "mish", "tanh") and its parser (-EINVAL if unknown). */
const char *nn_act_name(enum nn_act a);
int nn_act_parse(const char *name, enum nn_act *out);

/*
 * A network of layout *s with zeroed parameters and gradients (call nn_init). Returns NULL with
 * a message in err on a bad spec or out of memory. Caller owns; free with nn_destroy().
 */
struct nn *nn_new(const struct nn_spec *s, char *err, size_t errlen);

/* Free the net and set *p = NULL. Nullable: p, *p. */
void nn_destroy(struct nn **p);

/* PyTorch-like init from r: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); LN gain 1, bias 0. */
void nn_init(struct nn *net, struct rng *r);

/* Set every gradient to 0. */
void nn_zero_grad(struct nn *net);

/* dst->params = src->params (layouts must match: programmer error otherwise). */
void nn_copy_params(struct nn *dst, const struct nn *src);

/* FLOPs (2·M·N·K per GEMM) of a forward, and of a backward (with or without d_in), batch B. */
double nn_flops_forward(const struct nn *net, int B);
double nn_flops_backward(const struct nn *net, int B, bool with_d_in);

/*
 * A training workspace for up to max_batch rows, usable with net and any net of the same
 * layout (hash). Returns NULL on bad arguments or out of memory; free with nn_ctx_destroy().
 */
struct nn_ctx *nn_ctx_new(const struct nn *net, int max_batch);

/* A smaller workspace that only supports nn_infer (no caches). Same ownership as nn_ctx_new. */
struct nn_ctx *nn_ctx_new_infer(const struct nn *net, int max_batch);

/* Free the workspace and set *p = NULL. Nullable: p, *p. */
void nn_ctx_destroy(struct nn_ctx **p);

/*
 * Forward B rows (1 <= B <= max_batch) of in (B, in_dim), caching what backward needs in ctx
 * (the input is copied). Returns the output (B, out_dim), borrowed from ctx, valid until the
 * next nn_forward on ctx.
 */
const float *nn_forward(const struct nn *net, struct nn_ctx *ctx, const float *in, int B);

/*
 * nn_forward of B rows in (B, in_dim) into rows [r0, r0 + B) of ctx's caches, r0 + B <=
 * max_batch: a batch assembled in parts (e.g. rows that become ready at different times).
 * Afterwards ctx holds a forward of r0 + B rows for nn_backward: fill the parts from row 0
 * upward without gaps. Returns the part's output (B, out_dim), borrowed as nn_forward's.
 */
const float *nn_forward_rows(const struct nn *net, struct nn_ctx *ctx, const float *in, int r0,
                             int B);

/*
 * Backward of the last nn_forward on ctx (same net, parameters unchanged since): grads +=
 * dL/dparams, and, when d_in is not NULL, d_in (B, in_dim) = dL/din (overwritten; skipping it
 * saves the first layer's input GEMM). d_out is (B, out_dim) and must not overlap d_in. May be
 * called more than once per forward (gradients add up). Nullable: d_in.
 */
void nn_backward(struct nn *net, struct nn_ctx *ctx, const float *d_out, float *d_in);

/*
 * nn_backward for the input gradient only: d_in (B, in_dim) = dL/din of the last nn_forward on
 * ctx, without the parameter gradients (the weight GEMMs are skipped; net->grads is not
 * touched). Same shapes and aliasing rules as nn_backward; d_in must not be NULL.
 */
void nn_backward_input(const struct nn *net, struct nn_ctx *ctx, const float *d_out, float *d_in);

/*
 * Inference only: out (B, out_dim) = net(in), 1 <= B <= max_batch; out must not overlap in.
 * Uses ctx as scratch without touching the caches of nn_forward (a training ctx works too).
 */
void nn_infer(const struct nn *net, struct nn_ctx *ctx, const float *in, float *out, int B);

/*
 * Small-batch inference (an actor's few envs): a copy of net's weights pre-packed for a
 * register-blocked kernel (AVX2 + FMA), about twice OpenBLAS's speed at 8 rows, where a
 * general sgemm re-packs all weights on every call. nn_pack_new returns NULL when this CPU
 * lacks the kernel (or out of memory): nn_infer_packed then simply calls nn_infer. After any
 * change of net->params call nn_pack_update (the pack is a copy). Caller owns; free with
 * nn_pack_destroy() (NULL-safe). Results equal nn_infer's up to float rounding.
 */
#define NN_PACK_MAX_ROWS 32 /* larger batches go to sgemm (as fast from about 32 rows) */
struct nn_pack;
struct nn_pack *nn_pack_new(const struct nn *net);
void nn_pack_update(struct nn_pack *p, const struct nn *net);
void nn_pack_destroy(struct nn_pack **p);

/* nn_infer, through pk when pk is not NULL and B <= NN_PACK_MAX_ROWS. Nullable: pk. */
void nn_infer_packed(const struct nn *net, const struct nn_pack *pk, struct nn_ctx *ctx,
                     const float *in, float *out, int B);

/* Copy a rows×cols block between row-major matrices with row strides ld_dst, ld_src (floats). */
void nn_copy_cols(float *dst, int ld_dst, const float *src, int ld_src, int rows, int cols);

#endif
