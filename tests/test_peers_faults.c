/*
 * test_peers_faults.c — bad days of a real learner process on 127.0.0.1, each on a learner of
 * its own: a deadlocking config is refused, a final checkpoint that cannot be written fails the
 * run, non-finite training steps quarantine their poison, failing checkpoint and replay saves
 * are counted in /stats and /metrics with their last error, an unconfirmed registration
 * expires long before actor_timeout, and a segment in flight when the run ends is dropped
 * without a rejection. The hostile peers are in test_peers.c.
 */
#include "tests/peerstest.h"

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

static void test_segment_after_finish(void)
{
    // the run reaches its budget; a collector says goodbye, and a segment it had in flight
    // arrives after its Bye (data and control are separate connections): not part of the run,
    // and no rejection (it was one in `rldt run` logs: unknown_actor)
    char d2[400], log[450];
    snprintf(d2, sizeof(d2), "%s/finish", dir);
    T_EQ_INT(rl_mkdir_p(d2), 0);
    snprintf(log, sizeof(log), "%s/learner.log", d2);
    const char *extra[] = {"--max-env-steps=2", NULL};
    pid_t p = start_learner(d2, extra);
    T_CHECK(p > 0 && wait_up());
    struct peer a, b;
    T_CHECK(join(&a, "leaving", false));
    T_CHECK(join(&b, "staying", false)); /* keeps the finishing learner waiting for goodbyes */
    void *push = sock_to(ZMQ_PUSH, port[1]);
    send_segment(push, &a, 0, 1.0f, 0.1f, 1, false);
    send_segment(push, &a, 1, 1.0f, 0.1f, 1, false);
    struct wire_heartbeat_ack ack = {0};
    double until = rl_now() + t_slow(10);
    while (rl_now() < until && heartbeat(&a, &a.session, &ack) == 0 && !ack.stop)
        rl_sleep(0.05);
    T_CHECK_MSG(ack.stop, "the learner did not end the run at its budget");
    struct wire_msg m = {.type = WIRE_BYE};
    m.bye = (struct wire_bye){a.id, a.epoch, "run over", a.session};
    send_msg(a.ctl, &m);
    rl_sleep(0.2);
    send_segment(push, &a, 2, 1.0f, 0.1f, 1, false);
    int st = wait_exit(p, t_slow(15));
    T_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    T_CHECK(file_has(log, "left: run over"));
    T_CHECK_MSG(!file_has(log, "unknown_actor"), "a late segment was counted as a rejection");
    zmq_close(push);
    zmq_close(a.ctl);
    zmq_close(b.ctl);
}

int main(void)
{
    if (!peers_setup())
        return 1;
    T_RUN(test_deadlock_config);
    T_RUN(test_final_checkpoint_fails);
    T_RUN(test_nonfinite_training);
    T_RUN(test_segment_after_finish);
    if (peers_finish("*/learner.log") < 0)
        return 1;
    return T_DONE("peers_faults");
}
