/*
 * norm.c — min-max normalisation to and from [-1, 1].
 */
#include "common/norm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int norm_init(struct norm *n, int dim)
{
    RL_ASSERT(dim >= 1);
    n->dim = dim;
    n->lo = malloc(sizeof(float) * (size_t)dim);
    n->hi = malloc(sizeof(float) * (size_t)dim);
    if (!n->lo || !n->hi) {
        norm_fini(n);
        return -ENOMEM;
    }
    for (int i = 0; i < dim; i++) {
        n->lo[i] = -1.0f;
        n->hi[i] = 1.0f;
    }
    return 0;
}

void norm_fini(struct norm *n)
{
    free(n->lo);
    free(n->hi);
    n->lo = NULL;
    n->hi = NULL;
    n->dim = 0;
}

int norm_set(struct norm *n, const float *lo, const float *hi, char *err, size_t errlen)
{
    for (int i = 0; i < n->dim; i++) {
        if (!isfinite(lo[i]) || !isfinite(hi[i]) || lo[i] > hi[i]) {
            snprintf(err, errlen, "norm bounds of dimension %d are invalid: [%g, %g]", i,
                     (double)lo[i], (double)hi[i]);
            return -EINVAL;
        }
    }
    memcpy(n->lo, lo, sizeof(float) * (size_t)n->dim);
    memcpy(n->hi, hi, sizeof(float) * (size_t)n->dim);
    return 0;
}

int norm_fit(struct norm *n, const float *x, long rows, char *err, size_t errlen)
{
    int D = n->dim;
    if (rows < 1) {
        snprintf(err, errlen, "norm_fit: need at least one row, got %ld", rows);
        return -EINVAL;
    }
    for (long r = 0; r < rows; r++)
        for (int i = 0; i < D; i++)
            if (!isfinite(x[r * D + i])) {
                snprintf(err, errlen, "norm_fit: non-finite value at row %ld, column %d", r, i);
                return -EINVAL;
            }
    memcpy(n->lo, x, sizeof(float) * (size_t)D);
    memcpy(n->hi, x, sizeof(float) * (size_t)D);
    for (long r = 1; r < rows; r++) {
        const float *row = x + r * D;
        for (int i = 0; i < D; i++) {
            n->lo[i] = row[i] < n->lo[i] ? row[i] : n->lo[i];
            n->hi[i] = row[i] > n->hi[i] ? row[i] : n->hi[i];
        }
    }
    return 0;
}

static float clamp1(float v)
{
    return v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
}

void norm_normalize(const struct norm *n, const float *x, float *y, long rows, bool clip)
{
    int D = n->dim;
    for (long r = 0; r < rows; r++)
        for (int i = 0; i < D; i++) {
            long k = r * D + i;
            float v = 2.0f * (x[k] - n->lo[i]) / (n->hi[i] - n->lo[i] + NORM_EPS) - 1.0f;
            y[k] = clip ? clamp1(v) : v;
        }
}

void norm_denormalize(const struct norm *n, const float *y, float *x, long rows, bool clip)
{
    int D = n->dim;
    for (long r = 0; r < rows; r++)
        for (int i = 0; i < D; i++) {
            long k = r * D + i;
            float v = clip ? clamp1(y[k]) : y[k];
            x[k] = (v + 1.0f) * 0.5f * (n->hi[i] - n->lo[i] + NORM_EPS) + n->lo[i];
        }
}
