/*
 * bench_env.c — `rldt bench env`: env steps/s of the vectorised batch (random actions, chunks,
 * auto-reset) next to raw mj_step calls (frame_skip per env step, random ctrl, resets at the
 * batch's mean episode length) on the same model in the same run; the ratio is our overhead.
 * Short phases alternate over paired rounds; the overhead is the median of the per-round
 * ratios, which cancels slow load changes on a shared machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/rollout.h"
#include "actor/vecenv.h"
#include "common/config.h"
#include "common/rng.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define BENCH_ROUNDS 7

// vecenv phase: env steps/s over about secs; *ep_len = mean length of the episodes it finished
static double run_vecenv(struct vecenv *v, struct rollout_random *rnd, float *chunks, double secs,
                         double *ep_len)
{
    int M = vecenv_num_envs(v);
    const struct vecenv_result *res = vecenv_results(v);
    long steps0 = vecenv_stats(v).env_steps;
    long eps = 0, len = 0;
    double t0 = rl_now(), t = t0;
    while (t - t0 < secs) {
        for (int k = 0; k < 16; k++) {
            rollout_random_act(rnd, vecenv_obs(v), M, chunks);
            if (vecenv_step(v, chunks, NULL) < 0)
                return -1;
            for (int i = 0; i < M; i++) {
                eps += res[i].done;
                len += res[i].done ? res[i].ep_length : 0;
            }
        }
        t = rl_now();
    }
    *ep_len = eps ? (double)len / eps : 0;
    return (vecenv_stats(v).env_steps - steps0) / (t - t0);
}

// raw phase: M mjData, per env step random ctrl + frame_skip mj_step, reset every ep_len steps
static double run_raw(const mjModel *m, mjData **d, int M, int frame_skip, long ep_len,
                      struct rng *r, double secs)
{
    long steps = 0;
    double t0 = rl_now(), t = t0;
    while (t - t0 < secs) {
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < m->nu; j++)
                d[i]->ctrl[j] = rng_range(r, -1.0, 1.0);
            for (int k = 0; k < frame_skip; k++)
                mj_step(m, d[i]);
            if ((steps / M + 1) % ep_len == 0) {
                mj_resetData(m, d[i]);
                for (int j = 0; j < m->nq; j++)
                    d[i]->qpos[j] += rng_range(r, -5e-3, 5e-3);
                mj_forward(m, d[i]);
            }
            steps++;
        }
        t = rl_now();
    }
    return steps / (t - t0);
}

static int bench(const struct rl_config *c, struct vecenv *v)
{
    const struct env_model *em = vecenv_model(v);
    const mjModel *m = env_model_mj(em);
    int M = vecenv_num_envs(v);
    int fs = env_model_frame_skip(em);
    mjData **d = calloc((size_t)M, sizeof(*d));
    float *chunks = calloc((size_t)M * vecenv_chunk(v) * vecenv_act_dim(v), sizeof(float));
    int rc = 1;
    for (int i = 0; d && i < M; i++)
        if (!(d[i] = mj_makeData(m)))
            goto out;
    if (!d || !chunks)
        goto out;
    struct rollout_random rnd;
    rollout_random_init(&rnd, v, (uint64_t)c->seed, 1ull << 40);
    struct rng r;
    rng_init(&r, (uint64_t)c->seed, 1ull << 41);
    double best_vec = 0, best_raw = 0, ep_len = 0;
    double ratio[BENCH_ROUNDS];
    double secs = c->secs / (2 * BENCH_ROUNDS);
    run_vecenv(v, &rnd, chunks, 0.05, &ep_len); // warm-up, first episode lengths
    for (int round = 0; round < BENCH_ROUNDS; round++) {
        // no finished episode yet: episodes are at least as long as the phase
        long L = ep_len > 0 ? RL_MAX(1L, (long)(ep_len + 0.5)) : c->max_episode_steps;
        double raw = 0, vec = 0;
        if (round % 2)
            raw = run_raw(m, d, M, fs, L, &r, secs);
        vec = run_vecenv(v, &rnd, chunks, secs, &ep_len);
        if (vec <= 0)
            goto out;
        if (round % 2 == 0)
            raw = run_raw(m, d, M, fs, L, &r, secs);
        best_vec = RL_MAX(best_vec, vec);
        best_raw = RL_MAX(best_raw, raw);
        ratio[round] = raw / vec;
    }
    double med = bench_median(ratio, BENCH_ROUNDS);
    printf("bench env %s: num_envs=%d chunk=%d frame_skip=%d secs=%g (%d paired rounds)\n", c->env,
           M, vecenv_chunk(v), fs, c->secs, BENCH_ROUNDS);
    printf("  vecenv        %10.0f env steps/s   (best round; mean episode %.1f steps)\n", best_vec,
           ep_len);
    printf("  raw mj_step   %10.0f env steps/s   (best round; %.0f mj_step/s)\n", best_raw,
           best_raw * fs);
    printf("  overhead      %9.1f%%              (median over rounds of raw/vecenv - 1; "
           "range %.1f%% .. %.1f%%; goal < 10%%)\n",
           100.0 * (med - 1.0), 100.0 * (ratio[0] - 1.0), 100.0 * (ratio[BENCH_ROUNDS - 1] - 1.0));
    rc = 0;
out:
    for (int i = 0; d && i < M; i++)
        mj_deleteData(d[i]);
    free(d);
    free(chunks);
    return rc;
}

static int keyed_run(struct rl_config *c)
{
    int rc;
    struct vecenv_config vc;
    vecenv_config_from(&vc, c);
    char err[512];
    struct vecenv *v = vecenv_new(&vc, err, sizeof(err));
    if (!v) {
        fprintf(stderr, "rldt bench env: %s\n", err);
        return 1;
    }
    rc = bench(c, v);
    vecenv_destroy(&v);
    return rc;
}

static const struct cmd_keyed keyed = {
    "rldt bench env", "rldt bench env [--env=TASK] [--num-envs=M] [--chunk=H] [--secs=S]",
    "-env,-num_envs,-chunk,-max_episode_steps,-model_file,-secs", keyed_run};
CMD_KEYED(bench_env, keyed)
