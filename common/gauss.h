/*
 * gauss.h — the tanh-squashed Gaussian policy of SAC, shared by actors (sampling) and the
 * learner (reparameterised sampling, log-probability and its backward).
 *
 * The policy network (an MLP from common/nn.h) maps an observation to 2D outputs per row:
 * [m (D) | o (D)], the Gaussian mean and a raw log-std. The log-std is soft-clamped,
 *   ls = LS_MIN + (LS_MAX − LS_MIN) · (tanh(o) + 1) / 2 ∈ (LS_MIN, LS_MAX),
 * which keeps a gradient everywhere (a hard clamp zeroes it outside the range). Then
 *   u = m + exp(ls) ⊙ ε,  ε ~ N(0, I);   a = tanh(u) ∈ (−1, 1)^D;
 *   log π(a|s) = Σ_j [ −ε_j²/2 − ls_j − log(2π)/2 − log(1 − tanh²(u_j)) ],
 * with log(1 − tanh² u) = 2 (log 2 − u − softplus(−2u)) evaluated in the stable form.
 * The deterministic action is tanh(m).
 *
 * The row functions below are pure functions of caller buffers (no state, thread-safe).
 * gauss_policy_ops is the actor-side sampler of kind "gauss" (common/policy.h).
 */
#ifndef RL_GAUSS_H
#define RL_GAUSS_H

#include <stddef.h>
#include <stdint.h>

#include "common/policy.h"

struct nn_spec;
struct rl_config;

#define GAUSS_LOG_STD_MIN (-5.0f)
#define GAUSS_LOG_STD_MAX 2.0f

/* The actor-side sampler of kind "gauss" (policy_ops of common/policy.h). */
extern const struct policy_ops gauss_policy_ops;

/*
 * Fill *s with the policy network for obs_dim inputs and D = chunk·act_dim action columns:
 * obs → sac_layers × sac_hidden ReLU → 2D linear outputs (config keys of [sac]). Returns 0, or
 * -EINVAL with a reason in err for bad sizes.
 */
int gauss_spec(struct nn_spec *s, const struct rl_config *c, int obs_dim, int D, char *err,
               size_t errlen);

/* Layout hash of policy weight blocks for a network hash (tags the kind "gauss"). */
uint64_t gauss_layout(uint64_t net_hash);

/* The soft-clamped log-std for a raw output o. */
float gauss_log_std(float o);

/*
 * Reparameterised sample of B rows: out (B, 2D) network outputs, eps (B, D) standard normals;
 * writes u (B, D) pre-squash values, a (B, D) = tanh(u) and logp (B) = log π(a|s).
 * Nullable: logp.
 */
void gauss_sample(const float *out, const float *eps, int B, int D, float *u, float *a,
                  float *logp);

/*
 * log π of the actions tanh(u) for B rows with pre-squash values u (B, D) under out (B, 2D).
 * (For an action a given only in (−1, 1), u = atanh(a).)
 */
void gauss_log_prob(const float *out, const float *u, int B, int D, float *logp);

/*
 * Backward of a reparameterised sample (same out, eps, u as gauss_sample): given g_a (B, D) =
 * dL/da and g_lp (B) = dL/dlogπ, writes d_out (B, 2D) = dL/d(out), with eps held fixed.
 * Nullable: g_a, g_lp (treated as zero).
 */
void gauss_backward(const float *out, const float *eps, const float *u, const float *g_a,
                    const float *g_lp, int B, int D, float *d_out);

#endif
