/*
 * test_encoder.c — the image encoder (common/encoder.h): forward against a naive direct
 * convolution, gradients against central finite differences, and the random-shift
 * augmentation against an explicit pad-then-crop.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoder.h"
#include "common/rng.h"
#include "tests/harness.h"

// a small encoder: 11x9x3 images, convs 3x3/2 (4 ch) and 2x2/1 (5 ch), 6 features
static struct encoder *small(struct rng *g)
{
    struct encoder_spec sp = {.h = 11, .w = 9, .c = 3, .n_conv = 2, .kernel = {3, 2}, .feat = 6};
    sp.ch[0] = 4;
    sp.ch[1] = 5;
    sp.stride[0] = 2;
    sp.stride[1] = 1;
    struct encoder *e = encoder_new(&sp, NULL, 0);
    if (e) {
        encoder_init(e, g);
        for (int l = 0; l <= sp.n_conv; l++) /* nonzero biases, so they are tested too */
            for (size_t i = e->b[l]; i < (l < sp.n_conv ? e->w[l + 1] : e->n_params); i++)
                e->params[i] = (float)rng_range(g, -0.1, 0.1);
    }
    return e;
}

static void random_images(struct rng *g, uint8_t *img, size_t n)
{
    for (size_t i = 0; i < n; i++)
        img[i] = (uint8_t)rng_below(g, 256);
}

// the encoder written as loops over output pixels, in double
static void naive_forward(const struct encoder *e, const uint8_t *img, int B, double *out)
{
    const struct encoder_spec *sp = &e->sp;
    int h = sp->h, w = sp->w, c = sp->c;
    double *x = malloc(sizeof(double) * (size_t)B * h * w * c);
    for (size_t i = 0; i < (size_t)B * h * w * c; i++)
        x[i] = img[i] / 255.0 - 0.5;
    for (int l = 0; l < sp->n_conv; l++) {
        int k = sp->kernel[l];
        int oh = (h - k) / sp->stride[l] + 1, ow = (w - k) / sp->stride[l] + 1, N = sp->ch[l];
        double *y = malloc(sizeof(double) * (size_t)B * oh * ow * N);
        const float *W = e->params + e->w[l], *bias = e->params + e->b[l];
        for (int b = 0; b < B; b++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int n = 0; n < N; n++) {
                        double s = bias[n];
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                                for (int q = 0; q < c; q++)
                                    s += W[((size_t)n * k * k + ky * k + kx) * c + q] *
                                         x[(((size_t)b * h + i * sp->stride[l] + ky) * w +
                                            j * sp->stride[l] + kx) *
                                               c +
                                           q];
                        y[(((size_t)b * oh + i) * ow + j) * N + n] = s > 0 ? s : 0;
                    }
        free(x);
        x = y;
        h = oh, w = ow, c = N;
    }
    int flat = h * w * c, L = sp->n_conv;
    for (int b = 0; b < B; b++)
        for (int f = 0; f < sp->feat; f++) {
            double s = e->params[e->b[L] + f];
            for (int i = 0; i < flat; i++)
                s += e->params[e->w[L] + (size_t)f * flat + i] * x[(size_t)b * flat + i];
            out[b * sp->feat + f] = tanh(s);
        }
    free(x);
}

static void test_forward_naive(void)
{
    struct rng g;
    rng_init(&g, 7, 0);
    struct encoder *e = small(&g);
    T_CHECK(e != NULL);
    if (!e)
        return;
    int B = 3;
    uint8_t img[3 * 11 * 9 * 3];
    random_images(&g, img, sizeof(img));
    struct encoder_ctx *c = encoder_ctx_new(e, 4);
    const float *y = encoder_forward(e, c, img, B);
    double ref[3 * 6], maxd = 0;
    naive_forward(e, img, B, ref);
    for (int i = 0; i < B * 6; i++)
        maxd = fmax(maxd, fabs(y[i] - ref[i]));
    T_CHECK_MSG(maxd < 1e-5, "max |fast - naive| = %g", maxd);
    // the input is the bytes scaled, exactly
    const float *x = encoder_input(c);
    int exact = 1;
    for (size_t i = 0; i < sizeof(img); i++)
        exact &= x[i] == (float)img[i] * (1.0f / 255.0f) - 0.5f;
    T_CHECK(exact);
    encoder_ctx_destroy(&c);
    encoder_destroy(&e);
}

// L = sum(out * r)
static double loss(struct encoder *e, struct encoder_ctx *c, const uint8_t *img, int B,
                   const float *r)
{
    const float *y = encoder_forward(e, c, img, B);
    double s = 0;
    for (int i = 0; i < B * e->sp.feat; i++)
        s += (double)y[i] * r[i];
    return s;
}

static void test_gradients(void)
{
    struct rng g;
    rng_init(&g, 11, 0);
    struct encoder *e = small(&g);
    T_CHECK(e != NULL);
    if (!e)
        return;
    int B = 2;
    uint8_t img[2 * 11 * 9 * 3];
    random_images(&g, img, sizeof(img));
    float r[2 * 6];
    for (int i = 0; i < B * 6; i++)
        r[i] = (float)rng_range(&g, -1, 1);
    struct encoder_ctx *c = encoder_ctx_new(e, B);
    encoder_zero_grad(e);
    loss(e, c, img, B, r);
    encoder_backward(e, c, r);
    // every parameter: central differences in float with a relative tolerance; where the two
    // one-sided slopes disagree a ReLU switched inside the step, and that parameter is skipped
    double f0 = loss(e, c, img, B, r), worst = 0, eps = 1e-3;
    size_t bad = 0, kinks = 0;
    for (size_t i = 0; i < e->n_params; i++) {
        float p = e->params[i];
        e->params[i] = p + (float)eps;
        double up = (loss(e, c, img, B, r) - f0) / eps;
        e->params[i] = p - (float)eps;
        double dn = (f0 - loss(e, c, img, B, r)) / eps;
        e->params[i] = p;
        if (fabs(up - dn) > 0.02 * fmax(1e-2, fabs(up) + fabs(dn))) {
            kinks++;
            continue;
        }
        double num = (up + dn) / 2, an = e->grads[i];
        double rel = fabs(num - an) / fmax(1e-2, fabs(num) + fabs(an));
        worst = fmax(worst, rel);
        bad += rel > 3e-2;
    }
    printf("info: %zu parameters, %zu skipped at a ReLU kink, worst relative gradient error %.3g\n",
           e->n_params, kinks, worst);
    T_CHECK_MSG(bad == 0, "%zu of %zu gradients off (worst %g)", bad, e->n_params, worst);
    T_CHECK_MSG(kinks < e->n_params / 10, "%zu kinks", kinks);
    // the gradients are not trivially zero
    double norm = 0;
    for (size_t i = 0; i < e->n_params; i++)
        norm += e->grads[i] * e->grads[i];
    T_CHECK(norm > 1e-6);
    encoder_ctx_destroy(&c);
    encoder_destroy(&e);
}

static void test_bad_specs(void)
{
    char err[128] = "";
    struct encoder_spec sp;
    encoder_spec_default(&sp, 16, 16, 3); /* 16 -> 3 -> too small for the 4x4 conv */
    T_CHECK(encoder_new(&sp, err, sizeof(err)) == NULL);
    T_CHECK(strstr(err, "too small") != NULL);
    encoder_spec_default(&sp, 84, 84, 3);
    sp.n_conv = 9;
    T_CHECK(encoder_new(&sp, err, sizeof(err)) == NULL);
    encoder_spec_default(&sp, 84, 84, 3);
    struct encoder *e = encoder_new(&sp, err, sizeof(err));
    T_CHECK(e != NULL);
    if (e) /* 84 -> 20 -> 9 -> 7 */
        T_EQ_INT(e->flat, 7 * 7 * 64);
    encoder_destroy(&e);
    encoder_spec_drq(&sp, 84, 84, 3);
    e = encoder_new(&sp, err, sizeof(err));
    if (e) /* 84 -> 41 -> 20 -> 18 */
        T_EQ_INT(e->flat, 18 * 18 * 32);
    T_CHECK(e != NULL);
    encoder_destroy(&e);
    encoder_destroy(&e); /* NULL: no-op */
}

static void test_random_shift(void)
{
    enum { B = 16, H = 7, W = 5, C = 3, PAD = 2 };
    struct rng g, g2;
    rng_init(&g, 3, 1);
    uint8_t in[B * H * W * C], out[B * H * W * C];
    random_images(&g, in, sizeof(in));
    rng_init(&g, 5, 0);
    g2 = g;
    encoder_random_shift(in, out, B, H, W, C, PAD, &g);
    int match = 1, moved = 0;
    for (int b = 0; b < B; b++) {
        // the same offsets, then an explicit (H+2P)x(W+2P) replicate-padded image and a crop
        int oy = (int)rng_below(&g2, 2 * PAD + 1), ox = (int)rng_below(&g2, 2 * PAD + 1);
        uint8_t padded[(H + 2 * PAD) * (W + 2 * PAD) * C];
        for (int i = 0; i < H + 2 * PAD; i++)
            for (int j = 0; j < W + 2 * PAD; j++) {
                int si = i - PAD < 0 ? 0 : i - PAD >= H ? H - 1 : i - PAD;
                int sj = j - PAD < 0 ? 0 : j - PAD >= W ? W - 1 : j - PAD;
                memcpy(padded + (i * (W + 2 * PAD) + j) * C, in + ((b * H + si) * W + sj) * C, C);
            }
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                match &= !memcmp(out + ((b * H + i) * W + j) * C,
                                 padded + ((i + oy) * (W + 2 * PAD) + j + ox) * C, C);
        moved += oy != PAD || ox != PAD;
    }
    T_CHECK(match);
    T_CHECK_MSG(moved >= B / 2, "%d of %d images shifted", moved, B);
    // pad 0 is the identity
    encoder_random_shift(in, out, B, H, W, C, 0, &g);
    T_CHECK(!memcmp(in, out, sizeof(in)));
}

int main(void)
{
    T_RUN(test_forward_naive);
    T_RUN(test_gradients);
    T_RUN(test_bad_specs);
    T_RUN(test_random_shift);
    return T_DONE("encoder");
}
