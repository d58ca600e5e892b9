/*
 * replay.h — the learner's bounded replay of chunk steps, grouped by trajectory segment.
 *
 * A ring of `capacity` chunk steps. Each stored step keeps its observation, flattened action
 * chunk (D floats), summed reward, env steps executed, terminal/truncated flags, the next
 * observation, the policy version that acted, its segment id and position in the segment,
 * and a global insertion index (for "fresh" sampling). A segment's steps are stored
 * contiguously, so TD(λ) targets can walk forward inside a segment. When full, the oldest
 * steps are overwritten.
 *
 * Thread-safety: replay_add and replay_sample* may be called from different threads (one
 * internal mutex, held only while copying rows).
 */
#ifndef RL_REPLAY_H
#define RL_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rng.h"

struct replay;

/* One incoming segment of T chunk steps (all arrays borrowed for the call). */
struct replay_segment {
    int T;
    const float *obs;    /* (T+1) x obs_dim: obs[t+1] is the observation after step t */
    const float *act;    /* T x D */
    const float *rew;    /* T, summed over the chunk */
    const int *steps;    /* T, env steps executed (chunks stop early at episode end); NULL = H */
    const uint8_t *term; /* T */
    const uint8_t *trunc;
    uint64_t traj_id;   /* a global segment id (critic halves use traj_id mod 2) */
    uint64_t version;   /* policy version that acted */
    const float *chain; /* T x chain_len (replay_set_chain), or NULL: the steps carry none */
    const float *logp;  /* T, with chain */
};

/* A sampled batch; arrays are owned by the caller and sized for B rows. */
struct replay_batch {
    float *obs;      /* B x obs_dim */
    float *act;      /* B x D */
    float *rew;      /* B */
    float *next_obs; /* B x obs_dim */
    float *done;     /* B: 1 if terminal (truncation is NOT done: it bootstraps) */
    float *steps;    /* B: env steps in the chunk; NULL to skip */
    uint64_t *traj;  /* B: segment ids; NULL to skip */
    int64_t *index;  /* B: ring slot of each row (for replay_next); NULL to skip */
};

/* New replay of `capacity` chunk steps. Returns NULL on bad dims or ENOMEM. Free with destroy. */
struct replay *replay_new(long capacity, int obs_dim, int act_dim);
void replay_destroy(struct replay **r);

/*
 * A replay that also keeps one camera image (img_bytes of uint8, > 0) per observation. Images
 * live in their own ring, one row per observation: a segment of T steps takes T+1 rows and a
 * step's next image is the row after its own, so consecutive steps share it. The ring has
 * capacity + ceil(capacity / seg_len) + 1 rows; segments shorter than seg_len use more rows per
 * step, and then the oldest steps are evicted before the step ring is full. Returns NULL on bad
 * dims or ENOMEM.
 */
struct replay *replay_new_img(long capacity, int obs_dim, int act_dim, size_t img_bytes,
                              int seg_len);

/* Bytes of one image (0: a replay without images). */
size_t replay_img_bytes(const struct replay *r);

/* Bytes the replay allocated for its rows and images, divided by its capacity in steps. */
double replay_bytes_per_step(const struct replay *r);

/*
 * Append a segment with its images: img holds (T+1) x img_bytes, the image of each observation
 * row (NULL on a replay without images; required on one with). Returns as replay_add, and
 * -EINVAL when img does not match the replay.
 */
int replay_add_img(struct replay *r, const struct replay_segment *s, const uint8_t *img);

/*
 * Append a segment (copied). Returns 0, -EINVAL if T < 1 or T > capacity.
 * Steps evicted to make room are counted in replay_evicted().
 */
int replay_add(struct replay *r, const struct replay_segment *s);

/* Chunk steps stored now (<= capacity; quarantined ones left out), ever inserted, evicted. */
long replay_size(struct replay *r);
uint64_t replay_inserted(struct replay *r);
uint64_t replay_evicted(struct replay *r);
long replay_capacity(const struct replay *r);

/*
 * Sample B rows uniformly, except that at least ceil(fresh_frac * B) rows come from the
 * `fresh_window` most recently inserted steps (when such exist), and that the other rows are
 * stratified by outcome in sparse-reward mode (replay_set_sparse). parity = 0 or 1 keeps only
 * steps whose traj_id % 2 == parity; -1 takes all. Returns the number of rows sampled (B, or 0
 * when the replay is empty or holds no step of that parity).
 */
int replay_sample(struct replay *r, struct rng *g, int B, double fresh_frac, long fresh_window,
                  int parity, struct replay_batch *out);

/*
 * replay_sample that also copies each row's image and next image (B x img_bytes each) under
 * the same lock. Nullable: img, next_img (skipped).
 */
int replay_sample_img(struct replay *r, struct rng *g, int B, double fresh_frac, long fresh_window,
                      int parity, struct replay_batch *out, uint8_t *img, uint8_t *next_img);

/*
 * Sparse-reward mode. success > 0 is a threshold on a segment's cumulative reward: a later
 * replay_add keeps a segment's steps only up to the one that reaches it (the states after a
 * success never enter a batch) and stores that step as terminal; the segment's steps are then
 * "succeeded", the others "failed" (a segment is the whole episode when segment_len covers
 * it). stratify: the rows of a sample that are not fresh alternate between the two classes
 * (equal shares; a class with no step of the parity gives way to the other). success <= 0
 * turns both off (the default). Classes of stored steps are recomputed.
 */
void replay_set_sparse(struct replay *r, double success, bool stratify);

/* Stored steps of failed (n[0]) and succeeded (n[1]) segments (all in n[0] when mode is off). */
void replay_class_sizes(struct replay *r, long n[2]);

/*
 * Slot of the step after `index` in the same segment, or -1 if `index` was its segment's last
 * step or the next one has been overwritten.
 */
int64_t replay_next(struct replay *r, int64_t index);

/* Copy the row at ring slot `index` into row `row` of out (same fields as replay_sample). */
void replay_get(struct replay *r, int64_t index, struct replay_batch *out, int row);

/* Copy the image and next image of ring slot `index` (img_bytes each). Nullable: next_img. */
void replay_get_img(struct replay *r, int64_t index, uint8_t *img, uint8_t *next_img);

/* What replay_quarantine removed. */
struct replay_quarantined {
    long segments; /* segments quarantined */
    long steps;    /* their stored chunk steps */
    long outliers; /* rows of the batch beyond the outlier limit */
};

/*
 * Drop the poison a non-finite training step read: slots[0..n) are the ring slots of its rows
 * (algo_ops.blame). A row is an outlier when the largest magnitude among its values
 * (observation, next observation, action, reward; a non-finite value is infinite) exceeds
 * ratio * (median of the rows' magnitudes + 1), or is infinite; the whole segment of every outlier
 * is quarantined, or, when there is no outlier, the segment of the row with the largest magnitude
 * (so every failed step removes something, the worst first). Quarantined steps are never sampled,
 * walked into (replay_next) or saved, and leave replay_size(); their slots are reused as the ring
 * moves on. Rows already overwritten or quarantined are ignored. Returns 0 (counts in *out) or
 * -ENOMEM.
 */
int replay_quarantine(struct replay *r, const int64_t *slots, int n, double ratio,
                      struct replay_quarantined *out);

/*
 * Persistence (the replay survives a resume). Images are saved one row per observation as in
 * the ring, and a file must have images exactly when the replay has (of the same size).
 * replay_save copies the stored steps (oldest
 * first) under the lock, then writes them without it to `path` atomically (the ckpt container,
 * kind "RPLY", CRC-checked), with `env_steps` recorded. replay_load replaces the contents of an
 * empty replay with a file's steps (the newest ones that fit if the capacity shrank); a file
 * of other dimensions, or a truncated or corrupt one, is refused with a reason in err and the
 * replay is left untouched. Return the number of steps written / loaded, or -errno.
 */
long replay_save(struct replay *r, const char *path, uint64_t env_steps, char *err, size_t errlen);
/*
 * Drop the newest chunk steps so that no step inserted at or after index `inserted` (the
 * replay_inserted() of an earlier moment) remains: a resume uses the replay as of its
 * checkpoint. Returns the number of steps dropped.
 */
long replay_trim(struct replay *r, uint64_t inserted);

long replay_load(struct replay *r, const char *path, uint64_t *env_steps, char *err, size_t errlen);

/*
 * On-policy chains (ReinFlow). replay_set_chain makes every slot keep, beside the step, a chain
 * of chain_len floats, its log-likelihood and the acting policy version (call before any
 * replay_add). Steps added without a chain, and steps restored by replay_load (files carry no
 * chains), are stored as chainless. Returns 0, -EINVAL (chain_len < 1) or -ENOMEM.
 */
int replay_set_chain(struct replay *r, int chain_len);

/* Floats per chain (0 without replay_set_chain). */
int replay_chain_len(const struct replay *r);

/* Rows of one policy version with their chains (arrays owned by the caller, sized for max). */
struct replay_chain_rows {
    float *obs;      /* max x obs_dim */
    float *next_obs; /* max x obs_dim */
    float *rew;      /* max */
    float *steps;    /* max: env steps in the chunk */
    float *done;     /* max: 1 if terminal */
    uint64_t *traj;  /* max: segment ids (a segment's steps are consecutive rows) */
    float *chain;    /* max x chain_len */
    float *logp;     /* max */
};

/*
 * The stored chain steps of the newest policy version V present, if V >= min_version: copies
 * up to max of them, oldest first, into out (when out is not NULL) and sets *version = V.
 * Returns how many steps of V are stored (may exceed max; only max are copied), or 0 when
 * there are none with V >= min_version. Nullable: out.
 */
long replay_chain_latest(struct replay *r, uint64_t min_version, long max,
                         struct replay_chain_rows *out, uint64_t *version);

#endif
