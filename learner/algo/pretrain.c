/*
 * pretrain.c — conditional flow matching on a dataset (pretrain.h).
 *
 * Shapes: B batch rows, O obs_dim, A act_dim, H chunk, D = H·A. RNG streams of the seed:
 * PRETRAIN_STREAM_INIT (weights), PRETRAIN_STREAM_SPLIT (held-out episodes, validation batch),
 * PRETRAIN_STREAM_TRAIN (batches, t, z, random shifts; saved in the state file).
 *
 * From pixels (a dataset with camera images): the flow's observation input is
 * cond = [encoder features (F) | proprioception (the first P normalised entries)], the encoder
 * (common/pixflow.h's shape) trained through flow_backward_obs with the flow's learning rate,
 * training images randomly shifted (pad PRETRAIN_SHIFT_PAD), the EMA of both saved.
 */
#include "learner/algo/pretrain.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/dataset.h"
#include "common/flow.h"
#include "common/norm.h"
#include "common/optim.h"
#include "common/encoder.h"
#include "common/pixflow.h"
#include "common/rng.h"
#include "common/util.h"

#define PRETRAIN_STREAM_INIT 0x9e70000001ULL
#define PRETRAIN_STREAM_SPLIT 0x9e70000002ULL
#define PRETRAIN_STREAM_TRAIN 0x9e70000003ULL
#define PRETRAIN_STATE_VERSION 1
#define PRETRAIN_HOLDOUT_EVERY 50
#define PRETRAIN_VAL_ROWS 512
#define PRETRAIN_WARMUP 1000
#define PRETRAIN_SHIFT_PAD 4

struct batch {
    int B;
    float *x, *t, *obs, *u; /* (B, D), (B), (B, O), (B, D) target a − z */
    long *rows;             /* (B) the data row of each batch row */
};

/* the encoder of a pre-training from pixels (all NULL / 0 otherwise) */
struct pix {
    struct encoder *enc, *ema;
    struct encoder_ctx *ctx; /* B images */
    struct optim *opt;
    int P, F, W;           /* proprioception, features, W = F + P the flow's observation width */
    size_t ib;             /* bytes of one image */
    uint8_t *img;          /* (n, ib) the dataset's images */
    uint8_t *bimg, *shift; /* (B, ib) a batch's images and their shifted copies */
    float *cond, *dcond;   /* (B, W) */
    float *dfeat;          /* (B, F) */
};

struct pretrain {
    int O, A, H, D, B;
    float ema_decay;
    struct flow *net, *ema;
    struct flow_ctx *ctx;  /* training, B rows */
    struct flow_ctx *vctx; /* inference, validation rows */
    struct optim *opt;
    struct rng rng;
    float *obs, *act;  /* (n, O), (n, A) normalised data */
    int64_t *ep_end;   /* (n) one past the last row of each row's episode */
    long *train, *val; /* row indices */
    long n_train, n_val;
    struct batch b, vb;
    float *dv;     /* (B, D) */
    float *bounds; /* (2O + 2A) */
    struct pix px;
};

/* the state file's header: all 8-byte fields */
struct pretrain_meta {
    int64_t version;
    uint64_t layout;
    int64_t n_params;
    int64_t opt_step;
    struct rng_state rng;
};

static int batch_init(struct batch *b, int B, int O, int D)
{
    b->B = B;
    b->x = calloc((size_t)B * D, sizeof(float));
    b->t = calloc((size_t)B, sizeof(float));
    b->obs = calloc((size_t)B * O, sizeof(float));
    b->u = calloc((size_t)B * D, sizeof(float));
    b->rows = calloc((size_t)B, sizeof(long));
    return b->x && b->t && b->obs && b->u && b->rows ? 0 : -ENOMEM;
}

static void batch_fini(struct batch *b)
{
    free(b->x);
    free(b->t);
    free(b->obs);
    free(b->u);
    free(b->rows);
}

static void pix_fini(struct pix *x)
{
    encoder_destroy(&x->enc);
    encoder_destroy(&x->ema);
    encoder_ctx_destroy(&x->ctx);
    optim_destroy(&x->opt);
    free(x->img);
    free(x->bimg);
    free(x->shift);
    free(x->cond);
    free(x->dcond);
    free(x->dfeat);
}

void pretrain_destroy(struct pretrain **pp)
{
    struct pretrain *p = pp ? *pp : NULL;
    if (!p)
        return;
    flow_destroy(&p->net);
    flow_destroy(&p->ema);
    flow_ctx_destroy(&p->ctx);
    flow_ctx_destroy(&p->vctx);
    optim_destroy(&p->opt);
    free(p->obs);
    free(p->act);
    free(p->ep_end);
    free(p->train);
    free(p->val);
    batch_fini(&p->b);
    batch_fini(&p->vb);
    free(p->dv);
    free(p->bounds);
    pix_fini(&p->px);
    free(p);
    *pp = NULL;
}

// normalised copies of the data, episode ends, and the train / held-out split
static int load_data(struct pretrain *p, const struct dataset *ds, char *err, size_t errlen)
{
    long n = ds->n;
    size_t nb = (size_t)(2 * p->O + 2 * p->A) * sizeof(float);
    p->obs = malloc((size_t)n * p->O * sizeof(float));
    p->act = malloc((size_t)n * p->A * sizeof(float));
    p->ep_end = malloc((size_t)n * sizeof(int64_t));
    p->train = malloc((size_t)n * sizeof(long));
    p->val = malloc((size_t)n * sizeof(long));
    p->bounds = malloc(nb);
    struct norm no = {0}, na = {0};
    if (!p->obs || !p->act || !p->ep_end || !p->train || !p->val || !p->bounds ||
        norm_init(&no, p->O) || norm_init(&na, p->A)) {
        snprintf(err, errlen, "pretrain: out of memory");
        goto err_fini;
    }
    if (ds->has_bounds) {
        memcpy(p->bounds, ds->bounds, nb);
    } else if (norm_fit(&no, ds->obs, n, err, errlen) || norm_fit(&na, ds->act, n, err, errlen)) {
        goto err_fini;
    } else {
        memcpy(p->bounds, no.lo, (size_t)p->O * sizeof(float));
        memcpy(p->bounds + p->O, no.hi, (size_t)p->O * sizeof(float));
        memcpy(p->bounds + 2 * p->O, na.lo, (size_t)p->A * sizeof(float));
        memcpy(p->bounds + 2 * p->O + p->A, na.hi, (size_t)p->A * sizeof(float));
    }
    const float *b = p->bounds;
    if (norm_set(&no, b, b + p->O, err, errlen) ||
        norm_set(&na, b + 2 * p->O, b + 2 * p->O + p->A, err, errlen))
        goto err_fini;
    norm_normalize(&no, ds->obs, p->obs, n, false);
    norm_normalize(&na, ds->act, p->act, n, true);
    bool hold = ds->n_episodes >= 2;
    for (long e = 0; e < ds->n_episodes; e++) {
        const struct dataset_episode *ep = &ds->ep[e];
        bool v = hold && e % PRETRAIN_HOLDOUT_EVERY == PRETRAIN_HOLDOUT_EVERY - 1;
        for (int64_t i = ep->start; i < ep->start + ep->len; i++) {
            p->ep_end[i] = ep->start + ep->len;
            if (v)
                p->val[p->n_val++] = (long)i;
            else
                p->train[p->n_train++] = (long)i;
        }
    }
    norm_fini(&no);
    norm_fini(&na);
    return 0;

err_fini:
    norm_fini(&no);
    norm_fini(&na);
    return -EINVAL;
}

// row r's state and chunk into batch row k; the chunk repeats the episode's last action
static void put_row(const struct pretrain *p, long r, float *obs, float *a)
{
    memcpy(obs, p->obs + (size_t)r * p->O, (size_t)p->O * sizeof(float));
    for (int j = 0; j < p->H; j++) {
        long s = r + j < p->ep_end[r] ? r + j : (long)p->ep_end[r] - 1;
        memcpy(a + (size_t)j * p->A, p->act + (size_t)s * p->A, (size_t)p->A * sizeof(float));
    }
}

// fill a batch from rows (n of them) with t ~ U[0,1), z ~ N(0, I): x = (1−t) z + t a, u = a − z
static void fill_batch(const struct pretrain *p, struct batch *b, const long *rows, long n,
                       struct rng *r)
{
    int D = p->D;
    float a[4096];
    for (int k = 0; k < b->B; k++) {
        long row = rows[rng_below(r, (uint64_t)n)];
        b->rows[k] = row;
        put_row(p, row, b->obs + (size_t)k * p->O, a);
        float t = (float)rng_uniform(r);
        b->t[k] = t;
        float *x = b->x + (size_t)k * D, *u = b->u + (size_t)k * D;
        for (int j = 0; j < D; j++) {
            float z = (float)rng_normal(r);
            x[j] = (1.0f - t) * z + t * a[j];
            u[j] = a[j] - z;
        }
    }
}

// the encoder, its EMA copy, optimiser and buffers, and the dataset's images (copied)
static int pix_new(struct pretrain *p, const struct rl_config *c, const struct dataset *ds,
                   struct flow_spec *fs, char *err, size_t errlen)
{
    struct pix *x = &p->px;
    struct encoder_spec es;
    if (ds->img_h != ds->img_w || ds->img_c != 3 || ds->img_h != c->image_size) {
        snprintf(err, errlen, "pretrain: images of %dx%dx%d, expected %dx%dx3 (image_size)",
                 ds->img_h, ds->img_w, ds->img_c, c->image_size, c->image_size);
        return -EINVAL;
    }
    if (pixflow_specs(c, &es, fs, &x->P, err, errlen) < 0)
        return -EINVAL;
    x->F = es.feat;
    x->W = x->F + x->P;
    x->enc = encoder_new(&es, err, errlen);
    x->ema = x->enc ? encoder_new(&es, err, errlen) : NULL;
    if (!x->ema)
        return -EINVAL;
    struct rng r;
    rng_init(&r, (uint64_t)c->seed, PRETRAIN_STREAM_INIT + 16);
    encoder_init(x->enc, &r);
    memcpy(x->ema->params, x->enc->params, x->enc->n_params * sizeof(float));
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = (float)c->pretrain_lr;
    oc.warmup = RL_MIN(PRETRAIN_WARMUP, c->pretrain_steps / 10);
    x->opt = optim_new(&oc, x->enc->n_params);
    x->ctx = encoder_ctx_new(x->enc, p->B);
    x->ib = encoder_image_bytes(x->enc);
    x->img = malloc((size_t)ds->n * x->ib);
    x->bimg = malloc((size_t)p->B * x->ib);
    x->shift = malloc((size_t)p->B * x->ib);
    x->cond = calloc((size_t)p->B * x->W, sizeof(float));
    x->dcond = calloc((size_t)p->B * x->W, sizeof(float));
    x->dfeat = calloc((size_t)p->B * x->F, sizeof(float));
    if (!x->opt || !x->ctx || !x->img || !x->bimg || !x->shift || !x->cond || !x->dcond ||
        !x->dfeat) {
        snprintf(err, errlen, "pretrain: out of memory");
        return -ENOMEM;
    }
    memcpy(x->img, ds->img, (size_t)ds->n * x->ib);
    return 0;
}

// cond (n, W) = [features of the n images | the first P entries of obs (n, O)]
static const float *pix_cond(struct pretrain *p, const struct encoder *e, const uint8_t *img,
                             const float *obs, int n)
{
    struct pix *x = &p->px;
    const float *feat = encoder_forward(e, x->ctx, img, n);
    for (int k = 0; k < n; k++) {
        memcpy(x->cond + (size_t)k * x->W, feat + (size_t)k * x->F, (size_t)x->F * sizeof(float));
        memcpy(x->cond + (size_t)k * x->W + x->F, obs + (size_t)k * p->O,
               (size_t)x->P * sizeof(float));
    }
    return x->cond;
}

// the observation input of the training batch: obs, or the shifted images' cond
static const float *batch_cond(struct pretrain *p)
{
    struct pix *x = &p->px;
    if (!x->enc)
        return p->b.obs;
    for (int k = 0; k < p->B; k++)
        memcpy(x->bimg + (size_t)k * x->ib, x->img + (size_t)p->b.rows[k] * x->ib, x->ib);
    encoder_random_shift(x->bimg, x->shift, p->B, x->enc->sp.h, x->enc->sp.w, x->enc->sp.c,
                         PRETRAIN_SHIFT_PAD, &p->rng);
    return pix_cond(p, x->enc, x->shift, p->b.obs, p->B);
}

// after flow_backward: the encoder's gradient through the flow's observation input, its step
static void pix_backward(struct pretrain *p)
{
    struct pix *x = &p->px;
    flow_backward_obs(p->net, p->ctx, x->dcond);
    for (int k = 0; k < p->B; k++)
        memcpy(x->dfeat + (size_t)k * x->F, x->dcond + (size_t)k * x->W,
               (size_t)x->F * sizeof(float));
    encoder_zero_grad(x->enc);
    encoder_backward(x->enc, x->ctx, x->dfeat);
    optim_step(x->opt, x->enc->params, x->enc->grads);
    optim_ema(x->ema->params, x->enc->params, x->enc->n_params, p->ema_decay);
}

static int make_nets(struct pretrain *p, const struct rl_config *c, const struct dataset *ds,
                     char *err, size_t errlen)
{
    struct flow_spec s;
    if (dataset_image_bytes(ds) ? pix_new(p, c, ds, &s, err, errlen)
                                : flow_spec_from_config(&s, c, p->O, p->A, p->H, err, errlen))
        return -EINVAL;
    p->net = flow_new(&s, err, errlen);
    p->ema = p->net ? flow_new(&s, err, errlen) : NULL;
    if (!p->ema)
        return -EINVAL;
    struct rng r;
    rng_init(&r, (uint64_t)c->seed, PRETRAIN_STREAM_INIT);
    flow_init(p->net, &r);
    flow_copy_params(p->ema, p->net);
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = (float)c->pretrain_lr;
    oc.warmup = RL_MIN(PRETRAIN_WARMUP, c->pretrain_steps / 10);
    p->opt = optim_new(&oc, p->net->n_params);
    p->ctx = flow_ctx_new(p->net, p->B, true);
    p->vctx = flow_ctx_new(p->net, PRETRAIN_VAL_ROWS, false);
    p->dv = calloc((size_t)p->B * p->D, sizeof(float));
    if (!p->opt || !p->ctx || !p->vctx || !p->dv || batch_init(&p->b, p->B, p->O, p->D) ||
        batch_init(&p->vb, PRETRAIN_VAL_ROWS, p->O, p->D)) {
        snprintf(err, errlen, "pretrain: out of memory");
        return -ENOMEM;
    }
    return 0;
}

struct pretrain *pretrain_new(const struct rl_config *c, const struct dataset *ds, char *err,
                              size_t errlen)
{
    if (ds->n < 1 || ds->n_episodes < 1) {
        snprintf(err, errlen, "pretrain: the dataset is empty");
        return NULL;
    }
    if (c->chunk < 1 || c->chunk * ds->act_dim > 4096 || c->pretrain_batch < 1) {
        snprintf(err, errlen, "pretrain: bad chunk %d or batch %d", c->chunk, c->pretrain_batch);
        return NULL;
    }
    struct pretrain *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "pretrain: out of memory");
        return NULL;
    }
    p->O = ds->obs_dim;
    p->A = ds->act_dim;
    p->H = c->chunk;
    p->D = p->H * p->A;
    p->B = c->pretrain_batch;
    p->ema_decay = (float)c->ema_decay;
    if (load_data(p, ds, err, errlen) || make_nets(p, c, ds, err, errlen)) {
        pretrain_destroy(&p);
        return NULL;
    }
    // the fixed validation batch (held-out rows, or training rows without any)
    struct rng r;
    rng_init(&r, (uint64_t)c->seed, PRETRAIN_STREAM_SPLIT);
    fill_batch(p, &p->vb, p->n_val ? p->val : p->train, p->n_val ? p->n_val : p->n_train, &r);
    rng_init(&p->rng, (uint64_t)c->seed, PRETRAIN_STREAM_TRAIN);
    return p;
}

int pretrain_step(struct pretrain *p, double *loss)
{
    int B = p->B, D = p->D;
    fill_batch(p, &p->b, p->train, p->n_train, &p->rng);
    const float *v = flow_forward(p->net, p->ctx, p->b.x, p->b.t, batch_cond(p), B);
    double L = 0;
    float scale = 2.0f / ((float)B * D);
    for (size_t j = 0; j < (size_t)B * D; j++) {
        float d = v[j] - p->b.u[j];
        L += (double)d * d;
        p->dv[j] = scale * d;
    }
    L /= (double)B * D;
    *loss = L;
    if (!isfinite(L))
        return -EDOM;
    flow_zero_grad(p->net);
    flow_backward(p->net, p->ctx, p->dv, NULL, NULL);
    if (p->px.enc)
        pix_backward(p);
    optim_step(p->opt, p->net->params, p->net->grads);
    optim_ema(p->ema->params, p->net->params, p->net->n_params, p->ema_decay);
    return 0;
}

long pretrain_steps_done(const struct pretrain *p)
{
    return p->opt->step;
}

double pretrain_val_loss(struct pretrain *p)
{
    struct batch *b = &p->vb;
    float *v = p->dv; /* scratch: (B, D) may be smaller than the validation batch */
    double L = 0;
    int step = RL_MIN(p->B, b->B);
    for (int k = 0; k < b->B; k += step) {
        int n = RL_MIN(step, b->B - k);
        const float *obs = b->obs + (size_t)k * p->O;
        if (p->px.enc) { /* the EMA encoder on the unshifted images */
            for (int j = 0; j < n; j++)
                memcpy(p->px.bimg + (size_t)j * p->px.ib,
                       p->px.img + (size_t)b->rows[k + j] * p->px.ib, p->px.ib);
            obs = pix_cond(p, p->px.ema, p->px.bimg, obs, n);
        }
        flow_velocity(p->ema, p->vctx, b->x + (size_t)k * p->D, b->t + k, obs, v, n);
        for (size_t j = 0; j < (size_t)n * p->D; j++) {
            double d = (double)v[j] - b->u[(size_t)k * p->D + j];
            L += d * d;
        }
    }
    return L / ((double)b->B * p->D);
}

double pretrain_lr(const struct pretrain *p)
{
    return optim_lr_at(&p->opt->cfg, p->opt->step + 1);
}

const struct flow *pretrain_net(const struct pretrain *p)
{
    return p->net;
}

const struct flow *pretrain_ema(const struct pretrain *p)
{
    return p->ema;
}

const struct encoder *pretrain_encoder(const struct pretrain *p)
{
    return p->px.enc;
}

const struct encoder *pretrain_encoder_ema(const struct pretrain *p)
{
    return p->px.ema;
}

const float *pretrain_bounds(const struct pretrain *p)
{
    return p->bounds;
}

int pretrain_save_policy(const struct pretrain *p, const char *cfg_text, const char *path,
                         char *err, size_t errlen)
{
    if (p->px.enc)
        return pixflow_save(path, cfg_text, p->ema, p->px.ema, p->px.P, p->bounds, p->O, err,
                            errlen);
    return flow_policy_save(path, cfg_text, p->ema, p->bounds, err, errlen);
}

// ---- state files ---------------------------------------------------------------------------

/* one float section of the state file */
struct part {
    const char *name;
    float *data;
    size_t n;
};

// the sections of p's state (flow, then the encoder's when from pixels); returns their count
static int state_parts(const struct pretrain *p, struct part *pt)
{
    size_t n = p->net->n_params;
    pt[0] = (struct part){"pretrain.params", p->net->params, n};
    pt[1] = (struct part){"pretrain.ema", p->ema->params, n};
    pt[2] = (struct part){"pretrain.adam", p->opt->state, 2 * n};
    if (!p->px.enc)
        return 3;
    size_t ne = p->px.enc->n_params;
    pt[3] = (struct part){"pretrain.enc.params", p->px.enc->params, ne};
    pt[4] = (struct part){"pretrain.enc.ema", p->px.ema->params, ne};
    pt[5] = (struct part){"pretrain.enc.adam", p->px.opt->state, 2 * ne};
    return 6;
}

static uint64_t state_layout(const struct pretrain *p)
{
    return p->px.enc ? pixflow_layout(p->net, p->px.enc, p->px.P) : p->net->layout;
}

int pretrain_save_state(const struct pretrain *p, const char *path, char *err, size_t errlen)
{
    uint64_t layout = state_layout(p);
    struct pretrain_meta m = {.version = PRETRAIN_STATE_VERSION,
                              .layout = layout,
                              .n_params = (int64_t)p->net->n_params,
                              .opt_step = p->opt->step};
    rng_pack(&p->rng, &m.rng);
    struct ckpt_writer *w = ckpt_writer_new("PTRN", layout);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct part pt[6];
    int np = state_parts(p, pt);
    int rc = ckpt_add(w, "pretrain.meta", &m, sizeof(m));
    for (int i = 0; i < np && !rc; i++)
        rc = ckpt_add(w, pt[i].name, pt[i].data, pt[i].n * sizeof(float));
    if (rc)
        snprintf(err, errlen, "cannot assemble state: %s", strerror(-rc));
    else
        rc = ckpt_writer_save(w, path, err, errlen);
    ckpt_writer_destroy(&w);
    return rc;
}

int pretrain_load_state(struct pretrain *p, const char *path, char *err, size_t errlen)
{
    char e[400];
    uint64_t layout = state_layout(p);
    struct ckpt *k = ckpt_load(path, "PTRN", layout, e, sizeof(e));
    if (!k) {
        snprintf(err, errlen, "%s", e);
        return strstr(e, "layout") ? -EINVAL : -EPROTO;
    }
    struct pretrain_meta m;
    int rc = ckpt_read(k, "pretrain.meta", &m, sizeof(m), e, sizeof(e));
    if (!rc && (m.version != PRETRAIN_STATE_VERSION || m.layout != layout ||
                m.n_params != (int64_t)p->net->n_params || m.opt_step < 0)) {
        snprintf(e, sizeof(e), "state version %lld for %lld parameters does not fit",
                 (long long)m.version, (long long)m.n_params);
        rc = -EINVAL;
    }
    // all sections are checked before anything is changed
    struct part pt[6];
    const void *src[6];
    int np = state_parts(p, pt);
    for (int i = 0; i < np && !rc; i++) {
        size_t got = 0;
        src[i] = ckpt_get(k, pt[i].name, &got);
        if (!src[i] || got != pt[i].n * sizeof(float)) {
            snprintf(e, sizeof(e), "state section %s missing or of the wrong size", pt[i].name);
            rc = -EPROTO;
        }
    }
    if (!rc) {
        for (int i = 0; i < np; i++)
            memcpy(pt[i].data, src[i], pt[i].n * sizeof(float));
        p->opt->step = (long)m.opt_step;
        if (p->px.opt)
            p->px.opt->step = (long)m.opt_step;
        rng_unpack(&p->rng, &m.rng);
    } else {
        snprintf(err, errlen, "%s: %s", path, e);
    }
    ckpt_destroy(&k);
    return rc;
}
