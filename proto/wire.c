/*
 * wire.c — plain structs <-> protobuf-c envelopes (proto/rldt.proto) and an arena-backed
 * decoder (`rldt bench wire` times both). Validation is in wire_check.c, the segment builder in
 * wire_segbuf.c. The only file that includes generated protobuf-c code. Packing fills
 * protobuf-c structs on the stack that point at the caller's arrays (no copies, no
 * allocation); decoding unpacks into the decoder's arena through a custom allocator and
 * returns pointers into it.
 */
#include "proto/wire.h"
#include "proto/wire_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/util.h"
#include "rldt.pb-c.h"

// under AddressSanitizer, the unused arena is poisoned so a read past a decoded array traps
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ARENA_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ARENA_POISON(p, n) ((void)(p), (void)(n))
#define ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_ALIGN 16
#define ARENA_SLACK (64 << 10) /* bytes of arena beyond twice the message size */

struct wire_decoder {
    ProtobufCAllocator alloc; /* alloc/free over the arena below */
    size_t max_msg;           /* largest accepted message, bytes */
    uint8_t *arena;
    size_t cap;
    size_t used;
    size_t high;   /* high-water mark of used */
    bool overflow; /* an allocation did not fit since the last reset */
};

static const char *const type_names[] = {
    [WIRE_NONE] = "none",
    [WIRE_HELLO] = "hello",
    [WIRE_WELCOME] = "welcome",
    [WIRE_HEARTBEAT] = "heartbeat",
    [WIRE_HEARTBEAT_ACK] = "heartbeat_ack",
    [WIRE_BYE] = "bye",
    [WIRE_PARAMS_REQUEST] = "params_request",
    [WIRE_SEGMENT] = "segment",
    [WIRE_PARAMS] = "params",
    [WIRE_EVAL_REPORT] = "eval_report",
};

const char *wire_type_name(enum wire_type t)
{
    if ((unsigned)t >= RL_ARRAY_LEN(type_names))
        return "none";
    return type_names[t];
}

// ---- packing -------------------------------------------------------------------------------

union pb_body {
    Rldt__Hello hello;
    Rldt__Welcome welcome;
    Rldt__Heartbeat heartbeat;
    Rldt__HeartbeatAck heartbeat_ack;
    Rldt__Bye bye;
    Rldt__ParamsRequest params_request;
    Rldt__Segment segment;
    Rldt__Params params;
    Rldt__EvalReport eval_report;
};

static char *str_in(const char *s)
{
    return (char *)(s ? s : "");
}

bool wire_session_set(const struct wire_session *s)
{
    uint8_t any = 0;
    for (int i = 0; i < WIRE_SESSION_LEN; i++)
        any |= s->b[i];
    return any != 0;
}

bool wire_session_equal(const struct wire_session *a, const struct wire_session *b)
{
    uint8_t diff = 0;
    for (int i = 0; i < WIRE_SESSION_LEN; i++)
        diff |= a->b[i] ^ b->b[i];
    return diff == 0;
}

// a session as protobuf bytes: absent when not set
static ProtobufCBinaryData session_out(const struct wire_session *s)
{
    bool set = wire_session_set(s);
    return (ProtobufCBinaryData){set ? WIRE_SESSION_LEN : 0, set ? (uint8_t *)s->b : NULL};
}

// protobuf bytes as a session: absent (all zero) or exactly WIRE_SESSION_LEN bytes
static bool session_in(ProtobufCBinaryData d, struct wire_session *s)
{
    *s = (struct wire_session){{0}};
    if (d.len == 0)
        return true;
    if (d.len != WIRE_SESSION_LEN || !d.data)
        return false;
    memcpy(s->b, d.data, WIRE_SESSION_LEN);
    return true;
}

static float *floats_in(const float *x, size_t n)
{
    RL_ASSERT(x || n == 0);
    return n ? (float *)x : NULL;
}

static void segment_to_pb(const struct wire_segment *s, Rldt__Segment *p)
{
    size_t T = s->T;

    *p = (Rldt__Segment)RLDT__SEGMENT__INIT;
    p->run_epoch = s->run_epoch;
    p->actor_id = s->actor_id;
    p->env_id = s->env_id;
    p->seq = s->seq;
    p->policy_version = s->policy_version;
    p->t = s->T;
    p->obs_dim = s->obs_dim;
    p->d = s->D;
    p->n_obs = (T + 1) * s->obs_dim;
    p->obs = floats_in(s->obs, p->n_obs);
    p->n_actions = T * s->D;
    p->actions = floats_in(s->actions, p->n_actions);
    p->n_rewards = T;
    p->rewards = floats_in(s->rewards, T);
    RL_ASSERT(T == 0 || (s->steps && s->terminal && s->truncated));
    p->n_steps = T;
    p->steps = T ? (uint32_t *)s->steps : NULL;
    p->terminal.len = T;
    p->terminal.data = T ? (uint8_t *)s->terminal : NULL;
    p->truncated.len = T;
    p->truncated.data = T ? (uint8_t *)s->truncated : NULL;
    p->episode_start = s->episode_start;
    p->n_episode_return = s->n_episodes;
    p->episode_return = floats_in(s->episode_return, s->n_episodes);
    RL_ASSERT(s->episode_len || s->n_episodes == 0);
    p->n_episode_len = s->n_episodes;
    p->episode_len = s->n_episodes ? (uint32_t *)s->episode_len : NULL;
    p->episode_success.len = s->episode_success ? s->n_episodes : 0;
    p->episode_success.data = p->episode_success.len ? (uint8_t *)s->episode_success : NULL;
    p->session = session_out(&s->session);
    size_t nimg = s->images ? (T + 1) * wire_image_bytes(&s->image) : 0;
    p->images.len = nimg;
    p->images.data = nimg ? (uint8_t *)s->images : NULL;
    p->image_h = s->image.h;
    p->image_w = s->image.w;
    p->image_c = s->image.c;
    p->chain_len = s->chain_len;
    p->n_chain = s->chain_len ? T * s->chain_len : 0;
    p->chain = floats_in(s->chain, p->n_chain);
    p->n_chain_logp = s->chain_len ? T : 0;
    p->chain_logp = floats_in(s->chain_logp, p->n_chain_logp);
}

static void params_to_pb(const struct wire_params *s, Rldt__Params *p)
{
    *p = (Rldt__Params)RLDT__PARAMS__INIT;
    p->run_epoch = s->run_epoch;
    p->version = s->version;
    p->layout_hash = s->layout_hash;
    p->algo = str_in(s->algo);
    p->n_weights = s->n_weights;
    p->weights = floats_in(s->weights, s->n_weights);
    p->n_obs_lo = p->n_obs_hi = s->obs_dim;
    p->obs_lo = floats_in(s->obs_lo, s->obs_dim);
    p->obs_hi = floats_in(s->obs_hi, s->obs_dim);
    p->n_act_lo = p->n_act_hi = s->act_dim;
    p->act_lo = floats_in(s->act_lo, s->act_dim);
    p->act_hi = floats_in(s->act_hi, s->act_dim);
    p->stop = s->stop;
    p->publish_unix_ns = s->publish_unix_ns;
}

/*
 * The control messages as one table: each message's fields by kind, under the same name in its
 * plain struct (wire.h) and its protobuf message (rldt.proto): X a number or flag, S a string,
 * Z a session (bytes: absent or WIRE_SESSION_LEN), I an image shape (image_h/_w/_c). Packing and
 * decoding both expand these lists, so a field is added in one place.
 */
/* clang-format cannot lay out these token lists stably: they are kept as written */
// clang-format off
#define HELLO_FIELDS(X, S, Z, I)                                                                   \
    S(name) X(pid) X(num_envs) S(task) X(obs_dim) X(act_dim) X(chunk_h) X(known_epoch)            \
    X(evaluator) I(image)
#define WELCOME_FIELDS(X, S, Z, I)                                                                 \
    X(accepted) S(reason) X(actor_id) X(run_epoch) S(config) X(param_version) X(seed)             \
    X(stream_base) Z(session) S(policy_kind)
#define HEARTBEAT_FIELDS(X, S, Z, I)                                                               \
    X(actor_id) X(run_epoch) X(env_steps) X(episodes) X(policy_version) X(steps_per_sec)           \
    X(segments_sent) X(send_queue) X(send_stalls) X(send_wait_s) Z(session)
#define HEARTBEAT_ACK_FIELDS(X, S, Z, I)                                                           \
    X(run_epoch) X(param_version) X(stop) X(env_steps) X(register_again)
#define EVAL_REPORT_FIELDS(X, S, Z, I)                                                             \
    X(actor_id) X(run_epoch) X(policy_version) X(env_steps) X(return_mean) X(return_std)           \
    X(length_mean) X(episodes) X(successes) Z(session)
#define BYE_FIELDS(X, S, Z, I) X(actor_id) X(run_epoch) S(reason) Z(session)
#define PARAMS_REQUEST_FIELDS(X, S, Z, I) X(actor_id) X(run_epoch) X(have_version) Z(session)
// clang-format on

/* M(TYPE, member, protobuf type, its INIT, field list) for each control message */
#define CONTROL_MESSAGES(M)                                                                        \
    M(HELLO, hello, Rldt__Hello, RLDT__HELLO__INIT, HELLO_FIELDS)                                  \
    M(WELCOME, welcome, Rldt__Welcome, RLDT__WELCOME__INIT, WELCOME_FIELDS)                        \
    M(HEARTBEAT, heartbeat, Rldt__Heartbeat, RLDT__HEARTBEAT__INIT, HEARTBEAT_FIELDS)              \
    M(HEARTBEAT_ACK, heartbeat_ack, Rldt__HeartbeatAck, RLDT__HEARTBEAT_ACK__INIT,                 \
      HEARTBEAT_ACK_FIELDS)                                                                        \
    M(EVAL_REPORT, eval_report, Rldt__EvalReport, RLDT__EVAL_REPORT__INIT, EVAL_REPORT_FIELDS)     \
    M(BYE, bye, Rldt__Bye, RLDT__BYE__INIT, BYE_FIELDS)                                            \
    M(PARAMS_REQUEST, params_request, Rldt__ParamsRequest, RLDT__PARAMS_REQUEST__INIT,             \
      PARAMS_REQUEST_FIELDS)

// packing: pb (protobuf) from st (plain)
#define PACK_NUM(f) pb->f = st->f;
#define PACK_STR(f) pb->f = str_in(st->f);
#define PACK_SESSION(f) pb->f = session_out(&st->f);
#define PACK_IMAGE(f) pb->f##_h = st->f.h, pb->f##_w = st->f.w, pb->f##_c = st->f.c;
#define PACK_CASE(TYPE, member, Pb, INIT, FIELDS)                                                  \
    case WIRE_##TYPE: {                                                                            \
        const struct wire_##member *st = &m->member;                                               \
        Pb *pb = &b->member;                                                                       \
        *pb = (Pb)INIT;                                                                            \
        FIELDS(PACK_NUM, PACK_STR, PACK_SESSION, PACK_IMAGE)                                       \
        e->body_case = RLDT__ENVELOPE__BODY_##TYPE;                                                \
        e->member = pb;                                                                            \
        break;                                                                                     \
    }

static void control_to_pb(const struct wire_msg *m, union pb_body *b, Rldt__Envelope *e)
{
    switch (m->type) {
        CONTROL_MESSAGES(PACK_CASE)
    default:
        break;
    }
}

/* Fill e (and b, which e points into) from m; false for a type that is not a message. */
static bool to_pb(const struct wire_msg *m, union pb_body *b, Rldt__Envelope *e)
{
    *e = (Rldt__Envelope)RLDT__ENVELOPE__INIT;
    e->version = m->version ? m->version : WIRE_PROTOCOL_VERSION;
    switch (m->type) {
    case WIRE_SEGMENT:
        segment_to_pb(&m->segment, &b->segment);
        e->body_case = RLDT__ENVELOPE__BODY_SEGMENT;
        e->segment = &b->segment;
        return true;
    case WIRE_PARAMS:
        params_to_pb(&m->params, &b->params);
        e->body_case = RLDT__ENVELOPE__BODY_PARAMS;
        e->params = &b->params;
        return true;
    default:
        control_to_pb(m, b, e);
        return e->body_case != RLDT__ENVELOPE__BODY__NOT_SET;
    }
}

size_t wire_packed_size(const struct wire_msg *m)
{
    union pb_body b;
    Rldt__Envelope e;

    if (!to_pb(m, &b, &e))
        return 0;
    return rldt__envelope__get_packed_size(&e);
}

int wire_pack(const struct wire_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
    union pb_body b;
    Rldt__Envelope e;

    if (!to_pb(m, &b, &e))
        return -EINVAL;
    size_t n = rldt__envelope__get_packed_size(&e);
    if (n > cap)
        return -ENOSPC;
    size_t w = rldt__envelope__pack(&e, buf);
    RL_ASSERT(w == n);
    *len = n;
    return 0;
}

/*
 * Bounds: 16 bytes of envelope (version, body tag, body length), then per field a tag of at
 * most 2 bytes and a varint of at most 10 (scalars) or a length of at most 10 plus the payload
 * (packed arrays, bytes, strings). Varint payloads count 5 bytes per uint32.
 */
size_t wire_segment_bound(uint32_t T, uint32_t obs_dim, uint32_t D, uint32_t n_episodes)
{
    size_t t = T;
    size_t floats = (t + 1) * obs_dim + t * D + t + n_episodes;
    return 16 + 18 * 12 + 4 * floats + 5 * t + 2 * t + 6 * (size_t)n_episodes + 3 +
           WIRE_SESSION_LEN;
}

size_t wire_segment_image_bound(uint32_t T, const struct wire_image_shape *s)
{
    size_t n = ((size_t)T + 1) * wire_image_bytes(s);
    return n ? n + 12 + 3 * 7 : 0;
}

size_t wire_chain_bound(uint32_t T, uint32_t chain_len)
{
    return 3 * 12 + 4 * ((size_t)T * chain_len + T);
}

size_t wire_params_bound(size_t n_weights, uint32_t obs_dim, uint32_t act_dim)
{
    size_t floats = n_weights + 2 * (size_t)obs_dim + 2 * (size_t)act_dim;
    return 16 + 10 * 12 + WIRE_NAME_MAX + 4 * floats;
}

// ---- unpacked protobuf -> plain structs ------------------------------------------------------

/* The array lengths a segment carries must match its dims (checked before any value is read). */
static int segment_from_pb(const Rldt__Segment *p, struct wire_segment *s, char *err, size_t errlen)
{
    int rc;

    *s = (struct wire_segment){
        .run_epoch = p->run_epoch,
        .actor_id = p->actor_id,
        .env_id = p->env_id,
        .seq = p->seq,
        .policy_version = p->policy_version,
        .T = p->t,
        .obs_dim = p->obs_dim,
        .D = p->d,
        .obs = p->obs,
        .actions = p->actions,
        .rewards = p->rewards,
        .steps = p->steps,
        .terminal = p->terminal.data,
        .truncated = p->truncated.data,
        .episode_start = p->episode_start,
        .n_episodes = (uint32_t)RL_MIN(p->n_episode_return, UINT32_MAX),
        .episode_return = p->episode_return,
        .episode_len = p->episode_len,
        .episode_success = p->episode_success.len ? p->episode_success.data : NULL,
        .image = {p->image_h, p->image_w, p->image_c},
        .images = p->images.len ? p->images.data : NULL,
        .chain_len = p->chain_len,
        .chain = p->n_chain ? p->chain : NULL,
        .chain_logp = p->n_chain_logp ? p->chain_logp : NULL,
    };
    if (!session_in(p->session, &s->session))
        return BAD("segment: session of %zu bytes, expected %d", p->session.len, WIRE_SESSION_LEN);
    if ((rc = wire_seg_dims(s, err, errlen)))
        return rc;
    size_t T = s->T;
    if (p->n_obs != (T + 1) * s->obs_dim)
        return BAD("segment: %zu obs floats, expected (T+1)*obs_dim = %zu", p->n_obs,
                   (T + 1) * s->obs_dim);
    if (p->n_actions != T * s->D)
        return BAD("segment: %zu action floats, expected T*D = %zu", p->n_actions, T * s->D);
    if (p->n_rewards != T || p->n_steps != T || p->terminal.len != T || p->truncated.len != T)
        return BAD("segment: rewards/steps/terminal/truncated lengths %zu/%zu/%zu/%zu, "
                   "expected T = %zu",
                   p->n_rewards, p->n_steps, p->terminal.len, p->truncated.len, T);
    if (p->n_episode_len != p->n_episode_return)
        return BAD("segment: %zu episode returns but %zu lengths", p->n_episode_return,
                   p->n_episode_len);
    if (p->episode_success.len && p->episode_success.len != p->n_episode_return)
        return BAD("segment: %zu episode returns but %zu success flags", p->n_episode_return,
                   p->episode_success.len);
    if (p->images.len != (T + 1) * wire_image_bytes(&s->image))
        return BAD("segment: %zu image bytes, expected (T+1)*h*w*c = %zu for %ux%ux%u",
                   p->images.len, (T + 1) * wire_image_bytes(&s->image), s->image.h, s->image.w,
                   s->image.c);
    if (p->chain_len &&
        (p->chain_len % s->D || p->chain_len / s->D < 2 || p->chain_len / s->D > WIRE_CHAIN_MAX))
        return BAD("segment: chain_len %u is not k*D (D = %u, k in 2..%d)", p->chain_len, s->D,
                   WIRE_CHAIN_MAX);
    if (p->n_chain != T * p->chain_len || p->n_chain_logp != (p->chain_len ? T : 0))
        return BAD("segment: %zu chain floats and %zu log-likelihoods for chain_len %u, T %zu",
                   p->n_chain, p->n_chain_logp, p->chain_len, T);
    return 0;
}

static int params_from_pb(const Rldt__Params *p, struct wire_params *s, char *err, size_t errlen)
{
    if (p->n_obs_lo != p->n_obs_hi || p->n_act_lo != p->n_act_hi)
        return BAD("params: bounds lengths differ (obs %zu/%zu, act %zu/%zu)", p->n_obs_lo,
                   p->n_obs_hi, p->n_act_lo, p->n_act_hi);
    if (p->n_obs_lo > WIRE_DIM_MAX || p->n_act_lo > WIRE_DIM_MAX)
        return BAD("params: bounds longer than %d", WIRE_DIM_MAX);
    *s = (struct wire_params){
        .run_epoch = p->run_epoch,
        .version = p->version,
        .layout_hash = p->layout_hash,
        .algo = p->algo,
        .n_weights = p->n_weights,
        .weights = p->weights,
        .obs_dim = (uint32_t)p->n_obs_lo,
        .obs_lo = p->obs_lo,
        .obs_hi = p->obs_hi,
        .act_dim = (uint32_t)p->n_act_lo,
        .act_lo = p->act_lo,
        .act_hi = p->act_hi,
        .stop = p->stop,
        .publish_unix_ns = p->publish_unix_ns,
    };
    return 0;
}

// decoding: st (plain) from pb (protobuf); a session of the wrong length clears ok
#define UNPACK_NUM(f) st->f = pb->f;
#define UNPACK_SESSION(f) ok &= session_in(pb->f, &st->f);
#define UNPACK_IMAGE(f) st->f = (struct wire_image_shape){pb->f##_h, pb->f##_w, pb->f##_c};
#define UNPACK_CASE(TYPE, member, Pb, INIT, FIELDS)                                                \
    case RLDT__ENVELOPE__BODY_##TYPE: {                                                            \
        const Pb *pb = e->member;                                                                  \
        struct wire_##member *st = &m->member;                                                     \
        m->type = WIRE_##TYPE;                                                                     \
        *st = (struct wire_##member){0};                                                           \
        FIELDS(UNPACK_NUM, UNPACK_NUM, UNPACK_SESSION, UNPACK_IMAGE)                               \
        break;                                                                                     \
    }

// the control message in e into m; false when its session field has the wrong length
static bool control_from_pb(const Rldt__Envelope *e, struct wire_msg *m)
{
    bool ok = true;
    switch (e->body_case) {
        CONTROL_MESSAGES(UNPACK_CASE)
    default:
        m->type = WIRE_NONE;
        break;
    }
    return ok;
}

static int from_pb(const Rldt__Envelope *e, struct wire_msg *m, char *err, size_t errlen)
{
    m->version = e->version;
    if (e->version != WIRE_PROTOCOL_VERSION)
        return BAD("protocol version %u, expected %d", e->version, WIRE_PROTOCOL_VERSION);
    switch (e->body_case) {
    case RLDT__ENVELOPE__BODY_SEGMENT:
        m->type = WIRE_SEGMENT;
        return segment_from_pb(e->segment, &m->segment, err, errlen);
    case RLDT__ENVELOPE__BODY_PARAMS:
        m->type = WIRE_PARAMS;
        return params_from_pb(e->params, &m->params, err, errlen);
    default:
        if (!control_from_pb(e, m))
            return BAD("%s: session is not %d bytes", wire_type_name(m->type), WIRE_SESSION_LEN);
        if (m->type == WIRE_NONE)
            return BAD("no message body");
        return 0;
    }
}

// ---- decoder -------------------------------------------------------------------------------

/* Read a varint at *p (< end); false if truncated or longer than 10 bytes. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

/*
 * Count the body fields (numbers 2..9) at the top level of an envelope. protobuf-c keeps only
 * the last member of a oneof, so a second body would otherwise pass silently.
 */
static unsigned count_bodies(const uint8_t *p, size_t len)
{
    if (len == 0) /* p may be NULL, and NULL + 0 is undefined */
        return 0;
    const uint8_t *end = p + len;
    unsigned n = 0;
    uint64_t tag, v;

    while (p < end && read_varint(&p, end, &tag)) {
        uint64_t field = tag >> 3;
        n += field >= 2 && field <= 10; /* the oneof body fields */
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &v))
                return n;
            break;
        case 1:
            p += RL_MIN(8, (size_t)(end - p));
            break;
        case 2:
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return n;
            p += v;
            break;
        case 5:
            p += RL_MIN(4, (size_t)(end - p));
            break;
        default:
            return n;
        }
    }
    return n;
}

static void *arena_alloc(void *data, size_t size)
{
    struct wire_decoder *d = data;
    size_t room = d->cap - d->used;

    if (size > room || ((size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1)) > room) {
        d->overflow = true;
        return NULL;
    }
    void *p = d->arena + d->used;
    ARENA_UNPOISON(p, size);
    d->used += (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (d->used > d->high)
        d->high = d->used;
    return p;
}

static void arena_free(void *data, void *p)
{
    (void)data;
    (void)p; // the whole arena is reset on the next decode
}

struct wire_decoder *wire_decoder_new(size_t max_msg_bytes)
{
    if (max_msg_bytes == 0 || max_msg_bytes > (SIZE_MAX - ARENA_SLACK) / 4)
        return NULL;
    struct wire_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    // legitimate messages decode to about their own size (packed floats and bytes copy 1:1);
    // pathological ones (thousands of tiny fields) blow up and get -EMSGSIZE instead
    d->cap = 2 * max_msg_bytes + ARENA_SLACK;
    d->arena = malloc(d->cap);
    if (!d->arena) {
        free(d);
        return NULL;
    }
    ARENA_POISON(d->arena, d->cap);
    d->max_msg = max_msg_bytes;
    d->alloc = (ProtobufCAllocator){arena_alloc, arena_free, d};
    return d;
}

void wire_decoder_destroy(struct wire_decoder **d)
{
    if (!d || !*d)
        return;
    ARENA_UNPOISON((*d)->arena, (*d)->cap);
    free((*d)->arena);
    free(*d);
    *d = NULL;
}

size_t wire_decoder_high_water(const struct wire_decoder *d)
{
    return d->high;
}

size_t wire_decoder_capacity(const struct wire_decoder *d)
{
    return d->cap;
}

int wire_decode(struct wire_decoder *d, const void *buf, size_t len, struct wire_msg *out,
                char *err, size_t errlen)
{
    struct wire_msg m = {0};
    int rc;

    RL_ASSERT(buf || len == 0);
    *out = (struct wire_msg){0};
    if (err && errlen)
        err[0] = '\0';
    if (len > d->max_msg)
        return rl_err(-EMSGSIZE, err, errlen, "message of %zu bytes exceeds the maximum %zu", len,
                      d->max_msg);
    ARENA_POISON(d->arena, d->used);
    d->used = 0;
    d->overflow = false;
    Rldt__Envelope *e = rldt__envelope__unpack(&d->alloc, len, len ? buf : (const void *)"");
    if (!e) {
        out->version = WIRE_VERSION_UNREAD;
        if (d->overflow)
            return rl_err(-EMSGSIZE, err, errlen,
                          "%zu-byte message needs more than %zu bytes to decode", len, d->cap);
        return BAD("malformed protobuf (%zu bytes)", len);
    }
    unsigned bodies = count_bodies(buf, len);
    if (bodies > 1) {
        out->version = e->version;
        return BAD("%u message bodies in one envelope", bodies);
    }
    if ((rc = from_pb(e, &m, err, errlen)) || (rc = wire_check(&m, err, errlen))) {
        out->version = m.version;
        return rc;
    }
    *out = m;
    return 0;
}
