/* test_replay.c — storage, eviction, fresh sampling, parity, segment walking, threads. */
#include "learner/replay.h"
#include "common/util.h"
#include "tests/harness.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define O 3
#define D 2

// a segment of T <= 10 steps whose values encode (traj, t) so rows can be checked after sampling
struct seg {
    float obs[11 * O], act[10 * D], rew[10];
    uint8_t term[10], trunc[10];
    int steps[10];
    struct replay_segment s;
};

static const struct replay_segment *make_seg(struct seg *g, uint64_t traj, int T)
{
    for (int t = 0; t <= T; t++)
        for (int k = 0; k < O; k++)
            g->obs[t * O + k] = (float)(traj * 1000 + t) + 0.1f * (float)k;
    for (int t = 0; t < T; t++) {
        g->act[t * D] = (float)traj;
        g->act[t * D + 1] = (float)t;
        g->rew[t] = (float)(traj * 1000 + t);
        g->term[t] = t == T - 1 && traj % 3 == 0;
        g->trunc[t] = 0;
        g->steps[t] = 4;
    }
    g->s = (struct replay_segment){.T = T,
                                   .obs = g->obs,
                                   .act = g->act,
                                   .rew = g->rew,
                                   .steps = g->steps,
                                   .term = g->term,
                                   .trunc = g->trunc,
                                   .traj_id = traj,
                                   .version = 7};
    return &g->s;
}

// add segments traj 0 .. n-1 of 10 steps each
static void add_segs(struct replay *r, int n)
{
    struct seg sg;
    for (uint64_t traj = 0; traj < (uint64_t)n; traj++)
        T_EQ_INT(replay_add(r, make_seg(&sg, traj, 10)), 0);
}

struct bufs {
    float obs[64 * O], nobs[64 * O], act[64 * D], rew[64], done[64], steps[64];
    uint64_t traj[64];
    int64_t index[64];
    struct replay_batch b;
};

static void bufs_init(struct bufs *x)
{
    x->b = (struct replay_batch){.obs = x->obs,
                                 .act = x->act,
                                 .rew = x->rew,
                                 .next_obs = x->nobs,
                                 .done = x->done,
                                 .steps = x->steps,
                                 .traj = x->traj,
                                 .index = x->index};
}

static void test_store_and_sample(void)
{
    struct replay *r = replay_new(100, O, D);
    add_segs(r, 5);
    T_EQ_INT(replay_size(r), 50);
    struct bufs x;
    bufs_init(&x);
    struct rng g;
    rng_init(&g, 1, 0);
    T_EQ_INT(replay_sample(r, &g, 64, 0, 0, -1, &x.b), 64);
    for (int i = 0; i < 64; i++) {
        int traj = (int)x.act[i * D], t = (int)x.act[i * D + 1];
        T_NEAR(x.obs[i * O], traj * 1000 + t, 0);
        T_NEAR(x.nobs[i * O + 2], traj * 1000 + t + 1 + 0.2f, 1e-3);
        T_NEAR(x.rew[i], traj * 1000 + t, 0);
        T_NEAR(x.done[i], t == 9 && traj % 3 == 0, 0);
        T_EQ_INT(x.traj[i], traj);
        T_NEAR(x.steps[i], 4, 0);
    }
    replay_destroy(&r);
    T_CHECK(r == NULL);
}

static void test_eviction_and_fresh(void)
{
    struct replay *r = replay_new(25, O, D);
    struct seg sg;
    add_segs(r, 4);
    T_EQ_INT(replay_size(r), 25);
    T_EQ_INT(replay_inserted(r), 40);
    T_EQ_INT(replay_evicted(r), 15);
    struct bufs x;
    bufs_init(&x);
    struct rng g;
    rng_init(&g, 2, 0);
    // only the newest 25 steps remain: traj 1 steps 5..9, traj 2, traj 3
    T_EQ_INT(replay_sample(r, &g, 64, 0, 0, -1, &x.b), 64);
    for (int i = 0; i < 64; i++) {
        int traj = (int)x.act[i * D], t = (int)x.act[i * D + 1];
        T_CHECK(traj >= 1 && (traj > 1 || t >= 5));
    }
    // half of the batch fresh from the newest 10 steps (= traj 3)
    T_EQ_INT(replay_sample(r, &g, 64, 0.5, 10, -1, &x.b), 64);
    int fresh = 0;
    for (int i = 0; i < 64; i++)
        fresh += (int)x.act[i * D] == 3;
    T_CHECK_MSG(fresh >= 32, "fresh rows %d", fresh);
    T_CHECK_MSG(fresh < 64, "all rows fresh: uniform part missing");
    // bad segments
    struct replay_segment s = *make_seg(&sg, 3, 10);
    s.T = 0;
    T_EQ_INT(replay_add(r, &s), -EINVAL);
    s.T = 26;
    T_EQ_INT(replay_add(r, &s), -EINVAL);
    replay_destroy(&r);
}

static void test_parity_and_next(void)
{
    struct replay *r = replay_new(1000, O, D);
    struct seg sg;
    for (uint64_t traj = 0; traj < 6; traj++) {
        replay_add(r, make_seg(&sg, traj, traj == 5 ? 3 : 10));
    }
    struct bufs x;
    bufs_init(&x);
    struct rng g;
    rng_init(&g, 3, 0);
    for (int parity = 0; parity < 2; parity++) {
        T_EQ_INT(replay_sample(r, &g, 64, 0.3, 5, parity, &x.b), 64);
        for (int i = 0; i < 64; i++)
            T_EQ_INT(x.traj[i] % 2, parity);
    }
    // walking a segment forward visits t, t+1, ... and stops at its end
    T_EQ_INT(replay_sample(r, &g, 64, 0, 0, -1, &x.b), 64);
    for (int i = 0; i < 64; i++) {
        int traj = (int)x.act[i * D], t = (int)x.act[i * D + 1];
        int T = traj == 5 ? 3 : 10;
        int64_t j = x.index[i];
        int walked = 0;
        while ((j = replay_next(r, j)) >= 0) {
            struct bufs y;
            bufs_init(&y);
            replay_get(r, j, &y.b, 0);
            walked++;
            T_NEAR(y.act[1], t + walked, 0);
            T_NEAR(y.act[0], traj, 0);
        }
        T_EQ_INT(walked, T - 1 - t);
    }
    replay_destroy(&r);
}

static struct replay *shared;
static void *writer(void *arg)
{
    uint64_t base = (uint64_t)(uintptr_t)arg;
    struct seg sg;
    for (uint64_t k = 0; k < 2000; k++) {
        replay_add(shared, make_seg(&sg, base + k, 10));
    }
    return NULL;
}

static void test_threads(void)
{
    shared = replay_new(5000, O, D);
    pthread_t th[2];
    pthread_create(&th[0], NULL, writer, (void *)(uintptr_t)0);
    pthread_create(&th[1], NULL, writer, (void *)(uintptr_t)10000);
    struct bufs x;
    bufs_init(&x);
    struct rng g;
    rng_init(&g, 4, 0);
    int bad = 0;
    for (int n = 0; n < 2000; n++) {
        if (replay_sample(shared, &g, 64, 0.25, 100, -1, &x.b) != 64)
            continue;
        for (int i = 0; i < 64; i++) {
            // rows are never torn: obs and action of a row belong to the same step
            float want = x.act[i * D] * 1000 + x.act[i * D + 1];
            bad += x.obs[i * O] != want || x.rew[i] != want;
        }
    }
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    T_EQ_INT(bad, 0);
    T_EQ_INT(replay_inserted(shared), 40000);
    replay_destroy(&shared);
}

// every stored step, oldest first, as (traj, t) pairs read back through replay_sample's fields
static int dump(struct replay *r, int *traj, int *t, int max)
{
    int n = 0;
    struct bufs y;
    bufs_init(&y);
    for (int64_t i = 0; i < replay_capacity(r) && n < max; i++) {
        replay_get(r, i, &y.b, 0);
        traj[n] = (int)y.act[0];
        t[n++] = (int)y.act[1];
    }
    return n;
}

static void flip_byte(const char *path, long at)
{
    FILE *f = fopen(path, "r+b");
    T_CHECK(f != NULL);
    if (!f)
        return;
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
}

static void test_save_load(void)
{
    char dir[] = "/tmp/rldt-test-replay-XXXXXX", path[128], other[160];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/replay.rldt", dir);
    struct replay *r = replay_new(25, O, D);
    struct seg sg;
    add_segs(r, 4); /* 40 steps into 25 slots: wrapped */
    char err[256] = "";
    T_EQ_INT(replay_save(r, path, 12345, err, sizeof(err)), replay_size(r)); /* steps written */

    // same capacity: the same 25 steps come back, oldest first, with their counters
    struct replay *b = replay_new(25, O, D);
    uint64_t at = 0;
    T_EQ_INT(replay_load(b, path, &at, err, sizeof(err)), 25);
    T_EQ_INT(at, 12345);
    T_EQ_INT(replay_size(b), 25);
    T_EQ_INT(replay_inserted(b), 40);
    T_EQ_INT(replay_evicted(b), 15);
    int tr[32], tt[32];
    T_EQ_INT(dump(b, tr, tt, 32), 25);
    for (int k = 0; k < 25; k++) { /* steps 15..39: traj 1 t 5 .. traj 3 t 9 */
        T_EQ_INT(tr[k], (15 + k) / 10);
        T_EQ_INT(tt[k], (15 + k) % 10);
    }
    // the loaded rows carry their data, and segments can still be walked forward
    struct bufs x;
    bufs_init(&x);
    struct rng g;
    rng_init(&g, 5, 0);
    T_EQ_INT(replay_sample(b, &g, 64, 0, 0, -1, &x.b), 64);
    for (int i = 0; i < 64; i++) {
        int traj = (int)x.act[i * D], t = (int)x.act[i * D + 1], walked = 0;
        T_NEAR(x.obs[i * O], traj * 1000 + t, 0);
        T_NEAR(x.nobs[i * O + 1], traj * 1000 + t + 1 + 0.1f, 1e-3);
        T_NEAR(x.done[i], t == 9 && traj % 3 == 0, 0);
        for (int64_t j = x.index[i]; (j = replay_next(b, j)) >= 0;)
            walked++;
        T_EQ_INT(walked, 9 - t);
    }
    // new steps go on after the loaded ones (the oldest are evicted first)
    replay_add(b, make_seg(&sg, 9, 10));
    T_EQ_INT(dump(b, tr, tt, 32), 25);
    T_EQ_INT(tr[0], 9); /* slots 0..9 held the oldest: overwritten by traj 9 */
    T_EQ_INT(tr[9], 9);
    T_EQ_INT(tr[10], 2);
    T_EQ_INT(replay_inserted(b), 50);
    // a non-empty replay is not loaded into
    T_CHECK(replay_load(b, path, NULL, err, sizeof(err)) == -EBUSY);
    replay_destroy(&b);

    // a smaller capacity keeps the newest steps
    b = replay_new(8, O, D);
    T_EQ_INT(replay_load(b, path, NULL, err, sizeof(err)), 8);
    T_EQ_INT(dump(b, tr, tt, 32), 8);
    T_EQ_INT(tr[0], 3);
    T_EQ_INT(tt[0], 2);
    T_EQ_INT(tt[7], 9);
    T_EQ_INT(replay_evicted(b), 15 + 17);
    replay_destroy(&b);

    // other dimensions, a corrupt file, a truncated file, no file: refused, replay untouched
    b = replay_new(25, O + 1, D);
    err[0] = 0;
    T_CHECK(replay_load(b, path, NULL, err, sizeof(err)) < 0);
    T_CHECK_MSG(strstr(err, "layout") != NULL, "%s", err);
    T_EQ_INT(replay_size(b), 0);
    replay_destroy(&b);
    snprintf(other, sizeof(other), "%s/bad.rldt", dir);
    b = replay_new(25, O, D);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp %s %s", path, other);
    T_EQ_INT(system(cmd), 0);
    flip_byte(other, 700);
    err[0] = 0;
    T_CHECK(replay_load(b, other, NULL, err, sizeof(err)) < 0);
    T_CHECK_MSG(strstr(err, "checksum") != NULL, "%s", err);
    T_EQ_INT(truncate(other, 500), 0);
    err[0] = 0;
    T_CHECK(replay_load(b, other, NULL, err, sizeof(err)) < 0);
    T_CHECK_MSG(strstr(err, "truncated") != NULL, "%s", err);
    T_CHECK(replay_load(b, "/nonexistent/replay.rldt", NULL, err, sizeof(err)) < 0);
    T_EQ_INT(replay_size(b), 0);
    replay_destroy(&b);

    // an empty replay round-trips
    struct replay *e = replay_new(10, O, D);
    T_CHECK(replay_save(e, other, 0, err, sizeof(err)) >= 0);
    b = replay_new(10, O, D);
    T_EQ_INT(replay_load(b, other, NULL, err, sizeof(err)), 0);
    replay_destroy(&b);
    replay_destroy(&e);
    replay_destroy(&r);
    unlink(path);
    unlink(other);
    rmdir(dir);
}

static void test_trim(void)
{
    // a ring that wrapped: 30 slots, 4 segments of 10; trim back to 25 inserted
    struct replay *r = replay_new(30, O, D);
    struct seg sg;
    add_segs(r, 4);
    T_EQ_INT(replay_size(r), 30);
    T_EQ_INT(replay_trim(r, 25), 15);
    T_EQ_INT(replay_size(r), 15);
    T_EQ_INT(replay_inserted(r), 25);
    T_EQ_INT(replay_trim(r, 40), 0); /* nothing newer */
    // the next step lands where the trimmed ones were, and the newest kept is serial 24
    T_EQ_INT(replay_add(r, make_seg(&sg, 9, 10)), 0);
    T_EQ_INT(replay_size(r), 25);
    T_EQ_INT(replay_inserted(r), 35);
    T_EQ_INT(replay_trim(r, 0), 25); /* everything */
    T_EQ_INT(replay_size(r), 0);
    replay_destroy(&r);
}

// is a segment of traj id `traj` among n sampled rows?
static bool sampled_traj(struct replay *r, struct rng *g, int traj)
{
    struct bufs x;
    bufs_init(&x);
    bool seen = false;
    for (int k = 0; k < 20; k++) {
        T_EQ_INT(replay_sample(r, g, 64, 0, 0, -1, &x.b), 64);
        for (int i = 0; i < 64; i++)
            seen |= (int)x.act[i * D] == traj;
    }
    return seen;
}

static void test_quarantine(void)
{
    struct replay *r = replay_new(40, O, D);
    struct seg sg;
    for (uint64_t traj = 0; traj < 5; traj++) { /* 5 x 8 steps: full, traj 4 poisoned */
        make_seg(&sg, traj, 8);
        if (traj == 4)
            sg.rew[2] = 1e30f;
        replay_add(r, &sg.s);
    }
    struct rng g;
    rng_init(&g, 9, 0);
    struct bufs x;
    bufs_init(&x);
    // a batch with the poisoned row: its whole segment goes, nothing else
    int64_t slots[64];
    int n = 0;
    while (n == 0 || x.rew[n - 1] < 1e29f) {
        T_EQ_INT(replay_sample(r, &g, 1, 0, 0, -1, &x.b), 1);
        slots[n] = x.index[0];
        x.rew[n] = x.rew[0];
        n = RL_MIN(n + 1, 63);
    }
    struct replay_quarantined q;
    T_EQ_INT(replay_quarantine(r, slots, n, 1000, &q), 0);
    T_EQ_INT(q.segments, 1);
    T_EQ_INT(q.steps, 8);
    T_CHECK(q.outliers >= 1);
    T_EQ_INT(replay_size(r), 32);
    T_CHECK(!sampled_traj(r, &g, 4));
    // again with the same slots: nothing left to remove but the largest clean row's segment
    T_EQ_INT(replay_quarantine(r, slots, n, 1000, &q), 0);
    T_CHECK(q.segments <= 1 && q.outliers == 0);
    T_EQ_INT(replay_size(r), 32 - 8 * q.segments);
    // a clean batch without outliers: exactly one segment, the largest values (traj 3) first
    T_EQ_INT(replay_sample(r, &g, 64, 0, 0, -1, &x.b), 64);
    long before = replay_size(r);
    bool had3 = false;
    for (int i = 0; i < 64; i++)
        had3 |= (int)x.act[i * D] == 3;
    T_EQ_INT(replay_quarantine(r, x.index, 64, 1000, &q), 0);
    T_EQ_INT(q.segments, 1);
    T_EQ_INT(q.outliers, 0);
    T_EQ_INT(replay_size(r), before - 8);
    if (had3)
        T_CHECK(!sampled_traj(r, &g, 3));
    // a NaN observation is an outlier whatever the median
    make_seg(&sg, 7, 8);
    sg.obs[3 * O + 1] = NAN; /* step 3's obs, step 2's next obs */
    replay_add(r, &sg.s);
    int64_t nan_slot = -1;
    for (int k = 0; k < 200 && nan_slot < 0; k++) {
        T_EQ_INT(replay_sample(r, &g, 1, 0, 0, -1, &x.b), 1);
        if (isnan(x.obs[1]))
            nan_slot = x.index[0];
    }
    T_CHECK(nan_slot >= 0);
    T_EQ_INT(replay_quarantine(r, &nan_slot, 1, 1000, &q), 0);
    T_EQ_INT(q.outliers, 1);
    T_EQ_INT(q.steps, 8);
    T_CHECK(!sampled_traj(r, &g, 7));
    // segment walks never enter a quarantined step; a save leaves them out
    T_EQ_INT(replay_sample(r, &g, 64, 0, 0, -1, &x.b), 64);
    for (int i = 0; i < 64; i++)
        for (int64_t j = x.index[i]; (j = replay_next(r, j)) >= 0;) {
            replay_get(r, j, &x.b, 63);
            T_CHECK((int)x.act[63 * D] != 7 && (int)x.act[63 * D] != 4);
        }
    char dir[] = "/tmp/rldt-test-quar-XXXXXX", path[128], err[256];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/replay.rldt", dir);
    T_CHECK(replay_save(r, path, 1, err, sizeof(err)) >= 0);
    struct replay *b = replay_new(40, O, D);
    T_EQ_INT(replay_load(b, path, NULL, err, sizeof(err)), replay_size(r));
    T_CHECK(!sampled_traj(b, &g, 4) && !sampled_traj(b, &g, 7));
    replay_destroy(&b);
    unlink(path);
    rmdir(dir);
    // the ring moves on: quarantined slots are reused and count again
    for (uint64_t traj = 10; traj < 15; traj++)
        replay_add(r, make_seg(&sg, traj, 8));
    T_EQ_INT(replay_size(r), 40);
    replay_destroy(&r);
}

int main(void)
{
    T_RUN(test_store_and_sample);
    T_RUN(test_eviction_and_fresh);
    T_RUN(test_parity_and_next);
    T_RUN(test_threads);
    T_RUN(test_save_load);
    T_RUN(test_trim);
    T_RUN(test_quarantine);
    return T_DONE("replay");
}
