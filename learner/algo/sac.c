/*
 * sac.c — Soft Actor-Critic (sac.h): one update = critic target from the Polyak critics and a
 * fresh policy sample at s', actor loss through ∇ₐ of the online critics, critic regression,
 * temperature step, then Polyak. Every gradient is computed at the same parameters and the
 * optimisers only run once all losses are finite (else -EDOM, nothing applied).
 *
 * Shapes: B batch rows, S obs_dim, D = chunk·act_dim, Q input (B, S+D) = [obs | action].
 * RNG streams of the run seed: SAC_STREAM_INIT (network init), SAC_STREAM_TRAIN (batches and
 * policy noise; checkpointed so a resumed run continues the same sequence).
 *
 * Choices: the temperature starts at sac_init_alpha = 1 (log α = 0, as in the reference
 * implementations): a high entropy bonus while the critics still fit warm-up data, and Adam on
 * log α (lr 1e-3) moves it by up to ~1e-3 per update in log space, so it settles at the level
 * that meets the target entropy −D within a few thousand updates. The log α gradient is
 * −(mean log π + H̄) with log π held fixed. The critic loss is the sum of both critics' MSE.
 */
#include "learner/algo/sac.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/gauss.h"
#include "common/log.h"
#include "common/nn.h"
#include "common/optim.h"
#include "common/rng.h"
#include "common/util.h"
#include "learner/replay.h"

#define SAC_STREAM_INIT 0x5ac0000001ULL
#define SAC_STREAM_TRAIN 0x5ac0000002ULL
#define SAC_CKPT_VERSION 1

enum { NET_ACTOR, NET_Q1, NET_Q2, NET_Q1_TARG, NET_Q2_TARG, NET_COUNT };
enum { OPT_ACTOR, OPT_Q1, OPT_Q2, OPT_ALPHA, OPT_COUNT };

static const char *const net_section[NET_COUNT] = {"sac.actor", "sac.q1", "sac.q2", "sac.q1_targ",
                                                   "sac.q2_targ"};
static const char *const opt_section[OPT_COUNT] = {"sac.adam_actor", "sac.adam_q1", "sac.adam_q2",
                                                   "sac.adam_alpha"};

/* checkpoint header: shapes (refuse a mismatch) and scalar state; all 8-byte fields */
struct sac_meta {
    int64_t version;
    int64_t obs_dim, act_dim, chunk, hidden, layers;
    uint64_t actor_hash, q_hash;
    int64_t step;
    int64_t opt_step[OPT_COUNT];
    double log_alpha;
};

struct sac {
    struct algo_dims d;
    int B;
    int Qin; /* S + D */
    float gamma, tau, target_entropy;
    double fresh_frac;
    long fresh_window;
    bool tune_alpha;
    int hidden, layers;

    struct nn *net[NET_COUNT];
    struct optim *opt[OPT_COUNT];
    float log_alpha[1]; /* the temperature parameter, optimised by opt[OPT_ALPHA] */
    float alpha_grad[1];
    struct nn_ctx *actx, *qctx[2];
    struct rng rng;
    long step;
    long nonfinite; /* steps refused with -EDOM */

    /* batch and step buffers, sized for B rows */
    struct replay_batch batch;
    int64_t *index; /* ring slots of the batch rows (blame) */
    float *qin;     /* (B, S+D) */
    float *pout;    /* (B, 2D) policy outputs at s' */
    float *eps;     /* (B, D) */
    float *u;       /* (B, D) */
    float *act;     /* (B, D) */
    float *logp;    /* (B) */
    float *y;       /* (B) critic target */
    float *qa;      /* (B) */
    float *qb;      /* (B) */
    float *dq[2];   /* (B) dL/dQ */
    float *d_in;    /* (B, S+D) */
    float *g_a;     /* (B, D) */
    float *g_lp;    /* (B) */
    float *d_pol;   /* (B, 2D) */
    float *mem;     /* the one buffer all of the above point into */

    /* checkpoint staging (borrowed by a ckpt writer until it saves) */
    struct sac_meta meta;
    struct rng_state rng_state;
};

static struct sac *to_sac(struct algo *a)
{
    return (struct sac *)a;
}

static const struct sac *to_csac(const struct algo *a)
{
    return (const struct sac *)a;
}

// ---- create / destroy ----------------------------------------------------------------------

static void sac_destroy(struct algo *a)
{
    struct sac *s = to_sac(a);
    if (!s)
        return;
    for (int i = 0; i < NET_COUNT; i++)
        nn_destroy(&s->net[i]);
    for (int i = 0; i < OPT_COUNT; i++)
        optim_destroy(&s->opt[i]);
    nn_ctx_destroy(&s->actx);
    nn_ctx_destroy(&s->qctx[0]);
    nn_ctx_destroy(&s->qctx[1]);
    free(s->mem);
    free(s->index);
    free(s);
}

/* carve the step buffers from one allocation */
static int alloc_buffers(struct sac *s)
{
    size_t B = (size_t)s->B, S = (size_t)s->d.obs_dim, D = (size_t)s->d.D;
    size_t Qin = S + D;
    size_t n = B * (S + D + 1 + S + 1 + 1) + B * Qin * 2 + B * 2 * D * 2 + B * D * 4 + B * 7;
    s->mem = calloc(n, sizeof(float));
    s->index = calloc(B, sizeof(int64_t));
    if (!s->mem || !s->index)
        return -ENOMEM;
    s->batch.index = s->index;
    float *p = s->mem;
#define TAKE(ptr, k)                                                                               \
    do {                                                                                           \
        (ptr) = p;                                                                                 \
        p += (k);                                                                                  \
    } while (0)
    TAKE(s->batch.obs, B * S);
    TAKE(s->batch.act, B * D);
    TAKE(s->batch.rew, B);
    TAKE(s->batch.next_obs, B * S);
    TAKE(s->batch.done, B);
    TAKE(s->batch.steps, B);
    TAKE(s->qin, B * Qin);
    TAKE(s->d_in, B * Qin);
    TAKE(s->pout, B * 2 * D);
    TAKE(s->d_pol, B * 2 * D);
    TAKE(s->eps, B * D);
    TAKE(s->u, B * D);
    TAKE(s->act, B * D);
    TAKE(s->g_a, B * D);
    TAKE(s->logp, B);
    TAKE(s->y, B);
    TAKE(s->qa, B);
    TAKE(s->qb, B);
    TAKE(s->dq[0], B);
    TAKE(s->dq[1], B);
#undef TAKE
    RL_ASSERT((size_t)(p - s->mem) + B == n);
    s->g_lp = p;
    return 0;
}

/* networks (initialised from the run seed, targets = copies) and their optimisers */
static int build_nets(struct sac *s, const struct rl_config *c, char *err, size_t errlen)
{
    struct nn_spec ps, qs;
    if (gauss_spec(&ps, c, s->d.obs_dim, s->d.D, err, errlen))
        return -EINVAL;
    nn_spec_mlp(&qs, s->Qin, 1, c->sac_hidden, c->sac_layers, NN_ACT_RELU);
    for (int i = 0; i < NET_COUNT; i++) {
        s->net[i] = nn_new(i == NET_ACTOR ? &ps : &qs, err, errlen);
        if (!s->net[i])
            return -EINVAL;
    }
    struct rng init;
    rng_init(&init, (uint64_t)c->seed, SAC_STREAM_INIT);
    for (int i = NET_ACTOR; i <= NET_Q2; i++)
        nn_init(s->net[i], &init);
    nn_copy_params(s->net[NET_Q1_TARG], s->net[NET_Q1]);
    nn_copy_params(s->net[NET_Q2_TARG], s->net[NET_Q2]);

    struct optim_config oc;
    optim_config_default(&oc);
    oc.kind = OPTIM_ADAM;
    oc.lr = (float)c->sac_lr;
    for (int i = OPT_ACTOR; i <= OPT_Q2; i++)
        s->opt[i] = optim_new(&oc, s->net[i]->n_params);
    oc.lr = (float)c->sac_alpha_lr;
    s->opt[OPT_ALPHA] = optim_new(&oc, 1);
    s->actx = nn_ctx_new(s->net[NET_ACTOR], s->B);
    s->qctx[0] = nn_ctx_new(s->net[NET_Q1], s->B);
    s->qctx[1] = nn_ctx_new(s->net[NET_Q2], s->B);
    for (int i = 0; i < OPT_COUNT; i++)
        if (!s->opt[i])
            goto err_nomem;
    if (!s->actx || !s->qctx[0] || !s->qctx[1])
        goto err_nomem;
    return 0;

err_nomem:
    return rl_err(-ENOMEM, err, errlen, "sac: out of memory");
}

static struct algo *sac_create(const struct rl_config *c, const struct algo_dims *d, char *err,
                               size_t errlen)
{
    if (d->obs_dim < 1 || d->act_dim < 1 || d->chunk < 1 || d->D != d->chunk * d->act_dim) {
        rl_err(0, err, errlen, "sac: bad dims obs %d act %d chunk %d D %d", d->obs_dim, d->act_dim,
               d->chunk, d->D);
        return NULL;
    }
    if (c->batch_size < 1 || !(c->gamma >= 0 && c->gamma <= 1) || !(c->tau >= 0 && c->tau <= 1)) {
        rl_err(0, err, errlen, "sac: batch_size %d, gamma %g, tau %g out of range", c->batch_size,
               c->gamma, c->tau);
        return NULL;
    }
    if (!(c->sac_init_alpha > 0) || !isfinite(c->sac_init_alpha)) {
        rl_err(0, err, errlen, "sac: sac_init_alpha %g must be positive", c->sac_init_alpha);
        return NULL;
    }
    struct sac *s = calloc(1, sizeof(*s));
    if (!s) {
        rl_err(0, err, errlen, "sac: out of memory");
        return NULL;
    }
    s->d = *d;
    s->B = c->batch_size;
    s->Qin = d->obs_dim + d->D;
    s->gamma = (float)c->gamma;
    s->tau = (float)c->tau;
    s->target_entropy = -(float)d->D;
    s->fresh_frac = c->fresh_frac;
    s->fresh_window = (long)c->fresh_window;
    s->tune_alpha = c->sac_alpha_lr > 0;
    s->hidden = c->sac_hidden;
    s->layers = c->sac_layers;
    s->log_alpha[0] = (float)log(c->sac_init_alpha);
    rng_init(&s->rng, (uint64_t)c->seed, SAC_STREAM_TRAIN);
    if (alloc_buffers(s)) {
        rl_err(0, err, errlen, "sac: out of memory");
        goto err_free;
    }
    if (build_nets(s, c, err, errlen))
        goto err_free;
    return (struct algo *)s;

err_free:
    sac_destroy((struct algo *)s);
    return NULL;
}

// ---- training step -------------------------------------------------------------------------

/* qin (B, S+D) = [obs | act] */
static void fill_qin(struct sac *s, const float *obs, const float *act, int B)
{
    int S = s->d.obs_dim, D = s->d.D;
    nn_copy_cols(s->qin, s->Qin, obs, S, B, S);
    nn_copy_cols(s->qin + S, s->Qin, act, D, B, D);
}

/* y = r + γ^steps (1 − done) (min Q̄(s', a') − α log π(a'|s')), a' ~ π(s') */
static void critic_target(struct sac *s, float alpha)
{
    int B = s->B, D = s->d.D;
    const struct replay_batch *b = &s->batch;
    nn_infer(s->net[NET_ACTOR], s->actx, b->next_obs, s->pout, B);
    rng_normal_fill(&s->rng, s->eps, (long)B * D);
    gauss_sample(s->pout, s->eps, B, D, s->u, s->act, s->logp);
    fill_qin(s, b->next_obs, s->act, B);
    nn_infer(s->net[NET_Q1_TARG], s->qctx[0], s->qin, s->qa, B);
    nn_infer(s->net[NET_Q2_TARG], s->qctx[1], s->qin, s->qb, B);
    for (int i = 0; i < B; i++) {
        if (b->done[i] != 0) { /* terminal: next_obs is not used at all */
            s->y[i] = b->rew[i];
            continue;
        }
        int k = b->steps[i] > 0 ? (int)b->steps[i] : s->d.chunk;
        float disc = k == 1 ? s->gamma : powf(s->gamma, (float)k);
        float v = fminf(s->qa[i], s->qb[i]) - alpha * s->logp[i];
        s->y[i] = b->rew[i] + disc * v;
    }
}

/*
 * Actor loss E[α log π(ã|s) − min Q(s, ã)], ã = tanh(m + σε): actor grads (zeroed first) via
 * ∇ₐQ from the critics' input gradients. Leaves logp of ã in s->logp. Returns the loss.
 */
static double actor_pass(struct sac *s, float alpha)
{
    int B = s->B, S = s->d.obs_dim, D = s->d.D;
    struct nn *actor = s->net[NET_ACTOR];
    const float *out = nn_forward(actor, s->actx, s->batch.obs, B);
    rng_normal_fill(&s->rng, s->eps, (long)B * D);
    gauss_sample(out, s->eps, B, D, s->u, s->act, s->logp);
    fill_qin(s, s->batch.obs, s->act, B);
    const float *q1 = nn_forward(s->net[NET_Q1], s->qctx[0], s->qin, B);
    const float *q2 = nn_forward(s->net[NET_Q2], s->qctx[1], s->qin, B);
    double loss = 0;
    float inv_b = 1.0f / (float)B;
    for (int i = 0; i < B; i++) {
        bool first = q1[i] <= q2[i];
        s->dq[0][i] = first ? -inv_b : 0.0f;
        s->dq[1][i] = first ? 0.0f : -inv_b;
        s->g_lp[i] = alpha * inv_b;
        loss += alpha * s->logp[i] - (first ? q1[i] : q2[i]);
    }
    /* ∇ₐ min Q: the action columns of each critic's input gradient (input gradients only: the
     * critics' parameter gradients are not wanted here) */
    nn_backward_input(s->net[NET_Q1], s->qctx[0], s->dq[0], s->d_in);
    nn_copy_cols(s->g_a, D, s->d_in + S, s->Qin, B, D);
    nn_backward_input(s->net[NET_Q2], s->qctx[1], s->dq[1], s->d_in);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < D; j++)
            s->g_a[(size_t)i * D + j] += s->d_in[(size_t)i * s->Qin + S + j];
    gauss_backward(out, s->eps, s->u, s->g_a, s->g_lp, B, D, s->d_pol);
    nn_zero_grad(actor);
    nn_backward(actor, s->actx, s->d_pol, NULL);
    return loss / B;
}

/* critic loss Σ_k mean (Q_k(s, a) − y)²: grads of both critics (zeroed first) */
static double critic_pass(struct sac *s, double *q_mean)
{
    int B = s->B;
    fill_qin(s, s->batch.obs, s->batch.act, B);
    double loss = 0, qsum = 0;
    for (int k = 0; k < 2; k++) {
        struct nn *q = s->net[NET_Q1 + k];
        const float *qv = nn_forward(q, s->qctx[k], s->qin, B);
        for (int i = 0; i < B; i++) {
            float e = qv[i] - s->y[i];
            s->dq[k][i] = 2.0f * e / (float)B;
            loss += (double)e * e;
            qsum += qv[i];
        }
        nn_zero_grad(q);
        nn_backward(q, s->qctx[k], s->dq[k], NULL);
    }
    *q_mean = qsum / (2.0 * B);
    return loss / B;
}

static bool grads_finite(const struct sac *s)
{
    for (int i = NET_ACTOR; i <= NET_Q2; i++)
        if (!isfinite(optim_grad_norm(s->net[i]->grads, s->net[i]->n_params)))
            return false;
    return true;
}

static void apply_step(struct sac *s)
{
    for (int i = NET_ACTOR; i <= NET_Q2; i++)
        optim_step(s->opt[i], s->net[i]->params, s->net[i]->grads);
    if (s->tune_alpha)
        optim_step(s->opt[OPT_ALPHA], s->log_alpha, s->alpha_grad);
    for (int k = 0; k < 2; k++) {
        struct nn *t = s->net[NET_Q1_TARG + k];
        optim_polyak(t->params, s->net[NET_Q1 + k]->params, t->n_params, s->tau);
    }
    s->step++;
}

static int sac_train_step(struct algo *a, struct replay *r, struct algo_report *rep)
{
    struct sac *s = to_sac(a);
    if (replay_size(r) < s->B)
        return -EAGAIN;
    if (replay_sample(r, &s->rng, s->B, s->fresh_frac, s->fresh_window, -1, &s->batch) != s->B)
        return -EAGAIN;
    float alpha = expf(s->log_alpha[0]);
    critic_target(s, alpha);
    double actor_loss = actor_pass(s, alpha);
    double mean_logp = 0;
    for (int i = 0; i < s->B; i++)
        mean_logp += s->logp[i];
    mean_logp /= s->B;
    double q_mean;
    double critic_loss = critic_pass(s, &q_mean);
    /* L(log α) = −log α · (mean log π + H̄), log π held fixed */
    double alpha_loss = -s->log_alpha[0] * (mean_logp + s->target_entropy);
    s->alpha_grad[0] = (float)-(mean_logp + s->target_entropy);
    if (!isfinite(critic_loss) || !isfinite(actor_loss) || !isfinite(alpha_loss) ||
        !isfinite(q_mean) || !grads_finite(s)) {
        if (s->nonfinite++ == 0)
            log_warn("sac: non-finite step %ld (critic %g actor %g alpha %g), not applied",
                     s->step + 1, critic_loss, actor_loss, alpha_loss);
        return -EDOM;
    }
    apply_step(s);
    algo_report_set(rep, "critic_loss", critic_loss);
    algo_report_set(rep, "actor_loss", actor_loss);
    algo_report_set(rep, "alpha", alpha);
    algo_report_set(rep, "entropy", -mean_logp);
    algo_report_set(rep, "q_mean", q_mean);
    algo_report_set(rep, "alpha_loss", alpha_loss);
    return 0;
}

// ---- policy export -------------------------------------------------------------------------

static size_t sac_policy_size(const struct algo *a)
{
    return to_csac(a)->net[NET_ACTOR]->n_params;
}

static uint64_t sac_policy_layout(const struct algo *a)
{
    return gauss_layout(to_csac(a)->net[NET_ACTOR]->hash);
}

static void sac_policy_export(const struct algo *a, float *dst)
{
    const struct nn *p = to_csac(a)->net[NET_ACTOR];
    memcpy(dst, p->params, p->n_params * sizeof(float));
}

static int sac_bounds(const struct algo *a, const float **obs_lo, const float **obs_hi,
                      const float **act_lo, const float **act_hi)
{
    (void)a;
    *obs_lo = *obs_hi = *act_lo = *act_hi = NULL;
    return 0;
}

// ---- checkpoint ----------------------------------------------------------------------------

static void fill_meta(const struct sac *s, struct sac_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->version = SAC_CKPT_VERSION;
    m->obs_dim = s->d.obs_dim;
    m->act_dim = s->d.act_dim;
    m->chunk = s->d.chunk;
    m->hidden = s->hidden;
    m->layers = s->layers;
    m->actor_hash = s->net[NET_ACTOR]->hash;
    m->q_hash = s->net[NET_Q1]->hash;
    m->step = s->step;
    for (int i = 0; i < OPT_COUNT; i++)
        m->opt_step[i] = s->opt[i]->step;
    m->log_alpha = s->log_alpha[0];
}

static int sac_save(struct algo *a, struct ckpt_writer *w)
{
    struct sac *s = to_sac(a);
    fill_meta(s, &s->meta);
    rng_pack(&s->rng, &s->rng_state);
    int rc = ckpt_add(w, "sac.meta", &s->meta, sizeof(s->meta));
    if (!rc)
        rc = ckpt_add(w, "sac.rng", &s->rng_state, sizeof(s->rng_state));
    for (int i = 0; !rc && i < NET_COUNT; i++)
        rc = ckpt_add(w, net_section[i], s->net[i]->params, s->net[i]->n_params * sizeof(float));
    for (int i = 0; !rc && i < OPT_COUNT; i++)
        rc = ckpt_add(w, opt_section[i], s->opt[i]->state, 2 * s->opt[i]->n * sizeof(float));
    return rc;
}

/* every section present with the size this instance needs, and the same shapes */
static int check_sections(const struct sac *s, const struct ckpt *c, char *err, size_t errlen)
{
    struct sac_meta want, got;
    fill_meta(s, &want);
    int rc = ckpt_read(c, "sac.meta", &got, sizeof(got), err, errlen);
    if (rc)
        return rc;
    if (got.version != SAC_CKPT_VERSION) {
        return rl_err(-EPROTO, err, errlen, "sac: checkpoint version %lld, this build reads %d",
                      (long long)got.version, SAC_CKPT_VERSION);
    }
    if (got.obs_dim != want.obs_dim || got.act_dim != want.act_dim || got.chunk != want.chunk ||
        got.hidden != want.hidden || got.layers != want.layers ||
        got.actor_hash != want.actor_hash || got.q_hash != want.q_hash) {
        return rl_err(
            -EINVAL, err, errlen,
            "sac: checkpoint nets are obs %lld act %lld chunk %lld hidden %lldx%lld, this "
            "run has obs %lld act %lld chunk %lld hidden %lldx%lld",
            (long long)got.obs_dim, (long long)got.act_dim, (long long)got.chunk,
            (long long)got.hidden, (long long)got.layers, (long long)want.obs_dim,
            (long long)want.act_dim, (long long)want.chunk, (long long)want.hidden,
            (long long)want.layers);
    }
    size_t have;
    for (int i = 0; i < NET_COUNT + OPT_COUNT + 1; i++) {
        const char *name = i < NET_COUNT               ? net_section[i]
                           : i < NET_COUNT + OPT_COUNT ? opt_section[i - NET_COUNT]
                                                       : "sac.rng";
        size_t need = i < NET_COUNT               ? s->net[i]->n_params * sizeof(float)
                      : i < NET_COUNT + OPT_COUNT ? 2 * s->opt[i - NET_COUNT]->n * sizeof(float)
                                                  : sizeof(struct rng_state);
        if (!ckpt_get(c, name, &have)) {
            return rl_err(-ENOENT, err, errlen, "sac: checkpoint section '%s' is missing", name);
        }
        if (have != need) {
            return rl_err(-EPROTO, err, errlen,
                          "sac: checkpoint section '%s' has %zu bytes, expected %zu", name, have,
                          need);
        }
    }
    if (!isfinite(got.log_alpha) || got.step < 0) {
        return rl_err(-EPROTO, err, errlen,
                      "sac: checkpoint has bad state (log_alpha %g, step %lld)", got.log_alpha,
                      (long long)got.step);
    }
    return 0;
}

static int sac_load(struct algo *a, const struct ckpt *c, char *err, size_t errlen)
{
    struct sac *s = to_sac(a);
    int rc = check_sections(s, c, err, errlen);
    if (rc)
        return rc;
    /* all checked: nothing below can fail, so a refused load changes nothing */
    struct sac_meta m;
    struct rng_state rs;
    ckpt_read(c, "sac.meta", &m, sizeof(m), err, errlen);
    ckpt_read(c, "sac.rng", &rs, sizeof(rs), err, errlen);
    for (int i = 0; i < NET_COUNT; i++)
        ckpt_read(c, net_section[i], s->net[i]->params, s->net[i]->n_params * sizeof(float), err,
                  errlen);
    for (int i = 0; i < OPT_COUNT; i++) {
        ckpt_read(c, opt_section[i], s->opt[i]->state, 2 * s->opt[i]->n * sizeof(float), err,
                  errlen);
        s->opt[i]->step = (long)m.opt_step[i];
    }
    rng_unpack(&s->rng, &rs);
    s->step = (long)m.step;
    s->log_alpha[0] = (float)m.log_alpha;
    return 0;
}

// ---- diagnostics and benchmark -------------------------------------------------------------

void sac_q_eval(struct algo *a, const float *obs, const float *act, int B, float *q)
{
    struct sac *s = to_sac(a);
    RL_ASSERT(B >= 1 && B <= s->B);
    fill_qin(s, obs, act, B);
    nn_infer(s->net[NET_Q1], s->qctx[0], s->qin, s->qa, B);
    nn_infer(s->net[NET_Q2], s->qctx[1], s->qin, s->qb, B);
    for (int i = 0; i < B; i++)
        q[i] = fminf(s->qa[i], s->qb[i]);
}

double sac_flops_per_step(const struct algo *a)
{
    const struct sac *s = to_csac(a);
    const struct nn *p = s->net[NET_ACTOR], *q = s->net[NET_Q1];
    int B = s->B;
    /* target: policy at s', two target critics */
    double f = nn_flops_forward(p, B) + 2 * nn_flops_forward(q, B);
    /* actor: policy forward + backward (no d_in), two critics forward + input gradients only
     * (one GEMM per layer: the forward's FLOPs) */
    f += nn_flops_forward(p, B) + nn_flops_backward(p, B, false);
    f += 2 * (2 * nn_flops_forward(q, B));
    /* critics: forward + backward without d_in */
    f += 2 * (nn_flops_forward(q, B) + nn_flops_backward(q, B, false));
    return f;
}

// the rows of the last step (one batch; nothing is kept between steps)
static int sac_blame(struct algo *a, const int64_t **slots)
{
    struct sac *s = (struct sac *)a;
    *slots = s->index;
    return s->B;
}

const struct algo_ops sac_ops = {
    .name = "sac",
    .create = sac_create,
    .destroy = sac_destroy,
    .train_step = sac_train_step,
    .blame = sac_blame,
    .policy_size = sac_policy_size,
    .policy_layout = sac_policy_layout,
    .policy_export = sac_policy_export,
    .bounds = sac_bounds,
    .save = sac_save,
    .load = sac_load,
};
