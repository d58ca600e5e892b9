/*
 * test_wire.c — the wire contract: round trips of every message, hand-encoded protobuf (an
 * encoder independent of protobuf-c, so field numbers are pinned), random and truncated bytes,
 * size limits, validation of dims/floats/flags/strings, -ENOSPC, no arena growth over 10^5
 * decodes, and an informational pack/decode timing of a Hopper-sized segment.
 */
#include "proto/wire.h"
#include "common/rng.h"
#include "common/util.h"
#include "tests/harness.h"
#include "tests/spawn.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define MAXMSG (1 << 20)

static uint8_t buf[4 << 20];
static char err[256];

/* pack m into buf and decode it with d; returns the decode status, *len the packed size */
static int pack_decode(struct wire_decoder *d, const struct wire_msg *m, struct wire_msg *out,
                       size_t *len)
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

static void pb_varint(struct pbw *w, uint64_t v)
{
    do {
        RL_ASSERT(w->n < sizeof(w->p));
        w->p[w->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void pb_uint(struct pbw *w, unsigned field, uint64_t v)
{
    pb_varint(w, (uint64_t)field << 3 | 0);
    pb_varint(w, v);
}

static void pb_bytes(struct pbw *w, unsigned field, const void *data, size_t n)
{
    pb_varint(w, (uint64_t)field << 3 | 2);
    pb_varint(w, n);
    RL_ASSERT(w->n + n <= sizeof(w->p));
    memcpy(w->p + w->n, data, n);
    w->n += n;
}

/* n floats with value base + i: packed (one length-delimited field) or one fixed32 per value */
static void pb_floats(struct pbw *w, unsigned field, size_t n, float base, bool packed)
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
static size_t pb_envelope(uint32_t version, unsigned field, const struct pbw *body, uint8_t *out)
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

static struct craft craft_ok(uint32_t T, uint32_t obs_dim, uint32_t D)
{
    return (struct craft){T, obs_dim, D,    (T + 1) * obs_dim, T * D, T, T, T, T, 2, 2, 7, 1,
                          1, 0.5f,    false};
}

static size_t craft_segment(const struct craft *c, uint32_t version)
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

static struct wire_msg sample_segment(uint32_t T, uint32_t obs_dim, uint32_t D, uint64_t seed)
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

static struct wire_msg sample_params(void)
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

static struct wire_msg sample_control(enum wire_type t)
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
                                          .session = sess};
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

// ---- round trips -----------------------------------------------------------------------------

static void test_roundtrip_control(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg o;
    T_CHECK(d != NULL);

    struct wire_msg m = sample_control(WIRE_HELLO);
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.type, WIRE_HELLO);
    T_EQ_INT(o.version, WIRE_PROTOCOL_VERSION);
    T_EQ_STR(o.hello.name, "node7:4242");
    T_EQ_INT(o.hello.pid, 4242);
    T_EQ_INT(o.hello.num_envs, 8);
    T_EQ_STR(o.hello.task, "hopper");
    T_EQ_INT(o.hello.obs_dim, 11);
    T_EQ_INT(o.hello.act_dim, 3);
    T_EQ_INT(o.hello.chunk_h, 4);
    T_EQ_INT(o.hello.known_epoch, 5);
    T_CHECK(o.hello.evaluator);

    m = sample_control(WIRE_WELCOME);
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.type, WIRE_WELCOME);
    T_CHECK(o.welcome.accepted);
    T_EQ_STR(o.welcome.reason, "");
    T_EQ_INT(o.welcome.actor_id, 12);
    T_EQ_INT(o.welcome.run_epoch, 77);
    T_EQ_STR(o.welcome.config, config_text);
    T_EQ_INT(o.welcome.param_version, 9);
    T_CHECK(o.welcome.seed == 1ull << 50);
    T_EQ_INT(o.welcome.stream_base, 4096);
    T_CHECK(wire_session_equal(&o.welcome.session, &sess));
    // an accepted welcome needs a session, a refused one must not carry one
    m.welcome.session = (struct wire_session){{0}};
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);

    m = sample_control(WIRE_HEARTBEAT);
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.type, WIRE_HEARTBEAT);
    T_EQ_INT(o.heartbeat.actor_id, 12);
    T_EQ_INT(o.heartbeat.run_epoch, 77);
    T_CHECK(o.heartbeat.env_steps == 1ull << 35);
    T_EQ_INT(o.heartbeat.episodes, 1234);
    T_EQ_INT(o.heartbeat.policy_version, 9);
    T_CHECK(o.heartbeat.steps_per_sec == 1e5f);
    T_EQ_INT(o.heartbeat.segments_sent, 999);
    T_EQ_INT(o.heartbeat.send_queue, 3);
    T_EQ_INT(o.heartbeat.send_stalls, 17);
    T_CHECK(o.heartbeat.send_wait_s == 2.5f);
    T_CHECK(wire_session_equal(&o.heartbeat.session, &sess));

    m = sample_control(WIRE_HEARTBEAT_ACK);
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.type, WIRE_HEARTBEAT_ACK);
    T_EQ_INT(o.heartbeat_ack.run_epoch, 77);
    T_EQ_INT(o.heartbeat_ack.param_version, 10);
    T_CHECK(o.heartbeat_ack.stop);
    T_EQ_INT(o.heartbeat_ack.env_steps, 1ull << 40);
    T_CHECK(!o.heartbeat_ack.register_again);
    // "register again" tells nothing: no epoch allowed with it
    m.heartbeat_ack = (struct wire_heartbeat_ack){.register_again = true};
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_CHECK(o.heartbeat_ack.register_again && o.heartbeat_ack.run_epoch == 0);
    m.heartbeat_ack.run_epoch = 77;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);

    m = sample_control(WIRE_EVAL_REPORT);
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.type, WIRE_EVAL_REPORT);
    T_EQ_INT(o.eval_report.actor_id, 12);
    T_EQ_INT(o.eval_report.run_epoch, 77);
    T_EQ_INT(o.eval_report.policy_version, 9);
    T_EQ_INT(o.eval_report.env_steps, 123456);
    T_NEAR(o.eval_report.return_mean, 1500.5, 0);
    T_NEAR(o.eval_report.return_std, 210.25, 0);
    T_NEAR(o.eval_report.length_mean, 812.5, 0);
    T_EQ_INT(o.eval_report.episodes, 10);
    T_CHECK(wire_session_equal(&o.eval_report.session, &sess));
    T_EQ_INT(o.eval_report.successes, 4);
    // more successes than episodes are refused
    m.eval_report.successes = 11;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    m = sample_control(WIRE_EVAL_REPORT);
    // bad statistics and zero episodes are refused
    m.eval_report.return_mean = NAN;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    m = sample_control(WIRE_EVAL_REPORT);
    m.eval_report.episodes = 0;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    T_EQ_STR(wire_type_name(WIRE_EVAL_REPORT), "eval_report");

    m = sample_control(WIRE_BYE);
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.type, WIRE_BYE);
    T_EQ_INT(o.bye.actor_id, 12);
    T_EQ_INT(o.bye.run_epoch, 77);
    T_EQ_STR(o.bye.reason, "shutting down: SIGTERM\n");
    T_CHECK(wire_session_equal(&o.bye.session, &sess));

    m = sample_control(WIRE_PARAMS_REQUEST);
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.type, WIRE_PARAMS_REQUEST);
    T_EQ_INT(o.params_request.actor_id, 12);
    T_EQ_INT(o.params_request.run_epoch, 77);
    T_EQ_INT(o.params_request.have_version, 8);
    T_CHECK(wire_session_equal(&o.params_request.session, &sess));
    T_CHECK(!wire_session_set(&(struct wire_session){{0}}));

    // a refused welcome: no epoch, no config, a reason; NULL strings pack as ""
    m = (struct wire_msg){.type = WIRE_WELCOME};
    m.welcome.reason = "task mismatch: walker2d != hopper";
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_CHECK(!o.welcome.accepted);
    T_EQ_STR(o.welcome.reason, "task mismatch: walker2d != hopper");
    T_EQ_STR(o.welcome.config, "");
    T_EQ_STR(wire_type_name(WIRE_PARAMS_REQUEST), "params_request");
    T_EQ_STR(wire_type_name((enum wire_type)99), "none");
    wire_decoder_destroy(&d);
    T_CHECK(d == NULL);
    wire_decoder_destroy(&d); // no-op
}

static void check_segment_equal(const struct wire_segment *a, const struct wire_segment *b)
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
static void check_roundtrip(struct wire_decoder *d, const struct wire_msg *m)
{
    struct wire_msg o;
    T_EQ_INT(pack_decode(d, m, &o, NULL), 0);
    check_segment_equal(&m->segment, &o.segment);
}

static void test_roundtrip_segment(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg o;
    size_t len = 0;

    struct wire_msg m = sample_segment(256, 11, 12, 1);
    T_CHECK(wire_check(&(struct wire_msg){0}, err, sizeof(err)) == -EPROTO);
    m.version = WIRE_PROTOCOL_VERSION;
    T_EQ_INT(wire_check(&m, err, sizeof(err)), 0);
    m.version = 0;
    T_EQ_INT(pack_decode(d, &m, &o, &len), 0);
    T_EQ_INT(o.type, WIRE_SEGMENT);
    check_segment_equal(&m.segment, &o.segment);
    T_EQ_INT(len, wire_packed_size(&m));
    // floats dominate: 6155 floats = 24620 bytes, plus a small header
    T_CHECK(len > 24620 && len < 24620 + 1000);
    // the decoded arrays live in the decoder, not in the input buffer or the caller's arrays
    T_CHECK(o.segment.obs != m.segment.obs);

    // T = 1, no episodes, no end; every shape
    m = sample_segment(1, 1, 1, 2);
    m.segment.n_episodes = 0;
    store.term[0] = store.trunc[0] = 0;
    m.segment.episode_start = false;
    check_roundtrip(d, &m);
    for (uint64_t s = 0; s < 20; s++) {
        m = sample_segment(1 + (uint32_t)(s * 13 % 256), 1 + (uint32_t)(s * 7 % 64),
                           1 + (uint32_t)(s * 5 % 64), s);
        check_roundtrip(d, &m);
    }
    wire_decoder_destroy(&d);
}

static void test_roundtrip_params(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg o;

    struct wire_msg m = sample_params();
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.type, WIRE_PARAMS);
    T_EQ_INT(o.params.run_epoch, 2);
    T_CHECK(o.params.version == 1ull << 33);
    T_CHECK(o.params.layout_hash == 0xdeadbeefcafef00dull);
    T_EQ_STR(o.params.algo, "rldt");
    T_EQ_INT(o.params.n_weights, 5000);
    T_CHECK(!memcmp(o.params.weights, weights, sizeof(weights)));
    T_EQ_INT(o.params.obs_dim, 3);
    T_CHECK(!memcmp(o.params.obs_lo, obs_lo, sizeof(obs_lo)));
    T_CHECK(!memcmp(o.params.obs_hi, obs_hi, sizeof(obs_hi)));
    T_EQ_INT(o.params.act_dim, 2);
    T_CHECK(!memcmp(o.params.act_lo, act_lo, sizeof(act_lo)));
    T_CHECK(!memcmp(o.params.act_hi, act_hi, sizeof(act_hi)));
    T_CHECK(!o.params.stop);
    T_CHECK(o.params.publish_unix_ns == 1796601600123456789ull); /* field 70, all 64 bits */

    // a stop notice needs no weights and no bounds
    m = (struct wire_msg){.type = WIRE_PARAMS};
    m.params = (struct wire_params){.run_epoch = 3, .version = 8, .algo = "sac", .stop = true};
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_CHECK(o.params.stop);
    T_EQ_INT(o.params.n_weights, 0);
    T_EQ_INT(o.params.obs_dim, 0);
    m.params.stop = false; // ... but a snapshot does
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    T_CHECK_MSG(strstr(err, "no weights"), "%s", err);
    wire_decoder_destroy(&d);
}

/* The hand encoder agrees with protobuf-c, and non-packed encodings of repeated fields decode. */
static void test_independent_encoding(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg o, o2;

    struct craft c = craft_ok(5, 3, 4);
    size_t n = craft_segment(&c, WIRE_PROTOCOL_VERSION);
    T_EQ_INT(wire_decode(d, buf, n, &o, err, sizeof(err)), 0);
    T_CHECK_MSG(o.type == WIRE_SEGMENT, "%s", err);
    T_CHECK(o.segment.run_epoch == 7 && o.segment.actor_id == 3 && o.segment.env_id == 1);
    T_CHECK(o.segment.seq == 99 && o.segment.policy_version == 12);
    T_CHECK(o.segment.T == 5 && o.segment.obs_dim == 3 && o.segment.D == 4);
    T_CHECK(o.segment.obs[0] == 0.5f && o.segment.obs[17] == 17.5f);
    T_CHECK(o.segment.actions[19] == 18.0f && o.segment.rewards[4] == 4.25f);
    T_CHECK(o.segment.steps[2] == 1 && o.segment.terminal[4] == 1 && !o.segment.truncated[4]);
    T_CHECK(o.segment.episode_start && o.segment.n_episodes == 2);
    T_CHECK(o.segment.episode_return[1] == 11.0f && o.segment.episode_len[1] == 101);

    // protobuf-c packs the decoded message back to the same bytes
    uint8_t again[4096];
    size_t n2 = 0;
    memcpy(again + 2048, buf, n); // keep the craft
    o.version = 0;
    T_EQ_INT(wire_pack(&o, again, 2048, &n2), 0);
    T_EQ_INT(n2, n);
    T_CHECK(!memcmp(again, again + 2048, n));

    // the same values, every repeated field sent unpacked (legal protobuf): identical decode
    c.unpacked = true;
    size_t n3 = craft_segment(&c, WIRE_PROTOCOL_VERSION);
    T_CHECK(n3 > n);
    T_EQ_INT(wire_decode(d, buf, n3, &o2, err, sizeof(err)), 0);
    T_EQ_INT(o2.segment.T, 5);
    struct wire_decoder *d2 = wire_decoder_new(MAXMSG);
    T_EQ_INT(wire_decode(d2, again + 2048, n, &o, err, sizeof(err)), 0);
    check_segment_equal(&o.segment, &o2.segment);
    wire_decoder_destroy(&d2);
    wire_decoder_destroy(&d);
}

// ---- hostile input ---------------------------------------------------------------------------

/* decode a copy in an exact-size heap block, so a sanitizer sees any over-read */
static int decode_copy(struct wire_decoder *d, const uint8_t *p, size_t n, struct wire_msg *o)
{
    uint8_t *c = malloc(n ? n : 1);
    RL_ASSERT(c);
    memcpy(c, p, n);
    int rc = wire_decode(d, c, n, o, err, sizeof(err));
    if (rc == 0)
        T_EQ_INT(wire_check(o, NULL, 0), 0);
    else
        T_CHECK_MSG(o->type == WIRE_NONE && err[0], "rc %d with no reason", rc);
    free(c);
    return rc;
}

static void test_random_bytes(void)
{
    struct wire_decoder *d = wire_decoder_new(4096);
    struct wire_msg o;
    uint8_t r[2048];
    struct rng g;
    int ok = 0, n = 0;

    for (uint64_t seed = 0; seed < 20000; seed++, n++) {
        rng_init(&g, seed, 42);
        size_t len = rng_below(&g, sizeof(r));
        for (size_t i = 0; i < len; i++)
            r[i] = (uint8_t)rng_u64(&g);
        // half of them start with a valid version and body tag, to get past the first bytes
        if (seed & 1 && len > 4) {
            r[0] = 0x08, r[1] = 0x01;
            r[2] = (uint8_t)((2 + rng_below(&g, 8)) << 3 | 2);
        }
        ok += decode_copy(d, r, len, &o) == 0;
    }
    T_CHECK_MSG(ok == 0, "%d of %d random inputs decoded", ok, n);
    wire_decoder_destroy(&d);
}

/* flip random bits of valid messages: any outcome but a crash; a success must pass wire_check */
static void test_mutations(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg o;
    static uint8_t orig[64 << 10];
    struct rng g;
    int errors = 0, total = 0;

    enum wire_type types[] = {WIRE_HELLO,         WIRE_WELCOME, WIRE_HEARTBEAT,
                              WIRE_HEARTBEAT_ACK, WIRE_BYE,     WIRE_PARAMS_REQUEST,
                              WIRE_SEGMENT,       WIRE_PARAMS,  WIRE_EVAL_REPORT};
    rng_init(&g, 5, 5);
    for (size_t k = 0; k < RL_ARRAY_LEN(types); k++) {
        struct wire_msg m = types[k] == WIRE_SEGMENT  ? sample_segment(20, 5, 6, k)
                            : types[k] == WIRE_PARAMS ? sample_params()
                                                      : sample_control(types[k]);
        size_t n = 0;
        T_EQ_INT(wire_pack(&m, orig, sizeof(orig), &n), 0);
        for (int it = 0; it < 1000; it++, total++) {
            memcpy(buf, orig, n);
            int flips = 1 + (int)rng_below(&g, 4);
            for (int f = 0; f < flips; f++)
                buf[rng_below(&g, n)] ^= (uint8_t)(1u << rng_below(&g, 8));
            errors += decode_copy(d, buf, n, &o) != 0;
        }
    }
    printf("info: mutations: %d of %d bit-flipped messages rejected\n", errors, total);
    T_CHECK(errors > 0);
    wire_decoder_destroy(&d);
}

static void test_truncation(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg o;
    static uint8_t full[64 << 10];

    enum wire_type types[] = {WIRE_HELLO,         WIRE_WELCOME, WIRE_HEARTBEAT,
                              WIRE_HEARTBEAT_ACK, WIRE_BYE,     WIRE_PARAMS_REQUEST,
                              WIRE_SEGMENT,       WIRE_PARAMS,  WIRE_EVAL_REPORT};
    for (size_t k = 0; k < RL_ARRAY_LEN(types); k++) {
        struct wire_msg m = types[k] == WIRE_SEGMENT  ? sample_segment(30, 11, 12, k)
                            : types[k] == WIRE_PARAMS ? sample_params()
                                                      : sample_control(types[k]);
        size_t n = 0;
        int ok = 0;
        T_EQ_INT(wire_pack(&m, full, sizeof(full), &n), 0);
        for (size_t cut = 0; cut < n; cut++)
            ok += decode_copy(d, full, cut, &o) == 0;
        // the body is one length-delimited field: every proper prefix is malformed
        T_CHECK_MSG(ok == 0, "%s: %d of %zu prefixes decoded", wire_type_name(types[k]), ok, n);
        T_EQ_INT(decode_copy(d, full, n, &o), 0);
    }
    wire_decoder_destroy(&d);
}

static void test_sizes(void)
{
    struct wire_decoder *d = wire_decoder_new(1000);
    struct wire_msg o;
    uint8_t big[2000] = {0};

    T_CHECK(wire_decoder_new(0) == NULL);
    T_CHECK(wire_decoder_new(SIZE_MAX / 2) == NULL);
    T_EQ_INT(wire_decode(d, big, 1001, &o, err, sizeof(err)), -EMSGSIZE);
    T_CHECK_MSG(strstr(err, "1001"), "%s", err);
    // exactly the maximum is accepted (here: a hello padded with an unknown bytes field)
    struct wire_msg m = sample_control(WIRE_HELLO);
    size_t n = 0;
    T_EQ_INT(wire_pack(&m, big, sizeof(big), &n), 0);
    size_t pad = 1000 - n - 3; // tag (1 byte, field 15) + 2-byte length
    big[n] = 15 << 3 | 2;
    big[n + 1] = (uint8_t)(0x80 | (pad & 0x7f));
    big[n + 2] = (uint8_t)(pad >> 7);
    T_EQ_INT(wire_decode(d, big, 1000, &o, err, sizeof(err)), 0);
    T_EQ_STR(o.hello.name, "node7:4242"); // unknown fields are skipped (forward compatibility)
    wire_decoder_destroy(&d);

    // a small message whose decoded form explodes (tens of thousands of tiny unknown
    // fields): the arena runs out and the decoder says so instead of growing
    d = wire_decoder_new(MAXMSG);
    size_t len = 0;
    buf[len++] = 0x08, buf[len++] = 0x01;
    while (len + 3 <= 300000) // field 100, varint 0
        buf[len++] = 0xa0, buf[len++] = 0x06, buf[len++] = 0x00;
    T_EQ_INT(wire_decode(d, buf, len, &o, err, sizeof(err)), -EMSGSIZE);
    T_CHECK_MSG(strstr(err, "decode"), "%s", err);
    size_t cap = wire_decoder_capacity(d);
    T_CHECK(wire_decoder_high_water(d) <= cap);
    // the decoder is still usable afterwards
    m = sample_segment(8, 4, 4, 3);
    check_roundtrip(d, &m);
    wire_decoder_destroy(&d);
}

static void test_version_and_body(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg o;

    struct wire_msg m = sample_control(WIRE_HEARTBEAT);
    m.version = WIRE_PROTOCOL_VERSION + 1;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    T_CHECK_MSG(strstr(err, "protocol version 3"), "%s", err);
    T_EQ_INT(o.type, WIRE_NONE);
    T_EQ_INT(o.version, WIRE_PROTOCOL_VERSION + 1); // readable, so the learner can answer
    // a crafted segment with version 0 (absent) and 7
    struct craft c = craft_ok(4, 2, 2);
    T_EQ_INT(wire_decode(d, buf, craft_segment(&c, 0), &o, err, sizeof(err)), -EPROTO);
    T_EQ_INT(o.version, 0); // readable and absent: an old or broken peer, not noise
    uint8_t noise[3] = {0xff, 0xff, 0xff};
    T_EQ_INT(wire_decode(d, noise, sizeof(noise), &o, err, sizeof(err)), -EPROTO);
    T_EQ_INT(o.version, WIRE_VERSION_UNREAD);
    T_EQ_INT(wire_decode(d, buf, craft_segment(&c, 7), &o, err, sizeof(err)), -EPROTO);
    T_EQ_INT(wire_decode(d, buf, craft_segment(&c, WIRE_PROTOCOL_VERSION), &o, err, sizeof(err)),
             0);
    // empty input, and a version with no body
    T_EQ_INT(wire_decode(d, NULL, 0, &o, err, sizeof(err)), -EPROTO);
    uint8_t only_version[2] = {0x08, WIRE_PROTOCOL_VERSION};
    T_EQ_INT(wire_decode(d, only_version, 2, &o, err, sizeof(err)), -EPROTO);
    T_CHECK_MSG(strstr(err, "no message body"), "%s", err);
    // a session must be absent or exactly WIRE_SESSION_LEN bytes
    struct pbw hb = {.n = 0};
    pb_uint(&hb, 1, 12);
    pb_uint(&hb, 2, 77);
    pb_bytes(&hb, 30, "short", 5);
    T_EQ_INT(
        wire_decode(d, buf, pb_envelope(WIRE_PROTOCOL_VERSION, 4, &hb, buf), &o, err, sizeof(err)),
        -EPROTO);
    T_CHECK_MSG(strstr(err, "session is not 16 bytes"), "%s", err);
    // two bodies in one envelope
    size_t n = craft_segment(&c, WIRE_PROTOCOL_VERSION);
    uint8_t ack[] = {0x2a, 0x02, 0x08, 0x05}; // heartbeat_ack { run_epoch: 5 }
    memcpy(buf + n, ack, sizeof(ack));
    T_EQ_INT(wire_decode(d, buf, n + sizeof(ack), &o, err, sizeof(err)), -EPROTO);
    T_CHECK_MSG(strstr(err, "2 message bodies"), "%s", err);
    T_EQ_INT(wire_decode(d, buf + n, sizeof(ack), &o, err, sizeof(err)), -EPROTO); // no version
    // pack refuses a non-message type
    size_t len;
    T_EQ_INT(wire_pack(&(struct wire_msg){.type = WIRE_NONE}, buf, sizeof(buf), &len), -EINVAL);
    T_EQ_INT(wire_packed_size(&(struct wire_msg){.type = WIRE_NONE}), 0);
    wire_decoder_destroy(&d);
}

/* expect -EPROTO with `why` in the reason for one crafted segment */
static void expect_bad_craft(struct wire_decoder *d, const struct craft *c, const char *why)
{
    struct wire_msg o;
    size_t n = craft_segment(c, WIRE_PROTOCOL_VERSION);
    int rc = wire_decode(d, buf, n, &o, err, sizeof(err));
    T_CHECK_MSG(rc == -EPROTO && strstr(err, why), "rc %d, err '%s', expected '%s'", rc, err, why);
}

static void test_bad_dims(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct craft c;

#define BAD_CRAFT(field, value, why)                                                               \
    do {                                                                                           \
        c = craft_ok(6, 4, 3);                                                                     \
        c.field = value;                                                                           \
        expect_bad_craft(d, &c, why);                                                              \
    } while (0)

    BAD_CRAFT(T, 0, "segment T = 0");
    BAD_CRAFT(T, WIRE_T_MAX + 1, "segment T");
    BAD_CRAFT(obs_dim, 0, "obs_dim = 0");
    BAD_CRAFT(D, WIRE_DIM_MAX + 1, "segment D");
    BAD_CRAFT(n_obs, 27, "obs floats");
    BAD_CRAFT(n_obs, 6 * 4, "obs floats"); // T rows instead of T+1
    BAD_CRAFT(n_act, 17, "action floats");
    BAD_CRAFT(n_rew, 5, "lengths");
    BAD_CRAFT(n_steps, 7, "lengths");
    BAD_CRAFT(n_term, 0, "lengths");
    BAD_CRAFT(n_trunc, 5, "lengths");
    BAD_CRAFT(n_ret, 3, "episode returns");
    BAD_CRAFT(n_len, 0, "episode returns");
    BAD_CRAFT(epoch, 0, "run epoch 0");
    BAD_CRAFT(flag, 2, "terminal[5] = 2");
    BAD_CRAFT(step, 0, "steps[0] = 0");
    BAD_CRAFT(step, 4, "steps[0] = 4 outside 1..D=3");
    c = craft_ok(6, 4, 3);
    T_EQ_INT(wire_decode(d, buf, craft_segment(&c, WIRE_PROTOCOL_VERSION), &(struct wire_msg){0},
                         err, sizeof(err)),
             0);
#undef BAD_CRAFT

    // bad dims in the other messages
    struct wire_msg m = sample_control(WIRE_HELLO), o;
    m.hello.chunk_h = 1000;
    m.hello.act_dim = 17;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    T_CHECK_MSG(strstr(err, "chunk_h * act_dim"), "%s", err);
    m = sample_control(WIRE_HELLO);
    m.hello.num_envs = 0;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    m = sample_control(WIRE_HELLO);
    m.hello.obs_dim = WIRE_DIM_MAX + 1;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    m = sample_params();
    m.params.obs_lo = obs_hi; // swapped: lo > hi
    m.params.obs_hi = obs_lo;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    T_CHECK_MSG(strstr(err, "lo[0] = 1 > hi = -1"), "%s", err);
    m.params.obs_lo = obs_lo; // lo == hi is allowed (a constant dimension)
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    // obs_lo and obs_hi of different lengths (hand-encoded)
    struct pbw w = {.n = 0};
    pb_uint(&w, 1, 1);
    pb_bytes(&w, 4, "sac", 3);
    pb_floats(&w, 5, 10, 0.0f, true);
    pb_floats(&w, 6, 3, 0.0f, true);
    pb_floats(&w, 7, 2, 5.0f, true);
    size_t n = pb_envelope(WIRE_PROTOCOL_VERSION, 9, &w, buf);
    T_EQ_INT(wire_decode(d, buf, n, &o, err, sizeof(err)), -EPROTO);
    T_CHECK_MSG(strstr(err, "bounds lengths differ"), "%s", err);
    wire_decoder_destroy(&d);
}

static void test_nonfinite(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg m, o;
    const float bad[] = {NAN, INFINITY, -INFINITY};

    for (int k = 0; k < 3; k++) {
        m = sample_segment(16, 5, 4, 11);
        store.obs[30] = bad[k];
        T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
        T_CHECK_MSG(strstr(err, "segment obs[30] is not finite"), "%s", err);
        T_EQ_INT(
            wire_check(&(struct wire_msg){.type = WIRE_SEGMENT, .version = 1, .segment = m.segment},
                       NULL, 0),
            -EPROTO);

        m = sample_segment(16, 5, 4, 11);
        store.act[63] = bad[k];
        T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
        m = sample_segment(16, 5, 4, 11);
        store.rew[15] = bad[k];
        T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
        m = sample_segment(16, 5, 4, 11);
        store.ret[2] = bad[k];
        T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);

        m = sample_params();
        weights[4999] = bad[k];
        T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
        T_CHECK_MSG(strstr(err, "weights[4999]"), "%s", err);
        float lo[2] = {-1, bad[k]}, hi[2] = {1, 1};
        m = sample_params();
        m.params.act_lo = lo;
        m.params.act_hi = hi;
        T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);

        m = sample_control(WIRE_HEARTBEAT);
        m.heartbeat.steps_per_sec = bad[k];
        T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
        m = sample_control(WIRE_HEARTBEAT);
        m.heartbeat.send_wait_s = bad[k];
        T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    }
    m = sample_control(WIRE_HEARTBEAT);
    m.heartbeat.steps_per_sec = -1.0f;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    // denormals and -0 are finite
    m = sample_segment(16, 5, 4, 11);
    store.obs[0] = 1e-45f;
    store.obs[1] = -0.0f;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    wire_decoder_destroy(&d);
}

static void test_bad_flags(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg m, o;
    // one bad flag, count or episode end in a sample segment of T = 10, D = 2, and the error
    static const struct {
        uint8_t *flag;
        uint32_t *count;
        uint32_t v;
        const char *why;
    } cases[] = {
        {.flag = &store.trunc[9], .v = 255, .why = "truncated[9] = 255"},
        {.flag = &store.term[4], .v = 1, .why = "episode ends at chunk step 4"},
        {.count = &store.len[1], .v = 0, .why = "episode_len[1] = 0"},
        {.count = &store.steps[3], .v = 3, .why = "steps[3] = 3 outside 1..D=2"},
    };
    for (size_t i = 0; i < RL_ARRAY_LEN(cases); i++) {
        m = sample_segment(10, 3, 2, 4);
        if (cases[i].flag)
            *cases[i].flag = (uint8_t)cases[i].v;
        else
            *cases[i].count = cases[i].v;
        T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
        T_CHECK_MSG(strstr(err, cases[i].why), "%s (want %s)", err, cases[i].why);
    }
    // no end at all is fine (a full segment in mid-episode)
    m = sample_segment(10, 3, 2, 4);
    store.term[9] = store.trunc[9] = 0;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    wire_decoder_destroy(&d);
}

static void test_strings(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg m, o;
    static char long_text[WIRE_CONFIG_MAX + 2];

    const char *bad_names[] = {"",       "has space", "tab\there",
                               "bell\a", "del\x7f",   "\xc3\xa9t\xc3\xa9"};
    for (size_t i = 0; i < RL_ARRAY_LEN(bad_names); i++) {
        m = sample_control(WIRE_HELLO);
        m.hello.task = bad_names[i];
        T_CHECK_MSG(pack_decode(d, &m, &o, NULL) == -EPROTO, "task '%s' accepted", bad_names[i]);
    }
    m = sample_control(WIRE_HELLO);
    m.hello.name = NULL;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    T_CHECK_MSG(strstr(err, "hello name is empty"), "%s", err);
    memset(long_text, 'a', WIRE_NAME_MAX + 1);
    long_text[WIRE_NAME_MAX + 1] = '\0';
    m.hello.name = long_text;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    long_text[WIRE_NAME_MAX] = '\0';
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(strlen(o.hello.name), WIRE_NAME_MAX);

    // config: up to WIRE_CONFIG_MAX bytes of text
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[WIRE_CONFIG_MAX] = '\0';
    m = sample_control(WIRE_WELCOME);
    m.welcome.config = long_text;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(strlen(o.welcome.config), WIRE_CONFIG_MAX);
    long_text[WIRE_CONFIG_MAX] = 'x';
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    m.welcome.config = "a = 1\n\x01";
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    m.welcome.config = "";
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO); // accepted needs a config
    m.welcome.config = config_text;
    m.welcome.run_epoch = 0;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO); // accepted needs an epoch
    memset(long_text, 'r', WIRE_REASON_MAX + 1);
    long_text[WIRE_REASON_MAX + 1] = '\0';
    m = sample_control(WIRE_BYE);
    m.bye.reason = long_text;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    m = sample_params();
    m.params.algo = "";
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    // a tiny err buffer still gets a terminated prefix of the reason
    char small[8];
    size_t n = 0;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &n), 0);
    T_EQ_INT(wire_decode(d, buf, n, &o, small, sizeof(small)), -EPROTO);
    T_EQ_INT(strlen(small), 7);
    T_EQ_INT(wire_decode(d, buf, n, &o, NULL, 0), -EPROTO);
    wire_decoder_destroy(&d);
}

static void test_enospc(void)
{
    struct wire_msg m = sample_segment(50, 11, 12, 6);
    size_t need = wire_packed_size(&m), len = 12345;
    T_CHECK(need > 0);
    memset(buf, 0xAA, need + 16);
    T_EQ_INT(wire_pack(&m, buf, need - 1, &len), -ENOSPC);
    T_EQ_INT(len, 12345); // outputs untouched
    size_t untouched = 0;
    for (size_t i = 0; i < need + 16; i++)
        untouched += buf[i] == 0xAA;
    T_EQ_INT(untouched, need + 16);
    T_EQ_INT(wire_pack(&m, NULL, 0, &len), -ENOSPC);
    T_EQ_INT(wire_pack(&m, buf, need, &len), 0);
    T_EQ_INT(len, need);
    T_EQ_INT(buf[need], 0xAA); // nothing written past the message
}

/* the bounds hold for the largest ids, varints and values, and are not wildly loose */
static void test_bounds(void)
{
    struct wire_msg m = sample_segment(256, 64, 64, 3);
    m.segment.run_epoch = m.segment.seq = m.segment.policy_version = UINT64_MAX;
    m.segment.actor_id = m.segment.env_id = UINT32_MAX;
    for (int i = 0; i < 256; i++)
        store.steps[i] = UINT32_MAX;
    store.len[0] = store.len[1] = store.len[2] = UINT32_MAX;
    m.version = UINT32_MAX;
    size_t n = wire_packed_size(&m), b = wire_segment_bound(256, 64, 64, 3);
    T_CHECK_MSG(n <= b && b < n + 512, "packed %zu, bound %zu", n, b);
    m = sample_segment(1, 1, 1, 3);
    m.segment.n_episodes = 0;
    T_CHECK(wire_packed_size(&m) <= wire_segment_bound(1, 1, 1, 0));

    static char algo[WIRE_NAME_MAX + 1];
    memset(algo, 'a', WIRE_NAME_MAX);
    m = sample_params();
    m.params.run_epoch = m.params.version = m.params.layout_hash = UINT64_MAX;
    m.params.algo = algo;
    m.params.stop = true;
    n = wire_packed_size(&m);
    b = wire_params_bound(5000, 3, 2);
    T_CHECK_MSG(n <= b && b < n + 512, "packed %zu, bound %zu", n, b);

    static char text[WIRE_CONFIG_MAX + 1];
    static char reason[WIRE_REASON_MAX + 1];
    memset(text, 'c', WIRE_CONFIG_MAX);
    memset(reason, 'r', WIRE_REASON_MAX);
    m = sample_control(WIRE_WELCOME);
    m.welcome = (struct wire_welcome){.accepted = true,
                                      .reason = reason,
                                      .actor_id = UINT32_MAX,
                                      .run_epoch = UINT64_MAX,
                                      .config = text,
                                      .param_version = UINT64_MAX,
                                      .seed = UINT64_MAX,
                                      .stream_base = UINT64_MAX,
                                      .session = sess};
    n = wire_packed_size(&m);
    T_CHECK_MSG(n <= WIRE_CONTROL_BOUND, "welcome %zu > %d", n, WIRE_CONTROL_BOUND);
    struct wire_decoder *d = wire_decoder_new(WIRE_CONTROL_BOUND);
    struct wire_msg o;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    wire_decoder_destroy(&d);
}

static void test_segbuf(void)
{
    struct wire_segbuf b;
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    float obs[3], act[4] = {1, 2, 3, 4};

    T_EQ_INT(wire_segbuf_init(&b, 0, 4, 5), -EINVAL);
    T_EQ_INT(wire_segbuf_init(&b, 3, 4, WIRE_T_MAX + 1), -EINVAL);
    T_EQ_INT(wire_segbuf_init(&b, 3, 4, 3), 0);
    T_EQ_INT(wire_segbuf_push(&b, act, 1, 1, obs, false, false), -EINVAL); // not started
    T_EQ_INT(wire_segbuf_carry(&b), -EINVAL);
    obs[0] = 0, obs[1] = 0.5f, obs[2] = -1;
    wire_segbuf_start(&b, obs, true);
    for (int t = 0; t < 3; t++) {
        T_CHECK(!wire_segbuf_ready(&b));
        obs[0] = (float)(t + 1);
        act[0] = (float)t;
        T_EQ_INT(wire_segbuf_push(&b, act, 0.5f * t, 2, obs, false, false), 0);
    }
    T_CHECK(wire_segbuf_ready(&b));
    T_EQ_INT(wire_segbuf_push(&b, act, 0, 1, obs, false, false), -ENOSPC);

    struct wire_msg m = {.type = WIRE_SEGMENT}, o;
    wire_segbuf_view(&b, &m.segment);
    m.segment.run_epoch = 4;
    m.segment.seq = 1;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.segment.T, 3);
    T_CHECK(o.segment.episode_start);
    T_CHECK(o.segment.obs[1] == 0.5f && o.segment.obs[9] == 3.0f); // obs rows 0 and 3
    T_CHECK(o.segment.actions[8] == 2.0f && o.segment.rewards[2] == 1.0f);
    T_CHECK(o.segment.steps[1] == 2);

    // the next segment continues from the last observation, mid-episode
    T_EQ_INT(wire_segbuf_carry(&b), 0);
    T_EQ_INT(b.T, 0);
    T_CHECK(!b.episode_start && b.obs[0] == 3.0f && b.obs[1] == 0.5f);
    obs[0] = 9;
    T_EQ_INT(wire_segbuf_push(&b, act, 7.0f, 1, obs, true, false), 0);
    T_CHECK(wire_segbuf_ready(&b)); // ended early
    T_EQ_INT(wire_segbuf_push(&b, act, 7.0f, 1, obs, false, false), -EINVAL);
    T_EQ_INT(wire_segbuf_carry(&b), -EINVAL); // after an end, start with the reset obs
    for (int i = 0; i < WIRE_SEGBUF_EPISODES; i++)
        T_EQ_INT(wire_segbuf_add_episode(&b, 12.5f, 40, i % 3 == 1), 0);
    T_EQ_INT(wire_segbuf_add_episode(&b, 1, 1, false), -ENOSPC);
    wire_segbuf_view(&b, &m.segment);
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_EQ_INT(o.segment.T, 1);
    T_CHECK(o.segment.terminal[0] == 1 && !o.segment.episode_start);
    T_EQ_INT(o.segment.n_episodes, WIRE_SEGBUF_EPISODES);
    T_CHECK(o.segment.episode_return[7] == 12.5f && o.segment.episode_len[7] == 40);
    // success flags travel with the episode summaries
    T_CHECK(o.segment.episode_success != NULL);
    for (int i = 0; o.segment.episode_success && i < WIRE_SEGBUF_EPISODES; i++)
        T_EQ_INT(o.segment.episode_success[i], i % 3 == 1);
    // a segment without them (an older actor) decodes with none; a flag other than 0/1 fails
    m.segment.episode_success = NULL;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), 0);
    T_CHECK(o.segment.episode_success == NULL);
    uint8_t bad[WIRE_SEGBUF_EPISODES] = {0, 0, 2};
    m.segment.episode_success = bad;
    T_EQ_INT(pack_decode(d, &m, &o, NULL), -EPROTO);
    wire_segbuf_start(&b, obs, true);
    T_EQ_INT(b.n_episodes, 0);
    wire_segbuf_fini(&b);
    wire_segbuf_fini(&b); // twice is safe
    wire_decoder_destroy(&d);
}

/* 10^5 decodes of a Hopper segment: the arena high-water mark and the heap stay flat */
static void test_no_alloc_growth(void)
{
    struct wire_decoder *d = wire_decoder_new(MAXMSG);
    struct wire_msg o;
    size_t n = 0;

    struct wire_msg m = sample_segment(256, 11, 12, 8);
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &n), 0);
    T_EQ_INT(wire_decode(d, buf, n, &o, err, sizeof(err)), 0);
    size_t hw = wire_decoder_high_water(d);
    T_CHECK(hw >= n && hw < n + 4096); // decoded size ~ message size
    struct mallinfo2 before = mallinfo2();
    int fails = 0;
    for (int i = 0; i < 100000; i++)
        fails += wire_decode(d, buf, n, &o, NULL, 0) != 0;
    struct mallinfo2 after = mallinfo2();
    T_EQ_INT(fails, 0);
    T_EQ_INT(wire_decoder_high_water(d), hw);
    T_EQ_INT(after.uordblks, before.uordblks);
    T_EQ_INT(after.arena, before.arena);
    check_segment_equal(&m.segment, &o.segment);
    printf("info: segment T=256 obs=11 D=12: %zu bytes, arena high-water %zu of %zu\n", n, hw,
           wire_decoder_capacity(d));
    wire_decoder_destroy(&d);
}

int main(void)
{
    T_RUN(test_roundtrip_control);
    T_RUN(test_roundtrip_segment);
    T_RUN(test_roundtrip_params);
    T_RUN(test_independent_encoding);
    T_RUN(test_random_bytes);
    T_RUN(test_mutations);
    T_RUN(test_truncation);
    T_RUN(test_sizes);
    T_RUN(test_version_and_body);
    T_RUN(test_bad_dims);
    T_RUN(test_nonfinite);
    T_RUN(test_bad_flags);
    T_RUN(test_strings);
    T_RUN(test_enospc);
    T_RUN(test_bounds);
    T_RUN(test_segbuf);
    T_RUN(test_no_alloc_growth);
    return T_DONE("wire");
}
