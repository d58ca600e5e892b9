/*
 * env_task.h — a task as a table of functions over MuJoCo: the simulator side of one task
 * (model, reset, control, observation, reward, termination, success) next to its facts. The
 * built-in tasks (actor/env_loco.c: hopper, walker2d, halfcheetah; actor/manip.c: lift, stack,
 * peg) are such tables, and so is a user's plug-in: a shared object that defines
 *
 *     const struct env_task rldt_task = {.abi = TASK_PLUGIN_ABI, .info = {...}, ...};
 *
 * loaded with `--task-plugin=FILE.so --env=NAME` (see tests/task_plugin_example.c).
 *
 * Hooks get a struct env_task_ctx: the read-only model, this env's mjData, the ids the bind
 * hook resolved, this env's task state (state_size bytes, zeroed at reset) and its rng. They run
 * on the env's thread and must not allocate per step or keep pointers to the context.
 */
#ifndef RL_ENV_TASK_H
#define RL_ENV_TASK_H

#include <stdbool.h>
#include <stddef.h>

#include <mujoco/mujoco.h>

#include "common/rng.h"
#include "common/task.h"

struct env_step_info;

/* Most model ids (bodies, joints, sites, ...) a task's bind hook may record. */
#define ENV_TASK_MAX_IDS 32

struct env_task_ctx {
    const struct env_task *task;
    const mjModel *m;
    mjData *d;
    const int *ids; /* ENV_TASK_MAX_IDS entries from bind */
    void *state;    /* task->state_size bytes, zeroed at every reset */
    struct rng *rng;
};

struct env_task {
    int abi;                /* TASK_PLUGIN_ABI (first, as struct task_plugin_head) */
    struct task_info info;  /* facts: name, sizes, episode length, sparse (built-in tables set
                               only the name: their facts are in common/task.c) */
    const char *model_file; /* file name in the models directory (built-in tasks), or NULL */
    const char *model_xml;  /* the MJCF itself (plug-ins), used when model_file is NULL */
    int frame_skip;         /* mj_steps per env step */
    int nq, nv, nu;         /* sizes the built-in model must have (0: any) */
    size_t state_size;      /* per-env task state, bytes (0: none) */
    const void *params;     /* task constants for shared hooks (borrowed, static) */

    /*
     * Check a loaded model (built-in or --model-file override) and record the ids the other
     * hooks use. Returns 0, or a negative errno with a one-line reason. Nullable hook.
     */
    int (*bind)(const struct env_task *t, const mjModel *m, int *ids, char *err, size_t errlen);
    /* Observation length for model m (NULL hook: info.obs_dim). */
    int (*obs_dim)(const mjModel *m);
    /* Set qpos, qvel and ctrl for a new episode (mj_resetData done, mj_forward follows). */
    void (*reset)(struct env_task_ctx *c);
    /* Write the action (act_dim = nu floats, finite) into ctrl (NULL hook: ctrl = action). */
    void (*control)(struct env_task_ctx *c, const float *action);
    /* Write the observation (obs_dim floats). */
    void (*observe)(const struct env_task_ctx *c, float *obs);
    /*
     * Reward of the step just simulated; qpos_before holds the first min(nq, 64) entries of
     * qpos before it. May fill the reward decomposition of info. NULL hook: sparse, 1 on
     * success, else 0.
     */
    double (*reward)(const struct env_task_ctx *c, const double *qpos_before, const float *action,
                     struct env_step_info *info);
    /* True when the episode ends in failure (e.g. unhealthy). Nullable hook. */
    bool (*failed)(const struct env_task_ctx *c);
    /* True when the task is solved: the episode terminates. Nullable hook (never). */
    bool (*success)(const struct env_task_ctx *c);
};

/* The simulator table of the task called name (built-in or loaded plug-in), or NULL. */
const struct env_task *env_task_find(const char *name);

/* The built-in locomotion tables (actor/env_loco.c). */
extern const struct env_task env_task_hopper, env_task_walker2d, env_task_halfcheetah;

/* The built-in table-top tables (actor/manip.c). */
extern const struct env_task env_task_lift, env_task_stack, env_task_peg;

#endif
