/* test_gauss.c — squashed-Gaussian log-prob, density, gradients and the "gauss" sampler. */
#include "common/gauss.h"
#include "tests/harness.h"

#include <stdlib.h>

#include "common/config.h"
#include "common/nn.h"
#include "common/rng.h"

// random network outputs: means in [-1, 1], raw log-stds in [-1.5, 1.5]
static void rand_out(struct rng *g, float *out, int B, int D)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < D; j++) {
            out[i * 2 * D + j] = (float)rng_range(g, -1, 1);
            out[i * 2 * D + D + j] = (float)rng_range(g, -1.5, 1.5);
        }
}

// log π by the textbook formula, in double: log N(u; m, σ) − log(1 − tanh²u)
static double direct_logp(const float *out, const float *u, int D)
{
    double lp = 0;
    for (int j = 0; j < D; j++) {
        double ls = gauss_log_std(out[D + j]), s = exp(ls), z = (u[j] - out[j]) / s;
        double t = tanh((double)u[j]);
        lp += -0.5 * z * z - ls - 0.5 * log(2 * M_PI) - log(1 - t * t);
    }
    return lp;
}

static void test_log_std_range(void)
{
    T_NEAR(gauss_log_std(0), 0.5 * (GAUSS_LOG_STD_MIN + GAUSS_LOG_STD_MAX), 1e-6);
    T_NEAR(gauss_log_std(-50), GAUSS_LOG_STD_MIN, 1e-5);
    T_NEAR(gauss_log_std(50), GAUSS_LOG_STD_MAX, 1e-5);
    T_CHECK(gauss_log_std(0.1f) > gauss_log_std(0.0f)); /* monotone, never flat near 0 */
}

static void test_log_prob_direct(void)
{
    enum { B = 64, D = 3 };
    float out[B * 2 * D], eps[B * D], u[B * D], a[B * D], lp[B], lp2[B];
    struct rng g;
    rng_init(&g, 11, 0);
    rand_out(&g, out, B, D);
    rng_normal_fill(&g, eps, B * D);
    gauss_sample(out, eps, B, D, u, a, lp);
    gauss_log_prob(out, u, B, D, lp2);
    double worst = 0;
    for (int i = 0; i < B; i++) {
        for (int j = 0; j < D; j++) {
            double ls = gauss_log_std(out[i * 2 * D + D + j]);
            T_NEAR(u[i * D + j], out[i * 2 * D + j] + exp(ls) * eps[i * D + j], 1e-5);
            T_NEAR(a[i * D + j], tanh((double)u[i * D + j]), 1e-6);
        }
        double d = direct_logp(out + i * 2 * D, u + i * D, D);
        worst = fmax(worst, fabs(d - lp[i]) / fmax(1, fabs(d)));
        T_NEAR(lp2[i], lp[i], 1e-4 * fmax(1, fabs(lp[i])));
    }
    printf("log_prob vs direct: max rel diff %.3g\n", worst);
    T_CHECK(worst < 1e-5);
    /* far in the tails the stable form stays finite: log(1 - tanh² u) ≈ log 4 − 2|u| */
    float o2[2] = {0, 0}, big[1] = {30}, l;
    gauss_log_prob(o2, big, 1, 1, &l);
    double ls0 = gauss_log_std(0);
    double want = -0.5 * pow(30 / exp(ls0), 2) - ls0 - 0.5 * log(2 * M_PI) - (log(4.0) - 60);
    T_CHECK(isfinite(l));
    T_NEAR(l, want, 1e-3 * fabs(want));
}

// density of a 1-D action a in (-1, 1) from gauss_log_prob with u = atanh(a)
static double density1(const float *out, double a)
{
    float u = (float)atanh(a), l;
    gauss_log_prob(out, &u, 1, 1, &l);
    return exp(l);
}

static void test_histogram(void)
{
    enum { N = 200000, NB = 20, SUB = 400 };
    float out[2] = {0.3f, 0.0f};
    out[1] = (float)atanh((log(0.8) - GAUSS_LOG_STD_MIN) /
                              (0.5 * (GAUSS_LOG_STD_MAX - GAUSS_LOG_STD_MIN)) -
                          1); /* σ = 0.8 */
    T_NEAR(exp(gauss_log_std(out[1])), 0.8, 1e-5);
    long count[NB] = {0};
    struct rng g;
    rng_init(&g, 12, 0);
    for (int k = 0; k < N; k++) {
        float e = (float)rng_normal(&g), u, a;
        gauss_sample(out, &e, 1, 1, &u, &a, NULL);
        int b = (int)((a + 1) / 2 * NB);
        count[b < 0 ? 0 : b >= NB ? NB - 1 : b]++;
    }
    double total = 0, worst = 0;
    for (int b = 0; b < NB; b++) {
        double lo = -1 + 2.0 * b / NB, w = 2.0 / NB / SUB, p = 0;
        for (int k = 0; k < SUB; k++)
            p += density1(out, lo + (k + 0.5) * w) * w;
        total += p;
        double f = (double)count[b] / N, sd = sqrt(p * (1 - p) / N) + 1e-6;
        worst = fmax(worst, fabs(f - p) / sd);
    }
    printf("histogram vs density: integral %.5f, worst bin %.2f sd\n", total, worst);
    T_NEAR(total, 1.0, 2e-3);
    T_CHECK(worst < 5);
}

/* ∫ p(a) da over (-1,1)^2 by uniform Monte Carlo: E_U[4 p(a)] = 1 */
static void test_mc_integral(void)
{
    enum { N = 200000, D = 2 };
    float out[2 * D] = {0.2f, -0.4f, -0.3f, 0.1f};
    struct rng g;
    rng_init(&g, 13, 0);
    double s = 0, s2 = 0;
    for (int k = 0; k < N; k++) {
        float u[D], l;
        for (int j = 0; j < D; j++)
            u[j] = (float)atanh(rng_range(&g, -1, 1));
        gauss_log_prob(out, u, 1, D, &l);
        double v = 4 * exp(l);
        s += v;
        s2 += v * v;
    }
    double m = s / N, se = sqrt((s2 / N - m * m) / N);
    printf("MC integral %.4f ± %.4f\n", m, se);
    T_NEAR(m, 1.0, 5 * se);
}

// L = Σ wa ⊙ a + Σ wl · logp, and its analytic gradient wrt out
static double loss_of(const float *out, const float *eps, const float *wa, const float *wl, int B,
                      int D)
{
    float u[16], a[16], lp[4];
    gauss_sample(out, eps, B, D, u, a, lp);
    double L = 0;
    for (int i = 0; i < B; i++) {
        for (int j = 0; j < D; j++)
            L += wa ? (double)wa[i * D + j] * a[i * D + j] : 0;
        L += wl ? (double)wl[i] * lp[i] : 0;
    }
    return L;
}

static void check_fd(const float *wa, const float *wl, const char *what)
{
    enum { B = 3, D = 4 };
    float out[B * 2 * D], eps[B * D], u[B * D], a[B * D], d[B * 2 * D];
    struct rng g;
    rng_init(&g, 14, 0);
    rand_out(&g, out, B, D);
    rng_normal_fill(&g, eps, B * D);
    gauss_sample(out, eps, B, D, u, a, NULL);
    gauss_backward(out, eps, u, wa, wl, B, D, d);
    double worst = 0;
    for (int k = 0; k < B * 2 * D; k++) {
        float keep = out[k];
        float h = 1e-2f;
        out[k] = keep + h;
        double lp = loss_of(out, eps, wa, wl, B, D);
        out[k] = keep - h;
        double lm = loss_of(out, eps, wa, wl, B, D);
        out[k] = keep;
        double fd = (lp - lm) / (2 * h);
        worst = fmax(worst, fabs(fd - d[k]) / fmax(1, fabs(fd)));
    }
    printf("%s: max rel diff analytic vs finite differences %.3g\n", what, worst);
    T_CHECK_MSG(worst < 2e-3, "%s %.3g", what, worst);
}

static void test_grad_fd(void)
{
    float wa[12], wl[3];
    struct rng g;
    rng_init(&g, 15, 0);
    for (int i = 0; i < 12; i++)
        wa[i] = (float)rng_range(&g, -1, 1);
    for (int i = 0; i < 3; i++)
        wl[i] = (float)rng_range(&g, -1, 1);
    check_fd(NULL, wl, "d logp / d out");
    check_fd(wa, NULL, "d a / d out");
    check_fd(wa, wl, "both");
}

// ---- the sampler ---------------------------------------------------------------------------

static void *make_policy(const struct policy_dims *pd, int max_batch, uint64_t seed)
{
    struct rl_config c;
    config_default(&c);
    c.sac_hidden = 32;
    char err[200];
    void *p = gauss_policy_ops.create(&c, pd, max_batch, err, sizeof(err));
    T_CHECK_MSG(p != NULL, "%s", err);
    if (!p)
        return NULL;
    struct rng g;
    rng_init(&g, seed, 0);
    float *w = gauss_policy_ops.params(p);
    for (size_t i = 0; i < gauss_policy_ops.nparams(p); i++)
        w[i] = (float)rng_range(&g, -0.3, 0.3);
    return p;
}

static void test_policy_deterministic(void)
{
    enum { S = 5, B = 7 };
    struct policy_dims pd = {S, 2, 3};
    int D = 6;
    void *p = make_policy(&pd, B, 1);
    if (!p)
        return;
    struct rl_config c;
    config_default(&c);
    c.sac_hidden = 32;
    struct nn_spec sp;
    char err[200];
    T_EQ_INT(gauss_spec(&sp, &c, S, D, err, sizeof(err)), 0);
    struct nn *net = nn_new(&sp, err, sizeof(err));
    struct nn_ctx *cx = nn_ctx_new_infer(net, B);
    T_EQ_INT(net->n_params, gauss_policy_ops.nparams(p));
    T_CHECK(gauss_policy_ops.layout(p) == gauss_layout(net->hash));
    T_CHECK(gauss_layout(net->hash) != net->hash);
    memcpy(net->params, gauss_policy_ops.params(p), net->n_params * sizeof(float));
    float obs[B * S], out[B * 2 * 6], act[B * 6];
    struct rng g;
    rng_init(&g, 2, 0);
    for (int i = 0; i < B * S; i++)
        obs[i] = (float)rng_normal(&g);
    nn_infer(net, cx, obs, out, B);
    gauss_policy_ops.act(p, obs, B, &g, true, act);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < D; j++)
            T_NEAR(act[i * D + j], tanh((double)out[i * 2 * D + j]), 1e-6);
    nn_ctx_destroy(&cx);
    nn_destroy(&net);
    gauss_policy_ops.destroy(p);
}

static void test_policy_batch_rows(void)
{
    enum { S = 4, B = 6, D = 3 };
    struct policy_dims pd = {S, 3, 1};
    void *p = make_policy(&pd, B, 3);
    if (!p)
        return;
    float obs[B * S], all[B * D], one[B * D], det[B * D];
    struct rng g, r1, r2;
    rng_init(&g, 4, 0);
    for (int i = 0; i < B * S; i++)
        obs[i] = (float)rng_normal(&g);
    /* one batch call == B single-row calls drawing from the same stream */
    rng_init(&r1, 5, 0);
    rng_init(&r2, 5, 0);
    gauss_policy_ops.act(p, obs, B, &r1, false, all);
    for (int i = 0; i < B; i++)
        gauss_policy_ops.act(p, obs + i * S, 1, &r2, false, one + i * D);
    gauss_policy_ops.act(p, obs, B, &r1, true, det);
    int differs = 0;
    for (int k = 0; k < B * D; k++) {
        T_NEAR(all[k], one[k], 1e-5);
        T_CHECK(all[k] > -1 && all[k] < 1);
        differs += fabsf(all[k] - det[k]) > 1e-3f;
    }
    T_CHECK(differs > B * D / 2); /* stochastic actions carry noise */
    /* a row's action does not depend on the other rows */
    float obs2[B * S], det2[B * D];
    memcpy(obs2, obs, sizeof(obs));
    for (int k = S; k < B * S; k++)
        obs2[k] += 1.0f;
    gauss_policy_ops.act(p, obs2, B, &r1, true, det2);
    for (int j = 0; j < D; j++)
        T_NEAR(det2[j], det[j], 1e-6);
    gauss_policy_ops.destroy(p);
}

static void test_policy_seeded(void)
{
    enum { S = 3, B = 4, D = 2 };
    struct policy_dims pd = {S, 2, 1};
    void *p = make_policy(&pd, B, 6);
    void *q = make_policy(&pd, B, 6);
    if (!p || !q)
        return;
    float obs[B * S] = {0.1f, -0.2f, 0.3f, 1, 2, 3, -1, 0, 1, 0.5f, 0.5f, -0.5f};
    float a1[B * D], a2[B * D], a3[B * D];
    struct rng r1, r2, r3;
    rng_init(&r1, 9, 1);
    rng_init(&r2, 9, 1);
    rng_init(&r3, 9, 2);
    gauss_policy_ops.act(p, obs, B, &r1, false, a1);
    gauss_policy_ops.act(q, obs, B, &r2, false, a2);
    gauss_policy_ops.act(p, obs, B, &r3, false, a3);
    T_CHECK(memcmp(a1, a2, sizeof(a1)) == 0);
    T_CHECK(memcmp(a1, a3, sizeof(a1)) != 0);
    gauss_policy_ops.destroy(p);
    gauss_policy_ops.destroy(q);
}

static void test_policy_bad_config(void)
{
    struct rl_config c;
    config_default(&c);
    char err[200] = "";
    struct policy_dims pd = {3, 2, 1};
    c.sac_layers = 0;
    T_CHECK(gauss_policy_ops.create(&c, &pd, 4, err, sizeof(err)) == NULL);
    T_CHECK(strstr(err, "sac_layers") != NULL);
    config_default(&c);
    struct policy_dims bad = {0, 2, 1};
    T_CHECK(gauss_policy_ops.create(&c, &bad, 4, err, sizeof(err)) == NULL);
    T_CHECK(gauss_policy_ops.create(&c, &pd, 0, err, sizeof(err)) == NULL);
    T_CHECK(strstr(err, "max_batch") != NULL);
}

int main(void)
{
    T_RUN(test_log_std_range);
    T_RUN(test_log_prob_direct);
    T_RUN(test_histogram);
    T_RUN(test_mc_integral);
    T_RUN(test_grad_fd);
    T_RUN(test_policy_deterministic);
    T_RUN(test_policy_batch_rows);
    T_RUN(test_policy_seeded);
    T_RUN(test_policy_bad_config);
    return T_DONE("gauss");
}
