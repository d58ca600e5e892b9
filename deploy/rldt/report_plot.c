/*
 * report_plot.c — one PNG per task for `rldt report` (report.h): every variant's mean
 * evaluation return against env steps, with its 95% interval shaded (translucent, so
 * overlapping bands stay readable), a legend of variants and run counts above the plot.
 * PLplot's pngcairo device writes to a temporary file that is checked and renamed into place.
 */
#include "deploy/rldt/report.h"

#include <errno.h>
#include <math.h>
#include <plplot/plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "deploy/rldt/curve.h"

#define PLOT_W 1100
#define PLOT_H 700
#define NCOLORS 8

/* line colours (r, g, b) of the variants, in order; the fill uses the same with alpha */
static const int palette[NCOLORS][3] = {{31, 119, 180},  {214, 39, 40},   {44, 160, 44},
                                        {255, 127, 14},  {148, 103, 189}, {140, 86, 75},
                                        {227, 119, 194}, {23, 190, 207}};

static void bounds(const struct report_task *t, double *x1, double *y0, double *y1)
{
    *x1 = 1;
    *y0 = INFINITY;
    *y1 = -INFINITY;
    for (int i = 0; i < t->nvar; i++) {
        const struct report_curve *c = &t->var[i].curve;
        for (int k = 0; k < c->n; k++) {
            *x1 = fmax(*x1, 1.03 * c->x[k]);
            *y0 = fmin(*y0, c->lo[k]);
            *y1 = fmax(*y1, c->hi[k]);
        }
    }
    if (!isfinite(*y0)) {
        *y0 = 0;
        *y1 = 1;
    }
    double pad = *y1 > *y0 ? 0.05 * (*y1 - *y0) : fmax(1.0, 0.05 * fabs(*y1));
    *y0 -= pad;
    *y1 += pad;
}

// the band of curve c (upper edge forward, lower edge back) and the mean line, in colour i
static void draw_curve(const struct report_curve *c, int i, double *px, double *py)
{
    const int *rgb = palette[i % NCOLORS];
    if (c->n >= 2) {
        for (int k = 0; k < c->n; k++) {
            px[k] = px[2 * c->n - 1 - k] = c->x[k];
            py[k] = c->hi[k];
            py[2 * c->n - 1 - k] = c->lo[k];
        }
        plscol0a(3, rgb[0], rgb[1], rgb[2], 0.22);
        plcol0(3);
        plfill(2 * c->n, px, py);
    }
    plscol0a(2, rgb[0], rgb[1], rgb[2], 1.0);
    plcol0(2);
    plwidth(2);
    plline(c->n, c->x, c->mean);
    if (c->n <= 200)
        plstring(c->n, c->x, c->mean, "●");
    plwidth(1);
}

static void render(const struct report *r, int t, FILE *f, double *px, double *py)
{
    const struct report_task *task = &r->task[t];
    double x1, y0, y1;
    bounds(task, &x1, &y0, &y1);
    curve_png_begin(f, PLOT_W, PLOT_H);
    plschr(0, 0.7);
    plssym(0, 0.4);
    plvpor(0.09, 0.97, 0.1, 0.78);
    plwind(0, x1, y0, y1);
    plcol0(4);
    plbox("g", 0, 0, "g", 0, 0);
    for (int i = 0; i < task->nvar; i++)
        draw_curve(&task->var[i].curve, i, px, py);
    plcol0(1);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    char title[600];
    snprintf(title, sizeof(title),
             "%s: evaluation return, mean and 95%% bootstrap interval "
             "across runs",
             task->name);
    pllab("env steps", "eval return", title);
    // legend: one line per variant in its colour, above the plot
    for (int i = 0; i < task->nvar; i++) {
        const struct report_variant *v = &task->var[i];
        const int *rgb = palette[i % NCOLORS];
        char line[REPORT_NAME + 64];
        snprintf(line, sizeof(line), "%s (%d run%s)", v->name, v->nruns, v->nruns == 1 ? "" : "s");
        plscol0a(2, rgb[0], rgb[1], rgb[2], 1.0);
        plcol0(2);
        plmtex("t", 2.5 + 1.4 * (task->nvar - 1 - i), 0.0, 0.0, line);
    }
    plend1();
}

struct task_plot {
    const struct report *r;
    int t;
    double *px, *py;
};

static void render_cb(void *user, FILE *f)
{
    struct task_plot *p = user;
    render(p->r, p->t, f, p->px, p->py);
}

int report_plot_task(const struct report *r, int t, const char *path, char *err, size_t errlen)
{
    int most = 1;
    for (int i = 0; i < r->task[t].nvar; i++)
        most = most > r->task[t].var[i].curve.n ? most : r->task[t].var[i].curve.n;
    double *px = malloc(4 * (size_t)most * sizeof(double));
    if (!px)
        return rl_err(-ENOMEM, err, errlen, "out of memory");
    struct task_plot p = {r, t, px, px + 2 * most};
    int rc = curve_png_write(path, render_cb, &p, err, errlen);
    free(px);
    return rc;
}
