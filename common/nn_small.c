/*
 * nn_small.c — the small-batch product of nn_small.h. A pass computes R <= 4 rows of one
 * 16-column panel: 8 accumulators (two 8-lane registers per row); per k two loads of the
 * panel's k-th row and R broadcasts of x[r][k] feed 2R FMAs (FMA-bound, not load-bound). Only the
 * kernel is compiled for AVX2 + FMA; callers check nn_small_available() first.
 */
#include "common/nn_small.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NN_SMALL_X86 1
#endif

bool nn_small_available(void)
{
#ifdef NN_SMALL_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

size_t nn_small_packed_size(int n, int K)
{
    size_t panels = ((size_t)n + NN_SMALL_COLS - 1) / NN_SMALL_COLS;
    return panels * (size_t)K * NN_SMALL_COLS;
}

void nn_small_pack(const float *W, int n, int K, float *wp)
{
    memset(wp, 0, nn_small_packed_size(n, K) * sizeof(float));
    for (int j = 0; j < n; j++) {
        float *panel = wp + (size_t)(j / NN_SMALL_COLS) * K * NN_SMALL_COLS;
        for (int k = 0; k < K; k++)
            panel[(size_t)k * NN_SMALL_COLS + j % NN_SMALL_COLS] = W[(size_t)j * K + k];
    }
}

#ifdef NN_SMALL_X86

/* rows [0, R) of one panel (cols valid columns) into y; R is a constant after inlining */
__attribute__((target("avx2,fma"), always_inline)) static inline void
panel_rows(const float *x, int R, int K, const float *wp, float *y, int ldy, int cols)
{
    __m256 lo[NN_SMALL_ROWS], hi[NN_SMALL_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        lo[r] = hi[r] = _mm256_setzero_ps();
    for (int k = 0; k < K; k++) {
        __m256 w0 = _mm256_loadu_ps(wp + (size_t)k * NN_SMALL_COLS);
        __m256 w1 = _mm256_loadu_ps(wp + (size_t)k * NN_SMALL_COLS + 8);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m256 xb = _mm256_broadcast_ss(x + (size_t)r * K + k);
            lo[r] = _mm256_fmadd_ps(xb, w0, lo[r]);
            hi[r] = _mm256_fmadd_ps(xb, w1, hi[r]);
        }
    }
    float t[NN_SMALL_COLS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        float *yr = cols == NN_SMALL_COLS ? y + (size_t)r * ldy : t;
        _mm256_storeu_ps(yr, lo[r]);
        _mm256_storeu_ps(yr + 8, hi[r]);
        if (yr == t)
            memcpy(y + (size_t)r * ldy, t, (size_t)cols * sizeof(float));
    }
}

/* one row block of R rows over every panel */
__attribute__((target("avx2,fma"))) static void row_block(const float *x, int R, int K,
                                                          const float *wp, int n, float *y)
{
    for (int j0 = 0; j0 < n; j0 += NN_SMALL_COLS) {
        const float *p = wp + (size_t)(j0 / NN_SMALL_COLS) * K * NN_SMALL_COLS;
        int cols = n - j0 < NN_SMALL_COLS ? n - j0 : NN_SMALL_COLS;
        switch (R) {
        case 4:
            panel_rows(x, 4, K, p, y + j0, n, cols);
            break;
        case 2:
            panel_rows(x, 2, K, p, y + j0, n, cols);
            break;
        default:
            panel_rows(x, 1, K, p, y + j0, n, cols);
            break;
        }
    }
}

void nn_small_gemm(const float *x, int B, int K, const float *wp, int n, float *y)
{
    int i = 0;
    for (int R = NN_SMALL_ROWS; R >= 1; R /= 2)
        for (; B - i >= R; i += R)
            row_block(x + (size_t)i * K, R, K, wp, n, y + (size_t)i * n);
}

#else

void nn_small_gemm(const float *x, int B, int K, const float *wp, int n, float *y)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < n; j++) {
            const float *p =
                wp + (size_t)(j / NN_SMALL_COLS) * K * NN_SMALL_COLS + j % NN_SMALL_COLS;
            float s = 0;
            for (int k = 0; k < K; k++)
                s += x[(size_t)i * K + k] * p[(size_t)k * NN_SMALL_COLS];
            y[(size_t)i * n + j] = s;
        }
}

#endif
