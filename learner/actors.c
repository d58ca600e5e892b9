/*
 * actors.c — the actor table (see actors.h).
 */
#include "learner/actors.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct actors {
    pthread_mutex_t lock;
    int n;
    uint32_t next_id;
    struct actor_row row[ACTORS_MAX];
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

static struct actor_row *find(struct actors *t, uint32_t id)
{
    for (int i = 0; i < t->n; i++)
        if (t->row[i].id == id)
            return &t->row[i];
    return NULL;
}

uint32_t actors_register(struct actors *t, const char *name, int num_envs)
{
    pthread_mutex_lock(&t->lock);
    struct actor_row *r = NULL;
    if (t->n < ACTORS_MAX) {
        r = &t->row[t->n++];
    } else {
        // reuse the slot of a gone actor
        for (int i = 0; i < t->n && !r; i++)
            if (!t->row[i].alive)
                r = &t->row[i];
    }
    uint32_t id = 0;
    if (r) {
        memset(r, 0, sizeof(*r));
        r->id = id = t->next_id++;
        snprintf(r->name, sizeof(r->name), "%s", name);
        r->alive = true;
        r->num_envs = num_envs;
        r->last_seen = rl_now();
    }
    pthread_mutex_unlock(&t->lock);
    return id;
}

bool actors_heartbeat(struct actors *t, uint32_t id, uint64_t env_steps, uint64_t episodes,
                      uint64_t version, double steps_per_sec, uint64_t stalls, double wait_s)
{
    pthread_mutex_lock(&t->lock);
    struct actor_row *r = find(t, id);
    bool ok = r && r->alive;
    if (ok) {
        r->last_seen = rl_now();
        r->env_steps = env_steps;
        r->episodes = episodes;
        r->policy_version = version;
        r->steps_per_sec = steps_per_sec;
        r->send_stalls = stalls;
        r->send_wait_s = wait_s;
    }
    pthread_mutex_unlock(&t->lock);
    return ok;
}

enum actors_check actors_segment(struct actors *t, uint32_t id, uint64_t seq, uint64_t version)
{
    pthread_mutex_lock(&t->lock);
    struct actor_row *r = find(t, id);
    enum actors_check out = ACTORS_OK;
    if (!r || !r->alive)
        out = ACTORS_UNKNOWN;
    else if (r->segments > 0 && seq <= r->last_seq)
        out = ACTORS_DUPLICATE;
    if (out == ACTORS_OK) {
        r->segments++;
        r->last_seq = seq;
        r->last_seen = rl_now();
        r->policy_version = version;
    }
    pthread_mutex_unlock(&t->lock);
    return out;
}

void actors_remove(struct actors *t, uint32_t id)
{
    pthread_mutex_lock(&t->lock);
    struct actor_row *r = find(t, id);
    if (r)
        r->alive = false;
    pthread_mutex_unlock(&t->lock);
}

int actors_expire(struct actors *t, double timeout)
{
    double now = rl_now();
    int n = 0;
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < t->n; i++)
        if (t->row[i].alive && now - t->row[i].last_seen > timeout) {
            t->row[i].alive = false;
            n++;
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
            bool want = pass == 0 ? t->row[i].alive : !t->row[i].alive;
            if (!want)
                continue;
            a += pass == 0;
            if (k < max)
                rows[k++] = t->row[i];
        }
    pthread_mutex_unlock(&t->lock);
    if (alive)
        *alive = a;
    return k;
}
