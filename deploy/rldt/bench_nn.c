/*
 * bench_nn.c — `rldt bench nn`: forward + backward + Adam step of the policy trunk (residual MLP
 * 3×512 ReLU, in 40, out 12) and the critic (MLP 3×256 SiLU, in 23, out 1) at batch 256 and
 * 2048, as GFLOP/s (2·M·N·K per GEMM of the real shapes; Adam and elementwise work are timed
 * but not counted) next to raw cblas_sgemm on the dominant B×W×W shape measured in the same run.
 */
#include <cblas.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/nn.h"
#include "common/optim.h"
#include "common/rng.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define BENCH_ROUNDS 5

struct bench_opts {
    int threads;
    double secs;
    bool json;
};

struct bench_row {
    const char *name;
    int in, out, width, depth;
    enum nn_act act;
    bool residual;
    int batch;
};

static const struct bench_row rows[] = {
    {"policy", 40, 12, 512, 3, NN_ACT_RELU, true, 256},
    {"policy", 40, 12, 512, 3, NN_ACT_RELU, true, 2048},
    {"critic", 23, 1, 256, 3, NN_ACT_SILU, false, 256},
    {"critic", 23, 1, 256, 3, NN_ACT_SILU, false, 2048},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: rldt bench nn [--threads=N] [--secs=S] [--json]\n\n"
               "  --threads=N  OpenBLAS threads (default 1)\n"
               "  --secs=S     seconds per measurement (default 1)\n"
               "  --json       one JSON object per line instead of a table\n");
}

/* 0, 1 (help printed) or -EINVAL (message printed) */
static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
    o->threads = 1;
    o->secs = 1.0;
    o->json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strncmp(a, "--threads=", 10)) {
            long v = strtol(a + 10, &end, 10);
            if (end == a + 10 || *end || v < 1 || v > 256) {
                fprintf(stderr, "rldt bench nn: --threads must be an integer in 1..256\n");
                return -EINVAL;
            }
            o->threads = (int)v;
        } else if (!strncmp(a, "--secs=", 7)) {
            double v = strtod(a + 7, &end);
            if (end == a + 7 || *end || !(v > 0 && v <= 3600)) {
                fprintf(stderr, "rldt bench nn: --secs must be a number in (0, 3600]\n");
                return -EINVAL;
            }
            o->secs = v;
        } else {
            fprintf(stderr, "rldt bench nn: unknown option '%s' (see --help)\n", a);
            return -EINVAL;
        }
    }
    return 0;
}

struct step_times {
    double fwd, bwd, adam, total; /* seconds per step */
};

/* time zero_grad + forward + backward (no d_in) + Adam for about secs */
static void time_steps(struct nn *net, struct nn_ctx *cx, struct optim *o, const float *x,
                       const float *dy, int B, double secs, struct step_times *st)
{
    double tf = 0, tb = 0, ta = 0;
    long it = 0;
    double t0 = rl_now(), t = t0;
    while (t - t0 < secs || it < 3) {
        double a = rl_now();
        nn_zero_grad(net);
        nn_forward(net, cx, x, B);
        double b = rl_now();
        nn_backward(net, cx, dy, NULL);
        double c = rl_now();
        optim_step(o, net->params, net->grads);
        t = rl_now();
        tf += b - a;
        tb += c - b;
        ta += t - c;
        it++;
    }
    st->fwd = tf / it;
    st->bwd = tb / it;
    st->adam = ta / it;
    st->total = (t - t0) / it;
}

/* one row; 0 or -ENOMEM */
static int bench_row(const struct bench_row *r, const struct bench_opts *o, bool header)
{
    struct nn_spec s;
    char err[128];
    int B = r->batch, W = r->width;
    nn_spec_mlp(&s, r->in, r->out, W, r->depth, r->act);
    s.residual = r->residual;
    struct nn *net = nn_new(&s, err, sizeof(err));
    struct nn_ctx *cx = net ? nn_ctx_new(net, B) : NULL;
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = 1e-5f; /* small: keep the weights near init while timing */
    struct optim *opt = net ? optim_new(&oc, net->n_params) : NULL;
    float *x = malloc(sizeof(float) * (size_t)B * r->in);
    float *dy = malloc(sizeof(float) * (size_t)B * r->out);
    int rc = -ENOMEM;
    if (!net || !cx || !opt || !x || !dy)
        goto out_free;
    struct rng rg;
    rng_init(&rg, 1, 0);
    nn_init(net, &rg);
    rng_normal_fill(&rg, x, (long)B * r->in);
    rng_normal_fill(&rg, dy, (long)B * r->out);

    /* warm-up, then interleaved rounds; keep the best of each */
    double gemm = 0;
    struct step_times st = {0, 0, 0, 1e30};
    time_steps(net, cx, opt, x, dy, B, 0, &st);
    st.total = 1e30;
    for (int k = 0; k < BENCH_ROUNDS; k++) {
        double secs = o->secs / BENCH_ROUNDS;
        struct step_times cur;
        double g = bench_sgemm_rate(B, W, W, secs);
        gemm = g > gemm ? g : gemm;
        time_steps(net, cx, opt, x, dy, B, secs, &cur);
        if (cur.total < st.total)
            st = cur;
    }
    double flop = nn_flops_forward(net, B) + nn_flops_backward(net, B, false);
    double rate = flop / st.total / 1e9;
    if (o->json) {
        printf("{\"bench\":\"nn\",\"net\":\"%s\",\"batch\":%d,\"threads\":%d,\"params\":%zu,"
               "\"mflop_per_step\":%.3f,\"ms_per_step\":%.4f,\"ms_forward\":%.4f,"
               "\"ms_backward\":%.4f,\"ms_adam\":%.4f,\"gflops\":%.2f,"
               "\"sgemm_shape\":\"%dx%dx%d\",\"sgemm_gflops\":%.2f,\"ratio\":%.3f}\n",
               r->name, B, o->threads, net->n_params, flop / 1e6, st.total * 1e3, st.fwd * 1e3,
               st.bwd * 1e3, st.adam * 1e3, rate, B, W, W, gemm, rate / gemm);
    } else {
        if (header)
            printf("%-7s %5s %8s %9s %8s %7s %7s %7s %8s %-13s %8s %6s\n", "net", "batch", "params",
                   "MFLOP/st", "ms/step", "fwd", "bwd", "adam", "GFLOP/s", "sgemm shape", "GFLOP/s",
                   "ratio");
        char shape[32];
        snprintf(shape, sizeof(shape), "%dx%dx%d", B, W, W);
        printf("%-7s %5d %8zu %9.1f %8.3f %7.3f %7.3f %7.3f %8.2f %-13s %8.2f %6.3f\n", r->name, B,
               net->n_params, flop / 1e6, st.total * 1e3, st.fwd * 1e3, st.bwd * 1e3, st.adam * 1e3,
               rate, shape, gemm, rate / gemm);
    }
    fflush(stdout);
    rc = 0;
out_free:
    if (rc)
        fprintf(stderr, "rldt bench nn: out of memory\n");
    free(x);
    free(dy);
    optim_destroy(&opt);
    nn_ctx_destroy(&cx);
    nn_destroy(&net);
    return rc;
}

int bench_nn(int argc, char **argv)
{
    struct bench_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    openblas_set_num_threads(o.threads);
    if (!o.json)
        printf("# fwd+bwd(no d_in)+Adam per step, %d OpenBLAS thread(s), best of %d interleaved "
               "rounds in %.2g s per figure; ratio = net GFLOP/s / sgemm GFLOP/s\n",
               o.threads, BENCH_ROUNDS, o.secs);
    for (size_t i = 0; i < RL_ARRAY_LEN(rows); i++)
        if (bench_row(&rows[i], &o, i == 0))
            return 1;
    return 0;
}
