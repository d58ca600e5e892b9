/*
 * test_wire.c — the wire contract: round trips of every message, hand-encoded protobuf (an
 * encoder independent of protobuf-c, so field numbers are pinned), size limits, -ENOSPC, size
 * bounds, the segment builder, no arena growth over 10^5 decodes, and an informational
 * pack/decode timing of a Hopper-sized segment. Hostile input: test_wire_reject.c.
 */
#include <malloc.h>

#include "tests/wiretest.h"

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
    T_EQ_STR(o.welcome.policy_kind, "pixflow");
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
    T_EQ_STR(o.welcome.policy_kind, ""); /* none named: actors run the algorithm's default */
    T_EQ_STR(wire_type_name(WIRE_PARAMS_REQUEST), "params_request");
    T_EQ_STR(wire_type_name((enum wire_type)99), "none");
    wire_decoder_destroy(&d);
    T_CHECK(d == NULL);
    wire_decoder_destroy(&d); // no-op
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
    T_RUN(test_sizes);
    T_RUN(test_enospc);
    T_RUN(test_bounds);
    T_RUN(test_segbuf);
    T_RUN(test_no_alloc_growth);
    return T_DONE("wire");
}
