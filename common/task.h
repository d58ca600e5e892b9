/*
 * task.h — the registry of task facts that both sides need without a simulator: name,
 * observation and action sizes, episode length, whether the reward is sparse (success only),
 * and the D4RL normalisation constants. The built-in tasks are always known; a plug-in task
 * (a shared object, see actor/env_task.h) adds its facts with task_load_plugin.
 *
 * Registration happens at start-up (config validation) before any thread starts; lookups are
 * read-only afterwards and may run on any thread.
 */
#ifndef RL_TASK_H
#define RL_TASK_H

#include <stdbool.h>
#include <stddef.h>

struct task_info {
    const char *name;
    int obs_dim;
    int act_dim;
    int max_episode_steps; /* the task's episode length (time limit) */
    bool sparse;           /* reward 1 on success (which ends the episode), else 0 */
    double random_return;  /* D4RL reference returns for normalised scores (0, 0: none) */
    double expert_return;
};

/* Most tasks known at once (built-in plus plug-in). */
#define TASK_MAX 32

/* Version of the plug-in table layout; a plug-in built for another version is refused. */
#define TASK_PLUGIN_ABI 1

/* How every plug-in table begins (struct env_task starts with these two members). */
struct task_plugin_head {
    int abi; /* TASK_PLUGIN_ABI */
    struct task_info info;
};

/* The task called name, or NULL. Nullable: name. */
const struct task_info *task_find(const char *name);

/* Comma-separated list of the known task names (static buffer, valid until a registration). */
const char *task_names(void);

/*
 * Load the plug-in task in the shared object at path (dlopen) and register its facts. The
 * object exports `rldt_task`, a struct env_task (actor/env_task.h), which starts with a
 * struct task_plugin_head. Loading the same path again is a no-op. Returns 0, or -ENOENT (cannot
 * open), -EPROTO (no rldt_task symbol, wrong ABI version, bad facts), -EEXIST (name taken by
 * another task), -ENOSPC (registry full), with a one-line reason in err.
 */
int task_load_plugin(const char *path, char *err, size_t errlen);

/* The plug-in table (the `rldt_task` symbol) behind t, or NULL for a built-in task. */
const void *task_plugin_table(const struct task_info *t);

/*
 * How many leading entries of the task's observation describe the robot itself
 * (proprioception), the part a pixel policy sees next to its camera features: the gripper's
 * position, velocity and opening (7) for the table-top tasks, whose object state follows; the
 * whole observation for locomotion and plug-in tasks.
 */
int task_proprio_dim(const struct task_info *t);

/* True when the task has D4RL reference returns (task_score is meaningful). */
bool task_has_score(const struct task_info *t);

/* D4RL normalised score: 100 (R - random) / (expert - random); 0 without references. */
double task_score(const struct task_info *t, double ret);

#endif
