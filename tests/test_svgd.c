/*
 * test_svgd.c — the SVGD transport field against a direct, naive evaluation of
 * learner/algo/README.md §3 in double (median bandwidth, kernel, gradient-scaled repulsion
 * α_s), a hand-computed case, the bandwidth floor, the α_s clamp, the diagnostics and the
 * particle diversity.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "learner/algo/svgd.h"
#include "tests/harness.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the formula as written, one state at a time: phi (K, D), returns α_s; h (K) */
static double naive_state(const float *ahat, const float *a, const float *g, int K, int D,
                          double *phi, double *h, double *rep_norm)
{
    double gsum = 0;
    for (int j = 0; j < K; j++) {
        double n2 = 0;
        for (int k = 0; k < D; k++)
            n2 += (double)g[j * D + k] * g[j * D + k];
        gsum += sqrt(n2);
    }
    double alpha = fmin(fmax(0.001 * gsum / K, 0), 1e5);
    double *d2 = malloc(sizeof(double) * K), *srt = malloc(sizeof(double) * K);
    for (int i = 0; i < K; i++) {
        for (int j = 0; j < K; j++) {
            double s = 0;
            for (int k = 0; k < D; k++) {
                double e = (double)ahat[i * D + k] - a[j * D + k];
                s += e * e;
            }
            d2[j] = srt[j] = s;
        }
        qsort(srt, K, sizeof(double), cmp_double);
        double med = K % 2 ? srt[K / 2] : 0.5 * (srt[K / 2 - 1] + srt[K / 2]);
        h[i] = fmax(med / (2 * log(K + 1.0)), 1e-8);
        double rn = 0;
        for (int k = 0; k < D; k++) {
            double acc = 0, rep = 0;
            for (int j = 0; j < K; j++) {
                double kij = exp(-d2[j] / (2 * h[i]));
                acc += kij * (g[j * D + k] + alpha * (ahat[i * D + k] - a[j * D + k]) / h[i]);
                rep += kij * alpha * (ahat[i * D + k] - a[j * D + k]) / h[i];
            }
            phi[i * D + k] = acc / K;
            rn += (rep / K) * (rep / K);
        }
        rep_norm[i] = sqrt(rn);
    }
    free(d2);
    free(srt);
    return alpha;
}

static void check_random(int S, int K, int D, double gscale, unsigned seed)
{
    struct rng r;
    rng_init(&r, seed, 0);
    int n = S * K * D;
    float *ahat = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n);
    float *g = malloc(sizeof(float) * n), *phi = malloc(sizeof(float) * n);
    double *ref = malloc(sizeof(double) * K * D), *h = malloc(sizeof(double) * K);
    double *rn = malloc(sizeof(double) * K);
    double *work = malloc(sizeof(double) * svgd_work_size(K, D));
    for (int i = 0; i < n; i++) {
        a[i] = (float)rng_range(&r, -1, 1);
        ahat[i] = a[i] + (float)(0.3 * rng_normal(&r));
        g[i] = (float)(gscale * rng_normal(&r));
    }
    struct svgd_stats st;
    svgd_field(ahat, a, g, S, K, D, phi, work, &st);
    double maxd = 0, maxv = 0, asum = 0, hsum = 0, rsum = 0;
    for (int s = 0; s < S; s++) {
        size_t o = (size_t)s * K * D;
        asum += naive_state(ahat + o, a + o, g + o, K, D, ref, h, rn);
        for (int i = 0; i < K; i++) {
            hsum += h[i];
            rsum += rn[i];
        }
        for (int i = 0; i < K * D; i++) {
            maxd = fmax(maxd, fabs(ref[i] - phi[o + i]));
            maxv = fmax(maxv, fabs(ref[i]));
        }
    }
    T_CHECK_MSG(maxd <= 1e-5 * fmax(1.0, maxv), "S %d K %d D %d: max diff %.3g (max |phi| %.3g)", S,
                K, D, maxd, maxv);
    T_CHECK(maxv > 0);
    T_NEAR(st.alpha, asum / S, 1e-9 * fmax(1, asum));
    T_NEAR(st.bandwidth, hsum / (S * K), 1e-9 * fmax(1, hsum));
    T_NEAR(st.kernel_grad_norm, rsum / (S * K), 1e-6 * fmax(1, rsum));
    free(ahat), free(a), free(g), free(phi), free(ref), free(h), free(rn), free(work);
}

static void test_matches_naive(void)
{
    check_random(5, 8, 12, 1.0, 1);  /* K = 8, locomotion chunk D = 12 */
    check_random(3, 7, 5, 3.0, 2);   /* odd K: the middle value */
    check_random(2, 2, 1, 0.1, 3);   /* K = 2 */
    check_random(4, 16, 3, 50.0, 4); /* large gradients: strong repulsion */
}

/* K = 2, D = 1, a = â = (0, 1), g = (1, 1): h = 0.5 / (2 ln 3), K_01 = 1/9 */
static void test_hand_case(void)
{
    float a[2] = {0, 1}, g[2] = {1, 1}, phi[2];
    double work[8];
    struct svgd_stats st;
    svgd_field(a, a, g, 1, 2, 1, phi, work, &st);
    double h = 0.5 / (2 * log(3.0)), alpha = 0.001;
    double phi0 = 0.5 * (1.0 + (1.0 / 9) * (1.0 + alpha * (0.0 - 1.0) / h));
    double phi1 = 0.5 * ((1.0 / 9) * (1.0 + alpha * (1.0 - 0.0) / h) + 1.0);
    T_NEAR(phi[0], phi0, 1e-6);
    T_NEAR(phi[1], phi1, 1e-6);
    T_NEAR(st.alpha, alpha, 1e-12);
    T_NEAR(st.bandwidth, h, 1e-9);
    T_NEAR(st.grad_norm, 1.0, 1e-12);
}

/* identical particles: distances 0, h floors at 1e-8, K_ij = 1, φ = mean gradient */
static void test_bandwidth_floor(void)
{
    enum { K = 4, D = 3 };
    float a[K * D], g[K * D], phi[K * D];
    double work[2 * K + 2 * D];
    for (int i = 0; i < K * D; i++) {
        a[i] = 0.25f;
        g[i] = (float)(i % 5) - 2.0f;
    }
    struct svgd_stats st;
    svgd_field(a, a, g, 1, K, D, phi, work, &st);
    T_NEAR(st.bandwidth, 1e-8, 1e-20);
    for (int k = 0; k < D; k++) {
        double m = 0;
        for (int j = 0; j < K; j++)
            m += g[j * D + k];
        for (int i = 0; i < K; i++)
            T_NEAR(phi[i * D + k], m / K, 1e-6);
    }
    T_NEAR(st.kernel_grad_norm, 0, 1e-12);
}

/* α_s = 0.001 · mean ‖g‖ clamps at 1e5 */
static void test_alpha_clamp(void)
{
    enum { K = 3, D = 2 };
    float a[K * D] = {0, 0, 1, 0, 0, 1}, g[K * D], phi[K * D];
    double work[2 * K + 2 * D];
    for (int i = 0; i < K * D; i++)
        g[i] = 1e9f;
    struct svgd_stats st;
    svgd_field(a, a, g, 1, K, D, phi, work, &st);
    T_NEAR(st.alpha, 1e5, 1e-6);
    for (int i = 0; i < K * D; i++)
        g[i] = 0;
    svgd_field(a, a, g, 1, K, D, phi, work, &st);
    T_NEAR(st.alpha, 0, 0);
    for (int i = 0; i < K * D; i++) /* no gradient, no repulsion: no motion */
        T_NEAR(phi[i], 0, 0);
}

static void test_diversity(void)
{
    /* state 0: (0,0), (3,4) → 5; state 1: three points on a line 0, 1, 3 → (1 + 3 + 2)/3 */
    float a2[2 * 2 * 2] = {0, 0, 3, 4, 1, 1, 1, 1};
    T_NEAR(svgd_diversity(a2, 2, 2, 2), (5.0 + 0.0) / 2, 1e-9);
    float a3[3] = {0, 1, 3};
    T_NEAR(svgd_diversity(a3, 1, 3, 1), 2.0, 1e-9);
    T_NEAR(svgd_diversity(a3, 1, 1, 1), 0.0, 0);
}

int main(void)
{
    T_RUN(test_matches_naive);
    T_RUN(test_hand_case);
    T_RUN(test_bandwidth_floor);
    T_RUN(test_alpha_clamp);
    T_RUN(test_diversity);
    return T_DONE("svgd");
}
