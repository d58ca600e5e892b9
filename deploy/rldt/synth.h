/*
 * synth.h — synthetic replay contents for the bench commands and the tests: segments of random
 * observations, actions and rewards drawn from a caller's seeded rng (one helper instead of a
 * fill loop in every bench and test). Not thread-safe (the rng and the replay are the caller's).
 */
#ifndef RL_SYNTH_H
#define RL_SYNTH_H

#include <stdint.h>

struct replay;
struct rng;

enum synth_end {
    SYNTH_END_NONE,      /* segments end neither terminal nor truncated */
    SYNTH_END_TERM,      /* the last step of every segment is terminal */
    SYNTH_END_ALTERNATE, /* the last step is terminal on even segments, truncated on odd ones */
};

/* What synth_fill_replay writes. Observations are U[obs_lo, obs_hi] (standard normal when
 * obs_lo == obs_hi), actions U[act_lo, act_hi], rewards standard normal, and on a replay that keeps
 * images uniform random image bytes; per segment the rng is drawn in that order (observations,
 * actions, rewards, images). */
struct synth_spec {
    int S, D;  /* observation and (chunked) action widths of the replay */
    int T;     /* chunk steps per segment */
    int steps; /* env steps per chunk step (0: none given, the replay counts H) */
    float obs_lo, obs_hi;
    float act_lo, act_hi;
    enum synth_end end;
    uint64_t version; /* policy version stamped on every segment */
};

/*
 * Add nseg segments to r (nseg < 0: until r is full, at least one), traj ids 0, 1, ... Returns 0,
 * -ENOMEM, or replay_add's error (segments added before it stay).
 */
int synth_fill_replay(struct replay *r, struct rng *g, const struct synth_spec *s, long nseg);

struct wire_segment;

/*
 * *w = a segment message body of T chunk steps (H env steps each), O-dim observations and D-dim
 * actions: observations standard normal, actions U[-1, 1], rewards U[0, 4], no episode ends, in
 * arrays it allocates (synth_wire_free); the caller stamps the header (epoch, session, ids,
 * seq). 0 or -ENOMEM (nothing allocated).
 */
int synth_wire_segment(struct wire_segment *w, struct rng *g, int T, int O, int D, int H);

/* Free the arrays synth_wire_segment allocated (a zeroed *w is fine). */
void synth_wire_free(struct wire_segment *w);

struct wire_msg;

/* *m = the Hello of a simulated actor called name (borrowed) from this process: num_envs envs
 * of task (its observation and action widths; the task must exist), chunks of H, known_epoch
 * (0: none), not an evaluator. */
void synth_hello(struct wire_msg *m, const char *name, const char *task, int num_envs, int H,
                 uint64_t known_epoch);

#endif
