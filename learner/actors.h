/*
 * actors.h — the learner's table of registered actors: ids, sessions, names, liveness and
 * progress; the one owner of per-actor state. The control thread registers actors and records
 * heartbeats; the ingest thread checks segments against it; the trainer copies rows out for
 * stats. One internal mutex guards it.
 *
 * Sessions: a registration gets a random secret (wire_session); every later message must name
 * the actor id with that secret, and with CURVE come from the same client key (the ZAP User-Id),
 * or it is refused. Liveness: a row is alive while heartbeats come; data does not refresh it.
 */
#ifndef RL_ACTORS_H
#define RL_ACTORS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/wire.h"

#define ACTORS_MAX 1024
#define ACTORS_NAME 64
#define ACTORS_KEY 48 /* a client key as ZeroMQ reports it (Z85, 40 characters), NUL included */

struct actor_row {
    uint32_t id;
    char name[ACTORS_NAME];
    bool alive;
    bool evaluator; /* may send evaluation reports */
    int num_envs;
    double registered;  /* rl_now() of the Hello */
    double heartbeat;   /* rl_now() of the last heartbeat, < 0: none yet (unconfirmed) */
    uint64_t env_steps; /* from heartbeats */
    uint64_t episodes;
    uint64_t policy_version; /* in use, from heartbeats and segments */
    double steps_per_sec;
    uint64_t segments; /* accepted from this actor */
    uint64_t steps_in; /* env steps accepted from this actor */
    uint64_t last_seq;
    uint64_t send_stalls;
    double send_wait_s;
};

/* Who a message claims to come from: actor id, its session, and the client key ("" if none). */
struct actors_peer {
    uint32_t id;
    const struct wire_session *session;
    const char *key;
};

/* Result of checking a message's sender. */
enum actors_check {
    ACTORS_OK = 0,
    ACTORS_UNKNOWN,     /* no live actor with this id */
    ACTORS_BAD_SESSION, /* the id is live, the session or key is not its */
    ACTORS_DUPLICATE,   /* segment sequence number not increasing */
    ACTORS_NOT_EVAL,    /* an evaluation report from an actor that is not an evaluator */
    ACTORS_TOO_SOON,    /* a params request within the minimum interval */
};

struct actors;

/* A new empty table; NULL on allocation failure. Caller owns, free with actors_destroy(). */
struct actors *actors_new(void);
void actors_destroy(struct actors **t);

/*
 * Register an actor with its client key (copied; "" without CURVE) and draw its session into
 * *session. When the table is full, a gone row is reused, else the oldest unconfirmed one
 * (registered, never heartbeated). Returns the new id (>= 1), or 0 when every row is a live,
 * confirmed actor.
 */
uint32_t actors_register(struct actors *t, const char *name, int num_envs, bool evaluator,
                         const char *key, struct wire_session *session);

/* Record a heartbeat's progress if p checks out (it refreshes liveness). */
enum actors_check actors_heartbeat(struct actors *t, const struct actors_peer *p,
                                   const struct wire_heartbeat *h);

/* Check and record a segment of env_steps env steps (seq must increase per actor). */
enum actors_check actors_segment(struct actors *t, const struct actors_peer *p, uint64_t seq,
                                 uint64_t version, uint64_t env_steps);

/* May p send an evaluation report (ACTORS_NOT_EVAL if it is not an evaluator)? */
enum actors_check actors_eval(struct actors *t, const struct actors_peer *p);

/* May p have the params now: at most one answered request per min_interval seconds. */
enum actors_check actors_params(struct actors *t, const struct actors_peer *p, double min_interval);

/* Mark p's actor gone (Bye) if p checks out. */
enum actors_check actors_remove(struct actors *t, const struct actors_peer *p);

/*
 * Mark gone the actors whose last heartbeat is older than timeout seconds, and the unconfirmed
 * ones registered more than confirm seconds ago; returns how many.
 */
int actors_expire(struct actors *t, double timeout, double confirm);

/* Copy up to max rows (alive ones first); returns the count. Also the number alive.
 * Nullable: rows when max is 0, alive. */
int actors_rows(struct actors *t, struct actor_row *rows, int max, int *alive);

#endif
