/*
 * peerstest.h — what the hostile-peer tests share (test_peers.c, test_peers_faults.c): a learner
 * process on fresh loopback ports (SAC on Hopper; training never starts unless the extra flags
 * say so), /stats reads, and raw sockets that speak the wire protocol (join, heartbeat, a
 * one-step segment). Header-only like harness.h; one learner at a time (port[]).
 */
#ifndef RL_TEST_PEERSTEST_H
#define RL_TEST_PEERSTEST_H

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "deploy/rldt/statsc.h"
#include "common/util.h"
#include "proto/wire.h"
#include "tests/harness.h"
#include "tests/spawn.h"

static char bin[512], dir[] = "/tmp/rldt-peers-XXXXXX";
static int port[4]; /* control, data, params, stats */
static char stats_port[16];
static void *zctx;
static struct wire_decoder *dec;
static uint8_t buf[1 << 22];

// a learner on fresh ports (port[]) in run_dir, logging to run_dir/learner.log; extra flags
// (up to 12, NULL-terminated) come last and override the defaults
static inline pid_t start_learner(const char *run_dir, const char *const *extra)
{
    char path[600], a[4][64], rd[300], logp[400];
    int base = spawn_free_ports(4);
    for (int i = 0; i < 4; i++)
        port[i] = base + i;
    snprintf(stats_port, sizeof(stats_port), "%d", port[3]);
    snprintf(path, sizeof(path), "%s/rldt-learner", bin);
    spawn_port_flags(a, base);
    snprintf(rd, sizeof(rd), "--run-dir=%s", run_dir);
    snprintf(logp, sizeof(logp), "%s/learner.log", run_dir);
    char *argv[32] = {path,
                      "--algo=sac",
                      "--env=hopper",
                      "--chunk=1",
                      "--sac-hidden=256", /* params of ~0.3 MB: a flood would show */
                      "--min-replay=100000",
                      "--warmup-steps=0", /* publishes v1 at once */
                      "--heartbeat-secs=0.2",
                      "--actor-timeout=2",
                      "--max-episode-steps=1000",
                      "--log-level=info",
                      a[0],
                      a[1],
                      a[2],
                      a[3],
                      rd};
    int n = 16;
    for (int i = 0; extra && extra[i] && i < 12; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    return spawn_logged(path, argv, logp);
}

// ---- /stats --------------------------------------------------------------------------------

static inline double rejected(const char *reason)
{
    json_t *d = spawn_stats(stats_port);
    double v = d ? spawn_num(json_object_get(d, "rejected"), reason) : -1;
    json_decref(d);
    return v;
}

// poll until rejected[reason] >= n (or 5 s); the last value
static inline double wait_rejected(const char *reason, double n)
{
    double v = -1, until = rl_now() + 5;
    while (rl_now() < until && (v = rejected(reason)) < n)
        rl_sleep(0.1);
    return v;
}

// is actor id in the /stats actor table?
static inline bool listed(uint32_t id)
{
    json_t *d = spawn_stats(stats_port);
    json_t *acts = d ? json_object_get(d, "actors") : NULL;
    bool found = false;
    for (size_t i = 0; i < json_array_size(acts); i++)
        found |= spawn_num(json_array_get(acts, i), "id") == id;
    json_decref(d);
    return found;
}

static inline bool wait_up(void)
{
    double until = rl_now() + 15;
    json_t *d = NULL;
    while (rl_now() < until && !(d = spawn_stats(stats_port)))
        rl_sleep(0.1);
    json_decref(d);
    return d != NULL;
}

// ---- raw peers -----------------------------------------------------------------------------

static bool slow_reader; /* the next socket: one message in ZeroMQ, a few kB in the kernel */

static inline void *sock_to(int type, int p)
{
    void *s = zmq_socket(zctx, type);
    int linger = 0, tmo = 3000, one = 1, small = 4096;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof(tmo)); /* a holding learner must not hang us */
    if (slow_reader) { /* before connect: options apply to later connections */
        zmq_setsockopt(s, ZMQ_RCVHWM, &one, sizeof(one));
        zmq_setsockopt(s, ZMQ_RCVBUF, &small, sizeof(small));
        slow_reader = false;
    }
    char ep[64];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", p);
    T_EQ_INT(zmq_connect(s, ep), 0);
    return s;
}

static inline int send_msg(void *s, struct wire_msg *m)
{
    size_t len;
    T_EQ_INT(wire_pack(m, buf, sizeof(buf), &len), 0);
    return zmq_send(s, buf, len, 0) >= 0 ? 0 : -1;
}

// the next message of type want on s (others skipped), 0; or -1 after the receive time-out
static inline int recv_type(void *s, enum wire_type want, struct wire_msg *m)
{
    for (;;) {
        int n = zmq_recv(s, buf, sizeof(buf), 0);
        if (n < 0)
            return -1;
        if (wire_decode(dec, buf, (size_t)RL_MIN((size_t)n, sizeof(buf)), m, NULL, 0) == 0 &&
            m->type == want)
            return 0;
    }
}

/* a registered raw actor */
struct peer {
    void *ctl;
    uint32_t id;
    uint64_t epoch;
    struct wire_session session;
};

static inline bool join(struct peer *p, const char *name, bool evaluator)
{
    *p = (struct peer){.ctl = sock_to(ZMQ_DEALER, port[0])};
    struct wire_msg m = spawn_hello(name, evaluator);
    send_msg(p->ctl, &m);
    if (recv_type(p->ctl, WIRE_WELCOME, &m) < 0 || !m.welcome.accepted)
        return false;
    p->id = m.welcome.actor_id;
    p->epoch = m.welcome.run_epoch;
    p->session = m.welcome.session;
    return true;
}

// a heartbeat of p (with session s); the ack in *ack. Returns 0 or -1 (no ack)
static inline int heartbeat(struct peer *p, const struct wire_session *s,
                            struct wire_heartbeat_ack *ack)
{
    struct wire_msg m = {.type = WIRE_HEARTBEAT};
    m.heartbeat = (struct wire_heartbeat){.actor_id = p->id, .run_epoch = p->epoch};
    m.heartbeat.session = *s;
    send_msg(p->ctl, &m);
    if (recv_type(p->ctl, WIRE_HEARTBEAT_ACK, &m) < 0)
        return -1;
    *ack = m.heartbeat_ack;
    return 0;
}

// a valid one-step segment of p, with the given values
static inline int send_segment(void *push, const struct peer *p, uint64_t seq, float reward,
                               float obs0, uint32_t steps, bool summary)
{
    struct spawn_seg st;
    struct wire_msg m = spawn_tiny_segment(&st);
    float ret[1] = {reward};
    uint32_t len[1] = {1};
    st.obs[0] = obs0;
    st.act[0] = 0.5f;
    st.rew[0] = reward;
    st.steps[0] = steps;
    struct wire_segment *g = &m.segment;
    g->run_epoch = p->epoch;
    g->actor_id = p->id;
    g->seq = seq;
    g->T = 1;
    g->n_episodes = summary ? 1 : 0;
    g->episode_return = ret;
    g->episode_len = len;
    g->session = p->session;
    return send_msg(push, &m);
}

// ---- set-up and tear-down of a test binary ------------------------------------------------

/* the programs' folder, a fresh temp dir, the zmq context and a decoder; false on failure */
static inline bool peers_setup(void)
{
    spawn_bin_dir(bin, sizeof(bin));
    if (!mkdtemp(dir))
        return false;
    zctx = zmq_ctx_new();
    dec = wire_decoder_new(sizeof(buf));
    return zctx && dec;
}

/* after a failure, the tail of the learner logs (logs: a shell pattern below the temp dir);
 * then everything peers_setup made goes. 0, or -1 when the temp dir could not be removed */
static inline int peers_finish(const char *logs)
{
    char cmd[600];
    if (t_failed) {
        snprintf(cmd, sizeof(cmd), "tail -n 20 %s/%s", dir, logs);
        if (system(cmd) != 0)
            printf("no learner log\n");
    }
    wire_decoder_destroy(&dec);
    zmq_ctx_term(zctx);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
