/*
 * statsdtest.h — what the stats-socket tests (test_statsd, test_statsd_load) share: a small
 * HTTP client on http_parser (keep-alive, HEAD, pipelining, close detection), a server on
 * 127.0.0.1 port 0, and snapshots whose JSON carries a sequence number.
 * Header-only like harness.h (static inline). Not thread-safe.
 */
#ifndef RL_TEST_STATSDTEST_H
#define RL_TEST_STATSDTEST_H

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

static inline int c_field(http_parser *p, const char *at, size_t len)
{
    struct client *c = p->data;
    snprintf(c->field, sizeof(c->field), "%.*s", (int)len, at);
    return 0;
}

static inline int c_value(http_parser *p, const char *at, size_t len)
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

static inline int c_headers_done(http_parser *p)
{
    struct client *c = p->data;
    return c->head ? 1 : 0; // a HEAD answer has no body whatever Content-Length says
}

static inline int c_body(http_parser *p, const char *at, size_t len)
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

static inline int c_complete(http_parser *p)
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
static inline int tcp_connect(int port)
{
    int fd = spawn_dial(port);
    struct timeval tv = {.tv_sec = 5};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

static inline struct client *client_new(int port)
{
    struct client *c = calloc(1, sizeof(*c));
    RL_ASSERT(c);
    c->fd = tcp_connect(port);
    http_parser_init(&c->p, HTTP_RESPONSE);
    c->p.data = c;
    return c;
}

static inline void client_free(struct client **pc)
{
    if (!*pc)
        return;
    if ((*pc)->fd >= 0)
        close((*pc)->fd);
    free((*pc)->body);
    free(*pc);
    *pc = NULL;
}

static inline bool send_all(int fd, const char *s, size_t n)
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

static inline bool client_send(struct client *c, const char *req)
{
    return send_all(c->fd, req, strlen(req));
}

// read one response (head: answer to a HEAD); false on EOF/time-out/parse error before it ends
static inline bool client_read(struct client *c, bool head)
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
static inline bool closed_within_n(int fd, double secs, size_t *got)
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

static inline bool closed_within(int fd, double secs)
{
    return closed_within_n(fd, secs, NULL);
}

// one request on a fresh connection
static inline struct client *get(int port, const char *req, bool head)
{
    struct client *c = client_new(port);
    T_CHECK(c->fd >= 0);
    T_CHECK(client_send(c, req));
    T_CHECK_MSG(client_read(c, head), "no response to %.40s", req);
    return c;
}

// ---- fixtures ----------------------------------------------------------------------------

static inline struct statsd *start(void)
{
    char err[256] = "";
    struct statsd *sd = statsd_new("127.0.0.1", 0, err, sizeof(err));
    T_CHECK_MSG(sd != NULL, "%s", err);
    if (sd)
        T_CHECK(statsd_port(sd) > 0);
    return sd;
}

static inline struct stats_snap *make_snap(int seq, size_t pad)
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

static inline int seq_of(const char *body)
{
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    int seq = json_is_integer(json_object_get(doc, "seq"))
                  ? (int)json_integer_value(json_object_get(doc, "seq"))
                  : -1;
    json_decref(doc);
    return seq;
}

#endif
