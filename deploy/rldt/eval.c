/*
 * eval.c — `rldt eval`: run a policy for N episodes on a task and print mean/std of return and
 * length and the success rate with its 95% interval (text, or one JSON line with --json). Policies:
 * random (uniform in [-1, 1]) and zero; checkpoint files come with the policy issues.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void print_text(const struct rl_config *c, const struct rollout_stats *st)
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
}

static void print_json(const struct rl_config *c, const struct rollout_stats *st)
{
    json_t *o = json_pack(
        "{s:f,s:f,s:f,s:i,s:f,s:s,s:s,s:I,s:I,s:I,s:I,s:f,s:I,s:f,s:[f,f]}", "return_mean",
        st->return_mean, "return_std", st->return_std, "length_mean", st->length_mean, "episodes",
        st->episodes, "length_std", st->length_std, "env", c->env, "policy", c->policy, "seed",
        (json_int_t)c->seed, "terminated", (json_int_t)st->terminated, "nonfinite",
        (json_int_t)st->nonfinite, "env_steps", (json_int_t)st->env_steps, "secs", st->secs,
        "successes", (json_int_t)st->successes, "success_rate", st->success_rate, "success_ci95",
        st->success_lo, st->success_hi);
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
};

static int ckpt_act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    struct ckpt_policy *cp = ctx;
    policy_act(cp->p, obs, num_envs, &cp->rng, cp->deterministic, chunks);
    return 0;
}

// load a checkpoint policy for c's task; 0, or an exit code after printing why
static int load_policy(struct rl_config *c, struct ckpt_policy *cp)
{
    char err[600];
    struct rl_config pc;
    cp->p = policy_load(c->policy, &pc, c->num_envs, err, sizeof(err));
    if (!cp->p) {
        fprintf(stderr, "rldt eval: %s\n", err);
        return access(c->policy, F_OK) == 0 ? 1 : 2;
    }
    if (strcmp(pc.env, c->env) != 0) {
        fprintf(stderr, "rldt eval: %s was trained on %s; pass --env=%s\n", c->policy, pc.env,
                pc.env);
        policy_destroy(&cp->p);
        return 2;
    }
    c->chunk = pc.chunk; /* the policy's chunk length */
    rng_init(&cp->rng, (uint64_t)c->seed, EVAL_POLICY_STREAM);
    cp->deterministic = c->deterministic;
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    struct rl_config c;
    int rc = config_cli(&c, "rldt eval", EVAL_USAGE, EVAL_KEYS, argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    bool builtin = !strcmp(c.policy, "random") || !strcmp(c.policy, "zero");
    struct ckpt_policy cp = {0};
    if (!builtin && (rc = load_policy(&c, &cp)) != 0)
        return rc;

    struct vecenv_config vc;
    vecenv_config_from(&vc, &c);
    char err[512];
    struct vecenv *v = vecenv_new(&vc, err, sizeof(err));
    if (!v) {
        fprintf(stderr, "rldt eval: %s\n", err);
        policy_destroy(&cp.p);
        return 1;
    }

    struct rollout_random rnd;
    rollout_random_init(&rnd, v, (uint64_t)c.seed, EVAL_POLICY_STREAM);
    long nzero = rnd.n;
    bool zero = !strcmp(c.policy, "zero");
    struct rollout_stats st;
    rollout_act_fn fn = builtin ? (zero ? rollout_zero_act : rollout_random_act) : ckpt_act;
    void *ctx = builtin ? (zero ? (void *)&nzero : (void *)&rnd) : (void *)&cp;
    rc = rollout_eval(v, fn, ctx, c.episodes, NULL, NULL, &st);
    vecenv_destroy(&v);
    policy_destroy(&cp.p);
    if (rc < 0) {
        fprintf(stderr, "rldt eval: rollout failed: %s\n", strerror(-rc));
        return 1;
    }
    if (c.json)
        print_json(&c, &st);
    else
        print_text(&c, &st);
    return 0;
}
