/*
 * checkpoint.c — save, rotate and resume learner checkpoints (see checkpoint.h).
 */
#include "learner/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/afile.h"
#include "common/ckpt.h"
#include "common/log.h"
#include "common/policy.h"
#include "common/util.h"
#include "learner/shared.h"

#define MAX_FILES 4096
#define COUNTERS 6

static int list(const char *dir, char names[][64], int max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len < 64 && !strncmp(e->d_name, "ckpt-", 5) && len > 10 &&
            !strcmp(e->d_name + len - 5, ".rldt"))
            memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    return n;
}

static int cmp_desc(const void *a, const void *b)
{
    return strcmp(b, a);
}

static char (*sorted_files(const char *dir, int *n))[64]
{
    char(*names)[64] = calloc(MAX_FILES, 64);
    *n = names ? list(dir, names, MAX_FILES) : 0;
    if (names)
        qsort(names, (size_t)*n, 64, cmp_desc);
    return names;
}

int checkpoint_clean_tmp(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    size_t plen = strlen(prefix);
    while ((e = readdir(d))) {
        char path[CONFIG_STR + 320];
        if (strncmp(e->d_name, prefix, plen) || !strstr(e->d_name + plen, ".tmp."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        n += unlink(path) == 0;
    }
    closedir(d);
    if (n)
        log_info("removed %d unfinished file(s) %s*.tmp.* in %s", n, prefix, dir);
    return n;
}

static void rotate(const char *dir, int keep)
{
    checkpoint_clean_tmp(dir, "ckpt-");
    int n;
    char(*names)[64] = sorted_files(dir, &n);
    for (int i = keep; i < n; i++) {
        char path[CONFIG_STR + 96];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    free(names);
}

int checkpoint_save(const struct algo_ops *ops, struct algo *a, struct shared *s, char *err,
                    size_t errlen)
{
    char dir[CONFIG_STR + 32], path[CONFIG_STR + 96];
    snprintf(dir, sizeof(dir), "%s/checkpoints", s->cfg.run_dir);
    uint64_t ctr[COUNTERS] = {atomic_load(&s->env_steps), atomic_load(&s->chunk_steps),
                              atomic_load(&s->segments),  atomic_load(&s->episodes),
                              atomic_load(&s->updates),   atomic_load(&s->version)};
    snprintf(path, sizeof(path), "%s/ckpt-%014llu.rldt", dir, (unsigned long long)ctr[4]);
    struct ckpt_writer *w = ckpt_writer_new("CKPT", ops->policy_layout(a));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    uint64_t inserted = (uint64_t)replay_inserted(s->replay); /* read after the counters */
    int rc = ckpt_add(w, "learner.counters", ctr, sizeof(ctr));
    if (!rc)
        rc = ckpt_add(w, "learner.replay_inserted", &inserted, sizeof(inserted));
    if (!rc)
        rc = ckpt_add(w, "learner.config", s->cfg_text, strlen(s->cfg_text) + 1);
    if (!rc)
        rc = ckpt_add(w, "learner.algo", ops->name, strlen(ops->name) + 1);
    if (!rc)
        rc = ops->save(a, w);
    // the policy in the form actors and `rldt eval` load (common/policy.h: policy_load)
    size_t nw = ops->policy_size(a);
    float *weights = malloc(nw * sizeof(float) + 1);
    uint64_t layout = ops->policy_layout(a);
    const char *kind = algo_policy_kind(ops, a);
    RL_ASSERT(kind); /* every registered algorithm has its algoinfo row (test_config) */
    if (!weights)
        rc = rc ? rc : -ENOMEM;
    else
        ops->policy_export(a, weights);
    if (!rc)
        rc = ckpt_add(w, "policy.kind", kind, strlen(kind) + 1);
    if (!rc)
        rc = ckpt_add(w, "policy.layout", &layout, sizeof(layout));
    if (!rc)
        rc = ckpt_add(w, "policy.weights", weights, nw * sizeof(float));
    const float *b[4];
    float *bounds = NULL;
    int O = s->dims.obs_dim, A = s->dims.act_dim;
    if (!rc && ops->bounds(a, &b[0], &b[1], &b[2], &b[3])) {
        bounds = malloc((size_t)(2 * O + 2 * A) * sizeof(float));
        if (!bounds) {
            rc = -ENOMEM;
        } else {
            memcpy(bounds, b[0], (size_t)O * sizeof(float));
            memcpy(bounds + O, b[1], (size_t)O * sizeof(float));
            memcpy(bounds + 2 * O, b[2], (size_t)A * sizeof(float));
            memcpy(bounds + 2 * O + A, b[3], (size_t)A * sizeof(float));
            rc = ckpt_add(w, "policy.bounds", bounds, (size_t)(2 * O + 2 * A) * sizeof(float));
        }
    }
    if (rc < 0)
        snprintf(err, errlen, "cannot assemble checkpoint: %s", strerror(-rc));
    else
        rc = ckpt_writer_save(w, path, err, errlen);
    ckpt_writer_destroy(&w);
    free(weights);
    free(bounds);
    if (!rc) {
        log_info("checkpoint %s (env_steps=%llu updates=%llu)", path, (unsigned long long)ctr[0],
                 (unsigned long long)ctr[4]);
        rotate(dir, s->cfg.keep_checkpoints);
    }
    return rc;
}

static int restore(const struct algo_ops *ops, struct algo *a, const struct rl_config *c,
                   struct shared *s, const struct ckpt *k, char *err, size_t errlen)
{
    size_t len;
    const char *algo = ckpt_get(k, "learner.algo", &len);
    if (!algo || len == 0 || algo[len - 1] || strcmp(algo, ops->name)) {
        snprintf(err, errlen, "written by algorithm '%s', this run is '%s'",
                 algo && len && !algo[len - 1] ? algo : "?", ops->name);
        return -EINVAL;
    }
    const char *text = ckpt_get(k, "learner.config", &len);
    struct rl_config old;
    config_default(&old);
    if (!text || len == 0 || text[len - 1] || config_load_string(&old, text, err, errlen) < 0) {
        snprintf(err, errlen, "its config section is unreadable");
        return -EPROTO;
    }
    if (strcmp(old.env, c->env) || old.chunk != c->chunk) {
        snprintf(err, errlen, "written for task %s chunk %d, this run is %s chunk %d", old.env,
                 old.chunk, c->env, c->chunk);
        return -EINVAL;
    }
    uint64_t ctr[COUNTERS];
    int rc = ckpt_read(k, "learner.counters", ctr, sizeof(ctr), err, errlen);
    if (!rc)
        rc = ops->load(a, k, err, errlen);
    if (rc < 0)
        return rc;
    atomic_store(&s->env_steps, ctr[0]);
    atomic_store(&s->chunk_steps, ctr[1]);
    atomic_store(&s->segments, ctr[2]);
    atomic_store(&s->episodes, ctr[3]);
    atomic_store(&s->updates, ctr[4]);
    atomic_store(&s->version, ctr[5]);
    const uint64_t *ins = ckpt_get(k, "learner.replay_inserted", &len);
    s->resume_trim = ins && len == sizeof(*ins);
    if (s->resume_trim)
        memcpy(&s->resume_inserted, ins, sizeof(*ins));
    return 0;
}

int checkpoint_resume(const struct algo_ops *ops, struct algo *a, const struct rl_config *c,
                      struct shared *s, char *err, size_t errlen)
{
    char dir[CONFIG_STR + 32];
    snprintf(dir, sizeof(dir), "%s/checkpoints", c->run_dir);
    int n;
    char(*names)[64] = sorted_files(dir, &n);
    if (!names) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc = 0;
    if (n == 0)
        log_info("resume: no checkpoint in %s, starting fresh", dir);
    for (int i = 0; i < n; i++) {
        char path[CONFIG_STR + 96], e[512];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        struct ckpt *k = ckpt_load(path, "CKPT", ops->policy_layout(a), e, sizeof(e));
        rc = k ? restore(ops, a, c, s, k, e, sizeof(e)) : -EPROTO;
        ckpt_destroy(&k);
        if (rc == 0) {
            log_info("resumed from %s (env_steps=%llu updates=%llu version=%llu)", path,
                     (unsigned long long)atomic_load(&s->env_steps),
                     (unsigned long long)atomic_load(&s->updates),
                     (unsigned long long)atomic_load(&s->version));
            break;
        }
        log_warn("skipping checkpoint %s: %s", path, e);
        snprintf(err, errlen, "no usable checkpoint in %s (newest: %s)", dir, e);
        if (rc == -EINVAL)
            break; /* another task or algorithm: do not fall back silently */
    }
    free(names);
    return rc;
}

// A resumed run restarts at its checkpoint: rows of <run_dir>/<name> written after that checkpoint
// (env_steps, the second column, beyond it) describe work that was lost, so they move to
// <name>.superseded and the file keeps one timeline. Returns wall_s of the last row kept (or 0).
double checkpoint_trim_csv(const char *run_dir, const char *name, uint64_t steps)
{
    char path[CONFIG_STR + 32], old[CONFIG_STR + 48];
    snprintf(path, sizeof(path), "%s/%s", run_dir, name);
    snprintf(old, sizeof(old), "%s.superseded", path);
    FILE *in = fopen(path, "r");
    if (!in)
        return 0;
    struct afile a;
    int rc = afile_open(&a, path, 0644);
    FILE *out = rc ? NULL : afile_stream(&a), *gone = NULL;
    if (!out) {
        fclose(in);
        afile_abort(&a);
        log_warn("resume: cannot rewrite %s: %s", path, strerror(rc ? -rc : errno));
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    double wall = 0;
    long dropped = 0;
    bool ok = true;
    while (getline(&line, &cap, in) > 0) {
        char *e, *f;
        double w = strtod(line, &e);
        unsigned long long at = *e == ',' ? strtoull(e + 1, &f, 10) : 0;
        bool row = e != line && *e == ',' && f != e + 1 && (*f == ',' || *f == '\n');
        if (row && at > steps) {
            if (!gone && !(gone = fopen(old, "a")))
                ok = false;
            if (gone)
                fputs(line, gone);
            dropped++;
            continue;
        }
        if (row && isfinite(w) && w > 0)
            wall = w;
        fputs(line, out);
    }
    free(line);
    ok = ok && !ferror(in);
    fclose(in);
    if (gone && fclose(gone) != 0)
        ok = false;
    if (!ok || dropped == 0)
        afile_abort(&a);
    if (ok && dropped > 0 && afile_commit(&a) != 0)
        ok = false;
    if (!ok) {
        log_warn("resume: cannot rewrite %s; rows after the checkpoint stay in it", path);
        return wall;
    }
    if (dropped > 0)
        log_info("resume: %ld row(s) of %s after env_steps=%llu moved to %s", dropped, name,
                 (unsigned long long)steps, old);
    return wall;
}
