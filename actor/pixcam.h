/*
 * pixcam.h — the camera of pixel observations: a square RGB picture of an env's state from one of
 * its model's cameras, through the offscreen renderer (render.h) with shadows and reflections off
 * (a quarter of the cost; an observation need not be pretty), plugged into a vecenv as its
 * camera (vecenv_set_camera).
 *
 * Threads: as a render, a pixcam is used (and destroyed) by the thread that made it; the vecenv
 * it is attached to borrows it and must be destroyed first.
 */
#ifndef RL_PIXCAM_H
#define RL_PIXCAM_H

#include <stddef.h>
#include <stdint.h>

struct pixcam;
struct env;
struct env_model;
struct vecenv;

/*
 * A side x side camera (16..512) for envs of model m (borrowed, must outlive it), from the
 * model's camera named camera ("default": its first camera; see render_camera_id). Returns a
 * caller-owned pixcam (pixcam_destroy), or NULL with a one-line reason in err (no EGL, an
 * unknown camera, the free camera, a bad size).
 */
struct pixcam *pixcam_new(const struct env_model *m, int side, const char *camera, char *err,
                          size_t errlen);

/* Free it and set *pp = NULL. NULL or *pp NULL: no-op. */
void pixcam_destroy(struct pixcam **pp);

/* Env e's current state (e's model must be p's) into rgb (side x side x 3 bytes, row 0 at the
 * top), as an attached pixcam pictures it: 0 or a negative errno (render_env's). */
int pixcam_take(struct pixcam *p, struct env *e, uint8_t *rgb);

/* Make p v's camera (v's model must be p's): vecenv_set_camera's result. */
int pixcam_attach(struct pixcam *p, struct vecenv *v);

#endif
