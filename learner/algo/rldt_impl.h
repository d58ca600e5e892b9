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

#include "common/encoder.h"
#include "common/norm.h"
#include "common/pixflow.h"
#include "common/rng.h"
#include "learner/algo/rldt.h"
#include "learner/replay.h"

struct ckpt;
struct ckpt_writer;
struct optim;
struct rl_config;

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
 * From pixels (a "pixflow" base policy): the actor and the critics each see [features of the
 * observation's camera image through their own encoder (F) | proprioception, the first P
 * normalised entries of the state (P)], W = F + P floats. The critics' encoder starts as a copy
 * of the actor's pre-trained one and learns at rldt_critic_lr / rldt_encoder_lr_div on images
 * randomly shifted by up to RLDT_SHIFT_PAD pixels; the actor's learns through the flow's loss
 * (unless frozen). Targets and the actor's critic gradients use unshifted images. Images: ib
 * bytes each; rows as the state buffers they go with.
 */
#define RLDT_SHIFT_PAD 4
struct rldt_pix {
    struct encoder *aenc, *cenc; /* actor's, critics' */
    struct encoder *tenc;        /* the trust copy of aenc (when aenc learns), else NULL */
    struct encoder_ctx *actx;    /* actor step: Ba images (backward) */
    struct encoder_ctx *cctx;    /* critic step: 2B shifted images (backward) */
    struct encoder_ctx *ictx;    /* inference: up to Ba or blk / M images */
    struct optim *aopt, *copt;   /* Adam of aenc (NULL: frozen), of cenc (NULL: frozen) */
    int F, P, W;
    size_t ib;
    uint8_t *pool_img;        /* (2 pool): image of each pool row */
    float *pool_feat;         /* (2 pool, F): cenc's features of them (frozen cenc), else NULL */
    bool same_enc;            /* both frozen with equal weights: one encoder pass serves both */
    bool state_critic;        /* the critics see the state vector (S), not images (W) */
    uint8_t *w_img;           /* (2 pool L): next image of each window entry */
    uint8_t *c_img, *c_aug;   /* (2B): the critic step's images, shifted */
    uint8_t *a_img;           /* (Ba): the actor step's images */
    uint8_t *q_img;           /* (blk / M): next images of a target batch */
    float *a_nobs;            /* (Ba, S): the actor step's normalised states */
    float *a_csobs;           /* (Ba, Sc): the critics' view of them */
    float *a_tobs;            /* (Ba, W): the trust copy's view of them (tenc), or NULL */
    float *t_obs;             /* (blk, W): a_tobs repeated per particle, or NULL */
    float *q_nobs;            /* (blk / M, S): a target batch's next states */
    float *q_cond;            /* (blk / M, W): a target batch's conds, before repeating */
    float *dcond;             /* (max(B, blk), W): gradient at a network's obs input */
    float *dfeat;             /* (max(2B, Ba), F): gradient at an encoder's output */
    int64_t steps[2];         /* checkpoint staging: the encoders' Adam steps */
    struct pixflow_file file; /* checkpoint staging: the policy's encoder section */
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
    int Sn;              /* observation input of the networks: S, or W from pixels */
    int Sc;              /* the critics' observation input: Sn, or S with a state critic */
    struct rldt_pix *px; /* from pixels, else NULL */
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
    float *s_cobs; /* the critics' view of s_obs' rows: s_obs itself, or (blk, Sc) from pixels */
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

/*
 * From pixels (rldt_pixels.c). rldt_pix_new: the pixel state for base encoder aenc (taken:
 * the instance owns it from then on, also on failure) and P; 0 or -errno with a reason.
 */
int rldt_pix_new(struct rldt *s, const struct rl_config *c, struct encoder **aenc, int P, char *err,
                 size_t errlen);
void rldt_pix_destroy(struct rldt *s);

/* Is the policy file at path a pixel policy ("pixflow")? false also when it does not load. */
bool rldt_base_is_pixels(const char *path);

/*
 * The pixel base policy c->base_policy (fully checked; its task, camera, image size and chunk
 * must be the run's, which must have pixels = true): its flow (returned, caller owns), encoder
 * (*enc), proprioception *P and bounds (*bounds, malloc'd, NULL when none). NULL with a reason.
 */
struct flow *rldt_pix_load_base(const struct rl_config *c, const struct algo_dims *d,
                                struct encoder **enc, int *P, float **bounds, char *err,
                                size_t errlen);

/* cond (n, W) = [features of img (n images) through e on ctx | the first P of nobs row k, or of
 * row rows[k] when rows is not NULL (nobs rows of S)]. Nullable: rows. */
void rldt_pix_cond(const struct rldt *s, const struct encoder *e, struct encoder_ctx *ctx,
                   const uint8_t *img, const float *nobs, const int32_t *rows, int n, float *cond);

/* Critic step from pixels with image critics: c_obs (2B, W) of the batch's shifted images
 * (critic encoder); with a frozen critic encoder, the round's pool features of the unshifted
 * images instead. */
void rldt_pix_critic_input(struct rldt *s);

/* A round's pool is drawn: with a frozen critic encoder, encode its 2·pool images once. */
void rldt_pix_pool_features(struct rldt *s);

/* After both critics' loss gradients (their obs-input gradient in px->dcond, (2B, W)): the
 * critic encoder's gradient and step; false (nothing applied) when it is not finite. A frozen
 * critic encoder: nothing to do (true). */
bool rldt_pix_critic_encoder_step(struct rldt *s);

/* Checkpoint sections of the encoders (rldt.enc_*) / their check and restore. */
int rldt_pix_save(struct rldt *s, struct ckpt_writer *w);
int rldt_pix_check(const struct rldt *s, const struct ckpt *c, char *err, size_t errlen);
void rldt_pix_load(struct rldt *s, const struct ckpt *c);

/* The rows the last step read (algo_ops.blame); a critic step's round is drawn again. */
int rldt_blame(struct algo *a, const int64_t **slots);

/* One critic step, drawing the round (pool and targets) first when one starts; as train_step. */
int rldt_critic_update(struct rldt *s, struct replay *r);

/* One actor step over Ba states' K particles each. Same returns as train_step. */
int rldt_actor_update(struct rldt *s, struct replay *r);

#endif
