/*
 * envtest.h — what the environment tests (test_env.c, test_manip.c) share: load a built-in task
 * with a checked error, write a temp MJCF file, and record the observation trace of seeded random
 * actions. Header-only like harness.h (static inline). Not thread-safe.
 */
#ifndef RL_TEST_ENVTEST_H
#define RL_TEST_ENVTEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/env.h"
#include "common/rng.h"
#include "tests/harness.h"

#define ENVTEST_MAX_ACT 8 /* widest action envtest_trace drives (the built-in tasks: 3 to 6) */

/* The built-in model of task (a failed check naming the error, and NULL, when it fails). */
static inline struct env_model *envtest_load(const char *task)
{
    char err[512] = "";
    struct env_model *m = env_model_load(task, NULL, err, sizeof(err));
    T_CHECK_MSG(m != NULL, "%s: %s", task, err);
    return m;
}

/* Write text to a fresh file /tmp/<prefix>_XXXXXX; its name goes to path (len bytes). */
static inline void envtest_write_tmp(char *path, size_t len, const char *prefix, const char *text)
{
    snprintf(path, len, "/tmp/%s_XXXXXX", prefix);
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    if (fd < 0)
        return;
    T_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

/* n steps of actions ~ U[-1,1] (rng seed 99) on an env(seed, stream, max_steps), resetting at
 * episode ends: the observations go to out, O floats a step. */
static inline void envtest_trace(struct env_model *em, uint64_t seed, uint64_t stream,
                                 int max_steps, int n, int O, float *out)
{
    int A = env_model_act_dim(em);
    T_CHECK(A <= ENVTEST_MAX_ACT);
    if (A > ENVTEST_MAX_ACT)
        return;
    struct env *e = env_new(em, seed, stream, max_steps);
    struct rng r;
    rng_init(&r, 99, 0);
    float a[ENVTEST_MAX_ACT];
    struct env_step_info info;
    env_reset(e, NULL);
    for (int t = 0; t < n; t++) {
        for (int i = 0; i < A; i++)
            a[i] = (float)rng_range(&r, -1, 1);
        env_step(e, a, A, out + (size_t)t * O, &info);
        if (info.terminated || info.truncated)
            env_reset(e, NULL);
    }
    env_destroy(&e);
}

#endif
