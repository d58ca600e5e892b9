/*
 * optim.c — Adam/AdamW with warm-up over a flat float block; Polyak, EMA, gradient norm.
 * The update follows PyTorch: m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), θ −= lr·m̂/(sqrt(v̂)+eps).
 */
#include "common/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/nn_simd.h"

void optim_config_default(struct optim_config *c)
{
    memset(c, 0, sizeof(*c));
    c->kind = OPTIM_ADAM;
    c->lr = 1e-3f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->eps = 1e-8f;
    c->weight_decay = 0.0f;
    c->warmup = 0;
}

struct optim *optim_new(const struct optim_config *c, size_t n)
{
    if (n == 0)
        return NULL;
    struct optim *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->state = calloc(2 * n, sizeof(float));
    if (!o->state) {
        free(o);
        return NULL;
    }
    o->cfg = *c;
    o->n = n;
    return o;
}

void optim_destroy(struct optim **p)
{
    if (!p || !*p)
        return;
    free((*p)->state);
    free(*p);
    *p = NULL;
}

void optim_reset(struct optim *o)
{
    memset(o->state, 0, 2 * o->n * sizeof(float));
    o->step = 0;
}

float optim_lr_at(const struct optim_config *c, long step)
{
    if (c->warmup > 0 && step < c->warmup)
        return c->lr * (float)((double)step / (double)c->warmup);
    return c->lr;
}

void optim_step(struct optim *o, float *params, const float *grads)
{
    const struct optim_config *c = &o->cfg;
    long t = ++o->step;
    float lr = optim_lr_at(c, t);
    float b1 = c->beta1;
    float b2 = c->beta2;
    /* bias corrections folded into the step size and the denominator */
    float step_size = lr / (float)(1.0 - pow(b1, (double)t));
    float rbc2 = (float)(1.0 / sqrt(1.0 - pow(b2, (double)t)));
    float l2 = c->kind == OPTIM_ADAM ? c->weight_decay : 0.0f;
    float shrink = c->kind == OPTIM_ADAMW ? 1.0f - lr * c->weight_decay : 1.0f;
    float eps = c->eps;
    float *m = o->state;
    float *v = o->state + o->n;
    size_t n = o->n;
    for (size_t i = 0; i < n; i += NN_V) {
        int k = n - i < NN_V ? (int)(n - i) : NN_V;
        nn_v4f p = nn_ldk(params + i, k);
        nn_v4f g = nn_ldk(grads + i, k) + l2 * p;
        nn_v4f mi = b1 * nn_ldk(m + i, k) + (1.0f - b1) * g;
        nn_v4f vi = b2 * nn_ldk(v + i, k) + (1.0f - b2) * g * g;
        nn_stk(m + i, mi, k);
        nn_stk(v + i, vi, k);
        nn_stk(params + i, p * shrink - step_size * mi / (nn_vsqrt(vi) * rbc2 + eps), k);
    }
}

void optim_polyak(float *dst, const float *src, size_t n, float tau)
{
    float keep = 1.0f - tau;
    for (size_t i = 0; i < n; i++)
        dst[i] = keep * dst[i] + tau * src[i];
}

void optim_ema(float *ema, const float *x, size_t n, float decay)
{
    float take = 1.0f - decay;
    for (size_t i = 0; i < n; i++)
        ema[i] = decay * ema[i] + take * x[i];
}

double optim_grad_norm(const float *g, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return sqrt(s);
}

double optim_clip_grad_norm(float *g, size_t n, double max_norm)
{
    double norm = optim_grad_norm(g, n);
    if (norm > max_norm && norm > 0.0) {
        float k = (float)(max_norm / norm);
        for (size_t i = 0; i < n; i++)
            g[i] *= k;
    }
    return norm;
}
