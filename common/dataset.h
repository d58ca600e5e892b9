/*
 * dataset.h — offline datasets of environment steps (what `rldt collect` writes and
 * `rldt pretrain` reads): observations, actions, rewards, terminal and truncated flags,
 * episodes, and min-max normalisation bounds fitted on the data.
 *
 * Storage is per env step, episodes contiguous: step i of episode e is row ep[e].start + i.
 * obs[i] is the observation action act[i] was taken in; the observation after an episode's
 * last step is final_obs[e]. Actions are the env's (as sent to the simulator).
 * File: the ckpt container (common/ckpt.h) of kind "DSET" (checksummed, atomically written),
 * sections dataset.meta, .obs, .act, .rew, .term, .trunc, .episodes, .final_obs, .bounds, an
 * optional .source text and optional per-episode .labels (success, demonstrator strategy:
 * written by `rldt demo`; readers that do not know the section ignore it), and optional camera
 * images, one uint8 picture per row and one of each episode's final state (.image_shape,
 * .images, .final_images: `rldt demo --pixels`). A struct dataset is
 * caller-embedded (dataset_init/_fini), not thread-safe while being built; read-only use is.
 */
#ifndef RL_DATASET_H
#define RL_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DATASET_VERSION 1
#define DATASET_ENV_MAX 32

/* Episode flags. */
#define DATASET_EP_TERMINATED 1 /* ended by the task's termination condition */
#define DATASET_EP_TIMELIMIT 2  /* truncated by the time limit */
#define DATASET_EP_CUT 4        /* truncated because collection stopped (partial episode) */

struct dataset_episode {
    int64_t start; /* first row */
    int64_t len;   /* steps, >= 1 */
    double ret;    /* sum of rewards */
    int64_t flags; /* DATASET_EP_* (exactly one) */
};

/* Per-episode labels (-1: unknown). */
struct dataset_label {
    int64_t success;  /* 1 the task was solved, 0 not, -1 unknown */
    int64_t strategy; /* demonstrator strategy id 0..63, -1 unknown */
};

struct dataset {
    char env[DATASET_ENV_MAX];
    int obs_dim;                 /* O */
    int act_dim;                 /* A */
    long n;                      /* env steps (rows) */
    long n_episodes;             /* E */
    float *obs;                  /* (n, O) */
    float *act;                  /* (n, A) */
    float *rew;                  /* (n) */
    uint8_t *term;               /* (n) 1 on the last step of a terminated episode */
    uint8_t *trunc;              /* (n) 1 on the last step of a truncated (time limit or cut) one */
    struct dataset_episode *ep;  /* (E) */
    struct dataset_label *label; /* (E) */
    bool has_labels;             /* some episode was labelled: the file gets .labels */
    float *final_obs;            /* (E, O) */
    float *bounds;               /* (2O + 2A): obs_lo | obs_hi | act_lo | act_hi */
    bool has_bounds;
    int img_h, img_w, img_c; /* camera images (dataset_set_images); all 0: none */
    uint8_t *img;            /* (n, h*w*c): the picture of obs[i] */
    uint8_t *final_img;      /* (E, h*w*c): the picture of final_obs[e] */
    long img_episodes;       /* episodes whose images were added (dataset_add_images) */
    char source[256];        /* free text: how it was made */
    long cap, ep_cap;        /* allocated rows / episodes */
};

/* Summary over episodes (complete = not DATASET_EP_CUT). */
struct dataset_stats {
    long episodes, complete, terminated, timelimit, cut;
    double ret_mean, ret_std, ret_min, ret_max; /* over complete episodes (0 if none) */
    double len_mean;                            /* over complete episodes */
    double rew_mean;                            /* per step, all rows */
    long labelled, successes;                   /* episodes with a known success, successes */
    long strategy[8];                           /* episodes per strategy id 0..7 */
};

/* An empty dataset for task env with the given dims. 0, or -EINVAL (bad dims or name). */
int dataset_init(struct dataset *d, const char *env, int obs_dim, int act_dim);

/* Free everything (safe on a zeroed or finied struct). */
void dataset_fini(struct dataset *d);

/*
 * Append one episode of len >= 1 steps: obs (len, O), act (len, A), rew (len), final_obs (O),
 * flags one of DATASET_EP_*. Copies. Returns 0, -EINVAL (bad len/flags) or -ENOMEM.
 */
int dataset_add_episode(struct dataset *d, long len, const float *obs, const float *act,
                        const float *rew, const float *final_obs, int flags);

/*
 * Give the dataset camera images of h x w x c bytes (1..512, 1..512, 1..4) per row, before the
 * first episode. Returns 0 or -EINVAL (bad shape, episodes already added).
 */
int dataset_set_images(struct dataset *d, int h, int w, int c);

/* Bytes of one image, 0 without images. */
size_t dataset_image_bytes(const struct dataset *d);

/*
 * The images of the episode added last: img (len, h*w*c), one per row, and final_img, the
 * picture of its final observation. Copies. Every episode of a dataset with images needs them
 * before dataset_save. Returns 0, or -EINVAL (no images, no episode, or its images given).
 */
int dataset_add_images(struct dataset *d, const uint8_t *img, const uint8_t *final_img);

/*
 * Label the last added episode: success 1/0/-1 and strategy 0..63 or -1. Returns 0, or -EINVAL
 * (no episode yet, values out of range).
 */
int dataset_label_last(struct dataset *d, int success, int strategy);

/* Fit bounds: per-dimension min and max of obs and of act. 0 or -EINVAL + err (empty, NaN). */
int dataset_fit_bounds(struct dataset *d, char *err, size_t errlen);

/* Episode statistics. */
void dataset_stats(const struct dataset *d, struct dataset_stats *st);

/* Write atomically to path (never a half-written file under that name). 0 or -errno + err. */
int dataset_save(const struct dataset *d, const char *path, char *err, size_t errlen);

/*
 * Read and verify a dataset file into *d (initialised here; dataset_fini it on success):
 * container checks (truncation, checksum, format version), dataset version, dimensions against
 * the task's, section sizes, episode table, flags and finite values. 0, or -errno with a
 * one-line reason in err (d is left empty).
 */
int dataset_load(struct dataset *d, const char *path, char *err, size_t errlen);

#endif
