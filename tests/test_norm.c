/*
 * test_norm.c — common/norm: fitting bounds from data, the formula against a naive double
 * computation, round trips, clipping, constant dimensions, in-place use and bad input.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/norm.h"
#include "common/rng.h"
#include "tests/harness.h"

enum { R = 200, D = 5 };

static void fill(float *x, long n, uint64_t seed)
{
    struct rng r;
    rng_init(&r, seed, 0);
    for (long i = 0; i < n; i++)
        x[i] = (float)rng_range(&r, -3, 7) * (float)(1 + i % D); // per-column scales
}

static void test_fit(void)
{
    static float x[R * D];
    fill(x, R * D, 1);
    struct norm n;
    T_EQ_INT(norm_init(&n, D), 0);
    char err[256];
    T_EQ_INT(norm_fit(&n, x, R, err, sizeof(err)), 0);
    for (int i = 0; i < D; i++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int r = 0; r < R; r++) {
            lo = fminf(lo, x[r * D + i]);
            hi = fmaxf(hi, x[r * D + i]);
        }
        T_NEAR(n.lo[i], lo, 0);
        T_NEAR(n.hi[i], hi, 0);
    }
    norm_fini(&n);
    T_CHECK(n.lo == NULL && n.hi == NULL);
    norm_fini(&n); // twice is fine
}

static void test_formula_and_round_trip(void)
{
    static float x[R * D], y[R * D], z[R * D];
    fill(x, R * D, 2);
    struct norm n;
    norm_init(&n, D);
    char err[256];
    norm_fit(&n, x, R, err, sizeof(err));
    norm_normalize(&n, x, y, R, false);
    double maxdiff = 0;
    for (int k = 0; k < R * D; k++) {
        int i = k % D;
        double want = 2.0 * ((double)x[k] - n.lo[i]) / ((double)n.hi[i] - n.lo[i] + 1e-6) - 1.0;
        maxdiff = fmax(maxdiff, fabs(y[k] - want));
        T_CHECK(y[k] >= -1.0f && y[k] <= 1.0f); // inside the fitted data
    }
    T_CHECK_MSG(maxdiff < 1e-6, "max diff %g", maxdiff);
    norm_denormalize(&n, y, z, R, false);
    maxdiff = 0;
    for (int k = 0; k < R * D; k++)
        maxdiff = fmax(maxdiff, fabs(z[k] - x[k]) / (n.hi[k % D] - n.lo[k % D]));
    T_CHECK_MSG(maxdiff < 1e-6, "round trip max relative diff %g", maxdiff);
    // the minimum maps to -1 exactly, the maximum to just below 1
    float lo[D], hi[D];
    norm_normalize(&n, n.lo, lo, 1, false);
    norm_normalize(&n, n.hi, hi, 1, false);
    for (int i = 0; i < D; i++) {
        T_NEAR(lo[i], -1.0, 0);
        T_NEAR(hi[i], 1.0, 1e-5);
    }
    norm_fini(&n);
}

static void test_clipping(void)
{
    struct norm n;
    norm_init(&n, 2);
    float lo[2] = {0, -10}, hi[2] = {1, 10};
    char err[256];
    T_EQ_INT(norm_set(&n, lo, hi, err, sizeof(err)), 0);
    float x[4] = {2.0f, -30.0f, 0.5f, 0.0f}, y[4];
    norm_normalize(&n, x, y, 2, false);
    T_NEAR(y[0], 3.0, 1e-4);
    T_NEAR(y[1], -3.0, 1e-4);
    T_NEAR(y[2], 0.0, 1e-5);
    T_NEAR(y[3], 0.0, 1e-5);
    norm_normalize(&n, x, y, 2, true);
    T_NEAR(y[0], 1.0, 0);
    T_NEAR(y[1], -1.0, 0);
    T_NEAR(y[2], 0.0, 1e-5);
    // denormalize clips in normalised space first
    float a[2] = {1.7f, -4.0f}, b[2];
    norm_denormalize(&n, a, b, 1, true);
    T_NEAR(b[0], 1.0, 1e-5);
    T_NEAR(b[1], -10.0, 1e-5);
    norm_denormalize(&n, a, b, 1, false);
    T_NEAR(b[0], 1.35, 1e-5);
    T_NEAR(b[1], -40.0, 1e-4);
    // in place
    norm_normalize(&n, x, x, 2, true);
    T_NEAR(x[0], 1.0, 0);
    T_NEAR(x[1], -1.0, 0);
    norm_fini(&n);
}

static void test_constant_dimension(void)
{
    struct norm n;
    norm_init(&n, 1);
    float x[3] = {4.0f, 4.0f, 4.0f}, y[3], z[3];
    char err[256];
    T_EQ_INT(norm_fit(&n, x, 3, err, sizeof(err)), 0);
    norm_normalize(&n, x, y, 3, true);
    for (int i = 0; i < 3; i++) {
        T_CHECK(isfinite(y[i]));
        T_NEAR(y[i], -1.0, 0);
    }
    norm_denormalize(&n, y, z, 3, true);
    T_NEAR(z[0], 4.0, 1e-6);
    norm_fini(&n);
}

static void test_bad_input(void)
{
    struct norm n;
    norm_init(&n, 2);
    T_NEAR(n.lo[0], -1, 0); // identity-like defaults
    T_NEAR(n.hi[1], 1, 0);
    char err[256] = "";
    float x[4] = {1, 2, NAN, 3};
    T_EQ_INT(norm_fit(&n, x, 2, err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, "row 1") != NULL, "%s", err);
    T_NEAR(n.lo[0], -1, 0); // unchanged
    err[0] = 0;
    T_EQ_INT(norm_fit(&n, x, 0, err, sizeof(err)), -EINVAL);
    T_CHECK(err[0] != 0);
    float lo[2] = {0, 5}, hi[2] = {1, 4};
    err[0] = 0;
    T_EQ_INT(norm_set(&n, lo, hi, err, sizeof(err)), -EINVAL);
    T_CHECK_MSG(strstr(err, "dimension 1") != NULL, "%s", err);
    hi[1] = INFINITY;
    lo[1] = 0;
    T_EQ_INT(norm_set(&n, lo, hi, err, sizeof(err)), -EINVAL);
    T_NEAR(n.hi[1], 1, 0);
    norm_fini(&n);
}

int main(void)
{
    T_RUN(test_fit);
    T_RUN(test_formula_and_round_trip);
    T_RUN(test_clipping);
    T_RUN(test_constant_dimension);
    T_RUN(test_bad_input);
    return T_DONE("norm");
}
