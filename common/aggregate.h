/*
 * aggregate.h — statistics across runs (seeds) of one method on one task, as reported by
 * `rldt report`: the mean, a percentile-bootstrap 95% interval of the mean, and the
 * interquartile mean (IQM) as rliable computes it (scipy.stats.trim_mean with 25% cut from each
 * end: floor(0.25 n) values dropped at each end of the sorted list, the rest averaged).
 * Pure functions, thread-safe; callers pass the scratch memory.
 */
#ifndef RL_AGGREGATE_H
#define RL_AGGREGATE_H

#include <stdint.h>

/* Mean of x[0..n); NaN when n < 1. */
double aggregate_mean(const double *x, int n);

/* Interquartile mean of x[0..n) (x unchanged; work holds n doubles); NaN when n < 1. */
double aggregate_iqm(const double *x, int n, double *work);

/*
 * Percentile bootstrap of the mean: reps resamples of n values drawn with replacement from x,
 * seeded by seed (the same inputs give the same interval); *lo and *hi are the 2.5% and 97.5%
 * quantiles of the resampled means (linear interpolation between order statistics). work holds
 * reps doubles. With n = 1 the interval is the single value. Returns 0, or -EINVAL (n < 1,
 * reps < 1) leaving *lo and *hi untouched.
 */
int aggregate_bootstrap_ci(const double *x, int n, int reps, uint64_t seed, double *lo, double *hi,
                           double *work);

/* q-quantile (0..1) of the sorted s[0..n), linear interpolation (numpy's default). n >= 1. */
double aggregate_quantile(const double *s, int n, double q);

#endif
