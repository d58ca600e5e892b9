/*
 * learner_report.c — what the learner reports while it runs: stats snapshots for the stats
 * socket, eval.csv, metrics.csv and the TensorBoard event file (trainer thread only).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "learner/learner_impl.h"

// [tb] one scalar, step = env steps; non-finite values are left out; a write error closes
static void tb_scalar(struct learner *l, const char *tag, uint64_t steps, double v)
{
    if (!l->tb || !isfinite(v))
        return;
    int rc = tblog_scalar(l->tb, tag, (int64_t)steps, v);
    if (rc < 0) {
        log_warn("TensorBoard event file %s: %s (no more events)", tblog_path(l->tb),
                 strerror(-rc));
        tblog_close(&l->tb);
    }
}

// append new evaluation reports to <run_dir>/eval.csv (one row per report)
void learner_report_eval(struct learner *l, double t0)
{
    struct shared *s = &l->s;
    pthread_mutex_lock(&s->eval_lock);
    bool fresh = s->eval_count != l->eval_seen;
    l->eval_seen = s->eval_count;
    double ret = s->eval_return, sd = s->eval_std, len = s->eval_length, succ = s->eval_success;
    uint64_t steps = s->eval_steps, ver = s->eval_version;
    pthread_mutex_unlock(&s->eval_lock);
    if (!fresh || !s->cfg.run_dir[0])
        return;
    char path[CONFIG_STR + 32];
    snprintf(path, sizeof(path), "%s/eval.csv", s->cfg.run_dir);
    struct stat st;
    bool empty = stat(path, &st) != 0 || st.st_size == 0;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    if (empty)
        fprintf(f, "wall_s,env_steps,policy_version,return_mean,return_std,length_mean,"
                   "success_rate\n");
    fprintf(f, "%.3f,%llu,%llu,%.3f,%.3f,%.1f,%.4f\n", rl_now() - t0, (unsigned long long)steps,
            (unsigned long long)ver, ret, sd, len, succ);
    fclose(f);
    // [tb] the evaluation at the env steps it was made
    tb_scalar(l, "eval/return", steps, ret);
    tb_scalar(l, "eval/return_std", steps, sd);
    tb_scalar(l, "eval/length", steps, len);
    tb_scalar(l, "eval/success_rate", steps, succ);
    if (l->tb)
        tblog_flush(l->tb);
}

// the actor table as the stats module shows it: alive rows only
static int stats_actor_rows(struct learner *l, int *alive)
{
    int n = actors_rows(l->s.actors, l->rows, ACTORS_MAX, alive);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const struct actor_row *r = &l->rows[i];
        if (r->alive)
            l->srows[k++] = (struct stats_actor){.id = r->id,
                                                 .name = r->name,
                                                 .heartbeat = r->heartbeat,
                                                 .policy_version = r->policy_version,
                                                 .env_steps = r->steps_in,
                                                 .segments = r->segments};
    }
    return k;
}

void learner_report_stats(struct learner *l)
{
    struct shared *s = &l->s;
    struct stats *st = l->stats;
    double now = rl_now();
    int alive;
    stats_set_actors(st, l->srows, stats_actor_rows(l, &alive));
    int nret;
    double ret = shared_recent_return(s, &nret);
    struct stats_totals tot = {.env_steps = atomic_load(&s->env_steps),
                               .segments = atomic_load(&s->segments),
                               .episodes = atomic_load(&s->episodes),
                               .updates = atomic_load(&s->updates),
                               .recent_return = ret,
                               .recent_episodes = (uint64_t)nret};
    stats_set_totals(st, &tot);
    shared_stats_rejected(s, st);
    stats_set_count(st, "nan_steps", atomic_load(&s->skipped));
    stats_set_count(st, "quarantined_segments", l->quarantined_segments);
    stats_set_count(st, "quarantined_steps", l->quarantined_steps);
    stats_set_count(st, "checkpoint_failures", l->checkpoint_failures);
    stats_set_count(st, "replay_save_failures", l->replay_save_failures);
    stats_set_learner(st,
                      &(struct stats_learner){.replay_size = (uint64_t)replay_size(s->replay),
                                              .replay_cap = (uint64_t)replay_capacity(s->replay),
                                              .bytes_per_step = replay_bytes_per_step(s->replay),
                                              .version = atomic_load(&s->version),
                                              .finished = atomic_load(&s->finished)});
    stats_set(st, "actors_alive", alive);
    stats_set(st, "episodes_succeeded", (double)atomic_load(&s->successes));
    stats_set(st, "ingest_held", atomic_load(&s->ingest_held));
    stats_set(st, "ingest_held_secs", atomic_load(&s->held_secs_ms) / 1000.0);
    for (int i = 0; i < l->rep.n; i++)
        stats_set(st, l->rep.name[i], l->rep.value[i]);
    pthread_mutex_lock(&s->eval_lock);
    if (s->eval_count) {
        stats_set(st, "eval_return", s->eval_return);
        stats_set(st, "eval_return_std", s->eval_std);
        stats_set(st, "eval_length", s->eval_length);
        stats_set(st, "eval_success_rate", s->eval_success);
        stats_set(st, "eval_env_steps", (double)s->eval_steps);
    }
    pthread_mutex_unlock(&s->eval_lock);
    struct stats_snap *snap = stats_render(st, now);
    if (snap && l->statsd)
        statsd_publish(l->statsd, snap);
    stats_snap_unref(&snap);
}

void learner_report_metrics(struct learner *l, double t0)
{
    struct shared *s = &l->s;
    if (!s->cfg.run_dir[0])
        return;
    if (!l->metrics) {
        char path[CONFIG_STR + 32];
        snprintf(path, sizeof(path), "%s/metrics.csv", s->cfg.run_dir);
        struct stat st;
        bool fresh = stat(path, &st) != 0 || st.st_size == 0;
        l->metrics = fopen(path, "a");
        if (!l->metrics)
            return;
        if (fresh) {
            fprintf(l->metrics, "wall_s,env_steps,chunk_steps,updates,policy_version,replay,"
                                "episodes,return_recent,eval_return,eval_env_steps");
            for (int i = 0; i < l->rep.n; i++)
                fprintf(l->metrics, ",%s", l->rep.name[i]);
            fputc('\n', l->metrics);
        }
    }
    int n;
    double ret = shared_recent_return(s, &n);
    pthread_mutex_lock(&s->eval_lock);
    double eret = s->eval_count ? s->eval_return : NAN;
    uint64_t esteps = s->eval_steps;
    pthread_mutex_unlock(&s->eval_lock);
    // [tb] one reading of the counters for metrics.csv and the event file
    static const char *const tags[] = {"rollout/env_steps", "rollout/chunk_steps",
                                       "train/updates",     "train/policy_version",
                                       "train/replay_size", "rollout/episodes"};
    double wall = rl_now() - t0;
    unsigned long long c[RL_ARRAY_LEN(tags)] = {atomic_load(&s->env_steps),
                                                atomic_load(&s->chunk_steps),
                                                atomic_load(&s->updates),
                                                atomic_load(&s->version),
                                                (unsigned long long)replay_size(s->replay),
                                                atomic_load(&s->episodes)};
    fprintf(l->metrics, "%.3f,%llu,%llu,%llu,%llu,%llu,%llu,%.4g,%.4g,%llu", wall, c[0], c[1], c[2],
            c[3], c[4], c[5], ret, eret, (unsigned long long)esteps);
    for (int i = 0; i < l->rep.n; i++)
        fprintf(l->metrics, ",%.6g", l->rep.value[i]);
    fputc('\n', l->metrics);
    fflush(l->metrics);
    // [tb] the same row as scalars at step = env steps (eval_* come from learner_report_eval)
    // grouped as TensorBoard users expect: rollout/, train/ (the algorithm's scalars), time/
    tb_scalar(l, "time/wall_seconds", c[0], wall);
    if (wall > l->tb_wall && l->tb_wall > 0)
        tb_scalar(l, "time/env_steps_per_second", c[0],
                  (double)(c[0] - l->tb_steps) / (wall - l->tb_wall));
    l->tb_wall = wall;
    l->tb_steps = c[0];
    for (int i = 0; i < 6; i++)
        tb_scalar(l, tags[i], c[0], (double)c[i]);
    tb_scalar(l, "rollout/return", c[0], ret);
    for (int i = 0; i < l->rep.n; i++) {
        char tag[80];
        snprintf(tag, sizeof(tag), "train/%s", l->rep.name[i]);
        tb_scalar(l, tag, c[0], l->rep.value[i]);
    }
    if (l->tb)
        tblog_flush(l->tb);
}
