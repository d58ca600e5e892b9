/*
 * bench_actor.c — `rldt bench actor`: the actor's inner loop (flow policy on all M envs at once
 * → one chunk step of the envs) in env steps/s on one core, next to its ceiling
 *   1 / (t_physics + FLOPs_inference / sgemm_rate)      (deploy/rldt/BENCHMARKS.md)
 * with every term measured in the same run, in alternating rounds: t_physics per env step from
 * the same vecenv stepped with random actions (no policy), FLOPs per env step counted from the
 * flow's layers over the env steps the loop executed, the sgemm rate of one thread at
 * 256×512×512 (the peak) and at the trunk's own shape M×W×W. Also the resident memory per env.
 * OpenBLAS runs one thread, as in actors. Every rate is per second of this process's CPU time
 * (bench_cpu_now): on a shared machine, wall-clock rates mostly measure the other jobs.
 * --flow_small_batch=false gives the OpenBLAS-only inference path for an A/B comparison.
 * --pixels=1 instead compares the actor loop with and without its camera (image_size, the task's
 * pixel_camera): CPU per env step of each, in alternating rounds, and the frames/s pictured.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "actor/pixcam.h"
#include "actor/rollout.h"
#include "actor/vecenv.h"
#include "common/config.h"
#include "common/flow.h"
#include "common/policy.h"
#include "common/rng.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define ROUNDS 5

struct bench_run {
    const struct rl_config *c;
    struct vecenv *v;
    struct pixcam *cam; /* --pixels: the camera of v (NULL: none) */
    struct policy *p;
    struct flow *f; /* the same shape, for FLOP counts */
    struct rng rng;
    struct rollout_random rnd;
    float *chunks;
    int M;
    long rss_env; /* kB after the envs were made */
};

// resident set size of this process in kB (0 if unknown)
static long rss_kb(void)
{
    long kb = rl_proc_status_kb(getpid(), "VmRSS");
    return kb > 0 ? kb : 0;
}

// seconds per env step of the vecenv with random actions
static double run_physics(struct bench_run *b, double secs)
{
    long s0 = vecenv_stats(b->v).env_steps;
    double t0 = bench_cpu_now(), t = t0;
    while (t - t0 < secs) {
        for (int k = 0; k < 8; k++) {
            rollout_random_act(&b->rnd, vecenv_obs(b->v), b->M, b->chunks);
            vecenv_step(b->v, b->chunks, NULL);
        }
        t = bench_cpu_now();
    }
    return (t - t0) / (double)(vecenv_stats(b->v).env_steps - s0);
}

// the actor loop: env steps/s and inference FLOPs per env step
static double run_actor(struct bench_run *b, double secs, double *flops_per_step)
{
    long s0 = vecenv_stats(b->v).env_steps, calls = 0;
    double t0 = bench_cpu_now(), t = t0;
    while (t - t0 < secs) {
        for (int k = 0; k < 8; k++) {
            const uint8_t *img = policy_image_bytes(b->p) ? vecenv_images(b->v) : NULL;
            policy_act_img(b->p, vecenv_obs(b->v), img, b->M, &b->rng, false, b->chunks);
            vecenv_step(b->v, b->chunks, NULL);
            calls++;
        }
        t = bench_cpu_now();
    }
    long steps = vecenv_stats(b->v).env_steps - s0;
    *flops_per_step = flow_flops_sample(b->f, b->M) * calls / (double)steps;
    return steps / (t - t0);
}

static int setup(struct bench_run *b, const struct rl_config *c, int M, char *err, size_t errlen)
{
    struct vecenv_config vc;
    vecenv_config_from(&vc, c);
    vc.num_envs = M;
    b->c = c;
    b->M = M;
    b->v = vecenv_new(&vc, err, errlen);
    if (!b->v)
        return -1;
    b->rss_env = rss_kb();
    struct policy_dims d = {vecenv_obs_dim(b->v), vecenv_act_dim(b->v), c->chunk};
    struct flow_spec s;
    if (flow_spec_from_config(&s, c, d.obs_dim, d.act_dim, d.chunk, err, errlen))
        return -1;
    b->f = flow_new(&s, err, errlen);
    b->p = b->f ? policy_new("flow", c, &d, M, err, errlen) : NULL;
    b->chunks = calloc((size_t)M * d.chunk * d.act_dim, sizeof(float));
    if (!b->p || !b->chunks)
        return -1;
    rng_init(&b->rng, (uint64_t)c->seed, 7);
    flow_init(b->f, &b->rng);
    policy_set_params(b->p, b->f->params, b->f->n_params, b->f->layout, err, errlen);
    rollout_random_init(&b->rnd, b->v, (uint64_t)c->seed, 1ull << 40);
    return 0;
}

static void teardown(struct bench_run *b)
{
    vecenv_destroy(&b->v);
    pixcam_destroy(&b->cam);
    policy_destroy(&b->p);
    flow_destroy(&b->f);
    free(b->chunks);
}

// one M: alternating rounds of physics and actor phases; prints a table row
static int bench_one(const struct rl_config *c, int M, double peak)
{
    char err[512];
    struct bench_run b;
    memset(&b, 0, sizeof(b));
    long rss0 = rss_kb();
    if (setup(&b, c, M, err, sizeof(err))) {
        fprintf(stderr, "rldt bench actor: %s\n", err);
        teardown(&b);
        return 1;
    }
    double secs = c->secs / (2 * ROUNDS), fl = 0, ratio[ROUNDS], best = 0, phys_best = 1;
    for (int r = 0; r < ROUNDS; r++) {
        double phys = 0, rate = 0;
        if (r % 2)
            phys = run_physics(&b, secs);
        rate = run_actor(&b, secs, &fl);
        if (r % 2 == 0)
            phys = run_physics(&b, secs);
        ratio[r] = rate * (phys + fl / (peak * 1e9));
        best = RL_MAX(best, rate);
        phys_best = RL_MIN(phys_best, phys);
    }
    double med = bench_median(ratio, ROUNDS);
    long rss1 = rss_kb();
    int W = c->flow_hidden;
    double same = bench_sgemm_rate_on(M, W, W, c->secs / 10, bench_cpu_now);
    double ceil_peak = 1.0 / (phys_best + fl / (peak * 1e9));
    double ceil_same = 1.0 / (phys_best + fl / (same * 1e9));
    printf("%5d %10.0f %9.1f %9.2f %10.0f %7.2f %9.1f %10.0f %7.2f %9.1f %9.1f %9ld\n", M, best,
           phys_best * 1e6, fl / 1e6, ceil_peak, med, same, ceil_same, best / ceil_same,
           (double)(rss1 - rss0) / M, (double)(b.rss_env - rss0) / M, rss1 - b.rss_env);
    teardown(&b);
    return 0;
}

// b's envs pictured by a camera; with pixpol its policy is a pixel policy acting on them (its
// weights zero: the same work as trained ones); 0 or -1 with a reason
static int add_camera(struct bench_run *b, const struct rl_config *c, bool pixpol, char *err,
                      size_t errlen)
{
    b->cam = pixcam_new(vecenv_model(b->v), c->image_size, c->pixel_camera, err, errlen);
    if (!b->cam || pixcam_attach(b->cam, b->v) < 0)
        return -1;
    if (!pixpol)
        return 0;
    struct policy_dims d = {vecenv_obs_dim(b->v), vecenv_act_dim(b->v), c->chunk};
    policy_destroy(&b->p);
    b->p = policy_new("pixflow", c, &d, b->M, err, errlen);
    return b->p ? 0 : -1;
}

// --pixels: the actor loop on M envs without a camera, with one (the state policy), and with a
// pixel policy acting on its pictures; alternating rounds
static int bench_pixels(const struct rl_config *c, int M)
{
    char err[512];
    struct bench_run b[3];
    memset(b, 0, sizeof(b));
    int rc = 0;
    for (int k = 0; k < 3 && !rc; k++)
        rc = setup(&b[k], c, M, err, sizeof(err)) ||
             (k > 0 && add_camera(&b[k], c, k == 2, err, sizeof(err)));
    if (rc) {
        fprintf(stderr, "rldt bench actor: %s\n", err);
        for (int k = 0; k < 3; k++)
            teardown(&b[k]);
        return 1;
    }
    double secs = c->secs / (3 * ROUNDS), fl, us[3][ROUNDS], ratio[ROUNDS], pratio[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < 3; k++) {
            int j = (k + r) % 3;
            us[j][r] = 1e6 / run_actor(&b[j], secs, &fl);
        }
        ratio[r] = us[1][r] / us[0][r];
        pratio[r] = us[2][r] / us[0][r];
    }
    double plain = bench_median(us[0], ROUNDS), pix = bench_median(us[1], ROUNDS);
    double pp = bench_median(us[2], ROUNDS);
    /* one picture per env per chunk step (of H env steps) */
    double frames = 1e6 / (pix * c->chunk), render_us = (pix - plain) * c->chunk;
    printf("%5d %12.1f %12.1f %7.2f %10.0f %11.0f %12.1f %7.2f\n", M, plain, pix,
           bench_median(ratio, ROUNDS), frames, render_us, pp, bench_median(pratio, ROUNDS));
    for (int k = 0; k < 3; k++)
        teardown(&b[k]);
    return 0;
}

int bench_actor(int argc, char **argv)
{
    struct rl_config c;
    const char *usage = "rldt bench actor [--env=TASK] [--num-envs=M] [--secs=S] [--flow-steps=N]"
                        " [--chunk=H] [--flow-hidden=W]\n"
                        "                 [--pixels=1 [--image-size=N] [--pixel-camera=NAME]]\n"
                        "  without --num-envs: M = 1, 8, 32, 128";
    config_default(&c);
    snprintf(c.algo, sizeof(c.algo), "rldt");
    char err[512];
    int rc = config_parse_args(&c, argc, argv, NULL, NULL, err, sizeof(err));
    if (rc == 1) {
        printf("usage: %s\n", usage);
        config_help(stdout, "env,bench,flow");
        return 0;
    }
    if (rc == 0)
        rc = config_validate(&c, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "rldt bench actor: %s\n", err);
        return 2;
    }
    bool given = false;
    for (int i = 1; i < argc; i++)
        given |= !strncmp(argv[i], "--num-envs", 10);
    int list[] = {1, 8, 32, 128};
    int n = given ? 1 : 4;
    if (given)
        list[0] = c.num_envs;
    openblas_set_num_threads(1);
    if (c.pixels) {
        printf("bench actor %s --pixels: %dx%d RGB from camera '%s' (no shadows/reflections), "
               "flow N=%d H=%d, 1 OpenBLAS thread, %d rounds of %.2fs each\n",
               c.env, c.image_size, c.image_size, c.pixel_camera, c.flow_steps, c.chunk, ROUNDS,
               c.secs / (2 * ROUNDS));
        printf("%5s %12s %12s %7s %10s %11s %12s %7s\n", "M", "us/st plain", "us/st pixels",
               "ratio", "frames/s", "us/frame", "us/st pixpol", "ratio");
        for (int i = 0; i < n && !rc; i++)
            rc = bench_pixels(&c, list[i]);
        printf("CPU time of this process per env step of the actor loop (policy + physics), median "
               "over rounds;\nframes/s: pictures per CPU second with the camera (one per env per "
               "chunk step); us/frame: the extra CPU per picture; pixpol: a pixel policy (the "
               "default encoder + the flow) acting on the pictures\n");
        return rc;
    }
    long rss_base = rss_kb();
    double peak = bench_sgemm_rate_on(256, 512, 512, RL_MAX(0.2, c.secs / 5), bench_cpu_now);
    printf("bench actor %s: flow N=%d H=%d width %d depth %d temb %d, 1 OpenBLAS thread, "
           "%d rounds of %.2fs\n",
           c.env, c.flow_steps, c.chunk, c.flow_hidden, c.flow_depth, c.flow_temb, ROUNDS,
           c.secs / (2 * ROUNDS));
    printf("sgemm peak 256x512x512: %.1f GFLOP/s; process RSS before envs %ld kB\n", peak,
           rss_base);
    printf("%5s %10s %9s %9s %10s %7s %9s %10s %7s %9s %9s %9s\n", "M", "steps/s", "phys_us",
           "MFLOP/st", "ceiling", "ratio", "sgemm_M", "ceiling_M", "ratio_M", "kB/env", "envkB/env",
           "policy_kB");
    for (int i = 0; i < n && !rc; i++)
        rc = bench_one(&c, list[i], peak);
    printf("rates per CPU second of this process; steps/s: best round; phys_us: vecenv time per "
           "env step with random actions;\n"
           "ceiling = 1/(phys + FLOPs/peak sgemm); ratio = median over rounds of steps/s / ceiling;"
           "\n*_M: the same with the sgemm rate at the trunk's own shape MxWxW; kB/env: RSS growth"
           " / M,\nof which envkB/env by the vecenv (MuJoCo data) and policy_kB by the policy and "
           "buffers\n");
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        printf("peak RSS of this process: %ld kB\n", ru.ru_maxrss);
    return rc;
}
