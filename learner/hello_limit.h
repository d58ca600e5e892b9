/*
 * hello_limit.h — the control socket's per-connection registration limit: a token bucket per
 * ZeroMQ routing id (one per connection), so one flooding connection cannot churn the actor
 * table and push a newcomer's unconfirmed row out before its first heartbeat. A bounded table
 * (HELLO_LIMIT_SLOTS connections); when it is full the least recently seen entry is reused.
 * Used by the control thread only (no lock).
 */
#ifndef RL_HELLO_LIMIT_H
#define RL_HELLO_LIMIT_H

#include <stdbool.h>
#include <stddef.h>

#define HELLO_LIMIT_SLOTS 512
#define HELLO_LIMIT_ID 64 /* routing id bytes kept (ZeroMQ's own are 5; longer ones are cut) */

struct hello_limit;

/* A table allowing `burst` Hellos at once and `per_sec` per second after that; NULL on ENOMEM. */
struct hello_limit *hello_limit_new(double burst, double per_sec);
void hello_limit_destroy(struct hello_limit **h);

/* May the connection with routing id id[0..len) register now (at time now, seconds)?
 * Takes a token when it may. */
bool hello_limit_take(struct hello_limit *h, const void *id, size_t len, double now);

#endif
