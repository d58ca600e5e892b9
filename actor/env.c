/*
 * env.c — Gym-v4 locomotion tasks on MuJoCo 2.2.2: the task table (frame skip, reward
 * weights, health rules, reset noise), model lookup and loading, reset, step, observation.
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

#include "common/log.h"
#include "common/rng.h"
#include "common/util.h"

enum health { HEALTH_NONE, HEALTH_HOPPER, HEALTH_WALKER };
enum noise { NOISE_UNIFORM, NOISE_CHEETAH };

// one Gym task: its model file, sizes and rules (actor/README.md)
struct task {
    const char *name;
    const char *file;
    int nq, nv, nu;
    int frame_skip;
    double qvel_clip; /* 0: no clipping */
    double healthy_reward;
    double ctrl_cost_weight;
    enum health health;
    enum noise noise;
    double noise_scale;
};

static const struct task tasks[] = {
    {"hopper", "hopper.xml", 6, 6, 3, 4, 10.0, 1.0, 1e-3, HEALTH_HOPPER, NOISE_UNIFORM, 5e-3},
    {"walker2d", "walker2d.xml", 9, 9, 6, 4, 10.0, 1.0, 1e-3, HEALTH_WALKER, NOISE_UNIFORM, 5e-3},
    {"halfcheetah", "halfcheetah.xml", 9, 9, 6, 5, 0.0, 0.0, 0.1, HEALTH_NONE, NOISE_CHEETAH, 0.1},
};

struct env_model {
    const struct task *task;
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

const char *env_task_names(void)
{
    return "hopper, walker2d, halfcheetah";
}

static const struct task *find_task(const char *name)
{
    for (size_t i = 0; i < RL_ARRAY_LEN(tasks); i++)
        if (name && !strcmp(tasks[i].name, name))
            return &tasks[i];
    return NULL;
}

static bool readable(const char *path)
{
    return access(path, R_OK) == 0;
}

int env_find_model(const char *task, char *out, size_t outlen, char *err, size_t errlen)
{
    const struct task *tk = find_task(task);
    if (!tk) {
        snprintf(err, errlen, "unknown task '%s' (known: %s)", task ? task : "(null)",
                 env_task_names());
        return -EINVAL;
    }
    const char *dir = getenv("RLDT_MODELS");
    if (dir && *dir) {
        snprintf(out, outlen, "%s/%s", dir, tk->file);
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
                 tk->file);
        return -ENOENT;
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    static const char *rel[] = {"../actor/models", "../../actor/models", "../share/rldt/models"};
    for (size_t i = 0; i < RL_ARRAY_LEN(rel); i++) {
        snprintf(out, outlen, "%s/%s/%s", exe, rel[i], tk->file);
        if (readable(out))
            return 0;
    }
    snprintf(err, errlen, "model file %s not found in %s/{%s,%s,%s}; set RLDT_MODELS", tk->file,
             exe, rel[0], rel[1], rel[2]);
    return -ENOENT;
}

static int check_dims(const struct env_model *em, bool builtin, char *err, size_t errlen)
{
    const mjModel *m = em->m;
    const struct task *tk = em->task;
    if (builtin && (m->nq != tk->nq || m->nv != tk->nv || m->nu != tk->nu)) {
        snprintf(err, errlen, "%s: nq/nv/nu = %d/%d/%d, task %s needs %d/%d/%d", em->path, m->nq,
                 m->nv, m->nu, tk->name, tk->nq, tk->nv, tk->nu);
        return -EINVAL;
    }
    if (m->nq < 3 || m->nv < 1 || m->nu < 1) {
        snprintf(err, errlen,
                 "%s: nq/nv/nu = %d/%d/%d, need nq >= 3 (x, z, pitch), nv >= 1, "
                 "nu >= 1",
                 em->path, m->nq, m->nv, m->nu);
        return -EINVAL;
    }
    return 0;
}

struct env_model *env_model_load(const char *task, const char *model_file, char *err, size_t errlen)
{
    pthread_once(&hooks_once, install_hooks);
    struct env_model *em = calloc(1, sizeof(*em));
    if (!em) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    em->task = find_task(task);
    if (!em->task) {
        snprintf(err, errlen, "unknown task '%s' (known: %s)", task ? task : "(null)",
                 env_task_names());
        goto err_free;
    }
    bool builtin = !model_file || !*model_file;
    if (builtin && env_find_model(task, em->path, sizeof(em->path), err, errlen) < 0)
        goto err_free;
    if (!builtin)
        snprintf(em->path, sizeof(em->path), "%s", model_file);

    if (!readable(em->path)) {
        snprintf(err, errlen, "cannot read model file %s: %s", em->path, strerror(errno));
        goto err_free;
    }
    char mjerr[1000] = "";
    em->m = mj_loadXML(em->path, NULL, mjerr, sizeof(mjerr));
    if (!em->m) {
        // MuJoCo's messages span lines; keep the report on one
        for (char *p = mjerr; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        snprintf(err, errlen, "cannot load %s: %s", em->path, mjerr[0] ? mjerr : "unknown error");
        goto err_free;
    }
    if (check_dims(em, builtin, err, errlen) < 0)
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
    return m->task->name;
}

int env_model_obs_dim(const struct env_model *m)
{
    return m->m->nq - 1 + m->m->nv;
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
    e->d = guarded_make_data(m->m);
    if (!e->d) {
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
    free(*pe);
    *pe = NULL;
}

void env_observe(const struct env *e, float *obs)
{
    const mjModel *m = e->model->m;
    const mjData *d = e->d;
    double clip = e->model->task->qvel_clip;
    // obs: qpos[1:nq] (nq - 1) then qvel[0:nv] (nv), clipped to [-clip, clip] when clip > 0
    for (int i = 1; i < m->nq; i++)
        *obs++ = (float)d->qpos[i];
    for (int i = 0; i < m->nv; i++) {
        double v = d->qvel[i];
        if (clip > 0)
            v = v < -clip ? -clip : v > clip ? clip : v;
        *obs++ = (float)v;
    }
}

int env_reset(struct env *e, float *obs)
{
    const mjModel *m = e->model->m;
    mjData *d = e->d;
    const struct task *tk = e->model->task;
    double s = tk->noise_scale;
    mj_resetData(m, d);
    // Gym order: all qpos noise, then all qvel noise
    for (int i = 0; i < m->nq; i++)
        d->qpos[i] = m->qpos0[i] + rng_range(&e->rng, -s, s);
    for (int i = 0; i < m->nv; i++)
        d->qvel[i] =
            tk->noise == NOISE_CHEETAH ? s * rng_normal(&e->rng) : rng_range(&e->rng, -s, s);
    int rc = guarded_sim(m, d, 0);
    if (rc < 0) {
        if (e->reset_failures++ == 0)
            log_warn("env_reset %s: MuJoCo error: %s", tk->name, guard_msg);
        mj_resetData(m, d);
    }
    e->t = 0;
    e->ep_return = 0;
    e->done = false;
    if (obs)
        env_observe(e, obs);
    return rc;
}

static bool in_open(double x, double lo, double hi)
{
    return lo < x && x < hi; // false for NaN
}

static bool healthy(const struct env *e)
{
    const mjModel *m = e->model->m;
    const mjData *d = e->d;
    double z = d->qpos[1];
    double pitch = d->qpos[2];
    switch (e->model->task->health) {
    case HEALTH_HOPPER:
        for (int i = 2; i < m->nq; i++)
            if (!in_open(d->qpos[i], -100, 100))
                return false;
        for (int i = 0; i < m->nv; i++)
            if (!in_open(d->qvel[i], -100, 100))
                return false;
        return z > 0.7 && in_open(pitch, -0.2, 0.2);
    case HEALTH_WALKER:
        return in_open(z, 0.8, 2.0) && in_open(pitch, -1, 1);
    case HEALTH_NONE:
        break;
    }
    return true;
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
    mjData *d = e->d;
    for (int i = 0; i < m->nu; i++)
        d->ctrl[i] = action[i];
    int warn0 = bad_state_warnings(d);
    int rc = guarded_sim(m, d, e->model->task->frame_skip);
    if (rc == 0 && bad_state_warnings(d) == warn0 && state_finite(m, d))
        return true;
    if (e->nonfinite++ == 0)
        log_warn("env %s: simulator state became non-finite%s%s; episode terminated",
                 e->model->task->name, rc < 0 ? ": " : "", rc < 0 ? guard_msg : "");
    // leave a finite state behind (MuJoCo does the same on its own bad-state warnings)
    mj_resetData(m, d);
    if (guarded_sim(m, d, 0) < 0)
        mj_resetData(m, d);
    return false;
}

int env_step(struct env *e, const float *action, int act_dim, float *obs,
             struct env_step_info *info)
{
    const struct task *tk = e->model->task;
    const mjModel *m = e->model->m;
    if (e->done || act_dim != m->nu)
        return -EINVAL;
    double sq = 0;
    for (int i = 0; i < act_dim; i++) {
        if (!isfinite(action[i]))
            return -EINVAL;
        sq += (double)action[i] * action[i];
    }

    double x0 = e->d->qpos[0];
    bool ok = simulate(e, action);
    struct env_step_info r = {0};
    r.ctrl_cost = tk->ctrl_cost_weight * sq;
    if (ok) {
        r.x_velocity = (e->d->qpos[0] - x0) / e->model->dt;
        r.forward_reward = r.x_velocity;
        r.healthy_reward = tk->healthy_reward;
        r.terminated = !healthy(e);
    } else {
        r.nonfinite = true;
        r.terminated = true;
    }
    r.reward = r.forward_reward + r.healthy_reward - r.ctrl_cost;
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
