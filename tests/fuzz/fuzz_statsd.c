/*
 * fuzz_statsd.c — libFuzzer target: the stats socket's request path (learner/statsd.c: HTTP
 * parsing callbacks, limits, dispatch, keep-alive and pipelining), driven through its only
 * input, a TCP connection.
 *
 * One server (port 0 on 127.0.0.1, a published snapshot) for the whole process; each input is
 * sent on a new connection, the write side is shut and every byte of the answer is read until
 * the server closes. Each answer must start with an HTTP/1.1 status line, and the server must
 * keep answering /healthz (checked every HEALTH_EVERY inputs) (a wedged or crashed server is a
 * finding).
 *
 * An input whose first byte is TRICKLE is a slow trickle: its second byte sets a piece size
 * (1-16 bytes) and the rest is sent one piece per write (TCP_NODELAY), so the server sees a
 * request cut at arbitrary points across many reads. At most TRICKLE_WRITES writes per input
 * (pieces grow for longer inputs), which keeps a trickled input's round trips few on a loaded
 * machine.
 *
 * libFuzzer's -timeout arms SIGALRM every timeout/2 + 1 s, and this thread takes it, so its
 * connect() and poll() are sometimes interrupted (EINTR): both are resumed, against one
 * deadline per exchange. Taking that EINTR for a silent server was what the "stall" findings of
 * earlier runs were (the poll had waited a few milliseconds, not WAIT_MS); trickled inputs spend
 * the most time in poll, so they were the ones hit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "learner/statsd.h"
#include "tests/fuzz/fuzz.h"

#define ANSWER_MAX 4096
#define WAIT_MS 50000   /* liveness bound per exchange (generous: a niced, loaded run) */
#define HEALTH_EVERY 16 /* inputs between checks that the server still answers */
#define TRICKLE 0x01    /* first byte of a trickled input */
#define TRICKLE_WRITES 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct statsd *sd;
static char answer[ANSWER_MAX];

static void setup(void)
{
    static const char json[] = "{\"env_steps\":1}";
    static const char prom[] = "rldt_env_steps 1\n";
    char err[256];
    fuzz_write_scratch(NULL, 0); // quiets the log
    sd = statsd_new("127.0.0.1", 0, err, sizeof(err));
    if (!sd)
        fuzz_fail(err);
    struct stats_snap *sn = stats_snap_new(json, sizeof(json) - 1, prom, sizeof(prom) - 1);
    if (!sn)
        fuzz_fail("stats_snap_new failed");
    statsd_publish(sd, sn);
    stats_snap_unref(&sn);
}

// poll one descriptor until end (rl_now() seconds), resumed after signals: 1, 0 (time-out)
// or -1 with errno
static int poll_until(struct pollfd *p, double end)
{
    for (;;) {
        double left = end - rl_now();
        if (left <= 0)
            return 0;
        int r = poll(p, 1, (int)(left * 1e3) + 1);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

// the outcome of a connect() interrupted by a signal: 0, or -1 with errno
static int connected(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int r = poll_until(&p, rl_now() + WAIT_MS / 1e3);
    if (r != 1) {
        errno = r == 0 ? ETIMEDOUT : errno;
        return -1;
    }
    int e = 0;
    socklen_t len = sizeof(e);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        return -1;
    errno = e;
    return e ? -1 : 0;
}

// a new connection; closed with SO_LINGER 0 (a reset, no TIME_WAIT: one connection per input
// would otherwise use up the ephemeral ports), retried while ports are still short
static int dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)statsd_port(sd))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    for (int tries = 0; tries < 200; tries++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
        int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
        if (r != 0 && errno == EINTR) // the connection goes on: wait for its outcome
            r = connected(fd);
        if (r == 0)
            return fd;
        int e = errno;
        close(fd);
        if (e != EADDRNOTAVAIL && e != EAGAIN)
            break;
        usleep(10000);
    }
    fuzz_fail("cannot connect to the stats server");
    return -1;
}

// send req (at most piece bytes per write) while reading (pipelined answers must not deadlock
// us), shut the write side once sent, read until the server closes; answer[] keeps the first
// bytes, the total is returned
static size_t exchange(const void *req, size_t len, size_t piece)
{
    int fd = dial();
    size_t off = 0, got = 0;
    bool wr = len > 0;
    double end = rl_now() + WAIT_MS / 1e3;
    if (!wr)
        shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (wr ? POLLOUT : 0))};
        if (poll_until(&p, end) != 1)
            fuzz_fail("the stats server neither answered nor closed in time");
        if (wr && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            size_t n = RL_MIN(len - off, piece);
            ssize_t k = send(fd, (const char *)req + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k > 0)
                off += (size_t)k;
            if (k <= 0 || off == len) { // done, or the server closed early (an error answer)
                wr = false;
                shutdown(fd, SHUT_WR);
            }
        }
        if (!(p.revents & (POLLIN | POLLERR | POLLHUP)))
            continue;
        char tmp[4096];
        ssize_t k = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (k < 0 && errno == EAGAIN)
            continue;
        if (k <= 0)
            break;
        if (got < sizeof(answer) - 1)
            memcpy(answer + got, tmp, RL_MIN((size_t)k, sizeof(answer) - 1 - got));
        got += (size_t)k;
    }
    close(fd);
    answer[RL_MIN(got, sizeof(answer) - 1)] = 0;
    return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char health[] = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
    static unsigned n;
    if (!sd)
        setup();
    size_t piece = size;
    if (size >= 2 && data[0] == TRICKLE) {
        piece = (size_t)(data[1] % 16) + 1;
        data += 2;
        size -= 2;
        piece = RL_MAX(piece, (size + TRICKLE_WRITES - 1) / TRICKLE_WRITES);
    }
    size_t got = exchange(data, size, piece ? piece : 1);
    if (got > 0 && strncmp(answer, "HTTP/1.1 ", 9) != 0)
        fuzz_fail("an answer does not start with a status line");
    if (++n % HEALTH_EVERY)
        return 0;
    exchange(health, sizeof(health) - 1, sizeof(health));
    if (strncmp(answer, "HTTP/1.1 200 OK\r\n", 17) != 0 || !strstr(answer, "\r\n\r\nok\n"))
        fuzz_fail("/healthz stopped answering after an input");
    return 0;
}
