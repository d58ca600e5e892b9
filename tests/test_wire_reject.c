/*
 * test_wire_reject.c — hostile input to the wire decoder: random, mutated and truncated bytes,
 * wrong versions and bodies, and validation of dims, floats, flags and strings (each refused
 * with -EPROTO and a message naming the field). Round trips and limits: test_wire.c.
 */
#include "tests/wiretest.h"

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

int main(void)
{
    T_RUN(test_random_bytes);
    T_RUN(test_mutations);
    T_RUN(test_truncation);
    T_RUN(test_version_and_body);
    T_RUN(test_bad_dims);
    T_RUN(test_nonfinite);
    T_RUN(test_bad_flags);
    T_RUN(test_strings);
    return T_DONE("wire_reject");
}
