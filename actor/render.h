/*
 * render.h — offscreen pictures of a MuJoCo model: an EGL context on Mesa's surfaceless platform
 * (software rasteriser, no display, no GPU needed), MuJoCo's renderer into its offscreen buffer,
 * RGB24 frames read back top row first.
 *
 * Threads: a struct render owns one EGL context and the MuJoCo render context made in it. An
 * OpenGL context is current on at most one thread at a time, so a render is used by the thread
 * that made it (one render per thread; several renders in one thread are fine: each call makes
 * its own context current). The model it was made for is borrowed and must outlive it; the
 * mjData passed to render_frame is only read (MuJoCo's scene update takes it non-const).
 */
#ifndef RL_RENDER_H
#define RL_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mujoco/mujoco.h>

#define RENDER_MAX_SIDE 4096 /* width and height limit, in pixels */

struct render;
struct env;

/*
 * A renderer for model m at width x height pixels (1..RENDER_MAX_SIDE each): an EGL
 * context and the model's textures uploaded in it. The offscreen buffer is made at least
 * width x height, whatever the model's <visual><global offwidth offheight> say (the model itself
 * is not changed). Returns a caller-owned renderer (render_destroy), or NULL with a one-line
 * reason in err (no EGL, no surfaceless platform, a bad size, out of memory).
 */
struct render *render_new(const mjModel *m, int width, int height, char *err, size_t errlen);

/* Free the contexts and set *pr = NULL. Call from the thread that made it. NULL or *pr NULL:
 * no-op. */
void render_destroy(struct render **pr);

/* Frame width and height in pixels. */
int render_width(const struct render *r);
int render_height(const struct render *r);

/*
 * Shadows and floor reflections on or off (both on after render_new: the look of Gym's
 * videos). Off, an 84 px frame takes about a quarter of the CPU (`rldt bench render`): a choice for
 * pixel observations, where the picture need not be pretty.
 */
void render_set_effects(struct render *r, bool shadows, bool reflections);

/*
 * Id of the model's camera named camera, or -1 for the free camera (NULL, "" or "free"), or
 * the first camera of the model for "default" (-1 when it has none). Returns -ENOENT for an
 * unknown name (err lists the model's cameras).
 */
int render_camera_id(const mjModel *m, const char *camera, char *err, size_t errlen);

/*
 * Render state d of the renderer's model from camera cam (render_camera_id: -1 = free camera
 * looking at the model's centre) into rgb: width x height x 3 bytes, row 0 at the top.
 * Returns 0, or -EINVAL for a camera id out of range, -EIO when the context cannot be made
 * current. rgb is untouched on error.
 */
int render_frame(struct render *r, mjData *d, int cam, uint8_t *rgb);

/* render_frame of an env's current state (its model must be the renderer's). */
int render_env(struct render *r, struct env *e, int cam, uint8_t *rgb);

#endif
