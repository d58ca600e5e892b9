/*
 * policy.h — the sampler actors run: a policy of some kind ("random", "gauss" for SAC, "flow"
 * for RLDT) that maps a batch of observations to a batch of flattened action chunks in the
 * env's action space [-1, 1], evaluating every layer once per batch (one sgemm per layer).
 * Weights arrive as one flat float block (from the learner's algo policy_export, a Params
 * message, or a checkpoint) with a layout hash that must match.
 *
 * Not thread-safe: one policy per thread. Nothing allocates after policy_new.
 */
#ifndef RL_POLICY_H
#define RL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rl_config;
struct rng;

struct policy_dims {
    int obs_dim;
    int act_dim;
    int chunk; /* H; D = chunk * act_dim */
};

/* The interface a kind of policy implements (one static table per kind). */
struct policy_ops {
    const char *kind;
    void *(*create)(const struct rl_config *c, const struct policy_dims *d, int max_batch,
                    char *err, size_t errlen);
    void (*destroy)(void *impl);
    size_t (*nparams)(const void *impl);
    uint64_t (*layout)(const void *impl);
    float *(*params)(void *impl);       /* the flat weight block (nparams floats) */
    void (*params_changed)(void *impl); /* optional: called after the block was written */
    /* obs (B, obs_dim) raw; out (B, D) in [-1, 1]. */
    void (*act)(void *impl, const float *obs, int B, struct rng *r, bool deterministic, float *out);
    /* optional: floats per row of the chain the last act sampled (0 or NULL: none) ... */
    int (*chain_len)(const void *impl);
    /* ... and that chain (B, chain_len) and its log-likelihood (B), borrowed */
    void (*chain)(const void *impl, const float **chain, const float **logp);
    /* optional, for kinds that see camera images: bytes of one image (h*w*c) ... */
    size_t (*image_bytes)(const void *impl);
    /* ... and act from observations and their images (B, image_bytes) instead of act */
    void (*act_img)(void *impl, const float *obs, const uint8_t *img, int B, struct rng *r,
                    bool deterministic, float *out);
    /* optional: check the kind's own sections of a policy file k (struct ckpt) against the
     * policy built from its config; 0 or -EINVAL/-EPROTO with a reason in err */
    int (*check_file)(const void *impl, const void *k, char *err, size_t errlen);
};

struct policy;

/* The policy kind actors run for an algorithm (its algoinfo row: "sac" → "gauss", "rldt" →
 * "flow"), or NULL for an unknown name. */
const char *policy_kind_for_algo(const char *algo);

/*
 * New policy of `kind` for tasks of dims d, acting on up to max_batch observations per call.
 * NULL with a reason in err on an unknown kind, bad config or out of memory.
 */
struct policy *policy_new(const char *kind, const struct rl_config *c, const struct policy_dims *d,
                          int max_batch, char *err, size_t errlen);
void policy_destroy(struct policy **p);

const char *policy_kind(const struct policy *p);
size_t policy_nparams(const struct policy *p);
uint64_t policy_layout(const struct policy *p);

/*
 * Install weights (copied). Returns 0, or -EINVAL with a reason if n or layout differ from
 * this policy's (a weight block for another network shape).
 */
int policy_set_params(struct policy *p, const float *w, size_t n, uint64_t layout, char *err,
                      size_t errlen);

/*
 * Optional normalisation: observations are mapped with obs bounds before the network, actions
 * back from [-1, 1] with act bounds after it (see common/norm.h). NULL clears them.
 */
int policy_set_bounds(struct policy *p, const float *obs_lo, const float *obs_hi,
                      const float *act_lo, const float *act_hi);

/*
 * Load the policy stored in a checkpoint file (a learner checkpoint or a pre-trained policy):
 * its run config (task, algorithm, chunk, network sizes) goes to *c, the policy of the right
 * kind is built for max_batch observations with the stored weights and bounds. Returns the
 * policy (caller owns) or NULL with a reason in err (unreadable, corrupted, not a policy,
 * weights that do not fit).
 */
struct policy *policy_load(const char *path, struct rl_config *c, int max_batch, char *err,
                           size_t errlen);

/*
 * As policy_load, and also pixel policies (policy_image_bytes > 0), which act through
 * policy_act_img with the picture of each observation from the camera its config names
 * (pixel_camera at image_size). policy_load refuses those with a reason: its callers have no
 * camera.
 */
struct policy *policy_load_img(const char *path, struct rl_config *c, int max_batch, char *err,
                               size_t errlen);

/* Bytes of the camera image each observation needs (h*w*c), 0 for a policy of the state only. */
size_t policy_image_bytes(const struct policy *p);

/*
 * Floats per row of the denoising chain a sampler keeps from its last policy_act (ReinFlow's
 * noisy chain, in the network's normalised action space), or 0 for kinds that keep none.
 */
int policy_chain_len(const struct policy *p);

/*
 * The chain (B, policy_chain_len) and log-likelihood (B) of the last stochastic policy_act,
 * borrowed until the next call. Only for kinds with policy_chain_len > 0.
 */
void policy_chain(const struct policy *p, const float **chain, const float **logp);

/* Act on B <= max_batch observations: out (B, D). Deterministic: no sampling noise. Not for
 * pixel policies (policy_image_bytes > 0: a programmer error). */
void policy_act(struct policy *p, const float *obs, int B, struct rng *r, bool deterministic,
                float *out);

/*
 * policy_act with the images of the observations, img (B, policy_image_bytes) uint8, row 0 of
 * each picture at the top. For a policy of the state only img is ignored. Nullable: img when
 * policy_image_bytes is 0.
 */
void policy_act_img(struct policy *p, const float *obs, const uint8_t *img, int B, struct rng *r,
                    bool deterministic, float *out);

#endif
