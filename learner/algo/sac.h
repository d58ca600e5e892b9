/*
 * sac.h — Soft Actor-Critic with a tanh-squashed Gaussian policy (common/gauss.h), twin Q
 * critics with Polyak targets and automatic entropy tuning (target entropy −D), behind the
 * learner's algorithm interface (learner/algo.h). Actors run the "gauss" policy kind; the
 * exported block is the policy network's parameters.
 *
 * Networks: policy obs → sac_layers × sac_hidden ReLU → 2D (mean | raw log-std); critics
 * [obs | a] → sac_layers × sac_hidden ReLU → 1. With chunks (H > 1) a row's reward is the
 * chunk's summed reward and the bootstrap is discounted by γ^steps (steps executed).
 * Not thread-safe: every call comes from the trainer thread. Nothing allocates per step.
 */
#ifndef RL_SAC_H
#define RL_SAC_H

#include <stdio.h>

#include "learner/algo.h"

/* The "sac" algorithm. */
extern const struct algo_ops sac_ops;

/*
 * min(Q1, Q2)(obs, act) of the online critics for B <= batch_size rows: obs (B, obs_dim),
 * act (B, D), q (B). A diagnostic (tests, evaluation); not used by the training step.
 */
void sac_q_eval(struct algo *a, const float *obs, const float *act, int B, float *q);

/* Floating-point operations (2·M·N·K per GEMM) of one sac train_step with this instance. */
double sac_flops_per_step(const struct algo *a);

#endif
