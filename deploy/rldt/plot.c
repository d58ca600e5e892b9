/*
 * plot.c — `rldt plot RUN_DIR [--out=FILE]`: redraw RUN_DIR/curve.png (deploy/rldt/curve.h) from
 * the run's eval.csv, or metrics.csv before the first evaluation.
 */
#include <stdio.h>
#include <string.h>

#include "deploy/rldt/curve.h"
#include "deploy/rldt/cmd.h"

static const char usage[] =
    "usage: rldt plot RUN_DIR [--out=FILE]\n"
    "\n"
    "Draws the learning curve of a run directory: evaluation return (mean and ±std band)\n"
    "against env steps and against training wall-clock, from RUN_DIR/eval.csv; before the\n"
    "first evaluation, the training return (return_recent) of RUN_DIR/metrics.csv.\n"
    "Writes RUN_DIR/curve.png (or FILE, which must end in .png). Malformed rows are skipped and "
    "counted.\n";

int cmd_plot(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strncmp(argv[i], "--out=", 6) && argv[i][6]) {
            out = argv[i] + 6;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "rldt plot: unexpected argument '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (!dir) {
        fprintf(stderr, "rldt plot: no RUN_DIR given\n%s", usage);
        return 2;
    }
    size_t n = out ? strlen(out) : 0;
    if (out && (n < 5 || strcmp(out + n - 4, ".png") != 0)) {
        fprintf(stderr, "rldt plot: --out=%s: only PNG is drawn (give a name ending in .png)\n",
                out);
        return 2;
    }
    char err[1024];
    struct curve_info info;
    if (curve_draw(dir, out, &info, err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt plot: %s\n", err);
        return 1;
    }
    printf("rldt plot: wrote %s%s: %d point%s from %s", out ? out : dir, out ? "" : "/curve.png",
           info.points, info.points == 1 ? "" : "s",
           info.eval ? "eval.csv" : "metrics.csv (no evaluation yet)");
    if (info.bad_rows)
        printf(", %d malformed row%s skipped", info.bad_rows, info.bad_rows == 1 ? "" : "s");
    putchar('\n');
    return 0;
}
