/*
 * demo.c — `rldt demo`: run the scripted demonstrators (actor/demo.h) of a table-top task on M
 * envs for N complete episodes and record them into a dataset file (common/dataset.h), each
 * episode labelled with its success and strategy id; prints the success rate and the episodes
 * per strategy. The envs step one action at a time (a vecenv of chunk 1). The file is written
 * once at the end (atomically): an interrupted run leaves no file. With --pixels=1 each step's
 * observation (and each episode's final one) is also pictured by the task's pixel_camera at
 * image_size (actor/pixcam.h) into the dataset's images.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/demo.h"
#include "actor/pixcam.h"
#include "actor/rollout.h"
#include "actor/vecenv.h"
#include "common/config.h"
#include "common/dataset.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define DEMO_USAGE                                                                                 \
    "rldt demo --env=lift|stack|peg --episodes=N --out=FILE.dset [--demo-noise=S] [--seed=N]\n"    \
    "          [--num-envs=M] [--max-episode-steps=T] [--force]\n"                                 \
    "          [--pixels=1 [--image-size=N] [--pixel-camera=NAME]]"

// the keys `rldt demo --help` lists
#define DEMO_KEYS                                                                                  \
    "-env,-seed,-num_envs,-max_episode_steps,-model_file,-episodes,-out,-demo_noise,-force,"       \
    "-pixels,-image_size,-pixel_camera"

// demonstrator streams, apart from the env streams 0..M-1 and the eval policy stream
#define DEMO_STREAM (1ull << 42)

struct recorder {
    struct rl_config c;
    struct vecenv *v;
    struct pixcam *cam; /* --pixels: the camera of v, NULL otherwise */
    uint8_t *img;       /* --pixels: per env (T, image bytes) */
    size_t ib;          /* image bytes, 0 without --pixels */
    int M, O, A, T;
    struct demo *demo;      /* (M) */
    float *obs, *act, *rew; /* per env: (T, O), (T, A), (T) */
    long *len;              /* (M) steps of each running episode */
    float *step_act;        /* (M, A) */
    int *quota;             /* episodes each env still has to record */
    unsigned char *active;  /* (M) */
    struct dataset ds;
    long per_strategy[DEMO_STRATEGIES], successes;
};

static void recorder_fini(struct recorder *r)
{
    vecenv_destroy(&r->v);
    pixcam_destroy(&r->cam);
    free(r->img);
    free(r->demo);
    free(r->obs);
    free(r->act);
    free(r->rew);
    free(r->len);
    free(r->step_act);
    free(r->quota);
    free(r->active);
    dataset_fini(&r->ds);
}

// --pixels: a camera on every env, the dataset's images, per-env image buffers
static int setup_camera(struct recorder *r, char *err, size_t errlen)
{
    int side = r->c.image_size;
    r->cam = pixcam_new(vecenv_model(r->v), side, r->c.pixel_camera, err, errlen);
    if (!r->cam)
        return -EINVAL;
    int rc = pixcam_attach(r->cam, r->v);
    if (rc == 0)
        rc = dataset_set_images(&r->ds, side, side, 3);
    r->ib = (size_t)side * side * 3;
    r->img = rc ? NULL : malloc((size_t)r->M * r->T * r->ib);
    if (rc || !r->img) {
        snprintf(err, errlen, "camera: %s", rc ? strerror(-rc) : "out of memory");
        return rc ? rc : -ENOMEM;
    }
    return 0;
}

static int recorder_init(struct recorder *r, char *err, size_t errlen)
{
    int rc;
    struct vecenv_config vc;
    vecenv_config_default(&vc);
    vc.task = r->c.env;
    vc.model_file = r->c.model_file;
    vc.num_envs = r->c.num_envs < r->c.episodes ? r->c.num_envs : r->c.episodes;
    vc.chunk = 1;
    vc.max_episode_steps = r->c.max_episode_steps;
    vc.seed = (uint64_t)r->c.seed;
    if (!(r->v = vecenv_new(&vc, err, errlen)))
        return -EINVAL;
    r->M = vc.num_envs;
    r->O = vecenv_obs_dim(r->v);
    r->A = vecenv_act_dim(r->v);
    r->T = vc.max_episode_steps;
    size_t M = (size_t)r->M, T = (size_t)r->T;
    r->demo = calloc(M, sizeof(*r->demo));
    r->obs = calloc(M * T * (size_t)r->O, sizeof(float));
    r->act = calloc(M * T * (size_t)r->A, sizeof(float));
    r->rew = calloc(M * T, sizeof(float));
    r->len = calloc(M, sizeof(long));
    r->step_act = calloc(M * (size_t)r->A, sizeof(float));
    r->quota = calloc(M, sizeof(int));
    r->active = calloc(M, 1);
    if (!r->demo || !r->obs || !r->act || !r->rew || !r->len || !r->step_act || !r->quota ||
        !r->active || dataset_init(&r->ds, r->c.env, r->O, r->A) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < r->M; i++) {
        if (demo_init(&r->demo[i], r->c.env, r->c.demo_noise, (uint64_t)r->c.seed,
                      DEMO_STREAM + (uint64_t)i) < 0) {
            snprintf(err, errlen, "no scripted demonstrator for task %s (lift, stack, peg)",
                     r->c.env);
            return -EINVAL;
        }
        demo_begin(&r->demo[i]);
        r->quota[i] = r->c.episodes / r->M + (i < r->c.episodes % r->M);
        r->active[i] = 1;
    }
    if (r->c.pixels && (rc = setup_camera(r, err, errlen)) < 0)
        return rc;
    char pix[CONFIG_STR + 64] = "";
    if (r->ib)
        snprintf(pix, sizeof(pix), " --pixels=1 --image-size=%d --pixel-camera=%s", r->c.image_size,
                 r->c.pixel_camera);
    int n = snprintf(r->ds.source, sizeof(r->ds.source),
                     "rldt demo --env=%s --episodes=%d --demo-noise=%g --seed=%lld%s", r->c.env,
                     r->c.episodes, r->c.demo_noise, (long long)r->c.seed, pix);
    if (n >= (int)sizeof(r->ds.source)) /* a provenance note: a cut one ends in "..." */
        memcpy(r->ds.source + sizeof(r->ds.source) - 4, "...", 4);
    return 0;
}

// store env i's finished episode with its labels, start its next one
static int finish_episode(struct recorder *r, int i, const struct vecenv_result *res)
{
    size_t O = (size_t)r->O, A = (size_t)r->A, T = (size_t)r->T;
    const float *fo = vecenv_final_obs(r->v) + (size_t)i * O;
    int flags = res->terminated ? DATASET_EP_TERMINATED : DATASET_EP_TIMELIMIT;
    int rc = dataset_add_episode(&r->ds, r->len[i], r->obs + i * T * O, r->act + i * T * A,
                                 r->rew + i * T, fo, flags);
    if (rc == 0 && r->ib)
        rc = dataset_add_images(&r->ds, r->img + (size_t)i * T * r->ib,
                                vecenv_final_images(r->v) + (size_t)i * r->ib);
    if (rc == 0)
        rc = dataset_label_last(&r->ds, res->success, r->demo[i].strategy);
    r->per_strategy[r->demo[i].strategy]++;
    r->successes += res->success;
    r->len[i] = 0;
    if (--r->quota[i] == 0)
        r->active[i] = 0;
    demo_begin(&r->demo[i]);
    return rc;
}

// one env step for every active env: act, record, store finished episodes; returns 0 or -errno
static int record_step(struct recorder *r)
{
    size_t O = (size_t)r->O, A = (size_t)r->A, T = (size_t)r->T;
    const float *obs = vecenv_obs(r->v);
    for (int i = 0; i < r->M; i++) {
        if (!r->active[i])
            continue;
        float *a = r->step_act + (size_t)i * A;
        demo_act(&r->demo[i], obs + (size_t)i * O, a);
        memcpy(r->obs + (i * T + (size_t)r->len[i]) * O, obs + (size_t)i * O, O * sizeof(float));
        memcpy(r->act + (i * T + (size_t)r->len[i]) * A, a, A * sizeof(float));
        if (r->ib)
            memcpy(r->img + (i * T + (size_t)r->len[i]) * r->ib,
                   vecenv_images(r->v) + (size_t)i * r->ib, r->ib);
    }
    int rc = vecenv_step(r->v, r->step_act, r->active);
    const struct vecenv_result *res = vecenv_results(r->v);
    for (int i = 0; rc == 0 && i < r->M; i++) {
        if (!r->active[i])
            continue;
        r->rew[i * T + (size_t)r->len[i]] = (float)res[i].reward;
        r->len[i]++;
        if (res[i].done)
            rc = finish_episode(r, i, &res[i]);
    }
    return rc;
}

static void print_summary(const struct recorder *r)
{
    long n = r->ds.n_episodes;
    double lo, hi;
    rollout_wilson(r->successes, n, &lo, &hi);
    printf(
        "demo %s: %ld episodes, %ld steps, success %ld/%ld = %.3f (95%% interval [%.3f, %.3f])\n",
        r->c.env, n, r->ds.n, r->successes, n, n ? (double)r->successes / n : 0.0, lo, hi);
    for (int s = 0; s < DEMO_STRATEGIES; s++)
        printf("  strategy %d (%s): %ld episodes\n", s, demo_strategy_name(r->demo[0].task, s),
               r->per_strategy[s]);
}

int cmd_demo(int argc, char **argv)
{
    struct recorder r = {0};
    int rc = config_cli(&r.c, "rldt demo", DEMO_USAGE, DEMO_KEYS, argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!r.c.out[0]) {
        fprintf(stderr, "rldt demo: --out=FILE is required\nusage: %s\n", DEMO_USAGE);
        return 2;
    }
    if (!r.c.force && access(r.c.out, F_OK) == 0) {
        fprintf(stderr, "rldt demo: %s exists (--force to replace it)\n", r.c.out);
        return 2;
    }
    char err[600];
    if ((rc = recorder_init(&r, err, sizeof(err))) < 0) {
        fprintf(stderr, "rldt demo: %s\n", err);
        recorder_fini(&r);
        return rc == -EINVAL ? 2 : 1;
    }
    while (rc == 0 && r.ds.n_episodes < r.c.episodes)
        rc = record_step(&r);
    if (rc == 0)
        rc = dataset_fit_bounds(&r.ds, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "recording failed: %s", strerror(-rc));
    if (rc == 0)
        rc = dataset_save(&r.ds, r.c.out, err, sizeof(err));
    if (rc == 0)
        print_summary(&r);
    else
        fprintf(stderr, "rldt demo: %s\n", err);
    recorder_fini(&r);
    return rc == 0 ? 0 : 1;
}
