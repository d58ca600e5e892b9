/*
 * evalvideo.c — see evalvideo.h. The frames of one episode go to the MP4 writer at the control
 * rate and every stride-th one (at most GIF_MAX_FPS frames per second of simulated time) to the
 * GIF (gif_timing).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/evalvideo.h"
#include "actor/gif.h"
#include "actor/pixcam.h"
#include "actor/record.h"
#include "actor/video.h"
#include "common/log.h"
#include "common/util.h"
#include "proto/tblog.h"

struct evalvideo {
    struct rl_config c;
    long evals;
    bool off; /* rendering or the directory failed: no more videos */
    struct env_model *m;
    struct env *env;
    struct render *r;
    int cam;
    struct tblog *tb;
    bool pixel_policy;
    struct pixcam *pcam; /* the policy's camera (a pixel policy) */
    uint8_t *img;        /* ... its picture of the current observation */
    evalvideo_act_fn act;
    void *act_ctx;
};

// record_episode's policy: a pixel policy gets the picture of its camera first
static int video_act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    struct evalvideo *v = ctx;
    if (v->pcam) {
        int rc = pixcam_take(v->pcam, v->env, v->img);
        if (rc < 0)
            return rc;
    }
    return v->act(v->act_ctx, obs, v->pcam ? v->img : NULL, num_envs, chunks);
}

// the frames' destinations for one episode
struct sinks {
    struct video *mp4;
    struct gif *gif;
    int stride;
    long n;
};

static int sink(void *ctx, const uint8_t *rgb, int w, int h)
{
    struct sinks *s = ctx;
    (void)w;
    (void)h;
    int rc = video_write(s->mp4, rgb);
    if (rc == 0 && s->gif && s->n % s->stride == 0 && gif_add(s->gif, rgb, 2) < 0)
        gif_destroy(&s->gif); /* out of memory: the MP4 still gets its frames */
    s->n++;
    return rc;
}

struct evalvideo *evalvideo_new(const struct rl_config *c, bool pixel_policy)
{
    if (c->video_every <= 0 || !c->run_dir[0])
        return NULL;
    struct evalvideo *v = calloc(1, sizeof(*v));
    if (v) {
        v->c = *c;
        v->pixel_policy = pixel_policy;
    }
    return v;
}

void evalvideo_destroy(struct evalvideo **pv)
{
    if (!pv || !*pv)
        return;
    struct evalvideo *v = *pv;
    pixcam_destroy(&v->pcam);
    free(v->img);
    render_destroy(&v->r);
    env_destroy(&v->env);
    env_model_destroy(&v->m);
    tblog_close(&v->tb);
    free(v);
    *pv = NULL;
}

// model, env, renderer, videos/ and the event file, on first use; 0 or -1 (logged once)
static int setup(struct evalvideo *v)
{
    if (v->r)
        return 0;
    char err[1024], dir[CONFIG_STR + 16];
    int side = v->c.video_size & ~1;
    const char *mf = v->c.model_file[0] ? v->c.model_file : NULL;
    snprintf(dir, sizeof(dir), "%s/videos", v->c.run_dir);
    if (!(v->m = env_model_load(v->c.env, mf, err, sizeof(err))) ||
        !(v->env = env_new(v->m, (uint64_t)v->c.seed, 1ull << 41, v->c.max_episode_steps)) ||
        (v->cam = render_camera_id(env_model_mj(v->m), "default", err, sizeof(err))) < -1 ||
        !(v->r = render_new(env_model_mj(v->m), side, side, err, sizeof(err)))) {
        log_warn("no evaluation videos in this run: %s", v->env ? err : "cannot make the env");
        return -1;
    }
    if (v->pixel_policy) {
        size_t n = (size_t)v->c.image_size * (size_t)v->c.image_size * 3;
        if (!(v->pcam = pixcam_new(v->m, v->c.image_size, v->c.pixel_camera, err, sizeof(err))) ||
            !(v->img = malloc(n))) {
            log_warn("no evaluation videos in this run: the policy's camera: %s",
                     v->pcam ? "out of memory" : err);
            return -1;
        }
    }
    int rc = rl_mkdir_p(dir);
    if (rc < 0) {
        log_warn("no evaluation videos in this run: cannot create %s: %s", dir, strerror(-rc));
        return -1;
    }
    if (!(v->tb = tblog_open(v->c.run_dir, err, sizeof(err))))
        log_warn("evaluation videos without TensorBoard images: %s", err);
    return 0;
}

// the GIF as an image summary; a failed write stops the images, not the MP4s
static void publish_gif(struct evalvideo *v, struct gif *g, uint64_t steps)
{
    size_t len;
    const uint8_t *b = g ? gif_bytes(g, &len) : NULL;
    if (!v->tb || !b)
        return;
    int side = (v->c.video_size & ~1) / 2;
    int rc = tblog_image(v->tb, "eval/video", (int64_t)steps, side, side, b, len);
    if (rc == 0)
        rc = tblog_flush(v->tb);
    if (rc < 0) {
        log_warn("TensorBoard image of the evaluation video: %s (no more images)", strerror(-rc));
        tblog_close(&v->tb);
    }
}

int evalvideo_after_eval(struct evalvideo *v, uint64_t env_steps, evalvideo_act_fn act, void *ctx,
                         int chunk)
{
    if (!v || v->off || v->evals++ % v->c.video_every != 0)
        return 0;
    if (setup(v) < 0) {
        v->off = true;
        return 0;
    }
    char path[CONFIG_STR + 64], err[512];
    snprintf(path, sizeof(path), "%s/videos/eval-%012llu.mp4", v->c.run_dir,
             (unsigned long long)env_steps);
    int side = render_width(v->r), fps = record_fps(v->m);
    int stride, delay;
    gif_timing(fps, &stride, &delay);
    struct sinks s = {video_open(path, side, side, fps, err, sizeof(err)),
                      gif_new(side / 2, side / 2, delay), stride, 0};
    if (!s.mp4) {
        log_warn("evaluation video %s: %s", path, err);
        gif_destroy(&s.gif);
        return 0;
    }
    struct record_spec spec = {.model = v->m,
                               .env = v->env,
                               .chunk = chunk,
                               .render = v->r,
                               .camera = v->cam,
                               .act = video_act,
                               .act_ctx = v,
                               .sink = sink,
                               .sink_ctx = &s,
                               .overlay = true};
    v->act = act;
    v->act_ctx = ctx;
    struct record_result res;
    double t0 = rl_now();
    int rc = record_episode(&spec, &res);
    if (video_close(&s.mp4) < 0 && rc == 0)
        rc = -EIO;
    if (rc == 0) {
        publish_gif(v, s.gif, env_steps);
        log_info("video %s: return %.1f, %d steps (%.1fs)", path, res.ret, res.length,
                 rl_now() - t0);
    } else if (rc == -EINTR) { /* the evaluator is stopping */
        log_info("evaluation video %s cut short", path);
        unlink(path);
    } else {
        log_warn("evaluation video %s failed: %s", path, strerror(-rc));
    }
    gif_destroy(&s.gif);
    return rc == 0;
}
