/*
 * test_rldt_bandit.c — RLDT on 2-D bandits: with two equally good optima it moves a broad
 * pre-trained flow's samples into both and keeps both; with one, the mean reward rises. The
 * delta variant runs the same bandits and its outcome is printed.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/optim.h"
#include "common/rng.h"
#include "learner/algo/rldt.h"
#include "tests/algotest.h"
#include "tests/harness.h"

// ---- bandits -------------------------------------------------------------------------------

/* rewards: bumps of width 0.2 at m1 = (0.5, 0.5) and (two modes) m2 = (-0.5, -0.5) */
static double bandit_reward(const float *a, bool two)
{
    double d1 = (a[0] - 0.5) * (a[0] - 0.5) + (a[1] - 0.5) * (a[1] - 0.5);
    double d2 = (a[0] + 0.5) * (a[0] + 0.5) + (a[1] + 0.5) * (a[1] + 0.5);
    double r1 = exp(-d1 / 0.08), r2 = exp(-d2 / 0.08);
    return two ? fmax(r1, r2) : r1;
}

/* behaviour cloning of a broad policy: uniform actions on [-0.8, 0.8]² */
static void pretrain_broad(struct flow *f, struct rng *r)
{
    enum { B = 256 };
    struct flow_ctx *x = flow_ctx_new(f, B, true);
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = 2e-3f;
    struct optim *o = optim_new(&oc, f->n_params);
    float xt[B * 2], t[B], obs[B] = {0}, dv[B * 2], tgt[B * 2];
    for (int it = 0; it < 800; it++) {
        for (int i = 0; i < B; i++) {
            t[i] = (float)rng_uniform(r);
            for (int k = 0; k < 2; k++) {
                float a = (float)rng_range(r, -0.8, 0.8), z = (float)rng_normal(r);
                xt[i * 2 + k] = (1 - t[i]) * z + t[i] * a;
                tgt[i * 2 + k] = a - z;
            }
        }
        flow_zero_grad(f);
        const float *v = flow_forward(f, x, xt, t, obs, B);
        for (int j = 0; j < B * 2; j++)
            dv[j] = 2.0f * (v[j] - tgt[j]) / B;
        flow_backward(f, x, dv, NULL, NULL);
        optim_step(o, f->params, f->grads);
    }
    optim_destroy(&o);
    flow_ctx_destroy(&x);
}

struct bandit_eval {
    double mean_reward, share1, share2;
};

/* n policy samples (x0 ~ N(0, I), no exploration noise) */
static struct bandit_eval bandit_eval(struct flow *f, bool two, struct rng *r)
{
    enum { n = 1000 };
    int N = f->spec.steps;
    struct flow_ctx *x = flow_ctx_new(f, n, false);
    float *chain = malloc(sizeof(float) * (N + 1) * n * 2), obs[n] = {0}, a[n * 2];
    rng_normal_fill(r, chain, n * 2);
    flow_sample(f, x, obs, n, chain);
    flow_chain_actions(chain, N, n, 2, NULL, a);
    struct bandit_eval e = {0};
    for (int i = 0; i < n; i++) {
        e.mean_reward += bandit_reward(a + i * 2, two) / n;
        double d1 = hypot(a[i * 2] - 0.5, a[i * 2 + 1] - 0.5);
        double d2 = hypot(a[i * 2] + 0.5, a[i * 2 + 1] + 0.5);
        e.share1 += (d1 < 0.3) / (double)n;
        e.share2 += (d2 < 0.3) / (double)n;
    }
    free(chain);
    flow_ctx_destroy(&x);
    return e;
}

/*
 * Collect with the actors' exploration, train, evaluate. Schedule: 8 critic steps per actor
 * step, the trust-region copy refreshed every 32 actor steps (the published period: one
 * training iteration of 16 rounds x 2 actor steps). Actor lr 3e-4: the published 2e-5 is
 * for runs of 10^6 steps, not a unit test.
 */
static struct bandit_eval run_bandit(bool two, bool delta, int seed, struct bandit_eval *start)
{
    struct rl_config c;
    algotest_config(&c, "chunk=1 flow_hidden=48 flow_depth=2 flow_temb=8 flow_steps=8 "
                        "batch_size=128 rldt_critic_hidden=64 rldt_critic_depth=3 "
                        "rldt_actor_batch=32 rldt_critic_round=8 rldt_actor_every=8 "
                        "rldt_actor_start=1000 rldt_actor_lr=3e-4 rldt_actor_warmup=10 "
                        "rldt_trust_refresh=32 rldt_reward_ema=0");
    c.seed = seed;
    struct algo_dims d = {1, 2, 1, 2};
    struct rng g;
    rng_init(&g, 16 + (uint64_t)seed, 0);
    struct flow *base = algotest_flow(&c, &d, 2 + (uint64_t)seed);
    pretrain_broad(base, &g);
    *start = bandit_eval(base, two, &g);
    char err[300];
    struct algo *a = rldt_new(&c, &d, delta, base, NULL, err, sizeof(err));
    struct flow *f = rldt_actor(a);
    struct flow_ctx *x = flow_ctx_new(f, 32, false);
    struct replay *r = replay_new(8192, 1, 2);
    float chain[9 * 32 * 2], obs[2] = {0}, act[2], rew[1], zeros[32] = {0}, acts[64];
    uint8_t term[1] = {1}, trunc[1] = {0};
    struct algo_report rep = {0};
    uint64_t id = 0;
    for (int it = 0; it < 400; it++) {
        rng_normal_fill(&g, chain, 64);
        flow_sample(f, x, zeros, 32, chain);
        flow_chain_actions(chain, 8, 32, 2, &g, acts);
        for (int i = 0; i < 32; i++) {
            act[0] = acts[i * 2];
            act[1] = acts[i * 2 + 1];
            rew[0] = (float)bandit_reward(act, two);
            struct algotest_seg seg = {1, obs, act, rew, NULL, term, trunc};
            algotest_add(r, &seg, id++);
        }
        for (int k = 0; k < 16 && it >= 2; k++)
            rldt_ops.train_step(a, r, &rep);
    }
    struct bandit_eval e = bandit_eval(f, two, &g);
    fprintf(stderr,
            "  %s, %s, seed %d: reward %.3f -> %.3f, share near m1 %.2f -> %.2f, m2 %.2f -> "
            "%.2f (actor steps %g, diversity %.3f)\n",
            delta ? "rldt-delta" : "rldt", two ? "two optima" : "one optimum", seed,
            start->mean_reward, e.mean_reward, start->share1, e.share1, start->share2, e.share2,
            algotest_report(&rep, "actor_steps"), algotest_report(&rep, "particle_diversity"));
    flow_ctx_destroy(&x);
    replay_destroy(&r);
    rldt_ops.destroy(a);
    flow_destroy(&base);
    return e;
}

/* RLDT_BANDIT_SEEDS=n runs the bandits on seeds 1..n (default 2) */
static int bandit_seeds(void)
{
    const char *e = getenv("RLDT_BANDIT_SEEDS");
    return e && atoi(e) > 0 ? atoi(e) : 2;
}

/* both optima gain mass and both keep it */
static void test_bandit_two_optima(void)
{
    for (int seed = 1; seed <= bandit_seeds(); seed++) {
        struct bandit_eval s, e = run_bandit(true, false, seed, &s);
        T_CHECK(s.share1 < 0.2 && s.share2 < 0.2); /* a broad start */
        T_CHECK_MSG(e.share1 + e.share2 > 3 * (s.share1 + s.share2),
                    "mass in the optima %.2f -> %.2f", s.share1 + s.share2, e.share1 + e.share2);
        T_CHECK_MSG(e.share1 > 0.15 && e.share2 > 0.15, "modes %.2f / %.2f", e.share1, e.share2);
        T_CHECK(e.mean_reward > s.mean_reward + 0.3);
    }
}

static void test_bandit_one_optimum(void)
{
    struct bandit_eval s, e = run_bandit(false, false, 1, &s);
    T_CHECK_MSG(e.mean_reward > s.mean_reward + 0.3 && e.share1 > 0.5, "mean reward %.3f -> %.3f",
                s.mean_reward, e.mean_reward);
}

/*
 * The ablation, reported; only what is robust is asserted (it improves the reward). Measured
 * with RLDT_BANDIT_SEEDS=8 and two optima: delta loses a mode entirely (share <= 0.01) on
 * seeds 1, 2, 5, 6, 7 and keeps both (0.07-0.87) on 3, 4, 8; RLDT keeps both on all eight
 * (each mode 0.26-0.59).
 */
static void test_bandit_delta(void)
{
    for (int seed = 1; seed <= bandit_seeds(); seed++) {
        struct bandit_eval s, e = run_bandit(true, true, seed, &s);
        T_CHECK(e.mean_reward > s.mean_reward + 0.3);
    }
    struct bandit_eval s, e = run_bandit(false, true, 1, &s);
    T_CHECK(e.mean_reward > s.mean_reward + 0.3);
}

int main(void)
{
    /* small nets: a BLAS thread pool only adds overhead, and on a loaded machine its spinning
     * threads cost several times the wall time (the bandits took 5.6 min instead of 1 with two
     * BLAS threads beside other jobs, and timed out under make san) */
    openblas_set_num_threads(1);
    T_RUN(test_bandit_two_optima);
    T_RUN(test_bandit_one_optimum);
    T_RUN(test_bandit_delta);
    return T_DONE("rldt_bandit");
}
