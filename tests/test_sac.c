/*
 * test_sac.c — SAC on a contextual bandit, the bootstrap fixed point (terminal vs truncated),
 * checkpoint round trip and refusals, the -EDOM path, and the export/sampler contract.
 */
#include "learner/algo/sac.h"
#include "tests/algotest.h"
#include "tests/harness.h"

#include <cblas.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/ckpt.h"
#include "common/config.h"
#include "common/gauss.h"
#include "common/rng.h"
#include "learner/replay.h"

#define S 2
#define T 50

static char tmpdir[64];

// small nets: 64-64, batch 128
static void small_config(struct rl_config *c)
{
    algotest_config(c, "seed=3 sac_hidden=64 batch_size=128 sac_lr=1e-3");
}

/* an instance for actions of act_dim 1 in chunks of H (D = H) */
static struct algo *make(const struct rl_config *c, int H)
{
    struct algo_dims d = {S, 1, H, H};
    char err[256] = "";
    struct algo *a = sac_ops.create(c, &d, err, sizeof(err));
    T_CHECK_MSG(a != NULL, "%s", err);
    return a;
}

/*
 * A replay of n rows with D-dim actions: s ~ U[-1,1]^2, a ~ U[-1,1]^D, next s random. kind 0:
 * bandit reward −(a − 0.5 s0)², every step terminal. kind 1: reward 1, segments end truncated
 * (never done). kind 2: reward 1, every step terminal. kind 3: like 0 but every reward NaN. kind 4:
 * like 1 with reward 0.
 */
static struct replay *make_replay_d(int kind, long n, uint64_t seed, int D)
{
    struct replay *r = replay_new(n, S, D);
    float obs[(T + 1) * S], act[T * 4], rew[T];
    uint8_t term[T], trunc[T];
    struct rng g;
    rng_init(&g, seed, 0);
    for (long k = 0; k < n / T; k++) {
        for (int i = 0; i < (T + 1) * S; i++)
            obs[i] = (float)rng_range(&g, -1, 1);
        for (int i = 0; i < T * D; i++)
            act[i] = (float)rng_range(&g, -1, 1);
        for (int t = 0; t < T; t++) {
            float e = act[t * D] - 0.5f * obs[t * S];
            rew[t] = kind == 0 ? -e * e : kind == 3 ? NAN : kind == 4 ? 0.0f : 1.0f;
            term[t] = kind != 1 && kind != 4;
            trunc[t] = !term[t] && t == T - 1;
        }
        struct algotest_seg seg = {T, obs, act, rew, NULL, term, trunc};
        T_EQ_INT(algotest_add(r, &seg, (uint64_t)k), 0);
    }
    return r;
}

static struct replay *make_replay(int kind, long n, uint64_t seed)
{
    return make_replay_d(kind, n, seed, 1);
}

static int train(struct algo *a, struct replay *r, int steps, struct algo_report *rep)
{
    for (int i = 0; i < steps; i++) {
        int rc = sac_ops.train_step(a, r, rep);
        if (rc)
            return rc;
    }
    return 0;
}

// ---- (a) contextual bandit -----------------------------------------------------------------

static void test_bandit(void)
{
    struct rl_config c;
    small_config(&c);
    struct algo *a = make(&c, 1);
    struct replay *r = make_replay(0, 5000, 1);
    struct algo_report rep = {0};
    T_EQ_INT(train(a, r, 3000, &rep), 0);
    printf("bandit: critic_loss %.4g actor_loss %.4g alpha %.4g entropy %.3g q_mean %.3g\n",
           algotest_report(&rep, "critic_loss"), algotest_report(&rep, "actor_loss"),
           algotest_report(&rep, "alpha"), algotest_report(&rep, "entropy"),
           algotest_report(&rep, "q_mean"));
    /* the exported block drives the actor-side sampler */
    struct policy_dims pd = {S, 1, 1};
    char err[256];
    void *p = gauss_policy_ops.create(&c, &pd, 100, err, sizeof(err));
    T_CHECK_MSG(p != NULL, "%s", err);
    if (!p)
        goto out;
    T_EQ_INT(gauss_policy_ops.nparams(p), sac_ops.policy_size(a));
    T_CHECK(gauss_policy_ops.layout(p) == sac_ops.policy_layout(a));
    sac_ops.policy_export(a, gauss_policy_ops.params(p));
    float obs[100 * S], act[100], q[100], rw[100];
    struct rng g;
    rng_init(&g, 77, 0);
    for (int i = 0; i < 100 * S; i++)
        obs[i] = (float)rng_range(&g, -1, 1);
    gauss_policy_ops.act(p, obs, 100, &g, true, act);
    double mae = 0, qerr = 0;
    for (int i = 0; i < 100; i++)
        mae += fabs(act[i] - 0.5 * obs[i * S]) / 100;
    /* Q against the reward at random actions */
    for (int i = 0; i < 100; i++) {
        act[i] = (float)rng_range(&g, -1, 1);
        float e = act[i] - 0.5f * obs[i * S];
        rw[i] = -e * e;
    }
    sac_q_eval(a, obs, act, 100, q);
    for (int i = 0; i < 100; i++)
        qerr += fabs(q[i] - rw[i]) / 100;
    printf("bandit: mean |a - 0.5 s0| = %.4f (0.25 for a = 0), mean |Q - r| = %.4f\n", mae, qerr);
    T_CHECK(mae < 0.05);
    T_CHECK(qerr < 0.05);
    gauss_policy_ops.destroy(p);
out:
    replay_destroy(&r);
    sac_ops.destroy(a);
}

// ---- (b) bootstrapping ---------------------------------------------------------------------

/*
 * mean min(Q1, Q2) over random (s, a) after training on replay kind with γ = 0.5 and a fixed
 * temperature alpha; *entropy receives the last reported policy entropy.
 */
static double fixed_point(int kind, double alpha, int H, double *entropy)
{
    struct rl_config c;
    algotest_config(&c, "seed=3 sac_hidden=32 batch_size=64 sac_lr=1e-3 gamma=0.5 tau=0.05 "
                        "sac_alpha_lr=0");
    c.sac_init_alpha = alpha;
    struct algo *a = make(&c, H);
    struct replay *r = make_replay_d(kind, 2000, 2, H);
    struct algo_report rep = {0};
    T_EQ_INT(train(a, r, 1500, &rep), 0);
    T_NEAR(algotest_report(&rep, "alpha"), alpha, 1e-6 * alpha); /* fixed: sac_alpha_lr = 0 */
    *entropy = algotest_report(&rep, "entropy");
    float obs[64 * S], act[64 * 4], q[64];
    struct rng g;
    rng_init(&g, 5, 0);
    for (int i = 0; i < 64 * S; i++)
        obs[i] = (float)rng_range(&g, -1, 1);
    for (int i = 0; i < 64 * H; i++)
        act[i] = (float)rng_range(&g, -1, 1);
    sac_q_eval(a, obs, act, 64, q);
    double m = 0;
    for (int i = 0; i < 64; i++)
        m += q[i] / 64;
    replay_destroy(&r);
    sac_ops.destroy(a);
    return m;
}

static void test_bootstrap(void)
{
    /* α = 1e-6: entropy terms are negligible next to the rewards */
    double h1, h2, h3, h4;
    double trunc = fixed_point(1, 1e-6, 1, &h1), term = fixed_point(2, 1e-6, 1, &h2);
    printf("fixed point, reward 1, gamma 0.5: truncated %.4f (want 2), terminal %.4f (want 1)\n",
           trunc, term);
    T_NEAR(trunc, 2.0, 0.05);
    T_NEAR(term, 1.0, 0.02);
    /* reward 0, α = 1: only the soft term −α log π' feeds the target, Q = γ α H / (1 − γ) = H */
    double soft = fixed_point(4, 1.0, 1, &h3);
    printf("fixed point, reward 0, alpha 1: Q %.4f, policy entropy %.4f (want equal)\n", soft, h3);
    T_CHECK(h3 > 0.3);
    T_NEAR(soft, h3, 0.05);
    /* chunks of H = 2 (steps unrecorded: H assumed): the bootstrap is discounted by γ² */
    double chunk = fixed_point(1, 1e-6, 2, &h4);
    printf("fixed point, chunk 2, reward 1 per chunk: %.4f (want 1/(1 - 0.25) = 1.3333)\n", chunk);
    T_NEAR(chunk, 4.0 / 3.0, 0.04);
}

// ---- (c) checkpoints -----------------------------------------------------------------------

static const char *const sections[] = {
    "sac.meta",    "sac.rng",        "sac.actor",   "sac.q1",      "sac.q2",        "sac.q1_targ",
    "sac.q2_targ", "sac.adam_actor", "sac.adam_q1", "sac.adam_q2", "sac.adam_alpha"};
#define NSEC (sizeof(sections) / sizeof(sections[0]))

static int save(struct algo *a, const char *name, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", tmpdir, name);
    struct ckpt_writer *w = ckpt_writer_new("CKPT", sac_ops.policy_layout(a));
    char err[256];
    int rc = sac_ops.save(a, w);
    if (!rc)
        rc = ckpt_writer_save(w, path, err, sizeof(err));
    ckpt_writer_destroy(&w);
    T_EQ_INT(rc, 0);
    return rc;
}

/* number of sections (all but `skip`) whose bytes differ between two checkpoints */
static int differing(const char *p1, const char *p2, const char *skip)
{
    char err[256];
    struct ckpt *a = ckpt_load(p1, "CKPT", 0, err, sizeof(err));
    struct ckpt *b = ckpt_load(p2, "CKPT", 0, err, sizeof(err));
    int n = 0;
    for (size_t i = 0; a && b && i < NSEC; i++) {
        size_t na = 0, nb = 0;
        const void *x = ckpt_get(a, sections[i], &na), *y = ckpt_get(b, sections[i], &nb);
        T_CHECK(x && y);
        if (skip && !strcmp(sections[i], skip))
            continue;
        if (!x || !y || na != nb || memcmp(x, y, na)) {
            printf("  section %s differs\n", sections[i]);
            n++;
        }
    }
    T_CHECK(a && b);
    ckpt_destroy(&a);
    ckpt_destroy(&b);
    return n;
}

static int load(struct algo *a, const char *path, char *err, size_t errlen)
{
    struct ckpt *c = ckpt_load(path, "CKPT", 0, err, errlen);
    if (!c)
        return -EPROTO;
    int rc = sac_ops.load(a, c, err, errlen);
    ckpt_destroy(&c);
    return rc;
}

static void test_save_load(void)
{
    struct rl_config c;
    small_config(&c);
    struct algo *a = make(&c, 1);
    c.seed = 99; /* a differently initialised instance */
    struct algo *b = make(&c, 1);
    struct replay *r = make_replay(0, 1000, 3);
    struct algo_report ra = {0}, rb = {0};
    char p0[128], pa[128], pb[128], err[256];
    T_EQ_INT(train(a, r, 20, &ra), 0);
    save(a, "a0", p0, sizeof(p0));
    T_EQ_INT(load(b, p0, err, sizeof(err)), 0);
    T_EQ_INT(differing(p0, p0, NULL), 0);
    T_EQ_INT(sac_ops.train_step(a, r, &ra), 0);
    T_EQ_INT(sac_ops.train_step(b, r, &rb), 0);
    save(a, "a1", pa, sizeof(pa));
    save(b, "b1", pb, sizeof(pb));
    T_EQ_INT(differing(pa, pb, NULL), 0);
    T_EQ_INT(differing(p0, pa, NULL), (int)NSEC); /* a step changes every section */
    T_CHECK(algotest_report(&ra, "critic_loss") == algotest_report(&rb, "critic_loss"));
    T_CHECK(algotest_report(&ra, "actor_loss") == algotest_report(&rb, "actor_loss"));
    replay_destroy(&r);
    sac_ops.destroy(a);
    sac_ops.destroy(b);
}

/* copy of checkpoint src with section `name` replaced by `size` bytes (or dropped if 0) */
static void rewrite(const char *src, const char *dst, const char *name, size_t size)
{
    char err[256];
    struct ckpt *c = ckpt_load(src, "CKPT", 0, err, sizeof(err));
    T_CHECK(c != NULL);
    if (!c)
        return;
    struct ckpt_writer *w = ckpt_writer_new("CKPT", ckpt_layout_hash(c));
    void *junk = calloc(1, size + 1);
    for (size_t i = 0; i < NSEC; i++) {
        size_t n;
        const void *p = ckpt_get(c, sections[i], &n);
        if (strcmp(sections[i], name))
            ckpt_add(w, sections[i], p, n);
        else if (size)
            ckpt_add(w, sections[i], junk, size);
    }
    T_EQ_INT(ckpt_writer_save(w, dst, err, sizeof(err)), 0);
    ckpt_writer_destroy(&w);
    ckpt_destroy(&c);
    free(junk);
}

static void test_load_refusals(void)
{
    struct rl_config c;
    small_config(&c);
    struct algo *a = make(&c, 1);
    char p0[128], p1[128], p2[128], bad[128], err[256];
    save(a, "ref", p0, sizeof(p0));
    /* other shapes */
    c.sac_hidden = 32;
    struct algo *narrow = make(&c, 1);
    T_EQ_INT(load(narrow, p0, err, sizeof(err)), -EINVAL);
    printf("refused: %s\n", err);
    T_CHECK(strstr(err, "hidden 64x2") && strstr(err, "hidden 32x2"));
    small_config(&c);
    struct algo *wide_act = make(&c, 2); /* chunk 2 */
    T_EQ_INT(load(wide_act, p0, err, sizeof(err)), -EINVAL);
    T_CHECK(strstr(err, "chunk 1") && strstr(err, "chunk 2"));
    /* broken sections leave the instance as it was */
    struct algo *b = make(&c, 1);
    save(b, "b", p1, sizeof(p1));
    snprintf(bad, sizeof(bad), "%s/bad", tmpdir);
    rewrite(p0, bad, "sac.q2_targ", 12);
    T_EQ_INT(load(b, bad, err, sizeof(err)), -EPROTO);
    printf("refused: %s\n", err);
    T_CHECK(strstr(err, "sac.q2_targ") != NULL);
    rewrite(p0, bad, "sac.adam_actor", 0);
    T_EQ_INT(load(b, bad, err, sizeof(err)), -ENOENT);
    T_CHECK(strstr(err, "sac.adam_actor") != NULL);
    rewrite(p0, bad, "sac.meta", 8);
    T_CHECK(load(b, bad, err, sizeof(err)) < 0);
    save(b, "b2", p2, sizeof(p2));
    T_EQ_INT(differing(p1, p2, NULL), 0);
    /* a flipped byte in the file is caught by the container */
    FILE *f = fopen(p0, "r+b");
    T_CHECK(f != NULL);
    if (f) {
        fseek(f, 4096, SEEK_SET);
        int ch = fgetc(f);
        fseek(f, 4096, SEEK_SET);
        fputc(ch ^ 0x40, f);
        fclose(f);
    }
    T_CHECK(load(b, p0, err, sizeof(err)) < 0);
    sac_ops.destroy(a);
    sac_ops.destroy(narrow);
    sac_ops.destroy(wide_act);
    sac_ops.destroy(b);
}

// ---- (d) non-finite losses, not enough data ------------------------------------------------

static void test_nonfinite(void)
{
    struct rl_config c;
    small_config(&c);
    struct algo *a = make(&c, 1);
    struct replay *good = make_replay(0, 1000, 4), *nan = make_replay(3, 1000, 4);
    struct algo_report rep = {0};
    char p0[128], p1[128];
    T_EQ_INT(train(a, good, 10, &rep), 0); /* Adam moments and targets ≠ online nets */
    save(a, "n0", p0, sizeof(p0));
    rep.n = 0;
    T_EQ_INT(sac_ops.train_step(a, nan, &rep), -EDOM);
    T_EQ_INT(rep.n, 0);
    save(a, "n1", p1, sizeof(p1));
    /* nothing but the RNG stream moved (so the next try draws another batch) */
    T_EQ_INT(differing(p0, p1, "sac.rng"), 0);
    T_EQ_INT(sac_ops.train_step(a, good, &rep), 0);
    replay_destroy(&good);
    replay_destroy(&nan);
    sac_ops.destroy(a);
}

static void test_eagain(void)
{
    struct rl_config c;
    small_config(&c);
    struct algo *a = make(&c, 1);
    struct replay *r = make_replay(0, 100, 5); /* 100 rows < batch 128 */
    struct algo_report rep = {0};
    T_EQ_INT(sac_ops.train_step(a, r, &rep), -EAGAIN);
    const float *lo = (const float *)1, *hi = lo, *alo = lo, *ahi = lo;
    T_EQ_INT(sac_ops.bounds(a, &lo, &hi, &alo, &ahi), 0);
    T_CHECK(!lo && !hi && !alo && !ahi);
    replay_destroy(&r);
    sac_ops.destroy(a);
}

static void test_create_refusals(void)
{
    struct rl_config c;
    small_config(&c);
    char err[256] = "";
    struct algo_dims bad = {S, 2, 2, 3}; /* D != chunk * act_dim */
    T_CHECK(sac_ops.create(&c, &bad, err, sizeof(err)) == NULL);
    T_CHECK(strstr(err, "dims") != NULL);
    struct algo_dims d = {S, 1, 1, 1};
    c.sac_layers = 0;
    T_CHECK(sac_ops.create(&c, &d, err, sizeof(err)) == NULL);
    T_CHECK(strstr(err, "sac_layers") != NULL);
    T_CHECK(algo_find("sac") == &sac_ops);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sac.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    openblas_set_num_threads(1); /* small nets: threads only add overhead on a shared box */
    T_RUN(test_create_refusals);
    T_RUN(test_eagain);
    T_RUN(test_nonfinite);
    T_RUN(test_save_load);
    T_RUN(test_load_refusals);
    T_RUN(test_bootstrap);
    T_RUN(test_bandit);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return T_DONE("sac");
}
