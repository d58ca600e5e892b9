/*
 * pretrain.h — behaviour cloning of a flow policy by conditional flow matching
 * (learner/algo/README.md §1): for a data row (state s, chunk a of H consecutive actions of the
 * same episode), t ~ U[0, 1), z ~ N(0, I), x_t = (1 − t) z + t a,
 * loss = mean ‖v(x_t, t | s) − (a − z)‖² / D; Adam, and an EMA copy of the weights (the copy
 * that is saved and fine-tuned). The math only: no sockets, no files except the optional state
 * and policy files.
 *
 * Data: observations and actions are min-max normalised with the dataset's bounds (fitted on
 * the data when the file has none); the bounds are saved with the policy. Chunks that run past
 * the end of their episode are padded by repeating the episode's last action, so every
 * recorded state, including the last H − 1 of each episode, is a training row. About 2% of
 * the episodes (every 50th, when there are at least 2) are held out for a validation loss.
 *
 * From pixels: when the dataset has camera images (c->image_size square RGB), an image encoder
 * (common/pixflow.h) feeds the flow [features | proprioception], trained with it on randomly
 * shifted images (pad 4); the saved policy is of kind "pixflow", the state file holds the
 * encoder too.
 *
 * Not thread-safe: one thread drives a struct pretrain.
 */
#ifndef RL_PRETRAIN_H
#define RL_PRETRAIN_H

#include <stddef.h>
#include <stdint.h>

struct dataset;
struct encoder;
struct flow;
struct rl_config;

struct pretrain;

/*
 * Set up pre-training of a flow policy (sizes from the [flow] keys of c, chunk c->chunk) on
 * ds (copied and normalised; ds may be freed afterwards) with batch pretrain_batch, learning
 * rate pretrain_lr, EMA decay ema_decay, seed c->seed. NULL with a reason in err on bad sizes,
 * an empty dataset or out of memory. Caller owns; free with pretrain_destroy().
 */
struct pretrain *pretrain_new(const struct rl_config *c, const struct dataset *ds, char *err,
                              size_t errlen);

/* Free and set *p = NULL. Nullable: p, *p. */
void pretrain_destroy(struct pretrain **p);

/*
 * One gradient step on a fresh batch, then the EMA update. Writes the batch loss to *loss.
 * Returns 0, or -EDOM when the loss is not finite (nothing applied).
 */
int pretrain_step(struct pretrain *p, double *loss);

/* Steps taken so far (restored by pretrain_load_state). */
long pretrain_steps_done(const struct pretrain *p);

/* Loss of the EMA weights on a fixed held-out batch (fixed t and z); training rows when there
 * is no held-out episode. */
double pretrain_val_loss(struct pretrain *p);

/* Learning rate of the next step (after warm-up). */
double pretrain_lr(const struct pretrain *p);

/* The trained weights and their EMA copy (borrowed, valid until pretrain_destroy). */
const struct flow *pretrain_net(const struct pretrain *p);
const struct flow *pretrain_ema(const struct pretrain *p);

/* The image encoder and its EMA copy when training from pixels, else NULL (borrowed). */
const struct encoder *pretrain_encoder(const struct pretrain *p);
const struct encoder *pretrain_encoder_ema(const struct pretrain *p);

/* Normalisation bounds (2O + 2A floats: obs_lo | obs_hi | act_lo | act_hi), borrowed. */
const float *pretrain_bounds(const struct pretrain *p);

/*
 * Save the EMA weights as a policy checkpoint (common/flow.h flow_policy_save; from pixels
 * common/pixflow.h pixflow_save) whose config section is cfg_text. 0 or -errno with a reason
 * in err.
 */
int pretrain_save_policy(const struct pretrain *p, const char *cfg_text, const char *path,
                         char *err, size_t errlen);

/*
 * Save / restore the whole training state (weights, EMA, Adam moments, step, RNG) so an
 * interrupted run continues where it stopped. Atomic write. 0 or -errno with a reason in err;
 * a state of another network shape is refused (-EINVAL).
 */
int pretrain_save_state(const struct pretrain *p, const char *path, char *err, size_t errlen);
int pretrain_load_state(struct pretrain *p, const char *path, char *err, size_t errlen);

#endif
