/*
 * optim.h — first-order optimisers over one flat float block (e.g. struct nn params/grads):
 * Adam and AdamW (decoupled weight decay) with linear learning-rate warm-up, plus Polyak
 * averaging, EMA and a global gradient norm. The Adam state (m then v) is ONE contiguous block
 * of 2n floats plus a step counter, so it checkpoints as (step, state[0..2n)).
 * Not thread-safe: one struct optim per parameter block and thread.
 *
 *   struct optim_config oc;
 *   optim_config_default(&oc);  oc.kind = OPTIM_ADAMW;  oc.lr = 1e-3f;  oc.weight_decay = 1e-2f;
 *   struct optim *o = optim_new(&oc, net->n_params);
 *   ... nn_zero_grad(net); forward/backward ...;  optim_step(o, net->params, net->grads);
 *   optim_polyak(target->params, net->params, net->n_params, 0.005f);
 */
#ifndef RL_OPTIM_H
#define RL_OPTIM_H

#include <stddef.h>

enum optim_kind {
    OPTIM_ADAM = 0, /* weight decay (if any) is L2: g += wd·θ before the moments */
    OPTIM_ADAMW,    /* decoupled: θ -= lr·wd·θ, moments see the raw gradient */
};

struct optim_config {
    enum optim_kind kind;
    float lr;           /* peak learning rate */
    float beta1, beta2; /* moment decay rates */
    float eps;          /* added to sqrt(v̂) */
    float weight_decay; /* 0 for none */
    long warmup;        /* lr scaled by min(1, step / warmup); 0 = no warm-up */
};

struct optim {
    struct optim_config cfg; /* may be edited between steps (e.g. cfg.lr) */
    size_t n;                /* floats in the parameter block */
    long step;               /* steps taken (the next step is step + 1) */
    float *state;            /* owned, 2n floats: m[0..n) then v[0..n) */
};

/* PyTorch defaults: Adam, lr 1e-3, betas 0.9/0.999, eps 1e-8, no decay, no warm-up. */
void optim_config_default(struct optim_config *c);

/* An optimiser for n parameters, zero state. Returns NULL on n == 0 or out of memory.
 * Caller owns; free with optim_destroy(). */
struct optim *optim_new(const struct optim_config *c, size_t n);

/* Free and set *p = NULL. Nullable: p, *p. */
void optim_destroy(struct optim **p);

/* Zero the moments and the step counter. */
void optim_reset(struct optim *o);

/* Learning rate of step number `step` (1-based) after warm-up scaling. */
float optim_lr_at(const struct optim_config *c, long step);

/* One update of params[0..n) from grads[0..n) (grads are read only). */
void optim_step(struct optim *o, float *params, const float *grads);

/* Polyak averaging: dst = (1 − tau)·dst + tau·src, n floats. */
void optim_polyak(float *dst, const float *src, size_t n, float tau);

/* Exponential moving average: ema = decay·ema + (1 − decay)·x, n floats. */
void optim_ema(float *ema, const float *x, size_t n, float decay);

/* Euclidean norm of g[0..n) (accumulated in double). */
double optim_grad_norm(const float *g, size_t n);

/* Scale g so its norm is at most max_norm (> 0). Returns the norm before clipping. */
double optim_clip_grad_norm(float *g, size_t n, double max_norm);

#endif
