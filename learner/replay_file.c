/*
 * replay_file.c — saving the replay to a file and loading it back (see replay.h), for resumed
 * runs: the live steps oldest first, their images (shared between a step's next image and the
 * following step's image), checked against the ring's dimensions on load.
 */
#include "learner/replay.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ckpt.h"
#include "common/util.h"
#include "learner/replay_impl.h"

#define REPLAY_META 8 /* obs_dim, act_dim, count, inserted, evicted, env_steps, 2 reserved */

// the file's layout hash: its dimensions (a replay of another task is refused on load)
static uint64_t dims_hash(int O, int D, size_t ib)
{
    return 0x52504c5900000000ull ^ ((uint64_t)(uint32_t)O << 16) ^ (uint64_t)(uint32_t)D ^
           ((uint64_t)ib << 32);
}

// the images of n stored steps, oldest first, as the file keeps them: share[k] = 1 when step
// k's image is step k-1's next image; rows holds the m = n + (steps with share 0) images
struct img_file {
    uint8_t *share;
    uint8_t *rows;
    size_t m;
};

// copy the ring's images of its n live (not quarantined) steps, oldest first (under the lock);
// false on ENOMEM. A quarantined segment in between ends sharing: the next live step starts a
// segment, whose first image has a row of its own.
static bool img_snapshot(struct replay *r, long n, struct img_file *f)
{
    f->share = calloc((size_t)(n > 0 ? n : 1), 1);
    f->rows = malloc(((size_t)n * 2 + 1) * r->ib);
    f->m = 0;
    if (!f->share || !f->rows)
        return false;
    long prev = -1;
    for (long k = 0, j = 0; k < r->size; k++) {
        long i = slot_of(r, k);
        if (r->dead[i])
            continue;
        long a = r->irow[i];
        f->share[j] = j > 0 && a == (prev + 1) % r->icap;
        if (!f->share[j])
            memcpy(f->rows + f->m++ * r->ib, r->imgs + (size_t)a * r->ib, r->ib);
        memcpy(f->rows + f->m++ * r->ib, r->imgs + (size_t)((a + 1) % r->icap) * r->ib, r->ib);
        prev = a;
        j++;
    }
    return true;
}

// copy step i of src to step k of dst
static void copy_step(const struct rows *src, long i, struct rows *dst, long k, size_t O, size_t D)
{
#define CP(f, n) memcpy(dst->f + (size_t)k * (n), src->f + (size_t)i * (n), (n) * sizeof(*dst->f))
    CP(obs, O);
    CP(next_obs, O);
    CP(act, D);
    CP(rew, 1);
    CP(steps, 1);
    CP(term, 1);
    CP(traj, 1);
    CP(serial, 1);
    CP(pos, 1);
    CP(len, 1);
#undef CP
}

long replay_save(struct replay *r, const char *path, uint64_t env_steps, char *err, size_t errlen)
{
    struct rows s;
    uint64_t meta[REPLAY_META] = {0};
    // copy under the lock (oldest first), write without it: ingest goes on meanwhile
    struct img_file f = {0};
    pthread_mutex_lock(&r->lock);
    long n = r->size - r->ndead; /* quarantined steps are not saved */
    bool ok = rows_alloc(&s, n, r->O, r->D) && (!r->ib || img_snapshot(r, n, &f));
    if (ok) {
        for (long k = 0, m = 0; k < r->size; k++)
            if (!r->dead[slot_of(r, k)])
                copy_step(&r->d, slot_of(r, k), &s, m++, (size_t)r->O, (size_t)r->D);
        meta[0] = (uint64_t)r->O;
        meta[1] = (uint64_t)r->D;
        meta[2] = (uint64_t)n;
        meta[3] = r->inserted;
        meta[4] = r->evicted;
        meta[5] = env_steps;
        meta[6] = r->ib;
    }
    pthread_mutex_unlock(&r->lock);
    if (!ok) {
        free(f.share);
        free(f.rows);
        snprintf(err, errlen, "out of memory copying %ld replay steps", n);
        return -ENOMEM;
    }
    size_t un = (size_t)n, O = (size_t)r->O, D = (size_t)r->D;
    struct ckpt_writer *w = ckpt_writer_new("RPLY", dims_hash(r->O, r->D, r->ib));
    int rc = w ? 0 : -ENOMEM;
    if (!rc)
        rc = ckpt_add(w, "meta", meta, sizeof(meta));
    if (!rc)
        rc = ckpt_add(w, "obs", s.obs, un * O * sizeof(float));
    if (!rc)
        rc = ckpt_add(w, "next_obs", s.next_obs, un * O * sizeof(float));
    if (!rc)
        rc = ckpt_add(w, "act", s.act, un * D * sizeof(float));
    if (!rc)
        rc = ckpt_add(w, "rew", s.rew, un * sizeof(float));
    if (!rc)
        rc = ckpt_add(w, "steps", s.steps, un * sizeof(float));
    if (!rc)
        rc = ckpt_add(w, "term", s.term, un);
    if (!rc)
        rc = ckpt_add(w, "traj", s.traj, un * sizeof(uint64_t));
    if (!rc)
        rc = ckpt_add(w, "serial", s.serial, un * sizeof(uint64_t));
    if (!rc)
        rc = ckpt_add(w, "pos", s.pos, un * sizeof(int32_t));
    if (!rc)
        rc = ckpt_add(w, "len", s.len, un * sizeof(int32_t));
    if (!rc && r->ib)
        rc = ckpt_add(w, "img_share", f.share, un);
    if (!rc && r->ib)
        rc = ckpt_add(w, "img_rows", f.rows, f.m * r->ib);
    if (rc)
        snprintf(err, errlen, "cannot assemble replay file: %s", strerror(-rc));
    else
        rc = ckpt_writer_save(w, path, err, errlen);
    ckpt_writer_destroy(&w);
    rows_free(&s);
    free(f.share);
    free(f.rows);
    return rc < 0 ? rc : n;
}

// point a snapshot's arrays into a loaded file (sizes checked)
static int snapshot_view(const struct ckpt *k, struct rows *s, long n, int O, int D, char *err,
                         size_t errlen)
{
    struct {
        const char *name;
        void **dst;
        size_t size;
    } sec[] = {
        {"obs", (void **)&s->obs, (size_t)n * (size_t)O * sizeof(float)},
        {"next_obs", (void **)&s->next_obs, (size_t)n * (size_t)O * sizeof(float)},
        {"act", (void **)&s->act, (size_t)n * (size_t)D * sizeof(float)},
        {"rew", (void **)&s->rew, (size_t)n * sizeof(float)},
        {"steps", (void **)&s->steps, (size_t)n * sizeof(float)},
        {"term", (void **)&s->term, (size_t)n},
        {"traj", (void **)&s->traj, (size_t)n * sizeof(uint64_t)},
        {"serial", (void **)&s->serial, (size_t)n * sizeof(uint64_t)},
        {"pos", (void **)&s->pos, (size_t)n * sizeof(int32_t)},
        {"len", (void **)&s->len, (size_t)n * sizeof(int32_t)},
    };
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < sizeof(sec) / sizeof(sec[0]); i++) {
        size_t size;
        const void *p = ckpt_get(k, sec[i].name, &size);
        if (!p || size != sec[i].size) {
            snprintf(err, errlen, "section %s %s", sec[i].name,
                     p ? "has the wrong size" : "is missing");
            return -EPROTO;
        }
        *sec[i].dst = (void *)p;
    }
    return 0;
}

// the image sections of a file of n steps (a replay with images): share flags 0/1 that only
// join consecutive steps of one segment, and n + (unshared steps) rows
static int img_view(const struct ckpt *k, const struct rows *s, long n, size_t ib,
                    struct img_file *f, char *e, size_t elen)
{
    size_t ns, nr;
    f->share = (uint8_t *)ckpt_get(k, "img_share", &ns);
    f->rows = (uint8_t *)ckpt_get(k, "img_rows", &nr);
    if (!f->share || !f->rows || ns != (size_t)n)
        return snprintf(e, elen, "image sections missing or of the wrong size"), -EPROTO;
    f->m = 0;
    for (long i = 0; i < n; i++) {
        bool joins = i > 0 && s->traj[i] == s->traj[i - 1] && s->pos[i] == s->pos[i - 1] + 1;
        if (f->share[i] > 1 || (f->share[i] && !joins))
            return snprintf(e, elen, "image share flag of step %ld is malformed", i), -EPROTO;
        f->m += f->share[i] ? 1 : 2;
    }
    if (nr != f->m * ib)
        return snprintf(e, elen, "%zu image bytes, expected %zu", nr, f->m * ib), -EPROTO;
    return 0;
}

// store the file's steps skip..n-1 (at most cap) oldest first, with their images
static void restore(struct replay *r, const struct rows *s, const struct img_file *f, long n,
                    long skip)
{
    size_t fr = 0, ib = r->ib; /* fr: next unread image row of the file */
    long row = 0;
    r->head = r->size = 0;
    memset(r->dead, 0, (size_t)r->cap);
    r->ndead = 0;
    for (long i = 0; i < n; i++) {
        bool shared = ib && f->share[i];
        size_t own = shared ? fr - 1 : fr++, next = ib ? fr++ : 0;
        if (i < skip)
            continue;
        if (ib) {
            row = shared && i > skip ? (row + 1) % r->icap : put_img(r, f->rows + own * ib);
            put_img(r, f->rows + next * ib);
            r->irow[r->head] = row;
        }
        copy_step(s, i, &r->d, r->head, (size_t)r->O, (size_t)r->D);
        r->head = (r->head + 1) % r->cap;
        r->size++;
    }
}

long replay_load(struct replay *r, const char *path, uint64_t *env_steps, char *err, size_t errlen)
{
    char e[256];
    struct ckpt *k = ckpt_load(path, "RPLY", dims_hash(r->O, r->D, r->ib), e, sizeof(e));
    if (!k) {
        snprintf(err, errlen, "%s: %s", path, e);
        return -EPROTO;
    }
    uint64_t meta[REPLAY_META];
    struct rows s;
    struct img_file f = {0};
    long rc = ckpt_read(k, "meta", meta, sizeof(meta), e, sizeof(e));
    if (!rc && (meta[0] != (uint64_t)r->O || meta[1] != (uint64_t)r->D || meta[6] != r->ib)) {
        snprintf(e, sizeof(e), "dimensions obs %llu act %llu image %llu, this run has %d, %d, %zu",
                 (unsigned long long)meta[0], (unsigned long long)meta[1],
                 (unsigned long long)meta[6], r->O, r->D, r->ib);
        rc = -EINVAL;
    }
    if (!rc && (meta[2] > (uint64_t)1e10 || meta[2] > meta[3])) {
        snprintf(e, sizeof(e), "implausible step count %llu", (unsigned long long)meta[2]);
        rc = -EPROTO;
    }
    long n = rc ? 0 : (long)meta[2];
    if (!rc)
        rc = snapshot_view(k, &s, n, r->O, r->D, e, sizeof(e));
    for (long i = 0; !rc && i < n; i++)
        if (s.len[i] < 1 || s.pos[i] < 0 || s.pos[i] >= s.len[i] || s.term[i] > 1 ||
            !(s.steps[i] >= 0) || !isfinite(s.rew[i])) {
            snprintf(e, sizeof(e), "step %ld is malformed", i);
            rc = -EPROTO;
        }
    if (!rc && r->ib)
        rc = img_view(k, &s, n, r->ib, &f, e, sizeof(e));
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, e);
        ckpt_destroy(&k);
        return rc;
    }
    // the newest steps that fit, oldest first from slot 0
    long skip = n - RL_MIN(n, r->cap);
    pthread_mutex_lock(&r->lock);
    if (r->size != 0) {
        pthread_mutex_unlock(&r->lock);
        snprintf(err, errlen, "%s: the replay already holds steps", path);
        ckpt_destroy(&k);
        return -EBUSY;
    }
    r->evicted = 0; /* counts steps that images pushed out while restoring */
    restore(r, &s, &f, n, skip);
    if (r->has)
        memset(r->has, 0, (size_t)r->cap);
    long keep = r->size;
    r->inserted = meta[3];
    r->evicted += meta[4] + (uint64_t)skip;
    reclassify(r);
    pthread_mutex_unlock(&r->lock);
    if (env_steps)
        *env_steps = meta[5];
    ckpt_destroy(&k);
    return keep;
}
