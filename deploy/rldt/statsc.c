/*
 * statsc.c — blocking HTTP GET over plain sockets with poll() deadlines (see statsc.h).
 */
#include "deploy/rldt/statsc.h"

#include <errno.h>
#include <http_parser.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

struct response {
    int status;
    bool done;
    char *body;
    size_t len;
    size_t cap;
    bool too_big;
};

bool statsc_split(const char *s, const char *default_port, char *host, size_t hostlen, char *port,
                  size_t portlen)
{
    const char *h = s, *p = NULL;
    size_t hl;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return false;
        h = s + 1;
        hl = (size_t)(close - h);
        if (close[1] == ':')
            p = close + 2;
        else if (close[1])
            return false;
    } else {
        const char *colon = strrchr(s, ':');
        hl = colon ? (size_t)(colon - s) : strlen(s);
        p = colon ? colon + 1 : NULL;
    }
    if (hl == 0 || hl >= hostlen)
        return false;
    memcpy(host, h, hl);
    host[hl] = 0;
    if (!p)
        p = default_port;
    char *end;
    long v = strtol(p, &end, 10);
    if (!*p || *end || v < 1 || v > 65535)
        return false;
    snprintf(port, portlen, "%ld", v);
    return true;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct response *r = p->data;
    if (r->len + len > STATSC_MAX_BODY) {
        r->too_big = true;
        return -1;
    }
    if (r->len + len + 1 > r->cap) {
        size_t cap = RL_MAX(r->cap * 2, r->len + len + 1);
        char *b = realloc(r->body, cap);
        if (!b)
            return -1;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, at, len);
    r->len += len;
    r->body[r->len] = '\0';
    return 0;
}

static int on_complete(http_parser *p)
{
    struct response *r = p->data;
    r->status = (int)p->status_code;
    r->done = true;
    return 0;
}

// wait for events on fd until the deadline; 0, -ETIMEDOUT or -errno
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - rl_now();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

// a non-blocking socket connected to host:port before the deadline, or -errno
static int dial(const char *host, const char *port, double deadline, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int r = getaddrinfo(host, port, &hints, &res);
    if (r != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(r));
        return -EHOSTUNREACH;
    }
    int fd = -1;
    int e = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            e = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            e = errno;
            socklen_t len = sizeof(e);
            if (e == EINPROGRESS && (e = -wait_fd(fd, POLLOUT, deadline)) == 0)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
            if (e != 0) {
                close(fd);
                fd = -1;
            }
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port, strerror(e));
    return fd < 0 ? -e : fd;
}

static int send_all(int fd, const char *buf, size_t len, double deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        if (n < 0) {
            int r = wait_fd(fd, POLLOUT, deadline);
            if (r < 0)
                return r;
            continue;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

// read and parse the response until it is complete or the peer closes
static int read_response(int fd, struct response *resp, double deadline, char *err, size_t errlen)
{
    static const http_parser_settings settings = {.on_body = on_body,
                                                  .on_message_complete = on_complete};
    http_parser p;
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = resp;
    char buf[16384];
    while (!resp->done) {
        int r = wait_fd(fd, POLLIN, deadline);
        if (r < 0) {
            snprintf(err, errlen, "no complete answer: %s", strerror(-r));
            return r;
        }
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            snprintf(err, errlen, "read: %s", strerror(errno));
            return -errno;
        }
        // n == 0 tells the parser about EOF (ends a body without Content-Length)
        size_t used = http_parser_execute(&p, &settings, buf, (size_t)n);
        if (HTTP_PARSER_ERRNO(&p) != HPE_OK || used != (size_t)n) {
            snprintf(err, errlen, "bad HTTP answer: %s",
                     resp->too_big ? "body too large"
                                   : http_errno_description(HTTP_PARSER_ERRNO(&p)));
            return -EPROTO;
        }
        if (n == 0 && !resp->done) {
            snprintf(err, errlen, "connection closed before a complete answer");
            return -EPROTO;
        }
    }
    return 0;
}

int statsc_get(const char *host, const char *port, const char *path, double timeout, int *status,
               char **body, size_t *len, char *err, size_t errlen)
{
    double deadline = rl_now() + timeout;
    struct response resp;
    memset(&resp, 0, sizeof(resp));
    int fd = dial(host, port, deadline, err, errlen);
    if (fd < 0)
        return fd;
    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
    int r = send_all(fd, req, (size_t)n, deadline);
    if (r < 0)
        snprintf(err, errlen, "send: %s", strerror(-r));
    else
        r = read_response(fd, &resp, deadline, err, errlen);
    close(fd);
    if (r < 0) {
        free(resp.body);
        return r;
    }
    *status = resp.status;
    *body = resp.body ? resp.body : strdup("");
    if (len)
        *len = resp.len;
    return *body ? 0 : -ENOMEM;
}

json_t *statsc_fetch(const char *host, const char *port, double timeout, char *err, size_t errlen)
{
    int status;
    char *body = NULL;
    size_t len;
    if (statsc_get(host, port, "/stats", timeout, &status, &body, &len, err, errlen) < 0)
        return NULL;
    json_t *doc = NULL;
    if (status != 200) {
        /* the server's reason: the first line of its body, printable bytes only */
        size_t n = 0;
        while (n < len && n < 160 && body[n] != '\n' && body[n] != '\r')
            n++;
        char why[161];
        for (size_t i = 0; i < n; i++)
            why[i] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : '?';
        why[n] = 0;
        snprintf(err, errlen, n ? "HTTP %d: %s" : "HTTP %d", status, why);
    } else {
        json_error_t jerr;
        doc = json_loadb(body, len, 0, &jerr);
        if (!doc)
            snprintf(err, errlen, "bad JSON: %s (line %d)", jerr.text, jerr.line);
        else if (!json_is_object(doc)) {
            snprintf(err, errlen, "bad JSON: not an object");
            json_decref(doc);
            doc = NULL;
        }
    }
    free(body);
    return doc;
}
