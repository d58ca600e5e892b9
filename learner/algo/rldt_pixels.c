/*
 * rldt_pixels.c — RLDT from pixels (rldt_impl.h, struct rldt_pix): the pixel base policy, the
 * two image encoders (the actor's and the critics'), the critics' shifted-image input and its
 * encoder step, and their checkpoint sections.
 * Thread-safety: none; the trainer thread makes every call (rldt.h).
 */
#include "learner/algo/rldt_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/encoder.h"
#include "common/flow.h"
#include "common/optim.h"
#include "common/pixflow.h"
#include "common/policy.h"
#include "common/util.h"

// ---- the base policy -----------------------------------------------------------------------

bool rldt_base_is_pixels(const char *path)
{
    char e[300];
    struct ckpt *k = path[0] ? ckpt_load(path, "CKPT", 0, e, sizeof(e)) : NULL;
    size_t n = 0;
    const char *kind = k ? ckpt_get(k, "policy.kind", &n) : NULL;
    bool pix = kind && n == strlen(pixflow_policy_ops.kind) + 1 &&
               !memcmp(kind, pixflow_policy_ops.kind, n);
    ckpt_destroy(&k);
    return pix;
}

/* the pixel policy file's own config must name the run's task, camera and image size */
static int check_base_config(const struct rl_config *c, const struct rl_config *pc, char *err,
                             size_t errlen)
{
    if (!c->pixels)
        return rl_err(-EINVAL, err, errlen,
                      "rldt: base_policy %s is a pixel policy (it sees camera images): set pixels "
                      "= true, image_size = %d, pixel_camera = %s",
                      c->base_policy, pc->image_size, pc->pixel_camera);
    if (strcmp(pc->env, c->env) != 0 || pc->image_size != c->image_size ||
        strcmp(pc->pixel_camera, c->pixel_camera) != 0 || pc->chunk != c->chunk)
        return rl_err(-EINVAL, err, errlen,
                      "rldt: base_policy %s sees %s through camera '%s' at %dx%d (chunk %d); the "
                      "run has %s, '%s', %dx%d (chunk %d)",
                      c->base_policy, pc->env, pc->pixel_camera, pc->image_size, pc->image_size,
                      pc->chunk, c->env, c->pixel_camera, c->image_size, c->image_size, c->chunk);
    return 0;
}

/* the weights [flow | encoder] and bounds of the checked file into f, e and *bounds */
static int read_base(const char *path, struct flow *f, struct encoder *e, int P, int O, int A,
                     float **bounds, char *err, size_t errlen)
{
    char m[300];
    struct ckpt *k = ckpt_load(path, "CKPT", 0, m, sizeof(m));
    if (!k)
        return rl_err(-EIO, err, errlen, "rldt: base_policy %s", m);
    size_t nw = 0, nl = 0, nb = 0, nb_want = (size_t)(2 * O + 2 * A) * sizeof(float);
    const float *w = ckpt_get(k, "policy.weights", &nw);
    const uint64_t *lay = ckpt_get(k, "policy.layout", &nl);
    const float *b = ckpt_get(k, "policy.bounds", &nb);
    int rc = 0;
    if (!w || !lay || nl != sizeof(*lay) || *lay != pixflow_layout(f, e, P) ||
        nw != (f->n_params + e->n_params) * sizeof(float) || (b && nb != nb_want)) {
        rc = rl_err(-EINVAL, err, errlen,
                    "rldt: base_policy %s: its weights do not fit the run's pixel policy (set "
                    "the [flow] keys to the base policy's)",
                    path);
    } else {
        memcpy(f->params, w, f->n_params * sizeof(float));
        memcpy(e->params, w + f->n_params, e->n_params * sizeof(float));
        *bounds = b ? malloc(nb) : NULL;
        if (b && *bounds)
            memcpy(*bounds, b, nb);
        else if (b)
            rc = rl_err(-ENOMEM, err, errlen, "rldt: out of memory");
    }
    ckpt_destroy(&k);
    return rc;
}

struct flow *rldt_pix_load_base(const struct rl_config *c, const struct algo_dims *d,
                                struct encoder **enc, int *P, float **bounds, char *err,
                                size_t errlen)
{
    *enc = NULL;
    *bounds = NULL;
    struct rl_config pc;
    char m[600];
    struct policy *p = policy_load_img(c->base_policy, &pc, 1, m, sizeof(m)); /* full checks */
    if (!p) {
        rl_err(0, err, errlen, "rldt: base_policy %s", m);
        return NULL;
    }
    policy_destroy(&p);
    if (check_base_config(c, &pc, err, errlen) < 0)
        return NULL;
    struct encoder_spec es;
    struct flow_spec fs;
    if (pixflow_specs(c, &es, &fs, P, err, errlen) < 0)
        return NULL;
    struct flow *f = flow_new(&fs, err, errlen);
    *enc = f ? encoder_new(&es, err, errlen) : NULL;
    if (*enc &&
        read_base(c->base_policy, f, *enc, *P, d->obs_dim, d->act_dim, bounds, err, errlen) == 0)
        return f;
    flow_destroy(&f);
    encoder_destroy(enc);
    return NULL;
}

// ---- the pixel state -----------------------------------------------------------------------

void rldt_pix_destroy(struct rldt *s)
{
    struct rldt_pix *x = s->px;
    if (!x)
        return;
    encoder_destroy(&x->aenc);
    encoder_destroy(&x->cenc);
    encoder_destroy(&x->tenc);
    encoder_ctx_destroy(&x->actx);
    encoder_ctx_destroy(&x->cctx);
    encoder_ctx_destroy(&x->ictx);
    optim_destroy(&x->aopt);
    optim_destroy(&x->copt);
    void *bufs[] = {x->pool_img, x->pool_feat, x->w_img,   x->c_img,  x->c_aug,  x->a_img,
                    x->q_img,    x->a_nobs,    x->a_csobs, x->q_nobs, x->q_cond, x->dcond,
                    x->dfeat,    s->s_cobs,    x->a_tobs,  x->t_obs};
    for (size_t i = 0; i < RL_ARRAY_LEN(bufs); i++)
        free(bufs[i]);
    s->s_cobs = NULL;
    free(x);
    s->px = NULL;
}

/* the critics' image encoder learns (else it is frozen, or the critics see the state vector) */
static bool critic_encoder_learns(const struct rl_config *c)
{
    return !c->rldt_freeze_critic_encoder && !c->rldt_state_critic;
}

static int make_optims(struct rldt_pix *x, const struct rl_config *c)
{
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = (float)(c->rldt_critic_lr / c->rldt_encoder_lr_div);
    if (critic_encoder_learns(c))
        x->copt = optim_new(&oc, x->cenc->n_params);
    if (!c->rldt_freeze_actor_encoder) {
        oc.lr = (float)(c->rldt_actor_encoder_lr > 0 ? c->rldt_actor_encoder_lr : c->rldt_actor_lr);
        oc.warmup = (long)c->rldt_actor_warmup;
        x->aopt = optim_new(&oc, x->aenc->n_params);
    }
    return (x->copt || !critic_encoder_learns(c)) && (x->aopt || c->rldt_freeze_actor_encoder)
               ? 0
               : -ENOMEM;
}

/* neither encoder learns and their weights agree (the critics' started as the actor's copy) */
static bool same_encoders(const struct rldt_pix *x)
{
    return !x->aopt && !x->copt &&
           !memcmp(x->aenc->params, x->cenc->params, x->aenc->n_params * sizeof(float));
}

int rldt_pix_new(struct rldt *s, const struct rl_config *c, struct encoder **aenc, int P, char *err,
                 size_t errlen)
{
    struct rldt_pix *x = calloc(1, sizeof(*x));
    if (!x) {
        encoder_destroy(aenc);
        return rl_err(-ENOMEM, err, errlen, "rldt: out of memory");
    }
    s->px = x;
    x->aenc = *aenc;
    *aenc = NULL;
    x->cenc = encoder_new(&x->aenc->sp, err, errlen);
    if (!x->cenc)
        return -ENOMEM;
    memcpy(x->cenc->params, x->aenc->params, x->aenc->n_params * sizeof(float));
    x->F = x->aenc->sp.feat;
    x->P = P;
    x->W = x->F + P;
    x->state_critic = c->rldt_state_critic;
    size_t Wc = x->state_critic ? (size_t)s->S : (size_t)x->W; /* the critics' input */
    x->ib = encoder_image_bytes(x->aenc);
    size_t B2 = 2 * (size_t)s->B, Ba = (size_t)s->Ba, nq = (size_t)(s->blk / s->M);
    size_t rows = RL_MAX(B2, (size_t)s->blk), W = (size_t)x->W, ib = x->ib;
    x->actx = encoder_ctx_new(x->aenc, (int)Ba);
    x->cctx = encoder_ctx_new(x->cenc, (int)B2);
    x->ictx = encoder_ctx_new(x->aenc, (int)RL_MAX(Ba, nq));
    x->pool_img = malloc(2 * (size_t)s->pool * ib);
    if (c->rldt_freeze_critic_encoder && !c->rldt_state_critic && /* frozen image critics */
        !(x->pool_feat = malloc(2 * (size_t)s->pool * x->F * sizeof(float))))
        return rl_err(-ENOMEM, err, errlen, "rldt: out of memory for the pool's image features");
    x->w_img = malloc(2 * (size_t)s->pool * s->L * ib);
    x->c_img = malloc(B2 * ib);
    x->c_aug = malloc(B2 * ib);
    x->a_img = malloc(Ba * ib);
    x->q_img = malloc(nq * ib);
    x->a_nobs = calloc(Ba * s->S, sizeof(float));
    x->a_csobs = calloc(Ba * Wc, sizeof(float));
    x->q_nobs = calloc(nq * s->S, sizeof(float));
    x->q_cond = calloc(nq * W, sizeof(float));
    x->dcond = calloc(rows * W, sizeof(float));
    x->dfeat = calloc(RL_MAX(B2, Ba) * x->F, sizeof(float));
    s->s_cobs = calloc((size_t)s->blk * Wc, sizeof(float));
    int orc = make_optims(x, c);
    x->same_enc = orc == 0 && same_encoders(x);
    if (orc == 0 && x->aopt) { /* a learning actor encoder has a trust copy, as the flow has */
        if (!(x->tenc = encoder_new(&x->aenc->sp, err, errlen)))
            return -ENOMEM;
        memcpy(x->tenc->params, x->aenc->params, x->aenc->n_params * sizeof(float));
        x->a_tobs = calloc(Ba * W, sizeof(float));
        x->t_obs = calloc((size_t)s->blk * W, sizeof(float));
        if (!x->a_tobs || !x->t_obs)
            orc = -ENOMEM;
    }
    if (orc < 0 || !x->actx || !x->cctx || !x->ictx || !x->pool_img || !x->w_img || !x->c_img ||
        !x->c_aug || !x->a_img || !x->q_img || !x->a_nobs || !x->a_csobs || !x->q_nobs ||
        !x->q_cond || !x->dcond || !x->dfeat || !s->s_cobs)
        return rl_err(-ENOMEM, err, errlen,
                      "rldt: out of memory for the images of a pool of %d rows x %d steps (%zu "
                      "bytes each)",
                      2 * s->pool, s->L, ib);
    return 0;
}

void rldt_pix_cond(const struct rldt *s, const struct encoder *e, struct encoder_ctx *ctx,
                   const uint8_t *img, const float *nobs, const int32_t *rows, int n, float *cond)
{
    const struct rldt_pix *x = s->px;
    const float *feat = encoder_forward(e, ctx, img, n);
    for (int k = 0; k < n; k++) {
        const float *o = nobs + (size_t)(rows ? rows[k] : k) * s->S;
        float *dst = cond + (size_t)k * x->W;
        memcpy(dst, feat + (size_t)k * x->F, (size_t)x->F * sizeof(float));
        memcpy(dst + x->F, o, (size_t)x->P * sizeof(float));
    }
}

// ---- the critic step -----------------------------------------------------------------------

/* frozen critics' encoder: the features of the round's 2·pool images, once per round */
void rldt_pix_pool_features(struct rldt *s)
{
    struct rldt_pix *x = s->px;
    if (!x->pool_feat)
        return;
    int n = 2 * s->pool, B2 = 2 * s->B; /* cctx holds 2B images */
    for (int r0 = 0; r0 < n; r0 += B2) {
        int m = RL_MIN(B2, n - r0);
        const float *f = encoder_forward(x->cenc, x->cctx, x->pool_img + (size_t)r0 * x->ib, m);
        memcpy(x->pool_feat + (size_t)r0 * x->F, f, (size_t)m * x->F * sizeof(float));
    }
}

void rldt_pix_critic_input(struct rldt *s)
{
    struct rldt_pix *x = s->px;
    int B2 = 2 * s->B;
    if (x->pool_feat) { /* frozen: the round's features and the rows' proprioception */
        for (int o = 0; o < B2; o++) {
            float *dst = s->c_obs + (size_t)o * x->W;
            memcpy(dst, x->pool_feat + (size_t)s->c_rows[o] * x->F, (size_t)x->F * sizeof(float));
            memcpy(dst + x->F, s->pool_obs + (size_t)s->c_rows[o] * s->S,
                   (size_t)x->P * sizeof(float));
        }
        return;
    }
    for (int o = 0; o < B2; o++)
        memcpy(x->c_img + (size_t)o * x->ib, x->pool_img + (size_t)s->c_rows[o] * x->ib, x->ib);
    const struct encoder_spec *sp = &x->cenc->sp;
    encoder_random_shift(x->c_img, x->c_aug, B2, sp->h, sp->w, sp->c, RLDT_SHIFT_PAD, &s->rng);
    rldt_pix_cond(s, x->cenc, x->cctx, x->c_aug, s->pool_obs, s->c_rows, B2, s->c_obs);
}

/* dfeat (n, F) = the feature columns of dcond (n, W) */
static void feat_grad(struct rldt_pix *x, int n)
{
    for (int k = 0; k < n; k++)
        memcpy(x->dfeat + (size_t)k * x->F, x->dcond + (size_t)k * x->W,
               (size_t)x->F * sizeof(float));
}

bool rldt_pix_critic_encoder_step(struct rldt *s)
{
    struct rldt_pix *x = s->px;
    if (!x->copt) /* frozen */
        return true;
    feat_grad(x, 2 * s->B);
    encoder_zero_grad(x->cenc);
    encoder_backward(x->cenc, x->cctx, x->dfeat);
    if (!isfinite(optim_grad_norm(x->cenc->grads, x->cenc->n_params)))
        return false;
    optim_step(x->copt, x->cenc->params, x->cenc->grads);
    return true;
}

// ---- checkpoint ----------------------------------------------------------------------------

/* the sections: name, data, bytes (an encoder's Adam, and the actor's trust copy, only when it
 * learns; the trust copy is optional on load: older checkpoints have none) */
#define PIX_SECTIONS 5
#define PIX_TRUST_SECTION "rldt.trust_enc_actor"
static int sections(const struct rldt *s, const char **name, void **data, size_t *n)
{
    const struct rldt_pix *x = s->px;
    size_t na = x->aenc->n_params * sizeof(float), nc = x->cenc->n_params * sizeof(float);
    int k = 0;
    name[k] = "rldt.enc_actor", data[k] = x->aenc->params, n[k++] = na;
    name[k] = "rldt.enc_critic", data[k] = x->cenc->params, n[k++] = nc;
    if (x->copt)
        name[k] = "rldt.adam_enc_critic", data[k] = x->copt->state, n[k++] = 2 * nc;
    if (x->aopt)
        name[k] = "rldt.adam_enc_actor", data[k] = x->aopt->state, n[k++] = 2 * na;
    if (x->tenc)
        name[k] = PIX_TRUST_SECTION, data[k] = x->tenc->params, n[k++] = na;
    return k;
}

int rldt_pix_save(struct rldt *s, struct ckpt_writer *w)
{
    struct rldt_pix *x = s->px;
    int64_t *steps = x->steps; /* staged: the writer borrows it until it saves */
    steps[0] = x->aopt ? x->aopt->step : 0;
    steps[1] = x->copt ? x->copt->step : 0;
    const char *name[PIX_SECTIONS];
    void *data[PIX_SECTIONS];
    size_t n[PIX_SECTIONS];
    int k = sections(s, name, data, n), rc = ckpt_add(w, "rldt.enc_steps", steps, sizeof(x->steps));
    for (int i = 0; !rc && i < k; i++)
        rc = ckpt_add(w, name[i], data[i], n[i]);
    pixflow_file_of(x->aenc, x->P, &x->file); /* the checkpoint is a pixel policy file too */
    return rc ? rc : ckpt_add(w, "policy.encoder", &x->file, sizeof(x->file));
}

int rldt_pix_check(const struct rldt *s, const struct ckpt *c, char *err, size_t errlen)
{
    const char *name[PIX_SECTIONS];
    void *data[PIX_SECTIONS];
    size_t n[PIX_SECTIONS], have = 0;
    int k = sections(s, name, data, n);
    for (int i = -1; i < k; i++) {
        const char *nm = i < 0 ? "rldt.enc_steps" : name[i];
        size_t want = i < 0 ? 2 * sizeof(int64_t) : n[i];
        if (!ckpt_get(c, nm, &have) && i >= 0 && !strcmp(nm, PIX_TRUST_SECTION))
            continue; /* an older checkpoint: the trust copy restarts from the actor's */
        if (!ckpt_get(c, nm, &have))
            return rl_err(-ENOENT, err, errlen,
                          "rldt: checkpoint section '%s' is missing (a run from pixels resumes "
                          "only from a checkpoint of one)",
                          nm);
        if (have != want)
            return rl_err(-EPROTO, err, errlen,
                          "rldt: checkpoint section '%s' has %zu bytes, expected %zu", nm, have,
                          want);
    }
    return 0;
}

void rldt_pix_load(struct rldt *s, const struct ckpt *c)
{
    struct rldt_pix *x = s->px;
    const char *name[PIX_SECTIONS];
    void *data[PIX_SECTIONS];
    size_t n[PIX_SECTIONS];
    int k = sections(s, name, data, n);
    char e[64];
    for (int i = 0; i < k; i++)
        if (ckpt_read(c, name[i], data[i], n[i], e, sizeof(e)) < 0 && x->tenc &&
            data[i] == x->tenc->params) /* none saved: the trust copy is the actor's encoder */
            memcpy(x->tenc->params, x->aenc->params, x->aenc->n_params * sizeof(float));
    int64_t steps[2];
    ckpt_read(c, "rldt.enc_steps", steps, sizeof(steps), e, sizeof(e));
    if (x->aopt)
        x->aopt->step = (long)steps[0];
    if (x->copt)
        x->copt->step = (long)steps[1];
    x->same_enc = same_encoders(x);
}
