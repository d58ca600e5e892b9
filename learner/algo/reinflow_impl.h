/*
 * reinflow_impl.h — private to learner/algo/reinflow*.c (include reinflow.h elsewhere): the
 * ReinFlow instance, its checkpointed scalar state, and the PPO iteration reinflow_train.c runs.
 * Thread-safety: none; the trainer thread makes every call. The instance owns every buffer and
 * network it points to; reinflow.c creates and frees them.
 */
#ifndef RL_REINFLOW_IMPL_H
#define RL_REINFLOW_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/norm.h"
#include "common/rng.h"
#include "learner/algo.h"
#include "learner/replay.h"

struct flow;
struct flow_ctx;
struct nn;
struct nn_ctx;
struct optim;

#define RF_COUNT_MAX 16

/* checkpoint header and the live scalar state; all 8-byte fields */
struct reinflow_meta {
    int64_t version;
    int64_t obs_dim, act_dim, chunk, steps;
    uint64_t layout, value_hash;
    int64_t iterations;          /* PPO iterations done */
    uint64_t trained_version;    /* policy version of the last batch trained on (0: none) */
    double rs_n, rs_mean, rs_m2; /* running moments of discounted returns (reward scaling) */
    int64_t opt_step[3];         /* Adam steps: flow, noise, value */
};

/*
 * Shapes: S obs_dim, D = H·A, N Euler steps, C = (N+1)·D chain floats per chunk step; Bt the
 * batch (chunk steps of one policy version), Bm the minibatch (chunk steps; Bm·N network rows).
 * Everything a network sees is normalised (observations with the base policy's bounds).
 */
struct reinflow {
    struct algo_dims d;
    int S, A, D, N, C;
    long Bt;
    int Bm, epochs, critic_warmup;
    float lo, hi, clip, lambda, gamma, ent, grad_clip;
    bool reward_scale;
    float *bnd; /* [obs_lo | obs_hi | act_lo | act_hi] of the base policy, or NULL */
    struct norm obs_n;
    struct flow *actor;
    struct nn *noise, *value;
    struct optim *aopt, *nopt, *vopt;
    struct flow_ctx *fctx;      /* training, Bm·N rows */
    struct nn_ctx *nctx;        /* Bm·N rows */
    struct nn_ctx *vctx;        /* Bm rows */
    struct rng rng;             /* minibatch shuffles */
    struct rng_state rng_state; /* staged for a checkpoint writer */
    struct reinflow_meta st;
    uint64_t seen; /* replay_inserted() at the last look for a batch */
    // the batch: rows of replay_chain_latest, and per-row results
    struct replay_chain_rows rows;
    float *nobs, *nnext; /* (Bt, S) normalised */
    float *val, *nval, *adv, *ret;
    double *lp_old;
    long *perm;
    // minibatch scratch
    float *mx, *mt, *mo; /* (Bm·N, D), (Bm·N), (Bm·N, S): network rows (state k of row i) */
    float *nin;          /* (Bm·N, D + 1 + S) noise-net input */
    float *mu, *sd;      /* (Bm·N, D) */
    float *dmu, *dsd;    /* (Bm·N, D) ∂logp/∂μ, ∂logp/∂σ, then ∂L/∂v and ∂L/∂u */
    float *mobs, *mv;    /* (Bm, S), (Bm) */
    double *lp, *lpo, *dlp;     /* (Bm) */
    float *madv;                /* (Bm) */
    double stats[RF_COUNT_MAX]; /* named diagnostics of the last iteration */
};

enum {
    RF_POLICY_LOSS,
    RF_VALUE_LOSS,
    RF_CLIP_FRAC,
    RF_APPROX_KL,
    RF_STD_MEAN,
    RF_ENTROPY,
    RF_LOGP_GAP,
    RF_ADV_STD,
    RF_RET_MEAN,
    RF_REWARD_SCALE,
    RF_BATCH,
    RF_BATCH_VERSION,
    RF_NAN_MINIBATCHES,
    RF_SECS,
    RF_COUNT
};

/*
 * One PPO iteration when a full batch of a new policy version is stored: GAE, then epochs of
 * clipped-ratio minibatch updates of flow, noise and value nets. Returns 0 (trained: the batch
 * is used up) or -EAGAIN (no full batch yet). A minibatch whose loss or gradient is not finite
 * changes nothing and is counted (RF_NAN_MINIBATCHES).
 */
int reinflow_iterate(struct reinflow *s, struct replay *r);

/*
 * The policy loss L = PPO surrogate − ent · mean log σ on batch rows idx[0..m) with its gradient
 * in actor->grads and noise->grads (overwritten; nothing applied). parts receives the surrogate,
 * the clip fraction, the approximate KL and the mean log σ. Uses the state of the last
 * iteration's batch (rows, advantages, old log-likelihoods).
 */
double reinflow_policy_grad(struct reinflow *s, const long *idx, int m, double *parts);

#endif
