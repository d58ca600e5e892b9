/*
 * env.h — one task instance on MuJoCo: model loading, seeded reset, step with frame skip,
 * observation, reward with its decomposition, termination (failure or success) and truncation
 * (time limit). The task's rules come from its table (actor/env_task.h): the Gym-v4 locomotion
 * tasks (hopper, walker2d, halfcheetah), the table-top tasks (lift, stack, peg) or a plug-in.
 *
 * A struct env_model (the loaded mjModel + task rules) is read-only after loading and may be
 * shared by any number of envs and threads. A struct env owns one mjData and one rng stream;
 * it is not thread-safe (one thread per env). MuJoCo errors are caught (never exit/abort):
 * a step that raises one or produces a non-finite state ends the episode as terminated.
 */
#ifndef RL_ENV_H
#define RL_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mujoco/mujoco.h>

struct env_model;
struct env;

/*
 * Per-step outcome. Locomotion: reward = forward_reward + healthy_reward - ctrl_cost. Sparse
 * tasks: reward = 1 on the step that succeeds (which terminates the episode), else 0.
 */
struct env_step_info {
    double reward;
    bool success;          /* the task was solved on this step (implies terminated) */
    double forward_reward; /* forward weight (1) x x_velocity */
    double healthy_reward; /* 1 per step for hopper/walker2d (also on the terminating step) */
    double ctrl_cost;      /* weight x sum(a^2) over the action as passed (before clamping) */
    double x_velocity;     /* (qpos[0] after - qpos[0] before) / dt */
    bool terminated;       /* unhealthy, succeeded, or the state became non-finite / MuJoCo
                              failed */
    bool truncated;        /* episode length reached max_episode_steps (Gymnasium: may
                              coincide with terminated) */
    bool nonfinite;        /* the simulator state went bad (counted, implies terminated) */
    int length;            /* steps in this episode so far, including this one */
    double ep_return;      /* sum of rewards in this episode so far, including this one */
};

struct task_info;

/*
 * Find the task's model file: $RLDT_MODELS/<task>.xml when RLDT_MODELS is set (only there),
 * else the first existing of <exe dir>/../actor/models, <exe dir>/../../actor/models (test
 * binaries in build/tests) and <exe dir>/../share/rldt/models. Writes the path to out.
 * Returns 0, -EINVAL for an unknown task, -ENOENT (err lists the places tried).
 */
int env_find_model(const char *task, char *out, size_t outlen, char *err, size_t errlen);

/*
 * Load a task. model_file overrides the built-in model (e.g. a tiny test MJCF); the override
 * must pass the task's bind check (locomotion: nq >= 3, nv >= 1, nu >= 1; table-top: the
 * named bodies and joints), while built-in models must also match the task's sizes.
 * Returns a model the caller owns (free with env_model_destroy), or NULL with a one-line
 * reason in err: unknown task (lists the known ones), missing file, MuJoCo's parse/compile
 * message, wrong dimensions. Nullable: model_file.
 */
struct env_model *env_model_load(const char *task, const char *model_file, char *err,
                                 size_t errlen);

/* Free a model and set *pm = NULL; no envs may still use it. NULL or *pm NULL: no-op. */
void env_model_destroy(struct env_model **pm);

/* Task name ("hopper", ...). */
const char *env_model_task(const struct env_model *m);

/* The task's facts (common/task.h; borrowed, static). */
const struct task_info *env_model_facts(const struct env_model *m);

/* Observation length: locomotion (nq - 1) + nv (11 / 17 / 17); lift / stack / peg 17 / 27 / 20. */
int env_model_obs_dim(const struct env_model *m);

/* Action length: nu (3 / 6 / 6). */
int env_model_act_dim(const struct env_model *m);

/* MuJoCo steps per env step (4 / 4 / 5). */
int env_model_frame_skip(const struct env_model *m);

/* Seconds per env step: timestep x frame_skip. */
double env_model_dt(const struct env_model *m);

/* The MuJoCo model (borrowed, read-only, valid while m lives). */
const mjModel *env_model_mj(const struct env_model *m);

/* Path of the loaded model file (borrowed). */
const char *env_model_path(const struct env_model *m);

/*
 * A new env on model m (borrowed: must outlive the env), with reset-noise stream
 * (seed, stream) of common/rng.h and a time limit of max_episode_steps (>= 1).
 * Call env_reset before the first step. Returns a caller-owned env (env_destroy) or NULL
 * when out of memory.
 */
struct env *env_new(const struct env_model *m, uint64_t seed, uint64_t stream,
                    int max_episode_steps);

/* Free an env and set *pe = NULL. NULL or *pe NULL: no-op. */
void env_destroy(struct env **pe);

/*
 * Start an episode: the task's reset (locomotion: qpos0 + noise, noise velocities; table-top:
 * objects at random places), mj_forward. Writes the first observation
 * to obs (obs_dim floats). Returns 0, or -EFAULT if MuJoCo failed (state left reset to
 * qpos0). Nullable: obs.
 */
int env_reset(struct env *e, float *obs);

/*
 * One env step: the task's control (locomotion: ctrl = action, MuJoCo clamps to [-1, 1];
 * table-top: position targets moved by the action), frame_skip mj_steps, then reward, success,
 * termination and truncation. act_dim must equal env_model_act_dim. Writes the observation
 * after the step to obs and the outcome to info. Returns 0; -EINVAL for a wrong act_dim, a
 * non-finite action, or a step after the episode ended without env_reset (nothing done).
 * Nullable: obs, info.
 */
int env_step(struct env *e, const float *action, int act_dim, float *obs,
             struct env_step_info *info);

/* Write the current observation (obs_dim floats). */
void env_observe(const struct env *e, float *obs);

/* True when an episode has ended (terminated or truncated) and env_reset is due. */
bool env_done(const struct env *e);

/* Number of steps whose simulator state became non-finite or raised a MuJoCo error. */
long env_nonfinite_count(const struct env *e);

/* The env's mjData (borrowed; for tests and diagnostics — writing to it changes the env). */
mjData *env_data(struct env *e);

/* Total MuJoCo warnings reported to this process (all envs, all threads). */
long env_mj_warning_count(void);

#endif
