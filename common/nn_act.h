/*
 * nn_act.h — internal row kernels of nn.c: activations and their derivatives, bias and skip
 * adds, LayerNorm forward/backward on one row of n floats. Pure functions, thread-safe.
 * Not part of the public API (include common/nn.h instead).
 */
#ifndef RL_NN_ACT_H
#define RL_NN_ACT_H

#include "common/nn.h"

/* y = f(u); y may equal u. */
void nn_act_fwd(enum nn_act a, const float *u, float *y, int n);

/* z += b, then y = f(z) (+ x: a residual layer's skip, in the same pass); y may equal z, not
 * x. Nullable: x. */
void nn_act_fwd_bias(enum nn_act a, float *z, const float *b, const float *x, float *y, int n);

/* z += b, then y = f(z) (+ x) and z = f'(z) (the derivative replaces the pre-activation).
 * Nullable: x. */
void nn_act_fwd_bias_d(enum nn_act a, float *z, const float *b, const float *x, float *y, int n);

/* dz = g ⊙ d and acc += dz; dz may equal g or d. */
void nn_mul_acc_row(float *dz, const float *g, const float *d, float *acc, int n);

/* y += x */
void nn_add_row(float *y, const float *x, int n);

/*
 * LayerNorm forward of the row z after adding the bias b: z becomes x̂ = (z − μ)·rstd and
 * y = gain ⊙ x̂ + beta (y may equal z). Returns rstd = 1/sqrt(var + NN_LN_EPS).
 */
float nn_ln_fwd_row(float *z, const float *b, const float *gain, const float *beta, float *y,
                    int n);

/*
 * Backward through act(gain ⊙ x̂ + beta) then LayerNorm for one row: gy is dL/dy, dz receives
 * dL/dz (z before normalisation); g_gain, g_beta accumulate. dz must not alias gy or xh.
 */
void nn_ln_bwd_row(enum nn_act a, const float *xh, float rstd, const float *gain, const float *beta,
                   const float *gy, float *dz, float *g_gain, float *g_beta, int n);

#endif
