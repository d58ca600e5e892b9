/*
 * nn_simd.h — internal 4-lane float vectors for the elementwise kernels of nn and optim, on the
 * GCC/Clang vector extension (SSE on baseline x86-64, whatever the target offers elsewhere):
 * unaligned and partial (tail) load/store, select, min/max, exp and sqrt. Static inline helpers
 * only; no state. Not part of the public API.
 */
#ifndef RL_NN_SIMD_H
#define RL_NN_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#define NN_V 4

/* small helpers, always inlined */
#define NN_INLINE static inline __attribute__((always_inline))

/* lanes of the chunk starting at j of a row of n floats */
#define NN_LANES(n, j) ((n) - (j) < NN_V ? (n) - (j) : NN_V)

typedef float nn_v4f __attribute__((vector_size(16)));
typedef int32_t nn_v4i __attribute__((vector_size(16)));

NN_INLINE nn_v4f nn_ld(const float *p)
{
    nn_v4f v;
    memcpy(&v, p, sizeof(v));
    return v;
}

NN_INLINE void nn_st(float *p, nn_v4f v)
{
    memcpy(p, &v, sizeof(v));
}

/* the first k (< 4) floats of p, zero-padded */
NN_INLINE nn_v4f nn_ld_part(const float *p, int k)
{
    float t[NN_V] = {0};
    memcpy(t, p, (size_t)k * sizeof(float));
    return nn_ld(t);
}

/* store the first k (< 4) lanes of v */
NN_INLINE void nn_st_part(float *p, nn_v4f v, int k)
{
    float t[NN_V];
    nn_st(t, v);
    memcpy(p, t, (size_t)k * sizeof(float));
}

/* full vector when k == 4, else a zero-padded tail */
NN_INLINE nn_v4f nn_ldk(const float *p, int k)
{
    return k == NN_V ? nn_ld(p) : nn_ld_part(p, k);
}

NN_INLINE void nn_stk(float *p, nn_v4f v, int k)
{
    if (k == NN_V)
        nn_st(p, v);
    else
        nn_st_part(p, v, k);
}

NN_INLINE nn_v4f nn_splat(float x)
{
    return (nn_v4f){x, x, x, x};
}

/* m ? a : b per lane (m lanes are all ones or all zeros, as from a comparison) */
NN_INLINE nn_v4f nn_sel(nn_v4i m, nn_v4f a, nn_v4f b)
{
    return (nn_v4f)((m & (nn_v4i)a) | (~m & (nn_v4i)b));
}

NN_INLINE nn_v4f nn_vmin(nn_v4f a, nn_v4f b)
{
    return nn_sel(a < b, a, b);
}

NN_INLINE nn_v4f nn_vmax(nn_v4f a, nn_v4f b)
{
    return nn_sel(a > b, a, b);
}

/* lanes 0..k-1 set */
NN_INLINE nn_v4i nn_lanes_below(int k)
{
    const nn_v4i idx = {0, 1, 2, 3};
    return idx < k;
}

NN_INLINE float nn_hsum(nn_v4f v)
{
    return (v[0] + v[2]) + (v[1] + v[3]);
}

/*
 * e^x with relative error < 2e-7: x = n·ln2 + r, |r| <= ln2/2, e^r by its degree-6 Taylor
 * polynomial, 2^n through the exponent bits. x is clamped to [-88, 89] so that n stays in
 * [-127, 128], where the exponent bits give 0 and +inf: results flush to 0 below about -87.7
 * (no subnormals) and overflow to +inf above about 88.4. NaN stays NaN (the clamps keep it).
 */
NN_INLINE nn_v4f nn_vexp(nn_v4f x)
{
    const float shift = 12582912.0f; /* 1.5·2^23: adding it rounds to an integer */
    x = nn_sel(x > 89.0f, nn_splat(89.0f), x);
    x = nn_sel(x < -88.0f, nn_splat(-88.0f), x);
    nn_v4f t = x * 1.44269504f + shift;
    nn_v4f n = t - shift;
    nn_v4f r = x - n * 0.693145752f - n * 1.42860677e-6f; /* ln2 split in two parts */
    nn_v4f p = nn_splat(1.0f / 720.0f);
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    nn_v4i bits = ((nn_v4i)t - (nn_v4i)nn_splat(shift) + 127) << 23;
    return p * (nn_v4f)bits;
}

/* sqrt of non-negative lanes */
NN_INLINE nn_v4f nn_vsqrt(nn_v4f x)
{
#if defined(__SSE__)
    return (nn_v4f)_mm_sqrt_ps((__m128)x);
#else
    for (int i = 0; i < NN_V; i++)
        x[i] = sqrtf(x[i]);
    return x;
#endif
}

#endif
