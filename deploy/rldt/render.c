/*
 * render.c — `rldt render`: roll a policy out on a task and write the episodes as one H.264 MP4,
 * a frame per env step (the control rate) with the step, return and success drawn on it.
 * Headless: MuJoCo renders through EGL's surfaceless platform on the CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/record.h"
#include "actor/video.h"
#include "common/config.h"
#include "common/policy.h"
#include "common/task.h"
#include "deploy/rldt/cmd.h"

#define RENDER_USAGE                                                                               \
    "rldt render --env=TASK --policy=CKPT|random|zero --out=FILE.mp4 [--episodes=N]\n"             \
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
};

static int act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    struct actor_ctx *a = ctx;
    if (a->p)
        policy_act(a->p, obs, num_envs, &a->rng, a->deterministic, chunks);
    else
        for (int i = 0; i < a->n * num_envs; i++)
            chunks[i] = a->zero ? 0.0f : (float)rng_range(&a->rng, -1.0, 1.0);
    return 0;
}

static int sink(void *ctx, const uint8_t *rgb, int w, int h)
{
    (void)w;
    (void)h;
    return video_write(ctx, rgb);
}

// the policy of c->policy (chunk length into c->chunk); 0, or an exit code after saying why
static int load_actor(struct rl_config *c, int act_dim, struct actor_ctx *a)
{
    *a = (struct actor_ctx){.zero = !strcmp(c->policy, "zero"), .deterministic = c->deterministic};
    rng_init(&a->rng, (uint64_t)c->seed, RENDER_POLICY_STREAM);
    if (strcmp(c->policy, "random") != 0 && !a->zero) {
        char err[600];
        struct rl_config pc;
        if (!(a->p = policy_load(c->policy, &pc, 1, err, sizeof(err)))) {
            fprintf(stderr, "rldt render: %s\n", err);
            return access(c->policy, F_OK) == 0 ? 1 : 2;
        }
        if (strcmp(pc.env, c->env) != 0) {
            fprintf(stderr, "rldt render: %s was trained on %s; pass --env=%s\n", c->policy, pc.env,
                    pc.env);
            policy_destroy(&a->p);
            return 2;
        }
        c->chunk = pc.chunk;
    }
    a->n = c->chunk * act_dim;
    return 0;
}

// the checks a config parser cannot make; 0 or 2 after saying why
static int check_args(const struct rl_config *c)
{
    if (!c->out[0]) {
        fprintf(stderr, "rldt render: --out=FILE.mp4 is required\n%s\n", RENDER_USAGE);
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
    struct video *v;
    struct actor_ctx a;
};

static void session_end(struct session *s)
{
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
    if (!(s->r = render_new(env_model_mj(s->m), c->width, c->height, err, sizeof(err)))) {
        fprintf(stderr, "rldt render: cannot render: %s\n", err);
        return 1;
    }
    if (!(s->v = video_open(c->out, c->width, c->height, record_fps(s->m), err, sizeof(err)))) {
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
                               .sink_ctx = s.v,
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
    long frames = video_frames(s.v);
    if (video_close(&s.v) < 0 && rc == 0) {
        fprintf(stderr, "rldt render: could not finish %s\n", c->out);
        rc = 1;
    }
    if (rc == 0)
        printf("wrote %s: %ld frames, %dx%d, %d frames/s, H.264\n", c->out, frames, c->width,
               c->height, record_fps(s.m));
    session_end(&s);
    return rc;
}

static const struct cmd_keyed keyed = {"rldt render", RENDER_USAGE, RENDER_KEYS, keyed_run};
CMD_KEYED(cmd_render, keyed)
