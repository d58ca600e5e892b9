/*
 * env.c — one env of any task table (actor/env_task.h) on MuJoCo 2.2.2: task lookup
 * (built-in or plug-in), model lookup and loading, reset, step, observation, success.
 * MuJoCo's error hook longjmps back into the guarded call that raised it (per thread), so
 * MuJoCo never exits the process; its warnings go to the log (first few) and a counter.
 */
#include "actor/env.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/env_task.h"
#include "common/log.h"
#include "common/rng.h"
#include "common/task.h"
#include "common/util.h"

static const struct env_task *const builtin[] = {
    &env_task_hopper, &env_task_walker2d, &env_task_halfcheetah,
    &env_task_lift,   &env_task_stack,    &env_task_peg,
};

struct env_model {
    const struct env_task *task;
    const struct task_info *facts;
    int ids[ENV_TASK_MAX_IDS];
    int obs_dim;
    mjModel *m;
    double dt;
    char path[PATH_MAX];
};

struct env {
    const struct env_model *model;
    mjData *d;
    struct rng rng;
    int max_steps;
    int t;            /* steps in the current episode */
    double ep_return; /* return of the current episode */
    bool done;        /* episode over: reset due */
    void *state;      /* task state: task->state_size bytes */
    long nonfinite;
    long reset_failures;
};

// ---- MuJoCo error and warning hooks --------------------------------------------------------

static _Thread_local sigjmp_buf *guard_jb;
static _Thread_local char guard_msg[256];
static atomic_long mj_warnings;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void on_mj_error(const char *msg)
{
    if (guard_jb) {
        snprintf(guard_msg, sizeof(guard_msg), "%s", msg);
        siglongjmp(*guard_jb, 1);
    }
    // returning would let MuJoCo carry on with a broken state
    log_error("MuJoCo error outside a guarded call: %s", msg);
    abort();
}

static void on_mj_warning(const char *msg)
{
    long n = atomic_fetch_add(&mj_warnings, 1);
    if (n < 5)
        log_warn("MuJoCo: %s", msg);
    else if (n == 5)
        log_warn("MuJoCo: further warnings are counted, not logged");
}

static void install_hooks(void)
{
    mju_user_error = on_mj_error;
    mju_user_warning = on_mj_warning;
}

long env_mj_warning_count(void)
{
    return atomic_load(&mj_warnings);
}

// frame_skip mj_steps (n > 0) or one mj_forward (n == 0); -EFAULT when MuJoCo raised an error
static int guarded_sim(const mjModel *m, mjData *d, int n)
{
    sigjmp_buf jb;
    sigjmp_buf *prev = guard_jb;
    if (sigsetjmp(jb, 0)) {
        guard_jb = prev;
        return -EFAULT;
    }
    guard_jb = &jb;
    if (n == 0)
        mj_forward(m, d);
    for (int i = 0; i < n; i++)
        mj_step(m, d);
    guard_jb = prev;
    return 0;
}

static mjData *guarded_make_data(const mjModel *m)
{
    sigjmp_buf jb;
    sigjmp_buf *prev = guard_jb;
    if (sigsetjmp(jb, 0)) {
        guard_jb = prev;
        log_error("mj_makeData: %s", guard_msg);
        return NULL;
    }
    guard_jb = &jb;
    mjData *d = mj_makeData(m);
    guard_jb = prev;
    return d;
}

// ---- tasks and model files -----------------------------------------------------------------

// comma-separated list of the known task names ("hopper, walker2d, ..., peg")
static const char *env_task_names(void)
{
    return task_names();
}

const struct env_task *env_task_find(const char *name)
{
    for (size_t i = 0; i < RL_ARRAY_LEN(builtin); i++)
        if (name && !strcmp(builtin[i]->info.name, name))
            return builtin[i];
    const struct task_info *t = task_find(name);
    return t ? task_plugin_table(t) : NULL;
}

static bool readable(const char *path)
{
    return access(path, R_OK) == 0;
}

static int unknown_task(const char *task, char *err, size_t errlen)
{
    snprintf(err, errlen, "unknown task '%s' (known: %s)", task ? task : "(null)",
             env_task_names());
    return -EINVAL;
}

int env_find_model(const char *task, char *out, size_t outlen, char *err, size_t errlen)
{
    const struct env_task *tk = env_task_find(task);
    if (!tk)
        return unknown_task(task, err, errlen);
    if (!tk->model_file) {
        snprintf(err, errlen, "task %s carries its model in its plug-in (no model file)", task);
        return -ENOENT;
    }
    const char *dir = getenv("RLDT_MODELS");
    if (dir && *dir) {
        snprintf(out, outlen, "%s/%s", dir, tk->model_file);
        if (readable(out))
            return 0;
        snprintf(err, errlen, "model file %s not found (RLDT_MODELS=%s)", out, dir);
        return -ENOENT;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(err, errlen,
                 "cannot locate models: readlink /proc/self/exe failed; set "
                 "RLDT_MODELS to the directory holding %s",
                 tk->model_file);
        return -ENOENT;
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    static const char *rel[] = {"../actor/models", "../../actor/models", "../share/rldt/models"};
    for (size_t i = 0; i < RL_ARRAY_LEN(rel); i++) {
        snprintf(out, outlen, "%s/%s/%s", exe, rel[i], tk->model_file);
        if (readable(out))
            return 0;
    }
    snprintf(err, errlen, "model file %s not found in %s/{%s,%s,%s}; set RLDT_MODELS",
             tk->model_file, exe, rel[0], rel[1], rel[2]);
    return -ENOENT;
}

static int check_model(struct env_model *em, bool builtin_model, char *err, size_t errlen)
{
    const mjModel *m = em->m;
    const struct env_task *tk = em->task;
    bool bad =
        (tk->nq && m->nq != tk->nq) || (tk->nv && m->nv != tk->nv) || (tk->nu && m->nu != tk->nu);
    if (builtin_model && bad) {
        snprintf(err, errlen, "%s: nq/nv/nu = %d/%d/%d, task %s needs %d/%d/%d", em->path, m->nq,
                 m->nv, m->nu, tk->info.name, tk->nq, tk->nv, tk->nu);
        return -EINVAL;
    }
    char why[400] = "";
    if (tk->bind && tk->bind(tk, m, em->ids, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", em->path, why);
        return -EINVAL;
    }
    em->obs_dim = tk->obs_dim ? tk->obs_dim(m) : em->facts->obs_dim;
    // a built-in model must match the facts the learner sizes its networks by
    if (builtin_model && (em->obs_dim != em->facts->obs_dim || m->nu != em->facts->act_dim)) {
        snprintf(err, errlen, "%s: obs/act = %d/%d, task %s needs %d/%d", em->path, em->obs_dim,
                 m->nu, tk->info.name, em->facts->obs_dim, em->facts->act_dim);
        return -EINVAL;
    }
    return 0;
}

// MuJoCo's messages span lines; keep the report on one
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

// parse a plug-in's inline MJCF through a virtual file
static mjModel *load_xml_string(const char *name, const char *xml, char *mjerr, size_t len)
{
    mjVFS *vfs = calloc(1, sizeof(*vfs));
    if (!vfs) {
        snprintf(mjerr, len, "out of memory");
        return NULL;
    }
    mj_defaultVFS(vfs);
    char file[64];
    snprintf(file, sizeof(file), "%.50s.xml", name);
    int size = (int)strlen(xml);
    mjModel *m = NULL;
    if (mj_makeEmptyFileVFS(vfs, file, size) == 0) {
        memcpy(vfs->filedata[vfs->nfile - 1], xml, (size_t)size);
        m = mj_loadXML(file, vfs, mjerr, (int)len);
    }
    mj_deleteVFS(vfs);
    free(vfs);
    return m;
}

// resolve the model's path; returns whether it is the task's own model (sizes checked)
static int model_path(struct env_model *em, const char *task, const char *model_file, char *err,
                      size_t errlen)
{
    if (model_file && *model_file) {
        snprintf(em->path, sizeof(em->path), "%s", model_file);
        return 0;
    }
    if (!em->task->model_file) {
        if (!em->task->model_xml) {
            snprintf(err, errlen, "task %s has neither a model file nor inline MJCF", task);
            return -EINVAL;
        }
        snprintf(em->path, sizeof(em->path), "(plug-in %s)", task);
        return 1;
    }
    int rc = env_find_model(task, em->path, sizeof(em->path), err, errlen);
    return rc < 0 ? rc : 1;
}

struct env_model *env_model_load(const char *task, const char *model_file, char *err, size_t errlen)
{
    pthread_once(&hooks_once, install_hooks);
    struct env_model *em = calloc(1, sizeof(*em));
    if (!em) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    em->task = env_task_find(task);
    em->facts = task_find(task);
    if (!em->task || !em->facts) {
        unknown_task(task, err, errlen);
        goto err_free;
    }
    int own = model_path(em, task, model_file, err, errlen);
    if (own < 0)
        goto err_free;
    bool inline_xml = own && !em->task->model_file;
    if (!inline_xml && !readable(em->path)) {
        snprintf(err, errlen, "cannot read model file %s: %s", em->path, strerror(errno));
        goto err_free;
    }
    char mjerr[1000] = "";
    em->m = inline_xml ? load_xml_string(task, em->task->model_xml, mjerr, sizeof(mjerr))
                       : mj_loadXML(em->path, NULL, mjerr, sizeof(mjerr));
    if (!em->m) {
        one_line(mjerr);
        snprintf(err, errlen, "cannot load %s: %s", em->path, mjerr[0] ? mjerr : "unknown error");
        goto err_free;
    }
    if (check_model(em, own, err, errlen) < 0)
        goto err_model;
    em->dt = em->m->opt.timestep * em->task->frame_skip;
    return em;

err_model:
    mj_deleteModel(em->m);
err_free:
    free(em);
    return NULL;
}

void env_model_destroy(struct env_model **pm)
{
    if (!pm || !*pm)
        return;
    mj_deleteModel((*pm)->m);
    free(*pm);
    *pm = NULL;
}

const char *env_model_task(const struct env_model *m)
{
    return m->facts->name;
}

const struct task_info *env_model_facts(const struct env_model *m)
{
    return m->facts;
}

int env_model_obs_dim(const struct env_model *m)
{
    return m->obs_dim;
}

int env_model_act_dim(const struct env_model *m)
{
    return m->m->nu;
}

int env_model_frame_skip(const struct env_model *m)
{
    return m->task->frame_skip;
}

double env_model_dt(const struct env_model *m)
{
    return m->dt;
}

const mjModel *env_model_mj(const struct env_model *m)
{
    return m->m;
}

const char *env_model_path(const struct env_model *m)
{
    return m->path;
}

// ---- one env -------------------------------------------------------------------------------

struct env *env_new(const struct env_model *m, uint64_t seed, uint64_t stream,
                    int max_episode_steps)
{
    RL_ASSERT(m && max_episode_steps >= 1);
    struct env *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->state = calloc(1, m->task->state_size + 1);
    e->d = guarded_make_data(m->m);
    if (!e->d || !e->state) {
        if (e->d)
            mj_deleteData(e->d);
        free(e->state);
        free(e);
        return NULL;
    }
    e->model = m;
    e->max_steps = max_episode_steps;
    e->done = true;
    rng_init(&e->rng, seed, stream);
    return e;
}

void env_destroy(struct env **pe)
{
    if (!pe || !*pe)
        return;
    mj_deleteData((*pe)->d);
    free((*pe)->state);
    free(*pe);
    *pe = NULL;
}

static struct env_task_ctx ctx_of(const struct env *e)
{
    return (struct env_task_ctx){e->model->task, e->model->m, e->d,
                                 e->model->ids,  e->state,    (struct rng *)&e->rng};
}

void env_observe(const struct env *e, float *obs)
{
    struct env_task_ctx c = ctx_of(e);
    e->model->task->observe(&c, obs);
}

int env_reset(struct env *e, float *obs)
{
    const mjModel *m = e->model->m;
    mjData *d = e->d;
    const struct env_task *tk = e->model->task;
    mj_resetData(m, d);
    memset(e->state, 0, tk->state_size);
    struct env_task_ctx c = ctx_of(e);
    if (tk->reset)
        tk->reset(&c);
    int rc = guarded_sim(m, d, 0);
    if (rc < 0) {
        if (e->reset_failures++ == 0)
            log_warn("env_reset %s: MuJoCo error: %s", tk->info.name, guard_msg);
        mj_resetData(m, d);
    }
    e->t = 0;
    e->ep_return = 0;
    e->done = false;
    if (obs)
        env_observe(e, obs);
    return rc;
}

static int bad_state_warnings(const mjData *d)
{
    return d->warning[mjWARN_BADQPOS].number + d->warning[mjWARN_BADQVEL].number +
           d->warning[mjWARN_BADQACC].number;
}

static bool state_finite(const mjModel *m, const mjData *d)
{
    for (int i = 0; i < m->nq; i++)
        if (!isfinite(d->qpos[i]))
            return false;
    for (int i = 0; i < m->nv; i++)
        if (!isfinite(d->qvel[i]))
            return false;
    return true;
}

// run the physics of one step; false when MuJoCo failed or the state went non-finite
static bool simulate(struct env *e, const float *action)
{
    const mjModel *m = e->model->m;
    const struct env_task *tk = e->model->task;
    mjData *d = e->d;
    struct env_task_ctx c = ctx_of(e);
    if (tk->control)
        tk->control(&c, action);
    else
        for (int i = 0; i < m->nu; i++)
            d->ctrl[i] = action[i];
    int warn0 = bad_state_warnings(d);
    int rc = guarded_sim(m, d, tk->frame_skip);
    if (rc == 0 && bad_state_warnings(d) == warn0 && state_finite(m, d))
        return true;
    if (e->nonfinite++ == 0)
        log_warn("env %s: simulator state became non-finite%s%s; episode terminated", tk->info.name,
                 rc < 0 ? ": " : "", rc < 0 ? guard_msg : "");
    // leave a finite state behind (MuJoCo does the same on its own bad-state warnings)
    mj_resetData(m, d);
    if (guarded_sim(m, d, 0) < 0)
        mj_resetData(m, d);
    return false;
}

// reward, success and failure of the step just simulated
static void outcome(struct env *e, const double *qpos0, const float *action,
                    struct env_step_info *r)
{
    const struct env_task *tk = e->model->task;
    struct env_task_ctx c = ctx_of(e);
    r->success = tk->success && tk->success(&c);
    if (tk->reward)
        r->reward = tk->reward(&c, qpos0, action, r);
    else
        r->reward = r->success ? 1.0 : 0.0;
    r->terminated = r->success || (tk->failed && tk->failed(&c));
}

int env_step(struct env *e, const float *action, int act_dim, float *obs,
             struct env_step_info *info)
{
    const mjModel *m = e->model->m;
    if (e->done || act_dim != m->nu)
        return -EINVAL;
    for (int i = 0; i < act_dim; i++)
        if (!isfinite(action[i]))
            return -EINVAL;

    // qpos before the step, for rewards on displacement (no allocation: nq is small)
    double qpos0[64];
    int nq = m->nq < 64 ? m->nq : 64;
    memcpy(qpos0, e->d->qpos, sizeof(double) * (size_t)nq);
    bool ok = simulate(e, action);
    struct env_step_info r = {0};
    if (ok) {
        outcome(e, qpos0, action, &r);
    } else {
        r.nonfinite = true;
        r.terminated = true;
    }
    e->t++;
    e->ep_return += r.reward;
    r.truncated = e->t >= e->max_steps;
    r.length = e->t;
    r.ep_return = e->ep_return;
    e->done = r.terminated || r.truncated;
    if (obs)
        env_observe(e, obs);
    if (info)
        *info = r;
    return 0;
}

bool env_done(const struct env *e)
{
    return e->done;
}

long env_nonfinite_count(const struct env *e)
{
    return e->nonfinite;
}

mjData *env_data(struct env *e)
{
    return e->d;
}
