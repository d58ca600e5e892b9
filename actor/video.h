/*
 * video.h — an H.264 MP4 file writer on FFmpeg's libraries (libavformat, libavcodec,
 * libswscale): RGB24 frames in, yuv420p H.264 out (the libx264 encoder when this libavcodec
 * has it, else its default H.264 encoder), one frame per 1/fps seconds. Not thread-safe: one
 * owner thread per writer.
 */
#ifndef RL_VIDEO_H
#define RL_VIDEO_H

#include <stddef.h>
#include <stdint.h>

struct video;

/*
 * Create path (replacing it) and start an MP4 of width x height (even, 2..4096) at fps frames
 * per second (1..240). Returns the writer (caller owns; finish with video_close), or NULL with
 * a one-line reason in err (bad size, no H.264 encoder, cannot create the file).
 */
struct video *video_open(const char *path, int width, int height, int fps, char *err,
                         size_t errlen);

/* Encode one frame: width x height x 3 bytes RGB, row 0 at the top. Returns 0 or -EIO. */
int video_write(struct video *v, const uint8_t *rgb);

/*
 * Flush the encoder, finish the file, free the writer and set *pv = NULL. Returns 0, or -EIO
 * when the file could not be finished (it is then incomplete). NULL or *pv NULL: no-op, 0.
 */
int video_close(struct video **pv);

#endif
