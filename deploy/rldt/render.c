/*
 * render.c — `rldt render`: roll a policy out on a task and write the episodes as one H.264 MP4
 * (or, for an --out ending in .gif, one animated GIF, e.g. for a README), a frame per env step
 * (the control rate) with the step, return and success drawn on it. A pixel policy acts on the
 * pictures of its own camera (its config's pixel_camera and image_size), apart from the video's.
 * Headless: MuJoCo renders through EGL's surfaceless platform on the CPU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "actor/gif.h"
#include "actor/pixcam.h"
#include "actor/record.h"
#include "actor/video.h"
#include "common/afile.h"
#include "common/config.h"
#include "common/policy.h"
#include "common/task.h"
#include "deploy/rldt/cmd.h"

#define RENDER_USAGE                                                                               \
    "rldt render --env=TASK --policy=CKPT|random|zero --out=FILE.mp4|FILE.gif [--episodes=N]\n"    \
    "            [--width=W] [--height=H] [--camera=NAME] [--deterministic] [--seed=N]\n"          \
    "            [--max-episode-steps=T] [--model-file=FILE] [--task-plugin=FILE.so]"

#define RENDER_KEYS                                                                                \
    "-env,-task_plugin,-seed,-chunk,-max_episode_steps,-model_file,-episodes,-policy,"             \
    "-deterministic,-out,render"

// the policy's rng stream, apart from the env's stream 0
#define RENDER_POLICY_STREAM (1ull << 40)

struct actor_ctx {
    struct policy *p; /* NULL: random or zero */
    bool zero;
    bool deterministic;
    int n; /* chunk x act_dim */
    struct rng rng;
    struct rl_config pc; /* the policy's config (a pixel policy's camera) */
    struct pixcam *cam;  /* a pixel policy's camera, NULL otherwise */
    const struct env *e; /* ... the env it pictures */
    uint8_t *img;        /* ... and its picture of the current observation */
};

static int act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    struct actor_ctx *a = ctx;
    if (a->cam) { // what the policy sees: its own camera, apart from the video's
        int rc = pixcam_take(a->cam, (struct env *)a->e, a->img);
        if (rc < 0)
            return rc;
    }
    if (a->p)
        policy_act_img(a->p, obs, a->img, num_envs, &a->rng, a->deterministic, chunks);
    else
        for (int i = 0; i < a->n * num_envs; i++)
            chunks[i] = a->zero ? 0.0f : (float)rng_range(&a->rng, -1.0, 1.0);
    return 0;
}

// the output: an MP4 writer, or a GIF built in memory and written at the end
struct out {
    struct video *v;
    struct gif *g;
    int stride; /* a GIF keeps every stride-th frame */
    long seen;
    long frames;
};

static int sink(void *ctx, const uint8_t *rgb, int w, int h)
{
    (void)w;
    (void)h;
    struct out *o = ctx;
    int rc = 0;
    if (!o->g || o->seen++ % o->stride == 0) { // else a frame the GIF skips
        rc = o->g ? gif_add(o->g, rgb, 1) : video_write(o->v, rgb);
        o->frames += rc == 0;
    }
    return rc;
}

static bool is_gif(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && !strcasecmp(path + n - 4, ".gif");
}

// finish the output file: 0, or -errno / -EIO
static int out_close(struct out *o, const char *path)
{
    if (!o->g)
        return video_close(&o->v);
    size_t len;
    const uint8_t *b = gif_bytes(o->g, &len);
    struct afile af;
    int rc = b ? afile_open(&af, path, 0644) : -ENOMEM;
    if (rc == 0 && (rc = afile_write(&af, b, len)) == 0)
        rc = afile_commit(&af);
    else if (b && rc != 0)
        afile_abort(&af);
    gif_destroy(&o->g);
    return rc;
}

// the policy of c->policy (chunk length into c->chunk); 0, or an exit code after saying why
static int load_actor(struct rl_config *c, int act_dim, struct actor_ctx *a)
{
    *a = (struct actor_ctx){.zero = !strcmp(c->policy, "zero"), .deterministic = c->deterministic};
    rng_init(&a->rng, (uint64_t)c->seed, RENDER_POLICY_STREAM);
    if (strcmp(c->policy, "random") != 0 && !a->zero) {
        char err[600];
        struct rl_config *pc = &a->pc;
        if (!(a->p = policy_load_img(c->policy, pc, 1, err, sizeof(err)))) {
            fprintf(stderr, "rldt render: %s\n", err);
            return access(c->policy, F_OK) == 0 ? 1 : 2;
        }
        if (strcmp(pc->env, c->env) != 0) {
            fprintf(stderr, "rldt render: %s was trained on %s; pass --env=%s\n", c->policy,
                    pc->env, pc->env);
            policy_destroy(&a->p);
            return 2;
        }
        c->chunk = pc->chunk;
    }
    a->n = c->chunk * act_dim;
    return 0;
}

// the checks a config parser cannot make; 0 or 2 after saying why
static int check_args(const struct rl_config *c)
{
    if (!c->out[0]) {
        fprintf(stderr, "rldt render: --out=FILE.mp4 (or FILE.gif) is required\n%s\n",
                RENDER_USAGE);
        return 2;
    }
    if ((c->width | c->height) & 1) {
        fprintf(stderr,
                "rldt render: --width and --height must be even (H.264 yuv420p), got %dx%d\n",
                c->width, c->height);
        return 2;
    }
    return 0;
}

struct session {
    struct env_model *m;
    struct env *e;
    struct render *r;
    struct out o;
    struct actor_ctx a;
};

static void session_end(struct session *s)
{
    video_close(&s->o.v);
    gif_destroy(&s->o.g);
    pixcam_destroy(&s->a.cam);
    free(s->a.img);
    render_destroy(&s->r);
    env_destroy(&s->e);
    policy_destroy(&s->a.p);
    env_model_destroy(&s->m);
}

// model, policy, env, renderer, camera, video: 0 or an exit code after saying why
static int session_start(struct rl_config *c, struct session *s, int *cam)
{
    char err[1024];
    if (!(s->m =
              env_model_load(c->env, c->model_file[0] ? c->model_file : NULL, err, sizeof(err)))) {
        fprintf(stderr, "rldt render: %s\n", err);
        return 2;
    }
    int rc = load_actor(c, env_model_act_dim(s->m), &s->a);
    if (rc)
        return rc;
    if ((*cam = render_camera_id(env_model_mj(s->m), c->camera, err, sizeof(err))) < -1) {
        fprintf(stderr, "rldt render: --camera: %s\n", err);
        return 2;
    }
    if (!(s->e = env_new(s->m, (uint64_t)c->seed, 0, c->max_episode_steps)))
        return 1;
    if (s->a.p && policy_image_bytes(s->a.p)) { // a pixel policy: its camera, at its size
        const struct rl_config *pc = &s->a.pc;
        s->a.e = s->e;
        if (!(s->a.cam = pixcam_new(s->m, pc->image_size, pc->pixel_camera, err, sizeof(err)))) {
            fprintf(stderr,
                    "rldt render: %s is a pixel policy and its camera '%s' cannot render: %s\n",
                    c->policy, pc->pixel_camera, err);
            return 1;
        }
        if (!(s->a.img = malloc(policy_image_bytes(s->a.p))))
            return 1;
    }
    if (!(s->r = render_new(env_model_mj(s->m), c->width, c->height, err, sizeof(err)))) {
        fprintf(stderr, "rldt render: cannot render: %s\n", err);
        return 1;
    }
    if (is_gif(c->out)) {
        int delay;
        gif_timing(record_fps(s->m), &s->o.stride, &delay);
        if (!(s->o.g = gif_new(c->width, c->height, delay)))
            return 1;
        if (access(c->out, F_OK) != 0) { // fail now, not after the episodes, on a bad path
            struct afile af;
            if ((rc = afile_open(&af, c->out, 0644)) < 0) {
                fprintf(stderr, "rldt render: cannot create %s: %s\n", c->out, strerror(-rc));
                return 1;
            }
            afile_abort(&af);
        }
    } else if (!(s->o.v =
                     video_open(c->out, c->width, c->height, record_fps(s->m), err, sizeof(err)))) {
        fprintf(stderr, "rldt render: %s\n", err);
        return 1;
    }
    return 0;
}

static int keyed_run(struct rl_config *c)
{
    int rc;
    if ((rc = check_args(c)) != 0)
        return rc;
    struct session s = {0};
    int cam;
    if ((rc = session_start(c, &s, &cam)) != 0) {
        session_end(&s);
        return rc;
    }
    struct record_spec spec = {.model = s.m,
                               .env = s.e,
                               .chunk = c->chunk,
                               .render = s.r,
                               .camera = cam,
                               .act = act,
                               .act_ctx = &s.a,
                               .sink = sink,
                               .sink_ctx = &s.o,
                               .overlay = true};
    for (int i = 0; i < c->episodes && rc == 0; i++) {
        struct record_result res;
        int err = record_episode(&spec, &res);
        if (err < 0) {
            fprintf(stderr, "rldt render: episode %d: %s\n", i + 1, strerror(-err));
            rc = 1;
            break;
        }
        printf("episode %d: return %.3f length %d%s%s\n", i + 1, res.ret, res.length,
               task_find(c->env)->sparse ? (res.success ? " success" : " no success") : "",
               res.truncated ? " (time limit)" : "");
    }
    long frames = s.o.frames;
    bool gif = s.o.g != NULL;
    int cr = rc == 0 ? out_close(&s.o, c->out) : 0;
    if (cr < 0) {
        fprintf(stderr, "rldt render: could not finish %s: %s\n", c->out, strerror(-cr));
        rc = 1;
    }
    if (rc == 0)
        printf("wrote %s: %ld frames, %dx%d, %d frames/s, %s\n", c->out, frames, c->width,
               c->height, gif ? record_fps(s.m) / s.o.stride : record_fps(s.m),
               gif ? "animated GIF" : "H.264");
    session_end(&s);
    return rc;
}

static const struct cmd_keyed keyed = {"rldt render", RENDER_USAGE, RENDER_KEYS, keyed_run};
CMD_KEYED(cmd_render, keyed)
