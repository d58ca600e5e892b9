/*
 * critic.h — RLDT's twin Q critics (learner/algo/README.md §5): two MLPs [obs (S) | chunk (D)] →
 * depth × hidden SiLU → 1, each with a Polyak target copy and its own AdamW. Each critic is
 * trained on its own batch (the caller draws them from disjoint halves of the trajectories);
 * targets are updated by Polyak after every critic step. Also the target side of TD(λ):
 * Q̄(s) = mean over M policy samples of min(Q̄1, Q̄2)(s, a'), and the λ-return recursion.
 *
 * Every row handed in is already normalised (observations and actions in the policy's
 * [-1, 1] space). Not thread-safe; nothing allocates after critic_new.
 */
#ifndef RL_CRITIC_H
#define RL_CRITIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rng;
struct nn;
struct nn_ctx;
struct optim;
struct ckpt_writer;
struct ckpt;

struct critic_config {
    int obs_dim;        /* S */
    int D;              /* flattened chunk */
    int hidden, depth;  /* MLP width and hidden layers (256, 3) */
    float lr;           /* AdamW learning rate (1e-3) */
    float weight_decay; /* AdamW decoupled decay */
    float tau;          /* Polyak rate (0.005) */
    int max_batch;      /* rows per call of any function below */
    bool actor_min;     /* critic_action_grad: the lower critic's gradient per row, not the mean */
};

struct critic {
    struct critic_config cfg;
    int in;               /* S + D */
    struct nn *q[2];      /* online critics */
    struct nn *targ[2];   /* Polyak targets */
    struct optim *opt[2]; /* AdamW of q[k] */
    struct nn_ctx *ctx[2];
    float *qin;       /* (max_batch, S + D) */
    float *d_in;      /* (max_batch, S + D) */
    float *dq;        /* (max_batch) */
    float *qa;        /* (max_batch) */
    float *qb;        /* (max_batch) */
    int64_t steps[2]; /* checkpoint staging: optimiser step counters */
};

/*
 * Two critics initialised from init (targets = copies). NULL with a reason in err on a bad
 * size or out of memory. Caller owns; free with critic_destroy().
 */
struct critic *critic_new(const struct critic_config *cc, struct rng *init, char *err,
                          size_t errlen);

/* Free and set *p = NULL. Nullable: p, *p. */
void critic_destroy(struct critic **p);

/* min(Q̄1, Q̄2)(obs, act) of the target critics for B <= max_batch rows: q (B). */
void critic_target_min(struct critic *c, const float *obs, const float *act, int B, float *q);

/*
 * Q̄ of P states from M policy samples each: rows p·M + m of obs (P·M, S) and act (P·M, D) are
 * state p with its m-th sample; qbar[p] = (1/M) Σ_m min(Q̄1, Q̄2). P·M <= max_batch.
 */
void critic_qbar(struct critic *c, const float *obs, const float *act, int P, int M, float *qbar);

/*
 * Gradients of critic k's loss mean_i (Q_k(obs_i, act_i) − y_i)² (its grads zeroed first),
 * B <= max_batch rows. Returns the loss; *q_sum receives Σ_i Q_k(obs_i, act_i), and d_obs
 * (B, obs_dim), when not NULL, dL/dobs (an image encoder in front of the critics' observation
 * input learns from it). Nullable: d_obs.
 */
double critic_loss_grad(struct critic *c, int k, const float *obs, const float *act, const float *y,
                        int B, double *q_sum, float *d_obs);

/* Are both online critics' gradients finite? */
bool critic_grads_finite(const struct critic *c);

/* One AdamW step of each online critic from its gradients, then Polyak of both targets. */
void critic_apply(struct critic *c);

/*
 * g (B, D) = ∇ₐ of (Q1 + Q2)/2 at (obs, act), B <= max_batch; q (B) receives (Q1 + Q2)/2 when
 * not NULL. With cfg.actor_min: ∇ₐ and value of min(Q1, Q2) per row instead. The critics' gradients
 * are not touched (input gradients only). Nullable: q.
 */
void critic_action_grad(struct critic *c, const float *obs, const float *act, int B, float *g,
                        float *q);

/*
 * λ-returns of P windows of consecutive chunk steps (row p uses entries p·L .. p·L+len[p]−1,
 * 1 <= len[p] <= L):
 *   y_k = r_k + disc_k [(1 − λ) qbar_k + λ y_{k+1}],   the window's last step: r + disc·qbar,
 * disc_k = γ^steps_k (1 − done_k); qbar_k = Q̄(s_{k+1}) is read only where disc_k != 0 and
 * critic_td_reads_qbar says so, and may hold anything elsewhere. y (P) is the return of each
 * window's first step.
 */
void critic_td_lambda(const float *rew, const float *disc, const float *qbar, const int *len, int P,
                      int L, float lambda, float *y);

/* whether critic_td_lambda reads qbar at step k of a window of n steps (where it does not
 * terminate): always at the last step; before it only if λ < 1 (λ = 1: n-step returns) */
static inline bool critic_td_reads_qbar(float lambda, int k, int n)
{
    return k == n - 1 || lambda < 1;
}

/* Parameter-layout hash (both critics share it). */
uint64_t critic_hash(const struct critic *c);

/* Checkpoint sections critic.{q1,q2,q1_targ,q2_targ,adamw_q1,adamw_q2,steps} (borrowed until
 * the writer saves). 0 or -errno. */
int critic_save(struct critic *c, struct ckpt_writer *w);

/*
 * Check that c holds every critic section with this instance's sizes: 0, or -ENOENT/-EPROTO
 * with a reason in err. Changes nothing.
 */
int critic_check(const struct critic *c, const struct ckpt *k, char *err, size_t errlen);

/* Restore from sections critic_check accepted. */
void critic_load(struct critic *c, const struct ckpt *k);

#endif
