/*
 * test_rldt_pixrun.c — pixel policies through the whole runtime on 127.0.0.1, real processes:
 *  1. collect_only with the shipped deploy/policies/lift-pixels.rldt: the learner names the
 *     "pixflow" sampler in its Welcome, the actor renders its envs' camera (84x84), acts on the
 *     pictures with the broadcast weights and sends segments with images. Checks: both exit
 *     cleanly, episodes ran, the replay the learner saved holds images (not blank, changing),
 *     and its checkpoint is a pixel policy file (policy_load_img).
 *  2. a tiny RLDT run from pixels (a random 36x36 pixel base policy with small networks written
 *     here): actor renders -> wire -> replay -> encoders -> critic and actor steps, with an
 *     evaluator acting on its own camera (and recording evaluation videos, where the policy sees
 *     a camera of its own). Checks: clean exits, critic and actor steps ran with
 *     finite diagnostics and none refused, evaluations were reported, and the checkpoint's
 *     policy (flow and actor encoder) moved away from the base policy's. Then the learner
 *     resumes from that checkpoint (--resume) and trains on.
 * Skips (saying why) where EGL cannot render.
 */
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actor/pixcam.h"
#include "actor/vecenv.h"
#include "common/ckpt.h"
#include "common/config.h"
#include "common/encoder.h"
#include "common/flow.h"
#include "common/pixflow.h"
#include "common/policy.h"
#include "common/rng.h"
#include "common/task.h"
#include "common/util.h"
#include "learner/replay.h"
#include "tests/harness.h"
#include "tests/spawn.h"

#define NARGS 96

static char bin[512], dir[] = "/tmp/rldt-pixrun-XXXXXX", base_path[200];
static pid_t pids[3];

/* the tiny run's sizes (its base policy is written with the same keys) */
static const char *const tiny[] = {"--env=lift",     "--chunk=2",       "--flow-hidden=32",
                                   "--flow-depth=2", "--flow-temb=4",   "--flow-steps=4",
                                   "--pixels=true",  "--image-size=36", "--pixel-camera=default"};
static const char *const tiny_train[] = {
    "--batch-size=16",      "--rldt-critic-hidden=32", "--rldt-critic-depth=2",
    "--rldt-particles=4",   "--rldt-actor-batch=8",    "--rldt-critic-round=4",
    "--rldt-actor-start=8", "--rldt-actor-every=2",    "--rldt-actor-lr=1e-3",
    "--rldt-lambda=0.5",    "--rldt-td-horizon=3",     "--updates-per-step=1",
    "--ingest-slack=200",   "--max-env-steps=2500",    "--eval-every=1000",
    "--eval-episodes=2",    "--rldt-threads=1",        "--publish-every=5"};
/* the shipped pixel policy's sizes, collecting only */
static const char *const shipped[] = {
    "--env=lift",          "--chunk=4",           "--flow-hidden=256",
    "--flow-depth=3",      "--flow-temb=32",      "--flow-steps=8",
    "--pixels=true",       "--image-size=84",     "--pixel-camera=default",
    "--collect-only=true", "--max-env-steps=1200"};
static const char *const common_flags[] = {
    "--algo=rldt",           "--num-envs=2",       "--segment-len=16",       "--min-replay=200",
    "--warmup-steps=0",      "--replay-size=4000", "--heartbeat-secs=0.2",   "--metrics-secs=0.2",
    "--checkpoint-secs=100", "--video-every=0",    "--replay-save-secs=100", "--log-level=info"};

struct run {
    const char *name; /* run directory and log prefix under dir */
    const char *base; /* base policy path */
    const char *const *set[2];
    int nset[2];
    int port;
};

static void add(char **v, int *n, const char *s)
{
    if (*n < NARGS - 1)
        v[(*n)++] = (char *)s;
}

/* a learner or actor of run r, its log dir/<name>-<log>; extra flags (later ones win), nullable */
static pid_t start(const struct run *r, const char *prog, const char *log, const char *extra,
                   const char *extra2)
{
    char path[600], ports[4][64], rd[300], logp[400], bp[800];
    char *v[NARGS];
    int n = 0;
    snprintf(path, sizeof(path), "%s/%s", bin, prog);
    spawn_port_flags(ports, r->port);
    snprintf(rd, sizeof(rd), "--run-dir=%s/%s", dir, r->name);
    snprintf(logp, sizeof(logp), "%s/%s-%s", dir, r->name, log);
    snprintf(bp, sizeof(bp), "--base-policy=%s", r->base);
    add(v, &n, path);
    for (size_t i = 0; i < RL_ARRAY_LEN(common_flags); i++)
        add(v, &n, common_flags[i]);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < r->nset[k]; i++)
            add(v, &n, r->set[k][i]);
    for (int i = 0; i < 4; i++)
        add(v, &n, ports[i]);
    add(v, &n, rd);
    add(v, &n, bp);
    if (extra)
        add(v, &n, extra);
    if (extra2)
        add(v, &n, extra2);
    v[n] = NULL;
    return spawn_logged(path, v, logp);
}

/* did pid exit 0 within secs? */
static bool clean_exit(pid_t pid, double secs, const char *who)
{
    int st = spawn_wait(pid, t_slow(secs));
    bool ok = st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    T_CHECK_MSG(ok, "%s exit status %d", who, st);
    return ok;
}

/* a number after "key=" in the file at path (the last occurrence), NAN if none */
static double log_value(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    double v = NAN;
    char line[4096];
    while (f && fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, key);
        if (p)
            v = strtod(p + strlen(key), NULL);
    }
    if (f)
        fclose(f);
    return v;
}

static void checkpoint_of(const char *run, char *out, size_t n)
{
    char rd[600];
    snprintf(rd, sizeof(rd), "%s/%s", dir, run);
    spawn_latest_checkpoint(rd, out, n);
}

/* the saved replay's images: how many, how many are not blank, how many differ from the first */
static void replay_images(const char *run, int side, long *n, long *lively, long *changed)
{
    const struct task_info *t = task_find("lift");
    size_t ib = (size_t)side * side * 3;
    struct replay *r = replay_new_img(4000, t->obs_dim, 4 * t->act_dim, ib, 16);
    char path[400], err[300];
    snprintf(path, sizeof(path), "%s/%s/replay.rldt", dir, run);
    uint64_t at;
    *n = r ? replay_load(r, path, &at, err, sizeof(err)) : -1;
    T_CHECK_MSG(*n > 0, "replay %s: %s", path, err);
    uint8_t *img = malloc(ib), *first = malloc(ib);
    *lively = *changed = 0;
    for (long i = 0; i < *n && img && first; i++) {
        replay_get_img(r, i, img, NULL);
        if (i == 0)
            memcpy(first, img, ib);
        int lo = 255, hi = 0;
        for (size_t k = 0; k < ib; k++)
            lo = RL_MIN(lo, img[k]), hi = RL_MAX(hi, img[k]);
        *lively += hi - lo > 40;
        *changed += memcmp(img, first, ib) != 0;
    }
    free(img);
    free(first);
    replay_destroy(&r);
}

static void test_collect_shipped(void)
{
    char root[600], base[700];
    snprintf(root, sizeof(root), "%s/..", bin);
    snprintf(base, sizeof(base), "%s/deploy/policies/lift-pixels.rldt", root);
    struct run r = {
        "collect", base, {shipped, NULL}, {RL_ARRAY_LEN(shipped), 0}, spawn_free_ports(4)};
    pids[0] = start(&r, "rldt-learner", "learner.log", NULL, NULL);
    rl_sleep(0.5);
    pids[1] = start(&r, "rldt-actor", "actor.log", NULL, NULL);
    T_CHECK(pids[0] > 0 && pids[1] > 0);
    clean_exit(pids[0], 90, "learner");
    clean_exit(pids[1], 20, "actor");
    char log[500];
    snprintf(log, sizeof(log), "%s/collect-actor.log", dir);
    double episodes = log_value(log, "episodes=");
    T_CHECK_MSG(episodes >= 4, "%g episodes", episodes);
    long n, lively, changed;
    replay_images("collect", 84, &n, &lively, &changed);
    T_CHECK_MSG(n >= 200 && lively == n && changed > n / 2, "%ld images, %ld lively, %ld changed",
                n, lively, changed);
    char ck[700], err[600];
    checkpoint_of("collect", ck, sizeof(ck));
    struct rl_config pc;
    struct policy *p = policy_load_img(ck, &pc, 1, err, sizeof(err));
    T_CHECK_MSG(p && policy_image_bytes(p) == 84 * 84 * 3, "%s", err);
    T_EQ_STR(p ? policy_kind(p) : "", "pixflow");
    policy_destroy(&p);
    fprintf(stderr, "  %g episodes, %ld images stored\n", episodes, n);
}

/* a random pixel base policy of the tiny run's sizes at base_path; its weights [flow | encoder]
 * in *w (caller frees), their count in *nw, the flow's in *nf */
static int write_base(float **w, size_t *nw, size_t *nf)
{
    struct rl_config c;
    config_default(&c);
    char err[400];
    for (size_t i = 0; i < RL_ARRAY_LEN(tiny); i++) {
        char key[64];
        const char *kv = tiny[i] + 2, *eq = strchr(kv, '=');
        snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
        for (char *k = key; *k; k++)
            *k = *k == '-' ? '_' : *k;
        T_CHECK_MSG(config_set(&c, key, eq + 1, err, sizeof(err)) == 0, "%s", err);
    }
    T_CHECK_MSG(config_validate(&c, err, sizeof(err)) == 0, "%s", err);
    struct encoder_spec es;
    struct flow_spec fs;
    int P;
    if (pixflow_specs(&c, &es, &fs, &P, err, sizeof(err)) < 0)
        return -1;
    struct flow *f = flow_new(&fs, err, sizeof(err));
    struct encoder *e = encoder_new(&es, err, sizeof(err));
    struct rng g;
    rng_init(&g, 11, 0);
    flow_init(f, &g);
    encoder_init(e, &g);
    char *text = config_to_string(&c);
    snprintf(base_path, sizeof(base_path), "%s/base.rldt", dir);
    int rc = pixflow_save(base_path, text, f, e, P, NULL, 0, err, sizeof(err));
    T_CHECK_MSG(rc == 0, "%s", err);
    *nw = f->n_params + e->n_params;
    *nf = f->n_params;
    *w = malloc(*nw * sizeof(float));
    memcpy(*w, f->params, f->n_params * sizeof(float));
    memcpy(*w + f->n_params, e->params, e->n_params * sizeof(float));
    free(text);
    flow_destroy(&f);
    encoder_destroy(&e);
    return rc;
}

static void test_train_tiny(void)
{
    float *w0 = NULL;
    size_t nw = 0, nf = 0;
    if (write_base(&w0, &nw, &nf) < 0)
        return;
    struct run r = {"train",
                    base_path,
                    {tiny, tiny_train},
                    {RL_ARRAY_LEN(tiny), RL_ARRAY_LEN(tiny_train)},
                    spawn_free_ports(4)};
    pids[0] = start(&r, "rldt-learner", "learner.log", "--video-every=1", "--video-size=48");
    rl_sleep(0.5);
    pids[1] = start(&r, "rldt-actor", "actor.log", NULL, NULL);
    pids[2] = start(&r, "rldt-actor", "eval.log", "--actor-role=eval", NULL);
    clean_exit(pids[0], 100, "learner");
    clean_exit(pids[1], 20, "actor");
    clean_exit(pids[2], 20, "evaluator");
    char path[500], head[4096], tail[4096];
    snprintf(path, sizeof(path), "%s/train", dir);
    const char *keys[] = {"critic_loss", "q_mean", "loss_transport", "loss_consistency",
                          "loss_trust"};
    spawn_check_metrics(path, 20, 4, keys, RL_ARRAY_LEN(keys));
    snprintf(path, sizeof(path), "%s/train/metrics.csv", dir);
    spawn_csv_tail(path, head, tail, sizeof(head));
    double critic = spawn_csv_get(head, tail, "critic_steps"); /* before the resume below */
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "grep -q 'non-finite' %s/train-learner.log", dir);
    T_CHECK(system(cmd) != 0);
    snprintf(path, sizeof(path), "%s/train/eval.csv", dir);
    T_CHECK_MSG(spawn_csv_tail(path, head, tail, sizeof(head)) >= 2, "no evaluation reported");
    // evaluation videos of a pixel policy: it acts on its camera, the video shows the task's
    snprintf(cmd, sizeof(cmd), "ls %s/train/videos/eval-*.mp4 >/dev/null 2>&1", dir);
    T_CHECK_MSG(system(cmd) == 0, "no evaluation video in %s/train/videos", dir);
    snprintf(cmd, sizeof(cmd), "grep -q 'video .*/videos/eval-.*: return' %s/train-eval.log", dir);
    T_CHECK_MSG(system(cmd) == 0, "the evaluator logged no finished video");
    // the checkpoint's policy: a pixel policy whose flow and encoder both moved
    char ck[700], err[600];
    checkpoint_of("train", ck, sizeof(ck));
    struct ckpt *k = ckpt_load(ck, "CKPT", 0, err, sizeof(err));
    size_t n = 0;
    const float *w = k ? ckpt_get(k, "policy.weights", &n) : NULL;
    T_CHECK_MSG(w && n == nw * sizeof(float), "%s", err);
    double dflow = 0, denc = 0;
    struct rl_config pc;
    struct policy *p = policy_load_img(ck, &pc, 1, err, sizeof(err));
    T_CHECK_MSG(p && policy_image_bytes(p) == 36 * 36 * 3, "%s", err);
    policy_destroy(&p);
    for (size_t i = 0; w && i < nw; i++) {
        double d = fabs((double)w[i] - w0[i]);
        if (i < nf)
            dflow = fmax(dflow, d);
        else
            denc = fmax(denc, d);
    }
    ckpt_destroy(&k);
    free(w0);
    T_CHECK_MSG(dflow > 0 && denc > 0, "moved: %g %g", dflow, denc);
    // resume: the learner restores both encoders from the checkpoint and trains on
    r.port = spawn_free_ports(4);
    pids[0] = start(&r, "rldt-learner", "resume.log", "--resume=true", "--max-env-steps=3500");
    rl_sleep(0.5);
    pids[1] = start(&r, "rldt-actor", "actor2.log", NULL, NULL);
    clean_exit(pids[0], 100, "resumed learner");
    clean_exit(pids[1], 20, "actor");
    snprintf(cmd, sizeof(cmd), "grep -q 'resumed from' %s/train-resume.log", dir);
    T_CHECK_MSG(system(cmd) == 0, "the learner did not resume");
    snprintf(path, sizeof(path), "%s/train/metrics.csv", dir);
    T_CHECK(spawn_csv_tail(path, head, tail, sizeof(head)) >= 3);
    double critic2 = spawn_csv_get(head, tail, "critic_steps");
    T_CHECK_MSG(critic2 > critic, "critic steps %g after resuming from %g", critic2, critic);
}

int main(void)
{
    spawn_bin_dir(bin, sizeof(bin));
    if (!mkdtemp(dir))
        return 1;
    struct vecenv_config vc;
    struct rl_config c;
    config_default(&c);
    snprintf(c.env, sizeof(c.env), "lift");
    vecenv_config_from(&vc, &c);
    vc.num_envs = 1;
    vc.chunk = 1;
    vc.max_episode_steps = 10;
    char err[512];
    struct vecenv *v = vecenv_new(&vc, err, sizeof(err));
    struct pixcam *cam = v ? pixcam_new(vecenv_model(v), 36, "default", err, sizeof(err)) : NULL;
    bool can = cam != NULL;
    vecenv_destroy(&v);
    pixcam_destroy(&cam);
    if (!can) {
        printf("skipped: cannot render here: %s\n", err);
    } else {
        T_RUN(test_collect_shipped);
        spawn_kill_all(pids, RL_ARRAY_LEN(pids));
        T_RUN(test_train_tiny);
        spawn_kill_all(pids, RL_ARRAY_LEN(pids));
    }
    if (spawn_cleanup(dir, "*.log", 15, t_failed))
        return 1;
    return T_DONE("test_rldt_pixrun");
}
