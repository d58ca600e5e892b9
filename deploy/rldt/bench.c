/*
 * bench.c — `rldt bench <target>`: dispatch to one benchmark; the helpers benchmarks share.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "deploy/rldt/cmd.h"

struct target {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct target targets[] = {
    {"nn", bench_nn, "forward+backward+Adam GFLOP/s of policy and critic shapes vs raw sgemm"},
    {"env", bench_env, "vectorised env steps/s vs raw mj_step on the same model"},
    {"learner", bench_learner, "training updates/s and GFLOP/s vs raw sgemm (--algo=sac)"},
    {"ingest", bench_ingest, "chunk steps/s a learner stores vs raw ZeroMQ, same message size"},
    {"actor", bench_actor, "actor env steps/s with the flow policy vs 1/(physics + FLOPs/sgemm)"},
    {"wire", bench_wire, "segment pack and decode+validate time vs memcpy of the same bytes"},
    {"replay", bench_replay, "replay save/load (checkpoint, --resume) vs raw write+fsync/read"},
    {"fleet", bench_fleet,
     "N simulated actors on one real learner: broadcast latency, ingest, CPU"},
    {"render", bench_render, "headless frames/s at 84, 96, 480 px vs the physics of one env step"},
    {"encoder", bench_encoder, "image encoder fwd+bwd (two CNNs) vs the small ViT's GEMMs, sgemm"},
    {"soak", bench_soak, "learner and actor RSS slopes over --minutes=N of a run (leak check)"},
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return v[n / 2];
}

double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double bench_sgemm_rate(int m, int n, int k, double secs)
{
    return bench_sgemm_rate_on(m, n, k, secs, rl_now);
}

double bench_sgemm_rate_on(int m, int n, int k, double secs, double (*now)(void))
{
    float *buf = calloc((size_t)m * k + (size_t)n * k + (size_t)m * n, sizeof(float));
    if (!buf)
        return 0;
    float *A = buf, *B = A + (size_t)m * k, *C = B + (size_t)n * k;
    for (size_t i = 0; i < (size_t)m * k + (size_t)n * k; i++)
        buf[i] = (float)(i % 7) * 0.1f;
    /* one untimed call warms caches and OpenBLAS's thread pool */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, A, k, B, k, 0.0f, C, n);
    long it = 0;
    double t0 = now(), t = t0;
    for (; t - t0 < secs || it < 3; it++, t = now())
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, A, k, B, k, 0.0f, C, n);
    free(buf);
    return it * 2.0 * m * n * k / (t - t0) / 1e9;
}

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: rldt bench <target> [--key=value ...]\n\ntargets:\n");
        for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
            fprintf(f, "  %-8s %s\n", targets[i].name, targets[i].help);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
        if (!strcmp(argv[1], targets[i].name))
            return targets[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "rldt bench: unknown target '%s' (see rldt bench --help)\n", argv[1]);
    return 2;
}
