/*
 * rldt.h — RLDT (learner/algo/README.md): fine-tuning a pre-trained flow-matching policy by density
 * transport, behind the learner's algorithm interface (learner/algo.h). Actors run the "flow"
 * policy kind with the base policy's normalisation bounds; the replay therefore holds raw
 * observations and env-space actions, which are normalised here before any network sees them.
 *
 * One train_step is ONE update: an actor step when one is due, otherwise a critic step.
 *  - Critic rounds: every rldt_critic_round (R) critic steps share one draw. At a round's start
 *    the batches of both critics (parity 0 / 1 of the trajectory id: disjoint halves) are drawn,
 *    the rewards' EMA scale is updated once per drawn batch, the a' samples (M per next state,
 *    one batched flow_sample per 2048 rows) and the TD(λ) targets are computed with the target
 *    critics of the round's start, then the round's R steps train on those fixed targets.
 *    rldt_target_reuse u > 1 draws R/u batches per critic and uses each row u times (CPU).
 *    Discount: γ^steps per chunk step (gamma is per env step; steps = env steps executed).
 *    TD(λ > 0) follows each drawn step forward in its segment for up to rldt_td_horizon steps
 *    (replay_next); the window's last step bootstraps from Q̄ only.
 *  - Actor steps: floor((critic_steps − actor_start) / actor_every) of them are due; they run
 *    when a round ends, so the published schedule (32 critic, then 2 actor steps) is exact.
 *    With a ramp (rldt_actor_every0, rldt_actor_ramp) the interval before actor step j is
 *    every0 + (every − every0) j / ramp critic steps for j < ramp (rldt_actor_cum).
 *  - Critic warm-up: before actor_start the target critics follow at rldt_warmup_tau (when
 *    set), then at tau: long-horizon values are in place before the actor moves.
 *    An actor step draws rldt_actor_batch states from the whole replay (with the fresh share)
 *    and accumulates gradients over micro-batches of 2048 particles (exact: losses are sums).
 *  - Particles and targets use the chains' final actions clipped to [-1, 1], a = clip(x_N),
 *    without the actors' exploration noise (which only shapes the collected data).
 *  - A non-finite loss or gradient refuses the step (-EDOM, no parameter changes).
 * Diagnostics are reported on every call (actor ones hold their last value, NaN before the
 * first actor step). Not thread-safe: the trainer thread makes every call.
 */
#ifndef RL_RLDT_H
#define RL_RLDT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "learner/algo.h"

struct flow;
struct critic;
struct replay;
struct rl_config;

/* The algorithms "rldt" (SVGD transport field) and "rldt-delta" (φ_i = ∇ₐQ(s, â_i)). */
extern const struct algo_ops rldt_ops;
extern const struct algo_ops rldt_delta_ops;

/*
 * Critic steps after the warm-up (rldt_actor_start) by which n actor steps are due: n · every,
 * or with a ramp (every0 > 0, ramp > 0) the sum of the intervals every0 + (every − every0) j /
 * ramp of actor steps j < n, each later one `every`.
 */
long rldt_actor_cum(long every0, long every, long ramp, long n);

/*
 * An RLDT instance that fine-tunes a copy of `base` (same networks as the run's [flow] keys;
 * Euler steps may differ) with normalisation bounds (2·obs_dim + 2·act_dim floats, as in a
 * policy file: obs lo, obs hi, act lo, act hi; NULL = none). The ops' create() loads
 * c->base_policy and calls this. NULL with a reason in err. Nullable: bounds.
 */
struct algo *rldt_new(const struct rl_config *c, const struct algo_dims *d, bool delta,
                      const struct flow *base, const float *bounds, char *err, size_t errlen);

/*
 * The actor losses over P particles, each added to d_v (P, D) (accumulated, not overwritten),
 * with per-particle times t (P) of an N-step sampler and inv_n = 1 / (particles of the step):
 *   transport    −inv_n Σ ⟨v_i, φ_i⟩ / (N (1 − t_i))
 *   consistency  w · inv_n Σ ‖x_i + (1 − t_i) v_i − a_i‖² / (N (1 − t_i))²
 *   trust        w · inv_n Σ ‖v_i − v_old,i‖²
 * Each returns its loss value.
 */
double rldt_loss_transport(const float *v, const float *phi, const float *t, int P, int D, int N,
                           double inv_n, float *d_v);
double rldt_loss_consistency(const float *x, const float *v, const float *t, const float *a, int P,
                             int D, int N, float w, double inv_n, float *d_v);
double rldt_loss_trust(const float *v, const float *v_old, int P, int D, float w, double inv_n,
                       float *d_v);

/* One actor step now, whatever the schedule (tests, benchmark). Same returns as train_step. */
int rldt_actor_step(struct algo *a, struct replay *r, struct algo_report *rep);

/* One critic step now, whatever the schedule (tests, benchmark). Same returns as train_step. */
int rldt_critic_step(struct algo *a, struct replay *r, struct algo_report *rep);

/* The actor flow and the critics (borrowed; tests and diagnostics). */
struct flow *rldt_actor(struct algo *a);
struct critic *rldt_critic(struct algo *a);

/*
 * TD targets of the replay rows at slots index[0..n) computed exactly as a round computes them
 * (current actor for a', target critics, reward scale; does not update the EMA): y (n).
 * n <= the round's pool rows. 0, or -EINVAL.
 */
int rldt_targets(struct algo *a, struct replay *r, const int64_t *index, int n, float *y);

/*
 * Checking aid: one critic step, then (after an untraced actor step, so that the trust-region
 * copy differs from the actor) one actor step of a fresh "rldt" instance (no step taken yet),
 * written to f with the weights and Adam state before and after, the normalised inputs, every
 * random draw and the losses and gradients (format in rldt_trace.c), so that an independent
 * implementation can redo both traced steps and compare. 0, -EINVAL (not fresh, or rldt-delta),
 * -EAGAIN (replay too small), -EDOM (non-finite step) or -EIO.
 */
int rldt_trace(struct algo *a, struct replay *r, FILE *f);

/* The current reward divisor (1 before any batch or with rldt_reward_ema = 0). */
double rldt_reward_scale(const struct algo *a);

/*
 * FLOPs (2·M·N·K per GEMM) of a round's target computation (nominal: full TD windows, every
 * next state bootstrapped), a critic step and an actor step.
 */
void rldt_flops(const struct algo *a, double *round_targets, double *critic_step,
                double *actor_step);

#endif
