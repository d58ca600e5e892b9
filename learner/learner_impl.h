/*
 * learner_impl.h — struct learner, shared by learner.c (sockets, threads, the trainer loop) and
 * learner_report.c (stats snapshots, eval.csv, metrics.csv, TensorBoard). Not for other files.
 */
#ifndef RL_LEARNER_IMPL_H
#define RL_LEARNER_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/auth.h"
#include "learner/learner.h"
#include "learner/shared.h"
#include "learner/stats.h"
#include "learner/statsd.h"
#include "proto/tblog.h"

struct learner {
    struct shared s;
    const struct algo_ops *ops;
    struct algo *algo;
    void *pub;
    pthread_t ingest_th, control_th;
    bool ingest_on, control_on;
    struct stats *stats;
    struct statsd *statsd;
    FILE *metrics;
    FILE *logcopy;
    float *weights;
    size_t nweights;
    uint8_t *pbuf;
    size_t pcap;
    struct algo_report rep;
    uint64_t reported_episodes;
    uint64_t eval_seen;
    double replay_saved;   /* rl_now() of the last replay save */
    struct auth_keys auth; /* [auth] CURVE keys of the three sockets */
    struct auth_zap *zap;  /* [auth] ZAP handler (auth = curve) */
    struct tblog *tb;      /* [tb] TensorBoard event file of this process, or NULL */
    double tb_wall;        /* [tb] wall_s and env steps of the last metrics row (rate) */
    unsigned long long tb_steps;
    struct ingest_args ia; /* arguments of the two threads (live as long as they do) */
    struct control_args ca;
    struct actor_row rows[ACTORS_MAX];    /* learner_report_stats: the actor table */
    struct stats_actor srows[ACTORS_MAX]; /* and its rows for the stats module */
    // event counters of the trainer thread (this process; shown in /stats "counters")
    uint64_t checkpoint_failures;  /* checkpoint saves that failed */
    uint64_t replay_save_failures; /* replay saves that failed */
    uint64_t quarantined_segments; /* segments and chunk steps a non-finite step quarantined */
    uint64_t quarantined_steps;
    char final_err[512]; /* why the final checkpoint failed ("" if it did not) */
    double published;    /* rl_now() of the last broadcast */
};

/* Publish a fresh stats snapshot: totals, counters, the learner's state, the algorithm's report,
 * the latest evaluation and the live actors (trainer thread). */
void learner_report_stats(struct learner *l);

/* Append evaluation reports not yet written to <run_dir>/eval.csv (and TensorBoard); t0 is the
 * rl_now() of the start. */
void learner_report_eval(struct learner *l, double t0);

/* Append one row of counters, returns and the algorithm's report to <run_dir>/metrics.csv (and
 * TensorBoard). */
void learner_report_metrics(struct learner *l, double t0);

#endif
