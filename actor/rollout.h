/*
 * rollout.h — evaluation loop over a vecenv with a pluggable policy, plus the two built-in
 * policies (uniform random, zero). A policy is a callback that maps a batch of observations to
 * a batch of action chunks; its context is owned by the caller. Not thread-safe: one thread
 * drives a rollout.
 */
#ifndef RL_ROLLOUT_H
#define RL_ROLLOUT_H

#include <stdint.h>

#include "actor/vecenv.h"
#include "common/rng.h"

/*
 * A policy: read obs (M, O) and write chunks (M, H, A) for the num_envs = M envs of the
 * vecenv it acts on (O, H, A from the vecenv). Returns 0 or a negative errno (ends the
 * rollout with that code). obs is borrowed for the call only.
 */
typedef int (*rollout_act_fn)(void *ctx, const float *obs, int num_envs, float *chunks);

/* Summary of an evaluation. */
struct rollout_stats {
    int episodes;
    double return_mean, return_std; /* population std over episodes */
    double length_mean, length_std;
    long env_steps;  /* all steps executed, including any discarded by early stops */
    long terminated; /* episodes that ended by termination (the rest were truncated) */
    long nonfinite;  /* episodes that ended in a non-finite simulator state */
    long successes;  /* episodes that ended in success (sparse tasks; 0 for locomotion) */
    double success_rate, success_lo, success_hi; /* successes / episodes, 95% Wilson interval */
    double secs;                                 /* wall time of the rollout */
};

/*
 * 95% Wilson score interval of a success rate: k successes in n trials (n >= 0; n = 0 gives
 * [0, 1]). Writes the bounds to lo and hi.
 */
void rollout_wilson(long k, long n, double *lo, double *hi);

/* Context of rollout_random_act: uniform actions in [-1, 1] from its own rng stream. */
struct rollout_random {
    struct rng rng;
    long n; /* floats per call: M * H * A */
};

/* Set up a random policy for vecenv v with rng stream (seed, stream). */
void rollout_random_init(struct rollout_random *p, const struct vecenv *v, uint64_t seed,
                         uint64_t stream);

/* rollout_act_fn of struct rollout_random. */
int rollout_random_act(void *ctx, const float *obs, int num_envs, float *chunks);

/* rollout_act_fn writing zeros; ctx points to a long holding M * H * A. */
int rollout_zero_act(void *ctx, const float *obs, int num_envs, float *chunks);

/*
 * Run `episodes` complete episodes on v (reset first) with policy act(ctx, ...). Episodes are
 * split evenly over the envs in advance (env i runs a fixed quota, then idles), so the result
 * does not favour short episodes. Writes the per-episode returns and lengths in completion
 * order when the arrays are given (episodes entries each) and the summary to st.
 * Returns 0, -ENOMEM, -EINVAL (non-finite actions from the policy) or the policy's error.
 * Nullable: returns, lengths.
 */
int rollout_eval(struct vecenv *v, rollout_act_fn act, void *ctx, int episodes, double *returns,
                 int *lengths, struct rollout_stats *st);

#endif
