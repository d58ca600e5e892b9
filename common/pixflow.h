/*
 * pixflow.h — the pixel flow policy (policy kind "pixflow"): a flow policy (common/flow.h)
 * whose observation input is [encoder features (F) | proprioception (P)], the features those of
 * the task's camera image through a CNN encoder (common/encoder.h, the default spec at the
 * run's image_size), the proprioception the first P = task_proprio_dim entries of the
 * (normalised) state vector. Acting needs the image of each observation (policy_act_img).
 *
 * Weight block (one flat float block, as every policy kind): [flow params | encoder params].
 * Policy files add a section "policy.encoder" (struct pixflow_file, versioned) naming the
 * encoder's shape and P; a reader refuses a version it does not know. Plain flow files carry no
 * such section and load as before.
 *
 * Not thread-safe: one policy per thread (as common/policy.h).
 */
#ifndef RL_PIXFLOW_H
#define RL_PIXFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "common/encoder.h"
#include "common/policy.h"

struct flow;
struct flow_spec;
struct rl_config;

#define PIXFLOW_FILE_VERSION 1

/* The "policy.encoder" section of a pixel policy file: little-endian int32 fields. */
struct pixflow_file {
    int32_t version; /* PIXFLOW_FILE_VERSION */
    int32_t h, w, c, n_conv;
    int32_t kernel[ENCODER_MAX_CONV], ch[ENCODER_MAX_CONV], stride[ENCODER_MAX_CONV];
    int32_t feat;
    int32_t proprio; /* P */
};

/* The "policy.encoder" section of a pixel policy with encoder e and proprioception P. */
void pixflow_file_of(const struct encoder *e, int P, struct pixflow_file *h);

/* The sampler of kind "pixflow" (policy_ops of common/policy.h). */
extern const struct policy_ops pixflow_policy_ops;

/*
 * The encoder and flow shapes of a pixel policy for config c (task c->env, image_size, chunk,
 * [flow] keys): *es the default encoder of image_size^2 RGB, *fs a flow over F + P inputs, *P
 * the proprioception. 0, or -EINVAL with a reason in err (unknown task, sizes out of range, an
 * image too small for the encoder).
 */
int pixflow_specs(const struct rl_config *c, struct encoder_spec *es, struct flow_spec *fs, int *P,
                  char *err, size_t errlen);

/* Layout hash of a pixel policy's weight block (flow layout, encoder shape, P; tagged). */
uint64_t pixflow_layout(const struct flow *f, const struct encoder *e, int P);

/*
 * Save a pixel policy file that policy_load_img() reads: learner.config (cfg_text, which must
 * name pixels, image_size and pixel_camera), policy.kind "pixflow", policy.layout,
 * policy.weights [flow | encoder], policy.encoder, and policy.bounds (2O + 2A floats of the
 * full state vector) when bounds is not NULL. Atomic. 0 or -errno with a reason in err.
 * Nullable: bounds.
 */
int pixflow_save(const char *path, const char *cfg_text, const struct flow *f,
                 const struct encoder *e, int P, const float *bounds, int obs_dim, char *err,
                 size_t errlen);

#endif
