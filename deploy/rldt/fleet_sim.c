/*
 * fleet_sim.c — simulated actors for `rldt bench fleet` (fleet_sim.h): one process polls the
 * control and params sockets of all its actors; segments go out at each actor's rate.
 */
#include "deploy/rldt/fleet_sim.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/rng.h"
#include "common/task.h"
#include "common/util.h"
#include "deploy/rldt/synth.h"
#include "proto/wire.h"

#define SIM_MAX_MSG (64u << 20) /* the largest Params a simulated actor decodes */

struct sim_actor {
    void *ctl, *sub, *push;
    uint32_t id; /* 0 until welcomed */
    uint64_t epoch;
    struct wire_session session;
    uint64_t version; /* newest params received */
    uint64_t seq;
    uint32_t env; /* env id of the next segment (cycles over num_envs) */
    double t0;    /* wall time of the Welcome */
    double next_seg, next_hb, hello_at;
};

/* The last broadcast decoded in this process: every SUB gets the same bytes, so a message of the
 * same length whose first and last bytes match is that broadcast (version and stamp at its ends)
 * and is not decoded again. */
#define SIM_EDGE 64
#define SIM_POLL_MS 1 /* the loop ticks every simulated actor between polls */
struct sim_seen {
    size_t len;
    uint8_t head[SIM_EDGE], tail[SIM_EDGE];
    struct wire_params p; /* version, epoch, stamp, stop (arrays not kept) */
};

struct sim {
    const struct fleet_sim_config *f;
    struct sim_seen seen;
    void *zctx;
    struct sim_actor *a;
    zmq_pollitem_t *items; /* 2 per actor: ctl, sub */
    struct wire_decoder *dec;
    uint8_t *buf; /* packing buffer */
    size_t cap;
    struct wire_segment seg; /* random contents, restamped per send */
    double period;           /* seconds between one actor's segments */
    struct fleet_sim_totals tot;
    struct fleet_receipt *rec;
    size_t nrec, caprec;
};

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *open_socket(struct sim *s, int type, int port)
{
    const struct rl_config *c = s->f->c;
    void *z = zmq_socket(s->zctx, type);
    if (!z)
        return NULL;
    char ep[CONFIG_STR + 32];
    snprintf(ep, sizeof(ep), "tcp://%s:%d", c->learner_host, port);
    int linger = type == ZMQ_PUSH ? 1000 : 0, hwm = c->send_hwm;
    zmq_setsockopt(z, ZMQ_LINGER, &linger, sizeof(linger));
    if (type == ZMQ_PUSH)
        zmq_setsockopt(z, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    if (type == ZMQ_SUB)
        zmq_setsockopt(z, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(z, ep) != 0) {
        zmq_close(z);
        return NULL;
    }
    return z;
}

static void send_msg(struct sim *s, void *sock, const struct wire_msg *m)
{
    size_t len;
    if (wire_pack(m, s->buf, s->cap, &len) == 0)
        zmq_send(sock, s->buf, len, ZMQ_DONTWAIT);
}

static void hello(struct sim *s, int i)
{
    const struct rl_config *c = s->f->c;
    char name[48];
    snprintf(name, sizeof(name), "fleet-%d", s->f->first + i);
    struct wire_msg m;
    synth_hello(&m, name, c->env, c->num_envs, c->chunk, s->a[i].epoch);
    send_msg(s, s->a[i].ctl, &m);
    s->a[i].hello_at = rl_wall();
}

static void record(struct sim *s, int i, const struct wire_params *p, uint64_t recv_ns)
{
    if (s->nrec == s->caprec) {
        size_t n = s->caprec ? 2 * s->caprec : 1024;
        struct fleet_receipt *r = realloc(s->rec, n * sizeof(*r));
        if (!r)
            return;
        s->rec = r, s->caprec = n;
    }
    s->rec[s->nrec++] = (struct fleet_receipt){(uint32_t)(s->f->first + i), 0, p->version,
                                               p->publish_unix_ns, recv_ns};
}

static void on_params(struct sim *s, int i, const struct wire_params *p, bool sub, uint64_t ns)
{
    struct sim_actor *a = &s->a[i];
    if (p->stop || p->run_epoch != a->epoch)
        return;
    if (p->version > a->version)
        a->version = p->version;
    if (sub) {
        record(s, i, p, ns);
    } else {
        s->tot.params_req++;
    }
}

static void on_welcome(struct sim *s, int i, const struct wire_welcome *w)
{
    struct sim_actor *a = &s->a[i];
    if (!w->accepted) {
        s->tot.refused++;
        fprintf(stderr, "rldt bench fleet: actor %d refused: %s\n", s->f->first + i, w->reason);
        a->hello_at = 1e300; /* no retry */
        return;
    }
    s->tot.registered += !a->id;
    a->id = w->actor_id, a->epoch = w->run_epoch, a->session = w->session;
    a->t0 = rl_wall();
    a->next_hb = a->t0; /* the first heartbeat confirms the registration */
    a->next_seg = a->t0 + s->period * (double)(i % 97) / 97; /* spread the actors' phases */
    // a late subscriber asks for the current weights, as a real actor does
    struct wire_msg m = {.type = WIRE_PARAMS_REQUEST};
    m.params_request = (struct wire_params_request){a->id, a->epoch, a->version, a->session};
    send_msg(s, a->ctl, &m);
}

// one control message of actor i
static void on_control(struct sim *s, int i, const struct wire_msg *m)
{
    if (m->type == WIRE_WELCOME) /* the newest registration is the valid one */
        on_welcome(s, i, &m->welcome);
    else if (m->type == WIRE_HEARTBEAT_ACK && m->heartbeat_ack.register_again)
        s->a[i].id = 0, hello(s, i);
    else if (m->type == WIRE_HEARTBEAT_ACK)
        s->tot.acks++;
    else if (m->type == WIRE_PARAMS)
        on_params(s, i, &m->params, false, 0);
}

// is z the broadcast decoded last? (its params are in s->seen.p)
static bool seen_before(struct sim *s, zmq_msg_t *z)
{
    size_t len = zmq_msg_size(z);
    const uint8_t *d = zmq_msg_data(z);
    return len == s->seen.len && len >= SIM_EDGE && !memcmp(d, s->seen.head, SIM_EDGE) &&
           !memcmp(d + len - SIM_EDGE, s->seen.tail, SIM_EDGE);
}

static void remember(struct sim *s, zmq_msg_t *z, const struct wire_params *p)
{
    size_t len = zmq_msg_size(z);
    const uint8_t *d = zmq_msg_data(z);
    if (len < SIM_EDGE)
        return;
    s->seen.len = len;
    memcpy(s->seen.head, d, SIM_EDGE);
    memcpy(s->seen.tail, d + len - SIM_EDGE, SIM_EDGE);
    s->seen.p = (struct wire_params){.run_epoch = p->run_epoch,
                                     .version = p->version,
                                     .stop = p->stop,
                                     .publish_unix_ns = p->publish_unix_ns};
}

static void decode(struct sim *s, int i, zmq_msg_t *z, bool sub, uint64_t ns)
{
    struct wire_msg m;
    if (sub && !s->f->raw_port && seen_before(s, z)) {
        s->tot.params_sub++;
        on_params(s, i, &s->seen.p, true, ns);
        return;
    }
    if (s->f->raw_port) { /* the reference: a header, no protobuf */
        struct fleet_raw_header h;
        if (!sub || zmq_msg_size(z) < sizeof(h))
            return;
        memcpy(&h, zmq_msg_data(z), sizeof(h));
        s->tot.params_sub++;
        s->tot.params_bytes = zmq_msg_size(z);
        record(s, i, &(struct wire_params){.version = h.version, .publish_unix_ns = h.publish_ns},
               ns);
        return;
    }
    if (wire_decode(s->dec, zmq_msg_data(z), zmq_msg_size(z), &m, NULL, 0) < 0) {
        s->tot.bad_messages++;
        return;
    }
    if (sub && m.type == WIRE_PARAMS) {
        s->tot.params_bytes = zmq_msg_size(z);
        s->tot.params_sub++;
        on_params(s, i, &m.params, true, ns);
        remember(s, z, &m.params);
    } else if (!sub)
        on_control(s, i, &m);
}

/* Read what is ready: first take one message off every ready socket with its arrival time,
 * then decode them, so one actor's decode does not delay the next actor's stamp. */
static void read_ready(struct sim *s, zmq_msg_t *held, uint64_t *ns)
{
    int n = 2 * s->f->n;
    for (int k = 0; k < n; k++) {
        zmq_msg_init(&held[k]);
        ns[k] = 0;
        if ((s->items[k].revents & ZMQ_POLLIN) &&
            zmq_msg_recv(&held[k], s->items[k].socket, ZMQ_DONTWAIT) >= 0)
            ns[k] = wall_ns();
    }
    for (int k = 0; k < n; k++) {
        if (ns[k])
            decode(s, k / 2, &held[k], k % 2 == 1, ns[k]);
        zmq_msg_close(&held[k]);
    }
}

static void heartbeat(struct sim *s, struct sim_actor *a, double now)
{
    struct wire_msg m = {.type = WIRE_HEARTBEAT};
    double up = now - a->t0;
    m.heartbeat = (struct wire_heartbeat){.actor_id = a->id,
                                          .run_epoch = a->epoch,
                                          .env_steps = a->seq * s->seg.T * (uint64_t)s->f->c->chunk,
                                          .policy_version = a->version,
                                          .steps_per_sec = up > 0 ? (float)s->f->sps : 0,
                                          .segments_sent = a->seq,
                                          .session = a->session};
    send_msg(s, a->ctl, &m);
    s->tot.heartbeats++;
    a->next_hb = now + s->f->c->heartbeat_secs; /* no catch-up burst after a stall */
}

static void send_segment(struct sim *s, struct sim_actor *a)
{
    struct wire_segment *g = &s->seg;
    g->run_epoch = a->epoch, g->actor_id = a->id, g->session = a->session;
    g->env_id = a->env, g->seq = a->seq + 1, g->policy_version = a->version;
    struct wire_msg m = {.type = WIRE_SEGMENT, .segment = *g};
    size_t len;
    if (wire_pack(&m, s->buf, s->cap, &len) < 0)
        return;
    if (zmq_send(a->push, s->buf, len, ZMQ_DONTWAIT) < 0) {
        s->tot.send_stalls += a->seq > 0; /* (before the first: not yet connected) */
        return;                           /* at the high-water mark: retried on the next pass */
    }
    s->tot.segments_window += rl_wall() >= s->f->window;
    a->seq++;
    a->env = (a->env + 1) % (uint32_t)s->f->c->num_envs;
    a->next_seg += s->period;
    s->tot.segments_sent++;
}

// timers of every actor: registration retries, heartbeats, segments
static void tick(struct sim *s, double now)
{
    for (int i = 0; i < s->f->n; i++) {
        struct sim_actor *a = &s->a[i];
        if (!a->id) {
            if (now - a->hello_at > s->f->c->actor_timeout)
                hello(s, i); /* no Welcome within actor_timeout: ask again */
            continue;
        }
        if (now >= a->next_hb)
            heartbeat(s, a, now);
        if (now < s->f->send_until && now >= a->next_seg)
            send_segment(s, a);
    }
}

static void finish(struct sim *s)
{
    for (int i = 0; i < s->f->n; i++) {
        struct sim_actor *a = &s->a[i];
        if (a->id) {
            struct wire_msg m = {.type = WIRE_BYE};
            m.bye = (struct wire_bye){a->id, a->epoch, "bench over", a->session};
            send_msg(s, a->ctl, &m);
            double span = s->f->send_until - a->t0;
            s->tot.segments_due += span > 0 ? (uint64_t)(span / s->period) : 0;
        }
    }
    s->tot.nrec = s->nrec;
    rl_write_all(s->f->out_fd, &s->tot, sizeof(s->tot));
    rl_write_all(s->f->out_fd, s->rec, s->nrec * sizeof(*s->rec));
}

// random segment contents of the task's shape (one set, restamped per send)
static int make_segment(struct sim *s)
{
    const struct rl_config *c = s->f->c;
    const struct task_info *t = task_find(c->env);
    int T = c->segment_len;
    struct rng r;
    rng_init(&r, 11, (uint64_t)s->f->first);
    if (synth_wire_segment(&s->seg, &r, T, t->obs_dim, c->chunk * t->act_dim, c->chunk) < 0)
        return -ENOMEM;
    s->period = (double)T * c->chunk / s->f->sps;
    return 0;
}

static void free_segment(struct sim *s)
{
    synth_wire_free(&s->seg);
}

// raw mode: a bare SUB per actor (fleet_sim_config.raw_port); else DEALER, SUB and PUSH
static int open_actors(struct sim *s)
{
    const struct rl_config *c = s->f->c;
    bool raw = s->f->raw_port > 0;
    for (int i = 0; i < s->f->n; i++) {
        struct sim_actor *a = &s->a[i];
        a->sub = open_socket(s, ZMQ_SUB, raw ? s->f->raw_port : c->params_port);
        s->items[2 * i + 1] = (zmq_pollitem_t){a->sub, 0, ZMQ_POLLIN, 0};
        if (raw) {
            s->items[2 * i] = (zmq_pollitem_t){a->sub, 0, 0, 0}; /* a slot that never fires */
            if (!a->sub)
                return -EMFILE;
            continue;
        }
        a->ctl = open_socket(s, ZMQ_DEALER, c->control_port);
        a->push = open_socket(s, ZMQ_PUSH, c->data_port);
        if (!a->ctl || !a->sub || !a->push) {
            fprintf(stderr, "rldt bench fleet: socket %d: %s\n", s->f->first + i,
                    zmq_strerror(zmq_errno()));
            return -EMFILE;
        }
        s->items[2 * i] = (zmq_pollitem_t){a->ctl, 0, ZMQ_POLLIN, 0};
        hello(s, i);
    }
    return 0;
}

static void loop(struct sim *s, zmq_msg_t *held, uint64_t *ns)
{
    double now;
    while ((now = rl_wall()) < s->f->until) {
        if (!s->f->raw_port)
            tick(s, now);
        if (zmq_poll(s->items, 2 * s->f->n, SIM_POLL_MS) > 0)
            read_ready(s, held, ns);
    }
}

int fleet_sim_run(const struct fleet_sim_config *f)
{
    struct sim s = {.f = f, .cap = SIM_MAX_MSG};
    int n = f->n, rc = -ENOMEM;
    s.zctx = zmq_ctx_new();
    if (!s.zctx)
        return -ENOMEM;
    zmq_ctx_set(s.zctx, ZMQ_MAX_SOCKETS, 3 * n + 16);
    s.a = calloc((size_t)n, sizeof(*s.a));
    s.items = calloc((size_t)2 * n, sizeof(*s.items));
    zmq_msg_t *held = calloc((size_t)2 * n, sizeof(*held));
    uint64_t *ns = calloc((size_t)2 * n, sizeof(*ns));
    s.buf = malloc(s.cap);
    s.dec = wire_decoder_new(SIM_MAX_MSG);
    if (!s.a || !s.items || !held || !ns || !s.buf || !s.dec || make_segment(&s) < 0)
        goto out;
    rc = open_actors(&s);
    if (rc == 0) {
        loop(&s, held, ns);
        finish(&s);
    }
    free_segment(&s);
out:
    for (int i = 0; s.a && i < n; i++) {
        void *socks[] = {s.a[i].ctl, s.a[i].sub, s.a[i].push};
        for (int k = 0; k < 3; k++)
            if (socks[k])
                zmq_close(socks[k]);
    }
    zmq_ctx_term(s.zctx);
    wire_decoder_destroy(&s.dec);
    free(s.a), free(s.items), free(held), free(ns), free(s.buf), free(s.rec);
    return rc;
}
