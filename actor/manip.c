/*
 * manip.c — the table-top tasks lift, stack and peg as task tables (layout and rules in
 * actor/manip.h): the bind hook finds the gripper's and objects' ids by name, the reset places
 * objects at random from the env's rng, control moves position targets, and the success rules
 * end the episode with a sparse reward. Read-only tables; the hooks keep no state of their own
 * (the position targets live in mjData ctrl).
 */
#include "actor/manip.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "actor/env.h"
#include "actor/env_task.h"

// ids recorded by bind (struct env_task_ctx ids)
enum {
    ID_GRIP,  /* site between the pads */
    ID_QX,    /* qpos address of grip_x (y, z follow) */
    ID_DX,    /* dof address of grip_x (y, z follow) */
    ID_QF,    /* qpos address of finger_l */
    ID_PAD_L, /* geom */
    ID_PAD_R, /* geom */
    ID_GOAL,  /* peg body (peg task), else -1 */
    ID_OBJ,   /* object k: body id at ID_OBJ + 3k, qpos address + 1, grasp geom + 2
                 (objects and the peg are children of the world body) */
};

enum rule { RULE_LIFT, RULE_STACK, RULE_PEG };

struct manip {
    enum rule rule;
    int nobj;
    const char *body[2];  /* object bodies (each with a free joint of the same name) */
    const char *grasp[2]; /* the geom the pads hold */
};

static const struct manip lift = {RULE_LIFT, 1, {"cube_a"}, {"cube_a"}};
static const struct manip stack = {RULE_STACK, 2, {"cube_a", "cube_b"}, {"cube_a", "cube_b"}};
static const struct manip peg = {RULE_PEG, 1, {"nut"}, {"handle"}};

static int need(const mjModel *m, int type, const char *name, char *err, size_t errlen)
{
    int id = mj_name2id(m, type, name);
    if (id < 0)
        snprintf(err, errlen, "no %s named '%s'",
                 type == mjOBJ_BODY    ? "body"
                 : type == mjOBJ_JOINT ? "joint"
                 : type == mjOBJ_GEOM  ? "geom"
                                       : "site",
                 name);
    return id;
}

// grip_x, grip_y, grip_z must be consecutive slides (one dof each), driven by actuators 0..3
static int bind_gripper(const mjModel *m, int *ids, char *err, size_t errlen)
{
    int jx, jz, jf;
    // stop at the first missing part, so err names it
    if ((jx = need(m, mjOBJ_JOINT, "grip_x", err, errlen)) < 0 ||
        (jz = need(m, mjOBJ_JOINT, "grip_z", err, errlen)) < 0 ||
        (jf = need(m, mjOBJ_JOINT, "finger_l", err, errlen)) < 0 ||
        (ids[ID_GRIP] = need(m, mjOBJ_SITE, "grip", err, errlen)) < 0 ||
        (ids[ID_PAD_L] = need(m, mjOBJ_GEOM, "pad_l", err, errlen)) < 0 ||
        (ids[ID_PAD_R] = need(m, mjOBJ_GEOM, "pad_r", err, errlen)) < 0)
        return -EINVAL;
    if (jz != jx + 2 || m->jnt_type[jx] != mjJNT_SLIDE || m->jnt_type[jx + 1] != mjJNT_SLIDE ||
        m->jnt_type[jz] != mjJNT_SLIDE) {
        snprintf(err, errlen, "grip_x, grip_y, grip_z must be consecutive slide joints");
        return -EINVAL;
    }
    if (m->nu != 4 || m->actuator_trnid[0] != jx || m->actuator_trnid[2 * 3] != jf) {
        snprintf(err, errlen, "need 4 actuators: x, y, z on grip_x..z, then finger_l (nu = %d)",
                 m->nu);
        return -EINVAL;
    }
    ids[ID_QX] = m->jnt_qposadr[jx];
    ids[ID_DX] = m->jnt_dofadr[jx];
    ids[ID_QF] = m->jnt_qposadr[jf];
    return 0;
}

static int manip_bind(const struct env_task *t, const mjModel *m, int *ids, char *err,
                      size_t errlen)
{
    const struct manip *p = t->params;
    if (bind_gripper(m, ids, err, errlen) < 0)
        return -EINVAL;
    for (int k = 0; k < p->nobj; k++) {
        int b, j, g;
        if ((b = need(m, mjOBJ_BODY, p->body[k], err, errlen)) < 0 ||
            (j = need(m, mjOBJ_JOINT, p->body[k], err, errlen)) < 0 ||
            (g = need(m, mjOBJ_GEOM, p->grasp[k], err, errlen)) < 0)
            return -EINVAL;
        if (m->jnt_type[j] != mjJNT_FREE) {
            snprintf(err, errlen, "joint '%s' must be a free joint", p->body[k]);
            return -EINVAL;
        }
        ids[ID_OBJ + 3 * k] = b;
        ids[ID_OBJ + 3 * k + 1] = m->jnt_qposadr[j];
        ids[ID_OBJ + 3 * k + 2] = g;
    }
    ids[ID_GOAL] = -1;
    if (p->rule == RULE_PEG && (ids[ID_GOAL] = need(m, mjOBJ_BODY, "peg", err, errlen)) < 0)
        return -EINVAL;
    return 0;
}

// ---- reset ---------------------------------------------------------------------------------

// put object k at (x, y, z) with yaw about z, at rest
static void place(struct env_task_ctx *c, int k, double x, double y, double z, double yaw)
{
    double *q = c->d->qpos + c->ids[ID_OBJ + 3 * k + 1];
    q[0] = x;
    q[1] = y;
    q[2] = z;
    q[3] = cos(yaw / 2);
    q[4] = 0;
    q[5] = 0;
    q[6] = sin(yaw / 2);
}

static void manip_reset(struct env_task_ctx *c)
{
    const struct manip *p = c->task->params;
    struct rng *r = c->rng;
    mjData *d = c->d;
    // gripper near the middle, 20 cm up, fingers open; position targets where it is
    for (int i = 0; i < 2; i++)
        d->qpos[c->ids[ID_QX] + i] = rng_range(r, -0.03, 0.03);
    d->qpos[c->ids[ID_QF]] = MANIP_FINGER;
    d->qpos[c->ids[ID_QF] + 1] = MANIP_FINGER; /* finger_r follows finger_l */
    for (int i = 0; i < 3; i++)
        d->ctrl[i] = d->qpos[c->ids[ID_QX] + i];
    d->ctrl[3] = MANIP_FINGER;
    switch (p->rule) {
    case RULE_LIFT:
        place(c, 0, rng_range(r, -0.12, 0.12), rng_range(r, -0.12, 0.12), MANIP_HALF,
              rng_range(r, -0.3, 0.3));
        break;
    case RULE_STACK: {
        double ax = 0, ay = 0, bx = 0, by = 0;
        // cubes at least 8 cm apart: rejection sampling (a draw fails with p < 0.2)
        for (int tries = 0; tries < 64; tries++) {
            ax = rng_range(r, -0.12, 0.12);
            ay = rng_range(r, -0.12, 0.12);
            bx = rng_range(r, -0.12, 0.12);
            by = rng_range(r, -0.12, 0.12);
            if (hypot(ax - bx, ay - by) >= 0.08)
                break;
        }
        if (hypot(ax - bx, ay - by) < 0.08) { /* p < 1e-44: B opposite A */
            bx = -ax;
            by = ay > 0 ? ay - 0.12 : ay + 0.12;
        }
        place(c, 0, ax, ay, MANIP_HALF, rng_range(r, -0.3, 0.3));
        place(c, 1, bx, by, MANIP_HALF, rng_range(r, -0.3, 0.3));
        break;
    }
    case RULE_PEG:
        place(c, 0, rng_range(r, -0.16, -0.06), rng_range(r, -0.14, 0.0), 0.01,
              rng_range(r, -0.2, 0.2));
        break;
    }
}

// ---- control and observation ---------------------------------------------------------------

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static void manip_control(struct env_task_ctx *c, const float *a)
{
    const mjModel *m = c->m;
    mjData *d = c->d;
    for (int i = 0; i < 3; i++) {
        double q = d->qpos[c->ids[ID_QX] + i];
        double t = d->ctrl[i] + MANIP_STEP * clampd(a[i], -1, 1);
        t = clampd(t, q - MANIP_LEAD, q + MANIP_LEAD);
        d->ctrl[i] = clampd(t, m->actuator_ctrlrange[2 * i], m->actuator_ctrlrange[2 * i + 1]);
    }
    d->ctrl[3] = MANIP_FINGER * (1 - clampd(a[3], -1, 1)) / 2;
}

// gripper point from the slides (the gripper body hangs from the world without rotation)
static void grip_pos(const struct env_task_ctx *c, double *g)
{
    const mjModel *m = c->m;
    int s = c->ids[ID_GRIP];
    const double *b = m->body_pos + 3 * m->site_bodyid[s];
    for (int i = 0; i < 3; i++)
        g[i] = b[i] + c->d->qpos[c->ids[ID_QX] + i] + m->site_pos[3 * s + i];
}

// object k's free-joint state: position (3) then quaternion (4), current after every step
static const double *obj_qpos(const struct env_task_ctx *c, int k)
{
    return c->d->qpos + c->ids[ID_OBJ + 3 * k + 1];
}

static void manip_observe(const struct env_task_ctx *c, float *obs)
{
    const struct manip *p = c->task->params;
    const mjData *d = c->d;
    double g[3];
    grip_pos(c, g);
    for (int i = 0; i < 3; i++) {
        obs[MANIP_OBS_GRIP + i] = (float)g[i];
        obs[MANIP_OBS_VEL + i] = (float)d->qvel[c->ids[ID_DX] + i];
    }
    // the pads' inner faces are 1 mm off each finger's joint origin
    obs[MANIP_OBS_OPEN] = (float)(d->qpos[c->ids[ID_QF]] + d->qpos[c->ids[ID_QF] + 1] + 0.002);
    for (int k = 0; k < p->nobj; k++) {
        const double *q = obj_qpos(c, k);
        float *o = obs + MANIP_OBS_OBJ(k);
        for (int i = 0; i < 3; i++) {
            o[i] = (float)q[i];
            o[7 + i] = (float)(q[i] - g[i]);
        }
        for (int i = 0; i < 4; i++)
            o[3 + i] = (float)q[3 + i];
    }
    if (c->ids[ID_GOAL] >= 0)
        for (int i = 0; i < 3; i++)
            obs[MANIP_OBS_OBJ(p->nobj) + i] = (float)c->m->body_pos[3 * c->ids[ID_GOAL] + i];
}

// ---- success rules -------------------------------------------------------------------------

static bool touching(const struct env_task_ctx *c, int k)
{
    int g = c->ids[ID_OBJ + 3 * k + 2];
    for (int i = 0; i < c->d->ncon; i++) {
        int g1 = c->d->contact[i].geom1;
        int g2 = c->d->contact[i].geom2;
        int other = g1 == g ? g2 : g2 == g ? g1 : -1;
        if (other == c->ids[ID_PAD_L] || other == c->ids[ID_PAD_R])
            return true;
    }
    return false;
}

static bool manip_success(const struct env_task_ctx *c)
{
    const struct manip *p = c->task->params;
    const double *a = obj_qpos(c, 0);
    switch (p->rule) {
    case RULE_LIFT:
        return a[2] - MANIP_HALF > MANIP_LIFT;
    case RULE_STACK: {
        // A on B: centred within 2 cm, one cube height above it, B on the table, A let go
        const double *b = obj_qpos(c, 1);
        double dz = a[2] - b[2];
        return hypot(a[0] - b[0], a[1] - b[1]) < 0.02 && dz > 0.035 && dz < 0.045 &&
               b[2] < MANIP_HALF + 0.005 && !touching(c, 0);
    }
    case RULE_PEG: {
        const double *g = c->m->body_pos + 3 * c->ids[ID_GOAL];
        return hypot(a[0] - g[0], a[1] - g[1]) < MANIP_PEG_XY && a[2] < MANIP_PEG_Z;
    }
    }
    return false;
}

#define MANIP(NAME, PARAMS)                                                                        \
    {                                                                                              \
        .abi = TASK_PLUGIN_ABI, .info = {.name = NAME}, .model_file = NAME ".xml",                 \
        .frame_skip = 25, .nu = 4, .params = PARAMS, .bind = manip_bind, .reset = manip_reset,     \
        .control = manip_control, .observe = manip_observe, .success = manip_success,              \
    }

const struct env_task env_task_lift = MANIP("lift", &lift);
const struct env_task env_task_stack = MANIP("stack", &stack);
const struct env_task env_task_peg = MANIP("peg", &peg);
