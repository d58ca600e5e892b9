/*
 * task.c — the task table.
 */
#include "common/task.h"

#include <string.h>

static const struct task_info tasks[] = {
    {"hopper", 11, 3, -20.272305, 3234.3},
    {"walker2d", 17, 6, 1.629008, 4592.3},
    {"halfcheetah", 17, 6, -280.178953, 12135.0},
};

const struct task_info *task_find(const char *name)
{
    for (size_t i = 0; i < sizeof(tasks) / sizeof(tasks[0]); i++)
        if (!strcmp(tasks[i].name, name))
            return &tasks[i];
    return NULL;
}

double task_score(const struct task_info *t, double ret)
{
    return 100.0 * (ret - t->random_return) / (t->expert_return - t->random_return);
}
