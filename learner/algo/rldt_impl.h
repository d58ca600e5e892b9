/*
 * rldt_impl.h — private to learner/algo/rldt*.c (include rldt.h elsewhere): the RLDT instance
 * (struct rldt), its checkpointed scalar state and diagnostics, the normalisation helpers and
 * the critic / actor updates that rldt.c schedules.
 * Thread-safety: none; the trainer thread makes every call (rldt.h). The instance owns every
 * buffer and network it points to; rldt.c creates and frees them.
 */
#ifndef RL_RLDT_IMPL_H
#define RL_RLDT_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/norm.h"
#include "common/rng.h"
#include "learner/algo/rldt.h"
#include "learner/replay.h"

/* diagnostics (names in rldt.c) */
enum {
    DG_CRITIC_LOSS,
    DG_Q_MEAN,
    DG_TARGET_MEAN,
    DG_REWARD_SCALE,
    DG_GRAD_Q,
    DG_KERNEL_GRAD,
    DG_DIVERSITY,
    DG_ALPHA,
    DG_BANDWIDTH,
    DG_PHI,
    DG_L_TRANSPORT,
    DG_L_CONS,
    DG_L_TRUST,
    DG_COUNT
};

/* checkpoint header and the live scalar state; all 8-byte fields */
struct rldt_meta {
    int64_t version;
    int64_t obs_dim, act_dim, chunk, delta;
    uint64_t flow_layout, critic_hash;
    int64_t batch, pool; /* the pool the rldt.pool section holds */
    int64_t pool_valid, round_step, cursor[2];
    int64_t critic_steps, actor_steps, actor_skipped, actor_opt_step;
    double ema, ema_n; /* reward EMA of mean |r| and batches seen */
    double diag[DG_COUNT];
};

/*
 * Shapes: S obs_dim, A act_dim, H chunk, D = H·A; B critic batch (per critic); K particles;
 * Ba actor states, P = Ba·K particles; N Euler steps; M target samples; L TD window;
 * pool = B·ceil(R / reuse) rows per critic half. Everything a network sees is normalised.
 */
struct rldt {
    struct algo_dims d;
    bool delta;
    int S, A, D;
    int B, K, Ba, M, N, L, R, pool, blk;
    float gamma, lambda, w_cons, w_trust, ema_rate;
    float y_hi; /* > 0: targets are clipped to [0, y_hi] (sparse rewards) */
    double fresh_frac;
    long fresh_window, actor_every, actor_start, trust_refresh;
    long actor_every0, actor_ramp; /* schedule ramp (0 = none) */
    float tau, warm_tau;           /* critic Polyak rate after / during the warm-up */

    struct flow *actor, *trust;
    struct optim *aopt;
    struct critic *critic;
    struct flow_ctx *sctx; /* inference: sampling, v_old (blk rows) */
    struct flow_ctx *tctx; /* training: actor micro-batches (blk rows) */
    bool bounded;
    struct norm obs_n, act_n;
    float *bnd; /* 2S + 2A: obs lo, obs hi, act lo, act hi */

    struct rng rng;
    struct rldt_meta st;
    struct rng_state rng_state; /* checkpoint staging */
    long nonfinite;

    struct replay_batch batch; /* max(B, Ba) rows */
    struct replay_batch one;   /* 1 row (TD windows) */
    int64_t *index;
    /* blame (algo_ops.blame): ring slot of each pool row (-1: unknown, e.g. a pool restored from
     * a checkpoint), the pool rows of the critic step's batches, what the last step was */
    int64_t *pool_slot, *blamed;
    int32_t *c_rows;
    enum { RLDT_LAST_NONE, RLDT_LAST_CRITIC, RLDT_LAST_ACTOR } last;
    /* round pool, contiguous (one checkpoint section): half h = rows [h·pool, (h+1)·pool) */
    float *pool_obs, *pool_act, *pool_y;
    int32_t *perm;
    /* TD windows of pool rows: L entries per row */
    float *w_next, *w_rew, *w_disc, *w_qbar;
    int *w_len, *qidx;
    /* critic step: both critics' batches */
    float *c_obs, *c_act, *c_y;
    /* sampling (blk rows) */
    float *s_obs, *chain, *s_act, *s_q;
    /* actor micro-batch (blk rows) */
    float *a_sobs, *a_xt, *a_t, *a_ahat, *a_g, *a_phi, *a_dv, *a_xtil, *a_tau, *a_vold;
    int *a_k; /* drawn denoising step of each particle */
    double *work;
    float *mem;
};

static inline struct rldt *to_rldt(struct algo *a)
{
    return (struct rldt *)a;
}

static inline const struct rldt *to_crldt(const struct algo *a)
{
    return (const struct rldt *)a;
}

// ---- normalisation -------------------------------------------------------------------------

static inline void norm_obs(const struct rldt *s, const float *x, float *y, int rows)
{
    if (s->bounded)
        norm_normalize(&s->obs_n, x, y, rows, false);
    else if (x != y)
        memcpy(y, x, (size_t)rows * s->S * sizeof(float));
}

/* rows of flattened chunks: each of the H actions with the act bounds, clipped to [-1, 1] */
static inline void norm_act(const struct rldt *s, const float *x, float *y, int rows)
{
    if (s->bounded)
        norm_normalize(&s->act_n, x, y, (long)rows * s->d.chunk, true);
    else if (x != y)
        memcpy(y, x, (size_t)rows * s->D * sizeof(float));
}

// ---- the updates (rldt_critic.c, rldt_actor.c) ---------------------------------------------

/* The rows the last step read (algo_ops.blame); a critic step's round is drawn again. */
int rldt_blame(struct algo *a, const int64_t **slots);

/* One critic step, drawing the round (pool and targets) first when one starts; as train_step. */
int rldt_critic_update(struct rldt *s, struct replay *r);

/* One actor step over Ba states' K particles each. Same returns as train_step. */
int rldt_actor_update(struct rldt *s, struct replay *r);

#endif
