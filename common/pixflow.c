/*
 * pixflow.c — the pixel flow policy (pixflow.h): encoder features and proprioception in front
 * of a flow sampler, and its policy file.
 */
#include "common/pixflow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/flow.h"
#include "common/hash.h"
#include "common/rng.h"
#include "common/task.h"
#include "common/util.h"

int pixflow_specs(const struct rl_config *c, struct encoder_spec *es, struct flow_spec *fs, int *P,
                  char *err, size_t errlen)
{
    const struct task_info *t = task_find(c->env);
    if (!t) {
        snprintf(err, errlen, "unknown task '%s'", c->env);
        return -EINVAL;
    }
    encoder_spec_default(es, c->image_size, c->image_size, 3);
    struct encoder *e = encoder_new(es, err, errlen); /* checks the image fits the convs */
    if (!e)
        return -EINVAL;
    encoder_destroy(&e);
    *P = task_proprio_dim(t);
    return flow_spec_from_config(fs, c, es->feat + *P, t->act_dim, c->chunk, err, errlen);
}

uint64_t pixflow_layout(const struct flow *f, const struct encoder *e, int P)
{
    uint64_t h = hash_fnv1a(HASH_FNV_INIT, "pixflow", 7);
    h = hash_fnv1a_u64(h, f->layout);
    const struct encoder_spec *s = &e->sp;
    const int v[] = {s->h, s->w, s->c, s->n_conv, s->feat, P};
    for (size_t i = 0; i < RL_ARRAY_LEN(v); i++)
        h = hash_fnv1a_u64(h, (uint64_t)v[i]);
    for (int l = 0; l < s->n_conv; l++) {
        h = hash_fnv1a_u64(h, (uint64_t)s->kernel[l]);
        h = hash_fnv1a_u64(h, (uint64_t)s->ch[l]);
        h = hash_fnv1a_u64(h, (uint64_t)s->stride[l]);
    }
    return h;
}

// ---- the "pixflow" policy kind -------------------------------------------------------------

struct pixflow {
    struct flow *f;
    struct flow_ctx *ctx;
    struct encoder *e;
    struct encoder_ctx *ectx;
    int O, P, F, max_batch;
    uint64_t layout;
    float *params; /* [flow | encoder], copied into f and e on params_changed */
    float *cond;   /* (max_batch, F + P) */
    float *chain;  /* ((N+1), max_batch, D) */
};

static void px_destroy(void *impl)
{
    struct pixflow *p = impl;
    if (!p)
        return;
    flow_ctx_destroy(&p->ctx);
    flow_destroy(&p->f);
    encoder_ctx_destroy(&p->ectx);
    encoder_destroy(&p->e);
    free(p->params);
    free(p->cond);
    free(p->chain);
    free(p);
}

static void *px_create(const struct rl_config *c, const struct policy_dims *d, int max_batch,
                       char *err, size_t errlen)
{
    struct encoder_spec es;
    struct flow_spec fs;
    int P;
    if (pixflow_specs(c, &es, &fs, &P, err, errlen) < 0)
        return NULL;
    if (P > d->obs_dim || fs.act_dim != d->act_dim || fs.chunk != d->chunk) {
        snprintf(err, errlen, "pixflow: dimensions do not fit the task");
        return NULL;
    }
    struct pixflow *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "pixflow: out of memory");
        return NULL;
    }
    *p = (struct pixflow){.O = d->obs_dim, .P = P, .F = es.feat, .max_batch = max_batch};
    p->f = flow_new(&fs, err, errlen);
    p->e = p->f ? encoder_new(&es, err, errlen) : NULL;
    if (!p->e) {
        px_destroy(p);
        return NULL;
    }
    p->layout = pixflow_layout(p->f, p->e, P);
    p->ctx = flow_ctx_new(p->f, max_batch, false);
    p->ectx = encoder_ctx_new(p->e, max_batch);
    p->params = calloc(p->f->n_params + p->e->n_params, sizeof(float));
    p->cond = calloc((size_t)max_batch * (p->F + P), sizeof(float));
    p->chain = calloc((size_t)(fs.steps + 1) * max_batch * p->f->D, sizeof(float));
    if (!p->ctx || !p->ectx || !p->params || !p->cond || !p->chain) {
        snprintf(err, errlen, "pixflow: out of memory");
        px_destroy(p);
        return NULL;
    }
    return p;
}

static size_t px_nparams(const void *impl)
{
    const struct pixflow *p = impl;
    return p->f->n_params + p->e->n_params;
}

static uint64_t px_layout(const void *impl)
{
    const struct pixflow *p = impl;
    return p->layout;
}

static float *px_params(void *impl)
{
    struct pixflow *p = impl;
    return p->params;
}

static void px_params_changed(void *impl)
{
    struct pixflow *p = impl;
    memcpy(p->f->params, p->params, p->f->n_params * sizeof(float));
    memcpy(p->e->params, p->params + p->f->n_params, p->e->n_params * sizeof(float));
}

static size_t px_image_bytes(const void *impl)
{
    const struct pixflow *p = impl;
    return encoder_image_bytes(p->e);
}

static void px_act(void *impl, const float *obs, int B, struct rng *r, bool deterministic,
                   float *out)
{
    (void)impl, (void)obs, (void)B, (void)r, (void)deterministic, (void)out;
    RL_ASSERT(!"a pixel policy acts through act_img");
}

// cond (B, F + P) = [features of img | obs[:, :P]], then the flow's sample and actions
static void px_act_img(void *impl, const float *obs, const uint8_t *img, int B, struct rng *r,
                       bool deterministic, float *out)
{
    struct pixflow *p = impl;
    RL_ASSERT(B >= 1 && B <= p->max_batch);
    const float *feat = encoder_forward(p->e, p->ectx, img, B);
    int W = p->F + p->P;
    for (int b = 0; b < B; b++) {
        memcpy(p->cond + (size_t)b * W, feat + (size_t)b * p->F, (size_t)p->F * sizeof(float));
        memcpy(p->cond + (size_t)b * W + p->F, obs + (size_t)b * p->O,
               (size_t)p->P * sizeof(float));
    }
    long BD = (long)B * p->f->D;
    if (deterministic)
        memset(p->chain, 0, (size_t)BD * sizeof(float));
    else
        rng_normal_fill(r, p->chain, BD);
    flow_sample(p->f, p->ctx, p->cond, B, p->chain);
    flow_chain_actions(p->chain, p->f->spec.steps, B, p->f->D, deterministic ? NULL : r, out);
}

void pixflow_file_of(const struct encoder *e, int P, struct pixflow_file *h)
{
    *h = (struct pixflow_file){.version = PIXFLOW_FILE_VERSION,
                               .h = e->sp.h,
                               .w = e->sp.w,
                               .c = e->sp.c,
                               .n_conv = e->sp.n_conv,
                               .feat = e->sp.feat,
                               .proprio = P};
    for (int l = 0; l < e->sp.n_conv; l++) {
        h->kernel[l] = e->sp.kernel[l];
        h->ch[l] = e->sp.ch[l];
        h->stride[l] = e->sp.stride[l];
    }
}

// the file's policy.encoder section must be a known version naming this policy's shape
static int px_check_file(const void *impl, const void *k, char *err, size_t errlen)
{
    const struct pixflow *p = impl;
    size_t n = 0;
    const struct pixflow_file *h = ckpt_get(k, "policy.encoder", &n);
    if (!h || n < sizeof(int32_t)) {
        snprintf(err, errlen, "pixel policy without its encoder section (policy.encoder)");
        return -EPROTO;
    }
    if (h->version != PIXFLOW_FILE_VERSION || n != sizeof(*h)) {
        snprintf(err, errlen, "encoder section version %d (%zu bytes): this build reads version %d",
                 (int)h->version, n, PIXFLOW_FILE_VERSION);
        return -EPROTO;
    }
    struct pixflow_file mine;
    pixflow_file_of(p->e, p->P, &mine);
    if (memcmp(h, &mine, sizeof(mine)) != 0) {
        snprintf(err, errlen,
                 "its encoder section (%dx%dx%d, %d features, proprioception %d) does not match "
                 "its config (%dx%dx%d, %d, %d)",
                 h->h, h->w, h->c, h->feat, h->proprio, mine.h, mine.w, mine.c, mine.feat,
                 mine.proprio);
        return -EPROTO;
    }
    return 0;
}

const struct policy_ops pixflow_policy_ops = {
    .kind = "pixflow",
    .create = px_create,
    .destroy = px_destroy,
    .nparams = px_nparams,
    .layout = px_layout,
    .params = px_params,
    .params_changed = px_params_changed,
    .act = px_act,
    .image_bytes = px_image_bytes,
    .act_img = px_act_img,
    .check_file = px_check_file,
};

// ---- files ---------------------------------------------------------------------------------

int pixflow_save(const char *path, const char *cfg_text, const struct flow *f,
                 const struct encoder *e, int P, const float *bounds, int obs_dim, char *err,
                 size_t errlen)
{
    uint64_t layout = pixflow_layout(f, e, P);
    size_t nf = f->n_params, ne = e->n_params;
    float *w = malloc((nf + ne) * sizeof(float));
    struct ckpt_writer *k = w ? ckpt_writer_new("CKPT", layout) : NULL;
    if (!k) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    memcpy(w, f->params, nf * sizeof(float));
    memcpy(w + nf, e->params, ne * sizeof(float));
    struct pixflow_file h;
    pixflow_file_of(e, P, &h);
    const char *kind = pixflow_policy_ops.kind;
    size_t nb = (size_t)(2 * obs_dim + 2 * f->spec.act_dim) * sizeof(float);
    int rc = ckpt_add(k, "learner.config", cfg_text, strlen(cfg_text) + 1);
    if (!rc)
        rc = ckpt_add(k, "policy.kind", kind, strlen(kind) + 1);
    if (!rc)
        rc = ckpt_add(k, "policy.layout", &layout, sizeof(layout));
    if (!rc)
        rc = ckpt_add(k, "policy.weights", w, (nf + ne) * sizeof(float));
    if (!rc)
        rc = ckpt_add(k, "policy.encoder", &h, sizeof(h));
    if (!rc && bounds)
        rc = ckpt_add(k, "policy.bounds", bounds, nb);
    if (rc < 0)
        snprintf(err, errlen, "cannot assemble policy file: %s", strerror(-rc));
    else
        rc = ckpt_writer_save(k, path, err, errlen);
    ckpt_writer_destroy(&k);
    free(w);
    return rc;
}
