/*
 * actors.c — the actor table (see actors.h).
 */
#include "learner/actors.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/util.h"

struct slot {
    struct actor_row row;
    struct wire_session session;
    char key[ACTORS_KEY];
    double params_at; /* rl_now() of the last answered params request, < 0: none */
};

struct actors {
    pthread_mutex_t lock;
    int n;
    uint32_t next_id;
    uint64_t draws; /* sessions drawn (mixes into the fallback generator) */
    struct slot slot[ACTORS_MAX];
};

struct actors *actors_new(void)
{
    struct actors *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->next_id = 1;
    return t;
}

void actors_destroy(struct actors **pt)
{
    if (!pt || !*pt)
        return;
    pthread_mutex_destroy(&(*pt)->lock);
    free(*pt);
    *pt = NULL;
}

// a fresh secret from the kernel; if that fails, from the clock and a counter (never all zero)
static void draw_session(struct actors *t, struct wire_session *s)
{
    if (getrandom(s->b, sizeof(s->b), 0) != (ssize_t)sizeof(s->b)) {
        uint64_t x = (uint64_t)(rl_wall() * 1e9) ^ (++t->draws * 0x9e3779b97f4a7c15ull);
        for (int i = 0; i < WIRE_SESSION_LEN; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            s->b[i] = (uint8_t)x;
        }
    }
    if (!wire_session_set(s))
        s->b[0] = 1;
}

static struct slot *find(struct actors *t, uint32_t id)
{
    for (int i = 0; i < t->n; i++)
        if (t->slot[i].row.id == id && t->slot[i].row.alive)
            return &t->slot[i];
    return NULL;
}

// a slot for a new registration: a fresh one, a gone one, else the oldest unconfirmed one
static struct slot *free_slot(struct actors *t)
{
    if (t->n < ACTORS_MAX)
        return &t->slot[t->n++];
    struct slot *old = NULL;
    for (int i = 0; i < t->n; i++) {
        struct actor_row *r = &t->slot[i].row;
        if (!r->alive)
            return &t->slot[i];
        if (r->heartbeat < 0 && (!old || r->registered < old->row.registered))
            old = &t->slot[i];
    }
    return old;
}

uint32_t actors_register(struct actors *t, const char *name, int num_envs, bool evaluator,
                         const char *key, struct wire_session *session)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = free_slot(t);
    uint32_t id = 0;
    if (s) {
        memset(s, 0, sizeof(*s));
        struct actor_row *r = &s->row;
        r->id = id = t->next_id++;
        snprintf(r->name, sizeof(r->name), "%s", name);
        r->alive = true;
        r->evaluator = evaluator;
        r->num_envs = num_envs;
        r->registered = rl_now();
        r->heartbeat = -1;
        snprintf(s->key, sizeof(s->key), "%s", key ? key : "");
        s->params_at = -1;
        draw_session(t, &s->session);
        *session = s->session;
    }
    pthread_mutex_unlock(&t->lock);
    return id;
}

// the live slot of p, or NULL with the reason in *why (call with the lock held)
static struct slot *lookup(struct actors *t, const struct actors_peer *p, enum actors_check *why)
{
    struct slot *s = find(t, p->id);
    *why = ACTORS_OK;
    if (!s)
        *why = ACTORS_UNKNOWN;
    else if (!wire_session_equal(&s->session, p->session) || strcmp(s->key, p->key ? p->key : ""))
        *why = ACTORS_BAD_SESSION;
    return *why == ACTORS_OK ? s : NULL;
}

enum actors_check actors_heartbeat(struct actors *t, const struct actors_peer *p,
                                   const struct wire_heartbeat *h)
{
    enum actors_check why;
    pthread_mutex_lock(&t->lock);
    struct slot *s = lookup(t, p, &why);
    if (s) {
        struct actor_row *r = &s->row;
        r->heartbeat = rl_now();
        r->env_steps = h->env_steps;
        r->episodes = h->episodes;
        r->policy_version = h->policy_version;
        r->steps_per_sec = h->steps_per_sec;
        r->send_stalls = h->send_stalls;
        r->send_wait_s = h->send_wait_s;
    }
    pthread_mutex_unlock(&t->lock);
    return why;
}

enum actors_check actors_segment(struct actors *t, const struct actors_peer *p, uint64_t seq,
                                 uint64_t version, uint64_t env_steps)
{
    enum actors_check why;
    pthread_mutex_lock(&t->lock);
    struct slot *s = lookup(t, p, &why);
    if (s && s->row.segments > 0 && seq <= s->row.last_seq)
        why = ACTORS_DUPLICATE;
    if (why == ACTORS_OK) {
        struct actor_row *r = &s->row;
        r->segments++;
        r->steps_in += env_steps;
        r->last_seq = seq;
        r->policy_version = version;
    }
    pthread_mutex_unlock(&t->lock);
    return why;
}

enum actors_check actors_eval(struct actors *t, const struct actors_peer *p)
{
    enum actors_check why;
    pthread_mutex_lock(&t->lock);
    struct slot *s = lookup(t, p, &why);
    if (s && !s->row.evaluator)
        why = ACTORS_NOT_EVAL;
    pthread_mutex_unlock(&t->lock);
    return why;
}

enum actors_check actors_params(struct actors *t, const struct actors_peer *p, double min_interval)
{
    enum actors_check why;
    double now = rl_now();
    pthread_mutex_lock(&t->lock);
    struct slot *s = lookup(t, p, &why);
    if (s && s->params_at >= 0 && now - s->params_at < min_interval)
        why = ACTORS_TOO_SOON;
    else if (s)
        s->params_at = now;
    pthread_mutex_unlock(&t->lock);
    return why;
}

enum actors_check actors_remove(struct actors *t, const struct actors_peer *p)
{
    enum actors_check why;
    pthread_mutex_lock(&t->lock);
    struct slot *s = lookup(t, p, &why);
    if (s)
        s->row.alive = false;
    pthread_mutex_unlock(&t->lock);
    return why;
}

int actors_expire(struct actors *t, double timeout, double confirm)
{
    double now = rl_now();
    int n = 0;
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < t->n; i++) {
        struct actor_row *r = &t->slot[i].row;
        bool silent = r->heartbeat >= 0 ? now - r->heartbeat > timeout
                                        : now - r->registered > RL_MIN(confirm, timeout);
        if (r->alive && silent) {
            r->alive = false;
            n++;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

int actors_rows(struct actors *t, struct actor_row *rows, int max, int *alive)
{
    int k = 0, a = 0;
    pthread_mutex_lock(&t->lock);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < t->n; i++) {
            const struct actor_row *r = &t->slot[i].row;
            if (pass == 0 ? !r->alive : r->alive)
                continue;
            a += pass == 0;
            if (k < max)
                rows[k++] = *r;
        }
    pthread_mutex_unlock(&t->lock);
    if (alive)
        *alive = a;
    return k;
}
