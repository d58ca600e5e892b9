/*
 * test_sparse.c — RLDT's sparse-reward mode (learner/replay.h replay_set_sparse, the
 * rldt_clip_targets key): the steps after a success never enter the replay and the success step
 * is terminal; succeeded and failed segments get equal shares of the non-fresh rows of a batch
 * (and keep their classes through eviction, a trim and a save/load); TD(λ = 0.5) targets over a
 * stored trajectory match a hand computation, stop at the success, and are clipped to [0, 1].
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/nn.h"
#include "common/rng.h"
#include "learner/algo/critic.h"
#include "learner/algo/rldt.h"
#include "learner/replay.h"
#include "tests/algotest.h"
#include "tests/harness.h"

enum { O = 2, D = 4, TMAX = 16, BMAX = 512 };

/* a segment whose observation at step t is (traj, t); rewards given; terminal only if `term` */
static int add_seg(struct replay *r, uint64_t traj, int T, const float *rew, bool term,
                   const int *steps)
{
    float obs[(TMAX + 1) * O], act[TMAX * D] = {0};
    uint8_t te[TMAX] = {0}, tr[TMAX] = {0};
    for (int t = 0; t <= T; t++) {
        obs[t * O] = (float)traj;
        obs[t * O + 1] = (float)t;
    }
    te[T - 1] = term;
    tr[T - 1] = !term;
    struct algotest_seg s = {T, obs, act, rew, steps, te, tr};
    return algotest_add(r, &s, traj);
}

struct batch {
    float obs[BMAX * O], next[BMAX * O], act[BMAX * D], rew[BMAX], done[BMAX], steps[BMAX];
    uint64_t traj[BMAX];
    int64_t index[BMAX];
    struct replay_batch b;
};

static void batch_init(struct batch *x)
{
    x->b = (struct replay_batch){.obs = x->obs, .act = x->act, .rew = x->rew, .next_obs = x->next};
    x->b.done = x->done, x->b.steps = x->steps, x->b.traj = x->traj, x->b.index = x->index;
}

static const float ZERO5[5] = {0, 0, 0, 0, 0};

/* rewards 0 0 1 0 0 without a terminal: 3 steps stored, the third terminal; nothing after */
static void test_mask(void)
{
    static struct batch x;
    batch_init(&x);
    struct replay *r = replay_new(100, O, D);
    replay_set_sparse(r, 1.0, false);
    const float rew[5] = {0, 0, 1, 0, 0};
    T_EQ_INT(add_seg(r, 7, 5, rew, false, NULL), 0);
    T_EQ_INT(replay_size(r), 3);
    T_EQ_INT(add_seg(r, 8, 5, ZERO5, false, NULL), 0);
    T_EQ_INT(replay_size(r), 8);
    long n[2];
    replay_class_sizes(r, n);
    T_EQ_INT(n[0], 5);
    T_EQ_INT(n[1], 3);
    replay_get(r, 2, &x.b, 0);
    T_CHECK(x.done[0] == 1 && x.rew[0] == 1 && x.obs[1] == 2);
    T_CHECK(replay_next(r, 2) == -1);
    replay_get(r, 7, &x.b, 0); /* the failed segment's truncated end bootstraps */
    T_CHECK(x.done[0] == 0);
    // no sampled state (critic or actor batch) comes after the success
    struct rng g;
    rng_init(&g, 3, 0);
    int seen_succ = 0;
    for (int k = 0; k < 20; k++) {
        T_EQ_INT(replay_sample(r, &g, 64, 0.3, 4, -1, &x.b), 64);
        for (int i = 0; i < 64; i++) {
            if (x.traj[i] == 7) {
                T_CHECK(x.obs[i * O + 1] <= 2);
                seen_succ++;
            }
        }
    }
    T_CHECK(seen_succ > 0);
    // off (the dense default): everything stored, flags as sent
    struct replay *d = replay_new(100, O, D);
    T_EQ_INT(add_seg(d, 7, 5, rew, false, NULL), 0);
    T_EQ_INT(replay_size(d), 5);
    replay_get(d, 2, &x.b, 0);
    T_CHECK(x.done[0] == 0);
    replay_class_sizes(d, n);
    T_CHECK(n[0] == 5 && n[1] == 0);
    replay_destroy(&d);
    replay_destroy(&r);
}

/* 36 failed and 4 succeeded segments of 5 steps: the share of succeeded rows in a batch */
static double succ_share(struct replay *r, struct rng *g, double fresh, long window, int parity,
                         struct batch *x)
{
    long succ = 0, rows = 0;
    for (int k = 0; k < 40; k++) {
        if (replay_sample(r, g, 60, fresh, window, parity, &x->b) != 60)
            return -1;
        for (int i = 0; i < 60; i++) {
            succ += x->traj[i] % 10 == 3;
            rows++;
            if (parity >= 0 && (int)(x->traj[i] % 2) != parity)
                return -2;
        }
    }
    return (double)succ / rows;
}

static void fill_mixed(struct replay *r, int nseg)
{
    const float win[5] = {0, 0, 0, 0, 1};
    for (int k = 0; k < nseg; k++) /* traj % 10 == 3: succeeded (4 of 40), last one failed */
        add_seg(r, (uint64_t)k, 5, k % 10 == 3 ? win : ZERO5, true, NULL);
}

/* a replay of 1000 with sparse classes (stratified draws or not) holding fill_mixed's 40; x
 * ready for draws, g seeded */
static struct replay *mixed_replay(bool stratify, struct batch *x, struct rng *g, uint64_t seed)
{
    batch_init(x);
    rng_init(g, seed, 0);
    struct replay *r = replay_new(1000, O, D);
    replay_set_sparse(r, 1.0, stratify);
    fill_mixed(r, 40);
    return r;
}

static void test_stratify(void)
{
    static struct batch x;
    struct rng g;
    struct replay *r = mixed_replay(false, &x, &g, 5);
    double plain = succ_share(r, &g, 0, 1, -1, &x);
    T_CHECK_MSG(plain > 0.04 && plain < 0.17, "uniform share %.3f (0.1 stored)", plain);
    replay_set_sparse(r, 1.0, true);
    double strat = succ_share(r, &g, 0, 1, -1, &x);
    T_CHECK_MSG(fabs(strat - 0.5) < 0.03, "stratified share %.3f", strat);
    // a third fresh from the newest 5 steps (a failed segment), the rest half and half
    double fresh = succ_share(r, &g, 1.0 / 3, 5, -1, &x);
    T_CHECK_MSG(fabs(fresh - 1.0 / 3) < 0.04, "share %.3f with a fresh third", fresh);
    // the critic halves: parity kept, still half succeeded (segments 3, 13, ... are odd)
    double odd = succ_share(r, &g, 0, 1, 1, &x);
    T_CHECK_MSG(fabs(odd - 0.5) < 0.04, "odd half share %.3f", odd);
    T_CHECK(succ_share(r, &g, 0, 1, 0, &x) == 0); /* no even succeeded segment: all failed */
    // classes survive a save and load, and follow eviction and trims
    char path[] = "/tmp/rldt-sparse-XXXXXX";
    int fd = mkstemp(path);
    T_CHECK(fd >= 0);
    close(fd);
    char err[256];
    T_CHECK(replay_save(r, path, 0, err, sizeof(err)) >= 0);
    struct replay *b = replay_new(1000, O, D);
    replay_set_sparse(b, 1.0, true);
    T_EQ_INT(replay_load(b, path, NULL, err, sizeof(err)), 200);
    long n[2];
    replay_class_sizes(b, n);
    T_CHECK(n[0] == 180 && n[1] == 20);
    double loaded = succ_share(b, &g, 0, 1, -1, &x);
    T_CHECK_MSG(fabs(loaded - 0.5) < 0.03, "share after load %.3f", loaded);
    T_EQ_INT(replay_trim(b, replay_inserted(b) - 7), 7); /* the newest 7: segment 39 + 2 of 38 */
    replay_class_sizes(b, n);
    T_CHECK(n[0] == 173 && n[1] == 20);
    replay_destroy(&b);
    unlink(path);
    /* a ring of 33 keeps segments 34-39 and the last 3 steps of succeeded segment 33 */
    struct replay *small = replay_new(33, O, D);
    replay_set_sparse(small, 1.0, true);
    fill_mixed(small, 40);
    replay_class_sizes(small, n);
    T_CHECK(n[0] == 30 && n[1] == 3);
    double kept = succ_share(small, &g, 0, 1, -1, &x);
    T_CHECK_MSG(fabs(kept - 0.5) < 0.04, "share after eviction %.3f", kept);
    for (int i = 0; i < 60; i++) /* the class queues hold live slots: stored data matches */
        T_CHECK(x.traj[i] >= 33 && x.obs[i * O] == (float)x.traj[i]);
    replay_destroy(&small);
    replay_destroy(&r);
}

/* quarantined steps (replay_quarantine) never come out of a stratified draw; a class emptied by
 * quarantine leaves its rows to the other class */
static void test_stratify_quarantine(void)
{
    static struct batch x;
    struct rng g;
    struct replay *r = mixed_replay(true, &x, &g, 9);
    struct replay_quarantined q;
    const int64_t seg3[1] = {15}; /* succeeded segment 3: slots 15..19 */
    T_EQ_INT(replay_quarantine(r, seg3, 1, 10.0, &q), 0);
    T_CHECK(q.segments == 1 && q.steps == 5);
    double share = succ_share(r, &g, 0, 1, -1, &x);
    T_CHECK_MSG(fabs(share - 0.5) < 0.03, "share with one succeeded segment quarantined %.3f",
                share);
    long seen3 = 0;
    for (int k = 0; k < 40; k++) {
        T_EQ_INT(replay_sample(r, &g, 60, 0, 1, -1, &x.b), 60);
        for (int i = 0; i < 60; i++)
            seen3 += x.traj[i] == 3;
    }
    T_EQ_INT(seen3, 0);
    for (int64_t s = 65; s < 200; s += 50) { /* segments 13, 23, 33 */
        const int64_t one[1] = {s};
        T_EQ_INT(replay_quarantine(r, one, 1, 10.0, &q), 0);
        T_CHECK(q.steps == 5);
    }
    T_CHECK(succ_share(r, &g, 0, 1, -1, &x) == 0); /* only failed steps are alive */
    replay_destroy(&r);
}

// ---- targets -------------------------------------------------------------------------------

/* target critics that answer c everywhere */
static void constant_targets(struct critic *cr, float c)
{
    for (int k = 0; k < 2; k++) {
        struct nn *n = cr->targ[k];
        memset(n->params, 0, n->n_params * sizeof(float));
        n->params[n->layer[n->n_layers - 1].b] = c;
    }
}

static struct algo *sparse_rldt(struct flow **base, bool clip)
{
    struct rl_config c;
    /* gamma 0.9: 0.81 per chunk step of 2 env steps */
    algotest_config(&c, "algo=rldt chunk=2 flow_hidden=8 flow_depth=1 flow_temb=4 flow_steps=2 "
                        "batch_size=8 rldt_critic_hidden=8 rldt_critic_depth=1 "
                        "rldt_critic_round=4 rldt_lambda=0.5 rldt_td_horizon=8 rldt_reward_ema=0 "
                        "gamma=0.9 success_threshold=1");
    c.rldt_clip_targets = clip;
    struct algo_dims d = {O, 2, 2, D};
    struct flow_spec fs;
    char err[300];
    if (flow_spec_from_config(&fs, &c, O, 2, 2, err, sizeof(err)) < 0)
        return NULL;
    *base = flow_new(&fs, err, sizeof(err));
    struct rng g;
    rng_init(&g, 1, 0);
    flow_init(*base, &g);
    struct algo *a = rldt_new(&c, &d, false, *base, NULL, err, sizeof(err));
    T_CHECK_MSG(a != NULL, "%s", err);
    return a;
}

/* y of the n stored steps from slot 0, target critics answering c */
static void targets(struct algo *a, struct replay *r, float c, int n, float *y)
{
    constant_targets(rldt_critic(a), c);
    int64_t idx[TMAX];
    for (int i = 0; i < n; i++)
        idx[i] = i;
    T_EQ_INT(rldt_targets(a, r, idx, n, y), 0);
}

static void test_targets_hand(void)
{
    struct flow *base = NULL, *base2 = NULL;
    struct algo *a = sparse_rldt(&base, true), *u = sparse_rldt(&base2, false);
    if (!a || !u)
        return;
    struct replay *r = replay_new(100, O, D);
    replay_set_sparse(r, 1.0, true);
    /* slots 0-3: success at the 4th chunk step after 1 env step; the 5th is masked out.
     * slots 4-6: a failed episode truncated after 3 chunk steps */
    const float rew[5] = {0, 0, 0, 1, 0};
    const int steps[5] = {2, 2, 2, 1, 2};
    add_seg(r, 0, 5, rew, false, steps);
    add_seg(r, 1, 3, ZERO5, false, NULL);
    T_EQ_INT(replay_size(r), 7);
    float y[7];
    /* by hand, d = 0.9^2 = 0.81, λ = 0.5, Q̄ = 0.8:
     * y3 = 1 (success: terminal)
     * y2 = 0.81 (0.5·0.8 + 0.5·1)        = 0.729
     * y1 = 0.81 (0.4 + 0.5·0.729)        = 0.619245
     * y0 = 0.81 (0.4 + 0.5·0.619245)     = 0.574794225
     * failed, truncated: y6 = 0.81·0.8 = 0.648, y5 = 0.81 (0.4 + 0.324) = 0.58644,
     * y4 = 0.81 (0.4 + 0.29322) = 0.5615082 */
    const double want[7] = {0.574794225, 0.619245, 0.729, 1, 0.5615082, 0.58644, 0.648};
    targets(a, r, 0.8f, 7, y);
    for (int i = 0; i < 7; i++)
        T_NEAR(y[i], want[i], 1e-5);
    /* Q̄ = 3: unclipped y2 = 0.81 (1.5 + 0.5) = 1.62, y1 = 0.81 (1.5 + 0.81) = 1.8711,
     * y0 = 0.81 (1.5 + 0.93555) = 1.9727955; clipped: all 1 */
    targets(u, r, 3.0f, 4, y);
    T_NEAR(y[0], 1.9727955, 1e-4);
    T_NEAR(y[1], 1.8711, 1e-4);
    T_NEAR(y[2], 1.62, 1e-4);
    T_NEAR(y[3], 1, 1e-6);
    targets(a, r, 3.0f, 4, y);
    for (int i = 0; i < 4; i++)
        T_NEAR(y[i], 1, 1e-6);
    /* Q̄ = -2: y2 = 0.81 (-1 + 0.5) = -0.405 -> 0, y1 = 0.81 (-1 - 0.2025) < 0 -> 0 */
    targets(u, r, -2.0f, 3, y);
    T_NEAR(y[2], -0.405, 1e-5);
    targets(a, r, -2.0f, 4, y);
    T_CHECK(y[0] == 0 && y[1] == 0 && y[2] == 0 && y[3] == 1);
    replay_destroy(&r);
    rldt_ops.destroy(a);
    rldt_ops.destroy(u);
    flow_destroy(&base);
    flow_destroy(&base2);
}

/* clipping needs the threshold that bounds it */
static void test_clip_needs_threshold(void)
{
    struct rl_config c;
    config_default(&c);
    snprintf(c.algo, sizeof(c.algo), "rldt");
    c.chunk = 2;
    c.rldt_clip_targets = true;
    c.success_threshold = 0;
    struct algo_dims d = {O, 2, 2, D};
    struct flow_spec fs;
    char err[300];
    T_CHECK(flow_spec_from_config(&fs, &c, O, 2, 2, err, sizeof(err)) == 0);
    struct flow *base = flow_new(&fs, err, sizeof(err));
    err[0] = 0;
    struct algo *a = rldt_new(&c, &d, false, base, NULL, err, sizeof(err));
    T_CHECK(a == NULL && strstr(err, "success_threshold") != NULL);
    flow_destroy(&base);
}

int main(void)
{
    T_RUN(test_mask);
    T_RUN(test_stratify);
    T_RUN(test_stratify_quarantine);
    T_RUN(test_targets_hand);
    T_RUN(test_clip_needs_threshold);
    return T_DONE("sparse");
}
