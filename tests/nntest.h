/*
 * nntest.h — what the common/nn tests share (test_nn.c, test_nn_grad.c): a seeded net with
 * LayerNorm gains away from 1/0, random inputs, random small specs, and a forward in double
 * precision written from the layout documented in nn.h. Header-only like harness.h.
 */
#ifndef RL_TEST_NNTEST_H
#define RL_TEST_NNTEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/nn.h"
#include "common/rng.h"
#include "tests/harness.h"

#define MAXB 8 /* the largest batch ref_forward takes */

static inline struct nn *mk(const struct nn_spec *s, uint64_t seed)
{
    char err[256];
    struct rng r;
    rng_init(&r, seed, 1);
    struct nn *net = nn_new(s, err, sizeof(err));
    if (!net) {
        fprintf(stderr, "nn_new: %s\n", err);
        return NULL;
    }
    nn_init(net, &r);
    /* LayerNorm gain/bias away from 1/0 so their gradients are exercised */
    for (int i = 0; i < net->n_layers; i++) {
        const struct nn_layer *L = &net->layer[i];
        for (int k = 0; L->ln && k < L->out; k++) {
            net->params[L->g + k] = (float)rng_range(&r, 0.5, 1.5);
            net->params[L->beta + k] = (float)rng_range(&r, -0.5, 0.5);
        }
    }
    return net;
}

/* A residual MLP with layer norm (every block option on): in -> depth x hidden -> out, act between
 * layers, weights from seed as mk(). */
static inline struct nn *mk_resln(int in, int out, int hidden, int depth, enum nn_act act,
                                  uint64_t seed)
{
    struct nn_spec s;
    nn_spec_mlp(&s, in, out, hidden, depth, act);
    s.residual = true;
    s.layer_norm = true;
    return mk(&s, seed);
}

static inline float *randn(struct rng *r, size_t n, float scale)
{
    float *x = malloc(n * sizeof(float));
    rng_normal_fill(r, x, (long)n);
    for (size_t i = 0; i < n; i++)
        x[i] *= scale;
    return x;
}

static inline double act_ref(enum nn_act a, double u)
{
    switch (a) {
    case NN_ACT_RELU:
        return u > 0 ? u : 0;
    case NN_ACT_SILU:
        return u / (1 + exp(-u));
    case NN_ACT_MISH:
        return u * tanh(log1p(exp(u)));
    case NN_ACT_TANH:
        return tanh(u);
    default:
        return u;
    }
}

/*
 * Reference forward in double from the layout documented in nn.h (offsets derived here, not
 * taken from the net): out (B, out_dim).
 */
static inline void ref_forward(const struct nn *net, const float *in, int B, double *out)
{
    const struct nn_spec *s = &net->spec;
    const float *p = net->params;
    static double x[MAXB * 512], y[MAXB * 512];
    int w_in = s->time_dim ? s->time_dim : s->in_dim;
    for (int i = 0; i < B; i++) {
        for (int k = 0; k < w_in && !s->time_dim; k++)
            x[i * w_in + k] = in[i * s->in_dim + k];
        for (int k = 0; k < s->time_dim / 2; k++) {
            int half = s->time_dim / 2;
            double f = s->time_scale * pow(10000.0, -(double)k / half);
            x[i * w_in + k] = sin(f * in[i]);
            x[i * w_in + half + k] = cos(f * in[i]);
        }
    }
    size_t off = 0;
    for (int l = 0; l <= s->n_hidden; l++) {
        bool hid = l < s->n_hidden;
        int w_out = hid ? s->hidden[l] : s->out_dim;
        const float *W = p + off, *b = p + off + (size_t)w_out * w_in;
        off += (size_t)w_out * w_in + w_out;
        const float *g = p + off, *be = p + off + w_out;
        bool ln = hid && s->layer_norm;
        off += ln ? 2 * (size_t)w_out : 0;
        bool skip = hid && s->residual && l > 0 && w_out == w_in;
        for (int i = 0; i < B; i++) {
            double *z = y + i * w_out, mu = 0, var = 0;
            for (int j = 0; j < w_out; j++) {
                z[j] = b[j];
                for (int k = 0; k < w_in; k++)
                    z[j] += (double)W[j * w_in + k] * x[i * w_in + k];
                mu += z[j] / w_out;
            }
            for (int j = 0; ln && j < w_out; j++)
                var += (z[j] - mu) * (z[j] - mu) / w_out;
            for (int j = 0; j < w_out; j++) {
                double u = ln ? g[j] * (z[j] - mu) / sqrt(var + NN_LN_EPS) + be[j] : z[j];
                z[j] = act_ref(hid ? s->act : s->out_act, u) + (skip ? x[i * w_in + j] : 0);
            }
        }
        memcpy(x, y, sizeof(double) * B * w_out);
        w_in = w_out;
    }
    T_EQ_INT(off, net->n_params);
    memcpy(out, x, sizeof(double) * B * s->out_dim);
}

/* a random small spec; widths in 4..10 with repeats so residual nets have skips */
static inline void rand_spec(struct rng *r, struct nn_spec *s, enum nn_act act, bool res, bool ln)
{
    int depth = 1 + (int)rng_below(r, 3);
    int w = 4 + (int)rng_below(r, 7);
    nn_spec_mlp(s, 1 + (int)rng_below(r, 6), 1 + (int)rng_below(r, 4), w, depth, act);
    for (int i = 1; i < depth; i++)
        if (rng_below(r, 4) == 0)
            s->hidden[i] = 4 + (int)rng_below(r, 7);
    s->residual = res;
    s->layer_norm = ln;
}

#endif
