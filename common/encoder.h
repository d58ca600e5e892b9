/*
 * encoder.h — a small convolutional image encoder with explicit forward/backward: uint8 camera
 * images in, a feature vector per image out, for policies and critics that see pixels.
 *
 * Layout (channels last throughout, NHWC, row-major): the input byte v becomes v / 255 - 0.5;
 * then n_conv layers  y = ReLU(conv_k×k,stride(x) + b)  (no padding), each computed as im2col
 * (one row of k*k*C_in values per output pixel) times W^T with one cblas_sgemm; then a linear
 * layer from the flattened last feature map to `feat` outputs and tanh. W of a conv is
 * (C_out, k*k*C_in), of the head (feat, flat); init U(±1/sqrt(fan_in)), biases 0.
 * Like common/nn.h, one contiguous parameter block and one gradient block of the same layout
 * (copy = memcpy of params: the critic's encoder starts as a copy of the actor's), and all
 * activations in a ctx sized for max_batch images; nothing allocates after *_new.
 *
 * Thread-safety: forward only reads the encoder (threads may share it with one ctx each);
 * backward adds into e->grads (one thread at a time).
 */
#ifndef RL_ENCODER_H
#define RL_ENCODER_H

#include <stddef.h>
#include <stdint.h>

struct rng;

#define ENCODER_MAX_CONV 4

/* The shape of an encoder (plain data; fill with encoder_spec_default, then adjust). */
struct encoder_spec {
    int h, w, c;                  /* input image */
    int n_conv;                   /* conv layers, 1..ENCODER_MAX_CONV */
    int kernel[ENCODER_MAX_CONV]; /* k of each conv (k x k, no padding) */
    int ch[ENCODER_MAX_CONV];     /* output channels of each conv */
    int stride[ENCODER_MAX_CONV]; /* stride of each conv */
    int feat;                     /* output features */
};

/*
 * The default (the DQN Atari encoder's convs): 8x8/4 to 32 channels, 4x4/2 to 64, 3x3/1 to 64,
 * then 64 features; 84x84 maps go 20, 9, 7. `rldt bench encoder` measures it against the
 * alternatives below.
 */
void encoder_spec_default(struct encoder_spec *s, int h, int w, int c);

/* The DrQ-style alternative: 3x3 convs of 32 channels, strides 2, 2, 1 (84: 41, 20, 18). */
void encoder_spec_drq(struct encoder_spec *s, int h, int w, int c);

struct encoder {
    struct encoder_spec sp;
    int oh[ENCODER_MAX_CONV], ow[ENCODER_MAX_CONV];          /* output size of each conv */
    size_t w[ENCODER_MAX_CONV + 1], b[ENCODER_MAX_CONV + 1]; /* offsets; [n_conv]: the head */
    int flat;                                                /* inputs of the head */
    size_t n_params;
    float *params;
    float *grads;
};

/*
 * A new encoder of shape sp (parameters zero: call encoder_init). Returns NULL with a reason
 * in err for a bad spec (an image too small for its convs) or ENOMEM. Caller owns; free with
 * encoder_destroy(). Nullable: err.
 */
struct encoder *encoder_new(const struct encoder_spec *sp, char *err, size_t errlen);

/* Free e; sets *e to NULL. Nullable: e, *e. */
void encoder_destroy(struct encoder **e);

/* Random initial weights (U(±1/sqrt(fan_in))), zero biases. */
void encoder_init(struct encoder *e, struct rng *g);

/* grads = 0. */
void encoder_zero_grad(struct encoder *e);

/* Bytes of one input image, h*w*c. */
size_t encoder_image_bytes(const struct encoder *e);

/* Activations and scratch for up to max_batch images. */
struct encoder_ctx;

/* A ctx for e and batches of up to max_batch images, or NULL. Free with encoder_ctx_destroy. */
struct encoder_ctx *encoder_ctx_new(const struct encoder *e, int max_batch);

/* Free c; sets *c to NULL. Nullable: c, *c. */
void encoder_ctx_destroy(struct encoder_ctx **c);

/*
 * Encode B <= max_batch images (B x h*w*c bytes). Returns the features (B, feat), borrowed
 * from c until its next forward.
 */
const float *encoder_forward(const struct encoder *e, struct encoder_ctx *c, const uint8_t *img,
                             int B);

/* The float input of the last forward (B, h*w*c), borrowed from c. */
const float *encoder_input(const struct encoder_ctx *c);

/*
 * Backward through the last forward on c: adds dL/dparams into e->grads, given d_feat
 * (B, feat) = dL/dfeatures. Images have no gradient.
 */
void encoder_backward(struct encoder *e, struct encoder_ctx *c, const float *d_feat);

/*
 * Random-shift augmentation (DrQ): each of B images (h x w x c bytes) is padded by `pad`
 * pixels replicating its edges and cropped back to h x w at a random offset in 0..2*pad per
 * axis (one offset pair per image). in and out must not overlap.
 */
void encoder_random_shift(const uint8_t *in, uint8_t *out, int B, int h, int w, int c, int pad,
                          struct rng *g);

#endif
