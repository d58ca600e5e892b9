/*
 * flow.h — the flow-matching policy of RLDT (learner/algo/README.md §1, §2, §6), shared by
 * actors (sampling) and the learner (pre-training, fine-tuning).
 *
 * Velocity network v(x, t | s) for a flattened action chunk x (D = H·A), time t ∈ [0, 1] and a
 * (normalised) observation s (O):
 *   temb = Linear(2E, E) ∘ Mish ∘ Linear(E, 2E) ∘ sinusoidal_E(t)       (E = flow_temb, 16)
 *   v    = trunk([x | temb | s])   residual MLP, flow_depth × flow_hidden ReLU, linear D output
 * The trunk input columns are, in this order: x (D), temb (E), s (O).
 * ONE flat parameter block holds both nets: [time-net params | trunk params], each in the
 * layout of common/nn.h (per layer W (out, in) then b). flow->tnet and flow->trunk borrow
 * their storage from flow->params / flow->grads, so copy / EMA / Polyak / broadcast of a whole
 * policy is one operation on n_params floats (optim_ema(dst->params, src->params, n, d)).
 *
 * Sampling: N Euler steps, t_k = k/N, x_{k+1} = x_k + v(x_k, t_k | s)/N; the chain x_0..x_N is
 * kept ((N+1), B, D); the action is x_N clipped to [-1, 1]. Deterministic: x_0 = 0.
 * Expected target: â(x_t) = x_t + (1 − t) v(x_t, t | s).
 *
 * A struct flow is not thread-safe while being trained; sampling only reads it, so threads
 * may share one if each has its own struct flow_ctx.
 */
#ifndef RL_FLOW_H
#define RL_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/policy.h"

struct nn;
struct nn_pack;
struct rl_config;
struct rng;

/* Shape of a flow policy (plain data). */
struct flow_spec {
    int obs_dim; /* O */
    int act_dim; /* A */
    int chunk;   /* H; D = H·A */
    int hidden;  /* trunk width (flow_hidden) */
    int depth;   /* trunk hidden layers (flow_depth) */
    int temb;    /* time embedding size E, even (flow_temb) */
    int steps;   /* Euler steps N (flow_steps) */
};

struct flow {
    struct flow_spec spec;
    int D;            /* chunk · act_dim */
    int in_dim;       /* trunk input: D + temb + obs_dim */
    struct nn *tnet;  /* time embedding net (storage borrowed from params/grads) */
    struct nn *trunk; /* velocity trunk (storage borrowed from params/grads) */
    size_t n_params;  /* floats in params and in grads */
    uint64_t layout;  /* flow_spec_layout(&spec) */
    float *params;    /* owned: [tnet | trunk] */
    float *grads;     /* owned, same layout */
};

struct flow_ctx;

/* The actor-side sampler of kind "flow" (policy_ops of common/policy.h); see flow.c for the
 * exploration noise. */
extern const struct policy_ops flow_policy_ops;

/*
 * Fill *s from the [flow] keys of c for a task of obs_dim/act_dim and chunk H. Returns 0, or
 * -EINVAL with a reason in err when a size is out of range.
 */
int flow_spec_from_config(struct flow_spec *s, const struct rl_config *c, int obs_dim, int act_dim,
                          int chunk, char *err, size_t errlen);

/* Check a spec (outside input). 0 or -EINVAL with a reason in err. Nullable: err. */
int flow_spec_check(const struct flow_spec *s, char *err, size_t errlen);

/*
 * Layout hash of a policy weight block: tags the kind "flow" and covers both nets, N and the
 * dims; equal ⇔ interchangeable blocks for the same sampler. 0 for an invalid spec.
 */
uint64_t flow_spec_layout(const struct flow_spec *s);

/* The same without N: weights trained with one N can be sampled with another (t is continuous). */
uint64_t flow_spec_net_hash(const struct flow_spec *s);

/* A flow of shape *s with zero parameters (call flow_init). NULL with a reason in err on a bad
 * spec or out of memory. Caller owns; free with flow_destroy(). */
struct flow *flow_new(const struct flow_spec *s, char *err, size_t errlen);

/* Free and set *p = NULL. Nullable: p, *p. */
void flow_destroy(struct flow **p);

/* PyTorch-like init of both nets from r (common/nn.h nn_init). */
void flow_init(struct flow *f, struct rng *r);

/* Zero the gradient block. */
void flow_zero_grad(struct flow *f);

/* dst->params = src->params (same layout: programmer error otherwise). */
void flow_copy_params(struct flow *dst, const struct flow *src);

/* FLOPs of one velocity evaluation of B rows (both nets), and of a whole N-step sample. */
double flow_flops_velocity(const struct flow *f, int B);
double flow_flops_sample(const struct flow *f, int B);

/*
 * A workspace for up to max_batch rows. Training contexts (train = true) support
 * flow_forward/flow_backward as well as inference; inference ones are smaller. NULL on bad
 * arguments or out of memory. Caller owns; free with flow_ctx_destroy().
 */
struct flow_ctx *flow_ctx_new(const struct flow *f, int max_batch, bool train);

/* Free and set *p = NULL. Nullable: p, *p. */
void flow_ctx_destroy(struct flow_ctx **p);

/*
 * Training forward of B rows: x (B, D), t (B), obs (B, O) → v (B, D), cached for
 * flow_backward. Returns v, borrowed from ctx until the next flow_forward on it.
 */
const float *flow_forward(const struct flow *f, struct flow_ctx *ctx, const float *x,
                          const float *t, const float *obs, int B);

/*
 * Backward of the last flow_forward on ctx: f->grads += dL/dparams (trunk and time net) for
 * d_v (B, D) = dL/dv; d_x (B, D) = dL/dx and d_t (B) = dL/dt when not NULL (overwritten).
 * Nullable: d_x, d_t.
 */
void flow_backward(struct flow *f, struct flow_ctx *ctx, const float *d_v, float *d_x, float *d_t);

/*
 * After flow_backward on ctx: d_obs (B, obs_dim) = dL/dobs of that backward (overwritten), the
 * gradient an image encoder in front of the flow's observation input receives.
 */
void flow_backward_obs(const struct flow *f, const struct flow_ctx *ctx, float *d_obs);

/* Inference: v (B, D) = v(x, t | obs) without caches (any ctx). v must not overlap inputs. */
void flow_velocity(const struct flow *f, struct flow_ctx *ctx, const float *x, const float *t,
                   const float *obs, float *v, int B);

/*
 * Euler sampling of B rows: chain ((N+1), B, D) holds x_0 in its first B·D floats on entry;
 * fills x_1..x_N (one sgemm per trunk layer per step for all rows). obs (B, O).
 */
void flow_sample(const struct flow *f, struct flow_ctx *ctx, const float *obs, int B, float *chain);

/*
 * flow_sample on a training ctx that is also flow_forward of each row at its drawn step:
 * row i at x_{step[i]} (its own chain), t = step[i]/N, 0 <= step[i] < N. The Euler pass
 * computes those velocities anyway, so the forward costs no extra trunk evaluation (the drawn
 * rows of each step go through the cached forward, the others through inference). Returns v
 * (B, D) in row order, borrowed from ctx until its next forward; flow_backward then takes d_v
 * (and gives d_x, d_t) in row order as after flow_forward. The chain equals flow_sample's up
 * to float rounding.
 */
const float *flow_sample_forward(const struct flow *f, struct flow_ctx *ctx, const float *obs,
                                 int B, float *chain, const int *step);

/* â (B, D) = x + (1 − t) v, t per row (B). â may alias x or v. */
void flow_expected_target(const float *x, const float *t, const float *v, int B, int D,
                          float *ahat);

/*
 * Actions from a finished chain ((N+1), B, D): a = clip(x_N, −1, 1) when r is NULL, else the
 * exploration of learner/algo/README.md §6, a = clip(x_N + ‖x_N − â_{N−2}‖ ξ, −1, 1),
 * ξ ~ N(0, I_D) from r, â_{N−2} the expected target at step N−2 of the same chain (N = 1: no
 * noise). Nullable: r.
 */
void flow_chain_actions(const float *chain, int N, int B, int D, struct rng *r, float *a);

/*
 * Save a policy checkpoint that policy_load() and flow_load_weights() read: sections
 * learner.config (cfg_text), policy.kind "flow", policy.layout, policy.weights and, when
 * bounds is not NULL, policy.bounds = [obs_lo (O) | obs_hi (O) | act_lo (A) | act_hi (A)].
 * Written atomically (common/ckpt.h). 0 or -errno with a reason in err. Nullable: bounds.
 */
int flow_policy_save(const char *path, const char *cfg_text, const struct flow *f,
                     const float *bounds, char *err, size_t errlen);

/*
 * Load the weights of a flow policy checkpoint (pre-trained or learner) into f: the file's
 * networks must equal f's (flow_spec_net_hash; N may differ). bounds (2O + 2A floats) receives
 * policy.bounds when present; *has_bounds says whether it was. 0, or -errno with a reason in
 * err (unreadable, corrupted, not a flow policy, other shape). Nullable: bounds, has_bounds.
 */
int flow_load_weights(const char *path, struct flow *f, float *bounds, bool *has_bounds, char *err,
                      size_t errlen);

#endif
