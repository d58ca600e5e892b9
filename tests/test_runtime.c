/*
 * test_runtime.c — the distributed runtime end to end on 127.0.0.1: a learner and actors as
 * real processes (SAC with tiny networks on Hopper). Bad messages are counted and change
 * nothing; segments flow; policy versions advance; /stats and /metrics answer; a killed
 * actor does not disturb the learner and a new one joins; a learner restarted with --resume
 * continues and the running actors reconnect; the run ends cleanly with no process left.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "common/rng.h"
#include "deploy/rldt/statsc.h"
#include "common/util.h"
#include "proto/wire.h"
#include "tests/harness.h"
#include "tests/spawn.h"

static char bin[512], dir[] = "/tmp/rldt-rt-XXXXXX";
static int base;
static char stats_port[16];

static pid_t start(const char *prog, const char *log, const char *extra1, const char *extra2)
{
    char path[600], ports[4][64], rd[300], logp[400], *argv[SPAWN_MAX_ARGS];
    snprintf(path, sizeof(path), "%s/%s", bin, prog);
    snprintf(rd, sizeof(rd), "--run-dir=%s", dir);
    snprintf(logp, sizeof(logp), "%s/%s", dir, log);
    const char *more[] = {"--actor-timeout=2", "--ingest-slack=300", extra1, extra2};
    spawn_tiny_sac(argv, path, ports, base, rd, more, 4);
    return spawn_logged(path, argv, logp);
}

static double rejected(json_t *doc, const char *reason)
{
    return json_number_value(json_object_get(json_object_get(doc, "rejected"), reason));
}

// poll /stats until key >= value (or the deadline); the last value seen
static double wait_stat(const char *key, double value, double secs)
{
    return spawn_wait_stat(stats_port, key, value, secs);
}

static int alive_actors(void)
{
    json_t *d = spawn_stats(stats_port);
    int n = d ? (int)spawn_num(json_object_get(d, "scalars"), "actors_alive") : -1;
    json_decref(d);
    return n;
}

static pid_t learner, actor[3];

// the lowest policy version any registered actor acts with (-1 if none)
static double min_actor_version(void)
{
    json_t *d = spawn_stats(stats_port);
    json_t *acts = d ? json_object_get(d, "actors") : NULL;
    double v = json_array_size(acts) ? 1e300 : -1;
    for (size_t i = 0; i < json_array_size(acts); i++) {
        double x = spawn_num(json_array_get(acts, i), "policy_version");
        v = x < v ? x : v;
    }
    json_decref(d);
    return v;
}

// ---- bad input on the data and control sockets -------------------------------------------

static void send_raw(void *sock, const void *buf, size_t len, bool router_peer)
{
    (void)router_peer;
    zmq_send(sock, buf, len, 0);
}

static void test_bad_messages(void)
{
    void *ctx = zmq_ctx_new();
    void *data = zmq_socket(ctx, ZMQ_PUSH), *ctl = zmq_socket(ctx, ZMQ_DEALER);
    char ep[64];
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", base + 1);
    T_EQ_INT(zmq_connect(data, ep), 0);
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", base);
    T_EQ_INT(zmq_connect(ctl, ep), 0);
    // a valid-looking segment to truncate and re-version
    struct spawn_seg st;
    struct wire_msg m = spawn_tiny_segment(&st);
    static uint8_t buf[1 << 16];
    size_t len;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    struct rng r;
    rng_init(&r, 3, 0);
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rng_u64(&r);
    int sent = 0;
    for (int k = 0; k < 2; k++) {
        void *s = k ? ctl : data;
        send_raw(s, junk, sizeof(junk), k); /* random bytes */
        send_raw(s, buf, len / 2, k);       /* truncated */
        sent += 2;
    }
    send_raw(data, "", 0, false); /* empty */
    sent++;
    m.version = 99; /* wrong protocol version */
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    send_raw(data, buf, len, false);
    send_raw(ctl, buf, len, true);
    sent += 2;
    // a well-formed segment from an unknown epoch/actor: counted, never stored
    m.version = 0;
    T_EQ_INT(wire_pack(&m, buf, sizeof(buf), &len), 0);
    send_raw(data, buf, len, false);
    sent++;
    double total = wait_stat("rejected_total", sent, 10);
    T_EQ_INT((int)total, sent);
    // oversized: ZeroMQ (ZMQ_MAXMSGSIZE) closes the connection before buffering it, uncounted
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof(linger));
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", base + 1);
    T_EQ_INT(zmq_connect(push, ep), 0);
    uint8_t *big = calloc(9u << 20, 1);
    send_raw(push, big, 9u << 20, false);
    free(big);
    rl_sleep(0.5);
    zmq_close(push);
    json_t *d = spawn_stats(stats_port);
    T_CHECK(d != NULL);
    if (d) {
        T_CHECK_MSG(rejected(d, "decode_error") >= 4, "decode_error %g",
                    rejected(d, "decode_error"));
        T_EQ_INT((int)rejected(d, "bad_size"), 1);
        T_EQ_INT((int)rejected(d, "bad_version"), 2);
        T_EQ_INT((int)rejected(d, "stale_epoch"), 1);
        // nothing else changed
        T_EQ_INT((int)spawn_num(d, "env_steps"), 0);
        T_EQ_INT((int)spawn_num(json_object_get(d, "replay"), "size"), 0);
        T_EQ_INT((int)spawn_num(d, "episodes"), 0);
        json_decref(d);
    }
    zmq_close(data);
    zmq_close(ctl);
    zmq_ctx_term(ctx);
}

// ---- the run -----------------------------------------------------------------------------

static void test_segments_flow(void)
{
    actor[0] = start("rldt-actor", "a0.log", "--actor-name=a0", NULL);
    actor[1] = start("rldt-actor", "a1.log", "--actor-name=a1", NULL);
    T_CHECK(actor[0] > 0 && actor[1] > 0);
    T_CHECK_MSG(wait_stat("env_steps", 1500, 40) >= 1500, "env steps did not flow");
    T_CHECK_MSG(wait_stat("policy_version", 3, 40) >= 3, "no params published");
    // both actors have delivered (on a loaded machine one may start well after the other)
    json_t *d = NULL;
    for (double until = rl_now() + t_slow(40); rl_now() < until; rl_sleep(0.2)) {
        json_decref(d);
        d = spawn_stats(stats_port);
        json_t *acts = d ? json_object_get(d, "actors") : NULL;
        size_t n = json_array_size(acts), fed = 0;
        for (size_t i = 0; i < n; i++)
            fed += spawn_num(json_array_get(acts, i), "env_steps") > 0;
        if (n == 2 && fed == 2)
            break;
    }
    T_CHECK(d != NULL);
    if (!d)
        return;
    // documented fields
    const char *keys[] = {"env_steps",      "env_steps_per_s", "updates",
                          "updates_per_s",  "episodes",        "recent_return",
                          "policy_version", "run_epoch",       "uptime_s"};
    for (size_t i = 0; i < RL_ARRAY_LEN(keys); i++)
        T_CHECK_MSG(json_object_get(d, keys[i]) != NULL, "missing %s", keys[i]);
    T_CHECK(spawn_num(json_object_get(d, "replay"), "size") > 0);
    T_CHECK(spawn_num(d, "updates") > 0);
    json_t *scal = json_object_get(d, "scalars");
    T_CHECK(json_object_get(scal, "critic_loss") && json_object_get(scal, "alpha"));
    // hopper never succeeds: the success counter is there and 0
    T_CHECK(json_object_get(scal, "episodes_succeeded") &&
            spawn_num(scal, "episodes_succeeded") == 0);
    json_t *acts = json_object_get(d, "actors");
    T_EQ_INT(json_array_size(acts), 2);
    for (size_t i = 0; i < json_array_size(acts); i++) {
        json_t *a = json_array_get(acts, i);
        T_CHECK(spawn_num(a, "env_steps") > 0);
        T_CHECK(json_object_get(a, "heartbeat_age_s") && json_object_get(a, "policy_lag"));
    }
    json_decref(d);
    // the actors' own policy versions advance (they receive the broadcasts)
    double v0 = min_actor_version();
    double until = rl_now() + t_slow(40);
    while (min_actor_version() < v0 + 3 && rl_now() < until)
        rl_sleep(0.2);
    T_CHECK_MSG(min_actor_version() >= v0 + 3, "actor versions stuck at %g", v0);
    // Prometheus text
    int status;
    char *body = NULL, err[256];
    T_EQ_INT(
        statsc_get("127.0.0.1", stats_port, "/metrics", 2, &status, &body, NULL, err, sizeof(err)),
        0);
    T_EQ_INT(status, 200);
    T_CHECK(body && strstr(body, "# TYPE rldt_env_steps_total counter"));
    T_CHECK(body && strstr(body, "actor=\""));
    T_CHECK(body && strstr(body, "rldt_scalar_episodes_succeeded_total 0"));
    free(body);
}

static void test_actor_killed(void)
{
    double before = wait_stat("env_steps", 0, 1);
    kill(actor[0], SIGKILL);
    T_CHECK(spawn_wait(actor[0], 5) >= 0);
    actor[2] = start("rldt-actor", "a2.log", "--actor-name=a2", NULL);
    T_CHECK(wait_stat("env_steps", before + 1000, 40) >= before + 1000);
    // the killed actor expires (actor_timeout 2 s); the two live ones remain
    double until = rl_now() + t_slow(15);
    while (alive_actors() != 2 && rl_now() < until)
        rl_sleep(0.2);
    T_EQ_INT(alive_actors(), 2);
    T_CHECK(waitpid(learner, NULL, WNOHANG) == 0); /* learner undisturbed */
}

// a counter ("(env_steps=" or " updates=") of the last checkpoint a learner log reports
static double last_checkpoint(const char *log, const char *key)
{
    char path[400], line[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, log);
    FILE *f = fopen(path, "r");
    double v = -1;
    while (f && fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "checkpoint ");
        const char *q = p ? strstr(p, key) : NULL;
        if (q)
            v = strtod(q + strlen(key), NULL);
    }
    if (f)
        fclose(f);
    return v;
}

static void test_resume_and_finish(void)
{
    json_t *d = spawn_stats(stats_port);
    T_CHECK(d != NULL);
    double updates = d ? spawn_num(d, "updates") : 0, steps = d ? spawn_num(d, "env_steps") : 0;
    json_decref(d);
    kill(learner, SIGTERM);
    int st = spawn_wait(learner, 20);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "learner exit %d", st);
    // the actors keep running, waiting for a learner to come back
    rl_sleep(0.5);
    T_CHECK(waitpid(actor[1], NULL, WNOHANG) == 0 && waitpid(actor[2], NULL, WNOHANG) == 0);
    // resume with a step budget a little beyond the final checkpoint (its env steps are in the
    // learner's log; /stats lags by up to half a second): the run then ends by itself
    double ck = last_checkpoint("learner.log", "(env_steps=");
    double ck_updates = last_checkpoint("learner.log", " updates=");
    T_CHECK_MSG(ck >= steps, "final checkpoint at %g env steps, stats said %g", ck, steps);
    steps = ck;
    char max[64];
    snprintf(max, sizeof(max), "--max-env-steps=%.0f", steps + 3000);
    learner = start("rldt-learner", "learner2.log", "--resume", max);
    T_CHECK(learner > 0);
    double until = rl_now() + t_slow(20);
    d = NULL;
    while (!d && rl_now() < until) {
        d = spawn_stats(stats_port);
        if (!d)
            rl_sleep(0.1);
    }
    T_CHECK(d != NULL);
    if (d) {
        T_CHECK_MSG(spawn_num(d, "updates") >= updates, "updates %g < %g", spawn_num(d, "updates"),
                    updates);
        T_CHECK_MSG(spawn_num(d, "env_steps") >= steps, "env_steps %g < %g",
                    spawn_num(d, "env_steps"), steps);
        json_decref(d);
    }
    // the running actors register again by themselves and the run completes
    // (a fast run may end before both are seen: then the learner is reaped here, with its status)
    until = rl_now() + t_slow(20);
    pid_t done = 0;
    while (alive_actors() < 2 && rl_now() < until && (done = waitpid(learner, &st, WNOHANG)) == 0)
        rl_sleep(0.2);
    T_CHECK(alive_actors() == 2 || done == learner);
    if (done != learner)
        st = spawn_wait(learner, 60);
    T_CHECK_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "resumed learner exit %d", st);
    // training went on at the configured ratio (0.5 per chunk step) after the replay refilled
    double end_updates = last_checkpoint("learner2.log", " updates=");
    T_CHECK_MSG(end_updates >= ck_updates + 200, "updates %g after resume, %g before", end_updates,
                ck_updates);
    // metrics.csv's wall-clock goes on across the resume (never back to 0)
    char mpath[400], line[4096];
    snprintf(mpath, sizeof(mpath), "%s/metrics.csv", dir);
    FILE *mf = fopen(mpath, "r");
    T_CHECK(mf != NULL);
    double prev = -1;
    int rows = 0, back = 0;
    while (mf && fgets(line, sizeof(line), mf)) {
        if (!strncmp(line, "wall_s", 6))
            continue;
        double w = strtod(line, NULL);
        back += w < prev;
        prev = w;
        rows++;
    }
    if (mf)
        fclose(mf);
    T_CHECK_MSG(rows >= 2 && back == 0, "metrics.csv: %d rows, wall_s went back %d times", rows,
                back);
    // told the run is over, the actors exit cleanly on their own
    for (int i = 1; i < 3; i++) {
        int sa = spawn_wait(actor[i], 15);
        T_CHECK_MSG(sa >= 0 && WIFEXITED(sa) && WEXITSTATUS(sa) == 0, "actor %d exit %d", i, sa);
        if (sa >= 0 || sa == -2)
            actor[i] = 0;
    }
}

static void cleanup(void)
{
    pid_t all[] = {learner, actor[0], actor[1], actor[2]};
    spawn_kill_all(all, RL_ARRAY_LEN(all));
}

static void dump_logs(void)
{
    const char *logs[] = {"learner.log", "learner2.log", "a0.log", "a1.log", "a2.log"};
    for (size_t i = 0; i < RL_ARRAY_LEN(logs); i++) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "echo '--- %s'; tail -n 15 %s/%s", logs[i], dir, logs[i]);
        if (system(cmd) != 0)
            continue;
    }
}

int main(void)
{
    spawn_bin_dir(bin, sizeof(bin));
    if (!mkdtemp(dir))
        return 1;
    base = spawn_free_ports(4);
    snprintf(stats_port, sizeof(stats_port), "%d", base + 3);
    learner = start("rldt-learner", "learner.log", NULL, NULL);
    T_CHECK(learner > 0);
    T_CHECK_MSG(wait_stat("uptime_s", 0, 15) >= 0, "learner did not come up");
    T_RUN(test_bad_messages);
    T_RUN(test_segments_flow);
    T_RUN(test_actor_killed);
    T_RUN(test_resume_and_finish);
    cleanup();
    if (t_failed)
        dump_logs();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return T_DONE("runtime");
}
