/*
 * stats_impl.h — the collector's state as the renderers see it (stats.c renders JSON,
 * stats_prom.c Prometheus text), shared by those two files only.
 */
#ifndef RL_STATS_IMPL_H
#define RL_STATS_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/util.h"
#include "learner/stats.h"

#define TABLE_MAX RL_MAX(STATS_MAX_SCALARS, STATS_MAX_COUNTERS)

struct named {
    char name[STATS_NAME_MAX];
    double v;   // scalars
    uint64_t n; // counters
};

struct table {
    int n;
    int cap;
    struct named e[TABLE_MAX];
};

// a rate over at least STATS_RATE_WINDOW seconds; t < 0: not started
struct rate {
    double t;
    uint64_t c;
    double r;
};

struct actor_stat {
    uint32_t id;
    char name[STATS_NAME_MAX];
    double heartbeat; // rl_now() seconds, < 0: never
    uint64_t pver;
    uint64_t steps;
    uint64_t segments;
    struct rate rate;
};

// everything a render needs; copied under the lock up to actors[nactors]
struct state {
    char algo[STATS_NAME_MAX];
    char task[STATS_NAME_MAX];
    uint64_t run_epoch;
    uint64_t env_steps;
    uint64_t segments;
    uint64_t updates;
    struct stats_learner ln; /* replay fill, policy version, finished */
    uint64_t episodes;
    double ret_mean; // NaN without episodes
    uint64_t ret_n;
    struct rate steps_rate;
    struct rate upd_rate;
    struct table scalars;
    struct table counters;
    struct table rejects;
    int nnotes;
    char note_name[STATS_MAX_NOTES][STATS_NAME_MAX];
    char note[STATS_MAX_NOTES][STATS_NOTE_MAX];
    int nactors;
    struct actor_stat actors[STATS_MAX_ACTORS]; // sorted by id
};

// values computed once per render, shared by both formats
struct derived {
    double uptime;
    double steps_rate;
    double upd_rate;
    double ret_mean; // NaN without episodes
    uint64_t ret_n;
    uint64_t rejected;
    uint64_t lag_max;
    double actor_rate[STATS_MAX_ACTORS];
};

/* how many versions actor a's policy is behind the learner's (0 when ahead) */
uint64_t stats_lag(const struct state *st, const struct actor_stat *a);

/* The Prometheus text of st and d at time now (rl_now() seconds): malloc'd, NUL-terminated, its
 * length in *len; NULL when out of memory. */
char *stats_render_prom(const struct state *st, const struct derived *d, double now, size_t *len);

#endif
