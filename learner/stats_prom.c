/*
 * stats_prom.c — the collector's state as Prometheus text format 0.0.4 (written by hand):
 * totals, rejections and counters by name, per-actor series, the algorithms' scalars, build
 * info and process metrics.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/util.h"
#include "common/version.h"
#include "learner/stats_impl.h"

// ---- rendering: Prometheus ---------------------------------------------------------------

static void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_value(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN\n", f);
    else if (isinf(v))
        fputs(v > 0 ? "+Inf\n" : "-Inf\n", f);
    else
        fprintf(f, "%.10g\n", v);
}

static void prom_u64(FILE *f, const char *name, uint64_t v)
{
    fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

// a label value with \ " and newline escaped
static void prom_label(FILE *f, const char *key, const char *v)
{
    fprintf(f, "%s=\"", key);
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f);
        if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
    fputc('"', f);
}

static void prom_table(FILE *f, const char *name, const char *label, const char *help,
                       const struct table *t)
{
    prom_family(f, name, "counter", help);
    for (int i = 0; i < t->n; i++) {
        fprintf(f, "%s{", name);
        prom_label(f, label, t->e[i].name);
        fprintf(f, "} %llu\n", (unsigned long long)t->e[i].n);
    }
}

// where a run total comes from: a field of the state or (from TK_D_U64 on) of the derived
// values, and its C type
enum tkind { TK_ST_U64, TK_ST_BOOL, TK_ST_INT, TK_D_U64, TK_D_REAL };
#define TOTAL(kind, strct, field, name, type, help)                                                \
    {                                                                                              \
        name, type, help, kind, offsetof(strct, field)                                             \
    }
#define ST(k, field, name, type, help) TOTAL(k, struct state, field, name, type, help)
#define DV(k, field, name, type, help) TOTAL(k, struct derived, field, name, type, help)
#define LN(k, field, name, type, help) ST(k, ln.field, name, type, help)
static const struct {
    const char *name, *type, *help;
    enum tkind kind;
    size_t off;
} totals[] = {
    ST(TK_ST_U64, run_epoch, "rldt_run_epoch", "gauge",
       "Run epoch (changes when the learner restarts)."),
    DV(TK_D_REAL, uptime, "rldt_uptime_seconds", "gauge", "Seconds since the learner started."),
    LN(TK_ST_BOOL, finished, "rldt_finished", "gauge", "1 once the run has finished."),
    LN(TK_ST_U64, version, "rldt_policy_version", "gauge",
       "Current policy version of the learner."),
    ST(TK_ST_U64, env_steps, "rldt_env_steps_total", "counter", "Environment steps ingested."),
    DV(TK_D_REAL, steps_rate, "rldt_env_steps_per_second", "gauge",
       "Recent environment steps per second."),
    ST(TK_ST_U64, updates, "rldt_updates_total", "counter", "Learner updates (gradient steps)."),
    DV(TK_D_REAL, upd_rate, "rldt_updates_per_second", "gauge",
       "Recent learner updates per second."),
    ST(TK_ST_U64, segments, "rldt_segments_total", "counter", "Segments accepted."),
    LN(TK_ST_U64, replay_size, "rldt_replay_size", "gauge", "Chunk steps held in replay."),
    LN(TK_ST_U64, replay_cap, "rldt_replay_cap", "gauge", "Replay capacity in chunk steps."),
    ST(TK_ST_U64, episodes, "rldt_episodes_total", "counter", "Episodes finished."),
    DV(TK_D_REAL, ret_mean, "rldt_recent_return", "gauge", "Mean return of the recent episodes."),
    DV(TK_D_U64, lag_max, "rldt_policy_lag_max", "gauge", "Largest policy lag over the actors."),
    ST(TK_ST_INT, nactors, "rldt_actors", "gauge", "Actors in the table."),
};
#undef LN
#undef ST
#undef DV
#undef TOTAL

static void prom_totals(FILE *f, const struct state *st, const struct derived *d)
{
    prom_family(f, "rldt_run_info", "gauge", "Run description (value is always 1).");
    fputs("rldt_run_info{", f);
    prom_label(f, "algo", st->algo);
    fputc(',', f);
    prom_label(f, "task", st->task);
    fputs("} 1\n", f);
    for (size_t i = 0; i < RL_ARRAY_LEN(totals); i++) {
        const char *p =
            (totals[i].kind >= TK_D_U64 ? (const char *)d : (const char *)st) + totals[i].off;
        prom_family(f, totals[i].name, totals[i].type, totals[i].help);
        switch (totals[i].kind) {
        case TK_ST_U64:
            prom_u64(f, totals[i].name, *(const uint64_t *)p);
            break;
        case TK_ST_BOOL:
            prom_u64(f, totals[i].name, *(const bool *)p);
            break;
        case TK_ST_INT:
            prom_u64(f, totals[i].name, (uint64_t) * (const int *)p);
            break;
        case TK_D_U64:
            prom_u64(f, totals[i].name, *(const uint64_t *)p);
            break;
        case TK_D_REAL:
            fprintf(f, "%s ", totals[i].name);
            prom_value(f, *(const double *)p);
            break;
        }
    }
}

// one family per per-actor column
enum acol { ACOL_HB, ACOL_PVER, ACOL_LAG, ACOL_STEPS, ACOL_RATE, ACOL_SEGS, ACOL_N };
static const struct {
    const char *name;
    const char *type;
    const char *help;
} acols[ACOL_N] = {
    {"rldt_actor_heartbeat_age_seconds", "gauge", "Seconds since the actor's last heartbeat."},
    {"rldt_actor_policy_version", "gauge", "Policy version the actor acts with."},
    {"rldt_actor_policy_lag", "gauge", "Learner policy version minus the actor's."},
    {"rldt_actor_env_steps_total", "counter", "Environment steps ingested from the actor."},
    {"rldt_actor_env_steps_per_second", "gauge", "Recent environment steps per second."},
    {"rldt_actor_segments_total", "counter", "Segments accepted from the actor."},
};

static double acol_value(const struct state *st, const struct derived *d, int i, int col,
                         double now)
{
    const struct actor_stat *a = &st->actors[i];
    switch (col) {
    case ACOL_HB:
        return a->heartbeat < 0 ? NAN : now - a->heartbeat;
    case ACOL_PVER:
        return (double)a->pver;
    case ACOL_LAG:
        return (double)stats_lag(st, a);
    case ACOL_STEPS:
        return (double)a->steps;
    case ACOL_RATE:
        return d->actor_rate[i];
    default:
        return (double)a->segments;
    }
}

static void prom_actors(FILE *f, const struct state *st, const struct derived *d, double now)
{
    prom_family(f, "rldt_actor_info", "gauge", "Actor description (value is always 1).");
    for (int i = 0; i < st->nactors; i++) {
        fprintf(f, "rldt_actor_info{actor=\"%u\",", st->actors[i].id);
        prom_label(f, "name", st->actors[i].name);
        fputs("} 1\n", f);
    }
    for (int col = 0; col < ACOL_N; col++) {
        prom_family(f, acols[col].name, acols[col].type, acols[col].help);
        for (int i = 0; i < st->nactors; i++) {
            fprintf(f, "%s{actor=\"%u\"} ", acols[col].name, st->actors[i].id);
            prom_value(f, acol_value(st, d, i, col, now));
        }
    }
}

// ---- scalars: the learner's and the algorithms' named values ------------------------------

/* Prometheus name (NULL: rldt_scalar_<name>), type and help of the scalars we know */
static const struct {
    const char *scalar, *metric, *type, *help;
} scalar_meta[] = {
    {"actors_alive", NULL, "gauge", "Actors whose heartbeat is recent."},
    {"ingest_held", NULL, "gauge", "1 while ingest holds actors back (replay backpressure)."},
    {"ingest_held_secs", "rldt_ingest_held_seconds_total", "counter",
     "Seconds ingest has held actors back (replay backpressure)."},
    {"episodes_succeeded", "rldt_scalar_episodes_succeeded_total", "counter",
     "Training episodes that reached the task's success condition."},
    {"eval_return", NULL, "gauge", "Mean return of the latest evaluation."},
    {"eval_return_std", NULL, "gauge", "Standard deviation of the latest evaluation's returns."},
    {"eval_length", NULL, "gauge", "Mean episode length of the latest evaluation."},
    {"eval_success_rate", NULL, "gauge",
     "Share of the latest evaluation's episodes that succeeded."},
    {"eval_env_steps", NULL, "gauge", "Environment steps when the latest evaluation was made."},
    {"critic_loss", NULL, "gauge", "Critic loss of the latest update."},
    {"actor_loss", NULL, "gauge", "SAC actor loss of the latest update."},
    {"alpha", NULL, "gauge", "SAC entropy temperature alpha."},
    {"alpha_loss", NULL, "gauge", "SAC temperature loss of the latest update."},
    {"entropy", NULL, "gauge", "SAC policy entropy estimate (nats)."},
    {"q_mean", NULL, "gauge", "Mean Q value over the latest batch."},
    {"target_mean", NULL, "gauge", "RLDT mean critic target over the latest batch."},
    {"reward_scale", NULL, "gauge", "RLDT reward normalisation scale."},
    {"grad_q_norm", NULL, "gauge", "RLDT mean norm of the action gradient of Q."},
    {"kernel_grad_norm", NULL, "gauge", "RLDT mean norm of the SVGD kernel gradient."},
    {"particle_diversity", NULL, "gauge", "RLDT mean distance between action particles."},
    {"alpha_s", "rldt_scalar_svgd_alpha", "gauge", "RLDT SVGD repulsion scale alpha_s."},
    {"bandwidth", NULL, "gauge", "RLDT SVGD kernel bandwidth."},
    {"phi_norm", NULL, "gauge", "RLDT mean norm of the SVGD update direction."},
    {"loss_transport", NULL, "gauge", "RLDT transport loss of the latest actor step."},
    {"loss_consistency", NULL, "gauge", "RLDT consistency loss of the latest actor step."},
    {"loss_trust", NULL, "gauge", "RLDT trust-region loss of the latest actor step."},
    {"critic_steps", "rldt_scalar_critic_steps_total", "counter", "RLDT critic updates done."},
    {"actor_steps", "rldt_scalar_actor_steps_total", "counter", "RLDT actor steps done."},
    {"actor_skipped", "rldt_scalar_actor_steps_skipped_total", "counter",
     "RLDT actor steps skipped (non-finite loss)."},
};

static void prom_scalar(FILE *f, const char *scalar, double v)
{
    char name[STATS_NAME_MAX + 40], help[STATS_NAME_MAX + 64];
    const char *type = "gauge";
    snprintf(name, sizeof(name), "rldt_scalar_%s", scalar);
    snprintf(help, sizeof(help), "Algorithm diagnostic %s.", scalar);
    for (size_t i = 0; i < sizeof(scalar_meta) / sizeof(scalar_meta[0]); i++) {
        if (strcmp(scalar_meta[i].scalar, scalar) != 0)
            continue;
        if (scalar_meta[i].metric)
            snprintf(name, sizeof(name), "%s", scalar_meta[i].metric);
        type = scalar_meta[i].type;
        snprintf(help, sizeof(help), "%s", scalar_meta[i].help);
    }
    // an unknown name spelled with an abbreviated unit still follows the conventions
    size_t n = strlen(name);
    if (n > 5 && !strcmp(name + n - 5, "_secs"))
        snprintf(name + n - 5, sizeof(name) - n + 5, "_seconds");
    prom_family(f, name, type, help);
    fprintf(f, "%s ", name);
    prom_value(f, v);
}

// ---- build and process ----------------------------------------------------------------------

/* rldt_build_info and the standard process metrics (resident memory, CPU time, start time) */
static void prom_process(FILE *f)
{
    prom_family(f, "rldt_build_info", "gauge", "Build description (value is always 1).");
    fprintf(f, "rldt_build_info{");
    prom_label(f, "version", RLDT_VERSION);
    fputs("} 1\n", f);
    long size = 0, pages = -1;
    FILE *sm = fopen("/proc/self/statm", "r");
    if (sm && fscanf(sm, "%ld %ld", &size, &pages) != 2)
        pages = -1;
    if (sm)
        fclose(sm);
    if (pages >= 0) {
        prom_family(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        fprintf(f, "process_resident_memory_bytes %.0f\n",
                (double)pages * (double)sysconf(_SC_PAGESIZE));
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        prom_family(f, "process_cpu_seconds_total", "counter",
                    "Total user and system CPU time spent in seconds.");
        fprintf(f, "process_cpu_seconds_total %.3f\n",
                (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    }
}

// the Prometheus text (malloc'd, caller frees) or NULL; its length in *len
char *stats_render_prom(const struct state *st, const struct derived *d, double now, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    prom_totals(f, st, d);
    prom_table(f, "rldt_rejected_messages_total", "reason", "Messages rejected, by reason.",
               &st->rejects);
    prom_table(f, "rldt_events_total", "event", "Counted events, by name.", &st->counters);
    prom_family(f, "rldt_last_error_info", "gauge", "Last error of an operation (value is 1).");
    for (int i = 0; i < st->nnotes; i++) {
        fputs("rldt_last_error_info{", f);
        prom_label(f, "what", st->note_name[i]);
        fputc(',', f);
        prom_label(f, "error", st->note[i]);
        fputs("} 1\n", f);
    }
    for (int i = 0; i < st->scalars.n; i++)
        prom_scalar(f, st->scalars.e[i].name, st->scalars.e[i].v);
    prom_actors(f, st, d, now);
    prom_process(f);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed) {
        free(buf);
        return NULL;
    }
    return buf;
}
