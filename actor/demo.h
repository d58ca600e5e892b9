/*
 * demo.h — scripted demonstrators for the table-top tasks (lift, stack, peg). Each episode a
 * demonstrator picks one of its task's strategies at random (different grasps and routes, so
 * the recorded data has several modes), then follows waypoints computed from the observation
 * (layout in actor/manip.h), with optional Gaussian action noise, so some demos fail.
 *
 * One struct demo per env: the caller embeds it (demo_init), starts each episode with
 * demo_begin and asks for one action per step with demo_act. Not thread-safe; no allocation.
 */
#ifndef RL_DEMO_H
#define RL_DEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "common/rng.h"

enum demo_task { DEMO_LIFT, DEMO_STACK, DEMO_PEG };

/* Strategies per task (ids 0 .. DEMO_STRATEGIES - 1). */
#define DEMO_STRATEGIES 3

struct demo {
    enum demo_task task;
    double noise;   /* std of the Gaussian noise added to each action entry (then clipped) */
    struct rng rng; /* strategy choice and noise */
    int strategy;   /* this episode's strategy */
    int phase;      /* waypoint index */
    int wait;       /* steps spent in the current phase */
};

/*
 * Set up a demonstrator for the task called name ("lift", "stack", "peg") with action noise
 * std noise >= 0 and rng stream (seed, stream). Returns 0, or -EINVAL for another task.
 */
int demo_init(struct demo *d, const char *name, double noise, uint64_t seed, uint64_t stream);

/* Start an episode: pick the strategy uniformly at random. */
void demo_begin(struct demo *d);

/* Start an episode with a given strategy (0 .. DEMO_STRATEGIES - 1; tests). */
void demo_begin_with(struct demo *d, int strategy);

/* One action (4 floats in [-1, 1]) for the observation obs of the demonstrator's task. */
void demo_act(struct demo *d, const float *obs, float *action);

/* One-line description of strategy s of the task (static string). */
const char *demo_strategy_name(enum demo_task task, int s);

/*
 * Which demonstrated strategy an episode of any policy resembles, from its observations (every
 * step, or every chunk step): lift and stack by the side of the gripper's final approach to
 * the (first) object as it comes down to grasp height -- above it, or beside it at -x / +x;
 * peg by the gripper's distance from the nut's centre when the nut leaves the table (inner or
 * outer handle grasp) and, for the outer grasp, by the highest gripper position while the nut
 * is up (direct or high arc). The label is -1 while undecided (never approached or lifted).
 */
struct demo_watch {
    enum demo_task task;
    int label;
    bool lifted;
    double z0, radius, zmax;
};

void demo_watch_begin(struct demo_watch *w, enum demo_task task);
void demo_watch_obs(struct demo_watch *w, const float *obs);
int demo_watch_label(const struct demo_watch *w);

#endif
