/*
 * checkpoint.h — the learner's checkpoints in <run_dir>/checkpoints/: counters, the resolved
 * config and the algorithm's sections in one container file (common/ckpt.h), written
 * atomically; the newest `keep_checkpoints` are kept. Resuming takes the newest file that
 * loads and verifies, falling back to older ones when a file is torn or corrupted.
 * Called from the trainer thread only.
 */
#ifndef RL_CHECKPOINT_H
#define RL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "learner/algo.h"

struct shared;
struct rl_config;

/* Write a checkpoint of the algorithm and the run counters. 0 or -errno + err. */
int checkpoint_save(const struct algo_ops *ops, struct algo *a, struct shared *s, char *err,
                    size_t errlen);

/*
 * Restore the newest valid checkpoint of c->run_dir into a and s's counters. Returns 0 (also
 * when there is none: a fresh start, logged), or -errno + err when checkpoints exist but none
 * is usable, or they belong to another task or algorithm.
 */
int checkpoint_resume(const struct algo_ops *ops, struct algo *a, const struct rl_config *c,
                      struct shared *s, char *err, size_t errlen);

/*
 * Remove the leftovers of interrupted writes (a killed process leaves `<file>.tmp.<pid>`):
 * in dir, every file named prefix*.tmp.*. Call only when no write into dir is under way (at
 * start-up; after a rotation). Returns how many were removed.
 */
int checkpoint_clean_tmp(const char *dir, const char *prefix);

/*
 * A resumed run restarts at its checkpoint: rows of <run_dir>/<name> (a CSV whose second column
 * is env steps) beyond steps move to <name>.superseded. Returns wall_s of the last row kept, or 0.
 */
double checkpoint_trim_csv(const char *run_dir, const char *name, uint64_t steps);

#endif
