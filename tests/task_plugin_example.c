/*
 * task_plugin_example.c — an example task plug-in: "reach1d", a puck on a rail that must be
 * pushed into a goal window; sparse reward (1 on reaching it, which ends the episode).
 *
 * Build it as a shared object against the rldt headers, then name it at run time:
 *
 *     cc -shared -fPIC -I. tests/task_plugin_example.c -o reach1d.so -lmujoco
 *     rldt eval --task-plugin=./reach1d.so --env=reach1d --policy=random --episodes=20
 *
 * The object exports one symbol, `rldt_task` (actor/env_task.h). The hooks may call MuJoCo and
 * the rng functions of common/rng.h (the rldt programs export them). The facts (sizes, episode
 * length, sparse) are what the learner sizes its networks by.
 */
#include <math.h>
#include <stdio.h>

#include "actor/env_task.h"

#define GOAL 0.3    /* goal window centre, metres along the rail */
#define WINDOW 0.05 /* success within this distance of the goal, at low speed */

static const char model[] =
    "<mujoco model='reach1d'><option timestep='0.01'/>"
    "<worldbody><body name='puck'><joint name='x' type='slide' axis='1 0 0' damping='1'"
    " range='-1 1' limited='true'/><geom type='sphere' size='0.05' mass='1'/></body></worldbody>"
    "<actuator><motor joint='x' gear='5' ctrllimited='true' ctrlrange='-1 1'/></actuator>"
    "</mujoco>";

// check the model is the one above (or an override with a slide joint named x)
static int reach_bind(const struct env_task *t, const mjModel *m, int *ids, char *err,
                      size_t errlen)
{
    (void)t;
    ids[0] = mj_name2id(m, mjOBJ_JOINT, "x");
    if (ids[0] < 0 || m->nu != 1) {
        snprintf(err, errlen, "reach1d needs a joint named x and one actuator");
        return -1;
    }
    return 0;
}

static void reach_reset(struct env_task_ctx *c)
{
    c->d->qpos[c->ids[0]] = rng_range(c->rng, -0.5, 0.0);
}

// obs: position, velocity, goal
static void reach_observe(const struct env_task_ctx *c, float *obs)
{
    obs[0] = (float)c->d->qpos[c->ids[0]];
    obs[1] = (float)c->d->qvel[c->ids[0]];
    obs[2] = (float)GOAL;
}

static bool reach_success(const struct env_task_ctx *c)
{
    return fabs(c->d->qpos[c->ids[0]] - GOAL) < WINDOW && fabs(c->d->qvel[c->ids[0]]) < 0.5;
}

const struct env_task rldt_task = {
#ifdef TASK_EXAMPLE_BAD_ABI
    .abi = TASK_PLUGIN_ABI + 100,
#else
    .abi = TASK_PLUGIN_ABI,
#endif
    .info =
        {.name = "reach1d", .obs_dim = 3, .act_dim = 1, .max_episode_steps = 100, .sparse = true},
    .model_xml = model,
    .frame_skip = 5,
    .nu = 1,
    .bind = reach_bind,
    .reset = reach_reset,
    .observe = reach_observe,
    .success = reach_success,
};
