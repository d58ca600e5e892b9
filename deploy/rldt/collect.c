/*
 * collect.c — `rldt collect`: roll out a policy (a checkpoint, or uniform random) on M envs
 * and record every env step into a dataset file (common/dataset.h), with progress on stderr.
 *
 * The envs step one action at a time (a vecenv of chunk 1) so every intermediate observation
 * is recorded; a policy with chunk H > 1 still acts open loop: each env keeps a queue of its
 * chunk's actions and only envs whose queue is empty (or whose episode just ended) are batched
 * into the next policy call. Episodes still running when the budget is reached are stored as
 * cut (truncated). The file is written once at the end through the atomic ckpt writer: an
 * interrupted collect leaves no file (and an older file under the name stays intact).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/vecenv.h"
#include "common/config.h"
#include "common/dataset.h"
#include "common/policy.h"
#include "common/rng.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define COLLECT_USAGE                                                                              \
    "rldt collect --policy=CKPT|random --env=TASK --steps=N --out=FILE [--deterministic] "         \
    "[--force]\n"                                                                                  \
    "             [--num-envs=M] [--seed=N] [--max-episode-steps=T]\n"                             \
    "  --steps=N is short for --collect-steps=N; the policy acts stochastically unless\n"          \
    "  --deterministic"

// the keys `rldt collect --help` lists
#define COLLECT_KEYS                                                                               \
    "-env,-task_plugin,-seed,-num_envs,-max_episode_steps,-model_file,-policy,-deterministic,-"    \
    "out,"                                                                                         \
    "-collect_steps,-force"

#define COLLECT_POLICY_STREAM (1ull << 41)

struct slot {
    float *obs, *act, *rew; /* the running episode: (T, O), (T, A), (T) */
    long len;
    float *chunk; /* (H, A) queued actions */
    int next;     /* next action of chunk; H = empty */
};

struct collector {
    struct rl_config c;
    struct vecenv *v;
    struct policy *p; /* NULL: uniform random */
    struct rng rng;
    int M, O, A, H, T;
    struct slot *s;
    float *bobs, *bact, *step_act; /* (M, O), (M, H·A), (M, A) */
    int *rows;
    unsigned char *active;
    struct dataset ds;
    long steps, dropped;
    double ret_sum;
    long ret_n;
};

static void collector_fini(struct collector *k)
{
    for (int i = 0; k->s && i < k->M; i++) {
        free(k->s[i].obs);
        free(k->s[i].act);
        free(k->s[i].rew);
        free(k->s[i].chunk);
    }
    free(k->s);
    free(k->bobs);
    free(k->bact);
    free(k->step_act);
    free(k->rows);
    free(k->active);
    vecenv_destroy(&k->v);
    policy_destroy(&k->p);
    dataset_fini(&k->ds);
}

static int collector_alloc(struct collector *k)
{
    k->s = calloc((size_t)k->M, sizeof(*k->s));
    k->bobs = calloc((size_t)k->M * k->O, sizeof(float));
    k->bact = calloc((size_t)k->M * k->H * k->A, sizeof(float));
    k->step_act = calloc((size_t)k->M * k->A, sizeof(float));
    k->rows = calloc((size_t)k->M, sizeof(int));
    k->active = calloc((size_t)k->M, 1);
    if (!k->s || !k->bobs || !k->bact || !k->step_act || !k->rows || !k->active)
        return -ENOMEM;
    for (int i = 0; i < k->M; i++) {
        struct slot *s = &k->s[i];
        s->obs = malloc((size_t)k->T * k->O * sizeof(float));
        s->act = malloc((size_t)k->T * k->A * sizeof(float));
        s->rew = malloc((size_t)k->T * sizeof(float));
        s->chunk = calloc((size_t)k->H * k->A, sizeof(float));
        s->next = k->H;
        if (!s->obs || !s->act || !s->rew || !s->chunk)
            return -ENOMEM;
    }
    return 0;
}

// set up policy, envs and buffers; 0 or an exit code after printing why
static int collector_setup(struct collector *k)
{
    char err[600];
    struct rl_config *c = &k->c;
    k->H = 1;
    if (strcmp(c->policy, "random") != 0) {
        struct rl_config pc;
        k->p = policy_load(c->policy, &pc, c->num_envs, err, sizeof(err));
        if (!k->p) {
            fprintf(stderr, "rldt collect: %s\n", err);
            return access(c->policy, F_OK) == 0 ? 1 : 2;
        }
        if (strcmp(pc.env, c->env) != 0) {
            fprintf(stderr, "rldt collect: %s was trained on %s; pass --env=%s\n", c->policy,
                    pc.env, pc.env);
            return 2;
        }
        k->H = pc.chunk;
    }
    struct vecenv_config vc;
    vecenv_config_from(&vc, c);
    vc.chunk = 1;
    k->v = vecenv_new(&vc, err, sizeof(err));
    if (!k->v) {
        fprintf(stderr, "rldt collect: %s\n", err);
        return 1;
    }
    k->M = c->num_envs;
    k->O = vecenv_obs_dim(k->v);
    k->A = vecenv_act_dim(k->v);
    k->T = c->max_episode_steps;
    rng_init(&k->rng, (uint64_t)c->seed, COLLECT_POLICY_STREAM);
    if (dataset_init(&k->ds, c->env, k->O, k->A) || collector_alloc(k)) {
        fprintf(stderr, "rldt collect: out of memory\n");
        return 1;
    }
    snprintf(k->ds.source, sizeof(k->ds.source),
             "rldt collect --policy=%.120s --env=%s --steps=%lld --seed=%lld --num-envs=%d%s",
             c->policy, c->env, (long long)c->collect_steps, (long long)c->seed, c->num_envs,
             c->deterministic ? " --deterministic" : "");
    return 0;
}

// a new chunk for every env whose queue is empty, in one policy call
static void refill(struct collector *k)
{
    const float *obs = vecenv_obs(k->v);
    int B = 0;
    for (int i = 0; i < k->M; i++) {
        if (k->s[i].next < k->H)
            continue;
        memcpy(k->bobs + (size_t)B * k->O, obs + (size_t)i * k->O, (size_t)k->O * sizeof(float));
        k->rows[B++] = i;
    }
    if (!B)
        return;
    int HA = k->H * k->A;
    if (k->p)
        policy_act(k->p, k->bobs, B, &k->rng, k->c.deterministic, k->bact);
    else
        for (long j = 0; j < (long)B * HA; j++)
            k->bact[j] = (float)rng_range(&k->rng, -1.0, 1.0);
    for (int b = 0; b < B; b++) {
        struct slot *s = &k->s[k->rows[b]];
        memcpy(s->chunk, k->bact + (size_t)b * HA, (size_t)HA * sizeof(float));
        s->next = 0;
    }
}

// close env i's episode into the dataset; 0 or -ENOMEM
static int close_episode(struct collector *k, int i, const float *final_obs, int flags)
{
    struct slot *s = &k->s[i];
    int rc = 0;
    if (s->len > 0)
        rc = dataset_add_episode(&k->ds, s->len, s->obs, s->act, s->rew, final_obs, flags);
    if (!rc && s->len > 0 && flags != DATASET_EP_CUT) {
        k->ret_sum += k->ds.ep[k->ds.n_episodes - 1].ret;
        k->ret_n++;
    }
    s->len = 0;
    s->next = k->H;
    return rc;
}

// one env step for every env still within the budget; 0 or negative errno
static int step_all(struct collector *k)
{
    long left = k->c.collect_steps - k->steps;
    const float *obs = vecenv_obs(k->v);
    for (int i = 0; i < k->M; i++) {
        struct slot *s = &k->s[i];
        k->active[i] = i < left;
        memcpy(k->step_act + (size_t)i * k->A, s->chunk + (size_t)s->next * k->A,
               (size_t)k->A * sizeof(float));
        if (k->active[i])
            memcpy(s->obs + (size_t)s->len * k->O, obs + (size_t)i * k->O,
                   (size_t)k->O * sizeof(float));
    }
    int rc = vecenv_step(k->v, k->step_act, k->active);
    if (rc)
        return rc;
    const struct vecenv_result *res = vecenv_results(k->v);
    const float *fin = vecenv_final_obs(k->v);
    for (int i = 0; i < k->M && rc == 0; i++) {
        struct slot *s = &k->s[i];
        if (!k->active[i])
            continue;
        memcpy(s->act + (size_t)s->len * k->A, k->step_act + (size_t)i * k->A,
               (size_t)k->A * sizeof(float));
        s->rew[s->len++] = (float)res[i].reward;
        s->next++;
        k->steps++;
        if (res[i].nonfinite) { /* a diverged simulation: not data */
            k->dropped += s->len;
            s->len = 0;
            s->next = k->H;
        } else if (res[i].done) {
            rc = close_episode(k, i, fin + (size_t)i * k->O,
                               res[i].terminated ? DATASET_EP_TERMINATED : DATASET_EP_TIMELIMIT);
        } else if (s->len == k->T) { /* cannot happen: the time limit ends it first */
            rc = close_episode(k, i, obs + (size_t)i * k->O, DATASET_EP_CUT);
        }
    }
    return rc;
}

static void progress(const struct collector *k, double t0, bool final)
{
    double dt = rl_now() - t0;
    double rate = dt > 0 ? k->steps / dt : 0;
    double eta = rate > 0 ? (k->c.collect_steps - k->steps) / rate : 0;
    fprintf(stderr,
            "%scollect %ld/%lld steps (%.1f%%) | %.0f steps/s | episodes %ld | return "
            "%.1f | %.0fs elapsed, eta %.0fs%s",
            isatty(2) ? "\r" : "", k->steps, (long long)k->c.collect_steps,
            100.0 * k->steps / (double)k->c.collect_steps, rate, k->ret_n,
            k->ret_n ? k->ret_sum / k->ret_n : 0.0, dt, eta, isatty(2) && !final ? "" : "\n");
}

static int run(struct collector *k)
{
    double t0 = rl_now(), last = t0;
    double every = isatty(2) ? 0.5 : 10.0;
    int rc = 0;
    while (rc == 0 && k->steps < k->c.collect_steps) {
        refill(k);
        rc = step_all(k);
        if (rl_now() - last >= every) {
            progress(k, t0, false);
            last = rl_now();
        }
    }
    // episodes still running are kept, cut at the budget
    const float *obs = vecenv_obs(k->v);
    for (int i = 0; i < k->M && rc == 0; i++)
        rc = close_episode(k, i, obs + (size_t)i * k->O, DATASET_EP_CUT);
    progress(k, t0, true);
    return rc;
}

/* argv with --steps[=N] spelled --collect-steps[=N]; caller frees the array (not strings) */
static char **alias_args(int argc, char **argv, char *buf, size_t buflen)
{
    char **a = calloc((size_t)argc + 1, sizeof(char *));
    for (int i = 0; a && i < argc; i++) {
        a[i] = argv[i];
        if (!strcmp(argv[i], "--steps")) {
            a[i] = "--collect-steps";
        } else if (!strncmp(argv[i], "--steps=", 8)) {
            snprintf(buf, buflen, "--collect-steps=%s", argv[i] + 8);
            a[i] = buf;
        }
    }
    return a;
}

int cmd_collect(int argc, char **argv)
{
    struct collector k;
    memset(&k, 0, sizeof(k));
    char buf[128];
    char **av = alias_args(argc, argv, buf, sizeof(buf));
    if (!av)
        return 1;
    int rc = config_cli(&k.c, "rldt collect", COLLECT_USAGE, COLLECT_KEYS, argc, av, NULL, NULL);
    free(av);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!k.c.out[0]) {
        fprintf(stderr, "rldt collect: --out=FILE is required\n");
        return 2;
    }
    if (!k.c.force && access(k.c.out, F_OK) == 0) {
        fprintf(stderr, "rldt collect: %s exists (--force to replace it)\n", k.c.out);
        return 2;
    }
    rc = collector_setup(&k);
    if (rc == 0 && (rc = run(&k)) != 0) {
        fprintf(stderr, "rldt collect: %s\n", rc == -ENOMEM ? "out of memory" : strerror(-rc));
        rc = 1;
    }
    char err[600];
    if (rc == 0 && dataset_fit_bounds(&k.ds, err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt collect: %s\n", err);
        rc = 1;
    }
    if (rc == 0 && dataset_save(&k.ds, k.c.out, err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt collect: %s\n", err);
        rc = 1;
    }
    if (rc == 0) {
        struct dataset_stats st;
        dataset_stats(&k.ds, &st);
        printf("collected %ld steps, %ld episodes (%ld complete, return mean %.1f std %.1f)%s -> "
               "%s\n",
               k.ds.n, st.episodes, st.complete, st.ret_mean, st.ret_std,
               k.dropped ? " (non-finite episodes dropped)" : "", k.c.out);
    }
    collector_fini(&k);
    return rc;
}
