/*
 * h5data.c — D4RL and Minari HDF5 layouts to and from struct dataset (h5data.h).
 */
#include "deploy/rldt/h5data.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/task.h"

/* one array read as float32: rank 1 (cols 0) or rank 2 */
struct arr {
    float *v;
    long rows, cols;
};

static void quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported by us, not printed by hdf5 */
}

/* open loc/name as a dataset of the given rank; its dims in dims[0..rank) */
static hid_t open_ds(hid_t loc, const char *where, const char *name, int rank, hsize_t *dims,
                     char *err, size_t errlen)
{
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) {
        snprintf(err, errlen, "missing key '%s%s'", where, name);
        return -1;
    }
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) {
        snprintf(err, errlen, "'%s%s' is not a dataset (dict observation spaces are not supported)",
                 where, name);
        return -1;
    }
    hid_t sp = H5Dget_space(ds);
    int r = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    if (r == rank)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    if (r != rank) {
        snprintf(err, errlen, "'%s%s' has rank %d, expected %d", where, name, r, rank);
        H5Dclose(ds);
        return -1;
    }
    return ds;
}

static int check_finite(const char *where, const char *name, const struct arr *a, char *err,
                        size_t errlen)
{
    long w = a->cols ? a->cols : 1;
    for (long i = 0; i < a->rows * w; i++) {
        if (!isfinite(a->v[i])) {
            snprintf(err, errlen, "'%s%s' holds a non-finite value at row %ld", where, name, i / w);
            return -EINVAL;
        }
    }
    return 0;
}

/* read a numeric dataset of rank 1 or 2 as float32, checked finite */
static int read_arr(hid_t loc, const char *where, const char *name, int rank, struct arr *a,
                    char *err, size_t errlen)
{
    hsize_t dims[2] = {0, 0};
    memset(a, 0, sizeof(*a));
    hid_t ds = open_ds(loc, where, name, rank, dims, err, errlen);
    if (ds < 0)
        return -EINVAL;
    int rc = -EINVAL;
    hid_t ty = H5Dget_type(ds);
    H5T_class_t cls = H5Tget_class(ty);
    H5Tclose(ty);
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
        snprintf(err, errlen, "'%s%s' is not numeric", where, name);
        goto out;
    }
    a->rows = (long)dims[0];
    a->cols = rank == 2 ? (long)dims[1] : 0;
    size_t count = (size_t)dims[0] * (rank == 2 ? (size_t)dims[1] : 1);
    a->v = malloc((count ? count : 1) * sizeof(float));
    if (!a->v) {
        snprintf(err, errlen, "out of memory reading '%s%s'", where, name);
        rc = -ENOMEM;
        goto out;
    }
    if (count && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->v) < 0) {
        snprintf(err, errlen, "cannot read '%s%s'", where, name);
        goto out;
    }
    rc = check_finite(where, name, a, err, errlen);
out:
    H5Dclose(ds);
    if (rc) {
        free(a->v);
        a->v = NULL;
    }
    return rc;
}

/* read a rank-1 flag dataset of n rows (bool enum, integer or float) into out[n] as 0/1 */
static int read_flags(hid_t loc, const char *where, const char *name, long n, uint8_t *out,
                      char *err, size_t errlen)
{
    hsize_t dims[1] = {0};
    hid_t ds = open_ds(loc, where, name, 1, dims, err, errlen);
    if (ds < 0)
        return -EINVAL;
    int rc = -EINVAL;
    double *v = NULL;
    hid_t ty = H5Dget_type(ds);
    H5T_class_t cls = H5Tget_class(ty);
    if ((long)dims[0] != n) {
        snprintf(err, errlen, "'%s%s' has %llu rows, observations imply %ld", where, name,
                 (unsigned long long)dims[0], n);
        goto out;
    }
    v = malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!v) {
        rc = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (cls == H5T_ENUM) { /* h5py's bool: an enum over int8; read its raw values */
        hid_t mt = H5Tget_native_type(ty, H5T_DIR_ASCEND);
        herr_t r = mt >= 0 && H5Tget_size(mt) == 1 ? 0 : -1;
        if (r >= 0 && n)
            r = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
        for (long i = 0; r >= 0 && i < n; i++)
            v[i] = (int8_t)out[i];
        if (mt >= 0)
            H5Tclose(mt);
        if (r < 0) {
            snprintf(err, errlen, "cannot read '%s%s' (enum other than bool)", where, name);
            goto out;
        }
    } else if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        snprintf(err, errlen, "'%s%s' is not a bool, integer or float dataset", where, name);
        goto out;
    } else if (n && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        snprintf(err, errlen, "cannot read '%s%s'", where, name);
        goto out;
    }
    for (long i = 0; i < n; i++) {
        if (v[i] != 0 && v[i] != 1) {
            snprintf(err, errlen, "'%s%s' holds %g at row %ld (flags are 0 or 1)", where, name,
                     v[i], i);
            goto out;
        }
        out[i] = v[i] == 1;
    }
    rc = 0;
out:
    free(v);
    H5Tclose(ty);
    H5Dclose(ds);
    return rc;
}

/* the root string attribute name into out; -ENOENT when absent */
static int read_str_attr(hid_t f, const char *name, char *out, size_t outlen)
{
    if (H5Aexists(f, name) <= 0)
        return -ENOENT;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    hid_t ty = a < 0 ? -1 : H5Aget_type(a);
    int rc = -EINVAL;
    if (ty >= 0 && H5Tget_class(ty) == H5T_STRING) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mt, H5Tget_cset(ty)); /* no conversion between ASCII and UTF-8 */
        if (H5Tis_variable_str(ty) > 0) {
            char *s = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(out, outlen, "%s", s);
                rc = 0;
            }
            H5free_memory(s);
        } else {
            H5Tset_size(mt, outlen);
            memset(out, 0, outlen);
            rc = H5Aread(a, mt, out) >= 0 ? 0 : -EINVAL;
            out[outlen - 1] = 0;
        }
        H5Tclose(mt);
    }
    if (ty >= 0)
        H5Tclose(ty);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

// ---- reading -------------------------------------------------------------------------------

/* rows (n, w) of every array agree; 0 or -EINVAL + err */
static int check_rows(const char *where, const char *name, const struct arr *a, long rows,
                      long cols, char *err, size_t errlen)
{
    if (a->rows != rows || a->cols != cols) {
        snprintf(err, errlen, "'%s%s' has shape (%ld, %ld), expected (%ld, %ld)", where, name,
                 a->rows, a->cols, rows, cols);
        return -EINVAL;
    }
    return 0;
}

struct d4rl {
    struct arr obs, act, rew, next;
    uint8_t *term, *tout;
};

static void d4rl_free(struct d4rl *x)
{
    free(x->obs.v);
    free(x->act.v);
    free(x->rew.v);
    free(x->next.v);
    free(x->term);
    free(x->tout);
}

static int d4rl_load(struct d4rl *x, hid_t f, int O, int A, char *err, size_t errlen)
{
    int rc = read_arr(f, "", "observations", 2, &x->obs, err, errlen);
    long n = x->obs.rows;
    if (!rc)
        rc = check_rows("", "observations", &x->obs, n, O, err, errlen);
    if (!rc)
        rc = read_arr(f, "", "actions", 2, &x->act, err, errlen);
    if (!rc)
        rc = check_rows("", "actions", &x->act, n, A, err, errlen);
    if (!rc)
        rc = read_arr(f, "", "rewards", 1, &x->rew, err, errlen);
    if (!rc)
        rc = check_rows("", "rewards", &x->rew, n, 0, err, errlen);
    x->term = calloc((size_t)n + 1, 1);
    x->tout = calloc((size_t)n + 1, 1);
    if (!rc && (!x->term || !x->tout)) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
    }
    if (!rc)
        rc = read_flags(f, "", "terminals", n, x->term, err, errlen);
    if (!rc)
        rc = read_flags(f, "", "timeouts", n, x->tout, err, errlen);
    if (!rc && H5Lexists(f, "next_observations", H5P_DEFAULT) > 0) {
        rc = read_arr(f, "", "next_observations", 2, &x->next, err, errlen);
        if (!rc)
            rc = check_rows("", "next_observations", &x->next, n, O, err, errlen);
    }
    if (!rc && n == 0) {
        snprintf(err, errlen, "the file holds no steps");
        rc = -EINVAL;
    }
    return rc;
}

/* D4RL: episodes end at terminals|timeouts (terminal wins); trailing rows are a cut episode */
static int read_d4rl(struct dataset *d, hid_t f, char *err, size_t errlen)
{
    struct d4rl x = {0};
    int O = d->obs_dim, A = d->act_dim;
    int rc = d4rl_load(&x, f, O, A, err, errlen);
    long n = x.obs.rows, start = 0;
    for (long i = 0; !rc && i < n; i++) {
        bool last = i == n - 1;
        if (!x.term[i] && !x.tout[i] && !last)
            continue;
        int flags = x.term[i]   ? DATASET_EP_TERMINATED
                    : x.tout[i] ? DATASET_EP_TIMELIMIT
                                : DATASET_EP_CUT;
        const float *fin = x.next.v ? x.next.v + (size_t)i * O : x.obs.v + (size_t)i * O;
        rc = dataset_add_episode(d, i + 1 - start, x.obs.v + (size_t)start * O,
                                 x.act.v + (size_t)start * A, x.rew.v + start, fin, flags);
        if (rc)
            snprintf(err, errlen, "out of memory");
        start = i + 1;
    }
    if (!rc)
        snprintf(d->source, sizeof(d->source), "imported from D4RL layout%s",
                 x.next.v ? "" : " (no next_observations: final observations repeat the last)");
    d4rl_free(&x);
    return rc;
}

/* one Minari episode group into d */
static int read_episode(struct dataset *d, hid_t g, const char *where, char *err, size_t errlen)
{
    struct arr obs = {0}, act = {0}, rew = {0};
    uint8_t *term = NULL, *trunc = NULL;
    int O = d->obs_dim, A = d->act_dim;
    int rc = read_arr(g, where, "observations", 2, &obs, err, errlen);
    long T = obs.rows - 1;
    if (!rc && T < 1) {
        snprintf(err, errlen, "'%sobservations' needs at least 2 rows (T+1)", where);
        rc = -EINVAL;
    }
    if (!rc)
        rc = check_rows(where, "observations", &obs, T + 1, O, err, errlen);
    if (!rc)
        rc = read_arr(g, where, "actions", 2, &act, err, errlen);
    if (!rc)
        rc = check_rows(where, "actions", &act, T, A, err, errlen);
    if (!rc)
        rc = read_arr(g, where, "rewards", 1, &rew, err, errlen);
    if (!rc)
        rc = check_rows(where, "rewards", &rew, T, 0, err, errlen);
    if (!rc && (!(term = calloc((size_t)T, 1)) || !(trunc = calloc((size_t)T, 1)))) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
    }
    if (!rc)
        rc = read_flags(g, where, "terminations", T, term, err, errlen);
    if (!rc)
        rc = read_flags(g, where, "truncations", T, trunc, err, errlen);
    for (long i = 0; !rc && i < T - 1; i++) {
        if (term[i] || trunc[i]) {
            snprintf(err, errlen, "'%s' ends at step %ld but has %ld steps", where, i, T);
            rc = -EINVAL;
        }
    }
    if (!rc) {
        int flags = term[T - 1]    ? DATASET_EP_TERMINATED
                    : trunc[T - 1] ? DATASET_EP_TIMELIMIT
                                   : DATASET_EP_CUT;
        rc = dataset_add_episode(d, T, obs.v, act.v, rew.v, obs.v + (size_t)T * O, flags);
        if (rc)
            snprintf(err, errlen, "out of memory");
    }
    free(obs.v);
    free(act.v);
    free(rew.v);
    free(term);
    free(trunc);
    return rc;
}

/* the number of root links named episode_* */
static long count_episode_links(hid_t f)
{
    H5G_info_t gi;
    if (H5Gget_info(f, &gi) < 0)
        return -1;
    long count = 0;
    for (hsize_t i = 0; i < gi.nlinks; i++) {
        char name[64];
        ssize_t len = H5Lget_name_by_idx(f, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof(name),
                                         H5P_DEFAULT);
        count += len > 0 && !strncmp(name, "episode_", 8);
    }
    return count;
}

static int read_minari(struct dataset *d, hid_t f, char *err, size_t errlen)
{
    long links = count_episode_links(f), e = 0;
    int rc = 0;
    for (; !rc; e++) {
        char name[40], where[48];
        snprintf(name, sizeof(name), "episode_%ld", e);
        if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
            break;
        hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
        if (g < 0) {
            snprintf(err, errlen, "'%s' is not a group", name);
            return -EINVAL;
        }
        snprintf(where, sizeof(where), "%s/", name);
        rc = read_episode(d, g, where, err, errlen);
        H5Gclose(g);
    }
    if (!rc && e != links) {
        snprintf(err, errlen, "episodes are not numbered episode_0 .. episode_%ld (%ld groups)",
                 links - 1, links);
        rc = -EINVAL;
    }
    if (!rc)
        snprintf(d->source, sizeof(d->source), "imported from Minari layout");
    return rc;
}

static int detect(hid_t f, enum h5data_layout *layout, char *err, size_t errlen)
{
    if (H5Lexists(f, "observations", H5P_DEFAULT) > 0) {
        *layout = H5DATA_D4RL;
        return 0;
    }
    if (H5Lexists(f, "episode_0", H5P_DEFAULT) > 0) {
        *layout = H5DATA_MINARI;
        return 0;
    }
    snprintf(err, errlen,
             "neither D4RL layout (missing key 'observations') nor Minari layout (missing "
             "group 'episode_0')");
    return -EPROTO;
}

static hid_t open_file(const char *path, char *err, size_t errlen)
{
    quiet();
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        snprintf(err, errlen, "%s: not an HDF5 file", path);
    return f;
}

/* the task: env, else the root attribute "env"; d initialised with its dims */
static int init_task(struct dataset *d, hid_t f, const char *env, char *err, size_t errlen)
{
    char name[64] = "";
    if (env)
        snprintf(name, sizeof(name), "%s", env);
    else if (read_str_attr(f, "env", name, sizeof(name)) < 0) {
        snprintf(err, errlen, "the file names no task (root attribute 'env'): pass --env=TASK");
        return -EINVAL;
    }
    const struct task_info *t = task_find(name);
    if (!t) {
        snprintf(err, errlen, "unknown task '%s'", name);
        return -EINVAL;
    }
    return dataset_init(d, t->name, t->obs_dim, t->act_dim);
}

int h5data_read(struct dataset *d, const char *path, const char *env, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    char e[400] = "";
    enum h5data_layout layout = H5DATA_D4RL;
    hid_t f = open_file(path, err, errlen);
    if (f < 0)
        return -EPROTO;
    int rc = detect(f, &layout, e, sizeof(e));
    if (!rc)
        rc = init_task(d, f, env, e, sizeof(e));
    if (!rc)
        rc =
            layout == H5DATA_D4RL ? read_d4rl(d, f, e, sizeof(e)) : read_minari(d, f, e, sizeof(e));
    H5Fclose(f);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, e);
        dataset_fini(d);
    }
    return rc;
}

// ---- writing -------------------------------------------------------------------------------

/* h5py's bool: an int8 enum {FALSE = 0, TRUE = 1} */
static hid_t bool_type(void)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t v = 0;
    H5Tenum_insert(t, "FALSE", &v);
    v = 1;
    H5Tenum_insert(t, "TRUE", &v);
    return t;
}

/* a dataset of shape (rows) or (rows, cols) with the given file and memory types */
static int write_ds(hid_t loc, const char *name, hid_t type, long rows, long cols, const void *p)
{
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    hid_t sp = H5Screate_simple(cols ? 2 : 1, dims, NULL);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = ds < 0 ? -EIO : 0;
    if (!rc && rows && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) < 0)
        rc = -EIO;
    if (ds >= 0)
        H5Dclose(ds);
    if (sp >= 0)
        H5Sclose(sp);
    return rc;
}

static int write_attr(hid_t loc, const char *name, const char *s, int64_t v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t ty = s ? H5Tcopy(H5T_C_S1) : H5Tcopy(H5T_NATIVE_INT64);
    if (s) {
        H5Tset_size(ty, H5T_VARIABLE);
        H5Tset_cset(ty, H5T_CSET_UTF8);
    }
    hid_t a = H5Acreate2(loc, name, ty, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, ty, s ? (const void *)&s : (const void *)&v) >= 0 ? 0 : -EIO;
    if (a >= 0)
        H5Aclose(a);
    H5Tclose(ty);
    H5Sclose(sp);
    return rc;
}

static int write_d4rl(const struct dataset *d, hid_t f, hid_t bt)
{
    size_t O = (size_t)d->obs_dim;
    float *next = malloc((d->n ? (size_t)d->n : 1) * O * sizeof(float));
    if (!next)
        return -ENOMEM;
    // next[i] = obs[i + 1] inside an episode, its final observation at its end
    for (long e = 0; e < d->n_episodes; e++) {
        const struct dataset_episode *ep = &d->ep[e];
        size_t s = (size_t)ep->start, len = (size_t)ep->len;
        memcpy(next + s * O, d->obs + (s + 1) * O, (len - 1) * O * sizeof(float));
        memcpy(next + (s + len - 1) * O, d->final_obs + (size_t)e * O, O * sizeof(float));
    }
    int rc = write_ds(f, "observations", H5T_NATIVE_FLOAT, d->n, d->obs_dim, d->obs);
    if (!rc)
        rc = write_ds(f, "actions", H5T_NATIVE_FLOAT, d->n, d->act_dim, d->act);
    if (!rc)
        rc = write_ds(f, "rewards", H5T_NATIVE_FLOAT, d->n, 0, d->rew);
    if (!rc)
        rc = write_ds(f, "terminals", bt, d->n, 0, d->term);
    if (!rc)
        rc = write_ds(f, "timeouts", bt, d->n, 0, d->trunc);
    if (!rc)
        rc = write_ds(f, "next_observations", H5T_NATIVE_FLOAT, d->n, d->obs_dim, next);
    free(next);
    return rc;
}

/* one episode group: observations (T+1, O) with the final one, flags on the last step only */
static int write_episode(const struct dataset *d, hid_t f, hid_t bt, long e, float *obs,
                         uint8_t *flags)
{
    const struct dataset_episode *ep = &d->ep[e];
    size_t O = (size_t)d->obs_dim, s = (size_t)ep->start, T = (size_t)ep->len;
    char name[40];
    snprintf(name, sizeof(name), "episode_%ld", e);
    hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -EIO;
    memcpy(obs, d->obs + s * O, T * O * sizeof(float));
    memcpy(obs + T * O, d->final_obs + (size_t)e * O, O * sizeof(float));
    int rc = write_ds(g, "observations", H5T_NATIVE_FLOAT, (long)T + 1, d->obs_dim, obs);
    if (!rc)
        rc = write_ds(g, "actions", H5T_NATIVE_FLOAT, (long)T, d->act_dim,
                      d->act + s * (size_t)d->act_dim);
    if (!rc)
        rc = write_ds(g, "rewards", H5T_NATIVE_FLOAT, (long)T, 0, d->rew + s);
    memset(flags, 0, T);
    flags[T - 1] = ep->flags == DATASET_EP_TERMINATED;
    if (!rc)
        rc = write_ds(g, "terminations", bt, (long)T, 0, flags);
    flags[T - 1] = ep->flags == DATASET_EP_TIMELIMIT;
    if (!rc)
        rc = write_ds(g, "truncations", bt, (long)T, 0, flags);
    if (!rc)
        rc = write_attr(g, "id", NULL, e);
    if (!rc)
        rc = write_attr(g, "total_steps", NULL, (int64_t)T);
    H5Gclose(g);
    return rc;
}

static int write_minari(const struct dataset *d, hid_t f, hid_t bt)
{
    long tmax = 1;
    for (long e = 0; e < d->n_episodes; e++)
        tmax = d->ep[e].len > tmax ? d->ep[e].len : tmax;
    float *obs = malloc((size_t)(tmax + 1) * (size_t)d->obs_dim * sizeof(float));
    uint8_t *flags = malloc((size_t)tmax);
    int rc = obs && flags ? 0 : -ENOMEM;
    for (long e = 0; !rc && e < d->n_episodes; e++)
        rc = write_episode(d, f, bt, e, obs, flags);
    if (!rc)
        rc = write_attr(f, "total_episodes", NULL, d->n_episodes);
    if (!rc)
        rc = write_attr(f, "total_steps", NULL, d->n);
    free(obs);
    free(flags);
    return rc;
}

int h5data_write(const struct dataset *d, const char *path, enum h5data_layout layout, char *err,
                 size_t errlen)
{
    quiet();
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        snprintf(err, errlen, "cannot create %s", tmp);
        return -EIO;
    }
    hid_t bt = bool_type();
    int rc = write_attr(f, "env", d->env, 0);
    if (!rc && d->source[0])
        rc = write_attr(f, "source", d->source, 0);
    if (!rc)
        rc = layout == H5DATA_D4RL ? write_d4rl(d, f, bt) : write_minari(d, f, bt);
    H5Tclose(bt);
    if (H5Fclose(f) < 0 && !rc)
        rc = -EIO;
    if (!rc && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
        unlink(tmp);
    }
    return rc;
}
