/*
 * overlay.h — text drawn into RGB24 frames with a built-in 5 x 7 bitmap font (digits, a few
 * capital letters and . - : / + and space; lower case is drawn as upper case, other characters
 * as blanks), for the step / return / success lines on rendered videos. Pure functions on
 * caller buffers; thread-safe.
 */
#ifndef RL_OVERLAY_H
#define RL_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

/* Pixel width of text at scale (each glyph 5 x scale, 1 x scale apart). */
int overlay_text_width(const char *text, int scale);

/*
 * Draw text in white on a dark box with its top-left corner at (x, y) of the w x h frame rgb,
 * glyphs scale pixels per font pixel. Clipped to the frame.
 */
void overlay_text(uint8_t *rgb, int w, int h, int x, int y, int scale, const char *text);

/*
 * The episode lines in the top-left corner: "STEP n", "RETURN r" and, when sparse, "SUCCESS"
 * once success is true (else nothing). The scale follows the frame height (1 up to 191 px,
 * then 1 per 160 px).
 */
void overlay_episode(uint8_t *rgb, int w, int h, int step, double ret, bool sparse, bool success);

#endif
