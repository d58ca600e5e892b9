/*
 * wire.c — plain structs <-> protobuf-c envelopes (proto/rldt.proto), structural validation,
 * an arena-backed decoder, a segment builder and a pack/decode micro-benchmark.
 * The only file that includes generated protobuf-c code. Packing fills protobuf-c structs on
 * the stack that point at the caller's arrays (no copies, no allocation); decoding unpacks
 * into the decoder's arena through a custom allocator and returns pointers into it.
 */
#include "proto/wire.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
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

__attribute__((format(printf, 4, 5))) static int fail(int rc, char *err, size_t errlen,
                                                      const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#define BAD(...) fail(-EPROTO, err, errlen, __VA_ARGS__)

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
}

static void control_to_pb(const struct wire_msg *m, union pb_body *b, Rldt__Envelope *e)
{
    switch (m->type) {
    case WIRE_HELLO: {
        const struct wire_hello *s = &m->hello;
        b->hello = (Rldt__Hello)RLDT__HELLO__INIT;
        b->hello.name = str_in(s->name);
        b->hello.pid = s->pid;
        b->hello.num_envs = s->num_envs;
        b->hello.task = str_in(s->task);
        b->hello.obs_dim = s->obs_dim;
        b->hello.act_dim = s->act_dim;
        b->hello.chunk_h = s->chunk_h;
        b->hello.known_epoch = s->known_epoch;
        e->body_case = RLDT__ENVELOPE__BODY_HELLO;
        e->hello = &b->hello;
        break;
    }
    case WIRE_WELCOME: {
        const struct wire_welcome *s = &m->welcome;
        b->welcome = (Rldt__Welcome)RLDT__WELCOME__INIT;
        b->welcome.accepted = s->accepted;
        b->welcome.reason = str_in(s->reason);
        b->welcome.actor_id = s->actor_id;
        b->welcome.run_epoch = s->run_epoch;
        b->welcome.config = str_in(s->config);
        b->welcome.param_version = s->param_version;
        b->welcome.seed = s->seed;
        b->welcome.stream_base = s->stream_base;
        e->body_case = RLDT__ENVELOPE__BODY_WELCOME;
        e->welcome = &b->welcome;
        break;
    }
    case WIRE_HEARTBEAT: {
        const struct wire_heartbeat *s = &m->heartbeat;
        b->heartbeat = (Rldt__Heartbeat)RLDT__HEARTBEAT__INIT;
        b->heartbeat.actor_id = s->actor_id;
        b->heartbeat.run_epoch = s->run_epoch;
        b->heartbeat.env_steps = s->env_steps;
        b->heartbeat.episodes = s->episodes;
        b->heartbeat.policy_version = s->policy_version;
        b->heartbeat.steps_per_sec = s->steps_per_sec;
        b->heartbeat.segments_sent = s->segments_sent;
        b->heartbeat.send_queue = s->send_queue;
        b->heartbeat.send_stalls = s->send_stalls;
        b->heartbeat.send_wait_s = s->send_wait_s;
        e->body_case = RLDT__ENVELOPE__BODY_HEARTBEAT;
        e->heartbeat = &b->heartbeat;
        break;
    }
    case WIRE_HEARTBEAT_ACK:
        b->heartbeat_ack = (Rldt__HeartbeatAck)RLDT__HEARTBEAT_ACK__INIT;
        b->heartbeat_ack.run_epoch = m->heartbeat_ack.run_epoch;
        b->heartbeat_ack.param_version = m->heartbeat_ack.param_version;
        b->heartbeat_ack.stop = m->heartbeat_ack.stop;
        b->heartbeat_ack.env_steps = m->heartbeat_ack.env_steps;
        e->body_case = RLDT__ENVELOPE__BODY_HEARTBEAT_ACK;
        e->heartbeat_ack = &b->heartbeat_ack;
        break;
    case WIRE_EVAL_REPORT: {
        const struct wire_eval_report *r = &m->eval_report;
        b->eval_report = (Rldt__EvalReport)RLDT__EVAL_REPORT__INIT;
        b->eval_report.actor_id = r->actor_id;
        b->eval_report.run_epoch = r->run_epoch;
        b->eval_report.policy_version = r->policy_version;
        b->eval_report.env_steps = r->env_steps;
        b->eval_report.return_mean = r->return_mean;
        b->eval_report.return_std = r->return_std;
        b->eval_report.length_mean = r->length_mean;
        b->eval_report.episodes = r->episodes;
        e->body_case = RLDT__ENVELOPE__BODY_EVAL_REPORT;
        e->eval_report = &b->eval_report;
        break;
    }
    case WIRE_BYE:
        b->bye = (Rldt__Bye)RLDT__BYE__INIT;
        b->bye.actor_id = m->bye.actor_id;
        b->bye.run_epoch = m->bye.run_epoch;
        b->bye.reason = str_in(m->bye.reason);
        e->body_case = RLDT__ENVELOPE__BODY_BYE;
        e->bye = &b->bye;
        break;
    case WIRE_PARAMS_REQUEST:
        b->params_request = (Rldt__ParamsRequest)RLDT__PARAMS_REQUEST__INIT;
        b->params_request.actor_id = m->params_request.actor_id;
        b->params_request.run_epoch = m->params_request.run_epoch;
        b->params_request.have_version = m->params_request.have_version;
        e->body_case = RLDT__ENVELOPE__BODY_PARAMS_REQUEST;
        e->params_request = &b->params_request;
        break;
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
    return 16 + 17 * 12 + 4 * floats + 5 * t + 2 * t + 5 * (size_t)n_episodes;
}

size_t wire_params_bound(size_t n_weights, uint32_t obs_dim, uint32_t act_dim)
{
    size_t floats = n_weights + 2 * (size_t)obs_dim + 2 * (size_t)act_dim;
    return 16 + 10 * 12 + WIRE_NAME_MAX + 4 * floats;
}

// ---- validation ----------------------------------------------------------------------------

/* Index of the first non-finite float in x[0..n), or n. */
static size_t first_nonfinite(const float *x, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof(u));
        bad |= (u & 0x7f800000u) == 0x7f800000u;
    }
    if (!bad)
        return n;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof(u));
        if ((u & 0x7f800000u) == 0x7f800000u)
            return i;
    }
    return n;
}

static int check_floats(const char *what, const float *x, size_t n, char *err, size_t errlen)
{
    if (n && !x)
        return BAD("%s: missing (%zu floats expected)", what, n);
    size_t i = first_nonfinite(x, n);
    if (i < n)
        return BAD("%s[%zu] is not finite (%g)", what, i, (double)x[i]);
    return 0;
}

static int check_flags(const char *what, const uint8_t *f, size_t n, char *err, size_t errlen)
{
    if (n && !f)
        return BAD("%s: missing", what);
    for (size_t i = 0; i < n; i++)
        if (f[i] > 1)
            return BAD("%s[%zu] = %u, expected 0 or 1", what, i, f[i]);
    return 0;
}

/* A name: 1..WIRE_NAME_MAX printable ASCII bytes without spaces. */
static int check_name(const char *what, const char *s, char *err, size_t errlen)
{
    size_t n = s ? strnlen(s, WIRE_NAME_MAX + 1) : 0;
    if (n == 0)
        return BAD("%s is empty", what);
    if (n > WIRE_NAME_MAX)
        return BAD("%s is longer than %d bytes", what, WIRE_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return BAD("%s has a non-printable byte 0x%02x at %zu", what, (uint8_t)s[i], i);
    return 0;
}

/* Free text of at most max bytes: no control bytes except tab, CR and LF. */
static int check_text(const char *what, const char *s, size_t max, char *err, size_t errlen)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n > max)
        return BAD("%s is longer than %zu bytes", what, max);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return BAD("%s has a control byte 0x%02x at %zu", what, c, i);
    }
    return 0;
}

static int check_range(const char *what, uint64_t v, uint64_t lo, uint64_t hi, char *err,
                       size_t errlen)
{
    if (v < lo || v > hi)
        return BAD("%s = %llu outside %llu..%llu", what, (unsigned long long)v,
                   (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

static int check_epoch(const char *what, uint64_t epoch, char *err, size_t errlen)
{
    if (epoch == 0)
        return BAD("%s: run epoch 0", what);
    return 0;
}

static int check_rate(const char *what, float x, char *err, size_t errlen)
{
    if (!(x >= 0.0f) || first_nonfinite(&x, 1) == 0)
        return BAD("%s = %g, expected finite and >= 0", what, (double)x);
    return 0;
}

static int seg_dims(const struct wire_segment *s, char *err, size_t errlen)
{
    int rc;
    if ((rc = check_range("segment T", s->T, 1, WIRE_T_MAX, err, errlen)) ||
        (rc = check_range("segment obs_dim", s->obs_dim, 1, WIRE_DIM_MAX, err, errlen)) ||
        (rc = check_range("segment D", s->D, 1, WIRE_DIM_MAX, err, errlen)) ||
        (rc = check_range("segment episodes", s->n_episodes, 0, WIRE_EPISODES_MAX, err, errlen)))
        return rc;
    return 0;
}

static int check_segment(const struct wire_segment *s, char *err, size_t errlen)
{
    int rc;
    size_t T = s->T;

    if ((rc = seg_dims(s, err, errlen)) || (rc = check_epoch("segment", s->run_epoch, err, errlen)))
        return rc;
    if ((rc = check_floats("segment obs", s->obs, (T + 1) * s->obs_dim, err, errlen)) ||
        (rc = check_floats("segment actions", s->actions, T * s->D, err, errlen)) ||
        (rc = check_floats("segment rewards", s->rewards, T, err, errlen)) ||
        (rc = check_flags("segment terminal", s->terminal, T, err, errlen)) ||
        (rc = check_flags("segment truncated", s->truncated, T, err, errlen)))
        return rc;
    if (!s->steps)
        return BAD("segment steps: missing");
    for (size_t t = 0; t < T; t++) {
        if (s->steps[t] < 1 || s->steps[t] > s->D)
            return BAD("segment steps[%zu] = %u outside 1..D=%u", t, s->steps[t], s->D);
        if (t + 1 < T && (s->terminal[t] || s->truncated[t]))
            return BAD("segment: episode ends at chunk step %zu, not the last (%zu)", t, T - 1);
    }
    if ((rc =
             check_floats("segment episode_return", s->episode_return, s->n_episodes, err, errlen)))
        return rc;
    if (s->n_episodes && !s->episode_len)
        return BAD("segment episode_len: missing");
    for (uint32_t i = 0; i < s->n_episodes; i++)
        if (s->episode_len[i] == 0)
            return BAD("segment episode_len[%u] = 0", i);
    return 0;
}

static int check_bounds(const char *what, const float *lo, const float *hi, uint32_t n, char *err,
                        size_t errlen)
{
    int rc;
    if ((rc = check_range(what, n, 0, WIRE_DIM_MAX, err, errlen)) ||
        (rc = check_floats(what, lo, n, err, errlen)) ||
        (rc = check_floats(what, hi, n, err, errlen)))
        return rc;
    for (uint32_t i = 0; i < n; i++)
        if (lo[i] > hi[i])
            return BAD("%s: lo[%u] = %g > hi = %g", what, i, (double)lo[i], (double)hi[i]);
    return 0;
}

static int check_params(const struct wire_params *p, char *err, size_t errlen)
{
    int rc;
    if ((rc = check_epoch("params", p->run_epoch, err, errlen)) ||
        (rc = check_name("params algo", p->algo, err, errlen)))
        return rc;
    if (p->n_weights == 0 && !p->stop)
        return BAD("params: no weights");
    if ((rc = check_floats("params weights", p->weights, p->n_weights, err, errlen)) ||
        (rc = check_bounds("params obs bounds", p->obs_lo, p->obs_hi, p->obs_dim, err, errlen)) ||
        (rc = check_bounds("params act bounds", p->act_lo, p->act_hi, p->act_dim, err, errlen)))
        return rc;
    return 0;
}

static int check_hello(const struct wire_hello *h, char *err, size_t errlen)
{
    int rc;
    if ((rc = check_name("hello name", h->name, err, errlen)) ||
        (rc = check_name("hello task", h->task, err, errlen)) ||
        (rc = check_range("hello num_envs", h->num_envs, 1, WIRE_ENVS_MAX, err, errlen)) ||
        (rc = check_range("hello obs_dim", h->obs_dim, 1, WIRE_DIM_MAX, err, errlen)) ||
        (rc = check_range("hello act_dim", h->act_dim, 1, WIRE_DIM_MAX, err, errlen)) ||
        (rc = check_range("hello chunk_h", h->chunk_h, 1, WIRE_DIM_MAX, err, errlen)))
        return rc;
    if ((uint64_t)h->chunk_h * h->act_dim > WIRE_DIM_MAX)
        return BAD("hello: chunk_h * act_dim = %llu > %d",
                   (unsigned long long)h->chunk_h * h->act_dim, WIRE_DIM_MAX);
    return 0;
}

static int check_welcome(const struct wire_welcome *w, char *err, size_t errlen)
{
    int rc;
    if ((rc = check_text("welcome reason", w->reason, WIRE_REASON_MAX, err, errlen)) ||
        (rc = check_text("welcome config", w->config, WIRE_CONFIG_MAX, err, errlen)))
        return rc;
    if (w->accepted && (rc = check_epoch("welcome", w->run_epoch, err, errlen)))
        return rc;
    if (w->accepted && (!w->config || !w->config[0]))
        return BAD("welcome: accepted without a config");
    return 0;
}

static int check_eval(const struct wire_eval_report *r, char *err, size_t errlen)
{
    int rc = check_epoch("eval_report", r->run_epoch, err, errlen);
    if (rc)
        return rc;
    if (!isfinite(r->return_mean) || !isfinite(r->return_std) || r->return_std < 0 ||
        !isfinite(r->length_mean) || r->length_mean < 0)
        return BAD("eval_report: non-finite or negative statistics");
    return check_range("eval_report episodes", r->episodes, 1, 1000000, err, errlen);
}

int wire_check(const struct wire_msg *m, char *err, size_t errlen)
{
    int rc;
    if (err && errlen)
        err[0] = '\0';
    if (m->version != WIRE_PROTOCOL_VERSION)
        return BAD("protocol version %u, expected %d", m->version, WIRE_PROTOCOL_VERSION);
    switch (m->type) {
    case WIRE_HELLO:
        return check_hello(&m->hello, err, errlen);
    case WIRE_WELCOME:
        return check_welcome(&m->welcome, err, errlen);
    case WIRE_HEARTBEAT:
        if ((rc = check_epoch("heartbeat", m->heartbeat.run_epoch, err, errlen)) ||
            (rc = check_rate("heartbeat steps_per_sec", m->heartbeat.steps_per_sec, err, errlen)))
            return rc;
        return check_rate("heartbeat send_wait_s", m->heartbeat.send_wait_s, err, errlen);
    case WIRE_HEARTBEAT_ACK:
        return check_epoch("heartbeat_ack", m->heartbeat_ack.run_epoch, err, errlen);
    case WIRE_BYE:
        return check_text("bye reason", m->bye.reason, WIRE_REASON_MAX, err, errlen);
    case WIRE_PARAMS_REQUEST:
        return check_epoch("params_request", m->params_request.run_epoch, err, errlen);
    case WIRE_SEGMENT:
        return check_segment(&m->segment, err, errlen);
    case WIRE_PARAMS:
        return check_params(&m->params, err, errlen);
    case WIRE_EVAL_REPORT:
        return check_eval(&m->eval_report, err, errlen);
    default:
        return BAD("no message body");
    }
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
    };
    if ((rc = seg_dims(s, err, errlen)))
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
    };
    return 0;
}

static void control_from_pb(const Rldt__Envelope *e, struct wire_msg *m)
{
    switch (e->body_case) {
    case RLDT__ENVELOPE__BODY_HELLO: {
        const Rldt__Hello *p = e->hello;
        m->type = WIRE_HELLO;
        m->hello = (struct wire_hello){p->name,    p->pid,     p->num_envs, p->task,
                                       p->obs_dim, p->act_dim, p->chunk_h,  p->known_epoch};
        break;
    }
    case RLDT__ENVELOPE__BODY_WELCOME: {
        const Rldt__Welcome *p = e->welcome;
        m->type = WIRE_WELCOME;
        m->welcome =
            (struct wire_welcome){p->accepted, p->reason,        p->actor_id, p->run_epoch,
                                  p->config,   p->param_version, p->seed,     p->stream_base};
        break;
    }
    case RLDT__ENVELOPE__BODY_HEARTBEAT: {
        const Rldt__Heartbeat *p = e->heartbeat;
        m->type = WIRE_HEARTBEAT;
        m->heartbeat = (struct wire_heartbeat){
            p->actor_id,      p->run_epoch,     p->env_steps,  p->episodes,    p->policy_version,
            p->steps_per_sec, p->segments_sent, p->send_queue, p->send_stalls, p->send_wait_s};
        break;
    }
    case RLDT__ENVELOPE__BODY_HEARTBEAT_ACK:
        m->type = WIRE_HEARTBEAT_ACK;
        m->heartbeat_ack = (struct wire_heartbeat_ack){
            e->heartbeat_ack->run_epoch, e->heartbeat_ack->param_version, e->heartbeat_ack->stop,
            e->heartbeat_ack->env_steps};
        break;
    case RLDT__ENVELOPE__BODY_EVAL_REPORT: {
        const Rldt__EvalReport *p = e->eval_report;
        m->type = WIRE_EVAL_REPORT;
        m->eval_report = (struct wire_eval_report){
            p->actor_id,    p->run_epoch,  p->policy_version, p->env_steps,
            p->return_mean, p->return_std, p->length_mean,    p->episodes};
        break;
    }
    case RLDT__ENVELOPE__BODY_BYE:
        m->type = WIRE_BYE;
        m->bye = (struct wire_bye){e->bye->actor_id, e->bye->run_epoch, e->bye->reason};
        break;
    case RLDT__ENVELOPE__BODY_PARAMS_REQUEST:
        m->type = WIRE_PARAMS_REQUEST;
        m->params_request =
            (struct wire_params_request){e->params_request->actor_id, e->params_request->run_epoch,
                                         e->params_request->have_version};
        break;
    default:
        m->type = WIRE_NONE;
        break;
    }
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
        control_from_pb(e, m);
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
        return fail(-EMSGSIZE, err, errlen, "message of %zu bytes exceeds the maximum %zu", len,
                    d->max_msg);
    ARENA_POISON(d->arena, d->used);
    d->used = 0;
    d->overflow = false;
    Rldt__Envelope *e = rldt__envelope__unpack(&d->alloc, len, len ? buf : (const void *)"");
    if (!e) {
        if (d->overflow)
            return fail(-EMSGSIZE, err, errlen,
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

// ---- segment builder -----------------------------------------------------------------------

int wire_segbuf_init(struct wire_segbuf *b, uint32_t obs_dim, uint32_t D, uint32_t T_max)
{
    *b = (struct wire_segbuf){0};
    if (obs_dim < 1 || obs_dim > WIRE_DIM_MAX || D < 1 || D > WIRE_DIM_MAX || T_max < 1 ||
        T_max > WIRE_T_MAX)
        return -EINVAL;
    b->obs_dim = obs_dim;
    b->D = D;
    b->T_max = T_max;
    b->obs = calloc(((size_t)T_max + 1) * obs_dim, sizeof(*b->obs));
    b->actions = calloc((size_t)T_max * D, sizeof(*b->actions));
    b->rewards = calloc(T_max, sizeof(*b->rewards));
    b->steps = calloc(T_max, sizeof(*b->steps));
    b->terminal = calloc(T_max, 1);
    b->truncated = calloc(T_max, 1);
    if (!b->obs || !b->actions || !b->rewards || !b->steps || !b->terminal || !b->truncated) {
        wire_segbuf_fini(b);
        return -ENOMEM;
    }
    return 0;
}

void wire_segbuf_fini(struct wire_segbuf *b)
{
    free(b->obs);
    free(b->actions);
    free(b->rewards);
    free(b->steps);
    free(b->terminal);
    free(b->truncated);
    *b = (struct wire_segbuf){0};
}

void wire_segbuf_start(struct wire_segbuf *b, const float *obs0, bool episode_start)
{
    memcpy(b->obs, obs0, (size_t)b->obs_dim * sizeof(*b->obs));
    b->T = 0;
    b->n_episodes = 0;
    b->ended = false;
    b->episode_start = episode_start;
    b->has_obs0 = true;
}

int wire_segbuf_carry(struct wire_segbuf *b)
{
    if (!b->has_obs0 || b->T == 0 || b->ended)
        return -EINVAL;
    memmove(b->obs, b->obs + (size_t)b->T * b->obs_dim, (size_t)b->obs_dim * sizeof(*b->obs));
    b->T = 0;
    b->n_episodes = 0;
    b->episode_start = false;
    return 0;
}

int wire_segbuf_push(struct wire_segbuf *b, const float *action, float reward, uint32_t steps,
                     const float *next_obs, bool terminal, bool truncated)
{
    if (!b->has_obs0 || b->ended)
        return -EINVAL;
    if (b->T >= b->T_max)
        return -ENOSPC;
    size_t t = b->T;
    memcpy(b->actions + t * b->D, action, (size_t)b->D * sizeof(*b->actions));
    memcpy(b->obs + (t + 1) * b->obs_dim, next_obs, (size_t)b->obs_dim * sizeof(*b->obs));
    b->rewards[t] = reward;
    b->steps[t] = steps;
    b->terminal[t] = terminal;
    b->truncated[t] = truncated;
    b->ended = terminal || truncated;
    b->T++;
    return 0;
}

int wire_segbuf_add_episode(struct wire_segbuf *b, float ret, uint32_t len)
{
    if (b->n_episodes >= WIRE_SEGBUF_EPISODES)
        return -ENOSPC;
    b->episode_return[b->n_episodes] = ret;
    b->episode_len[b->n_episodes] = len;
    b->n_episodes++;
    return 0;
}

bool wire_segbuf_ready(const struct wire_segbuf *b)
{
    return b->T > 0 && (b->T == b->T_max || b->ended);
}

void wire_segbuf_view(const struct wire_segbuf *b, struct wire_segment *s)
{
    s->T = b->T;
    s->obs_dim = b->obs_dim;
    s->D = b->D;
    s->obs = b->obs;
    s->actions = b->actions;
    s->rewards = b->rewards;
    s->steps = b->steps;
    s->terminal = b->terminal;
    s->truncated = b->truncated;
    s->episode_start = b->episode_start;
    s->n_episodes = b->n_episodes;
    s->episode_return = b->episode_return;
    s->episode_len = b->episode_len;
}

// ---- benchmark -----------------------------------------------------------------------------

static void bench_fill(struct wire_segbuf *b, uint32_t T)
{
    struct rng r;
    float *x = malloc(((size_t)b->obs_dim + b->D) * sizeof(*x));
    RL_ASSERT(x);
    rng_init(&r, 1234, 0);
    rng_normal_fill(&r, x, b->obs_dim);
    wire_segbuf_start(b, x, true);
    for (uint32_t t = 0; t < T; t++) {
        rng_normal_fill(&r, x, (long)b->obs_dim + b->D);
        wire_segbuf_push(b, x + b->obs_dim, (float)rng_normal(&r), 1 + (t % 4), x, false, false);
    }
    free(x);
}

int wire_bench_segment(uint32_t T, uint32_t obs_dim, uint32_t D, int iters, struct wire_bench *r)
{
    struct wire_segbuf b;
    struct wire_msg m = {.type = WIRE_SEGMENT};
    int rc;

    if (iters < 1 || (rc = wire_segbuf_init(&b, obs_dim, D, T)))
        return iters < 1 ? -EINVAL : rc;
    bench_fill(&b, T);
    wire_segbuf_view(&b, &m.segment);
    m.segment.run_epoch = 1;
    size_t cap = wire_packed_size(&m);
    uint8_t *buf = malloc(cap);
    struct wire_decoder *d = wire_decoder_new(cap);
    rc = -ENOMEM;
    if (!buf || !d)
        goto out_free;
    rc = 0;
    size_t len = 0;
    double t0 = rl_now();
    for (int i = 0; i < iters && rc == 0; i++)
        rc = wire_pack(&m, buf, cap, &len);
    double t1 = rl_now();
    struct wire_msg out;
    for (int i = 0; i < iters && rc == 0; i++)
        rc = wire_decode(d, buf, len, &out, NULL, 0);
    double t2 = rl_now();
    if (rc == 0)
        *r = (struct wire_bench){len, (t1 - t0) * 1e6 / iters, (t2 - t1) * 1e6 / iters};
out_free:
    wire_decoder_destroy(&d);
    free(buf);
    wire_segbuf_fini(&b);
    return rc;
}
