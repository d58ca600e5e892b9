/*
 * test_pretrain.c — conditional flow matching: on a 2-D action dataset with two separated modes
 * (30% / 70%), the pre-trained (EMA) policy's samples fall into both modes with the right
 * proportions and stay on the data; the loss falls; the EMA follows its definition; a saved and
 * resumed run continues bit for bit; states of another shape are refused; saved policies load.
 *
 * Distance measure: each sample's distance to the nearest mode centre, in units of the modes'
 * standard deviation σ. With σ = 0.05 per axis, a true data point lies beyond 5σ with
 * probability exp(−12.5) ≈ 4e-6, while the centres are 34σ apart, so "within 5σ of a centre"
 * separates samples on the data from samples in the empty gap between the modes (the typical
 * failure of an under-fitted flow) or far outside; at least 90% of samples must be within it.
 */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/dataset.h"
#include "common/flow.h"
#include "common/norm.h"
#include "common/policy.h"
#include "common/rng.h"
#include "learner/algo/pretrain.h"
#include "tests/algotest.h"
#include "tests/harness.h"

#define SIGMA 0.05f
#define P_A 0.3

static const float centre[2][2] = {{-0.6f, -0.6f}, {0.6f, 0.6f}};
static char tmpdir[64];

// 4000 rows in 40 episodes: obs = 1 irrelevant uniform feature, action from mode A (30%) or B
static void two_modes(struct dataset *d, uint64_t seed)
{
    dataset_init(d, "toy", 1, 2);
    struct rng r;
    rng_init(&r, seed, 0);
    float obs[100], act[200], rew[100], fin[1] = {0};
    for (int e = 0; e < 40; e++) {
        for (int i = 0; i < 100; i++) {
            int m = rng_uniform(&r) < P_A ? 0 : 1;
            obs[i] = (float)rng_range(&r, -1, 1);
            act[2 * i] = centre[m][0] + SIGMA * (float)rng_normal(&r);
            act[2 * i + 1] = centre[m][1] + SIGMA * (float)rng_normal(&r);
            rew[i] = 0;
        }
        dataset_add_episode(d, 100, obs, act, rew, fin, DATASET_EP_TIMELIMIT);
    }
}

static void toy_config(struct rl_config *c)
{
    algotest_config(c, "algo=rldt chunk=1 flow_hidden=64 flow_depth=3 flow_steps=8 "
                       "pretrain_batch=256 pretrain_lr=2e-3 pretrain_steps=2500 ema_decay=0.995 "
                       "seed=3");
}

static void test_two_modes(void)
{
    struct dataset d;
    struct rl_config c;
    char err[300];
    two_modes(&d, 1);
    toy_config(&c);
    struct pretrain *p = pretrain_new(&c, &d, err, sizeof(err));
    T_CHECK_MSG(p != NULL, "%s", err);
    if (!p) {
        dataset_fini(&d);
        return;
    }
    double v0 = pretrain_val_loss(p), loss = 0;
    for (long s = 0; s < c.pretrain_steps; s++)
        T_EQ_INT(pretrain_step(p, &loss), 0);
    double v1 = pretrain_val_loss(p);
    printf("validation loss %.4f -> %.4f after %lld steps\n", v0, v1, (long long)c.pretrain_steps);
    T_CHECK(v1 < 0.6 * v0);

    // sample with the EMA weights, map back to action space with the data's bounds
    enum { S = 2000 };
    const struct flow *f = pretrain_ema(p);
    const float *b = pretrain_bounds(p);
    struct norm no, na;
    norm_init(&no, 1);
    norm_init(&na, 2);
    norm_set(&no, b, b + 1, err, sizeof(err));
    norm_set(&na, b + 2, b + 4, err, sizeof(err));
    struct flow_ctx *cx = flow_ctx_new(f, S, false);
    float *obs = malloc(sizeof(float) * S), *chain = malloc(sizeof(float) * 9 * S * 2);
    float *a = malloc(sizeof(float) * S * 2);
    struct rng r;
    rng_init(&r, 99, 0);
    for (int i = 0; i < S; i++)
        obs[i] = (float)rng_range(&r, -1, 1);
    norm_normalize(&no, obs, obs, S, false);
    rng_normal_fill(&r, chain, 2 * S);
    flow_sample(f, cx, obs, S, chain);
    flow_chain_actions(chain, 8, S, 2, NULL, a);
    norm_denormalize(&na, a, a, S, true);
    int in_a = 0, near = 0;
    double dsum = 0;
    for (int i = 0; i < S; i++) {
        double da = hypot(a[2 * i] - centre[0][0], a[2 * i + 1] - centre[0][1]);
        double db = hypot(a[2 * i] - centre[1][0], a[2 * i + 1] - centre[1][1]);
        double dm = fmin(da, db) / SIGMA;
        in_a += da < db;
        near += dm <= 5.0;
        dsum += dm;
    }
    double frac_a = (double)in_a / S, frac_near = (double)near / S;
    printf("mode A share %.3f (data %.1f), within 5 sigma of a mode %.3f, mean distance %.2f "
           "sigma\n",
           frac_a, P_A, frac_near, dsum / S);
    T_CHECK(fabs(frac_a - P_A) <= 0.10);
    T_CHECK(frac_near >= 0.90);
    free(obs);
    free(chain);
    free(a);
    flow_ctx_destroy(&cx);
    norm_fini(&no);
    norm_fini(&na);
    pretrain_destroy(&p);
    dataset_fini(&d);
}

static void test_ema_resume_and_files(void)
{
    struct dataset d;
    struct rl_config c;
    char err[300], state[128], pol[128];
    two_modes(&d, 2);
    toy_config(&c);
    c.flow_hidden = 16;
    c.chunk = 3; /* chunks cross episode ends: padded */
    struct pretrain *p = pretrain_new(&c, &d, err, sizeof(err));
    struct pretrain *q = pretrain_new(&c, &d, err, sizeof(err));
    T_CHECK(p && q);
    if (!p || !q)
        goto out;
    const struct flow *f = pretrain_net(p), *e = pretrain_ema(p);
    size_t n = f->n_params;
    float *init = malloc(n * sizeof(float));
    memcpy(init, f->params, n * sizeof(float));
    T_CHECK(!memcmp(e->params, init, n * sizeof(float))); /* EMA starts at the weights */
    double loss;
    T_EQ_INT(pretrain_step(p, &loss), 0);
    int bad = 0;
    for (size_t k = 0; k < n; k++) /* ema = 0.995 init + 0.005 new */
        bad += fabsf(e->params[k] - (0.995f * init[k] + 0.005f * f->params[k])) > 1e-6f;
    T_EQ_INT(bad, 0);
    T_CHECK(memcmp(f->params, init, n * sizeof(float)) != 0);
    free(init);
    for (int s = 0; s < 19; s++)
        pretrain_step(p, &loss);
    snprintf(state, sizeof(state), "%s/s.state", tmpdir);
    T_EQ_INT(pretrain_save_state(p, state, err, sizeof(err)), 0);
    for (int s = 0; s < 10; s++)
        pretrain_step(p, &loss);
    T_EQ_INT(pretrain_load_state(q, state, err, sizeof(err)), 0);
    T_EQ_INT(pretrain_steps_done(q), 20);
    for (int s = 0; s < 10; s++)
        pretrain_step(q, &loss);
    T_CHECK(!memcmp(pretrain_net(q)->params, f->params, n * sizeof(float)));
    T_CHECK(!memcmp(pretrain_ema(q)->params, e->params, n * sizeof(float)));
    // a state of another shape is refused, nothing changed
    struct rl_config c2 = c;
    c2.flow_hidden = 24;
    struct pretrain *w = pretrain_new(&c2, &d, err, sizeof(err));
    T_EQ_INT(pretrain_load_state(w, state, err, sizeof(err)), -EINVAL);
    T_EQ_INT(pretrain_steps_done(w), 0);
    pretrain_destroy(&w);
    // the policy file: the EMA weights, loadable by actors (for a real task's dims)
    struct flow_spec s;
    flow_spec_from_config(&s, &c, 1, 2, 3, err, sizeof(err));
    struct flow *g = flow_new(&s, err, sizeof(err));
    snprintf(pol, sizeof(pol), "%s/toy.rldt", tmpdir);
    char *text = config_to_string(&c);
    T_EQ_INT(pretrain_save_policy(p, text, pol, err, sizeof(err)), 0);
    // its config names hopper (obs 11, act 3) while the weights are for obs 1, act 2: refused
    T_CHECK(flow_load_weights(pol, g, NULL, NULL, err, sizeof(err)) < 0);
    T_CHECK(strstr(err, "inconsistent") != NULL);
    struct rl_config lc;
    T_CHECK(policy_load(pol, &lc, 4, err, sizeof(err)) == NULL);
    printf("config/weights mismatch: %s\n", err);
    free(text);
    flow_destroy(&g);
    // empty dataset refused
    struct dataset empty;
    dataset_init(&empty, "toy", 1, 2);
    T_CHECK(pretrain_new(&c, &empty, err, sizeof(err)) == NULL);
    dataset_fini(&empty);
out:
    pretrain_destroy(&p);
    pretrain_destroy(&q);
    dataset_fini(&d);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_pretrain.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    openblas_set_num_threads(1);
    T_RUN(test_two_modes);
    T_RUN(test_ema_resume_and_files);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return T_DONE("pretrain");
}
