/*
 * bench_learner.c — `rldt bench learner --algo=A`: training updates/s of an algorithm and the
 * achieved GFLOP/s next to cblas_sgemm measured in the same run.
 *
 * rldt / rldt-delta: the sizes of the [flow], [train] and [rldt] keys (defaults = the published
 * sizes) on the task's dims, a random base policy and a replay of random data. Whole critic
 * rounds (their batched target sampling included) are timed, then actor steps; FLOPs are
 * counted per GEMM (rldt_flops). The sgemm rate is the best of 256×256×256 and
 * 2048×width×width (the flow trunk at the sampling block), measured before, between and after
 * the two phases (the machine is shared: the best is the fair ceiling).
 */
#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/rng.h"
#include "common/task.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"
#include "deploy/rldt/synth.h"
#include "learner/algo/rldt.h"
#include "learner/algo/sac.h"
#include "learner/replay.h"

/* n random chunk steps in segments of 100 (the last step terminal) */
static int fill_random(struct replay *r, int S, int D, long n, struct rng *g)
{
    struct synth_spec sp = {
        .S = S, .D = D, .T = 100, .act_lo = -1, .act_hi = 1, .end = SYNTH_END_TERM};
    return synth_fill_replay(r, g, &sp, n / sp.T);
}

/* SAC updates/s at batch 256, 256-256 nets, Hopper dims (obs 11, act 3, chunk 1) on a replay of
 * random data, with c->threads OpenBLAS threads for about c->secs, beside a 256×256×256 sgemm
 * measured in the same run: one key=value line */
static int bench_sac(const struct rl_config *opts)
{
    struct rl_config c;
    config_default(&c);
    c.batch_size = 256;
    c.sac_hidden = 256;
    c.sac_layers = 2;
    struct algo_dims d = {.obs_dim = 11, .act_dim = 3, .chunk = 1, .D = 3};
    char err[256];
    struct algo *a = sac_ops.create(&c, &d, err, sizeof(err));
    struct replay *r = replay_new(20000, d.obs_dim, d.D);
    struct rng g;
    rng_init(&g, 7, 0);
    int rc = !a || !r ? -ENOMEM : fill_random(r, d.obs_dim, d.D, 20000, &g);
    if (rc) {
        fprintf(stderr, "rldt bench learner: %s\n", a ? "cannot fill the replay" : err);
        goto out_free;
    }
    openblas_set_num_threads(opts->threads);
    double secs = opts->secs, peak = bench_sgemm_rate(256, 256, 256, RL_MIN(secs / 4, 1.0));
    struct algo_report rep = {0};
    for (int i = 0; i < 3; i++) /* warm caches and thread pools */
        sac_ops.train_step(a, r, &rep);
    long n = 0;
    double t0 = rl_now(), t = t0, c0 = bench_cpu_now();
    for (; !rc && t - t0 < secs; t = rl_now())
        if (!(rc = sac_ops.train_step(a, r, &rep)))
            n++;
    double cpu = bench_cpu_now() - c0;
    if (rc) {
        fprintf(stderr, "rldt bench learner: train_step failed (%s)\n", strerror(-rc));
        goto out_free;
    }
    double ups = n / (t - t0), flop = sac_flops_per_step(a);
    printf("sac bench: threads=%d batch=%d hidden=256x2 obs=%d act=%d updates=%ld secs=%.2f "
           "updates_per_s=%.1f mflop_per_update=%.1f gflops=%.1f sgemm256_gflops=%.1f "
           "ratio=%.2f updates_per_cpu_s=%.1f\n",
           opts->threads, c.batch_size, d.obs_dim, d.act_dim, n, t - t0, ups, flop / 1e6,
           ups * flop / 1e9, peak, peak > 0 ? ups * flop / 1e9 / peak : 0, n / cpu);
out_free:
    replay_destroy(&r);
    if (a)
        sac_ops.destroy(a);
    return rc;
}

static double peak(double best, int width, double secs)
{
    best = RL_MAX(best, bench_sgemm_rate(256, 256, 256, secs));
    return RL_MAX(best, bench_sgemm_rate(2048, width, width, secs));
}

struct phase {
    long steps, rounds;
    double secs, cpu; /* wall-clock and process CPU seconds */
};

/* whole critic rounds of R steps for about secs, after one untimed round */
static int critic_phase(struct algo *a, struct replay *r, int R, double secs, struct phase *p)
{
    struct algo_report rep = {0};
    *p = (struct phase){0};
    for (int warm = 1; warm >= 0; warm--) {
        double t0 = rl_now(), c0 = bench_cpu_now();
        do {
            for (int i = 0; i < R; i++)
                if (rldt_critic_step(a, r, &rep) < 0)
                    return -EIO;
            p->steps += warm ? 0 : R;
            p->rounds += !warm;
            p->secs = rl_now() - t0;
            p->cpu = bench_cpu_now() - c0;
        } while (!warm && p->secs < secs);
    }
    return 0;
}

static int actor_phase(struct algo *a, struct replay *r, double secs, struct phase *p)
{
    struct algo_report rep = {0};
    *p = (struct phase){0};
    if (rldt_actor_step(a, r, &rep) < 0)
        return -EIO;
    double t0 = rl_now(), c0 = bench_cpu_now();
    do {
        if (rldt_actor_step(a, r, &rep) < 0)
            return -EIO;
        p->steps++;
        p->secs = rl_now() - t0;
        p->cpu = bench_cpu_now() - c0;
    } while (p->secs < secs);
    return 0;
}

static void print_rldt(const struct rl_config *c, const struct algo_dims *d, struct algo *a,
                       const struct phase *cr, const struct phase *ar, double best)
{
    double fr, fc, fa;
    rldt_flops(a, &fr, &fc, &fa);
    int R = c->rldt_critic_round;
    double cflop = cr->rounds * fr + cr->steps * fc, aflop = ar->steps * fa;
    double cg = cflop / cr->secs / 1e9, ag = aflop / ar->secs / 1e9;
    double all = (cflop + aflop) / (cr->secs + ar->secs) / 1e9;
    // updates/s of the configured mix: actor_every critic steps, then one actor step
    double e = (double)c->rldt_actor_every;
    double mix = (e + 1) / (e * cr->secs / cr->steps + ar->secs / ar->steps);
    printf("rldt bench: algo=%s env=%s threads=%d obs=%d act=%d chunk=%d flow=%dx%d N=%d "
           "critic=%dx%d batch=%d K=%d actor_batch=%d M=%d round=%d reuse=%d blas_kernel=%s\n",
           c->algo, c->env, c->threads, d->obs_dim, d->act_dim, d->chunk, c->flow_hidden,
           c->flow_depth, c->flow_steps, c->rldt_critic_hidden, c->rldt_critic_depth, c->batch_size,
           c->rldt_particles, c->rldt_actor_batch, c->rldt_target_samples, R, c->rldt_target_reuse,
           openblas_get_corename());
    if (c->pixels)
        printf("rldt bench: from pixels: %dx%d images (two encoders; FLOPs below count the "
               "networks after them only)\n",
               c->image_size, c->image_size);
    printf("rldt bench: critic_rows_per_s=%.0f actor_states_per_s=%.0f (batch rows each critic "
           "step trains, states each actor step moves)\n",
           cr->steps / cr->secs * 2 * c->batch_size, ar->steps / ar->secs * c->rldt_actor_batch);
    printf("rldt bench: critic_updates_per_s=%.1f critic_gflops=%.1f "
           "mflop_per_critic_update=%.0f (round targets %.1f GFLOP per %d steps)\n",
           cr->steps / cr->secs, cg, (fr / R + fc) / 1e6, fr / 1e9, R);
    printf("rldt bench: actor_updates_per_s=%.2f actor_gflops=%.1f "
           "gflop_per_actor_update=%.2f\n",
           ar->steps / ar->secs, ag, fa / 1e9);
    printf("rldt bench: critic_updates_per_cpu_s=%.2f actor_updates_per_cpu_s=%.3f (per second "
           "of process CPU time: steadier than wall-clock rates on a shared machine)\n",
           cr->steps / cr->cpu, ar->steps / ar->cpu);
    printf("rldt bench: mixed_updates_per_s=%.1f gflops=%.1f sgemm_gflops=%.1f ratio=%.2f "
           "(critic %.2f, actor %.2f)\n",
           mix, all, best, all / best, cg / best, ag / best);
}

/* one traced critic + actor step into path (rldt_trace), for the PyTorch reference check */
static int trace_rldt(struct algo *a, struct replay *r, const char *path, char *err, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, len, "cannot write %s: %s", path, strerror(errno));
        return -errno;
    }
    int rc = rldt_trace(a, r, f);
    if (fclose(f) != 0 && !rc)
        rc = -EIO;
    if (rc)
        snprintf(err, len, "trace to %s failed: %s", path, strerror(-rc));
    else
        printf("rldt bench: traced one critic and one actor step to %s\n", path);
    return rc;
}

/* RLDT on c->base_policy when set (a pixel policy trains from pixels: the replay keeps random
 * images), else on a random base policy of the config's sizes; NULL with a reason */
static struct algo *make_rldt(const struct rl_config *c, const struct algo_dims *d,
                              struct flow **base, struct rng *g, char *err, size_t errlen)
{
    if (c->base_policy[0])
        return rldt_ops.create(c, d, err, errlen);
    struct flow_spec fs;
    if (flow_spec_from_config(&fs, c, d->obs_dim, d->act_dim, d->chunk, err, errlen) < 0 ||
        !(*base = flow_new(&fs, err, errlen)))
        return NULL;
    flow_init(*base, g);
    return rldt_new(c, d, !strcmp(c->algo, "rldt-delta"), *base, NULL, err, errlen);
}

static int bench_rldt(const struct rl_config *c, const char *trace)
{
    const struct task_info *t = task_find(c->env);
    int chunk = c->chunk > 0 ? c->chunk : 4;
    struct algo_dims d = {t->obs_dim, t->act_dim, chunk, chunk * t->act_dim};
    char err[400] = "";
    struct flow *base = NULL;
    size_t ib = c->pixels ? (size_t)c->image_size * c->image_size * 3 : 0;
    long n = ib ? 10000 : 50000; /* 10000 steps of 84x84 images: 0.2 GB */
    struct replay *r = replay_new_img(n, d.obs_dim, d.D, ib, 100);
    struct rng g;
    rng_init(&g, (uint64_t)c->seed, 77);
    int rc = -EINVAL;
    struct algo *a = make_rldt(c, &d, &base, &g, err, sizeof(err));
    if (!a || !r || fill_random(r, d.obs_dim, d.D, n, &g) < 0)
        goto out_free;
    openblas_set_num_threads(c->threads);
    if (trace) {
        rc = trace_rldt(a, r, trace, err, sizeof(err));
        goto out_free;
    }
    double secs = RL_MIN(c->secs / 4, 1.0), best = peak(0, c->flow_hidden, secs);
    struct phase cr, ar;
    rc = critic_phase(a, r, c->rldt_critic_round, c->secs, &cr);
    best = peak(best, c->flow_hidden, secs);
    if (!rc)
        rc = actor_phase(a, r, c->secs, &ar);
    best = peak(best, c->flow_hidden, secs);
    if (!rc)
        print_rldt(c, &d, a, &cr, &ar, best);
    else
        snprintf(err, sizeof(err), "a training step failed");
out_free:
    if (rc)
        fprintf(stderr, "rldt bench learner: %s\n", err[0] ? err : "out of memory");
    replay_destroy(&r);
    if (a)
        rldt_ops.destroy(a);
    flow_destroy(&base);
    return rc;
}

/* take the hidden --trace=FILE out of argv (it is not a config key); NULL when absent */
static const char *trace_path; /* --trace=FILE, taken out of argv before the config keys */

static int run_learner_bench(struct rl_config *c)
{
    if (trace_path && strcmp(c->algo, "rldt")) {
        fprintf(stderr, "rldt bench learner: --trace needs --algo=rldt\n");
        return 2;
    }
    if (!strcmp(c->algo, "sac"))
        return bench_sac(c) < 0 ? 1 : 0;
    if (!strcmp(c->algo, "rldt") || !strcmp(c->algo, "rldt-delta"))
        return bench_rldt(c, trace_path) < 0 ? 1 : 0;
    fprintf(stderr, "rldt bench learner: no benchmark for algorithm '%s' yet\n", c->algo);
    return 2;
}

static const struct cmd_keyed learner_bench = {
    "rldt bench learner",
    "rldt bench learner [--algo=sac|rldt|rldt-delta] [--secs=S] [--threads=N] [--trace=FILE] "
    "[--key=value ...]\n  rldt: sizes from the [flow], [train] and [rldt] keys "
    "(defaults = published sizes); whole critic rounds, then actor steps; "
    "--base-policy=FILE trains that policy (a pixel policy from pixels, with "
    "--pixels=true and its image_size)",
    "run,env,bench,train,sac,flow,rldt", run_learner_bench};

int bench_learner(int argc, char **argv)
{
    trace_path = cmd_take_flag(&argc, argv, "--trace=");
    return cmd_keyed_main(&learner_bench, argc, argv);
}
