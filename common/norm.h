/*
 * norm.h — per-dimension min-max normalisation to [-1, 1] (learner/algo/README.md §1):
 *   x' = 2 (x - lo) / (hi - lo + 1e-6) - 1,   x = (x' + 1) (hi - lo + 1e-6) / 2 + lo,
 * with optional clipping to [-1, 1] in normalised space. Bounds come from a data matrix or are
 * set directly. A struct norm is caller-embedded (norm_init / norm_fini); read-only use is
 * thread-safe.
 */
#ifndef RL_NORM_H
#define RL_NORM_H

#include <stdbool.h>
#include <stddef.h>

#define NORM_EPS 1e-6f

struct norm {
    int dim;
    float *lo; /* (dim) per-dimension minimum */
    float *hi; /* (dim) per-dimension maximum */
};

/* Allocate bounds for dim >= 1 dimensions, initialised to lo = -1, hi = 1. 0 or -ENOMEM. */
int norm_init(struct norm *n, int dim);

/* Free the bounds (the struct itself is the caller's); safe on a zeroed or finied struct. */
void norm_fini(struct norm *n);

/*
 * Set the bounds from lo[dim], hi[dim] (copied). Returns 0, or -EINVAL with a reason in err
 * when a bound is non-finite or lo > hi (nothing changed).
 */
int norm_set(struct norm *n, const float *lo, const float *hi, char *err, size_t errlen);

/*
 * Set the bounds to the per-column minimum and maximum of x (rows, dim), row-major.
 * Returns 0, or -EINVAL with a reason in err when rows < 1 or x holds a non-finite value
 * (nothing changed).
 */
int norm_fit(struct norm *n, const float *x, long rows, char *err, size_t errlen);

/* y = normalised x, both (rows, dim); clip: clamp y to [-1, 1]. In place (y == x) is fine. */
void norm_normalize(const struct norm *n, const float *x, float *y, long rows, bool clip);

/*
 * x = y mapped back from normalised space, both (rows, dim); clip: clamp y to [-1, 1] first
 * (what the actor does before actions reach the simulator). In place is fine.
 */
void norm_denormalize(const struct norm *n, const float *y, float *x, long rows, bool clip);

#endif
