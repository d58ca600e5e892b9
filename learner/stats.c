/*
 * stats.c — the learner's metrics collector and its rendering into refcounted snapshots (JSON
 * via jansson here, Prometheus text in stats_prom.c). See stats.h for the threading rules.
 */
#include "learner/stats.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/version.h"
#include "learner/stats_impl.h"

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
uint64_t stats_lag(const struct state *st, const struct actor_stat *a)
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
        d->lag_max = RL_MAX(d->lag_max, stats_lag(st, &st->actors[i]));
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
        jset(o, "policy_lag", jint(stats_lag(st, a)), ok);
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
    char *prom = stats_render_prom(v, d, now, &plen);
    if (json && prom)
        sn = stats_snap_new(json, strlen(json), prom, plen);
    free(json);
    free(prom);
    free(d);
    return sn;
}
