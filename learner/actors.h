/*
 * actors.h — the learner's table of registered actors: ids, names, liveness and progress.
 * The control thread registers actors and records heartbeats; the ingest thread checks
 * segments against it; the trainer copies rows out for stats. One internal mutex guards it.
 */
#ifndef RL_ACTORS_H
#define RL_ACTORS_H

#include <stdbool.h>
#include <stdint.h>

#define ACTORS_MAX 1024
#define ACTORS_NAME 64

struct actor_row {
    uint32_t id;
    char name[ACTORS_NAME];
    bool alive;
    int num_envs;
    double last_seen;   /* rl_now() of the last message */
    uint64_t env_steps; /* from heartbeats */
    uint64_t episodes;
    uint64_t policy_version; /* in use, from heartbeats and segments */
    double steps_per_sec;
    uint64_t segments; /* accepted from this actor */
    uint64_t last_seq;
    uint64_t send_stalls;
    double send_wait_s;
};

/* Result of checking a segment's sender. */
enum actors_check { ACTORS_OK = 0, ACTORS_UNKNOWN, ACTORS_DUPLICATE };

struct actors;

struct actors *actors_new(void);
void actors_destroy(struct actors **t);

/* Register an actor; returns its new id (>= 1), or 0 when the table is full. */
uint32_t actors_register(struct actors *t, const char *name, int num_envs);

/* Record a heartbeat's progress. Returns false if the id is unknown or gone. */
bool actors_heartbeat(struct actors *t, uint32_t id, uint64_t env_steps, uint64_t episodes,
                      uint64_t version, double steps_per_sec, uint64_t stalls, double wait_s);

/* Check and record a segment (seq must increase per actor). */
enum actors_check actors_segment(struct actors *t, uint32_t id, uint64_t seq, uint64_t version);

/* Mark an actor gone (Bye). */
void actors_remove(struct actors *t, uint32_t id);

/* Mark actors silent for more than timeout seconds as gone; returns how many. */
int actors_expire(struct actors *t, double timeout);

/* Copy up to max rows (alive ones first); returns the count. Also the number alive. */
int actors_rows(struct actors *t, struct actor_row *rows, int max, int *alive);

#endif
