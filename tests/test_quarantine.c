/*
 * test_quarantine.c — poisoned replay data cannot stop training (learner/algo.h blame,
 * learner/replay.h replay_quarantine), for SAC and RLDT as the trainer runs them: a replay of
 * clean segments with one segment of 1e30-scale observations and rewards and one with NaN
 * rewards. Every non-finite step names the rows it read, their poison is quarantined, and
 * training goes on: the run ends with a long streak of finite steps and the poison is never
 * sampled again.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/rng.h"
#include "common/util.h"
#include "learner/algo.h"
#include "learner/algo/rldt.h"
#include "learner/algo/sac.h"
#include "learner/replay.h"
#include "tests/algotest.h"
#include "tests/harness.h"

#define SEGS 60     /* clean segments */
#define SEG_T 10    /* steps per segment */
#define HUGE_ID 900 /* traj id of the 1e30 segment */
#define NAN_ID 901  /* and of the NaN one */
#define STEPS 400   /* training steps tried */
#define STREAK 100  /* finite steps in a row the run must end with */

static void add_segment(struct replay *r, const struct algo_dims *d, uint64_t id, struct rng *g)
{
    int S = d->obs_dim, D = d->D;
    float obs[(SEG_T + 1) * 8], act[SEG_T * 8], rew[SEG_T];
    int steps[SEG_T];
    uint8_t term[SEG_T] = {0}, trunc[SEG_T] = {0};
    for (int i = 0; i < (SEG_T + 1) * S; i++)
        obs[i] = id == HUGE_ID && i % 3 == 0 ? 1e30f : (float)rng_range(g, -2, 3);
    for (int i = 0; i < SEG_T * D; i++)
        act[i] = (float)rng_range(g, -0.5, 0.7);
    for (int t = 0; t < SEG_T; t++) {
        rew[t] = id == HUGE_ID ? 1e30f : id == NAN_ID && t == 4 ? NAN : (float)rng_normal(g);
        steps[t] = d->chunk;
    }
    trunc[SEG_T - 1] = 1;
    struct algotest_seg seg = {SEG_T, obs, act, rew, steps, term, trunc};
    algotest_add(r, &seg, id);
}

// clean segments with the two poisoned ones in the middle
static struct replay *poisoned_replay(const struct algo_dims *d)
{
    struct replay *r = replay_new(10000, d->obs_dim, d->D);
    struct rng g;
    rng_init(&g, 11, 0);
    for (uint64_t k = 0; k < SEGS; k++) {
        add_segment(r, d, k, &g);
        if (k == SEGS / 2) {
            add_segment(r, d, HUGE_ID, &g);
            add_segment(r, d, NAN_ID, &g);
        }
    }
    return r;
}

// is a row of segment id among 2000 sampled rows?
static bool sampled(struct replay *r, const struct algo_dims *d, uint64_t id)
{
    float obs[64 * 8], nobs[64 * 8], act[64 * 8], rew[64], done[64];
    uint64_t traj[64];
    struct replay_batch b = {
        .obs = obs, .act = act, .rew = rew, .next_obs = nobs, .done = done, .traj = traj};
    struct rng g;
    rng_init(&g, 5, 1);
    (void)d;
    bool seen = false;
    for (int k = 0; k < 32; k++) {
        if (replay_sample(r, &g, 64, 0, 0, -1, &b) != 64)
            return true;
        for (int i = 0; i < 64; i++)
            seen |= traj[i] == id;
    }
    return seen;
}

// train as the learner does: a non-finite step's rows are blamed and their poison quarantined
static void train_through(const struct algo_ops *ops, struct algo *a, struct replay *r,
                          const struct algo_dims *d)
{
    struct algo_report rep = {0};
    int failed = 0, streak = 0, last_fail = -1, other = 0;
    long segments = 0, outliers = 0;
    for (int i = 0; i < STEPS; i++) {
        int rc = ops->train_step(a, r, &rep);
        if (rc == 0) {
            streak++;
            continue;
        }
        if (rc != -EDOM) {
            other++;
            continue;
        }
        failed++;
        streak = 0;
        last_fail = i;
        const int64_t *slots;
        int n = ops->blame(a, &slots);
        struct replay_quarantined q;
        T_CHECK(n > 0);
        T_EQ_INT(replay_quarantine(r, slots, n, 1000, &q), 0);
        segments += q.segments;
        outliers += q.outliers;
    }
    printf("%s: %d non-finite steps (the last at step %d), %ld segments quarantined (%ld outlier "
           "rows), %d finite steps in a row at the end; replay %ld steps\n",
           ops->name, failed, last_fail, segments, outliers, streak, replay_size(r));
    T_EQ_INT(other, 0);
    T_CHECK(failed > 0);       /* the poison did make steps non-finite */
    T_CHECK(streak >= STREAK); /* and training goes on without it */
    T_CHECK(segments >= 1 && segments <= 2 + failed);
    T_CHECK(!sampled(r, d, NAN_ID) && !sampled(r, d, HUGE_ID));
    T_CHECK(replay_size(r) >=
            (SEGS - failed) * SEG_T); /* clean data is not thrown away wholesale */
}

static void test_sac(void)
{
    struct rl_config c;
    algotest_config(&c, "seed=4 sac_hidden=32 batch_size=32");
    struct algo_dims d = {4, 2, 1, 2};
    char err[256] = "";
    struct algo *a = sac_ops.create(&c, &d, err, sizeof(err));
    T_CHECK_MSG(a != NULL, "%s", err);
    if (!a)
        return;
    struct replay *r = poisoned_replay(&d);
    train_through(&sac_ops, a, r, &d);
    replay_destroy(&r);
    sac_ops.destroy(a);
}

static void test_rldt(void)
{
    struct rl_config c;
    algotest_config(&c, "algo=rldt chunk=2 flow_hidden=16 flow_depth=2 flow_temb=4 flow_steps=4 "
                        "batch_size=8 rldt_particles=4 rldt_actor_batch=6 rldt_critic_hidden=16 "
                        "rldt_critic_depth=2 rldt_critic_round=4 rldt_target_reuse=2 "
                        "rldt_actor_start=4 rldt_actor_every=2 rldt_actor_warmup=0");
    struct algo_dims d = {3, 2, 2, 4};
    struct flow *base = algotest_flow(&c, &d, 2);
    if (!base)
        return;
    char err[300] = "";
    struct algo *a = rldt_new(&c, &d, false, base, NULL, err, sizeof(err));
    T_CHECK_MSG(a != NULL, "%s", err);
    struct replay *r = poisoned_replay(&d);
    if (a)
        train_through(&rldt_ops, a, r, &d);
    // its reward scale did not keep the NaN (a checkpoint of it must stay loadable)
    struct algo_report rep = {0};
    if (a && rldt_ops.train_step(a, r, &rep) == 0)
        for (int i = 0; i < rep.n; i++)
            if (!strcmp(rep.name[i], "reward_scale"))
                T_CHECK_MSG(isfinite(rep.value[i]), "reward_scale %g", rep.value[i]);
    replay_destroy(&r);
    if (a)
        rldt_ops.destroy(a);
    flow_destroy(&base);
}

int main(void)
{
    T_RUN(test_sac);
    T_RUN(test_rldt);
    return T_DONE("quarantine");
}
