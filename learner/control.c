/*
 * control.c — the control thread: a ROUTER socket where actors register (Hello → Welcome),
 * send heartbeats (→ HeartbeatAck with the latest params version and the stop flag), ask for
 * the current params, and say Bye. Also expires silent actors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "common/util.h"
#include "learner/shared.h"
#include "proto/wire.h"

struct ctl {
    struct shared *s;
    void *sock;
    struct wire_decoder *dec;
    uint8_t *buf; /* reply buffer */
    size_t cap;
    zmq_msg_t id; /* routing id of the current peer */
};

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

static void on_hello(struct ctl *c, const struct wire_hello *h)
{
    struct shared *s = c->s;
    struct wire_msg m = {.type = WIRE_WELCOME};
    struct wire_welcome *w = &m.welcome;
    char why[256] = "";
    if ((int)h->obs_dim != s->dims.obs_dim || (int)h->act_dim != s->dims.act_dim ||
        (int)h->chunk_h != s->dims.chunk || strcmp(h->task, s->cfg.env) != 0)
        snprintf(why, sizeof(why),
                 "run is %s obs %d act %d chunk %d; actor has %s obs %u act %u "
                 "chunk %u",
                 s->cfg.env, s->dims.obs_dim, s->dims.act_dim, s->dims.chunk, h->task, h->obs_dim,
                 h->act_dim, h->chunk_h);
    else if (atomic_load(&s->finished))
        snprintf(why, sizeof(why), "the run is over");
    uint32_t id = why[0] ? 0 : actors_register(s->actors, h->name, (int)h->num_envs);
    if (!why[0] && !id)
        snprintf(why, sizeof(why), "too many actors (%d)", ACTORS_MAX);
    w->accepted = why[0] == 0;
    w->reason = why;
    w->actor_id = id;
    w->run_epoch = s->run_epoch;
    w->config = w->accepted ? s->cfg_text : "";
    w->param_version = atomic_load(&s->version);
    w->seed = (uint64_t)s->cfg.seed;
    w->stream_base = 1000000ull * id;
    if (w->accepted)
        log_info("actor %u registered: %s, %u envs", id, h->name, h->num_envs);
    else
        log_warn("refused actor %s: %s", h->name, why);
    reply(c, &m);
}

static void on_heartbeat(struct ctl *c, const struct wire_heartbeat *h)
{
    struct shared *s = c->s;
    if (h->run_epoch != s->run_epoch) {
        shared_reject(s, REJECT_STALE_EPOCH, "heartbeat from an earlier run epoch");
    } else if (!actors_heartbeat(s->actors, h->actor_id, h->env_steps, h->episodes,
                                 h->policy_version, h->steps_per_sec, h->send_stalls,
                                 h->send_wait_s)) {
        shared_reject(s, REJECT_UNKNOWN_ACTOR, "heartbeat from an unknown actor");
    }
    // always answer: the epoch in the ack tells a stale actor to register again
    struct wire_msg m = {.type = WIRE_HEARTBEAT_ACK};
    m.heartbeat_ack.run_epoch = s->run_epoch;
    m.heartbeat_ack.param_version = atomic_load(&s->version);
    m.heartbeat_ack.stop = atomic_load(&s->finished);
    m.heartbeat_ack.env_steps = atomic_load(&s->env_steps);
    reply(c, &m);
}

static void on_eval(struct ctl *c, const struct wire_eval_report *r)
{
    struct shared *s = c->s;
    if (r->run_epoch != s->run_epoch) {
        shared_reject(s, REJECT_STALE_EPOCH, "eval report from an earlier run epoch");
        return;
    }
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

static void on_params_request(struct ctl *c)
{
    struct params_blob *b = shared_params_get(c->s);
    if (!b)
        return; /* nothing published yet: the actor keeps acting at random or waits */
    zmq_msg_t idc;
    zmq_msg_init(&idc);
    zmq_msg_copy(&idc, &c->id);
    if (zmq_msg_send(&idc, c->sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(c->sock, b->data, b->len, ZMQ_DONTWAIT);
    else
        zmq_msg_close(&idc);
    shared_params_put(b);
}

static void handle(struct ctl *c, zmq_msg_t *body)
{
    struct shared *s = c->s;
    size_t len = zmq_msg_size(body);
    if (len == 0 || len > CONTROL_MAX_MSG) {
        shared_reject(s, REJECT_BAD_SIZE, "control socket: message size");
        return;
    }
    struct wire_msg m;
    char err[200];
    int rc = wire_decode(c->dec, zmq_msg_data(body), len, &m, err, sizeof(err));
    if (rc < 0) {
        char tmp[200];
        snprintf(tmp, sizeof(tmp), "%s", err);
        snprintf(err, sizeof(err), "control socket: %.180s", tmp);
    }
    if (rc < 0) {
        bool version = m.version != 0 && m.version != WIRE_PROTOCOL_VERSION;
        shared_reject(s,
                      rc == -EMSGSIZE ? REJECT_BAD_SIZE
                      : version       ? REJECT_BAD_VERSION
                                      : REJECT_DECODE,
                      err);
        return;
    }
    switch (m.type) {
    case WIRE_HELLO:
        on_hello(c, &m.hello);
        break;
    case WIRE_HEARTBEAT:
        on_heartbeat(c, &m.heartbeat);
        break;
    case WIRE_PARAMS_REQUEST:
        if (m.params_request.run_epoch == s->run_epoch)
            on_params_request(c);
        else
            shared_reject(s, REJECT_STALE_EPOCH, "params request from an earlier run epoch");
        break;
    case WIRE_EVAL_REPORT:
        on_eval(c, &m.eval_report);
        break;
    case WIRE_BYE:
        if (m.bye.run_epoch == s->run_epoch) {
            actors_remove(s->actors, m.bye.actor_id);
            log_info("actor %u left: %s", m.bye.actor_id, m.bye.reason);
        }
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
    struct ctl c = {.s = a->s, .sock = a->sock};
    c.dec = wire_decoder_new(CONTROL_MAX_MSG);
    c.cap = WIRE_CONFIG_MAX + 4096;
    c.buf = malloc(c.cap);
    zmq_msg_init(&c.id);
    if (!c.dec || !c.buf) {
        log_error("control: out of memory");
        goto out;
    }
    zmq_pollitem_t item = {c.sock, 0, ZMQ_POLLIN, 0};
    double last_expire = rl_now();
    while (!atomic_load(&c.s->quit)) {
        if (zmq_poll(&item, 1, 100) > 0)
            for (int k = 0; k < 64; k++) {
                int ev = 0;
                size_t sz = sizeof(ev);
                zmq_getsockopt(c.sock, ZMQ_EVENTS, &ev, &sz);
                if (!(ev & ZMQ_POLLIN))
                    break;
                receive(&c);
            }
        if (rl_now() - last_expire > 0.5) {
            int gone = actors_expire(c.s->actors, c.s->cfg.actor_timeout);
            if (gone)
                log_warn("%d actor(s) silent for %.0f s: marked gone", gone,
                         c.s->cfg.actor_timeout);
            last_expire = rl_now();
        }
    }
out:
    zmq_msg_close(&c.id);
    free(c.buf);
    wire_decoder_destroy(&c.dec);
    zmq_close(c.sock);
    return NULL;
}
