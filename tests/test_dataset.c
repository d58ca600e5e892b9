/*
 * test_dataset.c — dataset files: round trip, statistics, bounds, per-episode labels; damaged files
 * (truncated, corrupted, other format or dataset version, wrong dimensions, inconsistent episodes,
 * non-finite values) refused with a reason; `rldt collect` records exactly the asked steps
 * and never leaves a half-written file (killed mid-run, or unable to write).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/dataset.h"
#include "common/hash.h"
#include "common/util.h"
#include "tests/harness.h"

enum { O = 11, A = 3 };

static char tmpdir[64];
static char rldt[512];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

// three episodes: terminated (37 steps), time limit (20), cut (5); values from the row index
static void build(struct dataset *d)
{
    dataset_init(d, "hopper", O, A);
    long lens[3] = {37, 20, 5};
    int flags[3] = {DATASET_EP_TERMINATED, DATASET_EP_TIMELIMIT, DATASET_EP_CUT};
    long row = 0;
    for (int e = 0; e < 3; e++) {
        float obs[37 * O], act[37 * A], rew[37], fin[O];
        for (long i = 0; i < lens[e]; i++, row++) {
            for (int j = 0; j < O; j++)
                obs[i * O + j] = (float)(0.01 * row + j);
            for (int j = 0; j < A; j++)
                act[i * A + j] = (float)sin(0.1 * row + j);
            rew[i] = (float)(1.0 + e);
        }
        for (int j = 0; j < O; j++)
            fin[j] = 100.0f + e;
        T_EQ_INT(dataset_add_episode(d, lens[e], obs, act, rew, fin, flags[e]), 0);
    }
    d->obs[5] = 1234.5f; /* a marker the damage tests look for */
}

static void test_build_stats_roundtrip(void)
{
    struct dataset d, e;
    char err[400], path[128];
    build(&d);
    T_EQ_INT(d.n, 62);
    T_EQ_INT(d.n_episodes, 3);
    float x = 0;
    T_EQ_INT(dataset_add_episode(&d, 0, &x, &x, &x, &x, DATASET_EP_CUT), -EINVAL);
    T_EQ_INT(dataset_add_episode(&d, 1, &x, &x, &x, &x, 3), -EINVAL);
    T_CHECK(d.term[36] == 1 && d.trunc[36] == 0 && d.trunc[56] == 1 && d.trunc[61] == 1);
    T_CHECK(d.term[35] == 0 && d.trunc[55] == 0);
    struct dataset_stats st;
    dataset_stats(&d, &st);
    T_EQ_INT(st.complete, 2);
    T_EQ_INT(st.cut, 1);
    T_NEAR(st.ret_mean, (37.0 + 40.0) / 2, 1e-9);
    T_NEAR(st.ret_min, 37.0, 1e-9);
    T_NEAR(st.ret_max, 40.0, 1e-9);
    T_NEAR(st.ret_std, 1.5, 1e-9);
    T_EQ_INT(dataset_fit_bounds(&d, err, sizeof(err)), 0);
    T_NEAR(d.bounds[0], 0.0, 1e-6);             /* obs[0] min: row 0 */
    T_NEAR(d.bounds[O + 5], 1234.5, 1e-3);      /* the marker is the maximum of dim 5 */
    T_NEAR(d.bounds[2 * O + A + 1], 1.0, 1e-3); /* act[1] = sin(0.1 row + 1) peaks near 1 */
    snprintf(d.source, sizeof(d.source), "test");
    path_in(path, sizeof(path), "d.dset");
    T_EQ_INT(dataset_save(&d, path, err, sizeof(err)), 0);
    int rc = dataset_load(&e, path, err, sizeof(err));
    T_CHECK_MSG(rc == 0, "%s", err);
    if (rc == 0) {
        T_EQ_STR(e.env, "hopper");
        T_EQ_INT(e.n, d.n);
        T_EQ_INT(e.n_episodes, 3);
        T_CHECK(!memcmp(e.obs, d.obs, sizeof(float) * O * d.n));
        T_CHECK(!memcmp(e.act, d.act, sizeof(float) * A * d.n));
        T_CHECK(!memcmp(e.rew, d.rew, sizeof(float) * d.n));
        T_CHECK(!memcmp(e.term, d.term, d.n) && !memcmp(e.trunc, d.trunc, d.n));
        T_CHECK(!memcmp(e.ep, d.ep, sizeof(*d.ep) * 3));
        T_CHECK(!memcmp(e.final_obs, d.final_obs, sizeof(float) * O * 3));
        T_CHECK(e.has_bounds && !memcmp(e.bounds, d.bounds, sizeof(float) * (2 * O + 2 * A)));
        T_EQ_STR(e.source, "test");
        dataset_fini(&e);
    }
    dataset_fini(&d);
}

// ---- damaged files -------------------------------------------------------------------------

static unsigned char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*n);
    if (b && fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static void spit(const char *path, const unsigned char *b, long n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        if (fwrite(b, 1, (size_t)n, f) != (size_t)n)
            fprintf(stderr, "short write\n");
        fclose(f);
    }
}

static long find(const unsigned char *b, long n, const void *pat, size_t len)
{
    for (long i = 0; i + (long)len <= n; i++)
        if (!memcmp(b + i, pat, len))
            return i;
    return -1;
}

// replace pattern `pat` by `rep` (same length) and fix the checksum: a well-formed container
// with bad content; then load and expect a refusal mentioning `why`
static void damaged_content(const unsigned char *good, long n, const void *pat, const void *rep,
                            size_t len, const char *why)
{
    unsigned char *b = malloc((size_t)n);
    memcpy(b, good, (size_t)n);
    long at = find(b, n, pat, len);
    T_CHECK(at >= 0);
    if (at < 0) {
        free(b);
        return;
    }
    memcpy(b + at, rep, len);
    uint32_t crc = hash_crc32c(0, b, (size_t)n - 4);
    for (int i = 0; i < 4; i++)
        b[n - 4 + i] = (unsigned char)(crc >> (8 * i));
    char path[128], err[400];
    path_in(path, sizeof(path), "bad.dset");
    spit(path, b, n);
    struct dataset d;
    int rc = dataset_load(&d, path, err, sizeof(err));
    T_CHECK_MSG(rc < 0 && strstr(err, why), "rc %d err '%s', expected '%s'", rc, err, why);
    printf("refused (%s): %s\n", why, err);
    free(b);
}

// per-episode labels (success, strategy): optional, round-tripped, checked on load
static void test_labels(void)
{
    struct dataset d, e;
    char err[400], path[128];
    build(&d);
    // a file without labels reads back with every label unknown
    path_in(path, sizeof(path), "nolabels.dset");
    T_EQ_INT(dataset_save(&d, path, err, sizeof(err)), 0);
    T_EQ_INT(dataset_load(&e, path, err, sizeof(err)), 0);
    T_CHECK(!e.has_labels);
    for (long k = 0; k < e.n_episodes; k++)
        T_CHECK(e.label[k].success == -1 && e.label[k].strategy == -1);
    struct dataset_stats st;
    dataset_stats(&e, &st);
    T_EQ_INT(st.labelled, 0);
    dataset_fini(&e);

    T_EQ_INT(dataset_label_last(&d, 2, 0), -EINVAL);
    T_EQ_INT(dataset_label_last(&d, 1, 64), -EINVAL);
    T_EQ_INT(dataset_label_last(&d, 1, 2), 0); /* the last (third) episode */
    T_EQ_INT(d.label[0].success, -1);
    path_in(path, sizeof(path), "labels.dset");
    T_EQ_INT(dataset_save(&d, path, err, sizeof(err)), 0);
    T_EQ_INT(dataset_load(&e, path, err, sizeof(err)), 0);
    T_CHECK(e.has_labels);
    T_EQ_INT(e.label[2].success, 1);
    T_EQ_INT(e.label[2].strategy, 2);
    T_EQ_INT(e.label[1].strategy, -1);
    dataset_stats(&e, &st);
    T_EQ_INT(st.labelled, 1);
    T_EQ_INT(st.successes, 1);
    T_EQ_INT(st.strategy[2], 1);
    dataset_fini(&e);

    // a file carrying an impossible label is refused with the episode named
    d.label[1].success = 7;
    path_in(path, sizeof(path), "badlabel.dset");
    T_EQ_INT(dataset_save(&d, path, err, sizeof(err)), 0);
    err[0] = 0;
    T_EQ_INT(dataset_load(&e, path, err, sizeof(err)), -EPROTO);
    T_CHECK_MSG(strstr(err, "episode 1") && strstr(err, "labels"), "%s", err);
    T_CHECK(e.label == NULL && e.n == 0);
    dataset_fini(&d);
    struct dataset z;
    dataset_init(&z, "hopper", O, A);
    T_EQ_INT(dataset_label_last(&z, 1, 0), -EINVAL); /* no episode yet */
    dataset_fini(&z);
}

static void test_damaged_files(void)
{
    struct dataset d;
    char err[400], path[128], bad[128];
    build(&d);
    dataset_fit_bounds(&d, err, sizeof(err));
    path_in(path, sizeof(path), "good.dset");
    T_EQ_INT(dataset_save(&d, path, err, sizeof(err)), 0);
    long n = 0;
    unsigned char *good = slurp(path, &n);
    T_CHECK(good != NULL);
    if (!good)
        return;
    struct dataset e;
    path_in(bad, sizeof(bad), "bad.dset");
    // truncated anywhere
    long cuts[] = {0, 20, 100, n / 2, n - 1};
    for (int i = 0; i < 5; i++) {
        spit(bad, good, cuts[i]);
        T_CHECK(dataset_load(&e, bad, err, sizeof(err)) < 0);
    }
    printf("refused (truncated): %s\n", err);
    // a flipped byte in the payload
    unsigned char *b = malloc((size_t)n);
    memcpy(b, good, (size_t)n);
    b[n / 2] ^= 0x10;
    spit(bad, b, n);
    T_CHECK(dataset_load(&e, bad, err, sizeof(err)) < 0 && strstr(err, "checksum"));
    // another container format version; a checkpoint is not a dataset
    memcpy(b, good, (size_t)n);
    b[8] = 7;
    spit(bad, b, n);
    T_CHECK(dataset_load(&e, bad, err, sizeof(err)) < 0 && strstr(err, "version"));
    memcpy(b, good, (size_t)n);
    memcpy(b + 4, "CKPT", 4);
    spit(bad, b, n);
    T_CHECK(dataset_load(&e, bad, err, sizeof(err)) < 0 && strstr(err, "DSET"));
    free(b);
    // content checks behind a valid checksum
    int64_t meta[3] = {DATASET_VERSION, O, A}, meta2[3] = {2, O, A}, meta3[3] = {1, 12, A};
    damaged_content(good, n, meta, meta2, sizeof(meta), "dataset version");
    damaged_content(good, n, meta, meta3, sizeof(meta), "do not match task");
    struct dataset_episode ep = d.ep[1], ep2 = ep;
    ep2.len = 21;
    damaged_content(good, n, &ep, &ep2, sizeof(ep), "episode");
    float mark = 1234.5f, nan = NAN;
    damaged_content(good, n, &mark, &nan, sizeof(float), "non-finite");
    uint8_t term2[62]; /* a terminal flag inside an episode */
    memcpy(term2, d.term, sizeof(term2));
    term2[10] = 1;
    damaged_content(good, n, d.term, term2, sizeof(term2), "flags");
    // missing file
    path_in(bad, sizeof(bad), "none.dset");
    T_CHECK(dataset_load(&e, bad, err, sizeof(err)) < 0);
    free(good);
    dataset_fini(&d);
}

// ---- camera images ---------------------------------------------------------------------------

enum { IH = 4, IW = 5, IC = 3, IB = IH * IW * IC };

// two episodes (9 and 4 steps) with images whose bytes come from the row (final: 200 + e)
static void build_images(struct dataset *d)
{
    dataset_init(d, "hopper", O, A);
    T_EQ_INT(dataset_set_images(d, 600, IW, IC), -EINVAL);
    T_EQ_INT(dataset_set_images(d, IH, IW, IC), 0);
    T_EQ_INT(dataset_add_images(d, NULL, NULL), -EINVAL); /* no episode yet */
    long lens[2] = {9, 4}, row = 0;
    for (int e = 0; e < 2; e++) {
        float obs[9 * O] = {0}, act[9 * A] = {0}, rew[9] = {0}, fin[O] = {0};
        uint8_t img[9 * IB], fimg[IB];
        for (long i = 0; i < lens[e]; i++, row++)
            memset(img + i * IB, (int)row, IB);
        memset(fimg, 200 + e, IB);
        T_EQ_INT(dataset_add_episode(d, lens[e], obs, act, rew, fin, DATASET_EP_TIMELIMIT), 0);
        T_EQ_INT(dataset_add_images(d, img, fimg), 0);
        T_EQ_INT(dataset_add_images(d, img, fimg), -EINVAL); /* once per episode */
    }
}

// images round-trip, an episode without them cannot be saved, malformed image sections refused
static void test_images(void)
{
    struct dataset d, e;
    char err[400], path[128];
    build_images(&d);
    T_EQ_INT(dataset_set_images(&d, IH, IW, IC), -EINVAL); /* episodes already added */
    path_in(path, sizeof(path), "images.dset");
    T_EQ_INT(dataset_save(&d, path, err, sizeof(err)), 0);
    T_EQ_INT(dataset_load(&e, path, err, sizeof(err)), 0);
    T_EQ_INT(dataset_image_bytes(&e), IB);
    T_CHECK(e.img && e.final_img && !memcmp(e.img, d.img, 13 * IB));
    T_CHECK(e.final_img[0] == 200 && e.final_img[IB] == 201 && e.img[12 * IB] == 12);
    dataset_fini(&e);
    long n = 0;
    unsigned char *good = slurp(path, &n);
    T_CHECK(good != NULL);
    if (good) {
        int64_t shape[3] = {IH, IW, IC}, big[3] = {IH, 600, IC}, more[3] = {IH, IW, 4};
        damaged_content(good, n, shape, big, sizeof(shape), "image shape");
        damaged_content(good, n, shape, more, sizeof(shape), "dataset.images");
        free(good);
    }
    // an episode added without its images
    float z[9 * O] = {0};
    T_EQ_INT(dataset_add_episode(&d, 2, z, z, z, z, DATASET_EP_CUT), 0);
    T_CHECK(dataset_save(&d, path, err, sizeof(err)) == -EINVAL && strstr(err, "no images"));
    dataset_fini(&d);
    // a dataset without images loads without them
    build(&d);
    path_in(path, sizeof(path), "noimages.dset");
    T_EQ_INT(dataset_save(&d, path, err, sizeof(err)), 0);
    T_EQ_INT(dataset_load(&e, path, err, sizeof(err)), 0);
    T_CHECK(dataset_image_bytes(&e) == 0 && e.img == NULL);
    dataset_fini(&e);
    dataset_fini(&d);
}

// ---- rldt collect --------------------------------------------------------------------------

static int run_collect(const char *out, const char *steps, double kill_after, int sig)
{
    char o[300], s[64];
    snprintf(o, sizeof(o), "--out=%s", out);
    snprintf(s, sizeof(s), "--steps=%s", steps);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        freopen("/dev/null", "w", stdout);
        execl(rldt, rldt, "collect", "--policy=random", "--env=hopper", "--num-envs=2", "--force",
              s, o, (char *)NULL);
        _exit(127);
    }
    if (kill_after > 0) {
        rl_sleep(kill_after);
        kill(pid, sig);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_collect(void)
{
    if (access(rldt, X_OK) != 0) {
        T_CHECK_MSG(0, "no rldt binary at %s", rldt);
        return;
    }
    char out[128], err[400];
    path_in(out, sizeof(out), "c.dset");
    T_EQ_INT(run_collect(out, "3001", 0, 0), 0);
    struct dataset d;
    T_EQ_INT(dataset_load(&d, out, err, sizeof(err)), 0);
    T_EQ_INT(d.n, 3001);
    T_CHECK(d.has_bounds);
    T_EQ_INT(d.ep[d.n_episodes - 1].flags, DATASET_EP_CUT);
    for (long i = 0; i < d.n * A; i++)
        T_CHECK(d.act[i] >= -1 && d.act[i] <= 1);
    dataset_fini(&d);
    // killed mid-run: the older file under the name is intact, no new file appears
    long n0 = 0, n1 = 0;
    unsigned char *before = slurp(out, &n0);
    int rc = run_collect(out, "100000000", 0.4, SIGKILL);
    T_EQ_INT(rc, 128 + SIGKILL);
    unsigned char *after = slurp(out, &n1);
    T_CHECK(before && after && n0 == n1 && !memcmp(before, after, (size_t)n0));
    free(before);
    free(after);
    char fresh[128];
    path_in(fresh, sizeof(fresh), "fresh.dset");
    T_EQ_INT(run_collect(fresh, "100000000", 0.4, SIGTERM), 128 + SIGTERM);
    T_CHECK(access(fresh, F_OK) != 0);
    // an output it cannot write: failure, nothing under the name
    char ro[128];
    path_in(ro, sizeof(ro), "no/such/dir/x.dset");
    T_EQ_INT(run_collect(ro, "500", 0, 0), 1);
    T_CHECK(access(ro, F_OK) != 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *root = getenv("RLDT_ROOT"), *build = getenv("BUILD");
    if (root && build) {
        snprintf(rldt, sizeof(rldt), "%s/%s/rldt", root, build);
    } else {
        snprintf(rldt, sizeof(rldt), "%s", argv[0]);
        char *slash = strrchr(rldt, '/');
        if (slash)
            snprintf(slash, sizeof(rldt) - (size_t)(slash - rldt), "/../rldt");
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dataset.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    T_RUN(test_build_stats_roundtrip);
    T_RUN(test_labels);
    T_RUN(test_damaged_files);
    T_RUN(test_images);
    T_RUN(test_collect);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return T_DONE("dataset");
}
