/*
 * reinflow_math.h — the numerical core of the ReinFlow baseline (PPO on a flow policy whose
 * Euler chain is made a Markov chain with Gaussian transitions by a learned, bounded noise
 * std): generalised advantage estimation over a segment, the chain's log-likelihood with its
 * gradients, the bounded std and the clipped PPO surrogate. Pure functions, thread-safe.
 *
 * The public ReinFlow Gym fine-tuning configs (hopper / walker2d / halfcheetah, state input)
 * use: 4 denoising steps, all fine-tuned; noise std bounded to [0.10, 0.24] (a Tanh noise
 * network of 64x64 hidden units on time and observation); PPO clip ε = 0.01; GAE λ = 0.95,
 * γ = 0.99 per chunk of 4 actions; 40 envs × 500 chunk steps per iteration; minibatch 50 000;
 * 5 update epochs; value loss weight 0.5; entropy weight 0.03; running reward scaling;
 * critic MLP 256×3; per-element log-probabilities clamped to [-1, 1]; actor lr 4.5e-5 (hopper),
 * 4e-4 (walker2d), 3e-5 (halfcheetah); critic lr 6.5e-4 / 4e-3 / 3e-4; critic warm-up
 * iterations 0 / 5 / 10.
 */
#ifndef RL_REINFLOW_MATH_H
#define RL_REINFLOW_MATH_H

#include <stdbool.h>

/*
 * GAE over one segment of T steps: δ_t = r_t + γ (1 − term_t) next_val_t − val_t and
 * A_t = δ_t + γ λ (1 − end_t) A_{t+1}, A_T = 0. term_t: the episode terminated at t (no
 * bootstrap); end_t: the episode ended at t for any reason (terminated or truncated by the time
 * limit), so no advantage flows back across it; the last step of a segment bootstraps from
 * next_val and carries nothing in. Writes adv[T] and ret[T] = adv + val.
 */
void reinflow_gae(int T, const float *rew, const float *val, const float *next_val,
                  const float *term, const float *end, float gamma, float lambda, float *adv,
                  float *ret);

/* Bounded std from the noise network's raw output u: lo + (hi − lo) (tanh(u) + 1) / 2. */
float reinflow_bound_std(float u, float lo, float hi);

/* d std / d u of reinflow_bound_std at u. */
float reinflow_bound_std_grad(float u, float lo, float hi);

/*
 * Log-likelihood of one chain x_0..x_N (x: (N+1, D)) under the transitions
 * x_{k+1} ~ N(mu_k, diag std_k²) (mu, std: (N, D)), plus log N(x_0; 0, I) when with_x0.
 * When d_mu / d_std are non-NULL they receive ∂logp/∂mu and ∂logp/∂std ((N, D), overwritten).
 * Nullable: d_mu, d_std.
 */
double reinflow_chain_logp(const float *x, const float *mu, const float *std, int N, int D,
                           bool with_x0, float *d_mu, float *d_std);

/*
 * Clipped PPO surrogate of n samples: ratio r = exp(logp − logp_old),
 * L = −(1/n) Σ min(r A, clip(r, 1 − eps, 1 + eps) A). Writes ∂L/∂logp to d_logp (zero where
 * the clipped term is the active minimum) and returns L; *clip_frac (nullable) gets the share
 * of samples whose ratio lies outside [1 − eps, 1 + eps].
 */
double reinflow_ppo_loss(const double *logp, const double *logp_old, const float *adv, int n,
                         double eps, double *d_logp, double *clip_frac);

#endif
