/*
 * encoder.c — the convolutional image encoder (see encoder.h): im2col + cblas_sgemm convs,
 * a linear tanh head, backward, and random-shift augmentation.
 */
#include "common/encoder.h"

#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/util.h"

struct encoder_ctx {
    int max_batch, B;
    float *x0;                  /* (B, h*w*c) input */
    float *y[ENCODER_MAX_CONV]; /* (B*oh*ow, ch) after ReLU */
    float *out;                 /* (B, feat) after tanh */
    float *cols;                /* im2col rows of the largest layer; reused for dcols */
    float *d0, *d1;             /* gradients w.r.t. activations, largest layer */
};

void encoder_spec_default(struct encoder_spec *s, int h, int w, int c)
{
    *s = (struct encoder_spec){.h = h, .w = w, .c = c, .n_conv = 3, .feat = 64};
    const int k[] = {8, 4, 3}, st[] = {4, 2, 1}, ch[] = {32, 64, 64};
    for (int l = 0; l < 3; l++) {
        s->kernel[l] = k[l];
        s->stride[l] = st[l];
        s->ch[l] = ch[l];
    }
}

void encoder_spec_drq(struct encoder_spec *s, int h, int w, int c)
{
    *s = (struct encoder_spec){.h = h, .w = w, .c = c, .n_conv = 3, .feat = 64};
    const int st[] = {2, 2, 1};
    for (int l = 0; l < 3; l++) {
        s->kernel[l] = 3;
        s->stride[l] = st[l];
        s->ch[l] = 32;
    }
}

// input channels of conv l
static int in_ch(const struct encoder *e, int l)
{
    return l ? e->sp.ch[l - 1] : e->sp.c;
}

// sizes of conv l: input height/width, kernel columns K = k*k*C_in, output rows per image
static void conv_geom(const struct encoder *e, int l, int *ih, int *iw, int *K)
{
    *ih = l ? e->oh[l - 1] : e->sp.h;
    *iw = l ? e->ow[l - 1] : e->sp.w;
    *K = e->sp.kernel[l] * e->sp.kernel[l] * in_ch(e, l);
}

static int spec_check(const struct encoder_spec *sp, char *err, size_t errlen)
{
    if (sp->h < 1 || sp->w < 1 || sp->c < 1 || sp->h > 4096 || sp->w > 4096 || sp->c > 16 ||
        sp->n_conv < 1 || sp->n_conv > ENCODER_MAX_CONV || sp->feat < 1 || sp->feat > 65536) {
        snprintf(err, errlen, "encoder: bad shape %dx%dx%d, %d convs, %d features", sp->h, sp->w,
                 sp->c, sp->n_conv, sp->feat);
        return -1;
    }
    for (int l = 0; l < sp->n_conv; l++)
        if (sp->ch[l] < 1 || sp->ch[l] > 4096 || sp->stride[l] < 1 || sp->kernel[l] < 1) {
            snprintf(err, errlen, "encoder: conv %d has %d channels, kernel %d, stride %d", l,
                     sp->ch[l], sp->kernel[l], sp->stride[l]);
            return -1;
        }
    return 0;
}

struct encoder *encoder_new(const struct encoder_spec *sp, char *err, size_t errlen)
{
    char dummy[8];
    if (!err)
        err = dummy, errlen = sizeof(dummy);
    if (spec_check(sp, err, errlen) < 0)
        return NULL;
    struct encoder *e = calloc(1, sizeof(*e));
    if (!e)
        return snprintf(err, errlen, "out of memory"), NULL;
    e->sp = *sp;
    size_t n = 0;
    for (int l = 0; l < sp->n_conv; l++) {
        int ih, iw, K;
        conv_geom(e, l, &ih, &iw, &K);
        int k = sp->kernel[l];
        e->oh[l] = ih >= k ? (ih - k) / sp->stride[l] + 1 : 0;
        e->ow[l] = iw >= k ? (iw - k) / sp->stride[l] + 1 : 0;
        if (e->oh[l] < 1 || e->ow[l] < 1) {
            snprintf(err, errlen, "encoder: a %dx%d map is too small for conv %d", ih, iw, l);
            encoder_destroy(&e);
            return NULL;
        }
        e->w[l] = n;
        n += (size_t)sp->ch[l] * K;
        e->b[l] = n;
        n += (size_t)sp->ch[l];
    }
    int L = sp->n_conv;
    e->flat = e->oh[L - 1] * e->ow[L - 1] * sp->ch[L - 1];
    e->w[L] = n;
    n += (size_t)sp->feat * e->flat;
    e->b[L] = n;
    n += (size_t)sp->feat;
    e->n_params = n;
    e->params = calloc(n, sizeof(float));
    e->grads = calloc(n, sizeof(float));
    if (!e->params || !e->grads) {
        snprintf(err, errlen, "out of memory");
        encoder_destroy(&e);
    }
    return e;
}

void encoder_destroy(struct encoder **pe)
{
    struct encoder *e = pe ? *pe : NULL;
    if (!e)
        return;
    free(e->params);
    free(e->grads);
    free(e);
    *pe = NULL;
}

void encoder_init(struct encoder *e, struct rng *g)
{
    memset(e->params, 0, e->n_params * sizeof(float));
    for (int l = 0; l <= e->sp.n_conv; l++) {
        int ih, iw, K = e->flat;
        if (l < e->sp.n_conv)
            conv_geom(e, l, &ih, &iw, &K);
        double a = 1.0 / sqrt((double)K);
        for (size_t i = e->w[l]; i < e->b[l]; i++)
            e->params[i] = (float)rng_range(g, -a, a);
    }
}

void encoder_zero_grad(struct encoder *e)
{
    memset(e->grads, 0, e->n_params * sizeof(float));
}

size_t encoder_image_bytes(const struct encoder *e)
{
    return (size_t)e->sp.h * e->sp.w * e->sp.c;
}

// ---- ctx -------------------------------------------------------------------------------------

void encoder_ctx_destroy(struct encoder_ctx **pc)
{
    struct encoder_ctx *c = pc ? *pc : NULL;
    if (!c)
        return;
    free(c->x0);
    for (int l = 0; l < ENCODER_MAX_CONV; l++)
        free(c->y[l]);
    free(c->out);
    free(c->cols);
    free(c->d0);
    free(c->d1);
    free(c);
    *pc = NULL;
}

struct encoder_ctx *encoder_ctx_new(const struct encoder *e, int max_batch)
{
    if (max_batch < 1)
        return NULL;
    struct encoder_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    size_t B = (size_t)max_batch, cols = 0, act = encoder_image_bytes(e);
    c->max_batch = max_batch;
    c->x0 = malloc(B * encoder_image_bytes(e) * sizeof(float));
    bool ok = c->x0 != NULL;
    for (int l = 0; l < e->sp.n_conv; l++) {
        int ih, iw, K;
        conv_geom(e, l, &ih, &iw, &K);
        size_t rows = (size_t)e->oh[l] * e->ow[l];
        cols = RL_MAX(cols, rows * K);
        act = RL_MAX(act, rows * e->sp.ch[l]);
        c->y[l] = malloc(B * rows * e->sp.ch[l] * sizeof(float));
        ok = ok && c->y[l];
    }
    c->out = malloc(B * e->sp.feat * sizeof(float));
    c->cols = malloc(B * cols * sizeof(float));
    c->d0 = malloc(B * RL_MAX(act, (size_t)e->sp.feat) * sizeof(float));
    c->d1 = malloc(B * act * sizeof(float));
    if (!ok || !c->out || !c->cols || !c->d0 || !c->d1)
        encoder_ctx_destroy(&c);
    return c;
}

const float *encoder_input(const struct encoder_ctx *c)
{
    return c->x0;
}

// ---- im2col ----------------------------------------------------------------------------------

// cols (B*oh*ow, k*k*C) from x (B, ih, iw, C): row (b, i, j) holds x[b, i*s+ky, j*s+kx, :]
static void im2col(const float *x, float *cols, int B, int ih, int iw, int C, int k, int s, int oh,
                   int ow)
{
    size_t run = (size_t)k * C; /* kx and c are contiguous in x */
    for (int b = 0; b < B; b++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                const float *src = x + (((size_t)b * ih + (size_t)i * s) * iw + (size_t)j * s) * C;
                for (int ky = 0; ky < k; ky++, cols += run)
                    memcpy(cols, src + (size_t)ky * iw * C, run * sizeof(float));
            }
}

// dx (B, ih, iw, C) += the scatter of dcols (the adjoint of im2col); dx is zeroed first
static void col2im(const float *dcols, float *dx, int B, int ih, int iw, int C, int k, int s,
                   int oh, int ow)
{
    size_t run = (size_t)k * C;
    memset(dx, 0, (size_t)B * ih * iw * C * sizeof(float));
    for (int b = 0; b < B; b++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                float *dst = dx + (((size_t)b * ih + (size_t)i * s) * iw + (size_t)j * s) * C;
                for (int ky = 0; ky < k; ky++, dcols += run) {
                    float *d = dst + (size_t)ky * iw * C;
                    for (size_t q = 0; q < run; q++)
                        d[q] += dcols[q];
                }
            }
}

// ---- forward / backward ------------------------------------------------------------------

const float *encoder_forward(const struct encoder *e, struct encoder_ctx *c, const uint8_t *img,
                             int B)
{
    RL_ASSERT(B >= 1 && B <= c->max_batch);
    c->B = B;
    size_t n = (size_t)B * encoder_image_bytes(e);
    for (size_t i = 0; i < n; i++)
        c->x0[i] = (float)img[i] * (1.0f / 255.0f) - 0.5f;
    const float *x = c->x0;
    for (int l = 0; l < e->sp.n_conv; l++) {
        int ih, iw, K, N = e->sp.ch[l];
        conv_geom(e, l, &ih, &iw, &K);
        int M = B * e->oh[l] * e->ow[l];
        im2col(x, c->cols, B, ih, iw, in_ch(e, l), e->sp.kernel[l], e->sp.stride[l], e->oh[l],
               e->ow[l]);
        // y (M, N) = cols (M, K) W^T, then + b and ReLU
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, c->cols, K,
                    e->params + e->w[l], K, 0.0f, c->y[l], N);
        const float *bias = e->params + e->b[l];
        float *y = c->y[l];
        for (int r = 0; r < M; r++, y += N)
            for (int q = 0; q < N; q++)
                y[q] = y[q] + bias[q] > 0.0f ? y[q] + bias[q] : 0.0f;
        x = c->y[l];
    }
    int L = e->sp.n_conv, F = e->sp.feat;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, F, e->flat, 1.0f, x, e->flat,
                e->params + e->w[L], e->flat, 0.0f, c->out, F);
    const float *bias = e->params + e->b[L];
    for (int r = 0; r < B; r++)
        for (int q = 0; q < F; q++)
            c->out[(size_t)r * F + q] = tanhf(c->out[(size_t)r * F + q] + bias[q]);
    return c->out;
}

// db (N) += column sums of d (M, N)
static void add_colsum(float *db, const float *d, int M, int N)
{
    for (int r = 0; r < M; r++, d += N)
        for (int q = 0; q < N; q++)
            db[q] += d[q];
}

// backward through conv l: dy (M, N) is dL/d(output before ReLU masking); writes dL/dx into
// dx unless l == 0 (images have no gradient)
static void conv_backward(struct encoder *e, struct encoder_ctx *c, int l, float *dy, float *dx)
{
    int ih, iw, K, N = e->sp.ch[l], B = c->B;
    conv_geom(e, l, &ih, &iw, &K);
    int M = B * e->oh[l] * e->ow[l];
    const float *y = c->y[l];
    for (size_t i = 0; i < (size_t)M * N; i++)
        dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    const float *x = l ? c->y[l - 1] : c->x0;
    im2col(x, c->cols, B, ih, iw, in_ch(e, l), e->sp.kernel[l], e->sp.stride[l], e->oh[l],
           e->ow[l]);
    // dW (N, K) += dy^T cols; db += colsum dy
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, M, 1.0f, dy, N, c->cols, K, 1.0f,
                e->grads + e->w[l], K);
    add_colsum(e->grads + e->b[l], dy, M, N);
    if (l == 0)
        return;
    // dcols (M, K) = dy W, scattered back onto the input map
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, N, 1.0f, dy, N,
                e->params + e->w[l], K, 0.0f, c->cols, K);
    col2im(c->cols, dx, B, ih, iw, in_ch(e, l), e->sp.kernel[l], e->sp.stride[l], e->oh[l],
           e->ow[l]);
}

void encoder_backward(struct encoder *e, struct encoder_ctx *c, const float *d_feat)
{
    int B = c->B, L = e->sp.n_conv, F = e->sp.feat;
    // head: dz = d_feat (1 - out^2); dWh += dz^T x; dbh += colsum dz; dx = dz Wh
    float *dz = c->d0;
    for (size_t i = 0; i < (size_t)B * F; i++)
        dz[i] = d_feat[i] * (1.0f - c->out[i] * c->out[i]);
    const float *x = c->y[L - 1];
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, F, e->flat, B, 1.0f, dz, F, x, e->flat,
                1.0f, e->grads + e->w[L], e->flat);
    add_colsum(e->grads + e->b[L], dz, B, F);
    float *dy = c->d1, *dx = c->d0;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, e->flat, F, 1.0f, dz, F,
                e->params + e->w[L], e->flat, 0.0f, dy, e->flat);
    for (int l = L - 1; l >= 0; l--) {
        conv_backward(e, c, l, dy, dx);
        float *t = dy;
        dy = dx;
        dx = t;
    }
}

// ---- augmentation ------------------------------------------------------------------------

void encoder_random_shift(const uint8_t *in, uint8_t *out, int B, int h, int w, int c, int pad,
                          struct rng *g)
{
    size_t img = (size_t)h * w * c;
    for (int b = 0; b < B; b++, in += img, out += img) {
        int dy = (int)rng_below(g, (uint64_t)(2 * pad + 1)) - pad;
        int dx = (int)rng_below(g, (uint64_t)(2 * pad + 1)) - pad;
        // out[i, j] = in[clamp(i + dy), clamp(j + dx)]: the replicate-padded image, cropped
        for (int i = 0; i < h; i++) {
            int si = RL_MIN(RL_MAX(i + dy, 0), h - 1);
            const uint8_t *row = in + (size_t)si * w * c;
            uint8_t *o = out + (size_t)i * w * c;
            for (int j = 0; j < w; j++) {
                int sj = RL_MIN(RL_MAX(j + dx, 0), w - 1);
                memcpy(o + (size_t)j * c, row + (size_t)sj * c, (size_t)c);
            }
        }
    }
}
