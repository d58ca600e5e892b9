/*
 * demo.c — waypoint demonstrators for lift, stack and peg. A pick is: go above (or beside)
 * the grasp point, descend, (slide in from the side), close, lift; then each task places.
 * Phases advance when the gripper reaches its waypoint, or after a bounded wait so a failed
 * attempt still ends.
 */
#include "actor/demo.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "actor/manip.h"

#define TOL 0.008     /* waypoint reached: metres */
#define GRIP_Z 0.036  /* lowest useful grip height (the pads then end 5 mm above the table) */
#define SIDE 0.07     /* side approach: start this far along x from the grasp point */
#define CLOSE_STEPS 6 /* steps to wait with the fingers closing */
#define MAX_WAIT 60   /* steps before a phase gives up and moves on */

enum phase { P_ABOVE, P_DOWN, P_SLIDE, P_CLOSE, P_LIFT, P_CARRY, P_LOWER, P_OPEN, P_UP };

static const char *names[3][DEMO_STRATEGIES] = {
    {"grasp from above", "slide in from -x", "slide in from +x"},
    {"above, low carry", "from -x, high carry", "from +x, low carry"},
    {"outer handle, direct", "inner handle, direct", "outer handle, high arc"},
};

int demo_init(struct demo *d, const char *name, double noise, uint64_t seed, uint64_t stream)
{
    static const char *tasks[] = {"lift", "stack", "peg"};
    for (int k = 0; k < 3; k++) {
        if (name && !strcmp(name, tasks[k])) {
            *d = (struct demo){.task = (enum demo_task)k, .noise = noise};
            rng_init(&d->rng, seed, stream);
            return 0;
        }
    }
    return -EINVAL;
}

void demo_begin_with(struct demo *d, int strategy)
{
    d->strategy = strategy;
    d->phase = P_ABOVE;
    d->wait = 0;
}

void demo_begin(struct demo *d)
{
    demo_begin_with(d, (int)rng_below(&d->rng, DEMO_STRATEGIES));
}

const char *demo_strategy_name(enum demo_task task, int s)
{
    return s >= 0 && s < DEMO_STRATEGIES && task <= DEMO_PEG ? names[task][s] : "?";
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

// drive the gripper towards t; true when within TOL
static bool go(const float *obs, const double *t, float *a)
{
    double e2 = 0;
    for (int i = 0; i < 3; i++) {
        double e = t[i] - obs[MANIP_OBS_GRIP + i];
        a[i] = (float)clampd(e / MANIP_STEP, -1, 1);
        e2 += e * e;
    }
    return sqrt(e2) < TOL;
}

// where to hold the object: cubes at their centre, the nut on its handle
static void grasp_point(const struct demo *d, const float *obs, double *p)
{
    const float *o = obs + MANIP_OBS_OBJ(0);
    for (int i = 0; i < 3; i++)
        p[i] = o[i];
    if (d->task == DEMO_PEG) {
        // handle axis = the nut's x axis: yaw from the quaternion (w, x, y, z)
        double yaw = 2 * atan2(o[6], o[3]);
        double r = MANIP_HANDLE + (d->strategy == 1 ? -0.012 : 0.015);
        p[0] += r * cos(yaw);
        p[1] += r * sin(yaw);
    }
    p[2] = fmax(p[2], GRIP_Z);
}

// approach side: 0 above, -1 / +1 along x
static int side(const struct demo *d)
{
    if (d->task == DEMO_PEG)
        return 0;
    return d->strategy == 1 ? -1 : d->strategy == 2 ? 1 : 0;
}

// carry height of the gripper
static double carry_z(const struct demo *d)
{
    if (d->task == DEMO_PEG)
        return d->strategy == 2 ? 0.2 : 0.14;
    if (d->task == DEMO_STACK)
        return d->strategy == 1 ? 0.17 : 0.11;
    return 0.15;
}

// the place target for the gripper: where the object must go plus the grip offset
static void place_target(const float *obs, double z_obj, double *t)
{
    const float *o = obs + MANIP_OBS_OBJ(0);
    const float *goal = obs + MANIP_OBS_OBJ(1); /* cube B (stack) or the peg's base (peg) */
    // gripper - object = -(relative position)
    t[0] = goal[0] - o[7];
    t[1] = goal[1] - o[8];
    t[2] = z_obj - o[9];
}

static bool pick(struct demo *d, const float *obs, float *a)
{
    double p[3];
    grasp_point(d, obs, p);
    int s = side(d);
    double t[3] = {p[0] + s * SIDE, p[1], p[2] + 0.08};
    a[3] = -1;
    switch (d->phase) {
    case P_ABOVE:
        return go(obs, t, a);
    case P_DOWN:
        t[2] = p[2];
        return go(obs, t, a) || (s == 0 && obs[MANIP_OBS_GRIP + 2] < p[2] + 0.004);
    case P_SLIDE:
        return s == 0 || go(obs, p, a);
    case P_CLOSE:
        go(obs, p, a);
        a[3] = 1;
        return d->wait >= CLOSE_STEPS;
    }
    return true;
}

// after the pick: lift (lift), or carry, lower, open, rise (stack, peg)
static bool place(struct demo *d, const float *obs, float *a)
{
    const float *g = obs + MANIP_OBS_GRIP;
    double t[3] = {g[0], g[1], carry_z(d)};
    a[3] = 1;
    /* how low to set the object down: on cube B (stack, the only task with a second object in
     * its observation), low on the peg (peg); lift never lowers */
    double low = d->task == DEMO_STACK ? obs[MANIP_OBS_OBJ(1) + 2] + 2 * MANIP_HALF + 0.002 : 0.012;
    switch (d->phase) {
    case P_LIFT:
        return go(obs, t, a);
    case P_CARRY:
        place_target(obs, 0, t);
        t[2] = carry_z(d);
        return go(obs, t, a);
    case P_LOWER:
        place_target(obs, low, t);
        return go(obs, t, a) || obs[MANIP_OBS_OBJ(0) + 2] < low + 0.003;
    case P_OPEN:
        for (int i = 0; i < 3; i++)
            a[i] = 0;
        a[3] = -1;
        return d->wait >= CLOSE_STEPS;
    case P_UP:
        t[2] = carry_z(d);
        a[3] = -1;
        go(obs, t, a);
        return false;
    }
    return false;
}

void demo_act(struct demo *d, const float *obs, float *a)
{
    bool done = d->phase < P_LIFT ? pick(d, obs, a) : place(d, obs, a);
    d->wait++;
    if (done || d->wait > MAX_WAIT) {
        int last = d->task == DEMO_LIFT ? P_LIFT : P_UP;
        if (d->phase < last)
            d->phase++;
        d->wait = 0;
    }
    if (d->noise > 0)
        for (int i = 0; i < 4; i++)
            a[i] = (float)clampd(a[i] + d->noise * rng_normal(&d->rng), -1, 1);
}

// ---- classifying an episode ----------------------------------------------------------------

#define APPROACH_Z 0.03 /* lift, stack: the approach is read this close above the cube's centre */
#define LIFT_DZ 0.02    /* peg: the nut counts as lifted this far above its start */
#define ARC_Z 0.17      /* peg: carry heights 0.14 (direct) and 0.2 (high arc) */

void demo_watch_begin(struct demo_watch *w, enum demo_task task)
{
    *w = (struct demo_watch){.task = task, .label = -1, .z0 = NAN};
}

void demo_watch_obs(struct demo_watch *w, const float *obs)
{
    const float *g = obs + MANIP_OBS_GRIP, *o = obs + MANIP_OBS_OBJ(0);
    double dx = g[0] - o[0], dy = g[1] - o[1];
    if (isnan(w->z0))
        w->z0 = o[2];
    if (w->task != DEMO_PEG) {
        // the first time the gripper is down at the cube (within reach of a side approach)
        if (w->label < 0 && g[2] < o[2] + APPROACH_Z && hypot(dx, dy) < SIDE + 0.03)
            w->label = dx < -SIDE / 2 ? 1 : dx > SIDE / 2 ? 2 : 0;
        return;
    }
    if (!w->lifted && o[2] > w->z0 + LIFT_DZ) {
        w->lifted = true;
        w->radius = hypot(dx, dy);
        w->zmax = g[2];
    }
    if (w->lifted && o[2] > w->z0 + LIFT_DZ)
        w->zmax = fmax(w->zmax, g[2]);
}

int demo_watch_label(const struct demo_watch *w)
{
    if (w->task != DEMO_PEG)
        return w->label;
    if (!w->lifted)
        return -1;
    // grasp radii MANIP_HANDLE - 0.012 (inner) and + 0.015 (outer): split between them
    if (w->radius < MANIP_HANDLE + 0.0015)
        return 1;
    return w->zmax > ARC_Z ? 2 : 0;
}
