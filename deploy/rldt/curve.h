/*
 * curve.h — the learning curve of a run directory as a PNG (PLplot, pngcairo device): eval
 * return (mean with a ±std band) against env steps and against training wall-clock, two panels
 * side by side, from <run>/eval.csv (for a sparse-reward task -- lift, stack, peg, or a config
 * with success_threshold -- its success_rate, on a [0, 1] axis); before the first evaluation, the
 * training return_recent column of <run>/metrics.csv instead. Used by `rldt plot` and by `rldt
 * run`. Not thread-safe (PLplot keeps global state): call from one thread at a time.
 */
#ifndef RL_CURVE_H
#define RL_CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CURVE_WIDTH 1400 /* PNG size in pixels */
#define CURVE_HEIGHT 560

/* What curve_draw read. */
struct curve_info {
    int points;   /* points drawn */
    int bad_rows; /* malformed rows skipped in the files read (field count, not a number) */
    int no_value; /* rows skipped for a missing value ("nan": no episode finished yet) */
    bool eval;    /* true: from eval.csv; false: from metrics.csv's return_recent */
    bool success; /* a sparse-reward run (config.ini): y is a success rate in [0, 1] */
};

/*
 * Draw the curve of run_dir into out (default <run_dir>/curve.png), written to out.tmp and
 * renamed, so readers never see half a file. Bad rows are skipped and counted in *info; an
 * unterminated last line (a row being written) is ignored. Returns 0, or with a message in
 * err: -ENOENT (neither CSV exists), -ENODATA (no usable rows), -EPROTO (a header lacks a
 * needed column), -ENOMEM, -EIO (the PNG cannot be written), -ENODEV (no PLplot pngcairo
 * device). Nullable: out, info.
 */
int curve_draw(const char *run_dir, const char *out, struct curve_info *info, char *err,
               size_t errlen);

/* Draws a picture into f with PLplot (the pngcairo device), which closes f. */
typedef void (*curve_draw_fn)(void *user, FILE *f);

/*
 * Write a PNG to dst atomically: draw(user, f) renders into a temp file beside dst, which must
 * then hold a PNG signature, and is renamed over dst. 0, or a negative errno with a reason in
 * err (-EIO when PLplot wrote no PNG); dst is untouched on failure.
 */
int curve_png_write(const char *dst, curve_draw_fn draw, void *user, char *err, size_t errlen);

/* For a curve_draw_fn: start a w x h pngcairo picture into f on a white page, colour 1 black and
 * colour 4 light grey (grid lines), and advance to its first page. */
void curve_png_begin(FILE *f, int w, int h);

#endif
