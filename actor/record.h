/*
 * record.h — one episode rendered frame by frame: reset, then the policy's action chunks
 * executed open loop, a picture of the state after the reset and after every env step (the
 * control rate) with the step, return and (sparse tasks) success drawn on it. The frames go to
 * a caller's sink (an MP4 writer, a GIF buffer). Runs on the caller's thread, which must own
 * the renderer (actor/render.h).
 */
#ifndef RL_RECORD_H
#define RL_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "actor/env.h"
#include "actor/render.h"
#include "actor/rollout.h"

/* Takes one finished frame (borrowed for the call: w x h x 3 RGB, top row first). Returns 0,
 * or a negative errno that ends the recording with that code. */
typedef int (*record_sink_fn)(void *ctx, const uint8_t *rgb, int w, int h);

/* What a recorded episode did. */
struct record_result {
    int length;     /* env steps */
    double ret;     /* return */
    bool success;   /* ended in success (sparse tasks) */
    bool truncated; /* hit the time limit */
    long frames;    /* frames passed to the sink: length + 1 */
};

/* What to record: the env (reset by record_episode), its policy and where the frames go. */
struct record_spec {
    const struct env_model *model; /* the env's model (the renderer's too) */
    struct env *env;               /* borrowed; reset by record_episode */
    int chunk;                     /* H: actions per policy call (the policy writes H x act_dim) */
    struct render *render;         /* borrowed */
    int camera;                    /* render_camera_id */
    rollout_act_fn act;            /* called with num_envs = 1 */
    void *act_ctx;
    record_sink_fn sink;
    void *sink_ctx;
    bool overlay; /* draw the step / return / success lines */
};

/*
 * Record one episode as s describes. Allocates a frame and an action buffer for the call.
 * Returns 0 with the outcome in res, or a negative errno: from the env (reset or step), the
 * renderer, the policy or the sink; -ENOMEM. Nullable: res.
 */
int record_episode(const struct record_spec *s, struct record_result *res);

/* Frames per second that play an env's steps in real time: 1 / (timestep x frame skip),
 * rounded, at least 1. */
int record_fps(const struct env_model *m);

#endif
