/*
 * test_rldt_run.c — RLDT through the whole runtime on 127.0.0.1: a learner (--algo=rldt with
 * tiny networks, fine-tuning a random base policy written here with flow_policy_save), one
 * collecting actor and one evaluator as real processes, run to max_env_steps. Checks: the run
 * ends cleanly, several critic and actor updates ran, no step was refused as non-finite, the
 * diagnostics reach metrics.csv finite, the fine-tuned weights differ from the base policy's,
 * and deterministic evaluations were reported.
 */
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "common/flow.h"
#include "common/rng.h"
#include "common/util.h"
#include "tests/harness.h"
#include "tests/spawn.h"

static char bin[512], dir[] = "/tmp/rldt-run-XXXXXX", base_path[600];
static int port;

/* the run's network flags (the base policy is written with the same sizes) */
static const char *const net_args[] = {
    "--algo=rldt",    "--env=hopper",  "--chunk=2",      "--flow-hidden=32",
    "--flow-depth=2", "--flow-temb=4", "--flow-steps=4", "--max-episode-steps=200"};

static pid_t start(const char *prog, const char *log, const char *extra)
{
    char path[600], ports[4][64], rd[300], logp[400], bp[700];
    snprintf(path, sizeof(path), "%s/%s", bin, prog);
    spawn_port_flags(ports, port);
    snprintf(rd, sizeof(rd), "--run-dir=%s/run", dir);
    snprintf(logp, sizeof(logp), "%s/%s", dir, log);
    snprintf(bp, sizeof(bp), "--base-policy=%s", base_path);
    char *argv[64];
    int n = 0;
    argv[n++] = path;
    for (size_t i = 0; i < RL_ARRAY_LEN(net_args); i++)
        argv[n++] = (char *)net_args[i];
    const char *rest[] = {
        "--batch-size=32",       "--rldt-critic-hidden=32", "--rldt-critic-depth=2",
        "--rldt-particles=4",    "--rldt-actor-batch=8",    "--rldt-critic-round=4",
        "--rldt-actor-start=8",  "--rldt-actor-every=2",    "--rldt-trust-refresh=4",
        "--rldt-actor-lr=1e-3",  "--min-replay=200",        "--warmup-steps=0",
        "--publish-every=5",     "--updates-per-step=1",    "--ingest-slack=200",
        "--num-envs=2",          "--segment-len=16",        "--max-env-steps=24000",
        "--eval-every=4000",     "--eval-episodes=1",       "--metrics-secs=0.2",
        "--checkpoint-secs=100", "--heartbeat-secs=0.2",    "--log-level=info",
        "--video-every=0", /* a video (3.5 s here) would outlast the 3 s run */
        "--rldt-threads=1" /* tiny nets: a BLAS thread pool spinning beside other jobs only
                              slows the run (the suite shares the machine) */};
    for (size_t i = 0; i < RL_ARRAY_LEN(rest); i++)
        argv[n++] = (char *)rest[i];
    for (int i = 0; i < 4; i++)
        argv[n++] = ports[i];
    argv[n++] = rd;
    argv[n++] = bp;
    if (extra)
        argv[n++] = (char *)extra;
    argv[n] = NULL;
    return spawn_logged(path, argv, logp);
}

/* a random flow policy of the run's sizes, with normalisation bounds */
static struct flow *write_base(void)
{
    struct rl_config c;
    config_default(&c);
    char err[600];
    for (size_t i = 0; i < RL_ARRAY_LEN(net_args); i++) {
        const char *kv = net_args[i] + 2, *eq = strchr(kv, '=');
        char key[64];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
        config_set(&c, key, eq + 1, err, sizeof(err));
    }
    config_validate(&c, err, sizeof(err));
    struct flow_spec s;
    flow_spec_from_config(&s, &c, 11, 3, 2, err, sizeof(err));
    struct flow *f = flow_new(&s, err, sizeof(err));
    if (!f)
        return NULL;
    struct rng r;
    rng_init(&r, 5, 0);
    flow_init(f, &r);
    float b[2 * 11 + 2 * 3];
    for (int i = 0; i < 11; i++) {
        b[i] = -5;
        b[11 + i] = 5;
    }
    for (int i = 0; i < 3; i++) {
        b[22 + i] = -1;
        b[25 + i] = 1;
    }
    char *text = config_to_string(&c);
    snprintf(base_path, sizeof(base_path), "%s/base.rldt", dir);
    int rc = flow_policy_save(base_path, text, f, b, err, sizeof(err));
    free(text);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        flow_destroy(&f);
    }
    return f;
}

static pid_t learner, actor, evaluator;

static void test_run(void)
{
    struct flow *base = write_base();
    T_CHECK(base != NULL);
    if (!base)
        return;
    learner = start("rldt-learner", "learner.log", NULL);
    rl_sleep(0.3);
    actor = start("rldt-actor", "actor.log", "--actor-name=a0");
    evaluator = start("rldt-actor", "eval.log", "--actor-role=eval");
    T_CHECK(learner > 0 && actor > 0 && evaluator > 0);
    int st = spawn_wait(learner, 50);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "learner exit %d", st);
    for (int i = 0; i < 2; i++) {
        int sa = spawn_wait(i ? evaluator : actor, 15);
        T_CHECK_MSG(sa >= 0 && WIFEXITED(sa) && WEXITSTATUS(sa) == 0, "actor %d exit %d", i, sa);
    }
    // metrics: updates of both kinds, every diagnostic finite in the last row
    char path[700], head[4096], tail[4096];
    snprintf(path, sizeof(path), "%s/run", dir);
    const char *keys[] = {
        "critic_loss",        "q_mean",  "reward_scale",   "grad_q_norm",      "kernel_grad_norm",
        "particle_diversity", "alpha_s", "loss_transport", "loss_consistency", "loss_trust"};
    spawn_check_metrics(path, 40, 10, keys, RL_ARRAY_LEN(keys));
    // the learner never refused a step
    char cmd[800];
    snprintf(cmd, sizeof(cmd), "grep -q 'non-finite' %s/learner.log", dir);
    T_CHECK(system(cmd) != 0);
    // the published weights moved away from the base policy
    char ck[700];
    char rd[600];
    snprintf(rd, sizeof(rd), "%s/run", dir);
    spawn_latest_checkpoint(rd, ck, sizeof(ck));
    T_CHECK(ck[0] != 0);
    struct flow *g = flow_new(&base->spec, NULL, 0);
    char err[600];
    T_CHECK_MSG(flow_load_weights(ck, g, NULL, NULL, err, sizeof(err)) == 0, "%s", err);
    double diff = 0;
    for (size_t i = 0; i < g->n_params; i++)
        diff = fmax(diff, fabs(g->params[i] - base->params[i]));
    T_CHECK_MSG(diff > 1e-4 && isfinite(diff), "max weight change %g", diff);
    // deterministic evaluations were reported (the base policy at 0, then the fine-tuned one)
    snprintf(path, sizeof(path), "%s/run/eval.csv", dir);
    int evals = spawn_csv_tail(path, head, tail, sizeof(head)) - 1;
    T_CHECK_MSG(evals >= 2, "%d evaluations", evals);
    T_CHECK(spawn_csv_get(head, tail, "policy_version") > 1); /* the last one: fine-tuned weights */
    T_CHECK(isfinite(spawn_csv_get(head, tail, "return_mean")));
    fprintf(stderr, "  max weight change %.3g, eval %s", diff, tail);
    flow_destroy(&g);
    flow_destroy(&base);
}

static void cleanup(void)
{
    pid_t all[] = {learner, actor, evaluator};
    spawn_kill_all(all, RL_ARRAY_LEN(all));
}

int main(void)
{
    spawn_bin_dir(bin, sizeof(bin));
    if (!mkdtemp(dir))
        return 1;
    port = spawn_free_ports(4);
    T_RUN(test_run);
    cleanup();
    if (spawn_cleanup(dir, "learner.log actor.log eval.log", 20, t_failed))
        return 1;
    return T_DONE("rldt_run");
}
