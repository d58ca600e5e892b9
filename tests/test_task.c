/*
 * test_task.c — the task registry (common/task.c) and task tables (actor/env_task.h): built-in
 * facts agree with the loaded models, names are listed, the example plug-in
 * (task_plugin_example.so beside this binary) loads, registers its facts and runs episodes, and bad
 * plug-ins (missing file, no rldt_task symbol, other ABI, a taken name) are refused; the 95%
 * Wilson interval of a success rate against a hand computation.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/env.h"
#include "actor/env_task.h"
#include "actor/rollout.h"
#include "common/task.h"
#include "tests/harness.h"

static const char *builtin[] = {"hopper", "walker2d", "halfcheetah", "lift", "stack", "peg"};

// the plug-in beside this test binary
static void plugin_path(char *out, size_t len, const char *name)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    size_t n0 = strlen(exe);
    snprintf(out, len, "%.*s/%s", (int)n0, exe, name);
}

static void test_builtin_facts(void)
{
    for (int k = 0; k < 6; k++) {
        const struct task_info *t = task_find(builtin[k]);
        T_CHECK(t != NULL);
        T_CHECK(strstr(task_names(), builtin[k]) != NULL);
        const struct env_task *et = env_task_find(builtin[k]);
        T_CHECK(et != NULL && et->abi == TASK_PLUGIN_ABI);
        T_CHECK(t && task_plugin_table(t) == NULL);
        char err[512] = "";
        struct env_model *m = env_model_load(builtin[k], NULL, err, sizeof(err));
        T_CHECK_MSG(m != NULL, "%s", err);
        if (!t || !m)
            continue;
        // one table of facts: the simulator side agrees with it
        T_EQ_INT(env_model_obs_dim(m), t->obs_dim);
        T_EQ_INT(env_model_act_dim(m), t->act_dim);
        T_CHECK(t->sparse == (k >= 3));
        T_CHECK(task_has_score(t) == (k < 3));
        env_model_destroy(&m);
    }
    T_CHECK(task_find("ant") == NULL);
    T_CHECK(task_find(NULL) == NULL);
    T_CHECK(env_task_find("ant") == NULL);
    T_NEAR(task_score(task_find("hopper"), 3234.3), 100, 1e-9);
    T_NEAR(task_score(task_find("lift"), 1), 0, 0);
}

static void test_plugin(void)
{
    char so[PATH_MAX], err[512] = "";
    plugin_path(so, sizeof(so), "task_plugin_example.so");
    T_CHECK(task_find("reach1d") == NULL);
    T_EQ_INT(task_load_plugin(so, err, sizeof(err)), 0);
    T_EQ_INT(task_load_plugin(so, err, sizeof(err)), 0); /* the same path again: no-op */
    const struct task_info *t = task_find("reach1d");
    T_CHECK_MSG(t != NULL, "%s", err);
    if (!t)
        return;
    T_EQ_INT(t->obs_dim, 3);
    T_EQ_INT(t->act_dim, 1);
    T_EQ_INT(t->max_episode_steps, 100);
    T_CHECK(t->sparse);
    T_CHECK(strstr(task_names(), "reach1d") && strstr(task_names(), "peg"));
    T_CHECK(env_task_find("reach1d") == task_plugin_table(t));

    struct env_model *m = env_model_load("reach1d", NULL, err, sizeof(err));
    T_CHECK_MSG(m != NULL, "%s", err);
    if (!m)
        return;
    T_EQ_INT(env_model_obs_dim(m), 3);
    T_NEAR(env_model_dt(m), 0.05, 1e-12);
    char path[256];
    T_EQ_INT(env_find_model("reach1d", path, sizeof(path), err, sizeof(err)), -ENOENT);
    // a proportional-derivative push reaches the goal window: success ends each episode
    struct env *e = env_new(m, 1, 0, t->max_episode_steps);
    float obs[3], a[1];
    struct env_step_info info;
    int successes = 0;
    for (int ep = 0; ep < 5; ep++) {
        env_reset(e, obs);
        T_CHECK(obs[0] >= -0.5f && obs[0] <= 0.0f);
        do {
            a[0] = fmaxf(-1, fminf(1, 4 * (obs[2] - obs[0]) - 0.8f * obs[1]));
            T_EQ_INT(env_step(e, a, 1, obs, &info), 0);
        } while (!info.terminated && !info.truncated);
        successes += info.success && info.reward == 1 && info.ep_return == 1;
    }
    T_EQ_INT(successes, 5);
    env_destroy(&e);
    env_model_destroy(&m);
}

// the same controller as a rollout policy (chunk 1): obs (M, 3) -> actions (M, 1)
static int pd_act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    (void)ctx;
    for (int i = 0; i < num_envs; i++) {
        const float *o = obs + 3 * i;
        chunks[i] = fmaxf(-1, fminf(1, 4 * (o[2] - o[0]) - 0.8f * o[1]));
    }
    return 0;
}

// success flags through vecenv and rollout: every episode succeeds, random ones do less often
static void test_plugin_rollout(void)
{
    struct vecenv_config vc;
    vecenv_config_default(&vc);
    vc.task = "reach1d";
    vc.num_envs = 3;
    vc.chunk = 1;
    vc.max_episode_steps = 100;
    char err[512] = "";
    struct vecenv *v = vecenv_new(&vc, err, sizeof(err));
    T_CHECK_MSG(v != NULL, "%s", err);
    if (!v)
        return;
    struct rollout_stats st;
    T_EQ_INT(rollout_eval(v, pd_act, NULL, 10, NULL, NULL, &st), 0);
    T_EQ_INT(st.successes, 10);
    T_EQ_INT(st.terminated, 10);
    T_NEAR(st.success_rate, 1, 0);
    T_NEAR(st.return_mean, 1, 0);
    T_EQ_INT(vecenv_stats(v).successes, 10);
    struct rollout_random rnd;
    rollout_random_init(&rnd, v, 1, 99);
    T_EQ_INT(rollout_eval(v, rollout_random_act, &rnd, 30, NULL, NULL, &st), 0);
    T_CHECK_MSG(st.successes < 30, "random pushes: %ld/30", st.successes);
    T_NEAR(st.success_rate, st.successes / 30.0, 1e-12);
    T_NEAR(st.return_mean, st.success_rate, 1e-12); /* sparse: return = success */
    T_CHECK(st.success_lo <= st.success_rate && st.success_rate <= st.success_hi);
    vecenv_destroy(&v);
}

static void test_bad_plugins(void)
{
    char so[PATH_MAX], err[512] = "";
    T_EQ_INT(task_load_plugin("/nonexistent/x.so", err, sizeof(err)), -ENOENT);
    T_CHECK_MSG(strstr(err, "/nonexistent/x.so") != NULL, "%s", err);
    plugin_path(so, sizeof(so), "task_plugin_badabi.so");
    err[0] = 0;
    T_EQ_INT(task_load_plugin(so, err, sizeof(err)), -EPROTO);
    T_CHECK_MSG(strstr(err, "ABI") != NULL, "%s", err);
    // a shared object without the symbol (the C maths library)
    err[0] = 0;
    T_EQ_INT(task_load_plugin("libm.so.6", err, sizeof(err)), -EPROTO);
    T_CHECK_MSG(strstr(err, "rldt_task") != NULL, "%s", err);
    // the example under another path: its name is taken (if test_plugin ran first)
    plugin_path(so, sizeof(so), "task_plugin_example.so");
    char copy[] = "/tmp/test_task_XXXXXX";
    int fd = mkstemp(copy);
    FILE *in = fopen(so, "rb");
    T_CHECK(fd >= 0 && in != NULL);
    if (fd >= 0 && in) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
            T_CHECK(write(fd, buf, n) == (ssize_t)n);
        close(fd);
        err[0] = 0;
        T_EQ_INT(task_load_plugin(copy, err, sizeof(err)), -EEXIST);
        T_CHECK_MSG(strstr(err, "reach1d") != NULL, "%s", err);
    }
    if (in)
        fclose(in);
    unlink(copy);
    T_CHECK(task_find("reach1d") != NULL); /* the first one is still there */
}

// Wilson score interval, written out: (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
static void test_wilson(void)
{
    double lo, hi;
    rollout_wilson(0, 100, &lo, &hi);
    T_CHECK(lo == 0);                              /* exactly: printed as 0 */
    T_NEAR(hi, 3.841459 / (100 + 3.841459), 1e-6); /* k = 0: z^2 / (n + z^2) */
    rollout_wilson(50, 100, &lo, &hi);
    T_NEAR(lo, 0.403832, 1e-5);
    T_NEAR(hi, 0.596168, 1e-5);
    rollout_wilson(20, 20, &lo, &hi);
    T_NEAR(lo, 20 / (20 + 3.841459), 1e-6);
    T_CHECK(hi == 1);
    rollout_wilson(0, 0, &lo, &hi);
    T_CHECK(lo == 0 && hi == 1);
}

int main(void)
{
    T_RUN(test_builtin_facts);
    T_RUN(test_plugin);
    T_RUN(test_plugin_rollout);
    T_RUN(test_bad_plugins);
    T_RUN(test_wilson);
    return T_DONE("task");
}
