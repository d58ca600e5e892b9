/*
 * rldt_critic.c — RLDT critic rounds (rldt.h): the reward EMA scale, the round's pool of both
 * critics' batches with TD(λ) windows and fixed targets from batched policy samples, and the
 * critic steps that train on them.
 * Thread-safety: none; the trainer thread makes every call. Works in the instance's buffers
 * (rldt_impl.h), allocates nothing.
 */
#include "learner/algo/rldt_impl.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/flow.h"
#include "common/log.h"
#include "common/rng.h"
#include "common/util.h"
#include "learner/algo/critic.h"
#include "learner/replay.h"

// ---- reward scale --------------------------------------------------------------------------

static void ema_update(struct rldt *s, const float *rew, int n)
{
    if (s->ema_rate <= 0)
        return;
    double m = 0;
    for (int i = 0; i < n; i++)
        m += fabs((double)rew[i]);
    m /= n;
    if (!isfinite(m))
        return; /* a poisoned batch (its rows are quarantined when a step fails) */
    s->st.ema = s->st.ema_n == 0 ? m : s->st.ema + s->ema_rate * (m - s->st.ema);
    s->st.ema_n++;
}

double rldt_reward_scale(const struct algo *a)
{
    const struct rldt *s = to_crldt(a);
    return s->ema_rate > 0 && s->st.ema_n > 0 && s->st.ema > 1e-8 ? s->st.ema : 1.0;
}

// ---- critic rounds -------------------------------------------------------------------------

/* window entry e from row i of b: reward, discount γ^steps (0 if terminal), next state */
static void set_entry(struct rldt *s, size_t e, const struct replay_batch *b, int i)
{
    s->w_rew[e] = b->rew[i];
    float k = b->steps[i] > 0 ? b->steps[i] : (float)s->d.chunk;
    s->w_disc[e] = b->done[i] != 0 ? 0.0f : powf(s->gamma, k);
    norm_obs(s, b->next_obs + (size_t)i * s->S, s->w_next + e * s->S, 1);
}

/*
 * The TD window of pool row `row`: row i of b (replay slot idx), then (λ > 0) the following
 * steps of its segment until the horizon, the segment's end or a terminal step.
 */
static void fill_window(struct rldt *s, struct replay *r, int row, const struct replay_batch *b,
                        int i, int64_t idx)
{
    size_t e = (size_t)row * s->L, ib = s->px ? s->px->ib : 0;
    set_entry(s, e, b, i);
    if (ib)
        replay_get_img(r, idx, NULL, s->px->w_img + e * ib);
    int n = 1;
    while (n < s->L && s->w_disc[e + n - 1] != 0 && (idx = replay_next(r, idx)) >= 0) {
        replay_get(r, idx, &s->one, 0);
        set_entry(s, e + n, &s->one, 0);
        if (ib)
            replay_get_img(r, idx, NULL, s->px->w_img + (e + n) * ib);
        n++;
    }
    s->w_len[row] = n;
}

/* dst rows p·M + m (m < M) = src row p (n rows of w floats) */
static void repeat_rows(float *dst, const float *src, int n, int M, int w)
{
    for (int p = 0; p < n; p++)
        for (int m = 0; m < M; m++)
            memcpy(dst + ((size_t)p * M + m) * w, src + (size_t)p * w, (size_t)w * sizeof(float));
}

/* from pixels: the actor's (s_obs) and critics' (s_cobs) view of n next states, M times each */
static void pix_next_conds(struct rldt *s, const int *ent, int n)
{
    struct rldt_pix *x = s->px;
    for (int p = 0; p < n; p++)
        memcpy(x->q_img + (size_t)p * x->ib, x->w_img + (size_t)ent[p] * x->ib, x->ib);
    for (int p = 0; p < n; p++) /* their states, gathered (the proprioception) */
        memcpy(x->q_nobs + (size_t)p * s->S, s->w_next + (size_t)ent[p] * s->S,
               (size_t)s->S * sizeof(float));
    rldt_pix_cond(s, x->aenc, x->ictx, x->q_img, x->q_nobs, NULL, n, x->q_cond);
    repeat_rows(s->s_obs, x->q_cond, n, s->M, x->W);
    if (x->state_critic) { /* the critics see the next states themselves */
        repeat_rows(s->s_cobs, x->q_nobs, n, s->M, s->S);
        return;
    }
    if (!x->same_enc) /* else the critics see what the actor sees */
        rldt_pix_cond(s, x->cenc, x->ictx, x->q_img, x->q_nobs, NULL, n, x->q_cond);
    repeat_rows(s->s_cobs, x->q_cond, n, s->M, x->W);
}

/* Q̄ of n window entries: M policy samples each (one batched Euler chain), min of targets */
static void policy_qbar(struct rldt *s, const int *ent, int n)
{
    int M = s->M, S = s->S, rows = n * M;
    if (s->px) {
        pix_next_conds(s, ent, n);
    } else {
        for (int p = 0; p < n; p++)
            for (int m = 0; m < M; m++)
                memcpy(s->s_obs + ((size_t)p * M + m) * S, s->w_next + (size_t)ent[p] * S,
                       (size_t)S * sizeof(float));
    }
    rng_normal_fill(&s->rng, s->chain, (long)rows * s->D);
    flow_sample(s->actor, s->sctx, s->s_obs, rows, s->chain);
    flow_chain_actions(s->chain, s->N, rows, s->D, NULL, s->s_act);
    critic_qbar(s->critic, s->s_cobs, s->s_act, n, M, s->s_q);
    for (int p = 0; p < n; p++)
        s->w_qbar[ent[p]] = s->s_q[p];
}

/* targets y (rows) of the first `rows` windows: scale rewards, Q̄ where they bootstrap, TD(λ),
 * clipped to [0, y_hi] in sparse-reward mode (only the final target: the recursion is exact) */
static void window_targets(struct rldt *s, int rows, float *y)
{
    int L = s->L, nq = 0;
    float inv = (float)(1.0 / rldt_reward_scale((struct algo *)s));
    for (int p = 0; p < rows; p++)
        for (int k = 0; k < s->w_len[p]; k++) {
            size_t e = (size_t)p * L + k;
            s->w_rew[e] *= inv;
            if (s->w_disc[e] != 0 && critic_td_reads_qbar(s->lambda, k, s->w_len[p]))
                s->qidx[nq++] = (int)e;
        }
    int per = s->blk / s->M;
    for (int q0 = 0; q0 < nq; q0 += per)
        policy_qbar(s, s->qidx + q0, RL_MIN(per, nq - q0));
    critic_td_lambda(s->w_rew, s->w_disc, s->w_qbar, s->w_len, rows, L, s->lambda, y);
    if (s->y_hi > 0)
        for (int p = 0; p < rows; p++)
            y[p] = RL_MIN(RL_MAX(y[p], 0.0f), s->y_hi);
}

/* draw the round: pool batches of both halves, reward EMA per batch, fixed targets */
static int build_round(struct rldt *s, struct replay *r)
{
    int P = s->pool, B = s->B, S = s->S, D = s->D;
    s->st.pool_valid = 0;
    for (int h = 0; h < 2; h++)
        for (int b0 = 0; b0 < P; b0 += B) {
            int row = h * P + b0;
            uint8_t *img = s->px ? s->px->pool_img + (size_t)row * s->px->ib : NULL;
            if (replay_sample_img(r, &s->rng, B, s->fresh_frac, s->fresh_window, h, &s->batch, img,
                                  NULL) != B)
                return -EAGAIN;
            norm_obs(s, s->batch.obs, s->pool_obs + (size_t)row * S, B);
            norm_act(s, s->batch.act, s->pool_act + (size_t)row * D, B);
            ema_update(s, s->batch.rew, B);
            for (int i = 0; i < B; i++) {
                fill_window(s, r, row + i, &s->batch, i, s->index[i]);
                s->pool_slot[row + i] = s->index[i];
            }
        }
    window_targets(s, 2 * P, s->pool_y);
    if (s->px)
        rldt_pix_pool_features(s);
    for (int i = 0; i < 2 * P; i++)
        s->perm[i] = i % P;
    s->st.cursor[0] = s->st.cursor[1] = 0;
    s->st.pool_valid = 1;
    return 0;
}

/* next pool row of half h: the pool in order, reshuffled whenever it has been used up */
static int next_row(struct rldt *s, int h)
{
    int P = s->pool;
    int32_t *perm = s->perm + (size_t)h * P;
    if (s->st.cursor[h] >= P) {
        for (int i = P - 1; i > 0; i--) {
            int j = (int)rng_below(&s->rng, (uint64_t)i + 1);
            int32_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        s->st.cursor[h] = 0;
    }
    return h * P + perm[s->st.cursor[h]++];
}

static void take_batches(struct rldt *s)
{
    int B = s->B, S = s->S, D = s->D;
    bool states = !s->px || s->px->state_critic; /* the critics see the state vectors */
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < B; i++) {
            size_t row = (size_t)next_row(s, h), o = (size_t)h * B + i;
            s->c_rows[o] = (int32_t)row;
            if (states)
                memcpy(s->c_obs + o * S, s->pool_obs + row * S, (size_t)S * sizeof(float));
            memcpy(s->c_act + o * D, s->pool_act + row * D, (size_t)D * sizeof(float));
            s->c_y[o] = s->pool_y[row];
        }
    if (!states)
        rldt_pix_critic_input(s);
}

int rldt_blame(struct algo *a, const int64_t **slots)
{
    struct rldt *s = to_rldt(a);
    int n = 0;
    if (s->last == RLDT_LAST_CRITIC) {
        for (int o = 0; o < 2 * s->B; o++)
            if (s->pool_slot[s->c_rows[o]] >= 0)
                s->blamed[n++] = s->pool_slot[s->c_rows[o]];
        s->st.pool_valid = 0; /* the next critic step draws a new round */
    } else if (s->last == RLDT_LAST_ACTOR) {
        memcpy(s->blamed, s->index, (size_t)s->Ba * sizeof(int64_t));
        n = s->Ba;
    }
    *slots = s->blamed;
    return n;
}

int rldt_critic_update(struct rldt *s, struct replay *r)
{
    s->last = RLDT_LAST_CRITIC;
    if (s->st.round_step == 0 || !s->st.pool_valid) {
        int rc = build_round(s, r);
        if (rc < 0)
            return rc;
        s->st.round_step = 0;
    }
    take_batches(s);
    int B = s->B, Sn = s->Sn, Sc = s->Sc;
    double loss = 0, qsum = 0, ysum = 0;
    for (int h = 0; h < 2; h++) {
        double qs;
        float *dobs = s->px && s->px->copt ? s->px->dcond + (size_t)h * B * Sn : NULL;
        loss +=
            critic_loss_grad(s->critic, h, s->c_obs + (size_t)h * B * Sc,
                             s->c_act + (size_t)h * B * s->D, s->c_y + (size_t)h * B, B, &qs, dobs);
        qsum += qs;
    }
    for (int i = 0; i < 2 * B; i++)
        ysum += s->c_y[i];
    s->st.round_step = (s->st.round_step + 1) % s->R;
    bool ok = isfinite(loss) && isfinite(qsum) && isfinite(ysum) && critic_grads_finite(s->critic);
    if (!ok || (s->px && !rldt_pix_critic_encoder_step(s))) {
        if (s->nonfinite++ == 0)
            log_warn("rldt: non-finite critic step %lld (loss %g), not applied",
                     (long long)s->st.critic_steps + 1, loss);
        return -EDOM;
    }
    s->critic->cfg.tau = s->st.critic_steps < s->actor_start ? s->warm_tau : s->tau;
    critic_apply(s->critic);
    s->st.critic_steps++;
    s->st.diag[DG_CRITIC_LOSS] = loss / 2;
    s->st.diag[DG_Q_MEAN] = qsum / (2.0 * B);
    s->st.diag[DG_TARGET_MEAN] = ysum / (2.0 * B);
    s->st.diag[DG_REWARD_SCALE] = rldt_reward_scale((struct algo *)s);
    return 0;
}

int rldt_targets(struct algo *a, struct replay *r, const int64_t *index, int n, float *y)
{
    struct rldt *s = to_rldt(a);
    if (n < 1 || n > 2 * s->pool)
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        replay_get(r, index[i], &s->one, 0);
        fill_window(s, r, i, &s->one, 0, index[i]);
    }
    window_targets(s, n, y);
    return 0;
}
