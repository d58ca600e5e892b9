/*
 * test_statsd_load.c — learner/statsd under load on 127.0.0.1 (port 0): publishing while
 * clients read (every answer a whole snapshot, sequence numbers never going back), destroy with
 * clients connected, `rldt top` against it, and a sequential-request rate (information).
 */
#include "tests/statsdtest.h"

// ---- publishing under load -----------------------------------------------------------------

struct pub_arg {
    struct statsd *sd;
    atomic_bool stop;
    atomic_int last;
};

static void *publisher(void *p)
{
    struct pub_arg *a = p;
    for (int seq = 1; !atomic_load(&a->stop); seq++) {
        struct stats_snap *sn = make_snap(seq, 2000);
        statsd_publish(a->sd, sn);
        stats_snap_unref(&sn);
        atomic_store(&a->last, seq);
        usleep(200);
    }
    return NULL;
}

static void test_publish_under_load(void)
{
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    struct stats_snap *first = make_snap(0, 2000);
    statsd_publish(sd, first);
    stats_snap_unref(&first);
    struct pub_arg a = {.sd = sd};
    pthread_t th;
    pthread_create(&th, NULL, publisher, &a);
    struct client *c = client_new(port);
    int prev = -1;
    bool whole = true;
    bool ordered = true;
    // at least 300 requests, and on until a published snapshot was seen (a loaded machine may
    // not run the publisher at once)
    double until = rl_now() + 20;
    for (int i = 0; i < 300 || (prev <= 0 && rl_now() < until); i++) {
        T_CHECK(client_send(c, "GET /stats HTTP/1.1\r\n\r\n") && client_read(c, false));
        int seq = seq_of(c->body);
        whole &= seq >= 0 && c->len == strlen(c->body) && c->len > 2000;
        ordered &= seq >= prev;
        prev = seq;
    }
    atomic_store(&a.stop, true);
    pthread_join(th, NULL);
    T_CHECK(whole);
    T_CHECK(ordered);
    T_CHECK_MSG(prev > 0, "saw seq %d of %d", prev, atomic_load(&a.last));
    client_free(&c);
    statsd_destroy(&sd);
}

static void test_destroy_with_clients(void)
{
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    struct stats_snap *sn = make_snap(3, 1 << 20);
    statsd_publish(sd, sn);
    struct client *idle = client_new(port);
    struct client *half = client_new(port);
    T_CHECK(client_send(half, "GET /stats HTTP/1.1\r\n"));
    struct client *ka = get(port, "GET /healthz HTTP/1.1\r\n\r\n", false);
    struct client *busy = client_new(port); // a 1 MB answer it does not read
    T_CHECK(client_send(busy, "GET /stats HTTP/1.1\r\n\r\n"));
    usleep(100000);
    double t = rl_now();
    statsd_destroy(&sd);
    double dt = rl_now() - t;
    T_CHECK_MSG(dt < 1.0, "destroy took %.3f s", dt);
    T_CHECK(sd == NULL);
    T_CHECK(closed_within(idle->fd, 1));
    T_CHECK(closed_within(half->fd, 1));
    T_CHECK(closed_within(ka->fd, 1));
    T_CHECK(closed_within(busy->fd, 2));
    T_EQ_INT(stats_snap_refs(sn), 1);
    client_free(&idle);
    client_free(&half);
    client_free(&ka);
    client_free(&busy);
    stats_snap_unref(&sn);
    T_CHECK(tcp_connect(port) < 0); // nothing listens any more
}

// run `rldt top ARGS`; its exit code, combined output in out
static int run_top(const char *rldt, const char *args, char *out, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' top %s 2>&1", rldt, args);
    FILE *f = popen(cmd, "r");
    RL_ASSERT(f);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_top_cli(void)
{
    // the user tool against a real server; skipped when it was not built
    const char *root = getenv("RLDT_ROOT");
    const char *build = getenv("BUILD");
    char rldt[512];
    snprintf(rldt, sizeof(rldt), "%s/%s/rldt", root ? root : ".", build ? build : "build");
    if (access(rldt, X_OK) != 0) {
        printf("test_top_cli: %s not built, skipped\n", rldt);
        return;
    }
    struct statsd *sd = start();
    if (!sd)
        return;
    char args[128];
    static char out[65536];
    snprintf(args, sizeof(args), "--once --stats=127.0.0.1:%d", statsd_port(sd));
    T_EQ_INT(run_top(rldt, args, out, sizeof(out)), 1); // nothing published: 503
    T_CHECK_MSG(strstr(out, "HTTP 503: no stats published yet\n"), "%s", out);

    struct stats *st = stats_new("rldt", "pendulum", 2);
    stats_set_actors(st, &(struct stats_actor){7, "box-7\x1b[2J", rl_now(), 3, 1234, 1}, 1);
    stats_set_totals(st, &(struct stats_totals){.env_steps = 1234, .segments = 1});
    stats_set(st, "critic_loss", 0.125);
    stats_set_rejected(st, "stale_policy", 5);
    struct stats_snap *sn = stats_render(st, rl_now());
    statsd_publish(sd, sn);
    T_EQ_INT(run_top(rldt, args, out, sizeof(out)), 0);
    T_CHECK_MSG(strstr(out, "rldt/pendulum") && strstr(out, "steps 1.23k") &&
                    strstr(out, "box-7?[2J") && strstr(out, "critic_loss 0.125") &&
                    strstr(out, "stale_policy 5") && strstr(out, "rejected 5"),
                "%s", out);
    T_CHECK(!strchr(out, '\x1b')); // no escapes: none of its own in --once, none from the wire
    snprintf(args, sizeof(args), "--once --stats=127.0.0.1:%d", statsd_port(sd) == 1 ? 2 : 1);
    T_EQ_INT(run_top(rldt, args, out, sizeof(out)), 1);
    T_CHECK_MSG(strstr(out, "cannot connect"), "%s", out);
    T_EQ_INT(run_top(rldt, "--bogus", out, sizeof(out)), 2);
    T_EQ_INT(run_top(rldt, "--once --interval=abc", out, sizeof(out)), 2);
    T_EQ_INT(run_top(rldt, "--once --stats=h:99999", out, sizeof(out)), 2);
    T_EQ_INT(run_top(rldt, "--help", out, sizeof(out)), 0);
    T_CHECK(strstr(out, "usage: rldt top"));
    statsd_destroy(&sd);
    stats_snap_unref(&sn);
    stats_destroy(&st);
}

static void test_load(void)
{
    // information only: sequential requests per second from one client
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    struct stats *st = stats_new("rldt", "pendulum", 1);
    struct stats_actor rows[8];
    for (uint32_t i = 0; i < 8; i++)
        rows[i] = (struct stats_actor){i, "host/actor", rl_now(), 1, 0, 0};
    stats_set_actors(st, rows, 8);
    struct stats_snap *sn = stats_render(st, rl_now());
    statsd_publish(sd, sn);
    size_t jlen;
    stats_snap_json(sn, &jlen);

    enum { KA = 5000, FRESH = 1000 };
    struct client *c = client_new(port);
    int ok = 0;
    double t = rl_now();
    for (int i = 0; i < KA; i++)
        ok += client_send(c, "GET /stats HTTP/1.1\r\n\r\n") && client_read(c, false) &&
              c->status == 200;
    double ka = rl_now() - t;
    client_free(&c);
    T_EQ_INT(ok, KA);

    ok = 0;
    t = rl_now();
    for (int i = 0; i < FRESH; i++) {
        c = client_new(port);
        ok += client_send(c, "GET /stats HTTP/1.0\r\n\r\n") && client_read(c, false) &&
              c->status == 200;
        client_free(&c);
    }
    double fresh = rl_now() - t;
    T_EQ_INT(ok, FRESH);
    printf("load: %d keep-alive GET /stats (%zu B): %.0f req/s; %d new-connection GETs: %.0f "
           "req/s\n",
           KA, jlen, KA / ka, FRESH, FRESH / fresh);
    statsd_destroy(&sd);
    stats_snap_unref(&sn);
    stats_destroy(&st);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    T_RUN(test_publish_under_load);
    T_RUN(test_destroy_with_clients);
    T_RUN(test_top_cli);
    T_RUN(test_load);
    return T_DONE("statsd_load");
}
