/*
 * reinflow_policy.h — the noisy flow policy of the ReinFlow baseline, shared by actors (the
 * "reinflow" sampler kind of common/policy.h) and the learner (learner/algo/reinflow.c).
 *
 * A noise network σ(x_k, t_k, s) with bounded output makes the flow's Euler chain a Markov chain
 * with Gaussian transitions: x_0 ~ N(0, I_D), and for k = 0..N−1 with t_k = k/N
 *   μ_k = x_k + v(x_k, t_k | s) / N,   σ_k = lo + (hi − lo)(tanh(u_k) + 1)/2,  u_k = noise net
 *   x_{k+1} = μ_k + σ_k ⊙ ξ_k,          ξ_k ~ N(0, I_D) clipped to ±REINFLOW_XI_CLIP
 * The action is clip(x_N, −1, 1). Deterministic sampling (evaluation) is the plain flow: x_0 = 0,
 * no noise. The noise net is an MLP on rows [x_k (D) | t_k (1) | s (O)] with two Tanh layers of
 * reinflow_noise_hidden and a linear output of D. Policy weights are one block
 * [flow params | noise params]. Pure helpers here are thread-safe.
 */
#ifndef RL_REINFLOW_POLICY_H
#define RL_REINFLOW_POLICY_H

#include <stdint.h>

#include "common/policy.h"

struct nn_spec;
struct rl_config;

#define REINFLOW_XI_CLIP 3.0f /* standard-normal draws are clipped to ±3 */

/* The actor-side sampler of kind "reinflow" (policy_ops of common/policy.h). */
extern const struct policy_ops reinflow_policy_ops;

/* Noise network spec for chunks of D and observations of O: 0, or -EINVAL (bad sizes). */
int reinflow_noise_spec(struct nn_spec *s, int D, int O, int hidden);

/* Layout hash of a [flow | noise] weight block: both nets' shapes and N. */
uint64_t reinflow_layout(uint64_t flow_layout, const struct nn_spec *noise);

/* Noise-net input rows in (B, D + 1 + O) = [x (B, D) | t (B) | obs (B, O)]. */
void reinflow_noise_rows(float *in, const float *x, const float *t, const float *obs, int B, int D,
                         int O);

/* Bounded std from a raw noise output u: lo + (hi − lo)(tanh(u) + 1)/2. */
float reinflow_std(float u, float lo, float hi);

#endif
