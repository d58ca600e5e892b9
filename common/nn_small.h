/*
 * nn_small.h — internal to nn.c: the product of a few rows with a pre-packed weight matrix,
 * y (B, n) = x (B, K) · Wᵀ for W (n, K), for batches too small for a general sgemm to pay off
 * (an actor's handful of envs: OpenBLAS re-packs all of W on every call, which at 8 rows costs
 * about as much as the product). W is packed once per weight change into panels of
 * NN_SMALL_COLS output columns, k-major, zero-padded; the kernel keeps NN_SMALL_ROWS rows of a
 * panel in registers (AVX2 + FMA, chosen at run time; nn_small_available() says whether this
 * CPU has them). Pure functions, thread-safe. Not part of the public API.
 */
#ifndef RL_NN_SMALL_H
#define RL_NN_SMALL_H

#include <stdbool.h>
#include <stddef.h>

#define NN_SMALL_ROWS 4  /* rows per kernel pass */
#define NN_SMALL_COLS 16 /* output columns per packed panel */

/* true when the CPU runs the kernel (AVX2 and FMA) */
bool nn_small_available(void);

/* floats of a packed W (n, K): ceil(n / NN_SMALL_COLS) panels of K × NN_SMALL_COLS */
size_t nn_small_packed_size(int n, int K);

/* pack W (n, K) row-major into wp (nn_small_packed_size floats) */
void nn_small_pack(const float *W, int n, int K, float *wp);

/* y (B, n), row stride n = x (B, K) · Wᵀ from the packed wp; B >= 1. Needs nn_small_available(). */
void nn_small_gemm(const float *x, int B, int K, const float *wp, int n, float *y);

#endif
