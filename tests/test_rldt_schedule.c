/*
 * test_rldt_schedule.c — RLDT's steadiness levers (learner/algo/rldt.h): the ramp of critic
 * steps per actor step (rldt_actor_cum against hand sums, and the order of critic and actor
 * steps it gives through train_step) and the warm-up Polyak rate (the target critics follow
 * the online ones at rldt_warmup_tau before rldt_actor_start, at tau after).
 */
#include <math.h>
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
#include "tests/harness.h"

enum { OBS = 3, ACT = 2, CHUNK = 2 };

static void tiny_config(struct rl_config *c)
{
    config_default(c);
    snprintf(c->algo, sizeof(c->algo), "rldt");
    c->chunk = CHUNK;
    c->flow_hidden = 16;
    c->flow_depth = 2;
    c->flow_temb = 4;
    c->flow_steps = 4;
    c->batch_size = 8;
    c->rldt_particles = 4;
    c->rldt_actor_batch = 6;
    c->rldt_critic_hidden = 16;
    c->rldt_critic_depth = 2;
    c->rldt_critic_round = 4;
    c->rldt_actor_start = 4;
    c->rldt_actor_every = 2;
    c->rldt_actor_warmup = 0;
}

/* 20 segments of 10 random steps, alternately ending terminal and truncated */
static struct replay *random_replay(void)
{
    enum { T = 10, S = OBS, D = ACT * CHUNK };
    struct replay *r = replay_new(1000, S, D);
    struct rng g;
    rng_init(&g, 3, 0);
    float obs[(T + 1) * S], act[T * D], rew[T];
    int steps[T];
    uint8_t term[T], trunc[T];
    for (int k = 0; k < 20; k++) {
        for (int i = 0; i < (T + 1) * S; i++)
            obs[i] = (float)rng_range(&g, -2, 3);
        for (int i = 0; i < T * D; i++)
            act[i] = (float)rng_range(&g, -0.5, 0.7);
        for (int t = 0; t < T; t++) {
            rew[t] = (float)rng_normal(&g);
            steps[t] = CHUNK;
            term[t] = trunc[t] = 0;
        }
        term[T - 1] = k % 2 == 0;
        trunc[T - 1] = k % 2 == 1;
        struct replay_segment seg = {.T = T,
                                     .obs = obs,
                                     .act = act,
                                     .rew = rew,
                                     .steps = steps,
                                     .term = term,
                                     .trunc = trunc,
                                     .traj_id = (uint64_t)k};
        replay_add(r, &seg);
    }
    return r;
}

static struct algo *new_rldt(const struct rl_config *c, struct flow **base)
{
    struct algo_dims d = {OBS, ACT, CHUNK, ACT * CHUNK};
    struct flow_spec fs;
    char err[300];
    *base = NULL;
    if (flow_spec_from_config(&fs, c, OBS, ACT, CHUNK, err, sizeof(err)) < 0)
        return NULL;
    *base = flow_new(&fs, err, sizeof(err));
    if (!*base)
        return NULL;
    struct rng r;
    rng_init(&r, 1, 5);
    flow_init(*base, &r);
    return rldt_new(c, &d, false, *base, NULL, err, sizeof(err));
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
static void test_ramp_order(void)
{
    struct rl_config c;
    tiny_config(&c);
    c.rldt_actor_every0 = 8;
    c.rldt_actor_ramp = 3;
    struct flow *base;
    struct algo *a = new_rldt(&c, &base);
    T_CHECK(a != NULL);
    if (!a)
        return;
    struct replay *r = random_replay();
    const char *want = "CCCCCCCCCCCCACCCCCCCCACCCCAACCCCAA";
    char got[64] = "";
    struct algo_report rep = {0};
    for (int i = 0; i < (int)strlen(want); i++) {
        long before = 0;
        for (int k = 0; k < rep.n; k++)
            if (!strcmp(rep.name[k], "actor_steps"))
                before = (long)rep.value[k];
        T_EQ_INT(rldt_ops.train_step(a, r, &rep), 0);
        long after = -1;
        for (int k = 0; k < rep.n; k++)
            if (!strcmp(rep.name[k], "actor_steps"))
                after = (long)rep.value[k];
        got[i] = after > before ? 'A' : 'C';
    }
    T_EQ_STR(got, want);
    replay_destroy(&r);
    rldt_ops.destroy(a);
    flow_destroy(&base);
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
static void test_warmup_tau(void)
{
    struct rl_config c;
    tiny_config(&c);
    c.tau = 0.01;
    c.rldt_warmup_tau = 0.3;
    c.rldt_actor_every = 1000; /* critic steps only */
    struct flow *base;
    struct algo *a = new_rldt(&c, &base);
    T_CHECK(a != NULL);
    if (!a)
        return;
    struct replay *r = random_replay();
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
    replay_destroy(&r);
    rldt_ops.destroy(a);
    flow_destroy(&base);
}

int main(void)
{
    T_RUN(test_cum);
    T_RUN(test_ramp_order);
    T_RUN(test_warmup_tau);
    return T_DONE("rldt_schedule");
}
