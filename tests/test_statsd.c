/*
 * test_statsd.c — learner/statsd over real TCP on 127.0.0.1 (port 0): the three endpoints, 404,
 * 405, HEAD, 503 before the first publish, garbage and oversized requests (400/414/431 and a
 * closed connection, the next client still served), silent and slow clients, keep-alive and
 * pipelining, Connection: close and HTTP/1.0, idle time-out, the connection cap, publishing
 * under load, destroy with clients connected, and a sequential-request rate (information).
 */
#include <errno.h>
#include <http_parser.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "learner/statsd.h"
#include "tests/harness.h"
#include "tests/spawn.h"

// ---- a small HTTP client on http_parser --------------------------------------------------

struct client {
    int fd;
    http_parser p;
    bool head; // the request being answered was a HEAD
    bool done; // a whole response was parsed
    int status;
    char field[64];
    char ctype[64];
    char conn[32];
    char allow[32];
    char *body;
    size_t len;
    size_t cap;
    size_t off; // unparsed bytes in buf[off, n)
    size_t n;
    char buf[65536];
};

static int c_field(http_parser *p, const char *at, size_t len)
{
    struct client *c = p->data;
    snprintf(c->field, sizeof(c->field), "%.*s", (int)len, at);
    return 0;
}

static int c_value(http_parser *p, const char *at, size_t len)
{
    struct client *c = p->data;
    if (!strcasecmp(c->field, "Content-Type"))
        snprintf(c->ctype, sizeof(c->ctype), "%.*s", (int)len, at);
    else if (!strcasecmp(c->field, "Connection"))
        snprintf(c->conn, sizeof(c->conn), "%.*s", (int)len, at);
    else if (!strcasecmp(c->field, "Allow"))
        snprintf(c->allow, sizeof(c->allow), "%.*s", (int)len, at);
    return 0;
}

static int c_headers_done(http_parser *p)
{
    struct client *c = p->data;
    return c->head ? 1 : 0; // a HEAD answer has no body whatever Content-Length says
}

static int c_body(http_parser *p, const char *at, size_t len)
{
    struct client *c = p->data;
    if (c->len + len + 1 > c->cap) {
        c->cap = (c->len + len + 1) * 2;
        c->body = realloc(c->body, c->cap);
        RL_ASSERT(c->body);
    }
    memcpy(c->body + c->len, at, len);
    c->len += len;
    c->body[c->len] = '\0';
    return 0;
}

static int c_complete(http_parser *p)
{
    struct client *c = p->data;
    c->status = (int)p->status_code;
    c->done = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings c_settings = {
    .on_header_field = c_field,
    .on_header_value = c_value,
    .on_headers_complete = c_headers_done,
    .on_body = c_body,
    .on_message_complete = c_complete,
};

// a connection whose reads and writes give up after 5 s (a stuck server fails the test)
static int tcp_connect(int port)
{
    int fd = spawn_dial(port);
    struct timeval tv = {.tv_sec = 5};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

static struct client *client_new(int port)
{
    struct client *c = calloc(1, sizeof(*c));
    RL_ASSERT(c);
    c->fd = tcp_connect(port);
    http_parser_init(&c->p, HTTP_RESPONSE);
    c->p.data = c;
    return c;
}

static void client_free(struct client **pc)
{
    if (!*pc)
        return;
    if ((*pc)->fd >= 0)
        close((*pc)->fd);
    free((*pc)->body);
    free(*pc);
    *pc = NULL;
}

static bool send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static bool client_send(struct client *c, const char *req)
{
    return send_all(c->fd, req, strlen(req));
}

// read one response (head: answer to a HEAD); false on EOF/time-out/parse error before it ends
static bool client_read(struct client *c, bool head)
{
    c->done = false;
    c->head = head;
    c->status = 0;
    c->len = 0;
    c->ctype[0] = c->conn[0] = c->allow[0] = '\0';
    if (c->body)
        c->body[0] = '\0';
    for (;;) {
        if (c->off < c->n) {
            size_t used = http_parser_execute(&c->p, &c_settings, c->buf + c->off, c->n - c->off);
            c->off += used;
            enum http_errno e = HTTP_PARSER_ERRNO(&c->p);
            if (e == HPE_PAUSED)
                http_parser_pause(&c->p, 0);
            else if (e != HPE_OK)
                return false;
            if (c->done)
                return true;
        }
        ssize_t r = recv(c->fd, c->buf, sizeof(c->buf), 0);
        if (r <= 0) {
            http_parser_execute(&c->p, &c_settings, NULL, 0); // EOF may end a body
            return c->done;
        }
        c->off = 0;
        c->n = (size_t)r;
    }
}

// true when the server closes the connection (EOF or reset) within secs
// read (and discard) until the peer closes: true within secs; the bytes read in *got
static bool closed_within_n(int fd, double secs, size_t *got)
{
    double end = rl_now() + t_slow(secs);
    static char buf[1 << 16];
    size_t n = 0;
    bool closed = false;
    while (!closed && rl_now() < end) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        n += r > 0 ? (size_t)r : 0;
        closed = r == 0 || (r < 0 && errno == ECONNRESET);
    }
    if (got)
        *got = n;
    return closed;
}

static bool closed_within(int fd, double secs)
{
    return closed_within_n(fd, secs, NULL);
}

// one request on a fresh connection
static struct client *get(int port, const char *req, bool head)
{
    struct client *c = client_new(port);
    T_CHECK(c->fd >= 0);
    T_CHECK(client_send(c, req));
    T_CHECK_MSG(client_read(c, head), "no response to %.40s", req);
    return c;
}

// ---- fixtures ----------------------------------------------------------------------------

static struct statsd *start(void)
{
    char err[256] = "";
    struct statsd *sd = statsd_new("127.0.0.1", 0, err, sizeof(err));
    T_CHECK_MSG(sd != NULL, "%s", err);
    if (sd)
        T_CHECK(statsd_port(sd) > 0);
    return sd;
}

static struct stats_snap *make_snap(int seq, size_t pad)
{
    char *json = malloc(pad + 64);
    RL_ASSERT(json);
    int n = snprintf(json, 64, "{\"seq\":%d,\"pad\":\"", seq);
    memset(json + n, 'x', pad);
    memcpy(json + n + pad, "\"}", 3);
    char prom[128];
    int pn = snprintf(prom, sizeof(prom), "# HELP rldt_seq s\n# TYPE rldt_seq gauge\nrldt_seq %d\n",
                      seq);
    struct stats_snap *sn = stats_snap_new(json, strlen(json), prom, (size_t)pn);
    free(json);
    RL_ASSERT(sn);
    return sn;
}

static int seq_of(const char *body)
{
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    int seq = json_is_integer(json_object_get(doc, "seq"))
                  ? (int)json_integer_value(json_object_get(doc, "seq"))
                  : -1;
    json_decref(doc);
    return seq;
}

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
    T_RUN(test_bind_errors);
    T_RUN(test_endpoints);
    T_RUN(test_bad_requests);
    T_RUN(test_keepalive);
    T_RUN(test_silent_and_idle);
    T_RUN(test_slow_reader);
    T_RUN(test_conn_cap);
    T_RUN(test_publish_under_load);
    T_RUN(test_destroy_with_clients);
    T_RUN(test_top_cli);
    T_RUN(test_load);
    return T_DONE("statsd");
}
