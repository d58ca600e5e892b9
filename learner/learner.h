/*
 * learner.h — the learner process: owns the run (config, replay, algorithm, checkpoints,
 * metrics) and three sockets. Threads: ingest (data PULL → validate → replay), control
 * (ROUTER: registration, heartbeats, params on request), stats (libuv HTTP, in statsd), and
 * the trainer (the caller of learner_run: training steps, broadcasts on PUB, checkpoints).
 * Counters shared between threads are atomics; the actor table has its own lock; the current
 * packed Params message is swapped under `params_lock`.
 */
#ifndef RL_LEARNER_H
#define RL_LEARNER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "learner/algo.h"

/* Why an incoming message was dropped: counted per reason in struct shared (shared_reject), the
 * one list /stats and /metrics show (learner_reject_names, in this order). */
enum learner_reject {
    REJECT_BAD_SIZE = 0, /* empty or larger than the socket's maximum */
    REJECT_DECODE,       /* not a valid envelope */
    REJECT_BAD_VERSION,  /* another protocol version */
    REJECT_WRONG_TYPE,   /* a message type this socket does not take */
    REJECT_STALE_EPOCH,  /* from before the learner (re)started */
    REJECT_UNKNOWN_ACTOR,
    REJECT_WRONG_DIMS, /* obs_dim or D differ from the run's */
    REJECT_STALE_POLICY,
    REJECT_DUPLICATE,     /* sequence number not increasing */
    REJECT_BAD_SESSION,   /* actor id and session (and CURVE key) do not match a registration */
    REJECT_NOT_EVALUATOR, /* an evaluation report from a session that is not an evaluator's */
    REJECT_RATE_LIMITED,  /* a params request sooner than the per-session limit */
    REJECT_OBS_RANGE,     /* an observation beyond obs_limit */
    REJECT_ACTION_RANGE,  /* an action beyond action_limit */
    REJECT_REWARD_RANGE,  /* a reward (or episode return) beyond reward_limit */
    REJECT_BAD_STEPS,     /* env steps of a chunk step beyond the run's chunk length H */
    REJECT_BAD_EPISODES,  /* episode summaries that do not match the segment's end flags */
    REJECT_HELLO_RATE,    /* a Hello beyond its connection's registration rate */
    REJECT_KEY_IDENTITY,  /* a Hello whose name or role the CURVE allow-list entry forbids */
    REJECT_BAD_CHAIN,     /* a run that trains on denoising chains got none, or another size */
    REJECT_BAD_IMAGE,   /* camera images missing, unexpected, or of another shape than the run's */
    REJECT_AUTH_FAILED, /* a CURVE handshake the ZAP handler refused (unknown key, plain) */
    REJECT_COUNT,
};

extern const char *const learner_reject_names[REJECT_COUNT];

struct learner;

/*
 * Build a learner from a resolved config: binds its sockets, creates the algorithm, and (with
 * resume) restores the newest valid checkpoint of the run directory. NULL + reason in err.
 */
struct learner *learner_new(const struct rl_config *c, char *err, size_t errlen);

/*
 * Run until max_env_steps are ingested or *stop becomes non-zero (a signal): trains, publishes,
 * checkpoints; on the way out tells actors to stop and writes a final checkpoint.
 * Returns 0, or a negative errno if the run could not go on.
 */
int learner_run(struct learner *l, volatile sig_atomic_t *stop);

void learner_destroy(struct learner **l);

#endif
