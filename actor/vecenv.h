/*
 * vecenv.h — a batch of M envs of one task sharing one read-only mjModel (one mjData each),
 * stepped by action chunks: one call executes up to H actions per env, sums the rewards, stops
 * an env's chunk early when its episode ends, records the finished episode, and auto-resets it.
 *
 * Shapes: M = num_envs, H = chunk, A = act_dim, O = obs_dim. Output buffers belong to the
 * vecenv (allocated once; no allocation per step) and stay valid until the next call that
 * changes them. Not thread-safe: one thread drives a vecenv.
 */
#ifndef RL_VECENV_H
#define RL_VECENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/env.h"

struct rl_config;

struct vecenv;

struct vecenv_config {
    const char *task;       /* a task name of common/task.h ("hopper", ..., "lift", ...) */
    const char *model_file; /* NULL or "": the task's built-in model */
    int num_envs;           /* M >= 1 */
    int chunk;              /* H >= 1 */
    int max_episode_steps;  /* time limit (truncation) */
    uint64_t seed;          /* run seed */
    uint64_t stream;        /* env i draws reset noise from rng stream (stream + i) */
};

/* Per-env outcome of one vecenv_step. */
struct vecenv_result {
    double reward;    /* sum of the rewards of the executed steps */
    int steps;        /* env steps executed: 1..H (0 for an inactive env) */
    bool terminated;  /* the episode terminated inside this chunk */
    bool truncated;   /* the episode hit the time limit inside this chunk */
    bool done;        /* terminated || truncated: final_obs ends it, obs starts a new one */
    bool nonfinite;   /* the terminating step had a non-finite simulator state */
    bool success;     /* the episode ended because the task was solved (sparse tasks) */
    double ep_return; /* finished episode's return (valid when done) */
    int ep_length;    /* finished episode's length in env steps (valid when done) */
};

/* Running totals since vecenv_new. */
struct vecenv_stats {
    long env_steps;
    long episodes;
    long nonfinite; /* steps that ended in a non-finite state */
    long successes; /* episodes that ended in success */
};

/* Defaults: hopper, built-in model, M = 8, H = 4, 1000 steps, seed 1, stream 0. */
void vecenv_config_default(struct vecenv_config *c);

/* The vecenv of a run config: its task, model file, num_envs, chunk, max_episode_steps and
 * seed; stream 0. vc borrows c's strings (valid while c lives). */
void vecenv_config_from(struct vecenv_config *vc, const struct rl_config *c);

/*
 * Load the task's model once and create M envs, all reset. Returns a caller-owned vecenv
 * (vecenv_destroy) or NULL with a one-line reason in err (unknown task, model file errors,
 * bad sizes, out of memory).
 */
struct vecenv *vecenv_new(const struct vecenv_config *c, char *err, size_t errlen);

/* Free everything and set *pv = NULL. NULL or *pv NULL: no-op. */
void vecenv_destroy(struct vecenv **pv);

int vecenv_num_envs(const struct vecenv *v);
int vecenv_chunk(const struct vecenv *v);
int vecenv_obs_dim(const struct vecenv *v);
int vecenv_act_dim(const struct vecenv *v);

/* The shared model (borrowed, valid while v lives). */
const struct env_model *vecenv_model(const struct vecenv *v);

/* Reset every env (new episodes, reset noise from each env's stream). 0 or -EFAULT. */
int vecenv_reset(struct vecenv *v);

/*
 * Execute one chunk per active env. actions: (M, H, A) floats, row-major. active: M flags,
 * NULL = all; inactive envs are not stepped (steps = 0). For each active env: step until H
 * actions are done or the episode ends; when it ends, copy the last observation to final_obs,
 * record return/length, and reset the env so obs holds the first observation of the next
 * episode. When not done, final_obs equals obs.
 * Returns 0, or -EINVAL when any action of an active env is non-finite (checked before any
 * env is stepped: nothing changes), or -EIO when a camera failed (vecenv_set_camera).
 * Nullable: active.
 */
int vecenv_step(struct vecenv *v, const float *actions, const unsigned char *active);

/* Observations the policy acts on next: (M, O) (borrowed). */
const float *vecenv_obs(const struct vecenv *v);

/* Observations at the end of the last chunk, before any auto-reset: (M, O) (borrowed). */
const float *vecenv_final_obs(const struct vecenv *v);

/*
 * A camera for pixel observations: fn fills rgb (h x w x c bytes, row 0 at the top) with a
 * picture of env e's current state and returns 0 or a negative errno. It runs on the vecenv's
 * thread, only reads e, and must not allocate per call.
 */
struct vecenv_camera {
    int (*fn)(void *ctx, struct env *e, uint8_t *rgb);
    void *ctx;
    int h, w, c;
};

/*
 * Attach a camera (copied; ctx borrowed while v lives). From then on vecenv_images holds the
 * picture of each env's current observation and vecenv_final_images the picture of its state
 * at the end of the last chunk, taken before any auto-reset (as final_obs). Every env is
 * pictured now. Returns 0, -EINVAL for a bad shape or a camera already set, -ENOMEM, or the
 * camera's error.
 */
int vecenv_set_camera(struct vecenv *v, const struct vecenv_camera *cam);

/* Images as vecenv_obs and vecenv_final_obs: (M, h*w*c) bytes (borrowed); NULL without a
 * camera. When the camera fails during vecenv_step, that step returns -EIO after stepping every
 * env (the rows it could not picture keep their previous bytes). */
const uint8_t *vecenv_images(const struct vecenv *v);
const uint8_t *vecenv_final_images(const struct vecenv *v);

/* Per-env results of the last vecenv_step: M entries (borrowed). */
const struct vecenv_result *vecenv_results(const struct vecenv *v);

/* Totals since creation. */
struct vecenv_stats vecenv_stats(const struct vecenv *v);

#endif
