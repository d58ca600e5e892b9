/*
 * algo.h — the interface between the learner runtime and an algorithm's math.
 *
 * The runtime (ingest, replay, broadcast, checkpoint, stats) knows nothing of the math. An
 * algorithm provides its networks, one training step, the policy weights actors run (as one
 * flat float block whose layout matches the actor-side sampler of common/policy.h), and
 * checkpoint sections. It never touches a socket. All calls come from the trainer thread.
 */
#ifndef RL_ALGO_H
#define RL_ALGO_H

#include <stddef.h>
#include <stdint.h>

struct rl_config;
struct replay;
struct ckpt_writer;
struct ckpt;

/* Task dimensions: D = chunk * act_dim is the flattened action chunk the networks see. */
struct algo_dims {
    int obs_dim;
    int act_dim;
    int chunk;
    int D;
};

/* Named scalars an algorithm reports after a step (losses, diagnostics). */
#define ALGO_MAX_SCALARS 32
struct algo_report {
    int n;
    const char *name[ALGO_MAX_SCALARS]; /* static strings, e.g. "critic_loss" */
    double value[ALGO_MAX_SCALARS];
};

/* Add (or overwrite) a named scalar in a report. */
void algo_report_set(struct algo_report *r, const char *name, double value);

struct algo;

struct algo_ops {
    /* the algorithm's name: its row of common/algoinfo.c (policy kind, default chunk) */
    const char *name;

    /* Build networks and optimisers from the config. NULL + message in err on failure. */
    struct algo *(*create)(const struct rl_config *c, const struct algo_dims *d, char *err,
                           size_t errlen);
    void (*destroy)(struct algo *a);

    /*
     * One training step (one critic update, plus whatever the algorithm schedules with it).
     * Samples from r. Returns 0, or a negative errno when it cannot step yet (-EAGAIN: not
     * enough data) or diverged (-EDOM: non-finite loss; the step is not applied). Fills rep.
     */
    int (*train_step)(struct algo *a, struct replay *r, struct algo_report *rep);

    /*
     * After a train_step that returned -EDOM: the replay ring slots (replay_batch.index) of
     * the rows that step read, in *slots (borrowed until the next call); returns the count, 0
     * when unknown. The runtime quarantines the poison among them (replay_quarantine), so the
     * algorithm also forgets what it kept of those rows: its next step draws afresh. NULL: no
     * blame (the replay keeps the rows until the ring overwrites them).
     */
    int (*blame)(struct algo *a, const int64_t **slots);

    /* Policy weights for the actors: count, layout hash, and a copy into dst. */
    size_t (*policy_size)(const struct algo *a);
    uint64_t (*policy_layout)(const struct algo *a);
    void (*policy_export)(const struct algo *a, float *dst);

    /*
     * Normalisation bounds actors apply (obs_lo/hi: obs_dim each, act_lo/hi: act_dim each), or
     * 0 when the policy sees raw observations and actions.
     */
    int (*bounds)(const struct algo *a, const float **obs_lo, const float **obs_hi,
                  const float **act_lo, const float **act_hi);

    /*
     * Optional (NULL: none): floats of denoising chain the algorithm trains on per chunk step;
     * > 0 makes the replay keep the chains actors send (replay_set_chain) and ingest reject
     * steps without one of that size.
     */
    int (*chain_len)(const struct algo *a);

    /*
     * Optional (NULL: the algorithm's row in common/algoinfo): the sampler of this instance, when
     * it depends on the configuration (rldt fine-tuning a pixel policy: "pixflow").
     */
    const char *(*policy_kind_of)(const struct algo *a);

    /* Checkpoint: add sections (borrowed until the writer saves) / restore them. */
    int (*save)(struct algo *a, struct ckpt_writer *w);
    int (*load)(struct algo *a, const struct ckpt *c, char *err, size_t errlen);
};

/* The sampler actors run for instance a of ops: policy_kind_of(a), else its algoinfo row's. */
const char *algo_policy_kind(const struct algo_ops *ops, const struct algo *a);

/*
 * The pre-trained flow policy of c->base_policy that algorithm `who` fine-tunes, shaped by the
 * config's flow keys; *bounds gets its normalisation bounds (2 obs_dim + 2 act_dim floats,
 * malloc'd, the caller frees) or NULL when the file has none. NULL + message in err (naming who)
 * when the key is empty or the file does not load.
 */
struct flow;
struct flow *algo_load_base(const struct rl_config *c, const struct algo_dims *d, const char *who,
                            float **bounds, char *err, size_t errlen);

/* The algorithm called `name`, or NULL. */
const struct algo_ops *algo_find(const char *name);

/* The registry in order: algorithm i for i < algo_count(), else NULL. Common code (config
 * choices and chunk default, the actor's policy kind) cannot link the learner and keeps its
 * own copies of these facts; test_config checks that they agree with this registry. */
size_t algo_count(void);
const struct algo_ops *algo_at(size_t i);

#endif
