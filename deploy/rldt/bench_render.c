/*
 * bench_render.c — `rldt bench render`: frames/s of the headless renderer (EGL surfaceless,
 * Mesa's software OpenGL) at 84x84, 96x96 and 480x480 from the task's default camera, next to
 * the physics of one env step (frame_skip mj_step) measured on the same model in the same run:
 * the ratio says how much a picture per step costs against simulating that step. Rendering
 * and physics phases alternate. Frames/s is the best round on the wall clock; the costs are CPU
 * time (all of the process's threads: Mesa's rasteriser has its own), which a shared machine's
 * other jobs do not inflate; the ratio is the median over rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/env.h"
#include "actor/render.h"
#include "common/config.h"
#include "common/rng.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define BENCH_ROUNDS 5

/* frame sides; the last row repeats 84 px without shadows and reflections */
static const int sides[] = {84, 96, 480, 84};
#define PLAIN_ROW 3

// physics: env steps (frame_skip mj_step, random ctrl) per CPU second over about secs
static double run_physics(const mjModel *m, mjData *d, int fs, struct rng *r, double secs)
{
    long steps = 0;
    double t0 = rl_now(), t = t0, c0 = bench_cpu_now();
    while (t - t0 < secs) {
        for (int k = 0; k < 8; k++, steps++) {
            for (int j = 0; j < m->nu; j++)
                d->ctrl[j] = rng_range(r, -1.0, 1.0);
            for (int s = 0; s < fs; s++)
                mj_step(m, d);
            if (steps % 200 == 199)
                mj_resetData(m, d);
        }
        t = rl_now();
    }
    return steps / (bench_cpu_now() - c0);
}

// rendering: frames per second (and CPU seconds per frame, all threads) of the states the physics
// phase leaves (one mj_step apart)
static double run_render(struct render *r, const mjModel *m, mjData *d, int cam, uint8_t *rgb,
                         double secs, double *cpu)
{
    long frames = 0;
    double t0 = rl_now(), t = t0, c0 = bench_cpu_now();
    while (t - t0 < secs) {
        mj_step(m, d); /* a new state, untimed at this scale */
        if (render_frame(r, d, cam, rgb) < 0)
            return -1;
        frames++;
        t = rl_now();
    }
    *cpu = (bench_cpu_now() - c0) / frames;
    return frames / (t - t0);
}

// one frame size: best frames/s, best physics env steps per CPU s, median ratio, least CPU s/frame
static int bench_side(const struct rl_config *c, const struct env_model *em, int side, bool plain,
                      double out[4])
{
    const mjModel *m = env_model_mj(em);
    char err[512];
    int cam = render_camera_id(m, c->camera, err, sizeof(err));
    if (cam < -1) {
        fprintf(stderr, "rldt bench render: --camera: %s\n", err);
        return 2;
    }
    struct render *r = render_new(m, side, side, err, sizeof(err));
    mjData *d = mj_makeData(m);
    uint8_t *rgb = malloc((size_t)side * side * 3);
    int rc = 1;
    if (!r || !d || !rgb) {
        fprintf(stderr, "rldt bench render: %s\n", r ? "out of memory" : err);
        goto out;
    }
    if (plain)
        render_set_effects(r, false, false);
    struct rng rng;
    rng_init(&rng, (uint64_t)c->seed, 1ull << 41);
    mj_forward(m, d);
    double secs = c->secs / (2 * BENCH_ROUNDS), ratio[BENCH_ROUNDS];
    double cpu;
    run_render(r, m, d, cam, rgb, 0.05, &cpu); /* warm-up: shaders, textures */
    out[0] = out[1] = 0;
    out[3] = 1e9;
    for (int i = 0; i < BENCH_ROUNDS; i++) {
        double phys = run_physics(m, d, env_model_frame_skip(em), &rng, secs);
        double fps = run_render(r, m, d, cam, rgb, secs, &cpu);
        if (fps <= 0)
            goto out;
        out[3] = RL_MIN(out[3], cpu);
        out[0] = RL_MAX(out[0], fps);
        out[1] = RL_MAX(out[1], phys);
        ratio[i] = cpu * phys; /* CPU time of a frame / CPU time of an env step */
    }
    out[2] = bench_median(ratio, BENCH_ROUNDS);
    rc = 0;
out:
    free(rgb);
    mj_deleteData(d);
    render_destroy(&r);
    return rc;
}

static int keyed_run(struct rl_config *c)
{
    int rc = 0;
    char err[1024];
    struct env_model *em =
        env_model_load(c->env, c->model_file[0] ? c->model_file : NULL, err, sizeof(err));
    if (!em) {
        fprintf(stderr, "rldt bench render: %s\n", err);
        return 2;
    }
    printf("bench render %s: camera=%s frame_skip=%d secs=%g per size (%d alternating rounds; "
           "EGL surfaceless, software OpenGL)\n",
           c->env, c->camera, env_model_frame_skip(em), c->secs, BENCH_ROUNDS);
    printf("  %-15s %10s %14s %20s %22s\n", "size", "frames/s", "CPU ms/frame",
           "physics CPU us/step", "frame / env step (CPU)");
    for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]) && rc == 0; i++) {
        double f[4];
        if ((rc = bench_side(c, em, sides[i], i == PLAIN_ROW, f)) != 0)
            break;
        char size[32];
        snprintf(size, sizeof(size), "%dx%d%s", sides[i], sides[i], i == PLAIN_ROW ? " plain" : "");
        printf("  %-15s %10.1f %14.2f %20.1f %21.0fx\n", size, f[0], 1e3 * f[3], 1e6 / f[1], f[2]);
        fflush(stdout);
    }
    env_model_destroy(&em);
    if (rc == 0)
        printf("  (plain: render_set_effects(r, false, false), no shadows or reflections)\n");
    return rc;
}

static const struct cmd_keyed keyed = {"rldt bench render",
                                       "rldt bench render [--env=TASK] [--camera=NAME] [--secs=S]",
                                       "-env,-model_file,-camera,-secs,-seed", keyed_run};
CMD_KEYED(bench_render, keyed)
