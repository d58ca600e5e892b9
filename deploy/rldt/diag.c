/*
 * diag.c — `rldt diag --out=FILE [--cols=a,b,...] RUN_DIR...`: diagnostic plot of one or more
 * runs, one panel per column of metrics.csv (eval_return is taken from eval.csv), every run a
 * colour, against env steps. Used to compare runs of a hypothesis (critic warm-up, rates) by
 * their critic, actor and return curves side by side.
 */
#include <errno.h>
#include <math.h>
#include <plplot/plplot.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/rldt/cmd.h"
#include "deploy/rldt/curve.h"

#define MAX_RUNS 8
#define MAX_COLS 8
#define MAX_FIELDS 256

static const char usage[] =
    "usage: rldt diag --out=FILE.png [--cols=eval_return,return_recent,q_mean] RUN_DIR...\n"
    "\n"
    "Draws one panel per column against env steps, every run (at most 8) in its own colour:\n"
    "columns of RUN_DIR/metrics.csv (critic_loss, q_mean, target_mean, grad_q_norm,\n"
    "loss_transport, actor_steps, ...); eval_return comes from RUN_DIR/eval.csv. Rows where a\n"
    "column is not a number (nan before the first actor step) are left out.\n";

static const int palette[MAX_RUNS][3] = {{31, 119, 180},  {214, 39, 40},   {44, 160, 44},
                                         {255, 127, 14},  {148, 103, 189}, {140, 86, 75},
                                         {227, 119, 194}, {23, 190, 207}};

struct xy {
    double *x, *y;
    int n, cap;
};

static int push(struct xy *s, double x, double y)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 256;
        double *nx = realloc(s->x, (size_t)cap * sizeof(double));
        if (nx)
            s->x = nx;
        double *ny = nx ? realloc(s->y, (size_t)cap * sizeof(double)) : NULL;
        if (!ny)
            return -ENOMEM;
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
    return 0;
}

static int split(char *line, char **f)
{
    int n = 0;
    for (char *p = line; n < MAX_FIELDS; p++) {
        f[n++] = p;
        if (!(p = strchr(p, ',')))
            break;
        *p = 0;
    }
    return n;
}

// column col of file (x: env_steps) into s; -ENOENT / -EPROTO (no such column) / -ENOMEM
static int read_col(const char *dir, const char *file, const char *col, struct xy *s)
{
    char path[4200], line[16384], *f[MAX_FIELDS];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -ENOENT;
    int ix = -1, iy = -1, nf = 0, rc = 0;
    if (fgets(line, sizeof(line), fp)) {
        line[strcspn(line, "\r\n")] = 0;
        nf = split(line, f);
        for (int i = 0; i < nf; i++) {
            ix = strcmp(f[i], "env_steps") ? ix : i;
            iy = strcmp(f[i], col) ? iy : i;
        }
    }
    while (ix >= 0 && iy >= 0 && rc == 0 && fgets(line, sizeof(line), fp)) {
        if (!strchr(line, '\n'))
            break;
        line[strcspn(line, "\r\n")] = 0;
        if (split(line, f) != nf)
            continue;
        char *e1, *e2;
        double x = strtod(f[ix], &e1), y = strtod(f[iy], &e2);
        if (e1 != f[ix] && e2 != f[iy] && isfinite(x) && isfinite(y))
            rc = push(s, x, y);
    }
    fclose(fp);
    return rc ? rc : ix < 0 || iy < 0 ? -EPROTO : 0;
}

static void panel(struct xy *s, int nruns, const char *col, double top, double bottom, bool last)
{
    double x1 = 1, y0 = INFINITY, y1 = -INFINITY;
    for (int r = 0; r < nruns; r++)
        for (int i = 0; i < s[r].n; i++) {
            x1 = fmax(x1, 1.02 * s[r].x[i]);
            y0 = fmin(y0, s[r].y[i]);
            y1 = fmax(y1, s[r].y[i]);
        }
    if (!isfinite(y0))
        y0 = 0, y1 = 1;
    double pad = y1 > y0 ? 0.05 * (y1 - y0) : 1;
    plvpor(0.1, 0.97, bottom, top);
    plwind(0, x1, y0 - pad, y1 + pad);
    plcol0(4);
    plbox("g", 0, 0, "g", 0, 0);
    for (int r = 0; r < nruns; r++) {
        plscol0(2, palette[r][0], palette[r][1], palette[r][2]);
        plcol0(2);
        plwidth(1.5);
        plline(s[r].n, s[r].x, s[r].y);
    }
    plwidth(1);
    plcol0(1);
    plbox(last ? "bcnst" : "bcst", 0, 0, "bcnstv", 0, 0);
    plmtex("l", 6.0, 0.5, 0.5, col);
    if (last)
        plmtex("b", 2.5, 0.5, 0.5, "env steps");
}

static void render(struct xy *data, char **runs, int nruns, char **cols, int ncols, FILE *f)
{
    curve_png_begin(f, 1100, 180 + 230 * ncols);
    plschr(0, 0.65);
    double top = 0.93, h = (top - 0.06) / ncols;
    for (int c = 0; c < ncols; c++)
        panel(data + (size_t)c * nruns, nruns, cols[c], top - c * h, top - (c + 1) * h + 0.025,
              c == ncols - 1);
    plvpor(0, 1, 0, 1);
    plwind(0, 1, 0, 1);
    for (int r = 0; r < nruns; r++) {
        plscol0(2, palette[r][0], palette[r][1], palette[r][2]);
        plcol0(2);
        const char *base = strrchr(runs[r], '/'); /* the run directory's own name */
        base = base && base[1] ? base + 1 : runs[r];
        plmtex("t", -1.3 - 1.2 * (r % 3), 0.08 + 0.3 * (r / 3), 0.0, base);
    }
    plend1();
}

static int draw(char **runs, int nruns, char **cols, int ncols, const char *out)
{
    struct xy *data = calloc((size_t)ncols * nruns, sizeof(*data));
    if (!data)
        return 1;
    int rc = 0;
    for (int c = 0; c < ncols && rc >= 0; c++)
        for (int r = 0; r < nruns && rc >= 0; r++) {
            bool ev = !strcmp(cols[c], "eval_return");
            rc = read_col(runs[r], ev ? "eval.csv" : "metrics.csv", ev ? "return_mean" : cols[c],
                          &data[(size_t)c * nruns + r]);
            if (rc < 0)
                fprintf(stderr, "rldt diag: %s: %s\n", runs[r],
                        rc == -EPROTO ? "no such column" : strerror(-rc));
        }
    FILE *f = rc >= 0 ? fopen(out, "wb") : NULL;
    if (rc >= 0 && !f)
        fprintf(stderr, "rldt diag: cannot write %s: %s\n", out, strerror(errno));
    if (f)
        render(data, runs, nruns, cols, ncols, f); /* PLplot closes f */
    for (int i = 0; i < ncols * nruns; i++) {
        free(data[i].x);
        free(data[i].y);
    }
    free(data);
    return f ? 0 : 1;
}

int cmd_diag(int argc, char **argv)
{
    static char defcols[] = "eval_return,return_recent,q_mean";
    char *runs[MAX_RUNS], *cols[MAX_COLS], *colspec = defcols;
    const char *out = NULL;
    int nruns = 0, ncols = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strncmp(argv[i], "--out=", 6) && argv[i][6]) {
            out = argv[i] + 6;
        } else if (!strncmp(argv[i], "--cols=", 7) && argv[i][7]) {
            colspec = argv[i] + 7;
        } else if (argv[i][0] != '-' && nruns < MAX_RUNS) {
            runs[nruns++] = argv[i];
        } else {
            fprintf(stderr, "rldt diag: unexpected argument '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    for (char *save = NULL, *t = strtok_r(colspec, ",", &save); t && ncols < MAX_COLS;
         t = strtok_r(NULL, ",", &save))
        cols[ncols++] = t;
    if (!out || nruns == 0 || ncols == 0) {
        fprintf(stderr, "rldt diag: needs --out=FILE and at least one RUN_DIR\n%s", usage);
        return 2;
    }
    return draw(runs, nruns, cols, ncols, out);
}
