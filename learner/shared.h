/*
 * shared.h — the state the learner's threads share: read-only run facts, atomic counters,
 * the actor table, the replay, and the current packed Params message. Owned by struct learner
 * (learner.c); ingest.c and control.c borrow it for the life of their threads.
 */
#ifndef RL_LEARNER_SHARED_H
#define RL_LEARNER_SHARED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/auth.h"
#include "common/config.h"
#include "learner/actors.h"
#include "learner/algo.h"
#include "learner/learner.h"
#include "learner/replay.h"
#include "proto/wire.h"

#define RECENT_RETURNS 100

/* A packed Params message, refcounted so the control thread can send it without a lock held. */
struct params_blob {
    atomic_int refs;
    uint64_t version;
    size_t len;
    uint8_t data[];
};

struct shared {
    // read-only after start
    struct rl_config cfg;
    const char *cfg_text; /* resolved config, INI text (sent in Welcome) */
    struct algo_dims dims;
    struct wire_image_shape image; /* of the run's observations; zero: no images */
    const char *policy_kind;       /* the sampler actors run (algo_policy_kind; in Welcome) */
    uint64_t run_epoch;
    void *zctx;
    const struct auth_zap *zap; /* [auth] the allow list's identity rules; NULL without CURVE */
    bool resume_trim;           /* the restored checkpoint says how much replay it had: */
    uint64_t resume_inserted;   /* replay_inserted() when it was written */

    struct actors *actors;
    struct replay *replay;

    // counters (any thread)
    atomic_uint_fast64_t rejected[REJECT_COUNT];
    atomic_uint_fast64_t segments;    /* accepted */
    atomic_uint_fast64_t chunk_steps; /* accepted chunk steps */
    atomic_uint_fast64_t env_steps;   /* accepted env steps */
    atomic_uint_fast64_t episodes;
    atomic_uint_fast64_t successes;  /* episodes that ended in success (sparse tasks) */
    atomic_uint_fast64_t updates;    /* training steps done */
    atomic_int_fast64_t train_start; /* chunk_steps when training began (this process), -1 before */
    atomic_uint_fast64_t skipped;    /* training steps skipped (non-finite loss), this process */
    atomic_uint_fast64_t train_start_updates; /* updates + skipped at that moment */
    atomic_uint_fast64_t version;             /* latest published params version */
    atomic_bool finished;                     /* the run is over: tell actors to stop */
    atomic_bool quit;                         /* threads exit */
    atomic_bool ingest_held;                  /* ingest is holding actors back (backpressure) */
    atomic_uint_fast64_t held_secs_ms;
    /* on-policy runs (replay with chains): chunk steps accepted from policy batch_version; ingest
     * holds once a batch (reinflow_batch) of the current version is in, until the next publish */
    atomic_uint_fast64_t batch_version, batch_steps;

    // recent episode returns (ingest writes, trainer reads), under ret_lock
    pthread_mutex_t ret_lock;
    float ret[RECENT_RETURNS];
    int ret_n, ret_head;

    // the latest evaluation report (control writes, trainer reads), under eval_lock
    pthread_mutex_t eval_lock;
    uint64_t eval_count;                                     /* reports received */
    double eval_return, eval_std, eval_length, eval_success; /* eval_success: rate */
    uint64_t eval_steps, eval_version;

    // the current params message (trainer swaps, control sends)
    pthread_mutex_t params_lock;
    struct params_blob *params;
};

/* Take a reference to the current params message (NULL if none yet). */
struct params_blob *shared_params_get(struct shared *s);

/* Drop a reference (NULL is fine). */
void shared_params_put(struct params_blob *b);

/* The mean of the recent episode returns (NaN when none) and their number in *n (ret_lock). */
double shared_recent_return(struct shared *s, int *n);

/* Count one rejected message (and log the first of each reason, then every 1000th). */
void shared_reject(struct shared *s, enum learner_reject why, const char *detail);

/* Count a message refused by the actor table (why != ACTORS_OK) under its reason. */
void shared_reject_peer(struct shared *s, enum actors_check why, const char *detail);

/* Copy every rejection counter into st under its name (learner_reject_names: all reasons, in
 * their order, 0 included); the counters stay the only totals. */
struct stats;
void shared_stats_rejected(struct shared *s, struct stats *st);

/* The client key of a received zmq_msg_t (the ZAP User-Id with CURVE), "" without one.
 * Borrowed from the message. */
const char *shared_peer_key(void *msg);

/*
 * The one decode-and-reject path of the data and control sockets: check the size against max,
 * decode and validate buf[0..len) with dec, and count a failure as bad_size, bad_version or
 * decode_error (where names the socket in the log line). Returns 0 (m holds the message,
 * borrowed from dec until its next decode) or a negative errno (counted).
 */
int shared_decode(struct shared *s, struct wire_decoder *dec, const char *where, const void *buf,
                  size_t len, size_t max, struct wire_msg *m);

/* What the training schedule allows now (shared_schedule). */
struct schedule {
    bool started; /* training has started (train_start >= 0) */
    bool start;   /* not started, and the replay holds min_replay chunk steps: start now */
    bool step;    /* the trainer may take a step */
    bool hold;    /* ingest must stop taking data until the trainer catches up */
};

/*
 * The one schedule rule of ingest and trainer. Before training starts, ingest holds once the
 * replay exceeds min_replay + ingest_slack. Once training started at chunk step S with U
 * steps taken since (updates and skipped steps: a non-finite loss must not stall the run), at C
 * chunk steps ingested: the trainer may step while U < updates_per_step * (C - S + 1), and ingest
 * holds while C > S + U / updates_per_step + ingest_slack. updates_per_step <= 0 means unpaced:
 * never hold, always step. A finished run never holds.
 */
void shared_schedule(struct shared *s, struct schedule *out);

/*
 * Store a decoded, validated segment g in r as trajectory traj (with its action chains when
 * chain): the one wire -> replay conversion of ingest (tests store segments through it too).
 * Returns replay_add_img's result: 0, or a negative errno (nothing stored).
 */
int ingest_store(struct replay *r, const struct wire_segment *g, uint64_t traj, bool chain);

/* Ingest thread body (arg: struct shared *). Binds nothing: the socket is passed in. */
struct ingest_args {
    struct shared *s;
    void *sock; /* PULL socket, owned by the thread after start */
};
void *ingest_main(void *arg);

/* Control thread body. */
struct control_args {
    struct shared *s;
    void *sock; /* ROUTER socket, owned by the thread after start */
};
void *control_main(void *arg);

/* Largest message accepted on the data and control sockets. */
#define DATA_MAX_MSG (8u << 20)
#define CONTROL_MAX_MSG (1u << 20)

#endif
