/*
 * test_statsd.c — learner/statsd over real TCP on 127.0.0.1 (port 0): the three endpoints, 404,
 * 405, HEAD, 503 before the first publish, garbage and oversized requests (400/414/431 and a
 * closed connection, the next client still served), silent and slow clients, keep-alive and
 * pipelining, Connection: close and HTTP/1.0, idle time-out and the connection cap. Publishing
 * under load, `rldt top` and a request rate: test_statsd_load.c.
 */
#include "tests/statsdtest.h"

// ---- tests -------------------------------------------------------------------------------

static void test_bind_errors(void)
{
    char err[256] = "";
    T_CHECK(statsd_new("not-an-ip", 0, err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "bad address"), "%s", err);
    err[0] = '\0';
    T_CHECK(statsd_new("127.0.0.1", 70000, err, sizeof(err)) == NULL);
    T_CHECK(err[0] != '\0');
    struct statsd *sd = start();
    if (!sd)
        return;
    err[0] = '\0';
    T_CHECK(statsd_new("127.0.0.1", statsd_port(sd), err, sizeof(err)) == NULL);
    T_CHECK_MSG(strstr(err, "in use"), "%s", err);
    statsd_destroy(&sd);
    T_CHECK(sd == NULL);
    statsd_destroy(&sd);
    statsd_destroy(NULL);
}

static void test_endpoints(void)
{
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);

    struct client *c = get(port, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", false);
    T_EQ_INT(c->status, 503);
    client_free(&c);
    c = get(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    T_EQ_STR(c->body, "ok\n");
    client_free(&c);

    struct stats *st = stats_new("rldt", "pendulum", 4);
    stats_set(st, "critic_loss", 0.5);
    stats_set_actors(st, &(struct stats_actor){3, "a", rl_now(), 1, 0, 0}, 1);
    struct stats_snap *sn = stats_render(st, rl_now());
    statsd_publish(sd, sn);
    T_EQ_INT(stats_snap_refs(sn), 2);

    c = get(port, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    T_EQ_STR(c->ctype, "application/json");
    T_EQ_STR(c->body, stats_snap_json(sn, NULL));
    json_t *doc = c->body ? json_loads(c->body, 0, NULL) : NULL;
    T_CHECK(doc && json_integer_value(json_object_get(doc, "run_epoch")) == 4);
    json_decref(doc);
    client_free(&c);

    c = get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    T_EQ_STR(c->ctype, "text/plain; version=0.0.4");
    T_EQ_STR(c->body, stats_snap_prom(sn, NULL));
    client_free(&c);

    c = get(port, "GET /stats?pretty=1 HTTP/1.1\r\nHost: x\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    client_free(&c);
    c = get(port, "GET http://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n", false); // absolute form
    T_EQ_INT(c->status, 200);
    client_free(&c);
    c = get(port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", false);
    T_EQ_INT(c->status, 404);
    client_free(&c);
    c = get(port, "GET /statsx HTTP/1.1\r\nHost: x\r\n\r\n", false);
    T_EQ_INT(c->status, 404);
    client_free(&c);
    c = get(port, "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", false);
    T_EQ_INT(c->status, 405);
    T_EQ_STR(c->allow, "GET, HEAD");
    client_free(&c);
    c = get(port, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", false);
    T_EQ_INT(c->status, 405);
    client_free(&c);
    c = get(port, "HEAD /stats HTTP/1.1\r\nHost: x\r\n\r\n", true);
    T_EQ_INT(c->status, 200);
    T_EQ_INT(c->len, 0);
    T_EQ_STR(c->ctype, "application/json");
    T_CHECK(client_send(c, "GET /healthz HTTP/1.1\r\n\r\n")); // same connection goes on
    T_CHECK(client_read(c, false) && c->status == 200);
    client_free(&c);
    // HEAD of a missing path: 404 without a body, so a keep-alive client stays in step
    c = get(port, "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n", true);
    T_EQ_INT(c->status, 404);
    T_CHECK(client_send(c, "GET /healthz HTTP/1.1\r\n\r\n"));
    T_CHECK(client_read(c, false) && c->status == 200);
    T_EQ_STR(c->body, "ok\n");
    client_free(&c);

    statsd_destroy(&sd);
    T_EQ_INT(stats_snap_refs(sn), 1); // the server dropped its reference
    stats_snap_unref(&sn);
    stats_destroy(&st);
}

static void test_bad_requests(void)
{
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    struct stats_snap *sn = make_snap(1, 10);
    statsd_publish(sd, sn);

    struct client *c = get(port, "\x01\x02\xff garbage\r\n\r\n", false);
    T_EQ_INT(c->status, 400);
    T_EQ_STR(c->conn, "close");
    T_CHECK(closed_within(c->fd, 3));
    client_free(&c);
    c = get(port, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", false); // next client still served
    T_EQ_INT(c->status, 200);
    T_EQ_INT(seq_of(c->body), 1);
    client_free(&c);

    // garbage after a good request on the same connection: the good one is answered first
    c = get(port, "GET /healthz HTTP/1.1\r\n\r\nBLAH BLAH\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    T_CHECK(client_read(c, false));
    T_EQ_INT(c->status, 400);
    client_free(&c);

    // a header section over the limit: 431, closed
    size_t big = 2 * STATSD_MAX_HEADER;
    char *req = malloc(65536);
    RL_ASSERT(req);
    int n = snprintf(req, 128, "GET /stats HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', big);
    strcpy(req + n + big, "\r\n\r\n");
    c = get(port, req, false);
    T_EQ_INT(c->status, 431);
    T_CHECK(closed_within(c->fd, 3));
    client_free(&c);

    // many small headers add up too
    char *p = req + sprintf(req, "GET /stats HTTP/1.1\r\n");
    for (int i = 0; i < 1000; i++)
        p += sprintf(p, "X-%d: 0123456789\r\n", i);
    strcpy(p, "\r\n");
    c = get(port, req, false);
    T_EQ_INT(c->status, 431);
    client_free(&c);

    // a long request target: 414
    n = sprintf(req, "GET /");
    memset(req + n, 'a', 3000);
    strcpy(req + n + 3000, " HTTP/1.1\r\n\r\n");
    c = get(port, req, false);
    T_EQ_INT(c->status, 414);
    client_free(&c);
    free(req);

    // a body over the limit
    c = client_new(port);
    T_CHECK(client_send(c, "POST /stats HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"));
    char zeros[20000] = {0};
    send_all(c->fd, zeros, sizeof(zeros));
    T_CHECK(client_read(c, false));
    T_EQ_INT(c->status, 413);
    client_free(&c);

    // upgrade requests are answered, then closed
    c = get(port, "GET /healthz HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    T_CHECK(closed_within(c->fd, 3));
    client_free(&c);

    // a half request then EOF, then a byte-at-a-time request: no crash, still serving
    c = client_new(port);
    T_CHECK(client_send(c, "GET /sta"));
    shutdown(c->fd, SHUT_WR);
    T_CHECK(closed_within(c->fd, 3));
    client_free(&c);
    c = client_new(port);
    const char *slow = "GET /healthz HTTP/1.1\r\n\r\n";
    for (const char *q = slow; *q; q++)
        send_all(c->fd, q, 1);
    T_CHECK(client_read(c, false) && c->status == 200);
    client_free(&c);

    c = get(port, "GET /healthz HTTP/1.1\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    client_free(&c);
    statsd_destroy(&sd);
    stats_snap_unref(&sn);
}

static void test_keepalive(void)
{
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    struct stats_snap *a = make_snap(1, 10);
    struct stats_snap *b = make_snap(2, 10);
    statsd_publish(sd, a);

    struct client *c = get(port, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    T_EQ_STR(c->conn, "keep-alive");
    T_EQ_INT(seq_of(c->body), 1);
    statsd_publish(sd, b); // visible on the next request
    // the server drops its references to a once the response write completes (its loop thread
    // may still be finishing it after the client has read every byte)
    for (int i = 0; i < 200 && stats_snap_refs(a) != 1; i++)
        rl_sleep(0.01);
    T_EQ_INT(stats_snap_refs(a), 1);
    T_CHECK(client_send(c, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n"));
    T_CHECK(client_read(c, false));
    T_EQ_INT(c->status, 200);
    T_EQ_INT(seq_of(c->body), 2);

    // pipelined: three requests in one write, three answers in order
    T_CHECK(client_send(c, "GET /healthz HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n"
                           "GET /metrics HTTP/1.1\r\n\r\n"));
    T_CHECK(client_read(c, false) && c->status == 200);
    T_CHECK(client_read(c, false) && c->status == 404);
    T_CHECK(client_read(c, false) && c->status == 200);
    T_CHECK(c->body && strstr(c->body, "rldt_seq 2\n"));

    // Connection: close is honoured
    T_CHECK(client_send(c, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"));
    T_CHECK(client_read(c, false) && c->status == 200);
    T_EQ_STR(c->conn, "close");
    T_CHECK(closed_within(c->fd, 3));
    client_free(&c);

    // HTTP/1.0 closes by default, keeps alive when asked
    c = get(port, "GET /healthz HTTP/1.0\r\n\r\n", false);
    T_EQ_STR(c->conn, "close");
    T_CHECK(closed_within(c->fd, 3));
    client_free(&c);
    c = get(port, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false);
    T_EQ_STR(c->conn, "keep-alive");
    T_CHECK(!closed_within(c->fd, 0.3));
    client_free(&c);

    statsd_destroy(&sd);
    stats_snap_unref(&a);
    stats_snap_unref(&b);
}

static void test_silent_and_idle(void)
{
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    // one silent client, one with half a request: others are served at once
    struct client *silent = client_new(port);
    struct client *half = client_new(port);
    T_CHECK(client_send(half, "GET /stats HTTP/1.1\r\nHost:"));
    double t = rl_now();
    struct client *c = get(port, "GET /healthz HTTP/1.1\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    T_CHECK(rl_now() - t < 1.0);
    client_free(&c);
    T_CHECK(!closed_within(silent->fd, 0.2)); // still open: the default time-out is long

    // a short idle time-out closes connections that do not complete a request in time
    statsd_set_idle_timeout(sd, 0.3);
    struct client *idle = client_new(port);
    T_CHECK(closed_within(idle->fd, 2.0));
    struct client *ka = get(port, "GET /healthz HTTP/1.1\r\n\r\n", false);
    T_EQ_INT(ka->status, 200);
    T_CHECK(closed_within(ka->fd, 2.0)); // idle after its response
    client_free(&ka);
    client_free(&idle);
    client_free(&silent);
    client_free(&half);
    statsd_destroy(&sd);
}

static void test_slow_reader(void)
{
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    struct stats_snap *sn = make_snap(7, 1 << 20); // 1 MB
    statsd_publish(sd, sn);
    statsd_set_idle_timeout(sd, 1.0);
    // pipeline many requests and never read: the server must stall only this connection
    struct client *slow = client_new(port);
    int rcv = 4096;
    setsockopt(slow->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    struct timeval tv = {.tv_usec = 200000};
    setsockopt(slow->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    for (int i = 0; i < 50; i++)
        send_all(slow->fd, "GET /stats HTTP/1.1\r\n\r\n", 23);
    double t = rl_now();
    struct client *c = get(port, "GET /stats HTTP/1.1\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    T_EQ_INT(c->len, strlen(stats_snap_json(sn, NULL)));
    printf("1 MB /stats beside a stalled reader: %.1f ms\n", (rl_now() - t) * 1e3);
    client_free(&c);
    // still not reading: the stalled connection is dropped by the 1 s time-out (draining it
    // right away would keep it busy, and on a loaded machine not stalled, for 50 MB)
    rl_sleep(2.5);
    size_t got = 0;
    T_CHECK(closed_within_n(slow->fd, 10.0, &got)); // what was in flight, then the end
    T_CHECK_MSG(got < 25u << 20, "%zu bytes of 50 responses of 1 MB: not dropped when stalled",
                got);
    client_free(&slow);
    statsd_destroy(&sd);
    T_EQ_INT(stats_snap_refs(sn), 1);
    stats_snap_unref(&sn);
}

static void test_conn_cap(void)
{
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    enum { N = STATSD_MAX_CONNS + 8 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = tcp_connect(port);
        T_CHECK(fds[i] >= 0);
        usleep(2000); // keep the accept order
    }
    // the oldest ones were evicted, a new client is served
    struct client *c = get(port, "GET /healthz HTTP/1.1\r\n\r\n", false);
    T_EQ_INT(c->status, 200);
    client_free(&c);
    usleep(100000);
    int closed = 0;
    for (int i = 0; i < N; i++) {
        char b;
        ssize_t r = recv(fds[i], &b, 1, MSG_DONTWAIT);
        closed += r == 0 || (r < 0 && errno == ECONNRESET);
    }
    T_CHECK_MSG(closed >= N - STATSD_MAX_CONNS + 1, "%d closed", closed);
    T_CHECK(closed_within(fds[0], 0.5));
    T_CHECK(!closed_within(fds[N - 1], 0.05));
    for (int i = 0; i < N; i++)
        close(fds[i]);
    statsd_destroy(&sd);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    T_RUN(test_bind_errors);
    T_RUN(test_endpoints);
    T_RUN(test_bad_requests);
    T_RUN(test_keepalive);
    T_RUN(test_silent_and_idle);
    T_RUN(test_slow_reader);
    T_RUN(test_conn_cap);
    return T_DONE("statsd");
}
