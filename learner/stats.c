/*
 * stats.c — the learner's metrics collector and its rendering into refcounted snapshots
 * (JSON via jansson, Prometheus text format 0.0.4 by hand). See stats.h for the threading rules.
 */
#include "learner/stats.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/util.h"
#include "common/version.h"

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

struct stats {
    pthread_mutex_t mu;
    double t0;
    struct state cur;  // guarded by mu
    struct state view; // render thread only
};

struct stats_snap {
    atomic_int refs;
    size_t json_len;
    size_t prom_len;
    char *json;
    char *prom;
    char text[]; // json NUL prom NUL
};

// ---- helpers ---------------------------------------------------------------------------

// copy src into dst[STATS_NAME_MAX], printable ASCII only
static void copy_clean(char *dst, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i < STATS_NAME_MAX - 1; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    dst[i] = '\0';
}

static bool valid_name(const char *name)
{
    if (!name || !name[0] || strlen(name) >= STATS_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_';
        if (!alpha && !(p > name && *p >= '0' && *p <= '9'))
            return false;
    }
    return true;
}

// find or append name; NULL when the table is full
static struct named *table_get(struct table *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->e[i].name, name))
            return &t->e[i];
    if (t->n >= t->cap)
        return NULL;
    struct named *e = &t->e[t->n++];
    memset(e, 0, sizeof(*e));
    strcpy(e->name, name);
    return e;
}

// index of id in the sorted actor table, or -(insertion point) - 1
static int actor_find(const struct state *st, uint32_t id)
{
    int lo = 0;
    int hi = st->nactors;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (st->actors[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < st->nactors && st->actors[lo].id == id)
        return lo;
    return -lo - 1;
}

static double rate_update(struct rate *m, uint64_t c, double now)
{
    if (m->t < 0) {
        *m = (struct rate){.t = now, .c = c, .r = 0};
        return 0;
    }
    double dt = now - m->t;
    if (c < m->c) { // counter set back: start over
        *m = (struct rate){.t = now, .c = c, .r = 0};
    } else if (dt >= STATS_RATE_WINDOW) {
        m->r = (double)(c - m->c) / dt;
        m->t = now;
        m->c = c;
    }
    return m->r;
}

// ---- collector -------------------------------------------------------------------------

struct stats *stats_new(const char *algo, const char *task, uint64_t run_epoch)
{
    struct stats *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->t0 = rl_now();
    struct state *st = &s->cur;
    copy_clean(st->algo, algo);
    copy_clean(st->task, task);
    st->run_epoch = run_epoch;
    st->steps_rate = (struct rate){.t = -1};
    st->upd_rate = (struct rate){.t = -1};
    st->ret_mean = NAN;
    st->scalars.cap = STATS_MAX_SCALARS;
    st->counters.cap = STATS_MAX_COUNTERS;
    st->rejects.cap = STATS_MAX_COUNTERS;
    return s;
}

void stats_destroy(struct stats **ps)
{
    if (!ps || !*ps)
        return;
    pthread_mutex_destroy(&(*ps)->mu);
    free(*ps);
    *ps = NULL;
}

int stats_set(struct stats *s, const char *name, double v)
{
    if (!valid_name(name))
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    struct named *e = table_get(&s->cur.scalars, name);
    if (e)
        e->v = v;
    pthread_mutex_unlock(&s->mu);
    return e ? 0 : -ENOSPC;
}

static int table_put(struct stats *s, struct table *t, const char *name, uint64_t value)
{
    if (!valid_name(name))
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    struct named *e = table_get(t, name);
    if (e)
        e->n = value;
    pthread_mutex_unlock(&s->mu);
    return e ? 0 : -ENOSPC;
}

int stats_set_count(struct stats *s, const char *name, uint64_t value)
{
    return table_put(s, &s->cur.counters, name, value);
}

int stats_note(struct stats *s, const char *name, const char *text)
{
    if (!valid_name(name))
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    struct state *st = &s->cur;
    int i = 0;
    while (i < st->nnotes && strcmp(st->note_name[i], name))
        i++;
    if (i < STATS_MAX_NOTES) {
        if (i == st->nnotes)
            strcpy(st->note_name[st->nnotes++], name);
        size_t k = 0;
        for (; text && text[k] && k < STATS_NOTE_MAX - 1; k++) {
            unsigned char ch = (unsigned char)text[k];
            st->note[i][k] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
        }
        st->note[i][k] = '\0';
    }
    pthread_mutex_unlock(&s->mu);
    return i < STATS_MAX_NOTES ? 0 : -ENOSPC;
}

int stats_set_rejected(struct stats *s, const char *reason, uint64_t value)
{
    return table_put(s, &s->cur.rejects, reason, value);
}

void stats_set_totals(struct stats *s, const struct stats_totals *t)
{
    pthread_mutex_lock(&s->mu);
    s->cur.env_steps = t->env_steps;
    s->cur.segments = t->segments;
    s->cur.episodes = t->episodes;
    s->cur.updates = t->updates;
    s->cur.ret_mean = t->recent_episodes ? t->recent_return : NAN;
    s->cur.ret_n = t->recent_episodes;
    pthread_mutex_unlock(&s->mu);
}

void stats_set_learner(struct stats *s, const struct stats_learner *l)
{
    pthread_mutex_lock(&s->mu);
    s->cur.ln = *l;
    pthread_mutex_unlock(&s->mu);
}

static int by_id(const void *a, const void *b)
{
    uint32_t x = ((const struct actor_stat *)a)->id, y = ((const struct actor_stat *)b)->id;
    return (x > y) - (x < y);
}

int stats_set_actors(struct stats *s, const struct stats_actor *rows, int n)
{
    struct actor_stat *next = calloc(STATS_MAX_ACTORS, sizeof(*next));
    if (!next)
        return 0;
    int k = n < STATS_MAX_ACTORS ? n : STATS_MAX_ACTORS;
    for (int i = 0; i < k; i++) {
        struct actor_stat *a = &next[i];
        a->id = rows[i].id;
        copy_clean(a->name, rows[i].name ? rows[i].name : "?");
        a->heartbeat = rows[i].heartbeat;
        a->pver = rows[i].policy_version;
        a->steps = rows[i].env_steps;
        a->segments = rows[i].segments;
        a->rate.t = -1;
    }
    qsort(next, (size_t)k, sizeof(*next), by_id);
    pthread_mutex_lock(&s->mu);
    struct state *st = &s->cur;
    for (int i = 0; i < k; i++) { // rate meters carry over by id
        int j = actor_find(st, next[i].id);
        if (j >= 0)
            next[i].rate = st->actors[j].rate;
    }
    memcpy(st->actors, next, (size_t)k * sizeof(*next));
    st->nactors = k;
    pthread_mutex_unlock(&s->mu);
    free(next);
    return k;
}

// ---- snapshots -------------------------------------------------------------------------

struct stats_snap *stats_snap_new(const char *json, size_t json_len, const char *prom,
                                  size_t prom_len)
{
    struct stats_snap *sn = malloc(sizeof(*sn) + json_len + prom_len + 2);
    if (!sn)
        return NULL;
    atomic_init(&sn->refs, 1);
    sn->json = sn->text;
    sn->prom = sn->text + json_len + 1;
    sn->json_len = json_len;
    sn->prom_len = prom_len;
    memcpy(sn->json, json, json_len);
    sn->json[json_len] = '\0';
    memcpy(sn->prom, prom, prom_len);
    sn->prom[prom_len] = '\0';
    return sn;
}

struct stats_snap *stats_snap_ref(struct stats_snap *sn)
{
    RL_ASSERT(sn && atomic_load(&sn->refs) > 0);
    atomic_fetch_add_explicit(&sn->refs, 1, memory_order_relaxed);
    return sn;
}

void stats_snap_unref(struct stats_snap **psn)
{
    if (!psn || !*psn)
        return;
    struct stats_snap *sn = *psn;
    *psn = NULL;
    int old = atomic_fetch_sub_explicit(&sn->refs, 1, memory_order_acq_rel);
    RL_ASSERT(old > 0);
    if (old == 1)
        free(sn);
}

const char *stats_snap_json(const struct stats_snap *sn, size_t *len)
{
    if (len)
        *len = sn->json_len;
    return sn->json;
}

const char *stats_snap_prom(const struct stats_snap *sn, size_t *len)
{
    if (len)
        *len = sn->prom_len;
    return sn->prom;
}

int stats_snap_refs(const struct stats_snap *sn)
{
    return atomic_load(&((struct stats_snap *)sn)->refs);
}

// ---- rendering: derived values -----------------------------------------------------------

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

static uint64_t lag_of(const struct state *st, const struct actor_stat *a)
{
    return st->ln.version > a->pver ? st->ln.version - a->pver : 0;
}

static void derive(const struct state *st, struct derived *d)
{
    d->ret_n = st->ret_n;
    d->ret_mean = st->ret_mean;
    d->rejected = 0;
    for (int i = 0; i < st->rejects.n; i++)
        d->rejected += st->rejects.e[i].n;
    d->lag_max = 0;
    for (int i = 0; i < st->nactors; i++)
        d->lag_max = RL_MAX(d->lag_max, lag_of(st, &st->actors[i]));
}

// ---- rendering: JSON ---------------------------------------------------------------------

// null for non-finite values (JSON has no NaN)
static json_t *jreal(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jint(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

// set key (a steal of v); clears *ok on any failure (v NULL after an allocation failure)
static void jset(json_t *o, const char *key, json_t *v, bool *ok)
{
    if (json_object_set_new(o, key, v) != 0)
        *ok = false;
}

static json_t *json_table(const struct table *t, bool reals, bool *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = false;
        return NULL;
    }
    for (int i = 0; i < t->n; i++)
        jset(o, t->e[i].name, reals ? jreal(t->e[i].v) : jint(t->e[i].n), ok);
    return o;
}

static json_t *json_actors(const struct state *st, const struct derived *d, double now, bool *ok)
{
    json_t *arr = json_array();
    if (!arr) {
        *ok = false;
        return NULL;
    }
    for (int i = 0; i < st->nactors; i++) {
        const struct actor_stat *a = &st->actors[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) != 0) {
            *ok = false;
            break;
        }
        jset(o, "id", jint(a->id), ok);
        jset(o, "name", json_string(a->name), ok);
        jset(o, "heartbeat_age_s", a->heartbeat < 0 ? json_null() : jreal(now - a->heartbeat), ok);
        jset(o, "policy_version", jint(a->pver), ok);
        jset(o, "policy_lag", jint(lag_of(st, a)), ok);
        jset(o, "env_steps", jint(a->steps), ok);
        jset(o, "steps_per_s", jreal(d->actor_rate[i]), ok);
        jset(o, "segments", jint(a->segments), ok);
    }
    return arr;
}

// the JSON document (malloc'd, caller frees) or NULL
static char *render_json(const struct state *st, const struct derived *d, double now)
{
    bool ok = true;
    json_t *o = json_object();
    if (!o)
        return NULL;
    const struct stats_learner *ln = &st->ln;
    jset(o, "version", json_integer(STATS_JSON_VERSION), &ok);
    jset(o, "rldt_version", json_string(RLDT_VERSION), &ok);
    jset(o, "algo", json_string(st->algo), &ok);
    jset(o, "task", json_string(st->task), &ok);
    jset(o, "run_epoch", jint(st->run_epoch), &ok);
    jset(o, "uptime_s", jreal(d->uptime), &ok);
    jset(o, "finished", json_boolean(ln->finished), &ok);
    jset(o, "policy_version", jint(ln->version), &ok);
    jset(o, "env_steps", jint(st->env_steps), &ok);
    jset(o, "env_steps_per_s", jreal(d->steps_rate), &ok);
    jset(o, "updates", jint(st->updates), &ok);
    jset(o, "updates_per_s", jreal(d->upd_rate), &ok);
    jset(o, "segments", jint(st->segments), &ok);
    json_t *replay = json_object();
    jset(o, "replay", replay, &ok);
    if (replay) {
        jset(replay, "size", jint(ln->replay_size), &ok);
        jset(replay, "capacity", jint(ln->replay_cap), &ok);
        jset(replay, "bytes_per_step", jreal(ln->bytes_per_step), &ok);
    }
    jset(o, "episodes", jint(st->episodes), &ok);
    jset(o, "recent_return", jreal(d->ret_mean), &ok);
    jset(o, "recent_episodes", jint(d->ret_n), &ok);
    jset(o, "policy_lag_max", jint(d->lag_max), &ok);
    jset(o, "rejected_total", jint(d->rejected), &ok);
    jset(o, "rejected", json_table(&st->rejects, false, &ok), &ok);
    jset(o, "counters", json_table(&st->counters, false, &ok), &ok);
    json_t *notes = json_object();
    jset(o, "last_error", notes, &ok);
    for (int i = 0; notes && i < st->nnotes; i++)
        jset(notes, st->note_name[i], json_string(st->note[i]), &ok);
    jset(o, "scalars", json_table(&st->scalars, true, &ok), &ok);
    jset(o, "actors", json_actors(st, d, now, &ok), &ok);
    char *text = ok ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(o);
    return text;
}

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
        return (double)lag_of(st, a);
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
static char *render_prom(const struct state *st, const struct derived *d, double now, size_t *len)
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

struct stats_snap *stats_render(struct stats *s, double now)
{
    struct derived *d = malloc(sizeof(*d));
    if (!d)
        return NULL;
    struct state *v = &s->view;

    // rates live in cur (only this thread touches them); copy the live part of the state
    pthread_mutex_lock(&s->mu);
    struct state *st = &s->cur;
    d->steps_rate = rate_update(&st->steps_rate, st->env_steps, now);
    d->upd_rate = rate_update(&st->upd_rate, st->updates, now);
    for (int i = 0; i < st->nactors; i++)
        d->actor_rate[i] = rate_update(&st->actors[i].rate, st->actors[i].steps, now);
    memcpy(v, st, offsetof(struct state, actors) + (size_t)st->nactors * sizeof(st->actors[0]));
    pthread_mutex_unlock(&s->mu);

    d->uptime = now - s->t0;
    derive(v, d);
    struct stats_snap *sn = NULL;
    size_t plen = 0;
    char *json = render_json(v, d, now);
    char *prom = render_prom(v, d, now, &plen);
    if (json && prom)
        sn = stats_snap_new(json, strlen(json), prom, plen);
    free(json);
    free(prom);
    free(d);
    return sn;
}
