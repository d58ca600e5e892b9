/*
 * evalvideo.h — the evaluator's videos: every video_every-th evaluation (the first one
 * included) it records one more deterministic episode into <run_dir>/videos/eval-<steps>.mp4
 * and, as an animated GIF at half the size, into a TensorBoard event file of its own in
 * <run_dir> (tag eval/video; TensorBoard's image dashboard plays it). A pixel policy acts on
 * the pictures of a camera of its own (the run's pixel_camera at image_size), as the evaluated
 * envs do, apart from the video's. Rendering needs EGL: when
 * it cannot start, the evaluator goes on without videos and logs why once. Owned and used by
 * the evaluator's thread only (actor/render.h's thread rule).
 */
#ifndef RL_EVALVIDEO_H
#define RL_EVALVIDEO_H

#include <stdbool.h>
#include <stdint.h>

#include "actor/rollout.h"
#include "common/config.h"

struct evalvideo;

/* The policy of a video episode: act on obs (num_envs = 1) and, for a pixel policy, img (the
 * picture of that observation; NULL for a policy of the state), writing chunk x act_dim
 * actions. 0, or a negative errno that ends the episode. */
typedef int (*evalvideo_act_fn)(void *ctx, const float *obs, const uint8_t *img, int num_envs,
                                float *chunks);

/*
 * A recorder for the run c (its task, model file, run_dir, seed, video_every, video_size,
 * max_episode_steps; with pixel_policy, its pixel_camera and image_size); nothing is opened
 * before the first video. Returns NULL when videos are off (video_every = 0 or no run_dir) or
 * out of memory. c is copied.
 */
struct evalvideo *evalvideo_new(const struct rl_config *c, bool pixel_policy);

/* Free everything (closing the event file) and set *pv = NULL. NULL or *pv NULL: no-op. */
void evalvideo_destroy(struct evalvideo **pv);

/*
 * Count one evaluation at env_steps; when it is a video_every-th one, record an episode with
 * act and write the MP4 and the image summary. Returns 1 when a video was written, else 0: none was
 * due, videos are off for good (EGL or the directory failed: logged once), or this one failed
 * (logged).
 */
int evalvideo_after_eval(struct evalvideo *v, uint64_t env_steps, evalvideo_act_fn act, void *ctx,
                         int chunk);

#endif
