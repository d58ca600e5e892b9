/*
 * wiretest.h — what the wire tests (test_wire, test_wire_reject) share: pack-and-decode, a
 * minimal protobuf writer independent of protobuf-c (so field numbers are pinned), hand-built
 * segments whose every array length can be chosen, sample messages of every type and a
 * field-by-field segment comparison. Header-only like harness.h (static inline). Not
 * thread-safe.
 */
#ifndef RL_TEST_WIRETEST_H
#define RL_TEST_WIRETEST_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/util.h"
#include "proto/wire.h"
#include "tests/harness.h"
#include "tests/spawn.h"

#define MAXMSG (1 << 20)

static uint8_t buf[4 << 20];
static char err[256];

/* pack m into buf and decode it with d; returns the decode status, *len the packed size */
static inline int pack_decode(struct wire_decoder *d, const struct wire_msg *m,
                              struct wire_msg *out, size_t *len)
{
    size_t n = 0;
    int rc = wire_pack(m, buf, sizeof(buf), &n);
    if (rc)
        return 1000 + rc;
    if (len)
        *len = n;
    return wire_decode(d, buf, n, out, err, sizeof(err));
}

// ---- a minimal protobuf writer, independent of protobuf-c -----------------------------------

struct pbw {
    uint8_t p[1 << 16];
    size_t n;
};

static inline void pb_varint(struct pbw *w, uint64_t v)
{
    do {
        RL_ASSERT(w->n < sizeof(w->p));
        w->p[w->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static inline void pb_uint(struct pbw *w, unsigned field, uint64_t v)
{
    pb_varint(w, (uint64_t)field << 3 | 0);
    pb_varint(w, v);
}

static inline void pb_bytes(struct pbw *w, unsigned field, const void *data, size_t n)
{
    pb_varint(w, (uint64_t)field << 3 | 2);
    pb_varint(w, n);
    RL_ASSERT(w->n + n <= sizeof(w->p));
    memcpy(w->p + w->n, data, n);
    w->n += n;
}

/* n floats with value base + i: packed (one length-delimited field) or one fixed32 per value */
static inline void pb_floats(struct pbw *w, unsigned field, size_t n, float base, bool packed)
{
    float tmp[4096];
    RL_ASSERT(n <= 4096);
    for (size_t i = 0; i < n; i++)
        tmp[i] = base + (float)i;
    if (packed) {
        if (n)
            pb_bytes(w, field, tmp, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        pb_varint(w, (uint64_t)field << 3 | 5);
        memcpy(w->p + w->n, &tmp[i], 4);
        w->n += 4;
    }
}

/* an envelope around a body: version, then the body as field `field` */
static inline size_t pb_envelope(uint32_t version, unsigned field, const struct pbw *body,
                                 uint8_t *out)
{
    static struct pbw e;
    e.n = 0;
    if (version)
        pb_uint(&e, 1, version);
    pb_bytes(&e, field, body->p, body->n);
    memcpy(out, e.p, e.n);
    return e.n;
}

/* a hand-built segment whose every array length can be chosen */
struct craft {
    uint32_t T, obs_dim, D;
    size_t n_obs, n_act, n_rew, n_steps, n_term, n_trunc, n_ret, n_len;
    uint64_t epoch;
    uint8_t flag;  /* value of every terminal byte */
    uint32_t step; /* value of every steps entry */
    float obs_base;
    bool unpacked;
};

static inline struct craft craft_ok(uint32_t T, uint32_t obs_dim, uint32_t D)
{
    return (struct craft){T, obs_dim, D,    (T + 1) * obs_dim, T * D, T, T, T, T, 2, 2, 7, 1,
                          1, 0.5f,    false};
}

static inline size_t craft_segment(const struct craft *c, uint32_t version)
{
    static struct pbw w;
    uint8_t flags[4096];
    w.n = 0;
    pb_uint(&w, 1, c->epoch);
    pb_uint(&w, 2, 3);  // actor_id
    pb_uint(&w, 3, 1);  // env_id
    pb_uint(&w, 4, 99); // seq
    pb_uint(&w, 5, 12); // policy_version
    pb_uint(&w, 6, c->T);
    pb_uint(&w, 7, c->obs_dim);
    pb_uint(&w, 8, c->D);
    pb_floats(&w, 9, c->n_obs, c->obs_base, !c->unpacked);
    pb_floats(&w, 10, c->n_act, -1.0f, !c->unpacked);
    pb_floats(&w, 11, c->n_rew, 0.25f, !c->unpacked);
    struct pbw steps = {.n = 0};
    for (size_t i = 0; i < c->n_steps; i++)
        pb_varint(&steps, c->step);
    if (c->unpacked) {
        for (size_t i = 0; i < c->n_steps; i++)
            pb_uint(&w, 12, c->step);
    } else if (c->n_steps) {
        pb_bytes(&w, 12, steps.p, steps.n);
    }
    memset(flags, 0, sizeof(flags));
    if (c->n_term)
        flags[c->n_term - 1] = c->flag;
    pb_bytes(&w, 13, flags, c->n_term);
    memset(flags, 0, sizeof(flags));
    pb_bytes(&w, 14, flags, c->n_trunc);
    pb_uint(&w, 15, 1); // episode_start
    pb_floats(&w, 16, c->n_ret, 10.0f, !c->unpacked);
    struct pbw lens = {.n = 0};
    for (size_t i = 0; i < c->n_len; i++)
        pb_varint(&lens, 100 + i);
    if (c->n_len)
        pb_bytes(&w, 17, lens.p, lens.n);
    return pb_envelope(version, 8, &w, buf);
}

// ---- sample messages ------------------------------------------------------------------------

struct seg_store {
    float obs[257 * 64];
    float act[256 * 64];
    float rew[256];
    uint32_t steps[256];
    uint8_t term[256];
    uint8_t trunc[256];
    float ret[3];
    uint32_t len[3];
};

static struct seg_store store;

static inline struct wire_msg sample_segment(uint32_t T, uint32_t obs_dim, uint32_t D,
                                             uint64_t seed)
{
    struct rng r;
    RL_ASSERT(T <= 256 && obs_dim <= 64 && D <= 64);
    rng_init(&r, seed, 1);
    rng_normal_fill(&r, store.obs, (long)(T + 1) * obs_dim);
    rng_normal_fill(&r, store.act, (long)T * D);
    rng_normal_fill(&r, store.rew, T);
    for (uint32_t t = 0; t < T; t++) {
        store.steps[t] = 1 + (uint32_t)rng_below(&r, D);
        store.term[t] = 0;
        store.trunc[t] = 0;
    }
    store.term[T - 1] = 1;
    store.trunc[T - 1] = 1;
    store.ret[0] = 312.5f, store.ret[1] = -4.0f, store.ret[2] = 0.0f;
    store.len[0] = 1000, store.len[1] = 1, store.len[2] = 77;
    struct wire_msg m = {.type = WIRE_SEGMENT};
    m.segment = (struct wire_segment){
        .run_epoch = 0x1234567890ull,
        .actor_id = 7,
        .env_id = 3,
        .seq = (1ull << 40) + 5,
        .policy_version = 41,
        .T = T,
        .obs_dim = obs_dim,
        .D = D,
        .obs = store.obs,
        .actions = store.act,
        .rewards = store.rew,
        .steps = store.steps,
        .terminal = store.term,
        .truncated = store.trunc,
        .episode_start = true,
        .n_episodes = 3,
        .episode_return = store.ret,
        .episode_len = store.len,
    };
    return m;
}

static float weights[5000];
static const float obs_lo[3] = {-1, -2, -3}, obs_hi[3] = {1, 2, 3};
static const float act_lo[2] = {-1, -1}, act_hi[2] = {1, 1};

static inline struct wire_msg sample_params(void)
{
    struct rng r;
    rng_init(&r, 9, 0);
    rng_normal_fill(&r, weights, 5000);
    struct wire_msg m = {.type = WIRE_PARAMS};
    m.params = (struct wire_params){
        .run_epoch = 2,
        .version = 1ull << 33,
        .layout_hash = 0xdeadbeefcafef00dull,
        .algo = "rldt",
        .n_weights = 5000,
        .weights = weights,
        .obs_dim = 3,
        .obs_lo = obs_lo,
        .obs_hi = obs_hi,
        .act_dim = 2,
        .act_lo = act_lo,
        .act_hi = act_hi,
        .stop = false,
        .publish_unix_ns = 1796601600123456789ull,
    };
    return m;
}

static const char config_text[] = "[run]\nname = test\nseed = 7\n\n[algo]\nlr = 3e-4\t# tab\n";

static const struct wire_session sess = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255}};

static inline struct wire_msg sample_control(enum wire_type t)
{
    struct wire_msg m = {.type = t};
    switch (t) {
    case WIRE_HELLO:
        m = spawn_hello("node7:4242", true); /* an evaluator with every count away from 0/1 */
        m.hello.pid = 4242;
        m.hello.num_envs = 8;
        m.hello.chunk_h = 4;
        m.hello.known_epoch = 5;
        break;
    case WIRE_WELCOME:
        m.welcome = (struct wire_welcome){.accepted = true,
                                          .reason = "",
                                          .actor_id = 12,
                                          .run_epoch = 77,
                                          .config = config_text,
                                          .param_version = 9,
                                          .seed = 1ull << 50,
                                          .stream_base = 4096,
                                          .session = sess,
                                          .policy_kind = "pixflow"};
        break;
    case WIRE_HEARTBEAT:
        m.heartbeat = (struct wire_heartbeat){.actor_id = 12,
                                              .run_epoch = 77,
                                              .env_steps = 1ull << 35,
                                              .episodes = 1234,
                                              .policy_version = 9,
                                              .steps_per_sec = 1e5f,
                                              .segments_sent = 999,
                                              .send_queue = 3,
                                              .send_stalls = 17,
                                              .send_wait_s = 2.5f,
                                              .session = sess};
        break;
    case WIRE_HEARTBEAT_ACK:
        m.heartbeat_ack = (struct wire_heartbeat_ack){77, 10, true, 1ull << 40, false};
        break;
    case WIRE_BYE:
        m.bye = (struct wire_bye){12, 77, "shutting down: SIGTERM\n", sess};
        break;
    case WIRE_PARAMS_REQUEST:
        m.params_request = (struct wire_params_request){12, 77, 8, sess};
        break;
    case WIRE_EVAL_REPORT:
        m.eval_report = (struct wire_eval_report){.actor_id = 12,
                                                  .run_epoch = 77,
                                                  .policy_version = 9,
                                                  .env_steps = 123456,
                                                  .return_mean = 1500.5f,
                                                  .return_std = 210.25f,
                                                  .length_mean = 812.5f,
                                                  .episodes = 10,
                                                  .session = sess,
                                                  .successes = 4};
        break;
    default:
        RL_ASSERT(0);
    }
    return m;
}

static inline void check_segment_equal(const struct wire_segment *a, const struct wire_segment *b)
{
    T_CHECK(a->run_epoch == b->run_epoch);
    T_EQ_INT(a->actor_id, b->actor_id);
    T_EQ_INT(a->env_id, b->env_id);
    T_CHECK(a->seq == b->seq);
    T_CHECK(a->policy_version == b->policy_version);
    T_EQ_INT(a->T, b->T);
    T_EQ_INT(a->obs_dim, b->obs_dim);
    T_EQ_INT(a->D, b->D);
    size_t T = a->T;
    T_CHECK(!memcmp(a->obs, b->obs, (T + 1) * a->obs_dim * sizeof(float)));
    T_CHECK(!memcmp(a->actions, b->actions, T * a->D * sizeof(float)));
    T_CHECK(!memcmp(a->rewards, b->rewards, T * sizeof(float)));
    T_CHECK(!memcmp(a->steps, b->steps, T * sizeof(uint32_t)));
    T_CHECK(!memcmp(a->terminal, b->terminal, T));
    T_CHECK(!memcmp(a->truncated, b->truncated, T));
    T_EQ_INT(a->episode_start, b->episode_start);
    T_EQ_INT(a->n_episodes, b->n_episodes);
    if (a->n_episodes == b->n_episodes && a->n_episodes) {
        T_CHECK(!memcmp(a->episode_return, b->episode_return, a->n_episodes * sizeof(float)));
        T_CHECK(!memcmp(a->episode_len, b->episode_len, a->n_episodes * sizeof(uint32_t)));
    }
}

// m packs and decodes (with d) back to an equal segment
static inline void check_roundtrip(struct wire_decoder *d, const struct wire_msg *m)
{
    struct wire_msg o;
    T_EQ_INT(pack_decode(d, m, &o, NULL), 0);
    check_segment_equal(&m->segment, &o.segment);
}

#endif
