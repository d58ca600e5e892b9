/*
 * env_loco.c — the Gym-v4 locomotion tasks (hopper, walker2d, halfcheetah) as task tables:
 * reset noise, observation qpos[1:] + (clipped) qvel, reward x_velocity + healthy - ctrl cost,
 * and the health rules. Read-only tables; the hooks keep no state.
 */
#include <errno.h>
#include <stdio.h>

#include "actor/env.h"
#include "actor/env_task.h"

enum health { HEALTH_NONE, HEALTH_HOPPER, HEALTH_WALKER };
enum noise { NOISE_UNIFORM, NOISE_CHEETAH };

// one Gym task's rules (actor/README.md)
struct loco {
    double qvel_clip; /* 0: no clipping */
    double healthy_reward;
    double ctrl_cost_weight;
    enum health health;
    enum noise noise;
    double noise_scale;
};

static const struct loco hopper = {10.0, 1.0, 1e-3, HEALTH_HOPPER, NOISE_UNIFORM, 5e-3};
static const struct loco walker = {10.0, 1.0, 1e-3, HEALTH_WALKER, NOISE_UNIFORM, 5e-3};
static const struct loco cheetah = {0.0, 0.0, 0.1, HEALTH_NONE, NOISE_CHEETAH, 0.1};

// an override model needs x, z and pitch joints and one actuator
static int loco_bind(const struct env_task *t, const mjModel *m, int *ids, char *err, size_t errlen)
{
    (void)t;
    (void)ids;
    if (m->nq < 3 || m->nv < 1 || m->nu < 1) {
        snprintf(err, errlen, "nq/nv/nu = %d/%d/%d, need nq >= 3 (x, z, pitch), nv >= 1, nu >= 1",
                 m->nq, m->nv, m->nu);
        return -EINVAL;
    }
    return 0;
}

static int loco_obs_dim(const mjModel *m)
{
    return m->nq - 1 + m->nv;
}

// Gym order: all qpos noise, then all qvel noise
static void loco_reset(struct env_task_ctx *c)
{
    const struct loco *p = c->task->params;
    double s = p->noise_scale;
    for (int i = 0; i < c->m->nq; i++)
        c->d->qpos[i] = c->m->qpos0[i] + rng_range(c->rng, -s, s);
    for (int i = 0; i < c->m->nv; i++)
        c->d->qvel[i] =
            p->noise == NOISE_CHEETAH ? s * rng_normal(c->rng) : rng_range(c->rng, -s, s);
}

// obs: qpos[1:nq] (nq - 1) then qvel[0:nv] (nv), clipped to [-clip, clip] when clip > 0
static void loco_observe(const struct env_task_ctx *c, float *obs)
{
    const struct loco *p = c->task->params;
    double clip = p->qvel_clip;
    for (int i = 1; i < c->m->nq; i++)
        *obs++ = (float)c->d->qpos[i];
    for (int i = 0; i < c->m->nv; i++) {
        double v = c->d->qvel[i];
        if (clip > 0)
            v = v < -clip ? -clip : v > clip ? clip : v;
        *obs++ = (float)v;
    }
}

static double loco_reward(const struct env_task_ctx *c, const double *qpos_before,
                          const float *action, struct env_step_info *info)
{
    const struct loco *p = c->task->params;
    double sq = 0;
    for (int i = 0; i < c->m->nu; i++)
        sq += (double)action[i] * action[i];
    info->ctrl_cost = p->ctrl_cost_weight * sq;
    info->x_velocity =
        (c->d->qpos[0] - qpos_before[0]) / (c->m->opt.timestep * c->task->frame_skip);
    info->forward_reward = info->x_velocity;
    info->healthy_reward = p->healthy_reward;
    return info->forward_reward + info->healthy_reward - info->ctrl_cost;
}

static bool in_open(double x, double lo, double hi)
{
    return lo < x && x < hi; // false for NaN
}

static bool loco_failed(const struct env_task_ctx *c)
{
    const struct loco *p = c->task->params;
    const mjModel *m = c->m;
    const mjData *d = c->d;
    double z = d->qpos[1];
    double pitch = d->qpos[2];
    switch (p->health) {
    case HEALTH_HOPPER:
        for (int i = 2; i < m->nq; i++)
            if (!in_open(d->qpos[i], -100, 100))
                return true;
        for (int i = 0; i < m->nv; i++)
            if (!in_open(d->qvel[i], -100, 100))
                return true;
        return !(z > 0.7 && in_open(pitch, -0.2, 0.2));
    case HEALTH_WALKER:
        return !(in_open(z, 0.8, 2.0) && in_open(pitch, -1, 1));
    case HEALTH_NONE:
        break;
    }
    return false;
}

// facts (sizes, episode length, D4RL references) live in common/task.c
#define LOCO(NAME, FILE, NQ, NV, NU, SKIP, PARAMS)                                                 \
    {                                                                                              \
        .abi = TASK_PLUGIN_ABI, .info = {.name = NAME}, .model_file = FILE, .frame_skip = SKIP,    \
        .nq = NQ, .nv = NV, .nu = NU, .params = PARAMS, .bind = loco_bind,                         \
        .obs_dim = loco_obs_dim, .reset = loco_reset, .observe = loco_observe,                     \
        .reward = loco_reward, .failed = loco_failed,                                              \
    }

const struct env_task env_task_hopper = LOCO("hopper", "hopper.xml", 6, 6, 3, 4, &hopper);
const struct env_task env_task_walker2d = LOCO("walker2d", "walker2d.xml", 9, 9, 6, 4, &walker);
const struct env_task env_task_halfcheetah =
    LOCO("halfcheetah", "halfcheetah.xml", 9, 9, 6, 5, &cheetah);
