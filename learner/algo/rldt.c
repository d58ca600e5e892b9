/*
 * rldt.c — RLDT behind the algorithm interface (rldt.h): create / destroy, the training
 * schedule (actor steps when due, else critic steps), policy export, checkpoints and FLOPs.
 * The critic rounds are in rldt_critic.c, the actor step in rldt_actor.c; the instance and its
 * shapes (S, A, D, B, K, Ba, P, N, M, L, pool) in rldt_impl.h.
 * RNG streams of the run seed: RLDT_STREAM_INIT (critic init), RLDT_STREAM_TRAIN (batches,
 * noise, denoising steps; checkpointed).
 */
#include "learner/algo/rldt.h"
#include "learner/algo/rldt_impl.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/encoder.h"
#include "common/flow.h"
#include "common/log.h"
#include "common/nn.h"
#include "common/norm.h"
#include "common/optim.h"
#include "common/pixflow.h"
#include "common/rng.h"
#include "common/util.h"
#include "learner/algo/critic.h"
#include "learner/algo/svgd.h"
#include "learner/replay.h"

#define RLDT_STREAM_INIT 0x71d7000001ULL
#define RLDT_STREAM_TRAIN 0x71d7000002ULL
#define RLDT_CKPT_VERSION 1
#define RLDT_BLOCK 2048 /* rows per batched sampling call and per actor micro-batch */

static const char *const diag_name[DG_COUNT] = {
    "critic_loss", "q_mean",           "target_mean",        "reward_scale",
    "grad_q_norm", "kernel_grad_norm", "particle_diversity", "alpha_s",
    "bandwidth",   "phi_norm",         "loss_transport",     "loss_consistency",
    "loss_trust"};

// ---- create / destroy ----------------------------------------------------------------------

static void rldt_destroy(struct algo *a)
{
    struct rldt *s = to_rldt(a);
    if (!s)
        return;
    flow_destroy(&s->actor);
    flow_destroy(&s->trust);
    optim_destroy(&s->aopt);
    critic_destroy(&s->critic);
    flow_ctx_destroy(&s->sctx);
    flow_ctx_destroy(&s->tctx);
    rldt_pix_destroy(s);
    norm_fini(&s->obs_n);
    norm_fini(&s->act_n);
    free(s->bnd);
    free(s->index);
    free(s->pool_slot);
    free(s->blamed);
    free(s->c_rows);
    free(s->work);
    free(s->mem);
    free(s);
}

/* assign the step buffers from base (NULL: only count); returns the floats needed */
static size_t carve(struct rldt *s, float *base)
{
    size_t n = 0, S = (size_t)s->S, D = (size_t)s->D, rb = (size_t)RL_MAX(s->B, s->Ba);
    size_t Sn = (size_t)s->Sn; /* network inputs */
    size_t P2 = 2 * (size_t)s->pool, W = P2 * s->L, blk = (size_t)s->blk;
#define TAKE(ptr, k)                                                                               \
    do {                                                                                           \
        if (base)                                                                                  \
            (ptr) = (void *)(base + n);                                                            \
        n += (k);                                                                                  \
    } while (0)
    TAKE(s->batch.obs, rb * S);
    TAKE(s->batch.act, rb * D);
    TAKE(s->batch.rew, rb);
    TAKE(s->batch.next_obs, rb * S);
    TAKE(s->batch.done, rb);
    TAKE(s->batch.steps, rb);
    TAKE(s->one.obs, S);
    TAKE(s->one.act, D);
    TAKE(s->one.rew, 1);
    TAKE(s->one.next_obs, S);
    TAKE(s->one.done, 1);
    TAKE(s->one.steps, 1);
    TAKE(s->pool_obs, P2 * S); /* pool_obs .. perm stay contiguous: one checkpoint section */
    TAKE(s->pool_act, P2 * D);
    TAKE(s->pool_y, P2);
    TAKE(s->perm, P2);
    TAKE(s->w_next, W * S);
    TAKE(s->w_rew, W);
    TAKE(s->w_disc, W);
    TAKE(s->w_qbar, W);
    TAKE(s->w_len, P2);
    TAKE(s->qidx, W);
    TAKE(s->c_obs, 2 * (size_t)s->B * (size_t)s->Sc);
    TAKE(s->c_act, 2 * (size_t)s->B * D);
    TAKE(s->c_y, 2 * (size_t)s->B);
    TAKE(s->s_obs, blk * Sn);
    TAKE(s->chain, (size_t)(s->N + 1) * blk * D);
    TAKE(s->s_act, blk * D);
    TAKE(s->s_q, blk);
    TAKE(s->a_sobs, (size_t)s->Ba * Sn);
    TAKE(s->a_t, blk);
    TAKE(s->a_tau, blk);
    TAKE(s->a_k, blk);
    float **rows[] = {&s->a_xt, &s->a_ahat, &s->a_g, &s->a_phi, &s->a_dv, &s->a_xtil, &s->a_vold};
    for (size_t i = 0; i < RL_ARRAY_LEN(rows); i++)
        TAKE(*rows[i], blk * D);
#undef TAKE
    return n;
}

static size_t pool_floats(const struct rldt *s)
{
    return 2 * (size_t)s->pool * (size_t)(s->S + s->D + 2);
}

/* copy the run's settings (sizes checked by the config table) */
static int read_config(struct rldt *s, const struct rl_config *c, char *err, size_t errlen)
{
    s->B = c->batch_size;
    s->K = c->rldt_particles;
    s->Ba = c->rldt_actor_batch;
    s->M = c->rldt_target_samples;
    s->N = c->flow_steps;
    s->lambda = (float)c->rldt_lambda;
    s->L = c->rldt_lambda > 0 ? c->rldt_td_horizon : 1;
    s->R = c->rldt_critic_round;
    int reuse = RL_MAX(1, c->rldt_target_reuse);
    s->pool = s->B * ((s->R + reuse - 1) / reuse);
    s->blk = (RL_MAX(RLDT_BLOCK, s->K * s->M) + s->K - 1) / s->K * s->K;
    s->gamma = (float)c->gamma;
    s->w_cons = (float)c->rldt_consistency;
    s->w_trust = (float)c->rldt_trust;
    s->ema_rate = (float)c->rldt_reward_ema;
    s->y_hi = c->rldt_clip_targets ? (float)c->success_threshold : 0.0f;
    s->fresh_frac = c->fresh_frac;
    s->fresh_window = (long)c->fresh_window;
    s->actor_every = (long)RL_MAX(1, c->rldt_actor_every);
    s->actor_start = (long)c->rldt_actor_start;
    s->trust_refresh = (long)RL_MAX(1, c->rldt_trust_refresh);
    if (c->rldt_clip_targets && !(c->success_threshold > 0))
        return rl_err(-EINVAL, err, errlen,
                      "rldt: rldt_clip_targets needs success_threshold > 0 (the upper bound)");
    s->actor_every0 = (long)c->rldt_actor_every0;
    s->actor_ramp = (long)c->rldt_actor_ramp;
    s->tau = (float)c->tau;
    s->warm_tau = c->rldt_warmup_tau > 0 ? (float)c->rldt_warmup_tau : (float)c->tau;
    if (s->B < 1 || s->K < 1 || s->Ba < 1 || s->M < 1 || s->N < 1 || s->R < 1 ||
        (double)s->pool * 2 * s->L > 5e7) {
        return rl_err(
            -EINVAL, err, errlen,
            "rldt: bad sizes (batch %d, particles %d, actor batch %d, samples %d, steps %d, "
            "round %d, pool %d x window %d)",
            s->B, s->K, s->Ba, s->M, s->N, s->R, s->pool, s->L);
    }
    return 0;
}

static int set_bounds(struct rldt *s, const float *b, char *err, size_t errlen)
{
    if (!b)
        return 0;
    int S = s->S, A = s->A;
    char e[200];
    s->bnd = malloc((size_t)(2 * S + 2 * A) * sizeof(float));
    if (!s->bnd || norm_init(&s->obs_n, S) < 0 || norm_init(&s->act_n, A) < 0) {
        return rl_err(-ENOMEM, err, errlen, "rldt: out of memory");
    }
    memcpy(s->bnd, b, (size_t)(2 * S + 2 * A) * sizeof(float));
    if (norm_set(&s->obs_n, b, b + S, e, sizeof(e)) < 0 ||
        norm_set(&s->act_n, b + 2 * S, b + 2 * S + A, e, sizeof(e)) < 0) {
        return rl_err(-EINVAL, err, errlen, "rldt: base policy normalisation bounds: %s", e);
    }
    s->bounded = true;
    return 0;
}

/* actor and trust copy of base, Adam, critics, contexts */
static int build_nets(struct rldt *s, const struct rl_config *c, const struct flow *base, char *err,
                      size_t errlen)
{
    struct flow_spec fs;
    if (flow_spec_from_config(&fs, c, s->Sn, s->A, s->d.chunk, err, errlen) < 0)
        return -EINVAL;
    if (flow_spec_net_hash(&fs) != flow_spec_net_hash(&base->spec)) {
        return rl_err(
            -EINVAL, err, errlen,
            "rldt: the base policy is a flow of width %d depth %d temb %d chunk %d; the run "
            "has width %d depth %d temb %d chunk %d (set the [flow] keys to match)",
            base->spec.hidden, base->spec.depth, base->spec.temb, base->spec.chunk, fs.hidden,
            fs.depth, fs.temb, fs.chunk);
    }
    s->actor = flow_new(&fs, err, errlen);
    s->trust = s->actor ? flow_new(&fs, err, errlen) : NULL;
    if (!s->trust)
        return -ENOMEM;
    memcpy(s->actor->params, base->params, base->n_params * sizeof(float));
    flow_copy_params(s->trust, s->actor);
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = (float)c->rldt_actor_lr;
    oc.warmup = (long)c->rldt_actor_warmup;
    s->aopt = optim_new(&oc, s->actor->n_params);
    struct critic_config cc = {.obs_dim = s->Sc,
                               .D = s->D,
                               .hidden = c->rldt_critic_hidden,
                               .depth = c->rldt_critic_depth,
                               .lr = (float)c->rldt_critic_lr,
                               .weight_decay = (float)c->rldt_critic_wd,
                               .tau = (float)c->tau,
                               .max_batch = RL_MAX(s->B, s->blk),
                               .actor_min = c->rldt_actor_min};
    struct rng init;
    rng_init(&init, (uint64_t)c->seed, RLDT_STREAM_INIT);
    s->critic = critic_new(&cc, &init, err, errlen);
    if (!s->critic)
        return -EINVAL;
    s->sctx = flow_ctx_new(s->actor, s->blk, false);
    s->tctx = flow_ctx_new(s->actor, s->blk, true);
    if (!s->aopt || !s->sctx || !s->tctx) {
        return rl_err(-ENOMEM, err, errlen, "rldt: out of memory");
    }
    return 0;
}

static void init_state(struct rldt *s)
{
    for (int i = 0; i < DG_COUNT; i++)
        s->st.diag[i] = NAN;
    s->st.diag[DG_REWARD_SCALE] = 1.0;
}

/* rldt_new, from pixels when aenc (the base's encoder, taken) is not NULL */
static struct algo *build(const struct rl_config *c, const struct algo_dims *d, bool delta,
                          const struct flow *base, struct encoder **aenc, int P,
                          const float *bounds, char *err, size_t errlen)
{
    if (d->obs_dim < 1 || d->act_dim < 1 || d->chunk < 1 || d->D != d->chunk * d->act_dim) {
        rl_err(0, err, errlen, "rldt: bad dims obs %d act %d chunk %d D %d", d->obs_dim, d->act_dim,
               d->chunk, d->D);
        encoder_destroy(aenc);
        return NULL;
    }
    struct rldt *s = calloc(1, sizeof(*s));
    if (!s) {
        rl_err(0, err, errlen, "rldt: out of memory");
        encoder_destroy(aenc);
        return NULL;
    }
    s->d = *d;
    s->delta = delta;
    s->S = s->Sn = d->obs_dim;
    s->A = d->act_dim;
    s->D = d->D;
    rng_init(&s->rng, (uint64_t)c->seed, RLDT_STREAM_TRAIN);
    init_state(s);
    if (read_config(s, c, err, errlen) < 0 || set_bounds(s, bounds, err, errlen) < 0)
        goto err_free;
    if (aenc && *aenc && rldt_pix_new(s, c, aenc, P, err, errlen) < 0)
        goto err_free;
    if (s->px)
        s->Sn = s->px->W;
    s->Sc = s->px && s->px->state_critic ? s->S : s->Sn;
    if (build_nets(s, c, base, err, errlen) < 0)
        goto err_free;
    s->mem = calloc(carve(s, NULL), sizeof(float));
    s->index = calloc((size_t)RL_MAX(s->B, s->Ba), sizeof(int64_t));
    s->pool_slot = malloc(2 * (size_t)s->pool * sizeof(int64_t));
    s->blamed = malloc((size_t)RL_MAX(2 * s->B, s->Ba) * sizeof(int64_t));
    s->c_rows = malloc(2 * (size_t)s->B * sizeof(int32_t));
    s->work = calloc(svgd_work_size(s->K, s->D), sizeof(double));
    if (!s->mem || !s->index || !s->pool_slot || !s->blamed || !s->c_rows || !s->work) {
        rl_err(0, err, errlen, "rldt: out of memory");
        goto err_free;
    }
    carve(s, s->mem);
    if (!s->px)
        s->s_cobs = s->s_obs; /* the critics see what the actor sees */
    for (int i = 0; i < 2 * s->pool; i++)
        s->pool_slot[i] = -1; /* unknown until a round is drawn here */
    s->batch.index = s->index;
    if (c->rldt_threads > 0)
        openblas_set_num_threads(c->rldt_threads);
    return (struct algo *)s;

err_free:
    encoder_destroy(aenc);
    rldt_destroy((struct algo *)s);
    return NULL;
}

struct algo *rldt_new(const struct rl_config *c, const struct algo_dims *d, bool delta,
                      const struct flow *base, const float *bounds, char *err, size_t errlen)
{
    return build(c, d, delta, base, NULL, 0, bounds, err, errlen);
}

static struct algo *create_variant(const struct rl_config *c, const struct algo_dims *d, bool delta,
                                   char *err, size_t errlen)
{
    float *b;
    struct encoder *enc = NULL;
    int P = 0;
    bool pix = rldt_base_is_pixels(c->base_policy);
    struct flow *base = pix ? rldt_pix_load_base(c, d, &enc, &P, &b, err, errlen)
                            : algo_load_base(c, d, "rldt", &b, err, errlen);
    if (!base)
        return NULL;
    struct algo *a = build(c, d, delta, base, &enc, P, b, err, errlen);
    if (a)
        log_info("rldt: fine-tuning %s (%s normalisation bounds)%s", c->base_policy,
                 b ? "with" : "without", pix ? " from pixels" : "");
    flow_destroy(&base);
    free(b);
    return a;
}

static struct algo *rldt_create(const struct rl_config *c, const struct algo_dims *d, char *err,
                                size_t errlen)
{
    return create_variant(c, d, false, err, errlen);
}

static struct algo *rldt_delta_create(const struct rl_config *c, const struct algo_dims *d,
                                      char *err, size_t errlen)
{
    return create_variant(c, d, true, err, errlen);
}

// ---- the training step ---------------------------------------------------------------------

long rldt_actor_cum(long every0, long every, long ramp, long n)
{
    if (every0 < 1 || ramp < 1 || every0 == every)
        return n * every;
    long m = RL_MIN(n, ramp);
    double sum = (double)m * (double)every0 +
                 (double)(every - every0) * (double)m * (double)(m - 1) / (2.0 * (double)ramp);
    return (long)floor(sum + 1e-6) + (n - m) * every; /* + 1e-6: exact integers stay */
}

static long actor_due(const struct rldt *s)
{
    long c = (long)s->st.critic_steps;
    if (c < s->actor_start)
        return 0;
    long x = c - s->actor_start, n = (long)s->st.actor_steps, k = 0;
    while (k < 1024 &&
           rldt_actor_cum(s->actor_every0, s->actor_every, s->actor_ramp, n + k + 1) <= x)
        k++;
    return k;
}

static void report(const struct rldt *s, struct algo_report *rep)
{
    for (int i = 0; i < DG_COUNT; i++)
        algo_report_set(rep, diag_name[i], s->st.diag[i]);
    algo_report_set(rep, "critic_steps", (double)s->st.critic_steps);
    algo_report_set(rep, "actor_steps", (double)s->st.actor_steps);
    algo_report_set(rep, "actor_skipped", (double)s->st.actor_skipped);
}

int rldt_actor_step(struct algo *a, struct replay *r, struct algo_report *rep)
{
    struct rldt *s = to_rldt(a);
    int rc = rldt_actor_update(s, r);
    report(s, rep);
    return rc;
}

int rldt_critic_step(struct algo *a, struct replay *r, struct algo_report *rep)
{
    struct rldt *s = to_rldt(a);
    int rc = rldt_critic_update(s, r);
    report(s, rep);
    return rc;
}

static int rldt_train_step(struct algo *a, struct replay *r, struct algo_report *rep)
{
    struct rldt *s = to_rldt(a);
    int rc = s->st.round_step == 0 && actor_due(s) > 0 ? rldt_actor_update(s, r)
                                                       : rldt_critic_update(s, r);
    report(s, rep);
    return rc;
}

struct flow *rldt_actor(struct algo *a)
{
    return to_rldt(a)->actor;
}

struct critic *rldt_critic(struct algo *a)
{
    return to_rldt(a)->critic;
}

// ---- policy export -------------------------------------------------------------------------

// from pixels: the "pixflow" sampler's block [flow | actor encoder]
static size_t rldt_policy_size(const struct algo *a)
{
    const struct rldt *s = to_crldt(a);
    return s->actor->n_params + (s->px ? s->px->aenc->n_params : 0);
}

static uint64_t rldt_policy_layout(const struct algo *a)
{
    const struct rldt *s = to_crldt(a);
    return s->px ? pixflow_layout(s->actor, s->px->aenc, s->px->P) : s->actor->layout;
}

static void rldt_policy_export(const struct algo *a, float *dst)
{
    const struct rldt *s = to_crldt(a);
    const struct flow *f = s->actor;
    memcpy(dst, f->params, f->n_params * sizeof(float));
    if (s->px)
        memcpy(dst + f->n_params, s->px->aenc->params, s->px->aenc->n_params * sizeof(float));
}

static const char *rldt_policy_kind_of(const struct algo *a)
{
    return to_crldt(a)->px ? pixflow_policy_ops.kind : "flow";
}

static int rldt_bounds(const struct algo *a, const float **obs_lo, const float **obs_hi,
                       const float **act_lo, const float **act_hi)
{
    const struct rldt *s = to_crldt(a);
    if (!s->bounded) {
        *obs_lo = *obs_hi = *act_lo = *act_hi = NULL;
        return 0;
    }
    *obs_lo = s->bnd;
    *obs_hi = s->bnd + s->S;
    *act_lo = s->bnd + 2 * s->S;
    *act_hi = s->bnd + 2 * s->S + s->A;
    return 1;
}

// ---- checkpoint ----------------------------------------------------------------------------

static void fill_meta(const struct rldt *s, struct rldt_meta *m)
{
    *m = s->st;
    m->version = RLDT_CKPT_VERSION;
    m->obs_dim = s->S;
    m->act_dim = s->A;
    m->chunk = s->d.chunk;
    m->delta = s->delta;
    m->flow_layout = s->actor->layout;
    m->critic_hash = critic_hash(s->critic);
    m->batch = s->B;
    m->pool = s->pool;
    m->actor_opt_step = s->aopt->step;
}

static int rldt_save(struct algo *a, struct ckpt_writer *w)
{
    struct rldt *s = to_rldt(a);
    struct rldt_meta *m = &s->st; /* staged in place: the live state plus the shapes */
    fill_meta(s, m);
    rng_pack(&s->rng, &s->rng_state);
    size_t nf = s->actor->n_params * sizeof(float);
    int rc = ckpt_add(w, "rldt.meta", m, sizeof(*m));
    if (!rc)
        rc = ckpt_add(w, "rldt.rng", &s->rng_state, sizeof(s->rng_state));
    if (!rc)
        rc = ckpt_add(w, "rldt.actor", s->actor->params, nf);
    if (!rc)
        rc = ckpt_add(w, "rldt.trust", s->trust->params, nf);
    if (!rc)
        rc = ckpt_add(w, "rldt.adam_actor", s->aopt->state, 2 * nf);
    if (!rc)
        rc = ckpt_add(w, "rldt.pool", s->pool_obs, pool_floats(s) * sizeof(float));
    if (!rc)
        rc = critic_save(s->critic, w);
    if (!rc && s->px)
        rc = rldt_pix_save(s, w);
    return rc;
}

static int check_size(const struct ckpt *c, const char *name, size_t need, char *err, size_t errlen)
{
    size_t have = 0;
    if (!ckpt_get(c, name, &have)) {
        return rl_err(-ENOENT, err, errlen, "rldt: checkpoint section '%s' is missing", name);
    }
    if (have != need) {
        return rl_err(-EPROTO, err, errlen,
                      "rldt: checkpoint section '%s' has %zu bytes, expected %zu", name, have,
                      need);
    }
    return 0;
}

static int check_meta(const struct rldt *s, const struct rldt_meta *got, char *err, size_t errlen)
{
    struct rldt_meta want;
    fill_meta(s, &want);
    if (got->version != RLDT_CKPT_VERSION) {
        return rl_err(-EPROTO, err, errlen, "rldt: checkpoint version %lld, this build reads %d",
                      (long long)got->version, RLDT_CKPT_VERSION);
    }
    if (got->obs_dim != want.obs_dim || got->act_dim != want.act_dim || got->chunk != want.chunk ||
        got->delta != want.delta || got->flow_layout != want.flow_layout ||
        got->critic_hash != want.critic_hash) {
        return rl_err(-EINVAL, err, errlen,
                      "rldt: checkpoint is %s for obs %lld act %lld chunk %lld with other networks "
                      "(flow or critic sizes); this run is %s obs %d act %d chunk %d",
                      got->delta ? "rldt-delta" : "rldt", (long long)got->obs_dim,
                      (long long)got->act_dim, (long long)got->chunk,
                      s->delta ? "rldt-delta" : "rldt", s->S, s->A, s->d.chunk);
    }
    if (got->critic_steps < 0 || got->actor_steps < 0 || got->actor_opt_step < 0 ||
        !isfinite(got->ema) || got->ema < 0 || got->cursor[0] < 0 || got->cursor[1] < 0 ||
        got->round_step < 0) {
        return rl_err(-EPROTO, err, errlen, "rldt: checkpoint has a bad scalar state");
    }
    return 0;
}

static int check_sections(const struct rldt *s, const struct ckpt *c, struct rldt_meta *m,
                          bool *pool_ok, char *err, size_t errlen)
{
    int rc = ckpt_read(c, "rldt.meta", m, sizeof(*m), err, errlen);
    if (!rc)
        rc = check_meta(s, m, err, errlen);
    size_t nf = s->actor->n_params * sizeof(float);
    if (!rc)
        rc = check_size(c, "rldt.rng", sizeof(struct rng_state), err, errlen);
    if (!rc)
        rc = check_size(c, "rldt.actor", nf, err, errlen);
    if (!rc)
        rc = check_size(c, "rldt.trust", nf, err, errlen);
    if (!rc)
        rc = check_size(c, "rldt.adam_actor", 2 * nf, err, errlen);
    if (!rc) {
        char e[300];
        rc = critic_check(s->critic, c, e, sizeof(e));
        if (rc)
            rl_err(0, err, errlen, "rldt: %s", e);
    }
    if (!rc && s->px)
        rc = rldt_pix_check(s, c, err, errlen);
    // the round in flight resumes only with the same pool shape (else a new round starts); from
    // pixels its images are not saved: a new round starts
    *pool_ok = !rc && !s->px && m->pool_valid && m->batch == s->B && m->pool == s->pool &&
               m->round_step < s->R && m->cursor[0] <= s->pool && m->cursor[1] <= s->pool;
    if (*pool_ok)
        rc = check_size(c, "rldt.pool", pool_floats(s) * sizeof(float), err, errlen);
    return rc;
}

static int rldt_load(struct algo *a, const struct ckpt *c, char *err, size_t errlen)
{
    struct rldt *s = to_rldt(a);
    struct rldt_meta m;
    bool pool_ok;
    int rc = check_sections(s, c, &m, &pool_ok, err, errlen);
    if (rc)
        return rc;
    /* all checked: nothing below fails, so a refused load changes nothing */
    struct rng_state rs;
    size_t nf = s->actor->n_params * sizeof(float);
    ckpt_read(c, "rldt.rng", &rs, sizeof(rs), err, errlen);
    ckpt_read(c, "rldt.actor", s->actor->params, nf, err, errlen);
    ckpt_read(c, "rldt.trust", s->trust->params, nf, err, errlen);
    ckpt_read(c, "rldt.adam_actor", s->aopt->state, 2 * nf, err, errlen);
    critic_load(s->critic, c);
    if (s->px)
        rldt_pix_load(s, c);
    s->aopt->step = (long)m.actor_opt_step;
    s->st = m;
    if (pool_ok) {
        ckpt_read(c, "rldt.pool", s->pool_obs, pool_floats(s) * sizeof(float), err, errlen);
    } else {
        s->st.pool_valid = 0;
        s->st.round_step = 0;
    }
    rng_unpack(&s->rng, &rs);
    return 0;
}

// ---- FLOPs -------------------------------------------------------------------------------

void rldt_flops(const struct algo *a, double *round_targets, double *critic_step,
                double *actor_step)
{
    const struct rldt *s = to_crldt(a);
    const struct nn *q = s->critic->q[0], *trunk = s->actor->trunk, *tnet = s->actor->tnet;
    // Q̄ at the steps of full windows that read it (shorter windows at segment ends cost less)
    int qsteps = critic_td_reads_qbar(s->lambda, 0, s->L) ? s->L : 1;
    int rows = 2 * s->pool * qsteps * s->M, P = s->Ba * s->K, N = s->N;
    *round_targets = N * nn_flops_forward(trunk, rows) + 2 * nn_flops_forward(q, rows);
    *critic_step = 2 * (nn_flops_forward(q, s->B) + nn_flops_backward(q, s->B, false));
    // the drawn steps' forward is part of the Euler pass; ∇ₐQ needs no critic weight gradients
    double train = nn_flops_forward(tnet, P) + nn_flops_backward(trunk, P, true) +
                   nn_flops_backward(tnet, P, false);
    double f = N * nn_flops_forward(trunk, P) + train;
    if (s->w_trust > 0)
        f += train + nn_flops_forward(trunk, P) + flow_flops_velocity(s->trust, P);
    f += 2 * 2 * nn_flops_forward(q, P);
    *actor_step = f;
}

/* rldt and rldt-delta (the ablation: no kernel, no repulsion) differ only in their name and
 * constructor; one initialiser keeps the rest in one place */
#define RLDT_OPS(NAME, CREATE)                                                                     \
    {                                                                                              \
        .name = NAME, .create = CREATE, .destroy = rldt_destroy, .train_step = rldt_train_step,    \
        .blame = rldt_blame, .policy_size = rldt_policy_size, .policy_layout = rldt_policy_layout, \
        .policy_export = rldt_policy_export, .bounds = rldt_bounds, .save = rldt_save,             \
        .load = rldt_load, .policy_kind_of = rldt_policy_kind_of,                                  \
    }

const struct algo_ops rldt_ops = RLDT_OPS("rldt", rldt_create);
const struct algo_ops rldt_delta_ops = RLDT_OPS("rldt-delta", rldt_delta_create);
