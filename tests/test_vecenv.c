/*
 * test_vecenv.c — actor/vecenv and actor/rollout: chunk semantics against single env steps
 * (summed reward, early stop, flags, final_obs, auto-reset), truncation inside chunks, the
 * active mask, bad actions, seeding, and random-policy returns in the range of Gym-v4.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actor/rollout.h"
#include "actor/vecenv.h"
#include "common/config.h"
#include "common/rng.h"
#include "tests/harness.h"

static struct vecenv *make(const char *task, int M, int H, int T, uint64_t seed)
{
    struct vecenv_config c;
    vecenv_config_default(&c);
    c.task = task;
    c.num_envs = M;
    c.chunk = H;
    c.max_episode_steps = T;
    c.seed = seed;
    c.stream = 10;
    char err[512] = "";
    struct vecenv *v = vecenv_new(&c, err, sizeof(err));
    T_CHECK_MSG(v != NULL, "%s", err);
    return v;
}

static void test_config_errors(void)
{
    struct vecenv_config c;
    vecenv_config_default(&c);
    char err[512] = "";
    c.task = "ant";
    T_CHECK(vecenv_new(&c, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "hopper") != NULL, "%s", err);
    vecenv_config_default(&c);
    c.num_envs = 0;
    err[0] = 0;
    T_CHECK(vecenv_new(&c, err, sizeof(err)) == NULL);
    T_CHECK(err[0] != 0);
    vecenv_config_default(&c);
    c.model_file = "/nonexistent.xml";
    err[0] = 0;
    T_CHECK(vecenv_new(&c, err, sizeof(err)) == NULL);
    T_CHECK(strstr(err, "/nonexistent.xml") != NULL);
    struct vecenv *v = NULL;
    vecenv_destroy(&v);
    vecenv_destroy(NULL);
}

/*
 * Reference: M single envs on the same model with the same streams, stepped one action at a
 * time. The vecenv must agree exactly with it, chunk by chunk.
 */
// a run config's env keys carry over; the stream starts at 0
static void test_config_from(void)
{
    struct rl_config c;
    char err[256];
    config_default(&c);
    T_EQ_INT(config_set(&c, "env", "walker2d", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&c, "num_envs", "5", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&c, "chunk", "3", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&c, "max_episode_steps", "77", err, sizeof(err)), 0);
    T_EQ_INT(config_set(&c, "seed", "12", err, sizeof(err)), 0);
    struct vecenv_config vc;
    vecenv_config_default(&vc);
    vc.stream = 9;
    vecenv_config_from(&vc, &c);
    T_EQ_STR(vc.task, "walker2d");
    T_EQ_STR(vc.model_file, "");
    T_EQ_INT(vc.num_envs, 5);
    T_EQ_INT(vc.chunk, 3);
    T_EQ_INT(vc.max_episode_steps, 77);
    T_EQ_INT((int)vc.seed, 12);
    T_EQ_INT((int)vc.stream, 0);
    struct vecenv *v = vecenv_new(&vc, err, sizeof(err));
    T_CHECK_MSG(v != NULL, "%s", err);
    if (v)
        T_EQ_INT(vecenv_obs_dim(v), 17);
    vecenv_destroy(&v);
}

static void test_chunks_match_single_steps(void)
{
    enum { M = 3, H = 4, A = 3, O = 11 };
    struct vecenv *v = make("hopper", M, H, 1000, 21);
    if (!v)
        return;
    T_EQ_INT(vecenv_obs_dim(v), O);
    T_EQ_INT(vecenv_act_dim(v), A);
    struct env *ref[M];
    float robs[M][O];
    for (int i = 0; i < M; i++) {
        ref[i] = env_new(vecenv_model(v), 21, 10 + i, 1000);
        env_reset(ref[i], robs[i]);
        T_CHECK(memcmp(robs[i], vecenv_obs(v) + i * O, sizeof(robs[i])) == 0);
    }
    struct rng r;
    rng_init(&r, 8, 0);
    float acts[M * H * A];
    int early = 0, episodes = 0;
    for (int call = 0; call < 60; call++) {
        for (int j = 0; j < M * H * A; j++)
            acts[j] = (float)rng_range(&r, -1, 1);
        T_EQ_INT(vecenv_step(v, acts, NULL), 0);
        const struct vecenv_result *res = vecenv_results(v);
        for (int i = 0; i < M; i++) {
            double sum = 0;
            int k = 0;
            struct env_step_info info = {0};
            while (k < H) {
                env_step(ref[i], acts + (i * H + k) * A, A, robs[i], &info);
                sum += info.reward;
                k++;
                if (info.terminated || info.truncated)
                    break;
            }
            T_EQ_INT(res[i].steps, k);
            T_NEAR(res[i].reward, sum, 1e-12);
            T_EQ_INT(res[i].terminated, info.terminated);
            T_EQ_INT(res[i].truncated, info.truncated);
            T_EQ_INT(res[i].done, info.terminated || info.truncated);
            T_CHECK(memcmp(robs[i], vecenv_final_obs(v) + i * O, sizeof(robs[i])) == 0);
            if (res[i].done) {
                T_NEAR(res[i].ep_return, info.ep_return, 1e-12);
                T_EQ_INT(res[i].ep_length, info.length);
                early += k < H;
                episodes++;
                env_reset(ref[i], robs[i]); // the vecenv auto-reset draws the same noise
                T_CHECK(memcmp(vecenv_final_obs(v) + i * O, vecenv_obs(v) + i * O,
                               sizeof(robs[i])) != 0);
            }
            T_CHECK(memcmp(robs[i], vecenv_obs(v) + i * O, sizeof(robs[i])) == 0);
        }
    }
    // random hopper episodes last ~20 steps: several ended, some inside a chunk
    T_CHECK_MSG(episodes >= 5 && early >= 1, "episodes %d, early stops %d", episodes, early);
    struct vecenv_stats st = vecenv_stats(v);
    T_EQ_INT(st.episodes, episodes);
    for (int i = 0; i < M; i++)
        env_destroy(&ref[i]);
    vecenv_destroy(&v);
    T_CHECK(v == NULL);
}

static void test_truncation_in_chunks(void)
{
    // limit 10 with H = 4: chunks of 4, 4, 2 steps, then a fresh episode
    struct vecenv *v = make("halfcheetah", 2, 4, 10, 1);
    if (!v)
        return;
    float acts[2 * 4 * 6] = {0};
    const struct vecenv_result *res = vecenv_results(v);
    int want[] = {4, 4, 2, 4};
    for (int c = 0; c < 4; c++) {
        T_EQ_INT(vecenv_step(v, acts, NULL), 0);
        for (int i = 0; i < 2; i++) {
            T_EQ_INT(res[i].steps, want[c]);
            T_EQ_INT(res[i].truncated, c == 2);
            T_EQ_INT(res[i].terminated, 0);
            T_EQ_INT(res[i].done, c == 2);
            if (c == 2)
                T_EQ_INT(res[i].ep_length, 10);
        }
    }
    T_EQ_INT(vecenv_stats(v).env_steps, 2 * 14);
    T_EQ_INT(vecenv_stats(v).episodes, 2);
    vecenv_destroy(&v);
}

static void test_active_mask_and_bad_actions(void)
{
    enum { M = 2, H = 2, A = 6, O = 17 };
    struct vecenv *v = make("walker2d", M, H, 1000, 3);
    if (!v)
        return;
    float acts[M * H * A];
    for (int j = 0; j < M * H * A; j++)
        acts[j] = 0.1f;
    float before[M * O];
    memcpy(before, vecenv_obs(v), sizeof(before));
    unsigned char active[M] = {0, 1};
    T_EQ_INT(vecenv_step(v, acts, active), 0);
    const struct vecenv_result *res = vecenv_results(v);
    T_EQ_INT(res[0].steps, 0);
    T_EQ_INT(res[1].steps, H);
    T_CHECK(memcmp(before, vecenv_obs(v), O * sizeof(float)) == 0);
    T_CHECK(memcmp(before + O, vecenv_obs(v) + O, O * sizeof(float)) != 0);
    T_CHECK(memcmp(vecenv_obs(v), vecenv_final_obs(v), sizeof(before)) == 0);

    // a NaN anywhere in an active env's chunk: refused, nothing stepped
    memcpy(before, vecenv_obs(v), sizeof(before));
    long steps = vecenv_stats(v).env_steps;
    acts[M * H * A - 1] = NAN;
    T_EQ_INT(vecenv_step(v, acts, NULL), -EINVAL);
    T_EQ_INT(vecenv_stats(v).env_steps, steps);
    T_CHECK(memcmp(before, vecenv_obs(v), sizeof(before)) == 0);
    // ... unless that env is inactive
    active[1] = 0;
    active[0] = 1;
    T_EQ_INT(vecenv_step(v, acts, active), 0);
    T_EQ_INT(vecenv_stats(v).env_steps, steps + H);
    vecenv_destroy(&v);
}

static void run_trace(uint64_t seed, float *out, int n)
{
    struct vecenv *v = make("hopper", 4, 4, 1000, seed);
    if (!v)
        return;
    struct rollout_random p;
    rollout_random_init(&p, v, 5, 1);
    float acts[4 * 4 * 3];
    for (int c = 0; c < n; c++) {
        rollout_random_act(&p, vecenv_obs(v), 4, acts);
        vecenv_step(v, acts, NULL);
        memcpy(out + c * 4 * 11, vecenv_obs(v), 4 * 11 * sizeof(float));
    }
    vecenv_destroy(&v);
}

static void test_seeding(void)
{
    static float a[50 * 44], b[50 * 44], c[50 * 44];
    run_trace(1, a, 50);
    run_trace(1, b, 50);
    run_trace(2, c, 50);
    T_CHECK(memcmp(a, b, sizeof(a)) == 0);
    T_CHECK(memcmp(a, c, sizeof(a)) != 0);
    // envs of one vecenv draw different reset noise
    T_CHECK(memcmp(a, a + 11, 11 * sizeof(float)) != 0);
}

static void test_rollout_quota(void)
{
    // 7 episodes over 3 envs: quotas 3, 2, 2, all counted once
    struct vecenv *v = make("hopper", 3, 4, 1000, 4);
    if (!v)
        return;
    long n = 3 * 4 * 3;
    double ret[7];
    int len[7];
    struct rollout_stats st;
    T_EQ_INT(rollout_eval(v, rollout_zero_act, &n, 7, ret, len, &st), 0);
    T_EQ_INT(st.episodes, 7);
    T_EQ_INT(st.terminated, 7);
    double s = 0;
    long steps = 0;
    for (int i = 0; i < 7; i++) {
        s += ret[i];
        steps += len[i];
        T_CHECK(len[i] > 0 && len[i] < 1000);
    }
    T_NEAR(st.return_mean, s / 7, 1e-9);
    T_NEAR(st.length_mean, steps / 7.0, 1e-9);
    T_EQ_INT(st.env_steps, steps); // idle envs were not stepped
    vecenv_destroy(&v);
}

/*
 * Uniform random actions, compared with Gym-v4 and the D4RL random references of
 * actor/README.md (Hopper -20 .. 40, Walker2d 1.6, HalfCheetah -280 over 1000 steps).
 */
static void test_random_returns(void)
{
    struct {
        const char *task;
        int episodes;
        double ret_lo, ret_hi, len_lo, len_hi;
    } cases[] = {
        {"hopper", 40, 5, 60, 10, 60},
        {"walker2d", 40, -10, 20, 8, 60},
        {"halfcheetah", 4, -400, -150, 1000, 1000},
    };
    for (int k = 0; k < 3; k++) {
        struct vecenv *v = make(cases[k].task, 4, 4, 1000, 1);
        if (!v)
            continue;
        struct rollout_random p;
        rollout_random_init(&p, v, 1, 1ull << 40);
        struct rollout_stats st;
        T_EQ_INT(rollout_eval(v, rollout_random_act, &p, cases[k].episodes, NULL, NULL, &st), 0);
        T_CHECK_MSG(st.return_mean > cases[k].ret_lo && st.return_mean < cases[k].ret_hi,
                    "%s: random return %g", cases[k].task, st.return_mean);
        T_CHECK_MSG(st.length_mean >= cases[k].len_lo && st.length_mean <= cases[k].len_hi,
                    "%s: random length %g", cases[k].task, st.length_mean);
        T_EQ_INT(st.nonfinite, 0);
        fprintf(stderr, "  %s random: return %.2f +- %.2f, length %.1f (%d episodes)\n",
                cases[k].task, st.return_mean, st.return_std, st.length_mean, st.episodes);
        vecenv_destroy(&v);
    }
}

int main(void)
{
    T_RUN(test_config_errors);
    T_RUN(test_config_from);
    T_RUN(test_chunks_match_single_steps);
    T_RUN(test_truncation_in_chunks);
    T_RUN(test_active_mask_and_bad_actions);
    T_RUN(test_seeding);
    T_RUN(test_rollout_quota);
    T_RUN(test_random_returns);
    return T_DONE("vecenv");
}
