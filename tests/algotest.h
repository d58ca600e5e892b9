/*
 * algotest.h — what the algorithm tests (test_rldt, test_rldt_bandit, test_rldt_schedule,
 * test_reinflow_algo, test_pretrain, test_sac, test_flow, test_quarantine) share: a config from
 * the defaults and a line of key=value settings, a seeded random flow policy, one replay
 * segment from arrays and the lookup of an algorithm report's entry.
 * Header-only like harness.h (static inline). Not thread-safe.
 */
#ifndef RL_TEST_ALGOTEST_H
#define RL_TEST_ALGOTEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/rng.h"
#include "learner/algo.h"
#include "learner/replay.h"
#include "tests/harness.h"

/* *c = the defaults, then each space-separated key=value of kv (config_set; a failed check
 * naming the key when one is refused) */
static inline void algotest_config(struct rl_config *c, const char *kv)
{
    config_default(c);
    char buf[1024], err[300];
    snprintf(buf, sizeof(buf), "%s", kv);
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(t, '=');
        T_CHECK_MSG(eq != NULL, "no '=' in %s", t);
        if (!eq)
            continue;
        *eq = '\0';
        T_CHECK_MSG(config_set(c, t, eq + 1, err, sizeof(err)) == 0, "%s", err);
    }
}

/* A flow policy of c's flow keys for dims d, weights drawn from seed (NULL + a failed check
 * naming the error when the spec is refused) */
static inline struct flow *algotest_flow(const struct rl_config *c, const struct algo_dims *d,
                                         uint64_t seed)
{
    struct flow_spec s;
    char err[300] = "";
    struct flow *f = NULL;
    if (flow_spec_from_config(&s, c, d->obs_dim, d->act_dim, d->chunk, err, sizeof(err)) == 0)
        f = flow_new(&s, err, sizeof(err));
    T_CHECK_MSG(f != NULL, "%s", err);
    struct rng r;
    rng_init(&r, seed, 5);
    if (f)
        flow_init(f, &r);
    return f;
}

/* The value of the named entry of an algorithm's report, NaN when it has none */
static inline double algotest_report(const struct algo_report *rep, const char *name)
{
    for (int i = 0; i < rep->n; i++)
        if (!strcmp(rep->name[i], name))
            return rep->value[i];
    return NAN;
}

/* The arrays of one segment (borrowed by algotest_add; steps NULL = H env steps each). */
struct algotest_seg {
    int T;
    const float *obs, *act, *rew;
    const int *steps;
    const uint8_t *term, *trunc;
};

/* Add segment s to r with trajectory id id; replay_add's result. */
static inline int algotest_add(struct replay *r, const struct algotest_seg *s, uint64_t id)
{
    struct replay_segment seg = {.T = s->T,
                                 .obs = s->obs,
                                 .act = s->act,
                                 .rew = s->rew,
                                 .steps = s->steps,
                                 .term = s->term,
                                 .trunc = s->trunc,
                                 .traj_id = id};
    return replay_add(r, &seg);
}

#endif
