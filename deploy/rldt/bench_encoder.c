/*
 * bench_encoder.c — `rldt bench encoder`: forward + backward of the image encoder
 * (common/encoder.h: the default CNN and the DrQ-style one) on a batch of image_size^2 RGB
 * images, next to the matrix
 * products alone of the small ViT the paper uses (patch 8, depth 1, width 128, 4 heads, MLP
 * 512, a linear read-out of the flattened tokens to the same features): their forward GEMMs
 * and the two GEMMs per product of their backward, nothing else (no softmax, LayerNorm, GELU,
 * im2col), so the ViT figure is a lower bound of its cost. All are also put against the
 * sgemm rate of the same core. Rounds alternate the three; times are CPU seconds, medians.
 */
#include <cblas.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/encoder.h"
#include "common/rng.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define ROUNDS 5

// ---- the ViT's matrix products ------------------------------------------------------------

struct gemm {
    int m, n, k, batch; /* `batch` products of (m, k) x (k, n) */
};

// the ViT's forward products for B images of side s: tokens N = (s/8)^2, width 128
static int vit_gemms(int B, int s, int feat, struct gemm *g)
{
    int N = (s / 8) * (s / 8), T = B * N, W = 128, hd = W / 4;
    int n = 0;
    g[n++] = (struct gemm){T, W, 8 * 8 * 3, 1}; /* patch embedding */
    g[n++] = (struct gemm){T, 3 * W, W, 1};     /* q, k, v */
    g[n++] = (struct gemm){N, N, hd, B * 4};    /* scores per image and head */
    g[n++] = (struct gemm){N, hd, N, B * 4};    /* attention-weighted values */
    g[n++] = (struct gemm){T, W, W, 1};         /* output projection */
    g[n++] = (struct gemm){T, 4 * W, W, 1};     /* MLP up */
    g[n++] = (struct gemm){T, W, 4 * W, 1};     /* MLP down */
    g[n++] = (struct gemm){B, feat, N * W, 1};  /* read-out */
    return n;
}

static double gemm_flops(const struct gemm *g, int n)
{
    double f = 0;
    for (int i = 0; i < n; i++)
        f += 2.0 * g[i].m * g[i].n * g[i].k * g[i].batch;
    return 3 * f; /* forward, and dX and dW in backward */
}

// one forward + backward worth of the products, on scratch a, b, c
static void vit_run(const struct gemm *g, int n, float *a, float *b, float *c)
{
    for (int i = 0; i < n; i++) {
        int m = g[i].m, nn = g[i].n, k = g[i].k;
        for (int j = 0; j < g[i].batch; j++) {
            size_t off = (size_t)j * m * k; /* distinct operands per head/image */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, nn, k, 1, a + off, k, b, nn,
                        0, c + (size_t)j * m * nn, nn);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, nn, 1,
                        c + (size_t)j * m * nn, nn, b, nn, 0, a + off, k);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, nn, m, 1, a + off, k,
                        c + (size_t)j * m * nn, nn, 0, b, nn);
        }
    }
}

// the largest operand of the products (floats)
static size_t vit_scratch(const struct gemm *g, int n, size_t *sa, size_t *sb, size_t *sc)
{
    *sa = *sb = *sc = 0;
    for (int i = 0; i < n; i++) {
        *sa = RL_MAX(*sa, (size_t)g[i].m * g[i].k * g[i].batch);
        *sb = RL_MAX(*sb, (size_t)g[i].k * g[i].n);
        *sc = RL_MAX(*sc, (size_t)g[i].m * g[i].n * g[i].batch);
    }
    return *sa + *sb + *sc;
}

// ---- the CNN -------------------------------------------------------------------------------

static double cnn_flops(const struct encoder *e, int B)
{
    double f = 0;
    for (int l = 0; l < e->sp.n_conv; l++) {
        int cin = l ? e->sp.ch[l - 1] : e->sp.c, K = e->sp.kernel[l] * e->sp.kernel[l] * cin;
        double fw = 2.0 * B * e->oh[l] * e->ow[l] * e->sp.ch[l] * K;
        f += fw * (l ? 3 : 2); /* no input gradient for the first conv */
    }
    return f + 3 * 2.0 * B * e->flat * e->sp.feat;
}

struct cnn_bench {
    struct encoder *e;
    struct encoder_ctx *c;
    uint8_t *img;
    float *d;
    int B;
};

static void cnn_run(struct cnn_bench *b)
{
    encoder_forward(b->e, b->c, b->img, b->B);
    encoder_backward(b->e, b->c, b->d);
}

static int cnn_setup(struct cnn_bench *b, int s, int B, bool drq)
{
    struct encoder_spec sp;
    if (drq)
        encoder_spec_drq(&sp, s, s, 3);
    else
        encoder_spec_default(&sp, s, s, 3);
    char err[200];
    *b = (struct cnn_bench){.e = encoder_new(&sp, err, sizeof(err)), .B = B};
    if (!b->e) {
        fprintf(stderr, "rldt bench encoder: %s\n", err);
        return -1;
    }
    struct rng g;
    rng_init(&g, 1, 0);
    encoder_init(b->e, &g);
    b->c = encoder_ctx_new(b->e, B);
    b->img = malloc((size_t)B * encoder_image_bytes(b->e));
    b->d = malloc((size_t)B * sp.feat * sizeof(float));
    if (!b->c || !b->img || !b->d) {
        fprintf(stderr, "rldt bench encoder: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < (size_t)B * encoder_image_bytes(b->e); i++)
        b->img[i] = (uint8_t)rng_below(&g, 256);
    for (int i = 0; i < B * sp.feat; i++)
        b->d[i] = (float)rng_normal(&g);
    return 0;
}

static void cnn_free(struct cnn_bench *b)
{
    encoder_ctx_destroy(&b->c);
    encoder_destroy(&b->e);
    free(b->img);
    free(b->d);
}

// ---- main ------------------------------------------------------------------------------------

static int keyed_run(struct rl_config *c)
{
    openblas_set_num_threads(c->threads);
    int B = c->batch_size, s = c->image_size;
    struct cnn_bench cnn[2];
    if (cnn_setup(&cnn[0], s, B, false) < 0 || cnn_setup(&cnn[1], s, B, true) < 0) {
        cnn_free(&cnn[0]);
        cnn_free(&cnn[1]);
        return 1;
    }
    struct gemm g[8];
    int ng = vit_gemms(B, s, cnn[0].e->sp.feat, g);
    size_t sa, sb, sc;
    float *scratch = calloc(vit_scratch(g, ng, &sa, &sb, &sc), sizeof(float));
    if (!scratch) {
        fprintf(stderr, "rldt bench encoder: out of memory\n");
        cnn_free(&cnn[0]);
        cnn_free(&cnn[1]);
        return 1;
    }
    double t[3][ROUNDS];
    cnn_run(&cnn[0]); /* warm-up */
    cnn_run(&cnn[1]);
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < 3; k++) {
            int n = 0;
            double t0 = bench_cpu_now();
            for (; n < 1 || bench_cpu_now() - t0 < c->secs; n++)
                if (k < 2)
                    cnn_run(&cnn[k]);
                else
                    vit_run(g, ng, scratch, scratch + sa, scratch + sa + sb);
            t[k][r] = (bench_cpu_now() - t0) / n;
        }
    double peak = bench_sgemm_rate_on(B * 64, 128, 512, c->secs, bench_cpu_now);
    printf("encoder: %dx%d RGB, batch %d, %d OpenBLAS thread(s), sgemm %.1f GFLOP/s "
           "(%dx128x512); CPU ms per fwd+bwd, medians of %d rounds\n",
           s, s, B, c->threads, peak, B * 64, ROUNDS);
    const char *name[3] = {"cnn (default: 8x8/4 32, 4x4/2 64, 3x3/1 64)",
                           "cnn (DrQ-style: 3x3 32ch, strides 2, 2, 1)",
                           "vit (patch 8, width 128), GEMMs only"};
    double f[3] = {cnn_flops(cnn[0].e, B), cnn_flops(cnn[1].e, B), gemm_flops(g, ng)}, m[3];
    for (int k = 0; k < 3; k++) {
        m[k] = bench_median(t[k], ROUNDS);
        printf("  %-45s %8.1f ms %7.2f GFLOP %6.1f GFLOP/s (%.2f of sgemm)\n", name[k], m[k] * 1e3,
               f[k] / 1e9, f[k] / m[k] / 1e9, f[k] / m[k] / 1e9 / peak);
    }
    printf("  time vs the default cnn: DrQ-style %.2f, vit GEMMs alone (%d tokens) %.2f\n",
           m[1] / m[0], (s / 8) * (s / 8), m[2] / m[0]);
    free(scratch);
    cnn_free(&cnn[0]);
    cnn_free(&cnn[1]);
    return 0;
}

static const struct cmd_keyed keyed = {
    "rldt bench encoder",
    "rldt bench encoder [--image-size=S] [--batch-size=B] [--threads=N] "
    "[--secs=S]",
    "env,train,bench", keyed_run};
CMD_KEYED(bench_encoder, keyed)
