/*
 * reinflow.h — the ReinFlow baseline (learner/algo/README.md, ReinFlow section): PPO with GAE on
 * the log-likelihood of a flow policy's noisy Euler chain (a learned, bounded noise std per
 * transition), a value network V(s), clipped ratio, several epochs over each fresh batch of one
 * policy version. Actors sample with the "reinflow" kind of common/reinflow_policy.h and send
 * each chunk step's chain; the config resolves the runtime to on-policy (common/config.c).
 * Thread-safety: the trainer thread makes every call.
 */
#ifndef RL_REINFLOW_H
#define RL_REINFLOW_H

#include "learner/algo.h"

struct flow;

extern const struct algo_ops reinflow_ops;

/*
 * A ReinFlow instance fine-tuning `base` (copied) with normalisation bounds (2·obs_dim +
 * 2·act_dim floats, or NULL). Caller owns the result (reinflow_ops.destroy). NULL with a reason
 * in err on bad sizes or out of memory. Nullable: bounds.
 */
struct algo *reinflow_new(const struct rl_config *c, const struct algo_dims *d,
                          const struct flow *base, const float *bounds, char *err, size_t errlen);

#endif
