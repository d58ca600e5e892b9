/*
 * test_peers.c — hostile peers against a real learner process on 127.0.0.1 (SAC on Hopper,
 * training never starts: min_replay is out of reach). Raw sockets speak the wire protocol:
 * a stray heartbeat learns no epoch, a spoofed Bye and forged evaluations are refused, absurd
 * values never reach the replay, a params-request flood keeps the learner's memory bounded,
 * a Hello flood does not lock out a newcomer, and liveness follows heartbeats, not data.
 * Bad days, each on a learner of its own: a deadlocking config is refused, a final checkpoint
 * that cannot be written fails the run, non-finite training steps quarantine their poison,
 * failing checkpoint and replay saves are counted in /stats and /metrics with their last error,
 * and an unconfirmed registration expires long before actor_timeout.
 */
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
static pid_t learner;
static void *zctx;
static struct wire_decoder *dec;
static uint8_t buf[1 << 22];

// a learner on fresh ports (port[]) in run_dir, logging to run_dir/learner.log; extra flags
// (up to 12, NULL-terminated) come last and override the defaults
static pid_t start_learner(const char *run_dir, const char *const *extra)
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

static double rejected(const char *reason)
{
    json_t *d = spawn_stats(stats_port);
    double v = d ? spawn_num(json_object_get(d, "rejected"), reason) : -1;
    json_decref(d);
    return v;
}

// poll until rejected[reason] >= n (or 5 s); the last value
static double wait_rejected(const char *reason, double n)
{
    double v = -1, until = rl_now() + 5;
    while (rl_now() < until && (v = rejected(reason)) < n)
        rl_sleep(0.1);
    return v;
}

// is actor id in the /stats actor table?
static bool listed(uint32_t id)
{
    json_t *d = spawn_stats(stats_port);
    json_t *acts = d ? json_object_get(d, "actors") : NULL;
    bool found = false;
    for (size_t i = 0; i < json_array_size(acts); i++)
        found |= spawn_num(json_array_get(acts, i), "id") == id;
    json_decref(d);
    return found;
}

static bool wait_up(void)
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

static void *sock_to(int type, int p)
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

static int send_msg(void *s, struct wire_msg *m)
{
    size_t len;
    T_EQ_INT(wire_pack(m, buf, sizeof(buf), &len), 0);
    return zmq_send(s, buf, len, 0) >= 0 ? 0 : -1;
}

// the next message of type want on s (others skipped), 0; or -1 after the receive time-out
static int recv_type(void *s, enum wire_type want, struct wire_msg *m)
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

static bool join(struct peer *p, const char *name, bool evaluator)
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
static int heartbeat(struct peer *p, const struct wire_session *s, struct wire_heartbeat_ack *ack)
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
static int send_segment(void *push, const struct peer *p, uint64_t seq, float reward, float obs0,
                        uint32_t steps, bool summary)
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

// ---- the attacks ---------------------------------------------------------------------------

static void test_stray_heartbeat(void)
{
    // a heartbeat from nobody: told to register again, and not told the run epoch
    struct peer p = {.ctl = sock_to(ZMQ_DEALER, port[0]), .id = 1, .epoch = 1};
    struct wire_heartbeat_ack ack;
    T_EQ_INT(heartbeat(&p, &p.session, &ack), 0);
    T_CHECK(ack.register_again);
    T_EQ_INT(ack.run_epoch, 0);
    T_EQ_INT(ack.param_version, 0);
    zmq_close(p.ctl);
}

static void test_version_zero(void)
{
    // an envelope without a version (an old or broken peer) is a bad_version, not noise
    void *s = sock_to(ZMQ_DEALER, port[0]);
    struct wire_msg m = {.type = WIRE_HEARTBEAT};
    m.heartbeat = (struct wire_heartbeat){.actor_id = 1, .run_epoch = 1};
    size_t len;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    T_CHECK(buf[0] == 0x08 && buf[1] == WIRE_PROTOCOL_VERSION); /* field 1, varint */
    double bv = rejected("bad_version"), de = rejected("decode_error");
    zmq_send(s, buf + 2, len - 2, 0);
    T_EQ_INT(wait_rejected("bad_version", bv + 1), bv + 1);
    T_EQ_INT(rejected("decode_error"), de);
    zmq_close(s);
}

static void test_spoofed_bye(void)
{
    struct peer a, x;
    T_CHECK(join(&a, "victim", false));
    T_CHECK(join(&x, "attacker", false));
    struct wire_heartbeat_ack ack;
    T_EQ_INT(heartbeat(&a, &a.session, &ack), 0);
    T_EQ_INT(ack.run_epoch, a.epoch);
    // the attacker knows the victim's id and the epoch, not its session
    double before = rejected("bad_session");
    struct wire_msg m = {.type = WIRE_BYE};
    m.bye = (struct wire_bye){a.id, a.epoch, "spoofed", x.session};
    send_msg(x.ctl, &m);
    m.bye.session = (struct wire_session){{0}};
    send_msg(x.ctl, &m);
    T_EQ_INT(wait_rejected("bad_session", before + 2), before + 2);
    // the victim is still registered: acked as usual, still listed
    T_EQ_INT(heartbeat(&a, &a.session, &ack), 0);
    T_CHECK(!ack.register_again && ack.run_epoch == a.epoch);
    rl_sleep(0.7); /* the stats snapshot is refreshed every 0.5 s */
    T_CHECK(listed(a.id));
    // its own Bye works
    m.bye = (struct wire_bye){a.id, a.epoch, "done", a.session};
    send_msg(a.ctl, &m);
    T_EQ_INT(heartbeat(&a, &a.session, &ack), 0);
    T_CHECK(ack.register_again);
    zmq_close(a.ctl);
    zmq_close(x.ctl);
}

static void send_eval(struct peer *p, const struct wire_session *s, float ret)
{
    struct wire_msg m = {.type = WIRE_EVAL_REPORT};
    m.eval_report = (struct wire_eval_report){.actor_id = p->id,
                                              .run_epoch = p->epoch,
                                              .policy_version = 1,
                                              .return_mean = ret,
                                              .length_mean = 10,
                                              .episodes = 1,
                                              .session = *s};
    send_msg(p->ctl, &m);
}

static void test_forged_eval(void)
{
    struct peer a, e;
    T_CHECK(join(&a, "collector", false));
    T_CHECK(join(&e, "evaluator", true));
    double nb = rejected("not_evaluator"), bs = rejected("bad_session");
    send_eval(&a, &a.session, 99999);  /* a collector's own session */
    send_eval(&e, &a.session, 99999);  /* the evaluator's id with another session */
    send_eval(&e, &e.session, 123.5f); /* the real one */
    T_EQ_INT(wait_rejected("not_evaluator", nb + 1), nb + 1);
    T_EQ_INT(wait_rejected("bad_session", bs + 1), bs + 1);
    double v = -1, until = rl_now() + 5;
    while (rl_now() < until && v != 123.5) {
        json_t *d = spawn_stats(stats_port);
        v = d ? spawn_num(json_object_get(d, "scalars"), "eval_return") : -1;
        json_decref(d);
        rl_sleep(0.1);
    }
    T_NEAR(v, 123.5, 1e-9);
    // eval.csv holds the real report only
    char path[400], text[4096] = "";
    snprintf(path, sizeof(path), "%s/eval.csv", dir);
    FILE *f = fopen(path, "r");
    T_CHECK(f != NULL);
    if (f) {
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    T_CHECK_MSG(strstr(text, "123.5") && !strstr(text, "99999"), "%s", text);
    zmq_close(a.ctl);
    zmq_close(e.ctl);
}

static void test_value_limits(void)
{
    struct peer a;
    T_CHECK(join(&a, "poisoner", false));
    void *push = sock_to(ZMQ_PUSH, port[1]);
    struct wire_heartbeat_ack ack;
    T_EQ_INT(heartbeat(&a, &a.session, &ack), 0);
    const char *why[] = {"reward_range", "obs_range", "bad_steps", "bad_episodes"};
    double before[4];
    for (int i = 0; i < 4; i++)
        before[i] = rejected(why[i]);
    send_segment(push, &a, 1, 1e30f, 0, 1, false); /* finite but absurd reward */
    send_segment(push, &a, 2, 1, 1e30f, 1, false); /* ... and observation */
    send_segment(push, &a, 3, 1, 0, 2, false);     /* 2 env steps from a chunk of 1 */
    send_segment(push, &a, 4, 1, 0, 1, true);      /* an episode summary with no episode end */
    for (int i = 0; i < 4; i++)
        T_CHECK_MSG(wait_rejected(why[i], before[i] + 1) == before[i] + 1, "%s", why[i]);
    json_t *d = spawn_stats(stats_port);
    T_CHECK(d && spawn_num(d, "env_steps") == 0 &&
            spawn_num(json_object_get(d, "replay"), "size") == 0);
    T_CHECK(d && spawn_num(d, "episodes") == 0 &&
            json_is_null(json_object_get(d, "recent_return")));
    json_decref(d);
    // each reason is a Prometheus series too
    char err[256];
    char *prom = NULL;
    int status = 0;
    statsc_get("127.0.0.1", stats_port, "/metrics", 1.0, &status, &prom, NULL, err, sizeof(err));
    T_CHECK_MSG(prom && strstr(prom, "reason=\"reward_range\"") &&
                    strstr(prom, "reason=\"bad_episodes\""),
                "%s", prom ? "series missing" : err);
    free(prom);
    // a sane segment still gets in
    send_segment(push, &a, 5, 1, 0, 1, false);
    double size = -1, until = rl_now() + 5;
    while (rl_now() < until && size < 1) {
        d = spawn_stats(stats_port);
        size = d ? spawn_num(json_object_get(d, "replay"), "size") : -1;
        json_decref(d);
        rl_sleep(0.1);
    }
    T_EQ_INT(size, 1);
    zmq_close(push);
    zmq_close(a.ctl);
}

// resident memory of pid in MB (-1 if unreadable)
static double rss_mb(pid_t pid)
{
    long kb = rl_proc_status_kb((int)pid, "VmRSS");
    return kb < 0 ? -1 : kb / 1024.0;
}

#define FLOOD 1000
#define FLOOD_MB 40 /* the stated bound on RSS growth under the flood */

static void test_params_flood(void)
{
    struct peer a;
    slow_reader = true; /* replies pile up in the learner, not here */
    T_CHECK(join(&a, "flooder", false));
    double nb = rejected("rate_limited"), rss0 = rss_mb(learner);
    struct wire_msg m = {.type = WIRE_PARAMS_REQUEST};
    m.params_request = (struct wire_params_request){a.id, a.epoch, 0, a.session};
    size_t len;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    for (int i = 0; i < FLOOD; i++) /* never read */
        zmq_send(a.ctl, buf, len, 0);
    T_CHECK(wait_rejected("rate_limited", nb + FLOOD - 5) >= nb + FLOOD - 5);
    rl_sleep(0.5);
    double rss1 = rss_mb(learner);
    printf("params flood: %d requests, learner RSS %.1f -> %.1f MB (bound +%d MB)\n", FLOOD, rss0,
           rss1, FLOOD_MB);
    T_CHECK_MSG(rss0 > 0 && rss1 - rss0 < FLOOD_MB, "RSS %.1f -> %.1f MB", rss0, rss1);
    // the flooder still gets the params (one reply per interval), and can read it
    struct wire_msg p;
    T_EQ_INT(recv_type(a.ctl, WIRE_PARAMS, &p), 0);
    T_CHECK(p.params.n_weights > 60000); /* the bound above is ~ 1/7 of FLOOD of these */
    zmq_close(a.ctl);
}

// lines of the first learner's log that hold text
static int log_lines(const char *text)
{
    char path[400], line[1024];
    snprintf(path, sizeof(path), "%s/learner.log", dir);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof(line), f))
        n += strstr(line, text) != NULL;
    if (f)
        fclose(f);
    return n;
}

// n Hellos on flood (replies never read)
static void hello_burst(void *flood, int n)
{
    struct wire_msg m = spawn_hello("flood", false);
    size_t len;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    for (int i = 0; i < n; i++) /* blocking: none is dropped on our side */
        zmq_send(flood, buf, len, 0);
}

static void test_hello_flood(void)
{
    // one connection floods with more Hellos than the table holds, before, while and after a
    // newcomer registers: the flood is throttled per connection, so the newcomer gets in at
    // once and its unconfirmed row is not pushed out before its first heartbeat
    double nb = rejected("hello_rate");
    void *flood = sock_to(ZMQ_DEALER, port[0]);
    hello_burst(flood, 1100);
    T_CHECK(wait_rejected("hello_rate", nb + 1000) >= nb + 1000);
    double t = rl_now();
    struct peer n = {.ctl = sock_to(ZMQ_DEALER, port[0])};
    struct wire_msg m = spawn_hello("newcomer", false);
    send_msg(n.ctl, &m);
    hello_burst(flood, 1100); /* between the newcomer's Hello and its first heartbeat */
    T_CHECK_MSG(recv_type(n.ctl, WIRE_WELCOME, &m) == 0 && m.welcome.accepted,
                "newcomer locked out");
    n.id = m.welcome.actor_id;
    n.epoch = m.welcome.run_epoch;
    n.session = m.welcome.session;
    printf("hello flood: newcomer registered %.2f s after asking\n", rl_now() - t);
    T_CHECK(rl_now() - t < 3);
    struct wire_heartbeat_ack ack;
    T_EQ_INT(heartbeat(&n, &n.session, &ack), 0);
    T_CHECK_MSG(!ack.register_again, "the newcomer's row was pushed out by the flood");
    double nr = wait_rejected("hello_rate", nb + 2150);
    // the flood got at most a burst of rows; the rest was refused and counted
    json_t *d = spawn_stats(stats_port);
    size_t rows = json_array_size(d ? json_object_get(d, "actors") : NULL);
    json_decref(d);
    printf("hello flood: %.0f of 2200 Hellos refused (hello_rate), %zu rows in the table\n",
           nr - nb, rows);
    T_CHECK(nr - nb >= 2150);
    T_CHECK_MSG(rows < 50, "%zu rows", rows);
    // repeated refusals are logged once, then once per 1000 (not a line per message)
    int lines = log_lines("(hello_rate,"), rl = log_lines("(rate_limited,");
    printf("hello flood: %d log lines for the hello_rate refusals, %d for rate_limited\n", lines,
           rl);
    T_CHECK_MSG(lines >= 1 && lines <= 4, "%d log lines", lines);
    T_CHECK_MSG(rl >= 1 && rl <= 3, "%d log lines", rl);
    zmq_close(flood);
    zmq_close(n.ctl);
}

static void test_liveness(void)
{
    // data does not keep an actor alive: one heartbeat, then segments only
    struct peer a;
    T_CHECK(join(&a, "silent", false));
    void *push = sock_to(ZMQ_PUSH, port[1]);
    struct wire_heartbeat_ack ack;
    T_EQ_INT(heartbeat(&a, &a.session, &ack), 0);
    double t0 = rl_now(), gone_at = -1;
    while (rl_now() - t0 < 2 && !listed(a.id)) /* the /stats table is refreshed every 0.5 s */
        rl_sleep(0.05);
    T_CHECK(listed(a.id));
    uint64_t seq = 100;
    while (rl_now() - t0 < 5 && gone_at < 0) {
        send_segment(push, &a, seq++, 1, 0, 1, false);
        rl_sleep(0.2);
        if (!listed(a.id))
            gone_at = rl_now() - t0;
    }
    printf("liveness: marked gone %.1f s after its last heartbeat (actor_timeout 2 s)\n", gone_at);
    T_CHECK_MSG(gone_at > 0 && gone_at < 3.5, "gone at %.1f s", gone_at);
    // later data of a gone actor is refused and counted
    double nb = rejected("unknown_actor");
    send_segment(push, &a, seq++, 1, 0, 1, false);
    /* >=: segments sent between the learner's verdict and the /stats refresh count too */
    T_CHECK(wait_rejected("unknown_actor", nb + 1) >= nb + 1);
    zmq_close(push);
    zmq_close(a.ctl);
}

// ---- bad days: each on a learner of its own -----------------------------------------------

static int wait_exit(pid_t pid, double secs)
{
    double until = rl_now() + secs;
    int st;
    while (rl_now() < until) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        rl_sleep(0.05);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static bool file_has(const char *path, const char *text)
{
    static char all[1 << 16];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(all, 1, sizeof(all) - 1, f) : 0;
    if (f)
        fclose(f);
    all[n] = '\0';
    return strstr(all, text) != NULL;
}

static void test_deadlock_config(void)
{
    // ingest would hold before training may start: refused at start-up, exit 2, one line
    char d2[400];
    snprintf(d2, sizeof(d2), "%s/cfg", dir);
    T_EQ_INT(rl_mkdir_p(d2), 0);
    const char *extra[] = {"--min-replay=100", "--ingest-slack=10", "--warmup-steps=5000", NULL};
    pid_t p = start_learner(d2, extra);
    int st = wait_exit(p, 10);
    T_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %d", st);
    char log[500];
    snprintf(log, sizeof(log), "%s/learner.log", d2);
    T_CHECK(file_has(log, "warmup_steps (5000) exceeds min_replay + ingest_slack (110)"));
}

static void test_final_checkpoint_fails(void)
{
    // leftovers of killed writes go at start-up; a final checkpoint that cannot be written
    // fails the run
    char d2[400], ck[450], tmp1[500], tmp2[500], log[450];
    snprintf(d2, sizeof(d2), "%s/disk", dir);
    snprintf(ck, sizeof(ck), "%s/checkpoints", d2);
    snprintf(tmp1, sizeof(tmp1), "%s/ckpt-00000000000007.rldt.tmp.4242", ck);
    snprintf(tmp2, sizeof(tmp2), "%s/replay.rldt.tmp.4243", d2);
    snprintf(log, sizeof(log), "%s/learner.log", d2);
    T_EQ_INT(rl_mkdir_p(ck), 0);
    fclose(fopen(tmp1, "w"));
    fclose(fopen(tmp2, "w"));
    const char *extra[] = {"--replay-save-secs=0", NULL};
    pid_t p = start_learner(d2, extra);
    T_CHECK(p > 0 && wait_up());
    T_CHECK(access(tmp1, F_OK) != 0 && access(tmp2, F_OK) != 0);
    // the checkpoint directory becomes a file: every write into it fails (ENOTDIR)
    char cmd[1000];
    snprintf(cmd, sizeof(cmd), "rm -rf %s && touch %s", ck, ck);
    T_EQ_INT(system(cmd), 0);
    kill(p, SIGTERM);
    int st = wait_exit(p, 20);
    T_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) != 0, "status %d", st);
    T_CHECK(file_has(log, "the final checkpoint could not be written"));
}

// /stats figures of the poison test: env steps, updates, counters
struct train_figs {
    double steps, updates, nan, quarantined, qsteps;
};

static struct train_figs train_figs(void)
{
    struct train_figs f = {-1, -1, -1, -1, -1};
    json_t *d = spawn_stats(stats_port), *c = d ? json_object_get(d, "counters") : NULL;
    if (d) {
        f.steps = spawn_num(d, "env_steps");
        f.updates = spawn_num(d, "updates");
        f.nan = c ? spawn_num(c, "nan_steps") : 0;
        f.quarantined = c ? spawn_num(c, "quarantined_segments") : 0;
        f.qsteps = c ? spawn_num(c, "quarantined_steps") : 0;
    }
    json_decref(d);
    return f;
}

#define CLEAN 300 /* clean one-step segments before and after the poison */
#define POISON 30 /* segments of 1e30-scale reward and observation */
#define MORE 100  /* clean segments once the poison is gone */

// /metrics has the quarantine counter with value >= min
static bool metrics_quarantined(double min)
{
    static const char key[] = "event=\"quarantined_segments\"} ";
    char *body = NULL, err[128];
    int status = 0;
    double v = -1;
    if (statsc_get("127.0.0.1", stats_port, "/metrics", 5, &status, &body, NULL, err,
                   sizeof(err)) == 0 &&
        status == 200) {
        const char *k = strstr(body, key);
        v = k ? strtod(k + strlen(key), NULL) : -1;
    }
    free(body);
    return v >= min;
}

// a /metrics line starting with prefix is there
static bool metrics_has(const char *prefix)
{
    char *body = NULL, err[128];
    int status = 0;
    bool found = statsc_get("127.0.0.1", stats_port, "/metrics", 5, &status, &body, NULL, err,
                            sizeof(err)) == 0 &&
                 status == 200 && strstr(body, prefix) != NULL;
    free(body);
    return found;
}

// a training learner whose checkpoints and replay saves start failing (the checkpoint directory
// becomes a file, the replay file a directory): each failure is counted in /stats and /metrics
// with its last error, and training goes on
static void check_save_failures(const char *run_dir, struct peer *a, void *push, uint64_t *seq)
{
    char cmd[2000];
    snprintf(cmd, sizeof(cmd),
             "rm -rf %s/checkpoints %s/replay.rldt && touch %s/checkpoints && "
             "mkdir %s/replay.rldt",
             run_dir, run_dir, run_dir, run_dir);
    T_EQ_INT(system(cmd), 0);
    double ck = 0, rs = 0, until = rl_now() + 30;
    const char *err = NULL;
    json_t *d = NULL;
    while (rl_now() < until && (ck < 2 || rs < 1 || !err)) {
        for (int i = 0; i < 20; i++, (*seq)++) /* new updates: a checkpoint is due again */
            send_segment(push, a, *seq, 1.0f, 0.1f * (float)(i % 10), 1, false);
        struct wire_heartbeat_ack ack;
        heartbeat(a, &a->session, &ack);
        rl_sleep(0.3);
        json_decref(d);
        d = spawn_stats(stats_port);
        json_t *c = d ? json_object_get(d, "counters") : NULL;
        ck = spawn_num(c, "checkpoint_failures");
        rs = spawn_num(c, "replay_save_failures");
        err = json_string_value(json_object_get(json_object_get(d, "last_error"), "checkpoint"));
    }
    printf("failing saves: %.0f checkpoint and %.0f replay-save failures counted; last error: %s\n",
           ck, rs, err ? err : "(none)");
    T_CHECK_MSG(ck >= 2 && rs >= 1, "checkpoint_failures %.0f, replay_save_failures %.0f", ck, rs);
    T_CHECK(err && *err);
    json_decref(d);
    T_CHECK(metrics_has("rldt_events_total{event=\"checkpoint_failures\"}"));
    T_CHECK(metrics_has("rldt_last_error_info{what=\"checkpoint\""));
}

// a registration never confirmed by a heartbeat (m joined at `since`) is freed after 5 s,
// although this learner's actor_timeout is 60 s: its session is unknown then
static void check_unconfirmed_expiry(struct peer *m, double since)
{
    double wait = since + 6 - rl_now();
    if (wait > 0)
        rl_sleep(wait);
    struct wire_heartbeat_ack ack;
    T_EQ_INT(heartbeat(m, &m->session, &ack), 0);
    T_CHECK_MSG(ack.register_again, "an unconfirmed registration outlived 6 s");
    zmq_close(m->ctl);
}

static void test_nonfinite_training(void)
{
    // absurd values let in on purpose (limits raised): the steps that read them are non-finite;
    // their segments are quarantined, the schedule moves on, and training goes on after them
    char d2[400];
    snprintf(d2, sizeof(d2), "%s/nan", dir);
    T_EQ_INT(rl_mkdir_p(d2), 0);
    const char *extra[] = {"--min-replay=100",
                           "--ingest-slack=50",
                           "--updates-per-step=1",
                           "--reward-limit=1e30",
                           "--obs-limit=1e30",
                           "--sac-hidden=16",
                           "--batch-size=16",
                           "--actor-timeout=60",
                           "--checkpoint-secs=1",
                           "--replay-save-secs=1",
                           NULL};
    pid_t p = start_learner(d2, extra);
    T_CHECK(p > 0 && wait_up());
    struct peer a;
    T_CHECK(join(&a, "poison", false));
    struct peer mute;
    T_CHECK(join(&mute, "mute", false));
    double mute_at = rl_now();
    struct wire_heartbeat_ack ack;
    T_EQ_INT(heartbeat(&a, &a.session, &ack), 0);
    void *push = sock_to(ZMQ_PUSH, port[1]);
    int sent = 0, total = 2 * CLEAN + POISON;
    uint64_t seq = 1;
    for (int i = 0; i < CLEAN; i++, seq++)
        sent += send_segment(push, &a, seq, 1.0f, 0.1f * (float)(i % 10), 1, false) == 0;
    for (int i = 0; i < POISON; i++, seq++)
        sent += send_segment(push, &a, seq, 5e29f, 5e29f, 1, false) == 0;
    for (int i = 0; i < CLEAN; i++, seq++) {
        sent += send_segment(push, &a, seq, 1.0f, 0.1f * (float)(i % 10), 1, false) == 0;
        if (i % 50 == 0) /* stay registered while the learner holds ingest */
            heartbeat(&a, &a.session, &ack);
    }
    struct train_figs f = train_figs();
    double until = rl_now() + 60;
    while (rl_now() < until && (f.steps < total || f.quarantined < POISON)) {
        heartbeat(&a, &a.session, &ack);
        rl_sleep(0.2);
        f = train_figs();
    }
    // the poison is gone: more clean data is trained on, every step finite
    double u0 = f.updates, n0 = f.nan;
    for (int i = 0; i < MORE; i++, seq++)
        sent += send_segment(push, &a, seq, 1.0f, 0.1f * (float)(i % 10), 1, false) == 0;
    struct train_figs g = train_figs();
    until = rl_now() + 30;
    while (rl_now() < until && g.updates < u0 + MORE - 10) {
        heartbeat(&a, &a.session, &ack);
        rl_sleep(0.2);
        g = train_figs();
    }
    printf("poisoned replay: %d sent, %.0f ingested, %.0f non-finite steps, %.0f segments "
           "(%.0f chunk steps) quarantined; %d clean segments later: updates %.0f -> %.0f, "
           "non-finite %.0f -> %.0f\n",
           sent, f.steps, f.nan, f.quarantined, f.qsteps, MORE, u0, g.updates, n0, g.nan);
    T_EQ_INT(sent, total + MORE);
    T_EQ_INT(f.steps, total);
    T_CHECK(f.nan > 0);
    T_CHECK_MSG(f.quarantined >= POISON && f.quarantined <= POISON + f.nan,
                "%.0f segments quarantined", f.quarantined);
    T_CHECK_MSG(g.updates >= u0 + MORE - 10, "training stopped: updates %.0f -> %.0f", u0,
                g.updates);
    T_EQ_INT(g.nan, n0);
    T_CHECK(metrics_quarantined(1));
    check_save_failures(d2, &a, push, &seq);
    check_unconfirmed_expiry(&mute, mute_at);
    zmq_close(push);
    zmq_close(a.ctl);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
}

// ---- main ----------------------------------------------------------------------------------

int main(void)
{
    spawn_bin_dir(bin, sizeof(bin));
    if (!mkdtemp(dir))
        return 1;
    zctx = zmq_ctx_new();
    dec = wire_decoder_new(sizeof(buf));
    learner = start_learner(dir, NULL);
    T_CHECK(learner > 0);
    T_CHECK_MSG(wait_up(), "learner did not come up");
    T_RUN(test_stray_heartbeat);
    T_RUN(test_version_zero);
    T_RUN(test_spoofed_bye);
    T_RUN(test_forged_eval);
    T_RUN(test_value_limits);
    T_RUN(test_params_flood);
    T_RUN(test_hello_flood);
    T_RUN(test_liveness);
    if (learner > 0) {
        kill(learner, SIGKILL);
        waitpid(learner, NULL, 0);
    }
    T_RUN(test_deadlock_config);
    T_RUN(test_final_checkpoint_fails);
    T_RUN(test_nonfinite_training);
    if (t_failed) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "tail -n 20 %s/learner.log", dir);
        if (system(cmd) != 0)
            printf("no learner log\n");
    }
    wire_decoder_destroy(&dec);
    zmq_ctx_term(zctx);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return T_DONE("peers");
}
