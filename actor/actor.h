/*
 * actor.h — the actor process body: connects to a learner, registers, receives the run
 * config and weights, runs a batch of simulators with one batched policy evaluation per chunk
 * step, streams segments, heartbeats, swaps weights between chunk steps only, re-registers
 * when the learner restarts, and exits when the learner says the run is over or on a signal.
 * Single-threaded; owns one zmq context.
 */
#ifndef RL_ACTOR_H
#define RL_ACTOR_H

#include <signal.h>

#include "common/config.h"

/*
 * Run an actor with local config c (its env, chunk and net keys must match the learner's run;
 * the run config received in Welcome fills the rest). Returns 0 when the run ended normally or
 * on a signal, or a negative errno on a fatal local error (model cannot load, ...).
 */
int actor_run(const struct rl_config *c, volatile sig_atomic_t *stop);

#endif
