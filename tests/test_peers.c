/*
 * test_peers.c — hostile peers against a real learner process on 127.0.0.1 (SAC on Hopper,
 * training never starts: min_replay is out of reach). Raw sockets speak the wire protocol:
 * a stray heartbeat learns no epoch, a spoofed Bye and forged evaluations are refused, absurd
 * values never reach the replay, a params-request flood keeps the learner's memory bounded,
 * a Hello flood does not lock out a newcomer, and liveness follows heartbeats, not data.
 * The bad days (each on a learner of its own) are in test_peers_faults.c.
 */
#include "tests/peerstest.h"

static pid_t learner; /* the learner the attacks share */

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

// ---- main ----------------------------------------------------------------------------------

int main(void)
{
    if (!peers_setup())
        return 1;
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
    if (peers_finish("learner.log") < 0)
        return 1;
    return T_DONE("peers");
}
