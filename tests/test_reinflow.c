/*
 * test_reinflow.c — the ReinFlow baseline's math (learner/algo/reinflow_math.h): GAE against a
 * hand computation (bootstrap, termination, truncation, segment end), the chain's
 * log-likelihood against a direct product of Gaussian densities and its gradients against
 * finite differences, the bounded std, and the clipped PPO surrogate (values, zero gradient
 * where clipping is active, clip fraction).
 */
#include "learner/algo/reinflow_math.h"
#include "tests/harness.h"

#include <math.h>

#include "common/rng.h"

static void test_gae_hand(void)
{
    // 4 steps; the episode terminates at t = 1, a new one runs t = 2..3 (segment end at 3)
    float r[4] = {1, 2, 3, 4}, v[4] = {0.5f, 1, 2, 1.5f}, nv[4] = {1, 9, 1.5f, 3};
    float term[4] = {0, 1, 0, 0}, end[4] = {0, 1, 0, 0}, adv[4], ret[4];
    float g = 0.9f, l = 0.8f;
    reinflow_gae(4, r, v, nv, term, end, g, l, adv, ret);
    // by hand: δ3 = 4 + 0.9·3 − 1.5 = 5.2, A3 = 5.2 (segment end: nothing carried in)
    // δ2 = 3 + 0.9·1.5 − 2 = 2.35, A2 = 2.35 + 0.72·5.2 = 6.094
    // δ1 = 2 + 0 − 1 = 1 (terminal: no bootstrap), A1 = 1 (episode end: no carry)
    // δ0 = 1 + 0.9·1 − 0.5 = 1.4, A0 = 1.4 + 0.72·1 = 2.12
    T_NEAR(adv[3], 5.2, 1e-5);
    T_NEAR(adv[2], 6.094, 1e-5);
    T_NEAR(adv[1], 1.0, 1e-6);
    T_NEAR(adv[0], 2.12, 1e-5);
    for (int t = 0; t < 4; t++)
        T_NEAR(ret[t], adv[t] + v[t], 1e-6);
    // truncation (time limit) at t = 1: it bootstraps, but nothing flows back across it
    float term2[4] = {0, 0, 0, 0};
    reinflow_gae(4, r, v, nv, term2, end, g, l, adv, ret);
    T_NEAR(adv[1], 2 + 0.9 * 9 - 1, 1e-5);
    T_NEAR(adv[0], 1.4 + 0.72 * (2 + 0.9 * 9 - 1), 1e-4);
    // λ = 0: one-step TD errors; λ = 1, γ = 1, no bootstrap values: returns-to-go
    float zero[4] = {0}, none[4] = {0};
    reinflow_gae(4, r, zero, zero, none, none, 1.0f, 1.0f, adv, ret);
    T_NEAR(adv[0], 10, 1e-5);
    T_NEAR(adv[2], 7, 1e-5);
    reinflow_gae(4, r, v, nv, none, none, g, 0.0f, adv, ret);
    T_NEAR(adv[0], 1.4, 1e-5);
}

// the chain's density as a product of 1-D Gaussian densities, then the log
static double direct_logp(const float *x, const float *mu, const float *sd, int N, int D)
{
    double p = 1;
    for (int j = 0; j < D; j++)
        p *= exp(-0.5 * x[j] * x[j]) / sqrt(2 * M_PI);
    for (int k = 0; k < N; k++)
        for (int j = 0; j < D; j++) {
            double s = sd[k * D + j], e = x[(k + 1) * D + j] - mu[k * D + j];
            p *= exp(-0.5 * e * e / (s * s)) / (s * sqrt(2 * M_PI));
        }
    return log(p);
}

static void test_chain_logp(void)
{
    enum { N = 4, D = 3 };
    struct rng g;
    rng_init(&g, 3, 1);
    float x[(N + 1) * D], mu[N * D], sd[N * D], dmu[N * D], dsd[N * D];
    for (int i = 0; i < (N + 1) * D; i++)
        x[i] = (float)rng_normal(&g);
    for (int i = 0; i < N * D; i++) {
        mu[i] = x[i + D] + 0.2f * (float)rng_normal(&g);
        sd[i] = reinflow_bound_std((float)rng_normal(&g), 0.10f, 0.24f);
        T_CHECK(sd[i] >= 0.10f && sd[i] <= 0.24f);
    }
    double lp = reinflow_chain_logp(x, mu, sd, N, D, true, dmu, dsd);
    double ref = direct_logp(x, mu, sd, N, D);
    T_NEAR(lp, ref, 1e-6 * fabs(ref) + 1e-9);
    double lp0 = reinflow_chain_logp(x, mu, sd, N, D, false, NULL, NULL);
    double x0 = 0;
    for (int j = 0; j < D; j++)
        x0 += -0.5 * x[j] * x[j] - 0.5 * log(2 * M_PI);
    T_NEAR(lp - lp0, x0, 1e-9);
    // gradients by central differences
    for (int i = 0; i < N * D; i++) {
        float h = 1e-3f, m0 = mu[i], s0 = sd[i];
        mu[i] = m0 + h;
        double up = reinflow_chain_logp(x, mu, sd, N, D, true, NULL, NULL);
        mu[i] = m0 - h;
        double dn = reinflow_chain_logp(x, mu, sd, N, D, true, NULL, NULL);
        mu[i] = m0;
        T_NEAR(dmu[i], (up - dn) / (2.0 * h), 2e-3 * fabs(dmu[i]) + 2e-3);
        h = 1e-4f;
        sd[i] = s0 + h;
        up = reinflow_chain_logp(x, mu, sd, N, D, true, NULL, NULL);
        sd[i] = s0 - h;
        dn = reinflow_chain_logp(x, mu, sd, N, D, true, NULL, NULL);
        sd[i] = s0;
        T_NEAR(dsd[i], (up - dn) / (2.0 * h), 1e-3 * fabs(dsd[i]) + 1e-2);
    }
}

static void test_bound_std(void)
{
    T_NEAR(reinflow_bound_std(0, 0.1f, 0.24f), 0.17, 1e-6);
    T_NEAR(reinflow_bound_std(50, 0.1f, 0.24f), 0.24, 1e-6);
    T_NEAR(reinflow_bound_std(-50, 0.1f, 0.24f), 0.10, 1e-6);
    float u = 0.3f, h = 1e-3f;
    double fd = (reinflow_bound_std(u + h, 0.1f, 0.24f) - reinflow_bound_std(u - h, 0.1f, 0.24f)) /
                (2.0 * h);
    T_NEAR(reinflow_bound_std_grad(u, 0.1f, 0.24f), fd, 1e-4);
}

static void test_ppo_clip(void)
{
    double eps = 0.01;
    // ratios 1.05 and 0.95 with positive and negative advantages, and one inside the range
    double lo[5] = {0, 0, 0, 0, 0},
           lp[5] = {log(1.05), log(0.95), log(1.05), log(0.95), log(1.004)};
    float a[5] = {2, 2, -2, -2, 1};
    double d[5], frac;
    double L = reinflow_ppo_loss(lp, lo, a, 5, eps, d, &frac);
    // A > 0, r = 1.05: min(2.1, 1.01·2) = 2.02 clipped, no gradient
    T_NEAR(d[0], 0, 0);
    // A > 0, r = 0.95: min(1.9, 0.99·2 = 1.98) = 1.9 unclipped, gradient −r A / n
    T_NEAR(d[1], -0.95 * 2 / 5, 1e-12);
    // A < 0, r = 1.05: min(−2.1, −2.02) = −2.1 unclipped (pessimistic), gradient −r A / n
    T_NEAR(d[2], 1.05 * 2 / 5, 1e-12);
    // A < 0, r = 0.95: min(−1.9, −1.98) = −1.98 clipped, no gradient
    T_NEAR(d[3], 0, 0);
    T_NEAR(d[4], -1.004 / 5, 1e-12);
    double want = -(2.02 + 1.9 - 2.1 - 1.98 + 1.004) / 5;
    T_NEAR(L, want, 1e-12);
    T_NEAR(frac, 4.0 / 5, 1e-12);
    // the gradient of the surrogate matches a finite difference of the loss in each logp
    for (int i = 1; i < 5; i += 2) {
        double h = 1e-6, keep = lp[i], dd[5];
        lp[i] = keep + h;
        double up = reinflow_ppo_loss(lp, lo, a, 5, eps, dd, NULL);
        lp[i] = keep - h;
        double dn = reinflow_ppo_loss(lp, lo, a, 5, eps, dd, NULL);
        lp[i] = keep;
        T_NEAR(d[i], (up - dn) / (2 * h), 1e-6);
    }
}

int main(void)
{
    T_RUN(test_gae_hand);
    T_RUN(test_chain_logp);
    T_RUN(test_bound_std);
    T_RUN(test_ppo_clip);
    return T_DONE("reinflow");
}
