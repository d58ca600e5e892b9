/*
 * actor.c — the actor process loop (see actor.h).
 */
#include "actor/actor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "actor/evalvideo.h"
#include "actor/pixcam.h"
#include "actor/rollout.h"
#include "actor/vecenv.h"
#include "common/auth.h"
#include "common/log.h"
#include "common/policy.h"
#include "common/rng.h"
#include "common/task.h"
#include "common/util.h"
#include "proto/wire.h"

#define MAX_MSG (64u << 20)
#define SUB_QUEUE 4 /* weight broadcasts queued for this actor before newer ones are dropped */
/* the actor's own RNG stream, stream_base + 999 (its envs use + 0, 1, ...) */
#define ACTOR_RNG_STREAM 999
#define WELCOME_POLL_MS 100 /* wait for a Welcome in slices this long (re-checks the stop flag) */
#define EVAL_WAIT_SECS 0.02 /* evaluator: between looks for newer weights or more steps */
#define WEIGHTS_WAIT_SECS 0.005 /* collector: between looks for the first weights */
#define BYE_FLUSH_SECS 0.05     /* after the Bye, before the sockets close */

struct actor {
    struct rl_config local; /* as started */
    struct rl_config run;   /* as the learner resolved it */
    volatile sig_atomic_t *stop;
    void *zctx, *ctl, *data, *sub;
    struct wire_decoder *dec;
    uint8_t *buf; /* segments being sent (kept intact while a send waits) */
    size_t cap;
    uint8_t cbuf[16384]; /* control messages */
    // registration
    uint32_t id;
    uint64_t epoch;
    uint64_t stream_base;        /* first RNG stream of this actor's envs (assigned in Welcome) */
    struct wire_session session; /* the secret of this registration */
    double last_ack;
    bool registered;
    bool over; /* the learner ended the run */
    // simulation
    struct vecenv *venv;
    struct pixcam *cam; /* pictures each env's observation for the segments (pixels = true) or a
                           pixel policy (NULL otherwise) */
    char kind[32];      /* the sampler the learner named in its Welcome (empty: the algo's) */
    struct policy *pol;
    struct evalvideo *video; /* evaluator: its videos (NULL when off) */
    struct rng rng;
    uint64_t version;       /* params in use; 0 = none (random warm-up) */
    uint64_t latest;        /* latest version the learner announced */
    uint64_t learner_steps; /* env steps the learner has ingested (from acks) */
    bool acked;             /* a heartbeat answer arrived since the last registration */
    double last_request;
    struct wire_segbuf *seg;
    uint64_t *seg_version;
    bool seg_restart; /* on-policy: start new segments before the next chunk step */
    float *actions;
    uint64_t seq;
    // progress
    uint64_t env_steps, episodes, segments, stalls;
    double wait_s, last_hb, rate_t;
    uint64_t rate_steps;
    float sps;
    struct auth_keys auth; /* [auth] CURVE client keys (auth = curve) */
};

static void *connect_socket(struct actor *a, int type, int port)
{
    void *s = zmq_socket(a->zctx, type);
    if (!s)
        return NULL;
    char ep[CONFIG_STR + 32];
    snprintf(ep, sizeof(ep), "tcp://%s:%d", a->local.learner_host, port);
    int linger = 0, hwm = a->local.send_hwm, tmo = 100;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    if (type == ZMQ_PUSH) {
        // small queues and kernel buffers: when the learner holds back, the actor stops soon
        // (otherwise megabytes of old-policy data wait in socket buffers)
        int buf = 65536;
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
        zmq_setsockopt(s, ZMQ_SNDBUF, &buf, sizeof(buf));
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof(tmo));
    }
    if (type == ZMQ_SUB) {
        // only the newest weights matter, but ZMQ_CONFLATE is not used: libzmq 4.3.4 leaks a
        // message under contention on that path (make san saw it). A short queue instead, which
        // poll_learner drains; weights dropped when it is full come back by PARAMS_REQUEST.
        int queue = SUB_QUEUE;
        zmq_setsockopt(s, ZMQ_RCVHWM, &queue, sizeof(queue));
        zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    }
    int64_t maxmsg = MAX_MSG;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    if (auth_client_socket(s, &a->auth) < 0) { /* [auth] */
        log_error("CURVE setup for %s: %s", ep, zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    if (zmq_connect(s, ep) != 0) {
        log_error("cannot connect %s: %s", ep, zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    return s;
}

// send a control message (never uses the segment buffer: a segment send may be waiting)
static int send_msg(struct actor *a, void *sock, const struct wire_msg *m, int flags)
{
    size_t len;
    int rc = wire_pack(m, a->cbuf, sizeof(a->cbuf), &len);
    if (rc < 0)
        return rc;
    return zmq_send(sock, a->cbuf, len, flags) < 0 ? -zmq_errno() : 0;
}

// receive one message without blocking and decode it; 0, -EAGAIN (none) or -EPROTO
static int recv_decode(struct actor *a, void *sock, struct wire_msg *m)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int rc = -EAGAIN;
    if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) >= 0) {
        char err[200];
        rc = wire_decode(a->dec, zmq_msg_data(&msg), zmq_msg_size(&msg), m, err, sizeof(err));
        if (rc < 0) {
            log_warn("bad message from learner: %s", err);
            rc = -EPROTO;
        }
    }
    zmq_msg_close(&msg);
    return rc;
}

// ---- registration ------------------------------------------------------------------------

// the camera images of a run's observations (zero: none)
static struct wire_image_shape image_shape(const struct rl_config *c)
{
    uint32_t n = c->pixels ? (uint32_t)c->image_size : 0;
    return (struct wire_image_shape){n, n, n ? 3 : 0};
}

static void send_hello(struct actor *a)
{
    const struct task_info *t = task_find(a->local.env);
    char name[96];
    if (a->local.actor_name[0]) {
        snprintf(name, sizeof(name), "%s", a->local.actor_name);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof(host) - 1);
        snprintf(name, sizeof(name), "%s:%d", host, (int)getpid());
    }
    struct wire_msg m = {.type = WIRE_HELLO};
    m.hello = (struct wire_hello){name,
                                  (uint32_t)getpid(),
                                  (uint32_t)a->local.num_envs,
                                  a->local.env,
                                  (uint32_t)t->obs_dim,
                                  (uint32_t)t->act_dim,
                                  (uint32_t)a->local.chunk,
                                  a->epoch,
                                  !strcmp(a->local.actor_role, "eval"),
                                  image_shape(&a->local)};
    send_msg(a, a->ctl, &m, ZMQ_DONTWAIT);
}

// rebuild sockets so a restarted learner sees a fresh connection and no stale queue
static int reconnect(struct actor *a)
{
    if (a->ctl)
        zmq_close(a->ctl);
    a->ctl = connect_socket(a, ZMQ_DEALER, a->local.control_port);
    return a->ctl ? 0 : -EIO;
}

static int on_welcome(struct actor *a, const struct wire_welcome *w)
{
    if (!w->accepted) {
        log_error("learner refused this actor: %s", w->reason);
        return -EPERM;
    }
    struct rl_config run = a->local;
    char err[512];
    if (config_load_string(&run, w->config, err, sizeof(err)) < 0) {
        log_error("bad run config from learner: %s", err);
        return -EPROTO;
    }
    config_keep_local(&run, &a->local);
    bool restart = a->registered || a->epoch != 0;
    a->run = run;
    a->id = w->actor_id;
    a->epoch = w->run_epoch;
    a->session = w->session;
    a->registered = true;
    a->last_ack = rl_now();
    a->acked = false; /* learner_steps is stale until the new session's first answer */
    a->latest = w->param_version;
    a->version = 0; /* weights of an earlier epoch are not trusted */
    a->stream_base = w->stream_base;
    snprintf(a->kind, sizeof(a->kind), "%s", w->policy_kind ? w->policy_kind : "");
    rng_init(&a->rng, w->seed, w->stream_base + ACTOR_RNG_STREAM);
    log_info("registered as actor %u (epoch %llu, params v%llu)%s", a->id,
             (unsigned long long)a->epoch, (unsigned long long)w->param_version,
             restart ? " after a learner restart" : "");
    return 0;
}

static int wait_welcome(struct actor *a)
{
    double next_hello = 0, t0 = rl_now(), next_warn = t0 + 10;
    while (!*a->stop) {
        if (rl_now() >= next_hello) {
            send_hello(a);
            next_hello = rl_now() + RL_MAX(1.0, a->local.heartbeat_secs);
        }
        if (rl_now() >= next_warn) { /* say why nothing happens, then keep trying */
            bool curve = !strcmp(a->local.auth, "curve");
            log_warn("no answer from the learner at %s:%d after %.0fs; still trying (is it "
                     "running, is the address right%s?)",
                     a->local.learner_host, a->local.control_port, rl_now() - t0,
                     curve ? "; with auth = curve: is curve_server_key the learner's public key "
                             "and this actor's public key in the learner's curve_allow"
                           : "; does the learner require auth = curve");
            next_warn = rl_now() + 60;
        }
        zmq_pollitem_t it = {a->ctl, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, WELCOME_POLL_MS) <= 0)
            continue;
        struct wire_msg m;
        if (recv_decode(a, a->ctl, &m) == 0 && m.type == WIRE_WELCOME)
            return on_welcome(a, &m.welcome);
    }
    return -EINTR;
}

// ---- weights -----------------------------------------------------------------------------

static void on_params(struct actor *a, const struct wire_params *p)
{
    if (p->run_epoch != a->epoch)
        return;
    if (p->stop) {
        if (!a->over)
            log_info("learner ended the run");
        a->over = true;
        return;
    }
    if (p->version <= a->version)
        return;
    char err[300];
    if (policy_set_params(a->pol, p->weights, p->n_weights, p->layout_hash, err, sizeof(err)) < 0) {
        log_error("ignoring params v%llu: %s", (unsigned long long)p->version, err);
        return;
    }
    bool b = p->obs_dim == (uint32_t)vecenv_obs_dim(a->venv) &&
             p->act_dim == (uint32_t)vecenv_act_dim(a->venv);
    policy_set_bounds(a->pol, b ? p->obs_lo : NULL, b ? p->obs_hi : NULL, b ? p->act_lo : NULL,
                      b ? p->act_hi : NULL);
    if (a->version == 0)
        log_info("first weights: v%llu", (unsigned long long)p->version);
    a->version = p->version;
    if (p->version > a->latest)
        a->latest = p->version;
    // on-policy samplers (a chain per step): a segment holds one version, so the steps recorded
    // with the old one (the learner drops them as stale) go, and new segments start here
    a->seg_restart = a->seg && policy_chain_len(a->pol) > 0;
}

static void send_heartbeat(struct actor *a)
{
    double now = rl_now();
    if (now - a->rate_t >= 1.0) {
        a->sps = (float)((double)(a->env_steps - a->rate_steps) / (now - a->rate_t));
        a->rate_t = now;
        a->rate_steps = a->env_steps;
    }
    struct wire_msg m = {.type = WIRE_HEARTBEAT};
    m.heartbeat = (struct wire_heartbeat){a->id,      a->epoch,         a->env_steps, a->episodes,
                                          a->version, a->sps,           a->segments,  0,
                                          a->stalls,  (float)a->wait_s, a->session};
    send_msg(a, a->ctl, &m, ZMQ_DONTWAIT);
    a->last_hb = now;
}

// read the control socket: heartbeat acks, and weights unless !params (they are dropped;
// a later ParamsRequest asks again); heartbeat when due
static void read_control(struct actor *a, bool params)
{
    struct wire_msg m;
    int rc;
    while ((rc = recv_decode(a, a->ctl, &m)) != -EAGAIN) {
        if (rc < 0)
            continue;
        if (m.type == WIRE_HEARTBEAT_ACK) {
            a->last_ack = rl_now();
            if (m.heartbeat_ack.register_again && a->registered) {
                log_warn("the learner does not know this session (restarted, or it timed this "
                         "actor out): registering again");
                a->registered = false;
                continue;
            }
            if (m.heartbeat_ack.run_epoch != a->epoch && a->registered) {
                log_warn("learner restarted (epoch %llu): registering again",
                         (unsigned long long)m.heartbeat_ack.run_epoch);
                a->registered = false;
            }
            if (m.heartbeat_ack.stop && !a->over) {
                log_info("learner ended the run");
                a->over = true;
            }
            if (m.heartbeat_ack.param_version > a->latest)
                a->latest = m.heartbeat_ack.param_version;
            a->learner_steps = m.heartbeat_ack.env_steps;
            a->acked = true;
        } else if (m.type == WIRE_PARAMS && params) {
            on_params(a, &m.params);
        }
    }
    if (rl_now() - a->last_hb >= a->local.heartbeat_secs)
        send_heartbeat(a);
}

// handle whatever the learner sent on the control and params sockets
static void poll_learner(struct actor *a)
{
    struct wire_msg m;
    while (recv_decode(a, a->sub, &m) != -EAGAIN)
        if (m.type == WIRE_PARAMS)
            on_params(a, &m.params);
    read_control(a, true);
    double now = rl_now();
    // a late subscriber misses PUB messages: ask for the weights we know exist
    if (a->latest > a->version && now - a->last_request > 0.5) {
        struct wire_msg r = {.type = WIRE_PARAMS_REQUEST};
        r.params_request = (struct wire_params_request){a->id, a->epoch, a->version, a->session};
        send_msg(a, a->ctl, &r, ZMQ_DONTWAIT);
        a->last_request = now;
    }
    if (now - a->last_ack > a->local.actor_timeout && a->registered && !a->over) {
        log_warn("no answer from the learner for %.0f s: registering again",
                 a->local.actor_timeout);
        a->registered = false;
    }
}

// ---- simulation --------------------------------------------------------------------------

// the picture of env i's observation recorded last in its segment: the current one, or the
// final one (before the auto-reset) of the chunk step just pushed
static void seg_image(struct actor *a, int i, bool final)
{
    uint8_t *dst = wire_segbuf_last_image(&a->seg[i]);
    if (!dst)
        return;
    size_t n = wire_image_bytes(&a->seg[i].image);
    const uint8_t *src = final ? vecenv_final_images(a->venv) : vecenv_images(a->venv);
    memcpy(dst, src + (size_t)i * n, n);
}

// begin env i's segment at its current observation (and picture)
static void seg_start(struct actor *a, int i, bool episode_start)
{
    int O = vecenv_obs_dim(a->venv);
    wire_segbuf_start(&a->seg[i], vecenv_obs(a->venv) + (size_t)i * O, episode_start);
    seg_image(a, i, false);
}

static int setup_sim(struct actor *a, uint64_t seed, uint64_t stream)
{
    char err[512];
    if (a->venv)
        return 0; /* kept across re-registrations: same task */
    struct vecenv_config vc;
    vecenv_config_from(&vc, &a->run);
    vc.seed = seed;
    vc.stream = stream;
    a->venv = vecenv_new(&vc, err, sizeof(err));
    if (!a->venv) {
        log_error("%s", err);
        return -EINVAL;
    }
    // collectors picture their observations; an evaluator declares the shape but sends none,
    // and pictures them only for a pixel policy (which acts on them)
    const char *kind = a->kind[0] ? a->kind : policy_kind_for_algo(a->run.algo);
    bool pixpol = kind && !strcmp(kind, "pixflow");
    if (pixpol && !a->run.pixels) {
        log_error("the learner runs a pixel policy but its run has pixels = false");
        return -EINVAL;
    }
    if (pixpol || (a->run.pixels && strcmp(a->local.actor_role, "eval") != 0)) {
        a->cam = pixcam_new(vecenv_model(a->venv), a->run.image_size, a->run.pixel_camera, err,
                            sizeof(err));
        int rc = a->cam ? pixcam_attach(a->cam, a->venv) : -ENODEV;
        if (rc < 0) {
            log_error("%s, but camera '%s' (%dx%d) cannot render here: %s",
                      pixpol ? "the policy sees camera images" : "pixels = true",
                      a->run.pixel_camera, a->run.image_size, a->run.image_size,
                      a->cam ? strerror(-rc) : err);
            return rc;
        }
    }
    struct policy_dims d = {vecenv_obs_dim(a->venv), vecenv_act_dim(a->venv), a->run.chunk};
    a->pol = kind ? policy_new(kind, &a->run, &d, a->run.num_envs, err, sizeof(err)) : NULL;
    if (!a->pol) {
        log_error("policy: %s", kind ? err : "unknown algorithm");
        return -EINVAL;
    }
    int M = a->run.num_envs, O = d.obs_dim, D = d.chunk * d.act_dim;
    a->seg = calloc((size_t)M, sizeof(*a->seg));
    a->seg_version = calloc((size_t)M, sizeof(uint64_t));
    a->actions = malloc((size_t)M * (size_t)D * sizeof(float));
    if (!a->seg || !a->seg_version || !a->actions)
        return -ENOMEM;
    for (int i = 0; i < M; i++) {
        if (wire_segbuf_init(&a->seg[i], (uint32_t)O, (uint32_t)D, (uint32_t)a->run.segment_len) <
            0)
            return -ENOMEM;
        struct wire_image_shape is = image_shape(&a->run);
        if (a->cam && wire_segbuf_set_image(&a->seg[i], &is) < 0)
            return -ENOMEM;
        int C = policy_chain_len(a->pol); /* the sampler's chain travels with each step */
        if (C > 0 && wire_segbuf_set_chain(&a->seg[i], (uint32_t)C) < 0) {
            log_error("policy: a chain of %d floats per step cannot be sent", C);
            return -EINVAL;
        }
        seg_start(a, i, true);
    }
    return 0;
}

// restart every env's segment at its current observation (after a learner restart)
static void restart_segments(struct actor *a)
{
    for (int i = 0; i < a->run.num_envs; i++) {
        bool fresh = a->seg[i].T == 0 ? a->seg[i].episode_start : false;
        seg_start(a, i, fresh);
        a->seg_version[i] = a->version;
    }
}

// send one segment; blocks (answering the learner meanwhile) while the queue is full
static int send_segment(struct actor *a, int env)
{
    struct wire_msg m = {.type = WIRE_SEGMENT};
    wire_segbuf_view(&a->seg[env], &m.segment);
    m.segment.run_epoch = a->epoch;
    m.segment.actor_id = a->id;
    m.segment.session = a->session;
    m.segment.env_id = (uint32_t)env;
    m.segment.seq = ++a->seq;
    m.segment.policy_version = a->seg_version[env];
    size_t len;
    if (wire_pack(&m, a->buf, a->cap, &len) < 0)
        return -ENOSPC;
    double t0 = rl_now();
    bool stalled = false;
    while (zmq_send(a->data, a->buf, len, 0) < 0) {
        if (zmq_errno() != EAGAIN && zmq_errno() != EINTR)
            return -zmq_errno();
        stalled = true;
        if (*a->stop || a->over)
            return -EINTR;
        poll_learner(a); /* heartbeats continue while held back */
        if (!a->registered)
            return -EAGAIN; /* the learner went away: this segment belongs to its old epoch */
    }
    if (stalled) {
        a->stalls++;
        a->wait_s += rl_now() - t0;
    }
    a->segments++;
    return 0;
}

// the images a policy acts on: the camera's pictures of the current observations, or NULL
static const uint8_t *act_images(const struct actor *a)
{
    return policy_image_bytes(a->pol) ? vecenv_images(a->venv) : NULL;
}

static int chunk_step(struct actor *a)
{
    int M = a->run.num_envs, O = vecenv_obs_dim(a->venv);
    int D = a->run.chunk * vecenv_act_dim(a->venv);
    if (a->seg_restart) { /* new weights of an on-policy sampler (on_params) */
        restart_segments(a);
        a->seg_restart = false;
    }
    // weights only change here, between chunk steps
    policy_act_img(a->pol, vecenv_obs(a->venv), act_images(a), M, &a->rng, false, a->actions);
    const float *chain = NULL, *logp = NULL;
    if (policy_chain_len(a->pol) > 0)
        policy_chain(a->pol, &chain, &logp);
    if (a->version == 0)
        for (long i = 0; i < (long)M * D; i++)
            a->actions[i] = (float)rng_range(&a->rng, -1.0, 1.0); /* random warm-up */
    int rc = vecenv_step(a->venv, a->actions, NULL);
    if (rc < 0)
        return rc;
    const struct vecenv_result *res = vecenv_results(a->venv);
    for (int i = 0; i < M; i++) {
        const struct vecenv_result *r = &res[i];
        struct wire_segbuf *b = &a->seg[i];
        const float *next =
            (r->done ? vecenv_final_obs(a->venv) : vecenv_obs(a->venv)) + (size_t)i * O;
        wire_segbuf_push(b, a->actions + (size_t)i * D, (float)r->reward, (uint32_t)r->steps, next,
                         r->terminated, r->truncated && !r->terminated);
        seg_image(a, i, r->done);
        if (b->chain_len)
            wire_segbuf_chain(b, chain + (size_t)i * b->chain_len, logp[i]);
        a->env_steps += (uint64_t)r->steps;
        if (r->done) {
            a->episodes++;
            wire_segbuf_add_episode(b, (float)r->ep_return, (uint32_t)r->ep_length, r->success);
        }
        if (!wire_segbuf_ready(b))
            continue;
        rc = send_segment(a, i);
        if (rc == -EAGAIN || rc == -EINTR)
            return rc;
        if (r->done)
            seg_start(a, i, true);
        else
            wire_segbuf_carry(b);
        a->seg_version[i] = a->version;
    }
    return 0;
}

// ---- evaluator role ------------------------------------------------------------------------

static int eval_act(void *ctx, const float *obs, int num_envs, float *chunks)
{
    struct actor *a = ctx;
    policy_act_img(a->pol, obs, act_images(a), num_envs, &a->rng, !a->run.eval_stochastic, chunks);
    /* an evaluation can outlast actor_timeout: keep heartbeating (the weights under test stay);
     * a run that ended, a stop signal or a lost session cuts it short (no one takes the report) */
    read_control(a, false);
    return *a->stop || a->over || !a->registered ? -EINTR : 0;
}

// the video episode's policy: the picture comes from the video's own camera; it is written
// locally, so it outlives the run and stops only on a signal
static int video_act(void *ctx, const float *obs, const uint8_t *img, int num_envs, float *chunks)
{
    struct actor *a = ctx;
    policy_act_img(a->pol, obs, img, num_envs, &a->rng, !a->run.eval_stochastic, chunks);
    read_control(a, false);
    return *a->stop ? -EINTR : 0;
}

// evaluate the current weights whenever the learner passes the next eval_every boundary
static int eval_loop(struct actor *a)
{
    uint64_t next = 0;
    int evals = 0;
    if (!a->video) {
        /* the run's keys, this process's run_dir (where `rldt run` runs it) */
        struct rl_config vc = a->run;
        snprintf(vc.run_dir, sizeof(vc.run_dir), "%s", a->local.run_dir);
        a->video = evalvideo_new(&vc, policy_image_bytes(a->pol) > 0);
    }
    while (!*a->stop && !a->over && a->registered) {
        poll_learner(a);
        /* an evaluator that (re)started evaluates only once it knows the learner's env steps:
         * a report stamped with a stale count would make eval.csv go back */
        if (!a->acked || a->version == 0 || a->version < a->latest || a->learner_steps < next) {
            rl_sleep(EVAL_WAIT_SECS);
            continue;
        }
        uint64_t at = a->learner_steps, version = a->version;
        struct rollout_stats st;
        int rc = rollout_eval(a->venv, eval_act, a, a->run.eval_episodes, NULL, NULL, &st);
        if (rc == -EINTR) {
            log_info("evaluation at env_steps=%llu cut short: %s", (unsigned long long)at,
                     a->over    ? "the run ended"
                     : *a->stop ? "stopping"
                                : "registering again");
            continue;
        }
        if (rc < 0) {
            log_error("evaluation failed: %s", strerror(-rc));
            return rc;
        }
        struct wire_msg m = {.type = WIRE_EVAL_REPORT};
        m.eval_report = (struct wire_eval_report){a->id,
                                                  a->epoch,
                                                  version,
                                                  at,
                                                  (float)st.return_mean,
                                                  (float)st.return_std,
                                                  (float)st.length_mean,
                                                  (uint32_t)st.episodes,
                                                  a->session,
                                                  (uint32_t)st.successes};
        send_msg(a, a->ctl, &m, ZMQ_DONTWAIT);
        evals++;
        log_info("eval %d: return %.1f +- %.1f at env_steps=%llu (v%llu, %.1fs)", evals,
                 st.return_mean, st.return_std, (unsigned long long)at, (unsigned long long)version,
                 st.secs);
        uint64_t every = (uint64_t)a->run.eval_every;
        next = every ? (at / every + 1) * every : UINT64_MAX;
        evalvideo_after_eval(a->video, at, video_act, a, a->run.chunk);
    }
    return 0;
}

// ---- the loop ----------------------------------------------------------------------------

static int loop(struct actor *a)
{
    bool random_warmup = a->run.warmup_steps > 0;
    while (!*a->stop && !a->over) {
        if (!a->registered) {
            if (reconnect(a) < 0)
                return -EIO;
            int rc = wait_welcome(a);
            if (rc < 0)
                return rc == -EINTR ? 0 : rc;
            rc = setup_sim(a, (uint64_t)a->run.seed, a->stream_base);
            if (rc < 0)
                return rc;
            restart_segments(a);
            random_warmup = a->run.warmup_steps > 0 && a->latest == 0;
        }
        if (!strcmp(a->local.actor_role, "eval")) {
            int rc = eval_loop(a);
            if (rc < 0)
                return rc;
            continue;
        }
        poll_learner(a);
        if (a->version == 0 && !random_warmup) {
            rl_sleep(WEIGHTS_WAIT_SECS);
            continue;
        }
        int rc = chunk_step(a);
        if (rc == -EINTR)
            break;
        if (rc < 0 && rc != -EAGAIN)
            return rc;
    }
    return 0;
}

int actor_run(const struct rl_config *c, volatile sig_atomic_t *stop)
{
    if (!task_find(c->env)) {
        log_error("unknown task '%s'", c->env);
        return -EINVAL;
    }
    struct actor *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->local = *c;
    a->run = *c;
    a->stop = stop;
    a->cap = MAX_MSG;
    a->buf = malloc(a->cap);
    a->dec = wire_decoder_new(MAX_MSG);
    a->zctx = zmq_ctx_new();
    int rc = -ENOMEM;
    if (!a->buf || !a->dec || !a->zctx)
        goto out;
    // [auth] CURVE client keys, read once: a bad key file is a one-line error
    char aerr[512];
    if ((rc = auth_client_keys(&a->auth, c, aerr, sizeof(aerr))) < 0) {
        log_error("%s", aerr);
        goto out;
    }
    a->data = connect_socket(a, ZMQ_PUSH, c->data_port);
    a->sub = connect_socket(a, ZMQ_SUB, c->params_port);
    rc = a->data && a->sub ? loop(a) : -EIO;
    if (a->registered) {
        struct wire_msg m = {.type = WIRE_BYE};
        m.bye = (struct wire_bye){a->id, a->epoch, a->over ? "run over" : "stopped", a->session};
        send_msg(a, a->ctl, &m, ZMQ_DONTWAIT);
        rl_sleep(BYE_FLUSH_SECS);
    }
    log_info("actor exits: env_steps=%llu episodes=%llu segments=%llu stalls=%llu wait=%.1fs",
             (unsigned long long)a->env_steps, (unsigned long long)a->episodes,
             (unsigned long long)a->segments, (unsigned long long)a->stalls, a->wait_s);
out:
    for (int i = 0; a->seg && i < a->run.num_envs; i++)
        wire_segbuf_fini(&a->seg[i]);
    free(a->seg);
    free(a->seg_version);
    free(a->actions);
    policy_destroy(&a->pol);
    evalvideo_destroy(&a->video);
    vecenv_destroy(&a->venv);
    pixcam_destroy(&a->cam); /* after the vecenv that borrows it */
    if (a->ctl)
        zmq_close(a->ctl);
    if (a->data)
        zmq_close(a->data);
    if (a->sub)
        zmq_close(a->sub);
    if (a->zctx)
        zmq_ctx_term(a->zctx);
    wire_decoder_destroy(&a->dec);
    free(a->buf);
    free(a);
    return rc;
}
