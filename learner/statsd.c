/*
 * statsd.c — HTTP server for the stats snapshot: libuv loop in its own thread, http_parser for
 * requests, one response in flight per connection (the parser is paused after each request and
 * reading stops until the response is written), lingering close after errors so the client
 * reads the error response before the FIN. See statsd.h for the contract.
 */
#include "learner/statsd.h"

#include <errno.h>
#include <http_parser.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/log.h"
#include "common/util.h"

#define LINGER_MS 2000   /* how long to drain a client after an error response */
#define LINGER_MAX 65536 /* bytes drained at most before closing anyway */
#define URL_MAX 1024     /* longer request targets get 414 */

enum conn_state { CONN_READING, CONN_WRITING, CONN_LINGER, CONN_CLOSING };

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    http_parser parser;
    struct statsd *sd;
    struct conn *prev; // LRU list: head is the least recently active
    struct conn *next;
    int handles; // handles not yet closed
    enum conn_state state;
    bool keep_alive;  // of the request being answered
    bool head_req;    // the request being answered is a HEAD
    int reject;       // status to answer when the parser stops on a limit, 0: 400
    size_t hdr_bytes; // request line + header names and values of the current request
    size_t body_bytes;
    size_t url_len;
    bool url_long;
    size_t drained;
    struct stats_snap *snap; // held while its body is being written
    size_t in_off;
    size_t in_len;
    char url[URL_MAX];
    char head[512];
    char ebody[64];
    char in[4096];
};

struct statsd {
    uv_loop_t loop;
    uv_tcp_t server;
    uv_async_t stop;
    pthread_t thread;
    int port;
    int nconns;
    struct conn *head;
    struct conn *tail;
    atomic_uint_fast64_t idle_ms;
    pthread_mutex_t mu; // guards cur only
    struct stats_snap *cur;
};

static int on_message_begin(http_parser *p);
static int on_url(http_parser *p, const char *at, size_t len);
static int on_header_bytes(http_parser *p, const char *at, size_t len);
static int on_body(http_parser *p, const char *at, size_t len);
static int on_message_complete(http_parser *p);

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_bytes,
    .on_header_value = on_header_bytes,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void conn_close(struct conn *c);
static void conn_process(struct conn *c);

static void on_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

// ---- connection list ---------------------------------------------------------------------

static void list_unlink(struct statsd *sd, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        sd->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        sd->tail = c->prev;
    c->prev = c->next = NULL;
}

static void list_append(struct statsd *sd, struct conn *c)
{
    c->prev = sd->tail;
    c->next = NULL;
    if (sd->tail)
        sd->tail->next = c;
    else
        sd->head = c;
    sd->tail = c;
}

// mark c active: most recently used, idle timer re-armed
static void conn_touch(struct conn *c)
{
    list_unlink(c->sd, c);
    list_append(c->sd, c);
    uint64_t ms = atomic_load(&c->sd->idle_ms);
    if (uv_timer_start(&c->timer, on_timeout, ms, 0) != 0)
        conn_close(c);
}

// ---- closing -----------------------------------------------------------------------------

static void on_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles > 0)
        return;
    stats_snap_unref(&c->snap);
    free(c);
}

static void conn_close(struct conn *c)
{
    if (c->state == CONN_CLOSING)
        return;
    c->state = CONN_CLOSING;
    list_unlink(c->sd, c);
    c->sd->nconns--;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

// ---- reading -----------------------------------------------------------------------------

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct conn *c = h->data;
    *buf = uv_buf_init(c->in, sizeof(c->in));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct conn *c = s->data;
    if (nread == 0 || c->state == CONN_CLOSING)
        return;
    if (nread < 0) { // EOF or error: nothing more can be answered
        conn_close(c);
        return;
    }
    if (c->state == CONN_LINGER) {
        c->drained += (size_t)nread;
        if (c->drained > LINGER_MAX)
            conn_close(c);
        return;
    }
    c->in_off = 0;
    c->in_len = (size_t)nread;
    conn_process(c);
}

static int read_start(struct conn *c)
{
    int r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (r < 0)
        conn_close(c);
    return r;
}

// ---- writing -----------------------------------------------------------------------------

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    if (c->state == CONN_CLOSING)
        return;
    if (status < 0)
        conn_close(c);
}

// the last response is out: send FIN, then drain the client briefly so it reads the response
static void conn_linger(struct conn *c)
{
    c->state = CONN_LINGER;
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) < 0 ||
        uv_timer_start(&c->timer, on_timeout, LINGER_MS, 0) < 0) {
        conn_close(c);
        return;
    }
    read_start(c);
}

static void on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    stats_snap_unref(&c->snap);
    if (c->state == CONN_CLOSING)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (!c->keep_alive) {
        conn_linger(c);
        return;
    }
    conn_touch(c);
    c->state = CONN_READING;
    conn_process(c); // pipelined bytes already read
    if (c->state == CONN_READING)
        read_start(c);
}

/*
 * Answer the current request: status line, headers, body (borrowed from snap when given, whose
 * reference c then holds until the write completes). Stops reading until the write completes.
 */
static void conn_respond(struct conn *c, int status, const char *reason, const char *ctype,
                         const char *body, size_t blen, struct stats_snap *snap)
{
    const char *extra = status == 405 ? "Allow: GET, HEAD\r\n" : "";
    int n = snprintf(c->head, sizeof(c->head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n%sConnection: %s\r\n\r\n",
                     status, reason, ctype, blen, extra, c->keep_alive ? "keep-alive" : "close");
    RL_ASSERT(n > 0 && (size_t)n < sizeof(c->head));
    bool head_only = c->head_req; /* a HEAD answer never has a body, whatever its status */
    uv_buf_t bufs[2] = {uv_buf_init(c->head, (unsigned)n), uv_buf_init((char *)body, blen)};
    c->snap = snap;
    c->state = CONN_WRITING;
    c->wreq.data = c;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, head_only || !blen ? 1 : 2, on_write) <
        0) {
        stats_snap_unref(&c->snap);
        conn_close(c);
    }
}

static void conn_error(struct conn *c, int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {{400, "Bad Request"},
                   {413, "Content Too Large"},
                   {414, "URI Too Long"},
                   {431, "Request Header Fields Too Large"}};
    const char *reason = "Bad Request";
    for (size_t i = 0; i < RL_ARRAY_LEN(reasons); i++)
        if (reasons[i].status == status)
            reason = reasons[i].reason;
    c->keep_alive = false;
    c->head_req = false;
    int n = snprintf(c->ebody, sizeof(c->ebody), "%d %s\n", status, reason);
    conn_respond(c, status, reason, "text/plain", c->ebody, (size_t)n, NULL);
}

// ---- requests ----------------------------------------------------------------------------

static struct stats_snap *current_snap(struct statsd *sd)
{
    pthread_mutex_lock(&sd->mu);
    struct stats_snap *sn = sd->cur ? stats_snap_ref(sd->cur) : NULL;
    pthread_mutex_unlock(&sd->mu);
    return sn;
}

static void serve_snap(struct conn *c, bool json)
{
    static const char none[] = "no stats published yet\n";
    struct stats_snap *sn = current_snap(c->sd);
    if (!sn) {
        conn_respond(c, 503, "Service Unavailable", "text/plain", none, sizeof(none) - 1, NULL);
        return;
    }
    size_t len = 0;
    const char *body = json ? stats_snap_json(sn, &len) : stats_snap_prom(sn, &len);
    conn_respond(c, 200, "OK", json ? "application/json" : "text/plain; version=0.0.4", body, len,
                 sn);
}

static bool path_is(const char *path, size_t len, const char *want)
{
    return len == strlen(want) && !memcmp(path, want, len);
}

static void conn_dispatch(struct conn *c)
{
    static const char ok[] = "ok\n";
    static const char notfound[] = "not found\n";
    static const char badmethod[] = "method not allowed\n";
    if (c->url_long) {
        conn_error(c, 414);
        return;
    }
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(c->url, c->url_len, c->parser.method == HTTP_CONNECT, &u) != 0 ||
        !(u.field_set & (1 << UF_PATH))) {
        conn_error(c, 400);
        return;
    }
    const char *path = c->url + u.field_data[UF_PATH].off;
    size_t plen = u.field_data[UF_PATH].len;
    bool known = path_is(path, plen, "/stats") || path_is(path, plen, "/metrics") ||
                 path_is(path, plen, "/healthz");
    if (!known)
        conn_respond(c, 404, "Not Found", "text/plain", notfound, sizeof(notfound) - 1, NULL);
    else if (c->parser.method != HTTP_GET && c->parser.method != HTTP_HEAD)
        conn_respond(c, 405, "Method Not Allowed", "text/plain", badmethod, sizeof(badmethod) - 1,
                     NULL);
    else if (path_is(path, plen, "/healthz"))
        conn_respond(c, 200, "OK", "text/plain", ok, sizeof(ok) - 1, NULL);
    else
        serve_snap(c, path_is(path, plen, "/stats"));
}

static int on_message_begin(http_parser *p)
{
    struct conn *c = p->data;
    c->hdr_bytes = 0;
    c->body_bytes = 0;
    c->url_len = 0;
    c->url_long = false;
    c->reject = 0;
    return 0;
}

static int count_header(struct conn *c, size_t len)
{
    c->hdr_bytes += len;
    if (c->hdr_bytes > STATSD_MAX_HEADER) {
        c->reject = 431;
        return -1;
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (c->url_len + len > sizeof(c->url))
        c->url_long = true;
    else
        memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    return count_header(c, len);
}

static int on_header_bytes(http_parser *p, const char *at, size_t len)
{
    (void)at;
    return count_header(p->data, len);
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    (void)at;
    struct conn *c = p->data;
    c->body_bytes += len;
    if (c->body_bytes > STATSD_MAX_HEADER) {
        c->reject = 413;
        return -1;
    }
    return 0;
}

// a whole request: answer it and pause the parser until the answer is written
static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    c->keep_alive = http_should_keep_alive(p) && !p->upgrade;
    c->head_req = p->method == HTTP_HEAD;
    conn_touch(c);
    conn_dispatch(c);
    http_parser_pause(p, 1);
    return 0;
}

// feed buffered bytes to the parser while no response is in flight
static void conn_process(struct conn *c)
{
    while (c->state == CONN_READING && c->in_off < c->in_len) {
        size_t n = http_parser_execute(&c->parser, &parser_settings, c->in + c->in_off,
                                       c->in_len - c->in_off);
        c->in_off += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            continue;
        }
        if (c->state == CONN_CLOSING)
            return;
        if (e != HPE_OK || c->parser.upgrade || n == 0) {
            conn_error(c, c->reject ? c->reject : 400);
            return;
        }
    }
}

// ---- accepting ---------------------------------------------------------------------------

static void on_connection(uv_stream_t *server, int status)
{
    struct statsd *sd = server->data;
    if (status < 0) {
        log_warn("stats: accept: %s", uv_strerror(status));
        return;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (!c || uv_tcp_init(&sd->loop, &c->tcp) != 0) {
        // without a handle the connection cannot be accepted; libuv stops accepting meanwhile
        log_warn("stats: out of memory for a connection");
        free(c);
        return;
    }
    c->sd = sd;
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 1;
    c->state = CONN_READING;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_timer_init(&sd->loop, &c->timer) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
        return;
    }
    c->handles = 2;
    if (sd->nconns >= STATSD_MAX_CONNS)
        conn_close(sd->head); // evict the least recently active
    sd->nconns++;
    list_append(sd, c);
    uv_tcp_nodelay(&c->tcp, 1);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    conn_touch(c);
    if (c->state != CONN_CLOSING)
        read_start(c);
}

// ---- server thread -----------------------------------------------------------------------

static void on_stop(uv_async_t *a)
{
    struct statsd *sd = a->data;
    while (sd->head)
        conn_close(sd->head);
    uv_close((uv_handle_t *)&sd->server, NULL);
    uv_close((uv_handle_t *)&sd->stop, NULL);
}

static void *server_main(void *arg)
{
    struct statsd *sd = arg;
    uv_run(&sd->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

// close whatever is still open and free the loop (server thread not running)
static void loop_teardown(uv_loop_t *loop)
{
    uv_walk(loop, close_any, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    int r = uv_loop_close(loop);
    RL_ASSERT(r == 0);
}

static int server_bind(struct statsd *sd, const char *addr, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int r = strchr(addr, ':') ? uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss)
                              : uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss);
    if (r != 0) {
        snprintf(err, errlen, "stats: bad address '%s' (want an IPv4 or IPv6 literal)", addr);
        return r;
    }
    sd->server.data = sd;
    if ((r = uv_tcp_bind(&sd->server, (struct sockaddr *)&ss, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&sd->server, 128, on_connection)) != 0) {
        snprintf(err, errlen, "stats: cannot listen on %s:%d: %s", addr, port, uv_strerror(r));
        return r;
    }
    int len = sizeof(ss);
    if ((r = uv_tcp_getsockname(&sd->server, (struct sockaddr *)&ss, &len)) != 0) {
        snprintf(err, errlen, "stats: getsockname: %s", uv_strerror(r));
        return r;
    }
    sd->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

// start the server thread with every signal blocked in it
static int thread_start(struct statsd *sd)
{
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&sd->thread, NULL, server_main, sd);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -r;
}

struct statsd *statsd_new(const char *addr, int port, char *err, size_t errlen)
{
    if (!addr || port < 0 || port > 65535) {
        snprintf(err, errlen, "stats: bad address or port %d", port);
        return NULL;
    }
    struct statsd *sd = calloc(1, sizeof(*sd));
    if (!sd || uv_loop_init(&sd->loop) != 0) {
        snprintf(err, errlen, "stats: out of memory");
        free(sd);
        return NULL;
    }
    atomic_init(&sd->idle_ms, (uint64_t)(STATSD_IDLE_S * 1000));
    sd->stop.data = sd;
    if (uv_tcp_init(&sd->loop, &sd->server) != 0 || server_bind(sd, addr, port, err, errlen) != 0)
        goto err_teardown;
    if (uv_async_init(&sd->loop, &sd->stop, on_stop) != 0) {
        snprintf(err, errlen, "stats: uv_async_init failed");
        goto err_teardown;
    }
    if (pthread_mutex_init(&sd->mu, NULL) != 0) {
        snprintf(err, errlen, "stats: pthread_mutex_init failed");
        goto err_teardown;
    }
    int r = thread_start(sd);
    if (r < 0) {
        snprintf(err, errlen, "stats: cannot start thread: %s", strerror(-r));
        goto err_destroy_mutex;
    }
    log_info("stats: serving http://%s:%d/stats and /metrics", addr, sd->port);
    return sd;

err_destroy_mutex:
    pthread_mutex_destroy(&sd->mu);
err_teardown:
    loop_teardown(&sd->loop);
    free(sd);
    return NULL;
}

int statsd_port(const struct statsd *sd)
{
    return sd->port;
}

void statsd_publish(struct statsd *sd, struct stats_snap *snap)
{
    RL_ASSERT(snap);
    stats_snap_ref(snap);
    pthread_mutex_lock(&sd->mu);
    struct stats_snap *old = sd->cur;
    sd->cur = snap;
    pthread_mutex_unlock(&sd->mu);
    stats_snap_unref(&old);
}

void statsd_set_idle_timeout(struct statsd *sd, double secs)
{
    RL_ASSERT(secs > 0);
    atomic_store(&sd->idle_ms, (uint64_t)(secs * 1000 + 0.5));
}

void statsd_destroy(struct statsd **psd)
{
    if (!psd || !*psd)
        return;
    struct statsd *sd = *psd;
    uv_async_send(&sd->stop);
    pthread_join(sd->thread, NULL);
    loop_teardown(&sd->loop);
    stats_snap_unref(&sd->cur);
    pthread_mutex_destroy(&sd->mu);
    free(sd);
    *psd = NULL;
}
