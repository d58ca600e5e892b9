/*
 * stats.h — learner metrics rendering: the learner's state (owned elsewhere: counters in
 * learner/shared.h and struct learner, actors in learner/actors.h) is copied in with the
 * stats_set* calls and rendered on demand into an immutable, refcounted snapshot holding the
 * same data as JSON (`/stats`) and as Prometheus text exposition format 0.0.4 (`/metrics`). The
 * collector counts nothing itself: every value, counters included, is the owner's current total;
 * it only remembers what it was last told (and the rate meters).
 *
 * Thread-safety: every stats_* setter may be called from any thread (one internal mutex, held
 * for a few hundred nanoseconds; the render copies the state under it and formats outside it).
 * stats_render() is called by one thread at a time (the trainer). A snapshot is immutable: any
 * thread may read it, stats_snap_ref() / stats_snap_unref() are atomic.
 *
 * Open-ended tables: named scalars (algorithm diagnostics: stats_set), named event counters
 * (stats_set_count) and rejected-message counters by reason (stats_set_rejected) are small
 * ordered tables; a new name is added by its first call, with no struct edit anywhere.
 */
#ifndef RL_STATS_H
#define RL_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "learner/actors.h"

#define STATS_NAME_MAX 48           /* bytes of a name, including the NUL */
#define STATS_MAX_SCALARS 64        /* named scalars (stats_set) */
#define STATS_MAX_COUNTERS 64       /* named event counters and reject reasons, each */
#define STATS_MAX_NOTES 8           /* named last errors (stats_note) */
#define STATS_NOTE_MAX 160          /* bytes of one, including the NUL */
#define STATS_MAX_ACTORS ACTORS_MAX /* rows of the actor table (the learner's table size) */
#define STATS_RATE_WINDOW 1.0       /* seconds: rates are recomputed at most this often */
#define STATS_JSON_VERSION 1        /* "version" field of the JSON document */

struct stats;
struct stats_snap;

/*
 * Create a collector for one run. algo and task are copied (control characters replaced,
 * truncated to STATS_NAME_MAX - 1 bytes). The uptime clock starts now (rl_now()). Reject
 * reasons are the caller's (stats_set_rejected with 0 lists one at 0). Returns NULL on
 * allocation failure; caller owns, free with stats_destroy().
 */
struct stats *stats_new(const char *algo, const char *task, uint64_t run_epoch);

/* Free the collector and set *ps = NULL. Snapshots already rendered stay valid.
 * Nullable: ps, *ps. */
void stats_destroy(struct stats **ps);

// ---- named tables ----------------------------------------------------------------------

/*
 * Set the named scalar (e.g. "critic_loss") to v; the first call adds it at the end of the
 * ordered table. Non-finite values are kept (JSON null, Prometheus NaN/+Inf/-Inf). Names match
 * [a-zA-Z_][a-zA-Z0-9_]* and are shorter than STATS_NAME_MAX. Returns 0, -EINVAL for a bad name,
 * -ENOSPC when the table is full (nothing changes).
 */
int stats_set(struct stats *s, const char *name, double v);

/* Set the named event counter (e.g. "nan_steps") to value, its owner's total; same naming rules
 * and returns as stats_set(). */
int stats_set_count(struct stats *s, const char *name, uint64_t value);

/* Set the rejected-message counter for reason (e.g. "bad_size") to value, its owner's total;
 * same naming rules and returns as stats_set(). */
int stats_set_rejected(struct stats *s, const char *reason, uint64_t value);

/*
 * Set the last error of the named operation (e.g. "checkpoint") to text (copied, printable
 * ASCII, truncated to STATS_NOTE_MAX - 1 bytes): JSON "last_error", Prometheus
 * rldt_last_error_info. Same naming rules as stats_set(); returns 0, -EINVAL or -ENOSPC.
 */
int stats_note(struct stats *s, const char *name, const char *text);

// ---- run totals ------------------------------------------------------------------------

/* The run's totals as their owner counts them (restored ones included). */
struct stats_totals {
    uint64_t env_steps;
    uint64_t segments;
    uint64_t episodes;
    uint64_t updates;
    double recent_return;     /* mean return of the recent episodes, NaN when none */
    uint64_t recent_episodes; /* how many episodes that mean covers */
};

/* Set the run totals. Rates are measured between renders from these values; a total that
 * goes down restarts its meter at 0. */
void stats_set_totals(struct stats *s, const struct stats_totals *t);

/* The learner's state beside its totals. */
struct stats_learner {
    uint64_t replay_size;  /* chunk steps held in replay */
    uint64_t replay_cap;   /* chunk steps */
    double bytes_per_step; /* replay memory per chunk step, images included */
    uint64_t version;      /* the current policy (parameter) version */
    bool finished;         /* the run has finished */
};

/* Set the learner's state (all of it: one lock, a snapshot never sees half of it). */
void stats_set_learner(struct stats *s, const struct stats_learner *l);

// ---- actor table -----------------------------------------------------------------------

/* One actor as its owner (learner/actors.h) knows it. */
struct stats_actor {
    uint32_t id;
    const char *name;        /* copied, sanitised to printable ASCII, truncated; NULL: "?" */
    double heartbeat;        /* rl_now() seconds of the last heartbeat, < 0: never */
    uint64_t policy_version; /* the version it acts with */
    uint64_t env_steps;      /* accepted from it */
    uint64_t segments;       /* accepted from it */
};

/*
 * Replace the actor table by rows[0..n) (copied, sorted by id; ids are unique). Per-actor rate
 * meters carry over for ids present before. Rows beyond STATS_MAX_ACTORS are left out.
 * Returns the number of rows kept. Nullable: rows when n is 0.
 */
int stats_set_actors(struct stats *s, const struct stats_actor *rows, int n);

// ---- rendering -------------------------------------------------------------------------

/*
 * Render the current state, as of monotonic time now (rl_now()), into a new snapshot with
 * refcount 1: rates (env steps/s, updates/s, per-actor steps/s) are updated here. Called by
 * one thread at a time. Returns NULL on allocation failure; caller owns the reference, drop it
 * with stats_snap_unref().
 */
struct stats_snap *stats_render(struct stats *s, double now);

/*
 * Make a snapshot from given texts (copied), e.g. for tests or a fixed document. Returns NULL
 * on allocation failure; caller owns the reference (refcount 1).
 */
struct stats_snap *stats_snap_new(const char *json, size_t json_len, const char *prom,
                                  size_t prom_len);

/* Take another reference to sn; returns sn. */
struct stats_snap *stats_snap_ref(struct stats_snap *sn);

/* Drop the reference in *psn (freeing the snapshot at zero) and set *psn = NULL.
 * Nullable: psn, *psn. */
void stats_snap_unref(struct stats_snap **psn);

/* The JSON document (NUL-terminated); its length in *len. Borrowed: valid while the caller
 * holds a reference. Nullable: len. */
const char *stats_snap_json(const struct stats_snap *sn, size_t *len);

/* The Prometheus text (NUL-terminated); its length in *len. Borrowed like stats_snap_json().
 * Nullable: len. */
const char *stats_snap_prom(const struct stats_snap *sn, size_t *len);

/* The current reference count (for tests and debugging; racy by nature). */
int stats_snap_refs(const struct stats_snap *sn);

#endif
