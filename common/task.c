/*
 * task.c — the task facts registry: the built-in table plus plug-ins loaded with dlopen.
 * Plug-in handles stay open for the life of the process (their code runs in the envs).
 */
#include "common/task.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

// lift / stack / peg: 4 actions (x, y, z position deltas, gripper open/close)
static const struct task_info builtin[] = {
    {"hopper", 11, 3, 1000, false, -20.272305, 3234.3},
    {"walker2d", 17, 6, 1000, false, 1.629008, 4592.3},
    {"halfcheetah", 17, 6, 1000, false, -280.178953, 12135.0},
    {"lift", 17, 4, 200, true, 0, 0},
    {"stack", 27, 4, 300, true, 0, 0},
    {"peg", 20, 4, 400, true, 0, 0},
};

struct plugin {
    char path[512];
    const struct task_plugin_head *head;
};

static struct plugin plugins[TASK_MAX];
static int nplugins;
static char names[TASK_MAX * 40];

const struct task_info *task_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < RL_ARRAY_LEN(builtin); i++)
        if (!strcmp(builtin[i].name, name))
            return &builtin[i];
    for (int i = 0; i < nplugins; i++)
        if (!strcmp(plugins[i].head->info.name, name))
            return &plugins[i].head->info;
    return NULL;
}

const char *task_names(void)
{
    size_t n = 0;
    names[0] = 0;
    for (size_t i = 0; i < RL_ARRAY_LEN(builtin) + (size_t)nplugins; i++) {
        const char *s = i < RL_ARRAY_LEN(builtin)
                            ? builtin[i].name
                            : plugins[i - RL_ARRAY_LEN(builtin)].head->info.name;
        n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "", s);
        if (n >= sizeof(names))
            break;
    }
    return names;
}

// the facts a plug-in must get right before anything uses them
static int check_facts(const struct task_plugin_head *h, char *err, size_t errlen)
{
    const struct task_info *t = &h->info;
    if (h->abi != TASK_PLUGIN_ABI) {
        snprintf(err, errlen, "plug-in ABI version %d, this build needs %d", h->abi,
                 TASK_PLUGIN_ABI);
        return -EPROTO;
    }
    if (!t->name || !*t->name || strlen(t->name) >= 32 || strpbrk(t->name, " ,=\t\n")) {
        snprintf(err, errlen, "plug-in task name missing, too long or with spaces/commas");
        return -EPROTO;
    }
    if (t->obs_dim < 1 || t->obs_dim > 4096 || t->act_dim < 1 || t->act_dim > 256 ||
        t->max_episode_steps < 1) {
        snprintf(err, errlen,
                 "plug-in task %s: obs_dim %d, act_dim %d, max_episode_steps %d out of range",
                 t->name, t->obs_dim, t->act_dim, t->max_episode_steps);
        return -EPROTO;
    }
    if (!isfinite(t->random_return) || !isfinite(t->expert_return)) {
        snprintf(err, errlen, "plug-in task %s: non-finite reference returns", t->name);
        return -EPROTO;
    }
    return 0;
}

int task_load_plugin(const char *path, char *err, size_t errlen)
{
    for (int i = 0; i < nplugins; i++)
        if (!strcmp(plugins[i].path, path))
            return 0;
    if (nplugins + (int)RL_ARRAY_LEN(builtin) >= TASK_MAX) {
        snprintf(err, errlen, "%s: too many tasks (at most %d)", path, TASK_MAX);
        return -ENOSPC;
    }
    if (strlen(path) >= sizeof(plugins[0].path)) {
        snprintf(err, errlen, "task plug-in path too long");
        return -ENOENT;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "cannot load task plug-in: %s", dlerror());
        return -ENOENT;
    }
    const struct task_plugin_head *head = dlsym(h, "rldt_task");
    int rc = -EPROTO;
    if (!head) {
        snprintf(err, errlen, "%s: no symbol rldt_task (see actor/env_task.h)", path);
        goto err_close;
    }
    char why[256];
    if ((rc = check_facts(head, why, sizeof(why))) < 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto err_close;
    }
    if (task_find(head->info.name)) {
        snprintf(err, errlen, "%s: task name '%s' is taken", path, head->info.name);
        rc = -EEXIST;
        goto err_close;
    }
    snprintf(plugins[nplugins].path, sizeof(plugins[0].path), "%s", path);
    plugins[nplugins++].head = head;
    return 0;

err_close:
    dlclose(h);
    return rc;
}

const void *task_plugin_table(const struct task_info *t)
{
    for (int i = 0; i < nplugins; i++)
        if (&plugins[i].head->info == t)
            return plugins[i].head;
    return NULL;
}

int task_proprio_dim(const struct task_info *t)
{
    // the table-top observation starts with gripper position (3), velocity (3), opening (1)
    static const char *const tabletop[] = {"lift", "stack", "peg"};
    for (size_t i = 0; i < RL_ARRAY_LEN(tabletop); i++)
        if (!strcmp(t->name, tabletop[i]))
            return 7;
    return t->obs_dim;
}

bool task_has_score(const struct task_info *t)
{
    return t->expert_return != t->random_return;
}

double task_score(const struct task_info *t, double ret)
{
    if (!task_has_score(t))
        return 0;
    return 100.0 * (ret - t->random_return) / (t->expert_return - t->random_return);
}
