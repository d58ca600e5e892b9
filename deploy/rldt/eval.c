/*
 * eval.c — `rldt eval`: run a policy for N episodes on a task and print mean/std of return and
 * length and the success rate with its 95% interval (text, or one JSON line with --json). Policies:
 * random (uniform in [-1, 1]) and zero, or a policy file. On the table-top tasks each counted
 * episode is also classified into the demonstrators' strategies (actor/demo.h demo_watch) and
 * the counts per strategy are printed.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/demo.h"
#include "actor/pixcam.h"
#include "actor/rollout.h"
#include "actor/vecenv.h"
#include "common/config.h"
#include "common/policy.h"
#include "deploy/rldt/cmd.h"

#define EVAL_USAGE                                                                                 \
    "rldt eval [--env=TASK] [--policy=random|zero] [--episodes=N] [--seed=N] [--num-envs=M]\n"     \
    "          [--chunk=H] [--max-episode-steps=T] [--model-file=FILE] [--task-plugin=FILE.so]\n"  \
    "          [--json]"

// the keys `rldt eval --help` lists
#define EVAL_KEYS                                                                                  \
    "-env,-task_plugin,-seed,-num_envs,-chunk,-max_episode_steps,-model_file,-episodes,-policy,"   \
    "-deterministic,-json"

// the random policy's rng stream, apart from the env streams 0..M-1
#define EVAL_POLICY_STREAM (1ull << 40)

// episodes per demonstrated strategy: wraps the policy's callback, watches every env's
// observations and counts the first `quota` episodes of each env, as rollout_eval does
struct watch {
    bool on, started;
    rollout_act_fn fn;
    void *ctx;
    struct vecenv *v;
    struct demo_watch *w;
    int *quota;
    long counts[DEMO_STRATEGIES + 1]; /* the last: no strategy recognised */
};

static void watch_ends(struct watch *x)
{
    const struct vecenv_result *res = vecenv_results(x->v);
    const float *fin = vecenv_final_obs(x->v);
    int O = vecenv_obs_dim(x->v);
    for (int i = 0; i < vecenv_num_envs(x->v); i++) {
        if (!res[i].done)
            continue;
        demo_watch_obs(&x->w[i], fin + (size_t)i * O);
        if (x->quota[i] > 0) {
            int l = demo_watch_label(&x->w[i]);
            x->counts[l >= 0 ? l : DEMO_STRATEGIES]++;
            x->quota[i]--;
        }
        demo_watch_begin(&x->w[i], x->w[i].task);
    }
}

static int watch_act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    struct watch *x = ctx;
    if (x->started)
        watch_ends(x);
    x->started = true;
    int O = vecenv_obs_dim(x->v);
    for (int i = 0; i < num_envs; i++)
        demo_watch_obs(&x->w[i], obs + (size_t)i * O);
    return x->fn(x->ctx, obs, num_envs, chunks);
}

// set up x for c's task (off for tasks without demonstrators); 0 or -ENOMEM
static int watch_init(struct watch *x, const struct rl_config *c, struct vecenv *v,
                      rollout_act_fn fn, void *ctx)
{
    struct demo d;
    *x = (struct watch){.fn = fn, .ctx = ctx, .v = v};
    if (demo_init(&d, c->env, 0, 0, 0) < 0)
        return 0;
    int M = vecenv_num_envs(v);
    x->w = calloc((size_t)M, sizeof(*x->w));
    x->quota = calloc((size_t)M, sizeof(*x->quota));
    if (!x->w || !x->quota)
        return -ENOMEM;
    for (int i = 0; i < M; i++) {
        demo_watch_begin(&x->w[i], d.task);
        x->quota[i] = c->episodes / M + (i < c->episodes % M);
    }
    x->on = true;
    return 0;
}

static void watch_free(struct watch *x)
{
    free(x->w);
    free(x->quota);
}

static void print_text(const struct rl_config *c, const struct rollout_stats *st,
                       const struct watch *x)
{
    printf("eval %s policy=%s episodes=%d seed=%lld num_envs=%d chunk=%d\n", c->env, c->policy,
           st->episodes, (long long)c->seed, c->num_envs, c->chunk);
    printf("return  mean %.3f  std %.3f\n", st->return_mean, st->return_std);
    printf("length  mean %.2f  std %.2f\n", st->length_mean, st->length_std);
    printf("success %ld/%d  rate %.3f  95%% interval [%.3f, %.3f]\n", st->successes, st->episodes,
           st->success_rate, st->success_lo, st->success_hi);
    printf("terminated %ld/%d  nonfinite %ld  env_steps %ld  %.0f env steps/s\n", st->terminated,
           st->episodes, st->nonfinite, st->env_steps,
           st->secs > 0 ? st->env_steps / st->secs : 0.0);
    if (!x->on)
        return;
    printf("strategies");
    for (int k = 0; k < DEMO_STRATEGIES; k++)
        printf("  %d (%s) %ld", k, demo_strategy_name(x->w[0].task, k), x->counts[k]);
    printf("  none %ld\n", x->counts[DEMO_STRATEGIES]);
}

static void print_json(const struct rl_config *c, const struct rollout_stats *st,
                       const struct watch *x)
{
    json_t *o = json_pack(
        "{s:f,s:f,s:f,s:i,s:f,s:s,s:s,s:I,s:I,s:I,s:I,s:f,s:I,s:f,s:[f,f]}", "return_mean",
        st->return_mean, "return_std", st->return_std, "length_mean", st->length_mean, "episodes",
        st->episodes, "length_std", st->length_std, "env", c->env, "policy", c->policy, "seed",
        (json_int_t)c->seed, "terminated", (json_int_t)st->terminated, "nonfinite",
        (json_int_t)st->nonfinite, "env_steps", (json_int_t)st->env_steps, "secs", st->secs,
        "successes", (json_int_t)st->successes, "success_rate", st->success_rate, "success_ci95",
        st->success_lo, st->success_hi);
    if (o && x->on) {
        json_t *a = json_array();
        for (int k = 0; k < DEMO_STRATEGIES; k++)
            json_array_append_new(a, json_integer(x->counts[k]));
        json_object_set_new(o, "strategy_counts", a);
        json_object_set_new(o, "strategy_none", json_integer(x->counts[DEMO_STRATEGIES]));
    }
    char *s =
        o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
    printf("%s\n", s ? s : "{}");
    free(s);
    json_decref(o);
}

// a checkpoint policy as a rollout callback
struct ckpt_policy {
    struct policy *p;
    struct rng rng;
    bool deterministic;
    struct rl_config pc; /* the policy's config (its camera) */
    struct vecenv *v;    /* a pixel policy's envs, whose camera pictures each observation */
    struct pixcam *cam;  /* NULL for a policy of the state only */
};

static int ckpt_act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    struct ckpt_policy *cp = ctx;
    const uint8_t *img = cp->cam ? vecenv_images(cp->v) : NULL;
    policy_act_img(cp->p, obs, img, num_envs, &cp->rng, cp->deterministic, chunks);
    return 0;
}

// a pixel policy sees its camera: attach it to v; 0, or an exit code after printing why
static int attach_camera(struct ckpt_policy *cp, struct vecenv *v, const char *path)
{
    if (!cp->p || !policy_image_bytes(cp->p))
        return 0;
    char err[400];
    cp->v = v;
    cp->cam = pixcam_new(vecenv_model(v), cp->pc.image_size, cp->pc.pixel_camera, err, sizeof(err));
    int rc = cp->cam ? pixcam_attach(cp->cam, v) : -ENODEV;
    if (rc < 0) {
        fprintf(stderr,
                "rldt eval: %s is a pixel policy and its camera '%s' (%dx%d) cannot render "
                "here: %s\n",
                path, cp->pc.pixel_camera, cp->pc.image_size, cp->pc.image_size,
                cp->cam ? strerror(-rc) : err);
        return 1;
    }
    return 0;
}

// load a checkpoint policy for c's task; 0, or an exit code after printing why
static int load_policy(struct rl_config *c, struct ckpt_policy *cp)
{
    char err[600];
    struct rl_config *pc = &cp->pc;
    cp->p = policy_load_img(c->policy, pc, c->num_envs, err, sizeof(err));
    if (!cp->p) {
        fprintf(stderr, "rldt eval: %s\n", err);
        return access(c->policy, F_OK) == 0 ? 1 : 2;
    }
    if (strcmp(pc->env, c->env) != 0) {
        fprintf(stderr, "rldt eval: %s was trained on %s; pass --env=%s\n", c->policy, pc->env,
                pc->env);
        policy_destroy(&cp->p);
        return 2;
    }
    c->chunk = pc->chunk; /* the policy's chunk length */
    rng_init(&cp->rng, (uint64_t)c->seed, EVAL_POLICY_STREAM);
    cp->deterministic = c->deterministic;
    return 0;
}

static int keyed_run(struct rl_config *c)
{
    int rc;
    bool builtin = !strcmp(c->policy, "random") || !strcmp(c->policy, "zero");
    struct ckpt_policy cp = {0};
    if (!builtin && (rc = load_policy(c, &cp)) != 0)
        return rc;

    struct vecenv_config vc;
    vecenv_config_from(&vc, c);
    char err[512];
    struct vecenv *v = vecenv_new(&vc, err, sizeof(err));
    if (!v) {
        fprintf(stderr, "rldt eval: %s\n", err);
        policy_destroy(&cp.p);
        return 1;
    }

    if ((rc = attach_camera(&cp, v, c->policy)) != 0) {
        vecenv_destroy(&v);
        pixcam_destroy(&cp.cam);
        policy_destroy(&cp.p);
        return rc;
    }
    struct rollout_random rnd;
    rollout_random_init(&rnd, v, (uint64_t)c->seed, EVAL_POLICY_STREAM);
    long nzero = rnd.n;
    bool zero = !strcmp(c->policy, "zero");
    struct rollout_stats st;
    rollout_act_fn fn = builtin ? (zero ? rollout_zero_act : rollout_random_act) : ckpt_act;
    void *ctx = builtin ? (zero ? (void *)&nzero : (void *)&rnd) : (void *)&cp;
    struct watch x;
    rc = watch_init(&x, c, v, fn, ctx);
    if (rc == 0)
        rc = x.on ? rollout_eval(v, watch_act, &x, c->episodes, NULL, NULL, &st)
                  : rollout_eval(v, fn, ctx, c->episodes, NULL, NULL, &st);
    if (rc == 0 && x.on)
        watch_ends(&x); /* the episodes of the last step */
    vecenv_destroy(&v);
    pixcam_destroy(&cp.cam); /* after the vecenv that borrows it */
    policy_destroy(&cp.p);
    if (rc < 0) {
        watch_free(&x);
        fprintf(stderr, "rldt eval: rollout failed: %s\n", strerror(-rc));
        return 1;
    }
    if (c->json)
        print_json(c, &st, &x);
    else
        print_text(c, &st, &x);
    watch_free(&x);
    return 0;
}

static const struct cmd_keyed keyed = {"rldt eval", EVAL_USAGE, EVAL_KEYS, keyed_run};
CMD_KEYED(cmd_eval, keyed)
