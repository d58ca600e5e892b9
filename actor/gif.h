/*
 * gif.h — an animated GIF encoder into memory (GIF89a, looping forever): a fixed 6 x 6 x 6
 * colour cube palette (each RGB channel rounded to 6 levels), one full frame per image, LZW with
 * 12-bit codes. For the evaluator's TensorBoard image summaries. Not thread-safe: one owner.
 */
#ifndef RL_GIF_H
#define RL_GIF_H

#include <stddef.h>
#include <stdint.h>

#define GIF_MAX_SIDE 4096

struct gif;

/*
 * Start a GIF of width x height pixels (1..GIF_MAX_SIDE), each frame shown delay_cs
 * hundredths of a second (1..65535). Returns the encoder (caller owns, gif_destroy) or NULL
 * for a bad size or delay or when out of memory.
 */
struct gif *gif_new(int width, int height, int delay_cs);

/* Free the encoder and its bytes; sets *pg = NULL. NULL or *pg NULL: no-op. */
void gif_destroy(struct gif **pg);

/*
 * Append one frame. rgb is (width x scale) x (height x scale) x 3 bytes, top row first; each
 * scale x scale block is averaged into one pixel (scale >= 1). Returns 0, -EINVAL (scale < 1,
 * or after gif_bytes), -ENOMEM.
 */
int gif_add(struct gif *g, const uint8_t *rgb, int scale);

/*
 * Finish the file (the trailer byte; later gif_add calls fail) and return its bytes (borrowed,
 * valid until gif_destroy), their count in *len. NULL with *len = 0 when no frame was added or
 * out of memory.
 */
const uint8_t *gif_bytes(struct gif *g, size_t *len);

/*
 * How a GIF shows frames made at fps per second of simulated time, at most GIF_MAX_FPS of them
 * per second: keep every *stride-th frame, each for *delay_cs hundredths of a second (the
 * nearest to stride / fps, at least 2: browsers play shorter delays slowly). fps >= 1.
 */
#define GIF_MAX_FPS 25
void gif_timing(int fps, int *stride, int *delay_cs);

/* The palette index of an RGB colour: r6 x 36 + g6 x 6 + b6, each channel rounded to 0..5. */
uint8_t gif_palette_index(uint8_t r, uint8_t g, uint8_t b);

#endif
