/*
 * record.c — see record.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "actor/overlay.h"
#include "actor/record.h"
#include "common/task.h"

int record_fps(const struct env_model *m)
{
    double fps = 1.0 / env_model_dt(m);
    return fps < 1 ? 1 : (int)lround(fps);
}

// render the env's state with its overlay and hand it to the sink
static int shoot(const struct record_spec *s, uint8_t *rgb, const struct record_result *res,
                 bool sparse)
{
    struct render *r = s->render;
    int w = render_width(r), h = render_height(r);
    int rc = render_env(r, s->env, s->camera, rgb);
    if (rc < 0)
        return rc;
    if (s->overlay)
        overlay_episode(rgb, w, h, res->length, res->ret, sparse, res->success);
    return s->sink(s->sink_ctx, rgb, w, h);
}

// one chunk of actions executed open loop, a frame after each step; 1 when the episode ended
static int run_chunk(const struct record_spec *s, const float *acts, int A, float *obs,
                     uint8_t *rgb, struct record_result *res)
{
    bool sparse = env_model_facts(s->model)->sparse;
    for (int k = 0; k < s->chunk; k++) {
        struct env_step_info info;
        int rc = env_step(s->env, acts + (size_t)k * A, A, obs, &info);
        if (rc < 0)
            return rc;
        res->length = info.length;
        res->ret = info.ep_return;
        res->success = res->success || info.success;
        res->truncated = info.truncated && !info.terminated;
        if ((rc = shoot(s, rgb, res, sparse)) < 0)
            return rc;
        res->frames++;
        if (info.terminated || info.truncated)
            return 1;
    }
    return 0;
}

int record_episode(const struct record_spec *s, struct record_result *res)
{
    int O = env_model_obs_dim(s->model), A = env_model_act_dim(s->model);
    size_t npix = (size_t)render_width(s->render) * render_height(s->render) * 3;
    float *obs = malloc(sizeof(float) * (size_t)O);
    float *acts = malloc(sizeof(float) * (size_t)s->chunk * A);
    uint8_t *rgb = malloc(npix);
    struct record_result r = {0};
    int rc = -ENOMEM;
    if (!obs || !acts || !rgb)
        goto out;
    if ((rc = env_reset(s->env, obs)) < 0 ||
        (rc = shoot(s, rgb, &r, env_model_facts(s->model)->sparse)) < 0)
        goto out;
    r.frames = 1;
    do {
        if ((rc = s->act(s->act_ctx, obs, 1, acts)) < 0)
            goto out;
    } while ((rc = run_chunk(s, acts, A, obs, rgb, &r)) == 0);
    if (rc > 0) {
        rc = 0;
        if (res)
            *res = r;
    }
out:
    free(obs);
    free(acts);
    free(rgb);
    return rc;
}
