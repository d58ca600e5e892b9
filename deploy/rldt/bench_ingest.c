/*
 * bench_ingest.c — `rldt bench ingest`: chunk steps/s a real rldt-learner process stores
 * (decode + validate + replay) from sender threads blasting segments, next to raw ZeroMQ
 * PUSH/PULL throughput of the same message size over the same transport in the same run.
 * Also the learner's peak RSS (bounded by replay_size). With --auth=curve both are measured
 * twice in one run, plain and with CURVE on both ends (keys generated for the run, the
 * learner's ZAP handler admitting the senders' key), and the CURVE/plain ratios printed.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "common/auth.h"
#include "common/config.h"
#include "common/rng.h"
#include "deploy/rldt/statsc.h"
#include "common/task.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"
#include "deploy/rldt/synth.h"
#include "proto/wire.h"

struct sender {
    const struct rl_config *c;
    void *zctx;
    char data_ep[128], ctl_ep[128];
    double until;
    bool raw; /* raw: resend one packed segment, no registration */
    size_t msg_len;
    atomic_long *sent;
    int id;
    const struct auth_keys *auth; /* CURVE client keys (curve false = plain) */
};

// register like an actor; returns the actor id and sets *epoch and *session, or 0
static uint32_t hello(struct sender *s, uint64_t *epoch, struct wire_session *session)
{
    void *ctl = zmq_socket(s->zctx, ZMQ_DEALER);
    int linger = 0, tmo = 5000;
    zmq_setsockopt(ctl, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(ctl, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
    auth_client_socket(ctl, s->auth);
    zmq_connect(ctl, s->ctl_ep);
    char name[32];
    snprintf(name, sizeof(name), "bench-%d", s->id);
    struct wire_msg m;
    synth_hello(&m, name, s->c->env, 1, s->c->chunk, 0);
    static _Thread_local uint8_t buf[1 << 18];
    size_t len;
    uint32_t id = 0;
    if (wire_pack(&m, buf, sizeof(buf), &len) == 0 && zmq_send(ctl, buf, len, 0) >= 0) {
        int n = zmq_recv(ctl, buf, sizeof(buf), 0);
        struct wire_decoder *d = wire_decoder_new(sizeof(buf));
        struct wire_msg w;
        if (n > 0 && d && wire_decode(d, buf, (size_t)n, &w, NULL, 0) == 0 &&
            w.type == WIRE_WELCOME && w.welcome.accepted) {
            id = w.welcome.actor_id;
            *epoch = w.welcome.run_epoch;
            *session = w.welcome.session;
        }
        wire_decoder_destroy(&d);
    }
    zmq_close(ctl);
    return id;
}

static void *send_main(void *arg)
{
    struct sender *s = arg;
    const struct rl_config *c = s->c;
    const struct task_info *t = task_find(c->env);
    int T = c->segment_len, O = t->obs_dim, D = c->chunk * t->act_dim;
    uint64_t epoch = 0;
    struct wire_session session = {{0}};
    uint32_t id = s->raw ? 0 : hello(s, &epoch, &session);
    if (!s->raw && !id) {
        fprintf(stderr, "rldt bench ingest: sender %d could not register\n", s->id);
        return NULL;
    }
    // one segment of plausible data, re-stamped with a new sequence number per send
    struct rng r;
    rng_init(&r, 7, (uint64_t)s->id);
    struct wire_msg m = {.type = WIRE_SEGMENT};
    uint8_t *buf = malloc(1 << 22);
    if (!buf || synth_wire_segment(&m.segment, &r, T, O, D, c->chunk) < 0) {
        fprintf(stderr, "rldt bench ingest: out of memory\n");
        free(buf);
        return NULL;
    }
    m.segment.run_epoch = epoch;
    m.segment.session = session;
    m.segment.actor_id = id;
    void *push = zmq_socket(s->zctx, ZMQ_PUSH);
    int linger = 0, hwm = c->send_hwm, tmo = 100;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(push, ZMQ_SNDTIMEO, &tmo, sizeof(tmo));
    auth_client_socket(push, s->auth);
    zmq_connect(push, s->data_ep);
    uint64_t seq = 0;
    size_t len = 0;
    while (rl_now() < s->until) {
        // the real senders re-stamp the sequence number (1-2 us); raw ones resend the bytes
        if (!s->raw || !len) {
            m.segment.seq = ++seq;
            if (wire_pack(&m, buf, 1 << 22, &len) < 0)
                break;
        }
        if (zmq_send(push, buf, len, 0) >= 0)
            atomic_fetch_add(s->sent, 1);
    }
    if (s->id == 0)
        s->msg_len = len;
    zmq_close(push);
    synth_wire_free(&m.segment);
    free(buf);
    return NULL;
}

struct receiver {
    void *sock;
    double until;
    long count;
};

static void *recv_main(void *arg)
{
    struct receiver *r = arg;
    zmq_msg_t m;
    zmq_msg_init(&m);
    int tmo = 100;
    zmq_setsockopt(r->sock, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
    while (rl_now() < r->until)
        if (zmq_msg_recv(&m, r->sock, 0) >= 0)
            r->count++;
    zmq_msg_close(&m);
    return NULL;
}

static void run_senders(struct sender *tmpl, int n)
{
    pthread_t th[64];
    struct sender s[64];
    n = RL_MIN(n, 64);
    for (int i = 0; i < n; i++) {
        s[i] = *tmpl;
        s[i].id = i;
        pthread_create(&th[i], NULL, send_main, &s[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    tmpl->msg_len = s[0].msg_len;
}

struct blast {
    struct sender *tmpl;
    int n;
};

static void *blast_main(void *arg)
{
    struct blast *b = arg;
    run_senders(b->tmpl, b->n);
    return NULL;
}

// start rldt-learner next to this binary; keydir: CURVE keys made for the run (NULL = plain)
static pid_t spawn_learner(const struct rl_config *c, const char *keydir)
{
    char path[PATH_MAX + 32];
    if (cmd_beside_exe(path, sizeof(path), "rldt-learner") < 0)
        return -1;
    char a[10][PATH_MAX + 32];
    snprintf(a[0], sizeof(a[0]), "--control-port=%d", c->control_port);
    snprintf(a[1], sizeof(a[1]), "--data-port=%d", c->data_port);
    snprintf(a[2], sizeof(a[2]), "--params-port=%d", c->params_port);
    snprintf(a[3], sizeof(a[3]), "--stats=%s", c->stats);
    snprintf(a[4], sizeof(a[4]), "--env=%s", c->env);
    snprintf(a[5], sizeof(a[5]), "--replay-size=%lld", (long long)c->replay_size);
    snprintf(a[6], sizeof(a[6]), "--auth=%s", keydir ? "curve" : "none");
    snprintf(a[7], sizeof(a[7]), "--curve-server-key=%s/learner.key", keydir ? keydir : "");
    snprintf(a[8], sizeof(a[8]), "--curve-allow=%s/sender.pub", keydir ? keydir : "");
    // no training while the replay fills (a larger min_replay is refused: it could never start)
    snprintf(a[9], sizeof(a[9]), "--min-replay=%lld", (long long)c->replay_size);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {path,
                        a[0],
                        a[1],
                        a[2],
                        a[3],
                        a[4],
                        a[5],
                        a[6],
                        a[7],
                        a[8],
                        a[9],
                        "--algo=sac",
                        "--chunk=1",
                        "--updates-per-step=0",
                        "--log-level=warn",
                        "--max-env-steps=1000000000000",
                        NULL};
        execv(path, argv);
        _exit(127);
    }
    return pid;
}

static long peak_rss_kb(pid_t pid)
{
    return rl_proc_status_kb((int)pid, "VmHWM");
}

static double stat_num(const char *host, const char *port, const char *key)
{
    char err[256];
    json_t *d = statsc_fetch(host, port, 2.0, err, sizeof(err));
    double v = d ? json_number_value(json_object_get(d, key)) : -1;
    json_decref(d);
    return v;
}

// what one configuration (plain or CURVE) measured
struct measured {
    double ingest, raw, rejected; /* chunk steps/s stored, raw chunk steps/s, rejections */
    long rss_kb;
    size_t msg_len;
};

// with keys (keydir non-NULL): a ZAP handler on rctx admitting the sender's key, as the
// learner's does
static int raw_server(void *rctx, const char *keydir, struct auth_zap **zap)
{
    if (!keydir)
        return 0;
    char allow[PATH_MAX], err[512];
    snprintf(allow, sizeof(allow), "%s/sender.pub", keydir);
    *zap = auth_zap_new(rctx, allow, NULL, NULL, err, sizeof(err));
    if (!*zap)
        fprintf(stderr, "rldt bench ingest: %s\n", err);
    return *zap ? 0 : -1;
}

// ingest through a real learner, then the raw PUSH/PULL limit, with the same auth setting
static int measure(const struct rl_config *c, void *zctx, const struct auth_keys *client,
                   const char *keydir, struct measured *out)
{
    char host[256], port[16];
    statsc_split(c->stats, "5558", host, sizeof(host), port, sizeof(port));
    pid_t pid = spawn_learner(c, keydir);
    double up = rl_now() + 10;
    while (pid > 0 && stat_num(host, port, "uptime_s") < 0 && rl_now() < up)
        rl_sleep(0.1);
    if (pid < 0 || rl_now() >= up) {
        fprintf(stderr, "rldt bench ingest: the learner did not start (ports in use?)\n");
        if (pid > 0)
            kill(pid, SIGKILL), waitpid(pid, NULL, 0);
        return -1;
    }
    atomic_long sent = 0;
    struct sender tmpl = {.c = c, .zctx = zctx, .sent = &sent, .auth = client};
    snprintf(tmpl.data_ep, sizeof(tmpl.data_ep), "tcp://127.0.0.1:%d", c->data_port);
    snprintf(tmpl.ctl_ep, sizeof(tmpl.ctl_ep), "tcp://127.0.0.1:%d", c->control_port);
    // the learner's stored segments, sampled inside the sending window
    double warm = 0.5;
    tmpl.until = rl_now() + warm + c->secs + 0.3;
    struct blast b = {&tmpl, c->actors};
    pthread_t th;
    pthread_create(&th, NULL, blast_main, &b);
    rl_sleep(warm);
    double s0 = stat_num(host, port, "segments"), t0 = rl_now();
    rl_sleep(c->secs);
    double s1 = stat_num(host, port, "segments"), t1 = rl_now();
    pthread_join(th, NULL);
    out->rejected = stat_num(host, port, "rejected_total");
    out->rss_kb = peak_rss_kb(pid);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    int T = c->segment_len;
    out->ingest = (s1 - s0) * T / (t1 - t0);

    // raw ZeroMQ: the same bytes, same senders, same transport and security, a bare PULL in
    // its own context (its own I/O thread, as the learner process has)
    void *rctx = zmq_ctx_new();
    struct auth_zap *zap = NULL;
    if (raw_server(rctx, keydir, &zap) < 0) {
        zmq_ctx_term(rctx);
        return -1;
    }
    struct auth_keys server = {.curve = client->curve};
    char kp[PATH_MAX + 16], err[512];
    snprintf(kp, sizeof(kp), "%s/learner.key", keydir ? keydir : "");
    if (server.curve && auth_keypair_read(kp, &server.own, err, sizeof(err)) < 0)
        return -1; /* read a moment ago by raw_server */
    void *pull = zmq_socket(rctx, ZMQ_PULL);
    char ep[128];
    size_t eplen = sizeof(ep);
    auth_server_socket(pull, &server);
    zmq_bind(pull, "tcp://127.0.0.1:*");
    zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &eplen);
    struct receiver r = {pull, 0, 0};
    tmpl.raw = true;
    snprintf(tmpl.data_ep, sizeof(tmpl.data_ep), "%s", ep);
    tmpl.until = rl_now() + c->secs;
    r.until = tmpl.until + 0.2;
    pthread_t rt;
    pthread_create(&rt, NULL, recv_main, &r);
    double r0 = rl_now();
    run_senders(&tmpl, c->actors);
    pthread_join(rt, NULL);
    out->raw = (double)r.count * T / (rl_now() - r0 - 0.2);
    out->msg_len = tmpl.msg_len;
    zmq_close(pull);
    auth_zap_destroy(&zap);
    zmq_ctx_term(rctx);
    return 0;
}

static void report(const struct rl_config *c, const char *label, const struct measured *m)
{
    int T = c->segment_len;
    double mb = (double)m->msg_len / 1e6;
    printf("[auth %s]\n", label);
    printf("ingest: %.0f chunk steps/s stored (%.0f segments/s of T=%d, %.1f MB/s), %d senders, "
           "rejected %.0f\n",
           m->ingest, m->ingest / T, T, m->ingest / T * mb, c->actors, m->rejected);
    printf("raw zeromq: %.0f chunk steps/s (%.0f msgs/s of %zu bytes, %.1f MB/s)\n", m->raw,
           m->raw / T, m->msg_len, m->raw / T * mb);
    printf("ratio ingest/raw: %.2f\n", m->raw > 0 ? m->ingest / m->raw : 0);
    printf("learner peak RSS: %.1f MB (replay_size %lld chunk steps)\n", m->rss_kb / 1024.0,
           (long long)c->replay_size);
}

// keys for a CURVE measurement in a fresh private directory: learner and sender pairs, the
// sender's public key as the allow list; the sender's keys go to *client
static int make_keys(char *dir, struct auth_keys *client)
{
    struct auth_keypair l, snd;
    char err[512];
    if (!mkdtemp(dir) || auth_keypair_new(&l) < 0 || auth_keypair_new(&snd) < 0 ||
        auth_keypair_save(&l, dir, "learner", false, err, sizeof(err)) < 0 ||
        auth_keypair_save(&snd, dir, "sender", false, err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt bench ingest: cannot make CURVE keys in %s\n", dir);
        return -1;
    }
    *client = (struct auth_keys){.curve = true, .own = snd};
    memcpy(client->server_key, l.public_key, sizeof(client->server_key));
    return 0;
}

static void remove_keys(const char *dir)
{
    const char *names[] = {"learner.key", "learner.pub", "sender.key", "sender.pub"};
    char p[PATH_MAX + 16];
    for (size_t i = 0; i < RL_ARRAY_LEN(names); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static int keyed_run(struct rl_config *c)
{
    int rc;
    c->chunk = 1;
    char host[256], port[16];
    if (!statsc_split(c->stats, "5558", host, sizeof(host), port, sizeof(port))) {
        fprintf(stderr, "rldt bench ingest: bad --stats address\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    bool curve = !strcmp(c->auth, "curve");
    char keydir[] = "/tmp/rldt-bench-keys-XXXXXX";
    struct auth_keys plain = {.curve = false}, client;
    if (curve && make_keys(keydir, &client) < 0)
        return 1;
    void *zctx = zmq_ctx_new();
    struct measured m[2];
    rc = measure(c, zctx, &plain, NULL, &m[0]);
    if (rc == 0 && curve)
        rc = measure(c, zctx, &client, keydir, &m[1]);
    zmq_ctx_term(zctx);
    if (curve)
        remove_keys(keydir);
    if (rc < 0)
        return 1;
    report(c, "none", &m[0]);
    if (curve) {
        report(c, "curve", &m[1]);
        printf("curve/none: ingest %.2f, raw zeromq %.2f\n",
               m[0].ingest > 0 ? m[1].ingest / m[0].ingest : 0,
               m[0].raw > 0 ? m[1].raw / m[0].raw : 0);
    }
    return m[0].ingest > 0 && (!curve || m[1].ingest > 0) ? 0 : 1;
}

static const struct cmd_keyed keyed = {
    "rldt bench ingest",
    "rldt bench ingest [--auth=curve] [--actors=SENDERS] [--segment-len=T] "
    "[--secs=S] [--replay-size=N] [ports]\n"
    "  --auth=curve measures plain and CURVE in the same run (keys made for it)",
    "run,env,net,learner,actor,bench,auth", keyed_run};
CMD_KEYED(bench_ingest, keyed)
