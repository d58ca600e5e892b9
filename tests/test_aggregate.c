/*
 * test_aggregate.c — statistics of `rldt report` (common/aggregate.h): the interquartile mean
 * against scipy.stats.trim_mean(x, 0.25) values worked by hand, quantiles against numpy's
 * linear interpolation, and the bootstrap interval: reproducible per seed, the single value for
 * one run, about ±1.96 σ/√n for a large normal sample, and -EINVAL for no data.
 */
#include "common/aggregate.h"
#include "tests/harness.h"

#include <errno.h>
#include <math.h>

#include "common/rng.h"

static void test_mean_iqm(void)
{
    double w[16];
    double a[8] = {8, 1, 7, 2, 6, 3, 5, 4};
    T_NEAR(aggregate_mean(a, 8), 4.5, 1e-12);
    T_NEAR(aggregate_iqm(a, 8, w), 4.5, 1e-12); /* cut 2 each end: mean(3, 4, 5, 6) */
    T_NEAR(a[0], 8, 0);                         /* input unchanged */
    double b[5] = {10, 1, 100, 2, 3};
    T_NEAR(aggregate_iqm(b, 5, w), 5.0, 1e-12); /* cut int(1.25) = 1: mean(2, 3, 10) */
    double c[4] = {1, 2, 3, 1000};
    T_NEAR(aggregate_iqm(c, 4, w), 2.5, 1e-12); /* cut 1: mean(2, 3) */
    double d[3] = {1, 2, 30};
    T_NEAR(aggregate_iqm(d, 3, w), 11.0, 1e-12); /* cut int(0.75) = 0: the mean */
    T_NEAR(aggregate_iqm(d, 1, w), 1.0, 1e-12);
    T_CHECK(isnan(aggregate_iqm(d, 0, w)));
    T_CHECK(isnan(aggregate_mean(d, 0)));
}

static void test_quantile(void)
{
    double s[4] = {1, 2, 3, 4};
    T_NEAR(aggregate_quantile(s, 4, 0.5), 2.5, 1e-12);
    T_NEAR(aggregate_quantile(s, 4, 0.025), 1.075, 1e-12);
    T_NEAR(aggregate_quantile(s, 4, 0.975), 3.925, 1e-12);
    T_NEAR(aggregate_quantile(s, 4, 1.0), 4.0, 1e-12);
    T_NEAR(aggregate_quantile(s, 1, 0.3), 1.0, 1e-12);
}

static void test_bootstrap(void)
{
    static double work[20000], x[400];
    double lo = -1, hi = -1, lo2, hi2;
    double one = 42;
    T_EQ_INT(aggregate_bootstrap_ci(&one, 1, 1000, 1, &lo, &hi, work), 0);
    T_NEAR(lo, 42, 0);
    T_NEAR(hi, 42, 0);
    lo = hi = -7;
    T_EQ_INT(aggregate_bootstrap_ci(x, 0, 1000, 1, &lo, &hi, work), -EINVAL);
    T_EQ_INT(aggregate_bootstrap_ci(x, 3, 0, 1, &lo, &hi, work), -EINVAL);
    T_CHECK(lo == -7 && hi == -7); /* untouched on error */
    // a large normal sample: the interval is about mean ± 1.96 σ/√n
    struct rng r;
    rng_init(&r, 5, 9);
    int n = 400;
    for (int i = 0; i < n; i++)
        x[i] = 10 + 2 * rng_normal(&r);
    double m = aggregate_mean(x, n), sd = 0;
    for (int i = 0; i < n; i++)
        sd += (x[i] - m) * (x[i] - m);
    sd = sqrt(sd / (n - 1));
    T_EQ_INT(aggregate_bootstrap_ci(x, n, 20000, 3, &lo, &hi, work), 0);
    double half = 1.96 * sd / sqrt(n);
    T_CHECK_MSG(lo < m && m < hi, "lo %g mean %g hi %g", lo, m, hi);
    T_NEAR(hi - lo, 2 * half, 0.1 * 2 * half);
    T_NEAR(0.5 * (lo + hi), m, 0.1 * half);
    // the same seed gives the same interval; another seed a slightly different one
    T_EQ_INT(aggregate_bootstrap_ci(x, n, 20000, 3, &lo2, &hi2, work), 0);
    T_CHECK(lo2 == lo && hi2 == hi);
    T_EQ_INT(aggregate_bootstrap_ci(x, n, 20000, 4, &lo2, &hi2, work), 0);
    T_CHECK(lo2 != lo);
    T_NEAR(lo2, lo, 0.1 * half);
    // two values: every resampled mean lies between them
    double two[2] = {1, 3};
    T_EQ_INT(aggregate_bootstrap_ci(two, 2, 10000, 1, &lo, &hi, work), 0);
    T_NEAR(lo, 1, 1e-12); /* P(both draws = 1) = 1/4 > 2.5% */
    T_NEAR(hi, 3, 1e-12);
}

int main(void)
{
    T_RUN(test_mean_iqm);
    T_RUN(test_quantile);
    T_RUN(test_bootstrap);
    return T_DONE("aggregate");
}
