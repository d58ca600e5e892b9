/*
 * reinflow_train.c — one PPO iteration of the ReinFlow baseline (reinflow_impl.h): take the
 * newest complete batch of one policy version from the replay, scale rewards, compute values
 * and GAE advantages, recompute the chains' log-likelihoods under the current (acting)
 * parameters, then run epochs of shuffled minibatch updates of the flow, noise and value nets.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/flow.h"
#include "common/log.h"
#include "common/nn.h"
#include "common/optim.h"
#include "common/reinflow_policy.h"
#include "common/util.h"
#include "learner/algo/reinflow_impl.h"
#include "learner/algo/reinflow_math.h"

#define HALF_LOG_2PIE 1.4189385332046727 /* entropy of N(0, 1) */

// ---- the batch ------------------------------------------------------------------------------

/* normalised observations, values of s and s' (blocks of Bm rows) */
static void values(struct reinflow *s, long T)
{
    size_t S = (size_t)s->S;
    const float *src[2] = {s->rows.obs, s->rows.next_obs};
    float *nrm[2] = {s->nobs, s->nnext}, *dst[2] = {s->val, s->nval};
    for (int w = 0; w < 2; w++) {
        if (s->bnd)
            norm_normalize(&s->obs_n, src[w], nrm[w], T, false);
        else
            memcpy(nrm[w], src[w], (size_t)T * S * sizeof(float));
        for (long a = 0; a < T; a += s->Bm) {
            int m = (int)RL_MIN((long)s->Bm, T - a);
            const float *v = nn_forward(s->value, s->vctx, nrm[w] + (size_t)a * S, m);
            memcpy(dst[w] + a, v, (size_t)m * sizeof(float));
        }
    }
}

/* rows [a, end) of one segment: rows of the same segment id are consecutive */
static long run_end(const struct reinflow *s, long a, long T)
{
    long b = a + 1;
    while (b < T && s->rows.traj[b] == s->rows.traj[a])
        b++;
    return b;
}

/* running std of the discounted return (per segment, from its start) divides the rewards */
static void scale_rewards(struct reinflow *s, long T)
{
    double gH = pow(s->gamma, s->d.chunk);
    struct reinflow_meta *m = &s->st;
    for (long a = 0; a < T;) {
        long b = run_end(s, a, T);
        double R = 0;
        for (long t = a; t < b; t++) {
            R = gH * R + s->rows.rew[t];
            m->rs_n += 1;
            double d = R - m->rs_mean;
            m->rs_mean += d / m->rs_n;
            m->rs_m2 += d * (R - m->rs_mean);
        }
        a = b;
    }
    double sd = m->rs_n > 1 ? sqrt(m->rs_m2 / (m->rs_n - 1)) : 1.0;
    double scale = s->reward_scale && sd > 1e-8 ? sd : 1.0;
    for (long t = 0; t < T; t++)
        s->rows.rew[t] = (float)(s->rows.rew[t] / scale);
    s->stats[RF_REWARD_SCALE] = scale;
}

/* GAE per segment; a chunk step of `steps` env steps discounts its bootstrap by γ^steps */
static void advantages(struct reinflow *s, long T)
{
    float gH = powf(s->gamma, (float)s->d.chunk);
    for (long t = 0; t < T; t++)
        s->nval[t] *= powf(s->gamma, s->rows.steps[t] - (float)s->d.chunk);
    for (long a = 0; a < T;) {
        long b = run_end(s, a, T);
        int n = (int)(b - a);
        reinflow_gae(n, s->rows.rew + a, s->val + a, s->nval + a, s->rows.done + a,
                     s->rows.done + a, gH, s->lambda, s->adv + a, s->ret + a);
        a = b;
    }
    double mean = 0, var = 0, rmean = 0;
    for (long t = 0; t < T; t++) {
        mean += s->adv[t];
        rmean += s->ret[t];
    }
    mean /= (double)T;
    for (long t = 0; t < T; t++)
        var += (s->adv[t] - mean) * (s->adv[t] - mean);
    double sd = sqrt(var / (double)T);
    for (long t = 0; t < T; t++)
        s->adv[t] = (float)((s->adv[t] - mean) / (sd + 1e-8));
    s->stats[RF_ADV_STD] = sd;
    s->stats[RF_RET_MEAN] = rmean / (double)T;
}

// ---- log-likelihood of chains --------------------------------------------------------------

/*
 * Forward of the minibatch rows idx[0..m): network rows r = i·N + k hold state x_k of row i.
 * Fills mu, sd (Bm·N, D), lp (m) and, in dmu / dsd, ∂logp/∂μ and ∂logp/∂σ. Returns the raw
 * noise output u (borrowed from nctx until its next forward).
 */
static const float *chain_forward(struct reinflow *s, const long *idx, int m)
{
    int N = s->N, D = s->D, S = s->S;
    size_t C = (size_t)s->C;
    for (int i = 0; i < m; i++) {
        const float *ch = s->rows.chain + (size_t)idx[i] * C;
        const float *ob = s->nobs + (size_t)idx[i] * S;
        for (int k = 0; k < N; k++) {
            size_t r = (size_t)i * N + k;
            memcpy(s->mx + r * D, ch + (size_t)k * D, (size_t)D * sizeof(float));
            memcpy(s->mo + r * S, ob, (size_t)S * sizeof(float));
            s->mt[r] = (float)k / (float)N;
        }
    }
    int R = m * N;
    const float *v = flow_forward(s->actor, s->fctx, s->mx, s->mt, s->mo, R);
    reinflow_noise_rows(s->nin, s->mx, s->mt, s->mo, R, D, S);
    const float *u = nn_forward(s->noise, s->nctx, s->nin, R);
    for (size_t j = 0; j < (size_t)R * D; j++) {
        s->mu[j] = s->mx[j] + v[j] / (float)N;
        s->sd[j] = reinflow_std(u[j], s->lo, s->hi);
    }
    for (int i = 0; i < m; i++) {
        size_t o = (size_t)i * N * D;
        s->lp[i] = reinflow_chain_logp(s->rows.chain + (size_t)idx[i] * C, s->mu + o, s->sd + o, N,
                                       D, false, s->dmu + o, s->dsd + o);
    }
    return u;
}

/* log-likelihoods of the whole batch under the current parameters; |gap| to the actors' */
static void old_logp(struct reinflow *s, long T)
{
    double gap = 0;
    for (long a = 0; a < T; a += s->Bm) {
        int m = (int)RL_MIN((long)s->Bm, T - a);
        for (int i = 0; i < m; i++)
            s->perm[i] = a + i;
        chain_forward(s, s->perm, m);
        for (int i = 0; i < m; i++) {
            s->lp_old[a + i] = s->lp[i];
            gap += fabs(s->lp[i] - s->rows.logp[a + i]);
        }
    }
    s->stats[RF_LOGP_GAP] = gap / (double)T;
}

// ---- updates --------------------------------------------------------------------------------

/* clip and apply a gradient block; false (nothing applied) when it is not finite */
static bool apply(struct reinflow *s, struct optim *o, float *params, float *grads, size_t n)
{
    double norm = optim_grad_norm(grads, n);
    if (!isfinite(norm))
        return false;
    if (s->grad_clip > 0)
        optim_clip_grad_norm(grads, n, s->grad_clip);
    optim_step(o, params, grads);
    return true;
}

struct mb_stats {
    double pl, vl, cf, kl, sd, n;
};

/* the clipped surrogate plus entropy bonus on rows idx[0..m): flow and noise nets */
double reinflow_policy_grad(struct reinflow *s, const long *idx, int m, double *parts)
{
    int N = s->N, D = s->D;
    const float *u = chain_forward(s, idx, m);
    // the ratio is of log-likelihoods averaged per element of x_0..x_N (as published)
    double per = 1.0 / ((double)(N + 1) * D);
    for (int i = 0; i < m; i++) {
        s->lp[i] *= per;
        s->lpo[i] = s->lp_old[idx[i]] * per;
        s->madv[i] = s->adv[idx[i]];
    }
    double cf = 0, kl = 0, lsd = 0;
    double pl = reinflow_ppo_loss(s->lp, s->lpo, s->madv, m, s->clip, s->dlp, &cf);
    size_t n = (size_t)m * N * D;
    double w_ent = s->ent / (double)n; /* L_ent = −ent · mean log σ */
    for (int i = 0; i < m; i++) {
        double lr = s->lp[i] - s->lpo[i];
        kl += expm1(lr) - lr;
        for (size_t j = (size_t)i * N * D; j < (size_t)(i + 1) * N * D; j++) {
            lsd += log(s->sd[j]);
            double g = s->dlp[i] * per; /* ∂L/∂(summed logp) */
            double dsd = g * s->dsd[j] - w_ent / s->sd[j];
            s->dmu[j] = (float)(g * s->dmu[j] / N); /* μ = x + v/N */
            s->dsd[j] = (float)dsd * (float)reinflow_bound_std_grad(u[j], s->lo, s->hi);
        }
    }
    flow_zero_grad(s->actor);
    flow_backward(s->actor, s->fctx, s->dmu, NULL, NULL);
    nn_zero_grad(s->noise);
    nn_backward(s->noise, s->nctx, s->dsd, NULL);
    parts[0] = pl;
    parts[1] = cf;
    parts[2] = kl / m;
    parts[3] = lsd / (double)n;
    return pl - s->ent * parts[3];
}

/* the clipped surrogate plus entropy bonus on rows idx[0..m): flow and noise nets */
static bool policy_update(struct reinflow *s, const long *idx, int m, struct mb_stats *st)
{
    double parts[4];
    double loss = reinflow_policy_grad(s, idx, m, parts);
    if (!isfinite(loss))
        return false;
    bool ok = apply(s, s->aopt, s->actor->params, s->actor->grads, s->actor->n_params);
    ok = ok && apply(s, s->nopt, s->noise->params, s->noise->grads, s->noise->n_params);
    st->pl += parts[0];
    st->cf += parts[1];
    st->kl += parts[2];
    st->sd += parts[3];
    return ok;
}

/* 0.5 · mean (V(s) − ret)² on rows idx[0..m) */
static bool value_update(struct reinflow *s, const long *idx, int m, struct mb_stats *st)
{
    size_t S = (size_t)s->S;
    for (int i = 0; i < m; i++)
        memcpy(s->mobs + (size_t)i * S, s->nobs + (size_t)idx[i] * S, S * sizeof(float));
    const float *v = nn_forward(s->value, s->vctx, s->mobs, m);
    double loss = 0;
    for (int i = 0; i < m; i++) {
        double e = (double)v[i] - s->ret[idx[i]];
        loss += 0.5 * e * e / m;
        s->mv[i] = (float)(e / m);
    }
    nn_zero_grad(s->value);
    nn_backward(s->value, s->vctx, s->mv, NULL);
    if (!isfinite(loss))
        return false;
    st->vl += loss;
    return apply(s, s->vopt, s->value->params, s->value->grads, s->value->n_params);
}

static void shuffle(struct reinflow *s, long T)
{
    for (long i = 0; i < T; i++)
        s->perm[i] = i;
    for (long i = T - 1; i > 0; i--) {
        long j = (long)rng_below(&s->rng, (uint64_t)i + 1);
        long t = s->perm[i];
        s->perm[i] = s->perm[j];
        s->perm[j] = t;
    }
}

static void epochs(struct reinflow *s, long T)
{
    bool actor = s->st.iterations >= s->critic_warmup;
    struct mb_stats st = {0};
    double bad = 0;
    for (int e = 0; e < s->epochs; e++) {
        shuffle(s, T);
        for (long a = 0; a < T; a += s->Bm) {
            int m = (int)RL_MIN((long)s->Bm, T - a);
            bool ok = !actor || policy_update(s, s->perm + a, m, &st);
            ok = value_update(s, s->perm + a, m, &st) && ok;
            bad += !ok;
            st.n += 1;
        }
    }
    double n = RL_MAX(st.n, 1.0);
    s->stats[RF_POLICY_LOSS] = actor ? st.pl / n : NAN;
    s->stats[RF_CLIP_FRAC] = actor ? st.cf / n : NAN;
    s->stats[RF_APPROX_KL] = actor ? st.kl / n : NAN;
    s->stats[RF_ENTROPY] = actor ? HALF_LOG_2PIE + st.sd / n : NAN;
    s->stats[RF_STD_MEAN] = actor ? exp(st.sd / n) : NAN;
    s->stats[RF_VALUE_LOSS] = st.vl / n;
    s->stats[RF_NAN_MINIBATCHES] = bad;
}

int reinflow_iterate(struct reinflow *s, struct replay *r)
{
    uint64_t ins = replay_inserted(r);
    if (ins == s->seen)
        return -EAGAIN;
    s->seen = ins;
    uint64_t V = 0;
    uint64_t want = s->st.trained_version + 1;
    if (replay_chain_latest(r, want, 0, NULL, &V) < s->Bt)
        return -EAGAIN;
    long T = s->Bt;
    double t0 = rl_now();
    replay_chain_latest(r, want, T, &s->rows, &V);
    values(s, T);
    scale_rewards(s, T);
    advantages(s, T);
    old_logp(s, T);
    double t1 = rl_now();
    epochs(s, T);
    s->stats[RF_SECS] = rl_now() - t0;
    log_debug("reinflow: iteration %lld on version %llu: %.2f s (%.2f s before the epochs)",
              (long long)s->st.iterations + 1, (unsigned long long)V, rl_now() - t0, t1 - t0);
    s->stats[RF_BATCH] = (double)T;
    s->stats[RF_BATCH_VERSION] = (double)V;
    s->st.trained_version = V;
    s->st.iterations++;
    return 0;
}
