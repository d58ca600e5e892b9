/*
 * test_images.c — pixel observations from the actor's segment buffer to the encoder's input:
 * segbuf -> wire (pack, decode) -> replay (image ring, eviction, save/load, trim) -> sampled
 * batch -> encoder input, bit for bit; and malformed image segments refused by the wire check.
 * Images come from a deterministic synthetic source: the bytes of observation `id` are a
 * function of id, and obs[0] = id, so every stored row can be checked against its source.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/manip.h"
#include "actor/vecenv.h"
#include "common/task.h"
#include "common/encoder.h"
#include "common/rng.h"
#include "learner/replay.h"
#include "learner/shared.h"
#include "proto/wire.h"
#include "tests/harness.h"

enum { O = 11, D = 3, IH = 14, IW = 12, IC = 3, IB = IH * IW * IC };

static const struct wire_image_shape shape = {IH, IW, IC};

// the synthetic camera: the image of observation id
static void synth(int id, uint8_t *img)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    for (int i = 0; i < IB; i++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        img[i] = (uint8_t)(x >> 56);
    }
}

static void obs_of(int id, float *obs)
{
    for (int i = 0; i < O; i++)
        obs[i] = (float)id + 0.01f * i;
}

// record T steps of observations first..first+T into b (starting it when start is set)
static void record(struct wire_segbuf *b, int first, int T, bool start, bool end)
{
    float obs[O], act[D] = {0.1f, 0.2f, 0.3f};
    if (start) {
        obs_of(first, obs);
        wire_segbuf_start(b, obs, true);
        synth(first, wire_segbuf_last_image(b));
    } else {
        T_EQ_INT(wire_segbuf_carry(b), 0);
    }
    for (int t = 1; t <= T; t++) {
        obs_of(first + t, obs);
        T_EQ_INT(wire_segbuf_push(b, act, 1.0f, 1, obs, end && t == T, false), 0);
        synth(first + t, wire_segbuf_last_image(b));
    }
}

// pack b's segment and decode it with dec into *out (borrowed from dec)
static int through_wire(struct wire_segbuf *b, struct wire_decoder *dec, struct wire_msg *out)
{
    static uint8_t buf[1 << 20];
    struct wire_msg m = {.type = WIRE_SEGMENT};
    m.segment = (struct wire_segment){.run_epoch = 1, .actor_id = 1, .seq = 1};
    wire_segbuf_view(b, &m.segment);
    size_t len;
    int rc = wire_pack(&m, buf, sizeof(buf), &len);
    if (rc == 0)
        rc = wire_decode(dec, buf, len, out, NULL, 0);
    return rc;
}

// sample n rows of r; every image and next image must be the source's for that row's
// observation ids. Returns the rows checked (0 when empty).
static int check_rows(struct replay *r, int n)
{
    static float obs[256 * O], next[256 * O], act[256 * D], rew[256], done[256];
    static uint8_t img[256 * IB], nimg[256 * IB];
    uint8_t want[IB];
    struct replay_batch b = {obs, act, rew, next, done, NULL, NULL, NULL};
    struct rng g;
    rng_init(&g, 5, 5);
    int got = replay_sample_img(r, &g, n, 0, 1, -1, &b, img, nimg);
    int bad = 0;
    for (int i = 0; i < got; i++) {
        synth((int)obs[i * O], want);
        bad += memcmp(img + (size_t)i * IB, want, IB) != 0;
        synth((int)next[i * O], want);
        bad += memcmp(nimg + (size_t)i * IB, want, IB) != 0;
    }
    T_CHECK_MSG(bad == 0, "%d of %d image rows differ from their source", bad, 2 * got);
    return got;
}

static void test_roundtrip_to_encoder(void)
{
    struct wire_segbuf b;
    T_EQ_INT(wire_segbuf_init(&b, O, D, 4), 0);
    T_EQ_INT(wire_segbuf_set_image(&b, &shape), 0);
    struct wire_decoder *dec = wire_decoder_new(1 << 20);
    struct replay *r = replay_new_img(64, O, D, IB, 4);
    T_CHECK(r && dec && replay_img_bytes(r) == IB);
    struct wire_msg m;
    uint8_t want[IB];
    // two segments of one episode: the second starts where the first ended (carry)
    record(&b, 100, 4, true, false);
    T_EQ_INT(through_wire(&b, dec, &m), 0);
    T_CHECK(m.segment.images && !memcmp(&m.segment.image, &shape, sizeof(shape)));
    int same = 1;
    for (int t = 0; t <= 4; t++) {
        synth(100 + t, want);
        same &= !memcmp(m.segment.images + (size_t)t * IB, want, IB);
    }
    T_CHECK(same);
    T_EQ_INT(ingest_store(r, &m.segment, 0, false), 0);
    record(&b, 104, 3, false, true);
    T_EQ_INT(through_wire(&b, dec, &m), 0);
    T_EQ_INT(ingest_store(r, &m.segment, 1, false), 0);
    T_EQ_INT(replay_size(r), 7);
    T_CHECK(check_rows(r, 64) == 64);
    // the sampled bytes are the encoder's input, scaled exactly
    static float obs[8 * O], next[8 * O], act[8 * D], rew[8], done[8];
    static uint8_t img[8 * IB];
    struct replay_batch bt = {obs, act, rew, next, done, NULL, NULL, NULL};
    struct rng g;
    rng_init(&g, 1, 1);
    T_EQ_INT(replay_sample_img(r, &g, 8, 0, 1, -1, &bt, img, NULL), 8);
    struct encoder_spec sp;
    encoder_spec_drq(&sp, IH, IW, IC); /* 14x12 -> 6x5 -> 2x2 */
    sp.n_conv = 2;
    struct encoder *e = encoder_new(&sp, NULL, 0);
    struct encoder_ctx *cx = e ? encoder_ctx_new(e, 8) : NULL;
    T_CHECK(cx != NULL);
    if (cx) {
        encoder_init(e, &g);
        encoder_forward(e, cx, img, 8);
        const float *x = encoder_input(cx);
        int exact = 1;
        for (int i = 0; i < 8; i++) {
            synth((int)obs[i * O], want);
            for (int k = 0; k < IB; k++)
                exact &= x[(size_t)i * IB + k] == (float)want[k] * (1.0f / 255.0f) - 0.5f;
        }
        T_CHECK(exact);
    }
    // a segment without images does not fit this replay, nor one with images a plain replay
    struct replay *plain = replay_new(16, O, D);
    T_EQ_INT(ingest_store(plain, &m.segment, 2, false), -EINVAL);
    T_EQ_INT(replay_add(r, &(struct replay_segment){.T = 1,
                                                    .obs = m.segment.obs,
                                                    .act = m.segment.actions,
                                                    .rew = m.segment.rewards,
                                                    .term = m.segment.terminal,
                                                    .trunc = m.segment.truncated}),
             -EINVAL);
    replay_destroy(&plain);
    encoder_ctx_destroy(&cx);
    encoder_destroy(&e);
    replay_destroy(&r);
    wire_decoder_destroy(&dec);
    wire_segbuf_fini(&b);
}

// one segment of T steps, observation ids first..first+T, straight into r; reward 1 at step
// win (-1: none)
static void add_synth_win(struct replay *r, int first, int T, uint64_t traj, int win)
{
    static float obs[65 * O], act[64 * D], rew[64];
    static uint8_t term[64], trunc[64], img[65 * IB];
    for (int t = 0; t < T; t++)
        rew[t] = t == win ? 1.0f : 0.0f;
    for (int t = 0; t <= T; t++) {
        obs_of(first + t, obs + t * O);
        synth(first + t, img + (size_t)t * IB);
    }
    struct replay_segment s = {T, obs, act, rew, NULL, term, trunc, traj, 0, NULL, NULL};
    T_EQ_INT(replay_add_img(r, &s, img), 0);
}

static void add_synth(struct replay *r, int first, int T, uint64_t traj)
{
    add_synth_win(r, first, T, traj, -1);
}

static void test_ring_eviction(void)
{
    // capacity 8 with segments of 4 expected: 8 + 2 + 1 image rows
    struct replay *r = replay_new_img(8, O, D, IB, 4);
    T_CHECK(r != NULL);
    if (!r)
        return;
    add_synth(r, 0, 4, 0);
    add_synth(r, 10, 4, 1);
    T_EQ_INT(replay_size(r), 8); /* 10 rows of 11: both fit */
    add_synth(r, 20, 4, 2);      /* the step ring evicts the first segment */
    T_EQ_INT(replay_size(r), 8);
    check_rows(r, 128);
    // segments of one step take two rows each: images evict before the step ring is full
    for (int k = 0; k < 6; k++)
        add_synth(r, 100 + 10 * k, 1, 3 + k);
    long n = replay_size(r);
    T_CHECK_MSG(n >= 5 && n < 8, "size %ld", n);
    T_EQ_INT((long)(replay_inserted(r) - replay_evicted(r)), n);
    check_rows(r, 128);
    printf("info: %.0f bytes per step for %d-byte images (capacity 8, segments of 4)\n",
           replay_bytes_per_step(r), IB);
    T_CHECK(replay_bytes_per_step(r) < 1.5 * IB + 200);
    replay_destroy(&r);
}

static void test_save_load_trim(void)
{
    char dir[] = "/tmp/rldt-images-XXXXXX", path[64];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/replay.rldt", dir);
    struct replay *r = replay_new_img(16, O, D, IB, 4);
    add_synth(r, 0, 4, 0);
    add_synth(r, 10, 2, 1);
    add_synth(r, 20, 1, 2);
    add_synth(r, 30, 4, 3);
    uint64_t mark = replay_inserted(r);
    add_synth(r, 40, 3, 4);
    char err[256] = "";
    T_CHECK(replay_save(r, path, 77, err, sizeof(err)) >= 0);
    // the same capacity: everything back, images included
    struct replay *a = replay_new_img(16, O, D, IB, 4);
    uint64_t steps = 0;
    T_EQ_INT(replay_load(a, path, &steps, err, sizeof(err)), 14);
    T_EQ_INT((long)steps, 77);
    T_CHECK(check_rows(a, 256) == 256);
    // a smaller one keeps the newest steps, still with the right images
    struct replay *s = replay_new_img(5, O, D, IB, 4);
    long k = replay_load(s, path, NULL, err, sizeof(err));
    T_CHECK_MSG(k >= 4 && k <= 5, "loaded %ld", k);
    check_rows(s, 64);
    // a replay without images, or of another image size, refuses the file
    struct replay *p = replay_new(16, O, D), *q = replay_new_img(16, O, D, IB / 2, 4);
    T_CHECK(replay_load(p, path, NULL, err, sizeof(err)) < 0);
    T_CHECK(replay_load(q, path, NULL, err, sizeof(err)) < 0);
    T_EQ_INT(replay_size(p) + replay_size(q), 0);
    // trim back to the mark: the newest segment goes, the image head follows
    T_EQ_INT(replay_trim(a, mark), 3);
    add_synth(a, 50, 4, 5);
    T_CHECK(check_rows(a, 256) == 256);
    replay_destroy(&a);
    replay_destroy(&s);
    replay_destroy(&p);
    replay_destroy(&q);
    replay_destroy(&r);
    unlink(path);
    rmdir(dir);
}

// a quarantined segment among images: never sampled, not saved (the saved neighbours keep their
// own images), and its steps leave the counts when the image ring evicts them
static void test_quarantine_images(void)
{
    char dir[] = "/tmp/rldt-images-XXXXXX", path[64], err[256] = "";
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/replay.rldt", dir);
    struct replay *r = replay_new_img(16, O, D, IB, 4);
    add_synth(r, 0, 4, 0);
    add_synth(r, 100000, 4, 1); /* an outlier segment between two ordinary ones */
    add_synth(r, 20, 4, 2);
    int64_t slots[12];
    for (int i = 0; i < 12; i++)
        slots[i] = i;
    struct replay_quarantined q;
    T_EQ_INT(replay_quarantine(r, slots, 12, 10, &q), 0);
    T_EQ_INT(q.segments, 1);
    T_EQ_INT(q.steps, 4);
    T_EQ_INT(replay_size(r), 8);
    T_CHECK(check_rows(r, 128) == 128);
    static float obs[128 * O], next[128 * O], act[128 * D], rew[128], done[128];
    struct replay_batch b = {obs, act, rew, next, done, NULL, NULL, NULL};
    struct rng g;
    rng_init(&g, 6, 6);
    T_EQ_INT(replay_sample(r, &g, 128, 0, 1, -1, &b), 128);
    int outl = 0;
    for (int i = 0; i < 128; i++)
        outl += obs[i * O] >= 100000;
    T_EQ_INT(outl, 0);
    T_CHECK(replay_save(r, path, 1, err, sizeof(err)) >= 0);
    struct replay *a = replay_new_img(16, O, D, IB, 4);
    T_EQ_INT(replay_load(a, path, NULL, err, sizeof(err)), 8);
    T_CHECK(check_rows(a, 128) == 128);
    // one-step segments take two image rows each: the ring evicts the oldest steps, the
    // quarantined ones too, before the step ring is full
    for (int k = 0; k < 20 && replay_evicted(r) < 8; k++)
        add_synth(r, 200 + 10 * k, 1, 3 + (uint64_t)k);
    T_CHECK(replay_evicted(r) >= 8);
    T_EQ_INT(replay_size(r), (long)(replay_inserted(r) - replay_evicted(r)));
    T_CHECK(check_rows(r, 128) == 128);
    replay_destroy(&a);
    replay_destroy(&r);
    unlink(path);
    rmdir(dir);
}

// sparse-reward mode with images: a segment is stored up to its success step with the right
// images, and steps the image ring evicts leave their outcome class
static void test_sparse_images(void)
{
    struct replay *r = replay_new_img(16, O, D, IB, 4);
    replay_set_sparse(r, 1.0, true);
    add_synth_win(r, 0, 4, 0, 1); /* succeeds at its second step: 2 steps kept */
    add_synth(r, 10, 4, 1);
    long n[2];
    replay_class_sizes(r, n);
    T_EQ_INT(n[1], 2);
    T_EQ_INT(n[0], 4);
    T_EQ_INT(replay_size(r), 6);
    T_CHECK(check_rows(r, 128) == 128);
    for (int k = 0; k < 20 && replay_evicted(r) < 6; k++)
        add_synth(r, 200 + 10 * k, 1, 2 + (uint64_t)k);
    replay_class_sizes(r, n);
    T_EQ_INT(n[1], 0); /* the succeeded steps were the oldest */
    T_EQ_INT(n[0] + n[1], replay_size(r));
    T_CHECK(check_rows(r, 128) == 128);
    replay_destroy(&r);
}

static void test_malformed(void)
{
    struct wire_segbuf b;
    T_EQ_INT(wire_segbuf_init(&b, O, D, 4), 0);
    T_EQ_INT(wire_segbuf_set_image(&b, &shape), 0);
    record(&b, 0, 2, true, false);
    struct wire_msg m = {.type = WIRE_SEGMENT};
    m.segment = (struct wire_segment){.run_epoch = 1, .actor_id = 1, .seq = 1};
    wire_segbuf_view(&b, &m.segment);
    static uint8_t buf[1 << 20];
    struct wire_decoder *dec = wire_decoder_new(1 << 20);
    struct wire_msg out;
    char err[200] = "";
    size_t len;
    // images the shape does not describe: in the packed bytes, image_h (field 41, varint IH)
    // becomes IH + 1, so the bytes sent are one row short of the shape on decode
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    T_EQ_INT(wire_decode(dec, buf, len, &out, err, sizeof(err)), 0);
    const uint8_t dims[] = {0xc8, 0x02, IH, 0xd0, 0x02, IW, 0xd8, 0x02, IC}; /* fields 41-43 */
    uint8_t *at = NULL;
    for (size_t i = 0; i + sizeof(dims) <= len; i++)
        if (!memcmp(buf + i, dims, sizeof(dims)))
            at = buf + i;
    T_CHECK(at != NULL);
    if (at) {
        at[2] = IH + 1;
        T_EQ_INT(wire_decode(dec, buf, len, &out, err, sizeof(err)), -EPROTO);
        T_CHECK_MSG(strstr(err, "image bytes") != NULL, "%s", err);
    }
    // a shape without images
    m.segment.images = NULL;
    T_EQ_INT(wire_check(&m, err, sizeof(err)), -EPROTO);
    m.segment.images = b.images;
    // shapes out of range
    struct wire_image_shape bad[] = {{0, IW, IC}, {IH, IW, 5}, {WIRE_IMAGE_SIDE_MAX + 1, 1, 1}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m.segment.image = bad[i];
        T_EQ_INT(wire_check(&m, err, sizeof(err)), -EPROTO);
    }
    T_EQ_INT(wire_segbuf_set_image(&b, &bad[1]), -EINVAL);
    // a Hello with a bad shape, and a good one that round-trips
    struct wire_msg h = {.type = WIRE_HELLO};
    h.hello = (struct wire_hello){.name = "cam",
                                  .num_envs = 1,
                                  .task = "lift",
                                  .obs_dim = O,
                                  .act_dim = D,
                                  .chunk_h = 1,
                                  .image = {IH, 0, IC}};
    T_EQ_INT(wire_check(&h, err, sizeof(err)), -EPROTO);
    h.hello.image = shape;
    T_EQ_INT(wire_pack(&h, buf, sizeof(buf), &len), 0);
    T_EQ_INT(wire_decode(dec, buf, len, &out, err, sizeof(err)), 0);
    T_CHECK(!memcmp(&out.hello.image, &shape, sizeof(shape)));
    // the bound covers a segment with images
    m.segment.image = shape;
    T_CHECK(wire_packed_size(&m) <=
            wire_segment_bound(2, O, D, 0) + wire_segment_image_bound(2, &shape));
    wire_decoder_destroy(&dec);
    wire_segbuf_fini(&b);
}

// ---- the actor side: a vecenv camera ------------------------------------------------------

enum { CH = 4, CW = 5, CB = CH * CW * 3 };

// a synthetic camera's picture of an observation: a hash of its float bits
static void picture_of(const float *obs, int n, uint8_t *rgb)
{
    uint64_t x = 1469598103934665603ull;
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &obs[i], sizeof(u));
        x = (x ^ u) * 1099511628211ull;
    }
    for (int i = 0; i < CB; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
        rgb[i] = (uint8_t)(x >> 56);
}

struct synth_cam {
    int O, calls, fail_after;
};

static int synth_cam(void *ctx, struct env *e, uint8_t *rgb)
{
    struct synth_cam *s = ctx;
    if (s->fail_after >= 0 && s->calls >= s->fail_after)
        return -EIO;
    s->calls++;
    float obs[64];
    env_observe(e, obs);
    picture_of(obs, s->O, rgb);
    return 0;
}

// every env's image and final image are the pictures of its obs and final obs rows
static int rows_match(struct vecenv *v, int M, int n)
{
    uint8_t want[CB];
    int bad = 0;
    for (int i = 0; i < M; i++) {
        picture_of(vecenv_obs(v) + (size_t)i * n, n, want);
        bad += memcmp(vecenv_images(v) + (size_t)i * CB, want, CB) != 0;
        picture_of(vecenv_final_obs(v) + (size_t)i * n, n, want);
        bad += memcmp(vecenv_final_images(v) + (size_t)i * CB, want, CB) != 0;
    }
    return bad;
}

static void test_vecenv_camera(void)
{
    struct vecenv_config vc;
    vecenv_config_default(&vc);
    vc.num_envs = 3;
    char err[200];
    struct vecenv *v = vecenv_new(&vc, err, sizeof(err));
    T_CHECK_MSG(v != NULL, "%s", err);
    if (!v)
        return;
    int M = 3, n = vecenv_obs_dim(v), H = vecenv_chunk(v), A = vecenv_act_dim(v);
    T_CHECK(n <= 64 && vecenv_images(v) == NULL);
    struct synth_cam sc = {n, 0, -1};
    struct vecenv_camera cam = {synth_cam, &sc, CH, CW, 3};
    T_EQ_INT(vecenv_set_camera(v, &cam), 0);
    T_EQ_INT(vecenv_set_camera(v, &cam), -EINVAL); /* once */
    T_EQ_INT(rows_match(v, M, n), 0);
    // random chunks until several episodes ended: pictures follow obs through auto-resets
    float act[3 * 64];
    struct rng g;
    rng_init(&g, 9, 0);
    int bad = 0, ends = 0;
    for (int k = 0; k < 200 && ends < 6; k++) {
        for (int j = 0; j < M * H * A; j++)
            act[j] = (float)rng_range(&g, -1, 1);
        T_EQ_INT(vecenv_step(v, act, NULL), 0);
        bad += rows_match(v, M, n);
        for (int i = 0; i < M; i++)
            ends += vecenv_results(v)[i].done;
    }
    T_CHECK_MSG(ends >= 6, "%d episodes ended", ends);
    T_EQ_INT(bad, 0);
    // a failing camera makes the step report it, after stepping every env
    sc.fail_after = sc.calls;
    T_EQ_INT(vecenv_step(v, act, NULL), -EIO);
    T_EQ_INT((int)vecenv_stats(v).env_steps > 0, 1);
    vecenv_destroy(&v);
}

static void test_proprio(void)
{
    // the table-top tasks' proprioception ends where the first object's state begins
    const char *manip[] = {"lift", "stack", "peg"};
    for (int i = 0; i < 3; i++)
        T_EQ_INT(task_proprio_dim(task_find(manip[i])), MANIP_OBS_OBJ(0));
    T_EQ_INT(task_proprio_dim(task_find("hopper")), task_find("hopper")->obs_dim);
}

int main(void)
{
    T_RUN(test_roundtrip_to_encoder);
    T_RUN(test_ring_eviction);
    T_RUN(test_save_load_trim);
    T_RUN(test_quarantine_images);
    T_RUN(test_sparse_images);
    T_RUN(test_malformed);
    T_RUN(test_vecenv_camera);
    T_RUN(test_proprio);
    return T_DONE("images");
}
