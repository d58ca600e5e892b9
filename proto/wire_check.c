/*
 * wire_check.c — structural validation of plain wire messages (wire.h: wire_check), the same
 * that wire_decode applies to everything that comes off the network: protocol version, dims
 * and lengths in range, floats finite, flags 0/1, strings bounded and printable.
 * Thread-safety: pure functions; borrowed inputs, writes only the caller's err.
 */
#include "proto/wire.h"
#include "proto/wire_impl.h"

#include <errno.h>
#include <math.h>
#include <string.h>

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

size_t wire_image_bytes(const struct wire_image_shape *s)
{
    return (size_t)s->h * s->w * s->c;
}

// an image shape: all zero (none), or every side in range
static int check_image_shape(const char *what, const struct wire_image_shape *s, char *err,
                             size_t errlen)
{
    if (!s->h && !s->w && !s->c)
        return 0;
    if (s->h < 1 || s->h > WIRE_IMAGE_SIDE_MAX || s->w < 1 || s->w > WIRE_IMAGE_SIDE_MAX ||
        s->c < 1 || s->c > WIRE_IMAGE_C_MAX)
        return BAD("%s image shape %ux%ux%u outside 1..%d x 1..%d x 1..%d", what, s->h, s->w, s->c,
                   WIRE_IMAGE_SIDE_MAX, WIRE_IMAGE_SIDE_MAX, WIRE_IMAGE_C_MAX);
    return 0;
}

int wire_seg_dims(const struct wire_segment *s, char *err, size_t errlen)
{
    int rc;
    if ((rc = check_image_shape("segment", &s->image, err, errlen)))
        return rc;
    if ((rc = check_range("segment T", s->T, 1, WIRE_T_MAX, err, errlen)) ||
        (rc = check_range("segment obs_dim", s->obs_dim, 1, WIRE_DIM_MAX, err, errlen)) ||
        (rc = check_range("segment D", s->D, 1, WIRE_DIM_MAX, err, errlen)) ||
        (rc = check_range("segment episodes", s->n_episodes, 0, WIRE_EPISODES_MAX, err, errlen)))
        return rc;
    return 0;
}

// the optional chain: k * D floats per step (k in 2..WIRE_CHAIN_MAX), finite, with T logps
static int check_chain(const struct wire_segment *s, char *err, size_t errlen)
{
    int rc;
    if (s->chain_len == 0)
        return 0;
    if (s->chain_len % s->D || s->chain_len / s->D < 2 || s->chain_len / s->D > WIRE_CHAIN_MAX)
        return BAD("segment chain_len %u is not k*D (D = %u, k in 2..%d)", s->chain_len, s->D,
                   WIRE_CHAIN_MAX);
    if ((rc = check_floats("segment chain", s->chain, (size_t)s->T * s->chain_len, err, errlen)) ||
        (rc = check_floats("segment chain_logp", s->chain_logp, s->T, err, errlen)))
        return rc;
    return 0;
}

static int check_segment(const struct wire_segment *s, char *err, size_t errlen)
{
    int rc;
    size_t T = s->T;

    if ((rc = wire_seg_dims(s, err, errlen)) ||
        (rc = check_epoch("segment", s->run_epoch, err, errlen)))
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
    for (uint32_t i = 0; s->episode_success && i < s->n_episodes; i++)
        if (s->episode_success[i] > 1)
            return BAD("segment episode_success[%u] = %u, not 0/1", i, s->episode_success[i]);
    if (wire_image_bytes(&s->image) && !s->images)
        return BAD("segment images: missing for shape %ux%ux%u", s->image.h, s->image.w,
                   s->image.c);
    return check_chain(s, err, errlen);
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
        (rc = check_range("hello chunk_h", h->chunk_h, 1, WIRE_DIM_MAX, err, errlen)) ||
        (rc = check_image_shape("hello", &h->image, err, errlen)))
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
        (rc = check_text("welcome config", w->config, WIRE_CONFIG_MAX, err, errlen)) ||
        (rc = check_text("welcome policy kind", w->policy_kind, WIRE_NAME_MAX, err, errlen)))
        return rc;
    if (w->accepted && (rc = check_epoch("welcome", w->run_epoch, err, errlen)))
        return rc;
    if (w->accepted && (!w->config || !w->config[0]))
        return BAD("welcome: accepted without a config");
    if (w->accepted != wire_session_set(&w->session))
        return BAD("welcome: a session goes with acceptance, and only with it");
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
    if ((rc = check_range("eval_report episodes", r->episodes, 1, 1000000, err, errlen)))
        return rc;
    return check_range("eval_report successes", r->successes, 0, r->episodes, err, errlen);
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
        if (m->heartbeat_ack.register_again) /* told nothing, not even the epoch */
            return m->heartbeat_ack.run_epoch ? BAD("heartbeat_ack: register_again with an epoch")
                                              : 0;
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
