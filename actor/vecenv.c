/*
 * vecenv.c — M envs of one task on one shared mjModel, stepped by action chunks with early
 * stop and auto-reset. All buffers are allocated in vecenv_new.
 */
#include "actor/vecenv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/util.h"

struct vecenv {
    struct env_model *model;
    struct env **envs; /* (M) */
    int M, H, O, A;
    float *obs;                /* (M, O) */
    float *final_obs;          /* (M, O) */
    struct vecenv_result *res; /* (M) */
    struct vecenv_stats stats;
    struct vecenv_camera cam; /* fn NULL: no images */
    size_t ib;                /* bytes per image */
    uint8_t *img;             /* (M, ib) */
    uint8_t *final_img;       /* (M, ib) */
    int cam_errors;           /* camera failures in the current call */
};

void vecenv_config_from(struct vecenv_config *vc, const struct rl_config *c)
{
    *vc = (struct vecenv_config){
        .task = c->env,
        .model_file = c->model_file,
        .num_envs = c->num_envs,
        .chunk = c->chunk,
        .max_episode_steps = c->max_episode_steps,
        .seed = (uint64_t)c->seed,
    };
}

void vecenv_config_default(struct vecenv_config *c)
{
    *c = (struct vecenv_config){
        .task = "hopper",
        .model_file = NULL,
        .num_envs = 8,
        .chunk = 4,
        .max_episode_steps = 1000,
        .seed = 1,
        .stream = 0,
    };
}

struct vecenv *vecenv_new(const struct vecenv_config *c, char *err, size_t errlen)
{
    if (c->num_envs < 1 || c->chunk < 1 || c->max_episode_steps < 1) {
        snprintf(err, errlen, "num_envs (%d), chunk (%d) and max_episode_steps (%d) must be >= 1",
                 c->num_envs, c->chunk, c->max_episode_steps);
        return NULL;
    }
    struct vecenv *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->model = env_model_load(c->task, c->model_file, err, errlen);
    if (!v->model)
        goto err_free;
    v->M = c->num_envs;
    v->H = c->chunk;
    v->O = env_model_obs_dim(v->model);
    v->A = env_model_act_dim(v->model);
    v->envs = calloc((size_t)v->M, sizeof(*v->envs));
    v->obs = calloc((size_t)v->M * v->O, sizeof(*v->obs));
    v->final_obs = calloc((size_t)v->M * v->O, sizeof(*v->final_obs));
    v->res = calloc((size_t)v->M, sizeof(*v->res));
    if (!v->envs || !v->obs || !v->final_obs || !v->res)
        goto err_nomem;
    for (int i = 0; i < v->M; i++) {
        v->envs[i] = env_new(v->model, c->seed, c->stream + (uint64_t)i, c->max_episode_steps);
        if (!v->envs[i])
            goto err_nomem;
    }
    if (vecenv_reset(v) < 0) {
        snprintf(err, errlen, "MuJoCo failed while resetting %s", c->task);
        goto err_destroy;
    }
    return v;

err_nomem:
    snprintf(err, errlen, "out of memory");
err_destroy:
    vecenv_destroy(&v);
    return NULL;
err_free:
    free(v);
    return NULL;
}

void vecenv_destroy(struct vecenv **pv)
{
    if (!pv || !*pv)
        return;
    struct vecenv *v = *pv;
    for (int i = 0; v->envs && i < v->M; i++)
        env_destroy(&v->envs[i]);
    free(v->envs);
    free(v->obs);
    free(v->final_obs);
    free(v->res);
    free(v->img);
    free(v->final_img);
    env_model_destroy(&v->model);
    free(v);
    *pv = NULL;
}

int vecenv_num_envs(const struct vecenv *v)
{
    return v->M;
}

int vecenv_chunk(const struct vecenv *v)
{
    return v->H;
}

int vecenv_obs_dim(const struct vecenv *v)
{
    return v->O;
}

int vecenv_act_dim(const struct vecenv *v)
{
    return v->A;
}

const struct env_model *vecenv_model(const struct vecenv *v)
{
    return v->model;
}

// picture env i into row i of dst (img or final_img); counts a failure
static void picture(struct vecenv *v, int i, uint8_t *dst)
{
    if (v->cam.fn(v->cam.ctx, v->envs[i], dst + (size_t)i * v->ib) < 0)
        v->cam_errors++;
}

// the final picture of env i is its current one (no reset in between)
static void picture_same(struct vecenv *v, int i)
{
    memcpy(v->final_img + (size_t)i * v->ib, v->img + (size_t)i * v->ib, v->ib);
}

int vecenv_set_camera(struct vecenv *v, const struct vecenv_camera *cam)
{
    if (v->cam.fn || !cam->fn || cam->h < 1 || cam->w < 1 || cam->c < 1 || cam->h > 4096 ||
        cam->w > 4096 || cam->c > 4)
        return -EINVAL;
    size_t ib = (size_t)cam->h * cam->w * cam->c;
    uint8_t *img = calloc((size_t)v->M, ib), *fin = calloc((size_t)v->M, ib);
    if (!img || !fin) {
        free(img);
        free(fin);
        return -ENOMEM;
    }
    v->cam = *cam;
    v->ib = ib;
    v->img = img;
    v->final_img = fin;
    v->cam_errors = 0;
    for (int i = 0; i < v->M; i++) {
        picture(v, i, v->img);
        picture_same(v, i);
    }
    return v->cam_errors ? -EIO : 0;
}

const uint8_t *vecenv_images(const struct vecenv *v)
{
    return v->img;
}

const uint8_t *vecenv_final_images(const struct vecenv *v)
{
    return v->final_img;
}

int vecenv_reset(struct vecenv *v)
{
    int rc = 0;
    for (int i = 0; i < v->M; i++) {
        float *o = v->obs + (size_t)i * v->O;
        if (env_reset(v->envs[i], o) < 0)
            rc = -EFAULT;
        memcpy(v->final_obs + (size_t)i * v->O, o, sizeof(float) * v->O);
        v->res[i] = (struct vecenv_result){0};
        if (v->cam.fn) {
            picture(v, i, v->img);
            picture_same(v, i);
        }
    }
    return rc;
}

// one env's chunk: acts (H, A); writes obs / final_obs rows and r
static void step_one(struct vecenv *v, int i, const float *acts, struct vecenv_result *r)
{
    struct env *e = v->envs[i];
    float *o = v->obs + (size_t)i * v->O;
    float *fo = v->final_obs + (size_t)i * v->O;
    struct env_step_info info;
    *r = (struct vecenv_result){0};
    for (int k = 0; k < v->H; k++) {
        int rc = env_step(e, acts + (size_t)k * v->A, v->A, o, &info);
        RL_ASSERT(rc == 0); // actions were checked, envs are never left done
        r->reward += info.reward;
        r->steps++;
        if (info.terminated || info.truncated)
            break;
    }
    memcpy(fo, o, sizeof(float) * v->O);
    v->stats.env_steps += r->steps;
    if (v->cam.fn)
        picture(v, i, info.terminated || info.truncated ? v->final_img : v->img);
    if (!(info.terminated || info.truncated)) {
        if (v->cam.fn)
            picture_same(v, i);
        return;
    }
    r->terminated = info.terminated;
    r->truncated = info.truncated;
    r->done = true;
    r->nonfinite = info.nonfinite;
    r->success = info.success;
    r->ep_return = info.ep_return;
    r->ep_length = info.length;
    v->stats.episodes++;
    v->stats.nonfinite += info.nonfinite;
    v->stats.successes += info.success;
    env_reset(e, o); // a MuJoCo failure leaves the model's rest state; env.c logs it
    if (v->cam.fn)
        picture(v, i, v->img);
}

int vecenv_step(struct vecenv *v, const float *actions, const unsigned char *active)
{
    size_t per_env = (size_t)v->H * v->A;
    for (int i = 0; i < v->M; i++) {
        if (active && !active[i])
            continue;
        const float *a = actions + i * per_env;
        for (size_t j = 0; j < per_env; j++)
            if (!isfinite(a[j]))
                return -EINVAL;
    }
    v->cam_errors = 0;
    for (int i = 0; i < v->M; i++) {
        if (active && !active[i]) {
            v->res[i] = (struct vecenv_result){0};
            memcpy(v->final_obs + (size_t)i * v->O, v->obs + (size_t)i * v->O,
                   sizeof(float) * v->O);
            if (v->cam.fn)
                picture_same(v, i);
            continue;
        }
        step_one(v, i, actions + i * per_env, &v->res[i]);
    }
    return v->cam_errors ? -EIO : 0;
}

const float *vecenv_obs(const struct vecenv *v)
{
    return v->obs;
}

const float *vecenv_final_obs(const struct vecenv *v)
{
    return v->final_obs;
}

const struct vecenv_result *vecenv_results(const struct vecenv *v)
{
    return v->res;
}

struct vecenv_stats vecenv_stats(const struct vecenv *v)
{
    return v->stats;
}
