/*
 * rollout.c — evaluation over a vecenv: fixed per-env episode quotas, one policy call per
 * chunk step, episode statistics. Allocates its scratch once per call.
 */
#include "actor/rollout.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void rollout_random_init(struct rollout_random *p, const struct vecenv *v, uint64_t seed,
                         uint64_t stream)
{
    rng_init(&p->rng, seed, stream);
    p->n = (long)vecenv_num_envs(v) * vecenv_chunk(v) * vecenv_act_dim(v);
}

int rollout_random_act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    (void)obs;
    (void)num_envs;
    struct rollout_random *p = ctx;
    for (long i = 0; i < p->n; i++)
        chunks[i] = (float)rng_range(&p->rng, -1.0, 1.0);
    return 0;
}

int rollout_zero_act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    (void)obs;
    (void)num_envs;
    memset(chunks, 0, sizeof(float) * (size_t) * (const long *)ctx);
    return 0;
}

void rollout_wilson(long k, long n, double *lo, double *hi)
{
    if (n <= 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    const double z = 1.959963984540054; /* two-sided 95% */
    double p = (double)k / n;
    double z2n = z * z / n;
    double centre = (p + z2n / 2) / (1 + z2n);
    double half = z * sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / (1 + z2n);
    // exact ends at k = 0 and k = n (rounding would leave ~1e-18 there)
    *lo = k == 0 ? 0 : fmax(0, centre - half);
    *hi = k == n ? 1 : fmin(1, centre + half);
}

static void summarise(const double *ret, const int *len, int n, struct rollout_stats *st)
{
    double sr = 0, sl = 0;
    for (int i = 0; i < n; i++) {
        sr += ret[i];
        sl += len[i];
    }
    st->return_mean = n ? sr / n : 0;
    st->length_mean = n ? sl / n : 0;
    double vr = 0, vl = 0;
    for (int i = 0; i < n; i++) {
        vr += (ret[i] - st->return_mean) * (ret[i] - st->return_mean);
        vl += (len[i] - st->length_mean) * (len[i] - st->length_mean);
    }
    st->return_std = n ? sqrt(vr / n) : 0;
    st->length_std = n ? sqrt(vl / n) : 0;
    st->episodes = n;
}

// record the episodes that ended in the last step; returns how many are still to run
static int collect(const struct vecenv *v, int *quota, unsigned char *active, double *ret, int *len,
                   int *n, struct rollout_stats *st)
{
    const struct vecenv_result *res = vecenv_results(v);
    int left = 0;
    for (int i = 0; i < vecenv_num_envs(v); i++) {
        if (active[i] && res[i].done) {
            ret[*n] = res[i].ep_return;
            len[*n] = res[i].ep_length;
            (*n)++;
            st->terminated += res[i].terminated;
            st->nonfinite += res[i].nonfinite;
            st->successes += res[i].success;
            if (--quota[i] == 0)
                active[i] = 0;
        }
        left += quota[i];
    }
    return left;
}

int rollout_eval(struct vecenv *v, rollout_act_fn act, void *ctx, int episodes, double *returns,
                 int *lengths, struct rollout_stats *st)
{
    RL_ASSERT(episodes >= 0);
    int M = vecenv_num_envs(v);
    size_t nchunk = (size_t)M * vecenv_chunk(v) * vecenv_act_dim(v);
    float *chunks = calloc(nchunk, sizeof(*chunks));
    int *quota = calloc((size_t)M, sizeof(*quota));
    unsigned char *active = calloc((size_t)M, 1);
    double *ret = calloc((size_t)episodes + 1, sizeof(*ret));
    int *len = calloc((size_t)episodes + 1, sizeof(*len));
    int rc = -ENOMEM;
    if (!chunks || !quota || !active || !ret || !len)
        goto out_free;

    memset(st, 0, sizeof(*st));
    for (int i = 0; i < M; i++) {
        quota[i] = episodes / M + (i < episodes % M);
        active[i] = quota[i] > 0;
    }
    double t0 = rl_now();
    long steps0 = vecenv_stats(v).env_steps;
    rc = vecenv_reset(v);
    int n = 0;
    for (int left = episodes; rc == 0 && left > 0;) {
        rc = act(ctx, vecenv_obs(v), M, chunks);
        if (rc == 0)
            rc = vecenv_step(v, chunks, active);
        if (rc == 0)
            left = collect(v, quota, active, ret, len, &n, st);
    }
    summarise(ret, len, n, st);
    st->env_steps = vecenv_stats(v).env_steps - steps0;
    st->success_rate = n ? (double)st->successes / n : 0;
    rollout_wilson(st->successes, n, &st->success_lo, &st->success_hi);
    st->secs = rl_now() - t0;
    if (returns)
        memcpy(returns, ret, sizeof(double) * (size_t)n);
    if (lengths)
        memcpy(lengths, len, sizeof(int) * (size_t)n);

out_free:
    free(chunks);
    free(quota);
    free(active);
    free(ret);
    free(len);
    return rc;
}
