/*
 * nn_act.c — row kernels of nn.c: activations (ReLU, SiLU, Mish, Tanh) with derivatives,
 * LayerNorm forward/backward, bias and skip adds. Each works on one row of n floats, 4 lanes
 * at a time (nn_simd.h), so the data stays in L1 between passes. Pure functions, thread-safe.
 */
#include "common/nn_act.h"

#include <math.h>
#include <stdbool.h>

#include "common/nn_simd.h"

/* logistic sigmoid */
NN_INLINE nn_v4f vsigm(nn_v4f x)
{
    return 1.0f / (1.0f + nn_vexp(-x));
}

/* tanh with libm accuracy (used on small output layers only) */
NN_INLINE nn_v4f vtanh(nn_v4f u)
{
    for (int i = 0; i < NN_V; i++)
        u[i] = tanhf(u[i]);
    return u;
}

/*
 * f(u), and f'(u) in *d when d is not NULL (constant-folded after inlining). Mish uses
 * tanh(softplus(u)) = m / (m + 2) with m = e (e + 2), e = e^min(u, 20) (beyond 20 it is 1 in
 * float), and σ(u) = e / (1 + e) from the same exponential.
 */
NN_INLINE nn_v4f act_fd(enum nn_act a, nn_v4f u, nn_v4f *d)
{
    switch (a) {
    case NN_ACT_RELU:
        if (d)
            *d = nn_sel(u > 0.0f, nn_splat(1.0f), nn_splat(0.0f));
        return nn_sel(u < 0.0f, nn_splat(0.0f), u); /* NaN stays NaN */
    case NN_ACT_SILU: {
        nn_v4f s = vsigm(u);
        if (d)
            *d = s * (1.0f + u * (1.0f - s));
        return u * s;
    }
    case NN_ACT_MISH: {
        nn_v4f e = nn_vexp(nn_vmin(u, nn_splat(20.0f)));
        nn_v4f m = e * (e + 2.0f);
        nn_v4f t = m / (m + 2.0f);
        if (d)
            *d = t + u * (1.0f - t * t) * (e / (1.0f + e));
        return u * t;
    }
    case NN_ACT_TANH: {
        nn_v4f t = vtanh(u);
        if (d)
            *d = 1.0f - t * t;
        return t;
    }
    default:
        if (d)
            *d = nn_splat(1.0f);
        return u;
    }
}

NN_INLINE nn_v4f act_f(enum nn_act a, nn_v4f u)
{
    return act_fd(a, u, NULL);
}

/* g ⊙ f'(u) */
NN_INLINE nn_v4f act_df(enum nn_act a, nn_v4f u, nn_v4f g)
{
    nn_v4f d;
    act_fd(a, u, &d);
    return g * d;
}

/*
 * Call the always-inlined row function fn with the activation as a constant, so each case gets
 * its own loop with no switch inside (one switch per row).
 */
#define ACT_DISPATCH(a, fn, ...)                                                                   \
    do {                                                                                           \
        switch (a) {                                                                               \
        case NN_ACT_RELU:                                                                          \
            fn(NN_ACT_RELU, __VA_ARGS__);                                                          \
            break;                                                                                 \
        case NN_ACT_SILU:                                                                          \
            fn(NN_ACT_SILU, __VA_ARGS__);                                                          \
            break;                                                                                 \
        case NN_ACT_MISH:                                                                          \
            fn(NN_ACT_MISH, __VA_ARGS__);                                                          \
            break;                                                                                 \
        case NN_ACT_TANH:                                                                          \
            fn(NN_ACT_TANH, __VA_ARGS__);                                                          \
            break;                                                                                 \
        default:                                                                                   \
            fn(NN_ACT_NONE, __VA_ARGS__);                                                          \
            break;                                                                                 \
        }                                                                                          \
    } while (0)

NN_INLINE void fwd_row(enum nn_act a, const float *u, float *y, int n)
{
    for (int j = 0; j < n; j += NN_V) {
        int k = NN_LANES(n, j);
        nn_stk(y + j, act_f(a, nn_ldk(u + j, k)), k);
    }
}

void nn_act_fwd(enum nn_act a, const float *u, float *y, int n)
{
    ACT_DISPATCH(a, fwd_row, u, y, n);
}

/* z += b, y = f(z) (+ x with skip: residual layers, in the same pass); with deriv z then gets
 * f'(z + b) (the training forward keeps the derivative for backward). skip and deriv are
 * constants after inlining. */
NN_INLINE void fwd_bias_row(enum nn_act a, bool skip, bool deriv, float *z, const float *b,
                            const float *x, float *y, int n)
{
    for (int j = 0; j < n; j += NN_V) {
        int k = NN_LANES(n, j);
        nn_v4f v = nn_ldk(z + j, k) + nn_ldk(b + j, k);
        nn_v4f d = v;
        nn_v4f f = deriv ? act_fd(a, v, &d) : act_f(a, v);
        if (!deriv) /* before y: y may equal z */
            nn_stk(z + j, v, k);
        nn_stk(y + j, skip ? f + nn_ldk(x + j, k) : f, k);
        if (deriv)
            nn_stk(z + j, d, k);
    }
}

NN_INLINE void fwd_bias_rows(enum nn_act a, bool deriv, float *z, const float *b, const float *x,
                             float *y, int n)
{
    if (x)
        fwd_bias_row(a, true, deriv, z, b, x, y, n);
    else
        fwd_bias_row(a, false, deriv, z, b, x, y, n);
}

void nn_act_fwd_bias(enum nn_act a, float *z, const float *b, const float *x, float *y, int n)
{
    ACT_DISPATCH(a, fwd_bias_rows, false, z, b, x, y, n);
}

void nn_act_fwd_bias_d(enum nn_act a, float *z, const float *b, const float *x, float *y, int n)
{
    ACT_DISPATCH(a, fwd_bias_rows, true, z, b, x, y, n);
}

void nn_mul_acc_row(float *dz, const float *g, const float *d, float *acc, int n)
{
    for (int j = 0; j < n; j += NN_V) {
        int k = NN_LANES(n, j);
        nn_v4f v = nn_ldk(g + j, k) * nn_ldk(d + j, k);
        nn_stk(dz + j, v, k);
        nn_stk(acc + j, nn_ldk(acc + j, k) + v, k);
    }
}

void nn_add_row(float *y, const float *x, int n)
{
    for (int j = 0; j < n; j += NN_V) {
        int k = NN_LANES(n, j);
        nn_stk(y + j, nn_ldk(y + j, k) + nn_ldk(x + j, k), k);
    }
}

float nn_ln_fwd_row(float *z, const float *b, const float *gain, const float *beta, float *y, int n)
{
    nn_v4f acc = nn_splat(0.0f);
    for (int j = 0; j < n; j += NN_V) {
        int k = NN_LANES(n, j);
        nn_v4f v = nn_ldk(z + j, k) + nn_ldk(b + j, k);
        nn_stk(z + j, v, k);
        acc += v;
    }
    float mean = nn_hsum(acc) / (float)n;
    acc = nn_splat(0.0f);
    for (int j = 0; j < n; j += NN_V) {
        int k = NN_LANES(n, j);
        nn_v4f d = nn_ldk(z + j, k) - mean;
        d = nn_sel(nn_lanes_below(k), d, nn_splat(0.0f)); /* padded lanes are not data */
        acc += d * d;
    }
    float rstd = 1.0f / sqrtf(nn_hsum(acc) / (float)n + NN_LN_EPS);
    for (int j = 0; j < n; j += NN_V) {
        int k = NN_LANES(n, j);
        nn_v4f xh = (nn_ldk(z + j, k) - mean) * rstd;
        nn_stk(z + j, xh, k);
        nn_stk(y + j, nn_ldk(gain + j, k) * xh + nn_ldk(beta + j, k), k);
    }
    return rstd;
}

/*
 * du = gy ⊙ f'(gain ⊙ x̂ + beta); gain/beta grads += du ⊙ x̂, du; dz = dx̂ = du ⊙ gain; m[0], m[1]
 * receive the row sums of dx̂ and dx̂ ⊙ x̂. Padded lanes give 0 (gy and gain load as 0).
 */
NN_INLINE void ln_bwd_row1(enum nn_act a, const float *xh, const float *gain, const float *beta,
                           const float *gy, float *dz, float *g_gain, float *g_beta, int n,
                           float *m)
{
    nn_v4f s1 = nn_splat(0.0f);
    nn_v4f s2 = nn_splat(0.0f);
    for (int j = 0; j < n; j += NN_V) {
        int k = NN_LANES(n, j);
        nn_v4f x = nn_ldk(xh + j, k);
        nn_v4f g = nn_ldk(gain + j, k);
        nn_v4f du = act_df(a, g * x + nn_ldk(beta + j, k), nn_ldk(gy + j, k));
        nn_stk(g_gain + j, nn_ldk(g_gain + j, k) + du * x, k);
        nn_stk(g_beta + j, nn_ldk(g_beta + j, k) + du, k);
        nn_v4f dx = du * g;
        nn_stk(dz + j, dx, k);
        s1 += dx;
        s2 += dx * x;
    }
    m[0] = nn_hsum(s1);
    m[1] = nn_hsum(s2);
}

void nn_ln_bwd_row(enum nn_act a, const float *xh, float rstd, const float *gain, const float *beta,
                   const float *gy, float *dz, float *g_gain, float *g_beta, int n)
{
    float m[2];
    ACT_DISPATCH(a, ln_bwd_row1, xh, gain, beta, gy, dz, g_gain, g_beta, n, m);
    float m1 = m[0] / (float)n;
    float m2 = m[1] / (float)n;
    for (int j = 0; j < n; j += NN_V) {
        int k = NN_LANES(n, j);
        nn_v4f d = nn_ldk(dz + j, k);
        nn_stk(dz + j, rstd * (d - m1 - nn_ldk(xh + j, k) * m2), k);
    }
}
