/*
 * test_rldt_schedule.c — RLDT's steadiness levers (learner/algo/rldt.h): the ramp of critic
 * steps per actor step (rldt_actor_cum against hand sums, and the order of critic and actor
 * steps it gives through train_step) and the warm-up Polyak rate (the target critics follow
 * the online ones at rldt_warmup_tau before rldt_actor_start, at tau after).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/nn.h"
#include "common/rng.h"
#include "common/util.h"
#include "learner/algo/critic.h"
#include "learner/algo/rldt.h"
#include "learner/replay.h"
#include "deploy/rldt/synth.h"
#include "tests/algotest.h"
#include "tests/harness.h"

enum { OBS = 3, ACT = 2, CHUNK = 2 };

static void tiny_config(struct rl_config *c)
{
    algotest_config(c, "algo=rldt chunk=2 flow_hidden=16 flow_depth=2 flow_temb=4 flow_steps=4 "
                       "batch_size=8 rldt_particles=4 rldt_actor_batch=6 rldt_critic_hidden=16 "
                       "rldt_critic_depth=2 rldt_critic_round=4 rldt_actor_start=4 "
                       "rldt_actor_every=2 rldt_actor_warmup=0");
}

/* an RLDT instance of config c on a random base flow, and a replay of 20 segments of 10 random
 * steps, alternately ending terminal and truncated */
struct fix {
    struct flow *base;
    struct algo *a;
    struct replay *r;
};

static bool fix_init(struct fix *x, const struct rl_config *c)
{
    struct algo_dims d = {OBS, ACT, CHUNK, ACT * CHUNK};
    char err[300] = "";
    x->base = algotest_flow(c, &d, 1);
    x->a = x->base ? rldt_new(c, &d, false, x->base, NULL, err, sizeof(err)) : NULL;
    T_CHECK_MSG(x->a != NULL, "%s", err);
    x->r = replay_new(1000, OBS, d.D);
    struct rng g;
    rng_init(&g, 3, 0);
    struct synth_spec sp = {.S = OBS,
                            .D = d.D,
                            .T = 10,
                            .steps = CHUNK,
                            .obs_lo = -2,
                            .obs_hi = 3,
                            .act_lo = -0.5f,
                            .act_hi = 0.7f,
                            .end = SYNTH_END_ALTERNATE};
    T_EQ_INT(synth_fill_replay(x->r, &g, &sp, 20), 0);
    return x->a != NULL;
}

static void fix_fini(struct fix *x)
{
    replay_destroy(&x->r);
    if (x->a)
        rldt_ops.destroy(x->a);
    flow_destroy(&x->base);
}

/* body(a, r) on the fixture of config c (not run when the instance cannot be made) */
static void with_fix(const struct rl_config *c, void (*body)(struct algo *a, struct replay *r))
{
    struct fix x;
    if (fix_init(&x, c))
        body(x.a, x.r);
    fix_fini(&x);
}

/* intervals 8, 6, 4, then 2: due after 8, 14, 18, 20, 22 critic steps */
static void test_cum(void)
{
    long want[] = {0, 8, 14, 18, 20, 22, 24};
    for (long n = 0; n < (long)RL_ARRAY_LEN(want); n++)
        T_EQ_INT(rldt_actor_cum(8, 2, 3, n), want[n]);
    // no ramp (every0 0, ramp 0, or every0 == every): n * every
    for (long n = 0; n < 50; n += 7) {
        T_EQ_INT(rldt_actor_cum(0, 16, 100, n), 16 * n);
        T_EQ_INT(rldt_actor_cum(64, 16, 0, n), 16 * n);
        T_EQ_INT(rldt_actor_cum(16, 16, 100, n), 16 * n);
    }
    // 64 -> 16 over 128 actor steps: 128 * (64 + 16.375) / 2 = 5144 critic steps, then 16 each
    T_EQ_INT(rldt_actor_cum(64, 16, 128, 128), 5144);
    T_EQ_INT(rldt_actor_cum(64, 16, 128, 130), 5144 + 32);
    // an upward ramp (fewer actor steps later) is a sum too: 2, 4, 6, then 8
    T_EQ_INT(rldt_actor_cum(2, 8, 3, 4), 2 + 4 + 6 + 8);
}

/*
 * round 4, actor_start 4, intervals 8, 6, 4, then 2 (actor steps run when a round ends):
 * critic steps 12 -> 1 actor step (8 due), 20 -> 1 (14), 24 -> 2 (18, 20), 28 -> 2 (22, 24)
 */
// the report's actor_steps, or none when it has none
static long actor_steps(const struct algo_report *rep, long none)
{
    for (int k = 0; k < rep->n; k++)
        if (!strcmp(rep->name[k], "actor_steps"))
            return (long)rep->value[k];
    return none;
}

static void ramp_order(struct algo *a, struct replay *r)
{
    const char *want = "CCCCCCCCCCCCACCCCCCCCACCCCAACCCCAA";
    char got[64] = "";
    struct algo_report rep = {0};
    for (int i = 0; i < (int)strlen(want); i++) {
        long before = actor_steps(&rep, 0);
        T_EQ_INT(rldt_ops.train_step(a, r, &rep), 0);
        got[i] = actor_steps(&rep, -1) > before ? 'A' : 'C';
    }
    T_EQ_STR(got, want);
}

static void test_ramp_order(void)
{
    struct rl_config c;
    tiny_config(&c);
    c.rldt_actor_every0 = 8;
    c.rldt_actor_ramp = 3;
    with_fix(&c, ramp_order);
}

/* largest |targ_new - ((1 - t) targ_old + t q_new)| over critic 0's parameters */
static double polyak_error(const struct critic *q, const float *old, double t)
{
    const struct nn *on = q->q[0], *tg = q->targ[0];
    double worst = 0;
    for (size_t i = 0; i < tg->n_params; i++) {
        double want = (1 - t) * old[i] + t * on->params[i];
        worst = fmax(worst, fabs(tg->params[i] - want));
    }
    return worst;
}

/* warm-up tau 0.3 for the 4 critic steps before actor_start, tau 0.01 after */
static void warmup_tau(struct algo *a, struct replay *r)
{
    struct critic *q = rldt_critic(a);
    size_t n = q->targ[0]->n_params;
    float *old = malloc(n * sizeof(float));
    struct algo_report rep = {0};
    for (int step = 0; step < 8; step++) {
        memcpy(old, q->targ[0]->params, n * sizeof(float));
        T_EQ_INT(rldt_ops.train_step(a, r, &rep), 0);
        double t = step < 4 ? 0.3 : 0.01, other = step < 4 ? 0.01 : 0.3;
        T_CHECK_MSG(polyak_error(q, old, t) < 1e-6, "step %d: rate %g", step, t);
        T_CHECK_MSG(polyak_error(q, old, other) > 1e-4, "step %d: not rate %g", step, other);
    }
    free(old);
}

static void test_warmup_tau(void)
{
    struct rl_config c;
    tiny_config(&c);
    c.tau = 0.01;
    c.rldt_warmup_tau = 0.3;
    c.rldt_actor_every = 1000; /* critic steps only */
    with_fix(&c, warmup_tau);
}

int main(void)
{
    T_RUN(test_cum);
    T_RUN(test_ramp_order);
    T_RUN(test_warmup_tau);
    return T_DONE("rldt_schedule");
}
