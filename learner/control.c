/*
 * control.c — the control thread: a ROUTER socket where actors register (Hello → Welcome),
 * send heartbeats (→ HeartbeatAck with the latest params version and the stop flag), ask for
 * the current params, and say Bye. Also expires silent actors. Every message after the Hello
 * must carry the actor's session (actors.h); the run epoch goes only to registrants. Hellos are
 * limited per connection (hello_limit.h) and, with CURVE, checked against the client key's
 * allow-list entry (names=, role=).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "common/util.h"
#include "learner/hello_limit.h"
#include "learner/shared.h"
#include "proto/wire.h"

struct ctl {
    struct shared *s;
    void *sock;
    struct wire_decoder *dec;
    uint8_t *buf; /* reply buffer */
    size_t cap;
    zmq_msg_t id;               /* routing id of the current peer */
    const char *key;            /* client key of the current message ("" without CURVE), borrowed */
    struct hello_limit *hellos; /* per-connection registration rate */
    double log_t0;              /* registration log lines: the current LOG_WINDOW_SECS window */
    int logged;                 /* lines logged in it */
    uint64_t unlogged;          /* lines left out since the last summary */
};

#define PARAMS_MIN_INTERVAL 0.4 /* seconds between answered params requests of one session */
#define LOG_WINDOW_SECS 10      /* registration lines are rate-limited per window this long */
#define LOG_BURST 10            /* registration lines logged per window, then a summary */
#define HELLO_BURST 5           /* Hellos one connection may send at once, */
#define HELLO_PER_SEC 1.0       /* and per second after that (actors retry once a second) */
#define POLL_MS 100             /* wait for a message this long, then look at quit and expiry */
#define RECV_BATCH 64           /* messages handled per wake-up before expiry is looked at */
#define EXPIRE_EVERY_SECS 0.5   /* how often silent actors are looked for (well under timeouts) */
/* an actor is confirmed gone only after this long (or this many heartbeat periods, if longer):
 * a loaded host is slow to answer */
#define CONFIRM_MIN_SECS 5.0
#define CONFIRM_HEARTBEATS 5
#define REPLY_ENVELOPE 4096 /* a Welcome beyond its config text: the other fields */

// may another registration line be logged now? (a Hello flood must not flood the log)
static bool log_ok(struct ctl *c)
{
    double now = rl_now();
    if (now - c->log_t0 >= LOG_WINDOW_SECS) {
        if (c->unlogged)
            log_warn("%llu registration line(s) not logged in the last %d s",
                     (unsigned long long)c->unlogged, LOG_WINDOW_SECS);
        c->log_t0 = now;
        c->logged = 0;
        c->unlogged = 0;
    }
    if (c->logged < LOG_BURST) {
        c->logged++;
        return true;
    }
    c->unlogged++;
    return false;
}

static void reply(struct ctl *c, const struct wire_msg *m)
{
    size_t len;
    if (wire_pack(m, c->buf, c->cap, &len) < 0) {
        log_warn("control: reply too large to pack");
        return;
    }
    zmq_msg_t idc;
    zmq_msg_init(&idc);
    zmq_msg_copy(&idc, &c->id);
    if (zmq_msg_send(&idc, c->sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&idc);
        return;
    }
    zmq_send(c->sock, c->buf, len, ZMQ_DONTWAIT);
}

// why a Hello is refused before the table is looked at ("" if it is not): the connection's
// rate, then (CURVE) the client key's allow-list entry; each counted
static void hello_gate(struct ctl *c, const struct wire_hello *h, char *why, size_t whylen)
{
    struct shared *s = c->s;
    if (!hello_limit_take(c->hellos, zmq_msg_data(&c->id), zmq_msg_size(&c->id), rl_now())) {
        snprintf(why, whylen, "too many registrations from this connection (%d at once, then %g/s)",
                 HELLO_BURST, HELLO_PER_SEC);
        shared_reject(s, REJECT_HELLO_RATE, "hello");
        return;
    }
    char e[200];
    if (s->zap && auth_zap_identity(s->zap, c->key, h->name, h->evaluator, e, sizeof(e)) < 0) {
        snprintf(why, whylen, "%s", e);
        shared_reject(s, REJECT_KEY_IDENTITY, e);
    }
}

static void on_hello(struct ctl *c, const struct wire_hello *h)
{
    struct shared *s = c->s;
    struct wire_msg m = {.type = WIRE_WELCOME};
    struct wire_welcome *w = &m.welcome;
    char why[256] = "";
    hello_gate(c, h, why, sizeof(why));
    bool dims_differ = (int)h->obs_dim != s->dims.obs_dim || (int)h->act_dim != s->dims.act_dim ||
                       (int)h->chunk_h != s->dims.chunk || strcmp(h->task, s->cfg.env) != 0;
    if (!why[0] && dims_differ)
        snprintf(why, sizeof(why),
                 "run is %s obs %d act %d chunk %d; actor has %s obs %u act %u "
                 "chunk %u",
                 s->cfg.env, s->dims.obs_dim, s->dims.act_dim, s->dims.chunk, h->task, h->obs_dim,
                 h->act_dim, h->chunk_h);
    else if (!why[0] && memcmp(&h->image, &s->image, sizeof(s->image)) != 0)
        snprintf(why, sizeof(why), "run has images %ux%ux%u; actor has %ux%ux%u (0: none)",
                 s->image.h, s->image.w, s->image.c, h->image.h, h->image.w, h->image.c);
    else if (!why[0] && atomic_load(&s->finished))
        snprintf(why, sizeof(why), "the run is over");
    uint32_t id = why[0] ? 0
                         : actors_register(s->actors, h->name, (int)h->num_envs, h->evaluator,
                                           c->key, &w->session);
    if (!why[0] && !id)
        snprintf(why, sizeof(why), "too many actors (%d)", ACTORS_MAX);
    w->accepted = why[0] == 0;
    w->reason = why;
    w->actor_id = id;
    w->run_epoch = w->accepted ? s->run_epoch : 0; /* told only to a registrant */
    w->config = w->accepted ? s->cfg_text : "";
    w->param_version = atomic_load(&s->version);
    w->seed = (uint64_t)s->cfg.seed;
    w->stream_base = 1000000ull * id;
    w->policy_kind = s->policy_kind;
    if (w->accepted && log_ok(c))
        log_info("actor %u registered: %s, %u envs%s", id, h->name, h->num_envs,
                 h->evaluator ? " (evaluator)" : "");
    else if (!w->accepted && log_ok(c))
        log_warn("refused actor %s: %s", h->name, why);
    reply(c, &m);
}

// is the message of (id, session) from a current registration? counts the refusal if not
static bool known(struct ctl *c, enum actors_check why, uint64_t epoch, const char *what)
{
    if (epoch != c->s->run_epoch) {
        char d[96];
        snprintf(d, sizeof(d), "%s from another run epoch", what);
        shared_reject(c->s, REJECT_STALE_EPOCH, d);
        return false;
    }
    if (why != ACTORS_OK)
        shared_reject_peer(c->s, why, what);
    return why == ACTORS_OK;
}

static void on_heartbeat(struct ctl *c, const struct wire_heartbeat *h)
{
    struct shared *s = c->s;
    struct actors_peer p = {h->actor_id, &h->session, c->key};
    struct wire_msg m = {.type = WIRE_HEARTBEAT_ACK};
    bool ok = h->run_epoch == s->run_epoch; /* the table is not touched for another epoch */
    if (!known(c, ok ? actors_heartbeat(s->actors, &p, h) : ACTORS_UNKNOWN, h->run_epoch,
               "heartbeat")) {
        // unknown session: told to register again, and nothing else (not even the epoch)
        m.heartbeat_ack.register_again = true;
        reply(c, &m);
        return;
    }
    m.heartbeat_ack.run_epoch = s->run_epoch;
    m.heartbeat_ack.param_version = atomic_load(&s->version);
    m.heartbeat_ack.stop = atomic_load(&s->finished);
    m.heartbeat_ack.env_steps = atomic_load(&s->env_steps);
    reply(c, &m);
}

static void on_eval(struct ctl *c, const struct wire_eval_report *r)
{
    struct shared *s = c->s;
    struct actors_peer p = {r->actor_id, &r->session, c->key};
    if (!known(c, actors_eval(s->actors, &p), r->run_epoch, "eval report"))
        return;
    pthread_mutex_lock(&s->eval_lock);
    s->eval_count++;
    s->eval_return = r->return_mean;
    s->eval_std = r->return_std;
    s->eval_length = r->length_mean;
    s->eval_success = (double)r->successes / r->episodes; /* episodes >= 1 (wire_check) */
    s->eval_steps = r->env_steps;
    s->eval_version = r->policy_version;
    pthread_mutex_unlock(&s->eval_lock);
    log_info("eval: return %.1f +- %.1f, length %.0f, success %u over %u episodes (policy v%llu, "
             "env_steps=%llu)",
             r->return_mean, r->return_std, r->length_mean, r->successes, r->episodes,
             (unsigned long long)r->policy_version, (unsigned long long)r->env_steps);
}

// zmq's release of a reply body: the blob's reference it held
static void blob_release(void *data, void *hint)
{
    (void)data;
    shared_params_put(hint);
}

// the current params to a registered actor, at most once per PARAMS_MIN_INTERVAL (the PUB
// broadcast serves everyone; this is for late subscribers). The reply's body is the published
// blob itself (one reference per reply in flight), not a copy: 256 actors asking at once hold
// one 2.2 MB Hopper message, not 256.
static void on_params_request(struct ctl *c, const struct wire_params_request *q)
{
    struct actors_peer p = {q->actor_id, &q->session, c->key};
    if (!known(c, actors_params(c->s->actors, &p, PARAMS_MIN_INTERVAL), q->run_epoch,
               "params request"))
        return;
    struct params_blob *b = shared_params_get(c->s);
    if (!b)
        return; /* nothing published yet: the actor keeps acting at random or waits */
    zmq_msg_t idc, body;
    zmq_msg_init(&idc);
    zmq_msg_copy(&idc, &c->id);
    if (zmq_msg_send(&idc, c->sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&idc);
        shared_params_put(b);
        return;
    }
    if (zmq_msg_init_data(&body, b->data, b->len, blob_release, b) != 0) {
        shared_params_put(b);
        zmq_send(c->sock, "", 0, ZMQ_DONTWAIT); /* end the started message: an empty body */
        return;
    }
    if (zmq_msg_send(&body, c->sock, ZMQ_DONTWAIT) < 0)
        zmq_msg_close(&body); /* releases the reference */
}

static void on_bye(struct ctl *c, const struct wire_bye *b)
{
    struct actors_peer p = {b->actor_id, &b->session, c->key};
    if (known(c, actors_remove(c->s->actors, &p), b->run_epoch, "bye") && log_ok(c))
        log_info("actor %u left: %s", b->actor_id, b->reason);
}

static void handle(struct ctl *c, zmq_msg_t *body)
{
    struct shared *s = c->s;
    struct wire_msg m;
    if (shared_decode(s, c->dec, "control socket", zmq_msg_data(body), zmq_msg_size(body),
                      CONTROL_MAX_MSG, &m) < 0)
        return;
    c->key = shared_peer_key(body);
    switch (m.type) {
    case WIRE_HELLO:
        on_hello(c, &m.hello);
        break;
    case WIRE_HEARTBEAT:
        on_heartbeat(c, &m.heartbeat);
        break;
    case WIRE_PARAMS_REQUEST:
        on_params_request(c, &m.params_request);
        break;
    case WIRE_EVAL_REPORT:
        on_eval(c, &m.eval_report);
        break;
    case WIRE_BYE:
        on_bye(c, &m.bye);
        break;
    default:
        shared_reject(s, REJECT_WRONG_TYPE, wire_type_name(m.type));
    }
}

// receive one [id][body] pair; extra or missing frames are dropped as malformed
static void receive(struct ctl *c)
{
    zmq_msg_t body;
    zmq_msg_init(&body);
    if (zmq_msg_recv(&c->id, c->sock, ZMQ_DONTWAIT) < 0)
        goto out;
    if (!zmq_msg_more(&c->id)) {
        shared_reject(c->s, REJECT_DECODE, "control message without routing id");
        goto out;
    }
    if (zmq_msg_recv(&body, c->sock, 0) < 0)
        goto out;
    if (zmq_msg_more(&body)) {
        // drain the rest of a multi-part message
        while (zmq_msg_more(&body) && zmq_msg_recv(&body, c->sock, 0) >= 0)
            ;
        shared_reject(c->s, REJECT_DECODE, "multi-part control message");
        goto out;
    }
    handle(c, &body);
out:
    zmq_msg_close(&body);
}

void *control_main(void *arg)
{
    struct control_args *a = arg;
    struct ctl c = {.s = a->s, .sock = a->sock, .key = "", .log_t0 = rl_now()};
    c.dec = wire_decoder_new(CONTROL_MAX_MSG);
    c.cap = WIRE_CONFIG_MAX + REPLY_ENVELOPE;
    c.buf = malloc(c.cap);
    c.hellos = hello_limit_new(HELLO_BURST, HELLO_PER_SEC);
    zmq_msg_init(&c.id);
    if (!c.dec || !c.buf || !c.hellos) {
        log_error("control: out of memory");
        goto out;
    }
    zmq_pollitem_t item = {c.sock, 0, ZMQ_POLLIN, 0};
    double last_expire = rl_now();
    while (!atomic_load(&c.s->quit)) {
        if (zmq_poll(&item, 1, POLL_MS) > 0)
            for (int k = 0; k < RECV_BATCH; k++) {
                int ev = 0;
                size_t sz = sizeof(ev);
                zmq_getsockopt(c.sock, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                receive(&c);
            }
        if (rl_now() - last_expire > EXPIRE_EVERY_SECS) {
            double confirm = RL_MAX(CONFIRM_MIN_SECS, CONFIRM_HEARTBEATS * c.s->cfg.heartbeat_secs);
            int gone = actors_expire(c.s->actors, c.s->cfg.actor_timeout, confirm);
            if (gone && log_ok(&c))
                log_warn("%d actor(s) without a heartbeat for %.0f s (or unconfirmed for %.0f s): "
                         "marked gone",
                         gone, c.s->cfg.actor_timeout, confirm);
            last_expire = rl_now();
        }
    }
out:
    zmq_msg_close(&c.id);
    hello_limit_destroy(&c.hellos);
    free(c.buf);
    wire_decoder_destroy(&c.dec);
    zmq_close(c.sock);
    return NULL;
}
