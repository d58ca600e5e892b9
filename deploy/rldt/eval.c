/*
 * eval.c — `rldt eval`: run a policy for N episodes on a task and print mean/std of return and
 * length (text, or one JSON line with --json). Policies: random (uniform in [-1, 1]) and zero;
 * checkpoint files come with the policy issues.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actor/rollout.h"
#include "actor/vecenv.h"
#include "common/config.h"
#include "deploy/rldt/cmd.h"

#define EVAL_USAGE                                                                                 \
    "rldt eval [--env=TASK] [--policy=random|zero] [--episodes=N] [--seed=N] [--num-envs=M]\n"     \
    "          [--chunk=H] [--max-episode-steps=T] [--model-file=FILE] [--json]"

// the random policy's rng stream, apart from the env streams 0..M-1
#define EVAL_POLICY_STREAM (1ull << 40)

static void print_text(const struct rl_config *c, const struct rollout_stats *st)
{
    printf("eval %s policy=%s episodes=%d seed=%lld num_envs=%d chunk=%d\n", c->env, c->policy,
           st->episodes, (long long)c->seed, c->num_envs, c->chunk);
    printf("return  mean %.3f  std %.3f\n", st->return_mean, st->return_std);
    printf("length  mean %.2f  std %.2f\n", st->length_mean, st->length_std);
    printf("terminated %ld/%d  nonfinite %ld  env_steps %ld  %.0f env steps/s\n", st->terminated,
           st->episodes, st->nonfinite, st->env_steps,
           st->secs > 0 ? st->env_steps / st->secs : 0.0);
}

static void print_json(const struct rl_config *c, const struct rollout_stats *st)
{
    printf("{\"return_mean\":%.6f,\"return_std\":%.6f,\"length_mean\":%.4f,\"episodes\":%d,"
           "\"length_std\":%.4f,\"env\":\"%s\",\"policy\":\"%s\",\"seed\":%lld,"
           "\"terminated\":%ld,\"nonfinite\":%ld,\"env_steps\":%ld,\"secs\":%.4f}\n",
           st->return_mean, st->return_std, st->length_mean, st->episodes, st->length_std, c->env,
           c->policy, (long long)c->seed, st->terminated, st->nonfinite, st->env_steps, st->secs);
}

static int check_policy(const char *policy)
{
    if (!strcmp(policy, "random") || !strcmp(policy, "zero"))
        return 0;
    if (access(policy, F_OK) == 0)
        fprintf(stderr,
                "rldt eval: policy file '%s': checkpoint policies are not supported yet "
                "(use random or zero)\n",
                policy);
    else
        fprintf(stderr, "rldt eval: unknown policy '%s' (random, zero, or a checkpoint file)\n",
                policy);
    return 2;
}

int cmd_eval(int argc, char **argv)
{
    struct rl_config c;
    int rc = config_cli(&c, "rldt eval", EVAL_USAGE, "run,env,eval", argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (check_policy(c.policy))
        return 2;

    struct vecenv_config vc;
    vecenv_config_default(&vc);
    vc.task = c.env;
    vc.model_file = c.model_file;
    vc.num_envs = c.num_envs;
    vc.chunk = c.chunk;
    vc.max_episode_steps = c.max_episode_steps;
    vc.seed = (uint64_t)c.seed;
    char err[512];
    struct vecenv *v = vecenv_new(&vc, err, sizeof(err));
    if (!v) {
        fprintf(stderr, "rldt eval: %s\n", err);
        return 1;
    }

    struct rollout_random rnd;
    rollout_random_init(&rnd, v, (uint64_t)c.seed, EVAL_POLICY_STREAM);
    long nzero = rnd.n;
    bool zero = !strcmp(c.policy, "zero");
    struct rollout_stats st;
    rc = rollout_eval(v, zero ? rollout_zero_act : rollout_random_act, zero ? (void *)&nzero : &rnd,
                      c.episodes, NULL, NULL, &st);
    vecenv_destroy(&v);
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
