/*
 * test_statsd_trickle.c — learner/statsd when requests arrive in pieces of 1-16 bytes (one
 * write each, TCP_NODELAY, a short pause between writes, so the server parses each request
 * across many reads): pipelined requests cut anywhere are answered in order and in full, the
 * inputs that fuzz_statsd once reported as stalls (replayed the way it sends them) are answered
 * or closed, and after each of them, with the stalled and half-sent connections still open, a
 * fresh /healthz is answered. The 10 s bounds are liveness bounds, not speed targets.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "learner/statsd.h"
#include "tests/harness.h"
#include "tests/spawn.h"

#define LIVE_S 10.0  /* an answer must come within this (liveness, not speed) */
#define PAUSE_US 300 /* between two pieces, so that they arrive as separate reads */
#define ANSWER 16384

static const char json[] = "{\"env_steps\":1}";

// inputs fuzz_statsd saved as stall findings (tests/fuzz/seeds/statsd/stall-e, -f, -g): a first
// byte 1 marks a trickle, the second sets the piece size (1 + b % 16), the rest is sent
static const char seed_e[] =
    "\x01\x10\x47\x45\x00\x00\x00\x00\x00\x01\x00\x00\x74\x50\x50\x50\x50\x50\x50\x50\x50\x50"
    "\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50"
    "\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50"
    "\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50"
    "\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x50\x72\x69"
    "\x63\x73\x78\x4d\x0a\x0d\x0a";
static const char seed_f[] =
    "\x01\x10GET //stats HTTP/1.1\r\nContent-Length: 5\r\n\r\r\n\r\nok\nEAD /no\xeb.0\r?k"
    "\x00\x00\x00\x00\x00\x00\x00.1\r\n\r\nGET /\x9d\x9d\x9d\x9d\x9d\xe0\x9d\x9d\x9d\x9d\x9d\x9d"
    "\x9d\x9d"
    "cbbbbbb[\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d\x9d"
    "metriz Hst:k\x00\x00\x00\x00\x00\x00\x00 x\r\n\r\n";
static const char seed_g[] =
    "\x01\x03GET /he\x9elthz HTtris H\r\n\r\nok\nTTP/1.1\xff\xff`@\x00\x00#\xdb\r\n\xc3onnection: "
    "\n\r\nGET /metric/healthzn: cmec*metr\r\"\r\n";

static struct statsd *start(void)
{
    char err[256] = "";
    struct statsd *sd = statsd_new("127.0.0.1", 0, err, sizeof(err));
    T_CHECK_MSG(sd != NULL, "%s", err);
    if (!sd)
        return NULL;
    static const char prom[] = "rldt_env_steps 1\n";
    struct stats_snap *sn = stats_snap_new(json, sizeof(json) - 1, prom, sizeof(prom) - 1);
    T_CHECK(sn != NULL);
    if (sn)
        statsd_publish(sd, sn);
    stats_snap_unref(&sn);
    return sd;
}

// send req in pieces of `piece` bytes, one write each with a pause between them
static bool send_pieces(int fd, const char *req, size_t len, size_t piece)
{
    for (size_t off = 0; off < len;) {
        size_t n = RL_MIN(piece, len - off);
        ssize_t k = send(fd, req + off, n, MSG_NOSIGNAL);
        if (k <= 0)
            return errno == ECONNRESET || errno == EPIPE; // closed early after an error answer
        off += (size_t)k;
        usleep(PAUSE_US);
    }
    return true;
}

// read until the server closes or LIVE_S pass; the first bytes in ans (NUL-ended); the total
// in *got; true when the server closed
static bool read_to_close(int fd, char *ans, size_t cap, size_t *got)
{
    double end = rl_now() + LIVE_S;
    size_t n = 0;
    for (;;) {
        double left = end - rl_now();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)(left * 1e3) + 1) == 0)
            break;
        char tmp[4096];
        ssize_t k = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k <= 0) {
            *got = n;
            ans[RL_MIN(n, cap - 1)] = 0;
            return true;
        }
        if (n < cap - 1)
            memcpy(ans + n, tmp, RL_MIN((size_t)k, cap - 1 - n));
        n += (size_t)k;
    }
    *got = n;
    ans[RL_MIN(n, cap - 1)] = 0;
    return false;
}

// a fresh connection's /healthz is answered 200 "ok" within LIVE_S
static bool healthz_answered(int port)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
    int fd = spawn_dial(port);
    if (fd < 0)
        return false;
    char ans[1024];
    size_t got = 0;
    bool closed = send_pieces(fd, req, sizeof(req) - 1, sizeof(req)) &&
                  read_to_close(fd, ans, sizeof(ans), &got);
    close(fd);
    return closed && strncmp(ans, "HTTP/1.1 200 OK\r\n", 17) == 0 && strstr(ans, "\r\n\r\nok\n");
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

// three pipelined requests cut into pieces of every size from 1 to 16: all three answered, in
// order, bodies whole, then the close the last one asked for
static void test_trickled_pipeline(void)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                              "HEAD /stats HTTP/1.1\r\nHost: a\r\n\r\n"
                              "GET /stats?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    static char ans[ANSWER];
    for (size_t piece = 1; piece <= 16; piece++) {
        int fd = spawn_dial(port);
        T_CHECK(fd >= 0);
        if (fd < 0)
            break;
        size_t got = 0;
        T_CHECK(send_pieces(fd, req, sizeof(req) - 1, piece));
        T_CHECK_MSG(read_to_close(fd, ans, sizeof(ans), &got), "piece %zu: not closed", piece);
        close(fd);
        T_CHECK_MSG(count(ans, "HTTP/1.1 200 OK\r\n") == 3, "piece %zu: %d answers", piece,
                    count(ans, "HTTP/1.1 200 OK\r\n"));
        const char *ok = strstr(ans, "\r\n\r\nok\n");
        const char *body = strstr(ans, json);
        T_CHECK_MSG(ok && body && ok < body, "piece %zu: answers out of order or cut", piece);
        T_CHECK_MSG(body && strlen(body) == sizeof(json) - 1, "piece %zu: body", piece);
        T_CHECK(count(ans, json) == 1); // the HEAD answer has no body
    }
    statsd_destroy(&sd);
}

// one seed as fuzz_statsd sends it (write side shut at the end): answered or closed in time
static void replay_seed(int port, const char *seed, size_t len)
{
    size_t piece = (size_t)((unsigned char)seed[1] % 16) + 1;
    int fd = spawn_dial(port);
    T_CHECK(fd >= 0);
    if (fd < 0)
        return;
    static char ans[ANSWER];
    size_t got = 0;
    T_CHECK(send_pieces(fd, seed + 2, len - 2, piece));
    shutdown(fd, SHUT_WR);
    T_CHECK_MSG(read_to_close(fd, ans, sizeof(ans), &got), "a stall seed: not closed");
    close(fd);
    T_CHECK_MSG(got == 0 || strncmp(ans, "HTTP/1.1 ", 9) == 0, "answer '%.40s'", ans);
}

// the stall seeds, each followed by a fresh /healthz while connections that never finish their
// request (half a request line, a body shorter than its Content-Length, a trickle left open)
// stay open
static void test_stall_seeds_then_healthz(void)
{
    static const char *const open_reqs[] = {
        "GET /stats HTTP/1.1\r\nHost:",
        "GET /stats HTTP/1.1\r\nContent-Length: 100\r\n\r\nabcde",
        "GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    };
    const struct {
        const char *data;
        size_t len;
    } seeds[] = {
        {seed_e, sizeof(seed_e) - 1}, {seed_f, sizeof(seed_f) - 1}, {seed_g, sizeof(seed_g) - 1}};
    struct statsd *sd = start();
    if (!sd)
        return;
    int port = statsd_port(sd);
    int held[RL_ARRAY_LEN(open_reqs) * RL_ARRAY_LEN(seeds)];
    size_t nheld = 0;
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < RL_ARRAY_LEN(seeds); i++) {
            replay_seed(port, seeds[i].data, seeds[i].len);
            int fd = spawn_dial(port);
            const char *r = open_reqs[(i + (size_t)round) % RL_ARRAY_LEN(open_reqs)];
            if (fd >= 0 && send_pieces(fd, r, strlen(r), 1 + i * 3) && nheld < RL_ARRAY_LEN(held))
                held[nheld++] = fd;
            else if (fd >= 0)
                close(fd);
            double t = rl_now();
            T_CHECK_MSG(healthz_answered(port), "round %d seed %zu: no /healthz", round, i);
            T_CHECK(rl_now() - t < LIVE_S);
        }
    }
    T_EQ_INT(nheld, RL_ARRAY_LEN(held));
    // the half-sent requests are still waiting (not answered, not closed) after all that
    for (size_t i = 0; i < nheld; i++) {
        char b;
        ssize_t k = recv(held[i], &b, 1, MSG_DONTWAIT);
        T_CHECK_MSG(k < 0 && errno == EAGAIN, "held connection %zu: %zd", i, k);
        close(held[i]);
    }
    T_CHECK(healthz_answered(port));
    statsd_destroy(&sd);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    T_RUN(test_trickled_pipeline);
    T_RUN(test_stall_seeds_then_healthz);
    return T_DONE("statsd_trickle");
}
