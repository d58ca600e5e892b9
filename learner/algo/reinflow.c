/*
 * reinflow.c — the ReinFlow algorithm's life cycle (reinflow.h): networks and optimisers, the
 * exported [flow | noise] policy block, the training step and checkpoints. The PPO iteration
 * itself is reinflow_train.c.
 */
#include "learner/algo/reinflow.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/flow.h"
#include "common/log.h"
#include "common/nn.h"
#include "common/optim.h"
#include "common/reinflow_policy.h"
#include "common/util.h"
#include "learner/algo/reinflow_impl.h"

#define REINFLOW_CKPT_VERSION 1
#define STREAM_INIT 0x52460001u  /* noise and value net initialisation */
#define STREAM_TRAIN 0x52460002u /* minibatch shuffles */

static const char *const reinflow_stat_names[RF_COUNT] = {
    "policy_loss", "value_loss",    "clip_frac",       "approx_kl",      "std_mean",
    "entropy",     "logp_gap",      "adv_std",         "return_mean",    "reward_scale",
    "batch",       "batch_version", "nan_minibatches", "iteration_secs",
};

static struct reinflow *to_rf(struct algo *a)
{
    return (struct reinflow *)a;
}

static const struct reinflow *to_crf(const struct algo *a)
{
    return (const struct reinflow *)a;
}

static void reinflow_destroy(struct algo *a)
{
    struct reinflow *s = to_rf(a);
    if (!s)
        return;
    flow_destroy(&s->actor);
    nn_destroy(&s->noise);
    nn_destroy(&s->value);
    optim_destroy(&s->aopt);
    optim_destroy(&s->nopt);
    optim_destroy(&s->vopt);
    flow_ctx_destroy(&s->fctx);
    nn_ctx_destroy(&s->nctx);
    nn_ctx_destroy(&s->vctx);
    norm_fini(&s->obs_n);
    void *bufs[] = {s->bnd,       s->rows.obs,   s->rows.next_obs,
                    s->rows.rew,  s->rows.steps, s->rows.done,
                    s->rows.traj, s->rows.chain, s->rows.logp,
                    s->nobs,      s->nnext,      s->val,
                    s->nval,      s->adv,        s->ret,
                    s->lp_old,    s->perm,       s->mx,
                    s->mt,        s->mo,         s->nin,
                    s->mu,        s->sd,         s->dmu,
                    s->dsd,       s->mobs,       s->mv,
                    s->lp,        s->lpo,        s->dlp,
                    s->madv};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        free(bufs[i]);
    free(s);
}

static int read_config(struct reinflow *s, const struct rl_config *c, char *err, size_t errlen)
{
    s->Bt = (long)c->reinflow_batch;
    s->Bm = (int)RL_MIN((long)c->reinflow_minibatch, s->Bt);
    s->epochs = c->reinflow_epochs;
    s->critic_warmup = c->reinflow_critic_warmup;
    s->lo = (float)c->reinflow_std_min;
    s->hi = (float)c->reinflow_std_max;
    s->clip = (float)c->reinflow_clip;
    s->lambda = (float)c->reinflow_lambda;
    s->gamma = (float)c->gamma;
    s->ent = (float)c->reinflow_ent;
    s->grad_clip = (float)c->reinflow_grad_clip;
    s->reward_scale = c->reinflow_reward_scale;
    if (s->Bt < 1 || s->Bm < 1 || s->epochs < 1 || !(s->lo > 0 && s->lo <= s->hi) ||
        (double)s->Bm * s->N > 1e7 || (double)s->Bt * s->C > 5e8) {
        return rl_err(-EINVAL, err, errlen,
                      "reinflow: bad sizes (batch %ld, minibatch %d, epochs %d, std [%g, %g])",
                      s->Bt, s->Bm, s->epochs, (double)s->lo, (double)s->hi);
    }
    return 0;
}

static int set_bounds(struct reinflow *s, const float *b, char *err, size_t errlen)
{
    if (!b)
        return 0;
    size_t n = (size_t)(2 * s->S + 2 * s->A);
    char e[200];
    s->bnd = malloc(n * sizeof(float));
    if (!s->bnd || norm_init(&s->obs_n, s->S) < 0)
        return rl_err(-ENOMEM, err, errlen, "reinflow: out of memory");
    memcpy(s->bnd, b, n * sizeof(float));
    if (norm_set(&s->obs_n, b, b + s->S, e, sizeof(e)) < 0)
        return rl_err(-EINVAL, err, errlen, "reinflow: base policy bounds: %s", e);
    return 0;
}

static struct optim *adam(double lr, double wd, size_t n)
{
    struct optim_config oc;
    optim_config_default(&oc);
    oc.kind = wd > 0 ? OPTIM_ADAMW : OPTIM_ADAM;
    oc.lr = (float)lr;
    oc.weight_decay = (float)wd;
    return optim_new(&oc, n);
}

/* the flow (a copy of base), noise and value nets, their optimisers and contexts */
static int build_nets(struct reinflow *s, const struct rl_config *c, const struct flow *base,
                      char *err, size_t errlen)
{
    struct nn_spec ns, vs;
    if (reinflow_noise_spec(&ns, s->D, s->S, c->reinflow_noise_hidden) < 0)
        return rl_err(-EINVAL, err, errlen, "reinflow: bad noise network sizes");
    nn_spec_mlp(&vs, s->S, 1, c->reinflow_critic_hidden, c->reinflow_critic_depth, NN_ACT_MISH);
    vs.residual = true;
    s->actor = flow_new(&base->spec, err, errlen);
    s->noise = s->actor ? nn_new(&ns, err, errlen) : NULL;
    s->value = s->noise ? nn_new(&vs, err, errlen) : NULL;
    if (!s->value)
        return -EINVAL;
    flow_copy_params(s->actor, base);
    struct rng init;
    rng_init(&init, (uint64_t)c->seed, STREAM_INIT);
    nn_init(s->noise, &init);
    nn_init(s->value, &init);
    s->aopt = adam(c->reinflow_actor_lr, 0, s->actor->n_params);
    s->nopt = adam(c->reinflow_noise_lr, 0, s->noise->n_params);
    s->vopt = adam(c->reinflow_critic_lr, c->reinflow_critic_wd, s->value->n_params);
    int rows = s->Bm * s->N;
    s->fctx = flow_ctx_new(s->actor, rows, true);
    s->nctx = nn_ctx_new(s->noise, rows);
    s->vctx = nn_ctx_new(s->value, s->Bm);
    if (!s->aopt || !s->nopt || !s->vopt || !s->fctx || !s->nctx || !s->vctx)
        return rl_err(-ENOMEM, err, errlen, "reinflow: out of memory");
    return 0;
}

static bool alloc_buffers(struct reinflow *s)
{
    size_t T = (size_t)s->Bt, S = (size_t)s->S, D = (size_t)s->D, m = (size_t)s->Bm;
    size_t R = m * (size_t)s->N;
    struct replay_chain_rows *w = &s->rows;
    w->obs = malloc(T * S * sizeof(float));
    w->next_obs = malloc(T * S * sizeof(float));
    w->rew = malloc(T * sizeof(float));
    w->steps = malloc(T * sizeof(float));
    w->done = malloc(T * sizeof(float));
    w->traj = malloc(T * sizeof(uint64_t));
    w->chain = malloc(T * (size_t)s->C * sizeof(float));
    w->logp = malloc(T * sizeof(float));
    s->nobs = malloc(T * S * sizeof(float));
    s->nnext = malloc(T * S * sizeof(float));
    s->val = malloc(T * sizeof(float));
    s->nval = malloc(T * sizeof(float));
    s->adv = malloc(T * sizeof(float));
    s->ret = malloc(T * sizeof(float));
    s->lp_old = malloc(T * sizeof(double));
    s->perm = malloc(T * sizeof(long));
    s->mx = malloc(R * D * sizeof(float));
    s->mt = malloc(R * sizeof(float));
    s->mo = malloc(R * S * sizeof(float));
    s->nin = malloc(R * (D + 1 + S) * sizeof(float));
    s->mu = malloc(R * D * sizeof(float));
    s->sd = malloc(R * D * sizeof(float));
    s->dmu = malloc(R * D * sizeof(float));
    s->dsd = malloc(R * D * sizeof(float));
    s->mobs = malloc(m * S * sizeof(float));
    s->mv = malloc(m * sizeof(float));
    s->lp = malloc(m * sizeof(double));
    s->lpo = malloc(m * sizeof(double));
    s->dlp = malloc(m * sizeof(double));
    s->madv = malloc(m * sizeof(float));
    return w->obs && w->next_obs && w->rew && w->steps && w->done && w->traj && w->chain &&
           w->logp && s->nobs && s->nnext && s->val && s->nval && s->adv && s->ret && s->lp_old &&
           s->perm && s->mx && s->mt && s->mo && s->nin && s->mu && s->sd && s->dmu && s->dsd &&
           s->mobs && s->mv && s->lp && s->lpo && s->dlp && s->madv;
}

struct algo *reinflow_new(const struct rl_config *c, const struct algo_dims *d,
                          const struct flow *base, const float *bounds, char *err, size_t errlen)
{
    if (d->obs_dim < 1 || d->act_dim < 1 || d->chunk < 1 || d->D != d->chunk * d->act_dim ||
        base->D != d->D || base->spec.obs_dim != d->obs_dim) {
        rl_err(0, err, errlen, "reinflow: bad dims obs %d act %d chunk %d D %d", d->obs_dim,
               d->act_dim, d->chunk, d->D);
        return NULL;
    }
    struct reinflow *s = calloc(1, sizeof(*s));
    if (!s) {
        rl_err(0, err, errlen, "reinflow: out of memory");
        return NULL;
    }
    s->d = *d;
    s->S = d->obs_dim;
    s->A = d->act_dim;
    s->D = d->D;
    s->N = base->spec.steps;
    s->C = (s->N + 1) * s->D;
    rng_init(&s->rng, (uint64_t)c->seed, STREAM_TRAIN);
    s->st.rs_mean = 0;
    for (int i = 0; i < RF_COUNT; i++)
        s->stats[i] = NAN;
    if (read_config(s, c, err, errlen) < 0 || set_bounds(s, bounds, err, errlen) < 0 ||
        build_nets(s, c, base, err, errlen) < 0)
        goto err_free;
    if (!alloc_buffers(s)) {
        rl_err(0, err, errlen, "reinflow: out of memory");
        goto err_free;
    }
    return (struct algo *)s;

err_free:
    reinflow_destroy((struct algo *)s);
    return NULL;
}

static struct algo *reinflow_create(const struct rl_config *c, const struct algo_dims *d, char *err,
                                    size_t errlen)
{
    float *b;
    struct flow *base = algo_load_base(c, d, "reinflow", &b, err, errlen);
    if (!base)
        return NULL;
    struct algo *a = reinflow_new(c, d, base, b, err, errlen);
    if (a)
        log_info("reinflow: fine-tuning %s (%d denoising steps, std in [%g, %g], batch %lld)",
                 c->base_policy, base->spec.steps, c->reinflow_std_min, c->reinflow_std_max,
                 (long long)c->reinflow_batch);
    flow_destroy(&base);
    free(b);
    return a;
}

// ---- training step, export ------------------------------------------------------------------

static int reinflow_train_step(struct algo *a, struct replay *r, struct algo_report *rep)
{
    struct reinflow *s = to_rf(a);
    int rc = reinflow_iterate(s, r);
    if (rc < 0)
        return rc;
    for (int i = 0; i < RF_COUNT; i++)
        algo_report_set(rep, reinflow_stat_names[i], s->stats[i]);
    algo_report_set(rep, "iterations", (double)s->st.iterations);
    return 0;
}

static size_t reinflow_policy_size(const struct algo *a)
{
    const struct reinflow *s = to_crf(a);
    return s->actor->n_params + s->noise->n_params;
}

static uint64_t reinflow_policy_layout(const struct algo *a)
{
    const struct reinflow *s = to_crf(a);
    return reinflow_layout(s->actor->layout, &s->noise->spec);
}

static void reinflow_policy_export(const struct algo *a, float *dst)
{
    const struct reinflow *s = to_crf(a);
    memcpy(dst, s->actor->params, s->actor->n_params * sizeof(float));
    memcpy(dst + s->actor->n_params, s->noise->params, s->noise->n_params * sizeof(float));
}

static int reinflow_bounds(const struct algo *a, const float **obs_lo, const float **obs_hi,
                           const float **act_lo, const float **act_hi)
{
    const struct reinflow *s = to_crf(a);
    if (!s->bnd) {
        *obs_lo = *obs_hi = *act_lo = *act_hi = NULL;
        return 0;
    }
    *obs_lo = s->bnd;
    *obs_hi = s->bnd + s->S;
    *act_lo = s->bnd + 2 * s->S;
    *act_hi = s->bnd + 2 * s->S + s->A;
    return 1;
}

static int reinflow_chain_len(const struct algo *a)
{
    return to_crf(a)->C;
}

// ---- checkpoint ----------------------------------------------------------------------------

static void fill_meta(const struct reinflow *s, struct reinflow_meta *m)
{
    *m = s->st;
    m->version = REINFLOW_CKPT_VERSION;
    m->obs_dim = s->S;
    m->act_dim = s->A;
    m->chunk = s->d.chunk;
    m->steps = s->N;
    m->layout = reinflow_layout(s->actor->layout, &s->noise->spec);
    m->value_hash = s->value->hash;
    m->opt_step[0] = s->aopt->step;
    m->opt_step[1] = s->nopt->step;
    m->opt_step[2] = s->vopt->step;
}

/* the sections of a checkpoint: name, block, bytes (adam blocks are 2n floats) */
struct section {
    const char *name;
    float *p;
    size_t n;
};

static int sections(struct reinflow *s, struct section *out)
{
    size_t na = s->actor->n_params, nn = s->noise->n_params, nv = s->value->n_params;
    struct section t[] = {
        {"reinflow.actor", s->actor->params, na},
        {"reinflow.noise", s->noise->params, nn},
        {"reinflow.value", s->value->params, nv},
        {"reinflow.adam_actor", s->aopt->state, 2 * na},
        {"reinflow.adam_noise", s->nopt->state, 2 * nn},
        {"reinflow.adam_value", s->vopt->state, 2 * nv},
    };
    int k = (int)(sizeof(t) / sizeof(t[0]));
    for (int i = 0; i < k; i++)
        out[i] = (struct section){t[i].name, t[i].p, t[i].n * sizeof(float)};
    return k;
}

static int reinflow_save(struct algo *a, struct ckpt_writer *w)
{
    struct reinflow *s = to_rf(a);
    fill_meta(s, &s->st); /* staged in place: the live state plus the shapes */
    rng_pack(&s->rng, &s->rng_state);
    int rc = ckpt_add(w, "reinflow.meta", &s->st, sizeof(s->st));
    if (!rc)
        rc = ckpt_add(w, "reinflow.rng", &s->rng_state, sizeof(s->rng_state));
    struct section sec[8];
    int k = sections(s, sec);
    for (int i = 0; !rc && i < k; i++)
        rc = ckpt_add(w, sec[i].name, sec[i].p, sec[i].n);
    return rc;
}

static int check_size(const struct ckpt *c, const char *name, size_t need, char *err, size_t errlen)
{
    size_t have = 0;
    if (!ckpt_get(c, name, &have))
        return rl_err(-ENOENT, err, errlen, "reinflow: checkpoint section '%s' is missing", name);
    if (have != need)
        return rl_err(-EPROTO, err, errlen,
                      "reinflow: checkpoint section '%s' has %zu bytes, expected %zu", name, have,
                      need);
    return 0;
}

static int check_meta(const struct reinflow *s, const struct reinflow_meta *got, char *err,
                      size_t errlen)
{
    struct reinflow_meta want;
    fill_meta(s, &want);
    if (got->version != REINFLOW_CKPT_VERSION)
        return rl_err(-EPROTO, err, errlen,
                      "reinflow: checkpoint version %lld, this build reads %d",
                      (long long)got->version, REINFLOW_CKPT_VERSION);
    if (got->obs_dim != want.obs_dim || got->act_dim != want.act_dim || got->chunk != want.chunk ||
        got->steps != want.steps || got->layout != want.layout ||
        got->value_hash != want.value_hash)
        return rl_err(-EINVAL, err, errlen,
                      "reinflow: checkpoint is for obs %lld act %lld chunk %lld with %lld steps or "
                      "other networks; this run is obs %d act %d chunk %d with %d steps",
                      (long long)got->obs_dim, (long long)got->act_dim, (long long)got->chunk,
                      (long long)got->steps, s->S, s->A, s->d.chunk, s->N);
    if (got->iterations < 0 || !(got->rs_n >= 0) || !isfinite(got->rs_mean) || !(got->rs_m2 >= 0) ||
        got->opt_step[0] < 0 || got->opt_step[1] < 0 || got->opt_step[2] < 0)
        return rl_err(-EPROTO, err, errlen, "reinflow: checkpoint has a bad scalar state");
    return 0;
}

static int reinflow_load(struct algo *a, const struct ckpt *c, char *err, size_t errlen)
{
    struct reinflow *s = to_rf(a);
    struct reinflow_meta m;
    struct section sec[8];
    int k = sections(s, sec);
    int rc = ckpt_read(c, "reinflow.meta", &m, sizeof(m), err, errlen);
    if (!rc)
        rc = check_meta(s, &m, err, errlen);
    if (!rc)
        rc = check_size(c, "reinflow.rng", sizeof(struct rng_state), err, errlen);
    for (int i = 0; !rc && i < k; i++)
        rc = check_size(c, sec[i].name, sec[i].n, err, errlen);
    if (rc)
        return rc;
    /* all checked: nothing below fails, so a refused load changes nothing */
    struct rng_state rs;
    ckpt_read(c, "reinflow.rng", &rs, sizeof(rs), err, errlen);
    rng_unpack(&s->rng, &rs);
    for (int i = 0; i < k; i++)
        ckpt_read(c, sec[i].name, sec[i].p, sec[i].n, err, errlen);
    s->st = m;
    s->aopt->step = (long)m.opt_step[0];
    s->nopt->step = (long)m.opt_step[1];
    s->vopt->step = (long)m.opt_step[2];
    s->seen = 0;
    return 0;
}

const struct algo_ops reinflow_ops = {
    .name = "reinflow",
    .create = reinflow_create,
    .destroy = reinflow_destroy,
    .train_step = reinflow_train_step,
    .policy_size = reinflow_policy_size,
    .policy_layout = reinflow_policy_layout,
    .policy_export = reinflow_policy_export,
    .bounds = reinflow_bounds,
    .chain_len = reinflow_chain_len,
    .save = reinflow_save,
    .load = reinflow_load,
};
