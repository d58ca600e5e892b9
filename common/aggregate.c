/*
 * aggregate.c — mean, interquartile mean and bootstrap interval across runs (aggregate.h).
 */
#include "common/aggregate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"

#define AGG_STREAM 0xa99e000001ULL

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double aggregate_mean(const double *x, int n)
{
    if (n < 1)
        return NAN;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s / n;
}

double aggregate_iqm(const double *x, int n, double *work)
{
    if (n < 1)
        return NAN;
    memcpy(work, x, (size_t)n * sizeof(double));
    qsort(work, (size_t)n, sizeof(double), cmp_double);
    int cut = (int)(0.25 * n); /* scipy: int(proportiontocut * nobs) from each end */
    return aggregate_mean(work + cut, n - 2 * cut);
}

double aggregate_quantile(const double *s, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1)
        return s[n - 1];
    double f = pos - i;
    return s[i] + f * (s[i + 1] - s[i]);
}

int aggregate_bootstrap_ci(const double *x, int n, int reps, uint64_t seed, double *lo, double *hi,
                           double *work)
{
    if (n < 1 || reps < 1)
        return -EINVAL;
    struct rng r;
    rng_init(&r, seed, AGG_STREAM);
    for (int b = 0; b < reps; b++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += x[rng_below(&r, (uint64_t)n)];
        work[b] = s / n;
    }
    qsort(work, (size_t)reps, sizeof(double), cmp_double);
    *lo = aggregate_quantile(work, reps, 0.025);
    *hi = aggregate_quantile(work, reps, 0.975);
    return 0;
}
