/*
 * statsd.h — the learner's stats socket: a small HTTP/1.1 server on a libuv loop in its own
 * thread, serving the latest published stats snapshot (learner/stats.h).
 *
 *   GET /stats    200 application/json          GET /healthz  200 "ok"
 *   GET /metrics  200 text/plain; version=0.0.4  (HEAD too; other paths 404, other methods 405)
 *
 * Requests are parsed by http_parser; keep-alive is the HTTP/1.1 default and `Connection: close`
 * is honoured. Bad requests get 400, header sections over STATSD_MAX_HEADER bytes 431, and the
 * connection is closed. At most STATSD_MAX_CONNS connections: a new one evicts the least recently
 * active. Each connection must complete a request within the idle time-out (STATSD_IDLE_S) of
 * the previous response (or of its accept), or it is closed: a slow client cannot hold a slot.
 *
 * Thread-safety: statsd_publish() may be called from any thread (a pointer swap under a mutex;
 * the server takes its own reference per response and holds no lock while writing). Create and
 * destroy from one thread. The server thread blocks every signal.
 */
#ifndef RL_STATSD_H
#define RL_STATSD_H

#include <stddef.h>

#include "learner/stats.h"

#define STATSD_DEFAULT_ADDR "127.0.0.1"
#define STATSD_DEFAULT_PORT 5558
#define STATSD_MAX_CONNS 64
#define STATSD_MAX_HEADER 8192 /* bytes of request line + header names and values */
#define STATSD_IDLE_S 30.0

struct statsd;

/*
 * Bind addr:port (IPv4 or IPv6 literal; port 0 picks a free port), listen, and start the server
 * thread. Returns the server, or NULL with a one-line reason in err (bad address, address in
 * use, out of memory...). Caller owns, free with statsd_destroy().
 */
struct statsd *statsd_new(const char *addr, int port, char *err, size_t errlen);

/* The bound TCP port (useful after port 0). */
int statsd_port(const struct statsd *sd);

/*
 * Serve snap from now on: the server takes its own reference (the caller keeps and later drops
 * its own) and drops the previous snapshot's. Until the first publish, /stats and /metrics
 * answer 503.
 */
void statsd_publish(struct statsd *sd, struct stats_snap *snap);

/*
 * Set the idle time-out in seconds (> 0) for connections from their next request on; default
 * STATSD_IDLE_S. Any thread.
 */
void statsd_set_idle_timeout(struct statsd *sd, double secs);

/*
 * Stop the server thread (closing every connection, even mid-response), join it, free all and
 * set *psd = NULL. Nullable: psd, *psd.
 */
void statsd_destroy(struct statsd **psd);

#endif
