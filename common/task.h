/*
 * task.h — facts about the tasks that both sides need without a simulator: dimensions and
 * the D4RL normalisation constants. The simulator side (actor/env) checks its models agree.
 */
#ifndef RL_TASK_H
#define RL_TASK_H

struct task_info {
    const char *name;
    int obs_dim;
    int act_dim;
    double random_return; /* D4RL reference returns, for normalised scores */
    double expert_return;
};

/* The task called name, or NULL. */
const struct task_info *task_find(const char *name);

/* D4RL normalised score: 100 (R - random) / (expert - random). */
double task_score(const struct task_info *t, double ret);

#endif
