/*
 * statsc.h — a small blocking HTTP/1.0 client for a learner's stats socket (used by `rldt run`
 * for its progress line and `rldt top`). Responses are parsed with http_parser, JSON with
 * jansson. Thread-safe (no state).
 */
#ifndef RL_STATSC_H
#define RL_STATSC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define STATSC_MAX_BODY (16u << 20)

/* Split "host:port", "[v6]:port" or "host" (port = default_port). false when malformed. */
bool statsc_split(const char *addr, const char *default_port, char *host, size_t hostlen,
                  char *port, size_t portlen);

/*
 * GET path from host:port within timeout seconds. On success returns 0 with the status in
 * *status and the body in *body (NUL-terminated, caller frees) and its length in *len;
 * otherwise -errno with a one-line reason in err. Nullable: len.
 */
int statsc_get(const char *host, const char *port, const char *path, double timeout, int *status,
               char **body, size_t *len, char *err, size_t errlen);

/* GET /stats and parse it: a JSON object (caller json_decref's) or NULL + reason in err. */
json_t *statsc_fetch(const char *host, const char *port, double timeout, char *err, size_t errlen);

#endif
