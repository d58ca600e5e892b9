/*
 * curve.c — reads eval.csv (or metrics.csv) of a run directory by header names and draws the
 * two-panel learning curve (of the success rate on a sparse-reward task) with PLplot's pngcairo
 * device into a temporary file, checked and renamed into place. Wall-clock restarts at each learner
 * start (resumed runs): the rows are stitched end to end, so the time axis is training time without
 * the pauses in between.
 */
#include "deploy/rldt/curve.h"

#include <errno.h>
#include <math.h>
#include <plplot/plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/afile.h"
#include "common/task.h"
#include "common/util.h"

#define MAX_FIELDS 512
#define MAX_ROWS 10000000

#if defined(__SANITIZE_ADDRESS__)
// fontconfig (through PLplot's cairo/pango driver) keeps its caches until exit: not our leak
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}
#endif

// ---- reading -----------------------------------------------------------------------------

// column roles: x (env steps), wall-clock, y (return), and the optional std
enum col { COL_STEPS, COL_WALL, COL_Y, COL_SD, COL_COUNT };

struct series {
    double *v[COL_COUNT]; /* v[c][i]: row i */
    int n, cap;
    bool has_sd;
    bool rate; /* y is a success rate: the axis spans [0, 1] */
};

static void series_free(struct series *s)
{
    for (int c = 0; c < COL_COUNT; c++)
        free(s->v[c]);
    memset(s, 0, sizeof(*s));
}

static int series_push(struct series *s, const double row[COL_COUNT])
{
    if (s->n == s->cap) {
        if (s->cap >= MAX_ROWS)
            return -ENOMEM;
        int cap = s->cap ? 2 * s->cap : 256;
        for (int c = 0; c < COL_COUNT; c++) {
            double *p = realloc(s->v[c], (size_t)cap * sizeof(double));
            if (!p)
                return -ENOMEM;
            s->v[c] = p;
        }
        s->cap = cap;
    }
    for (int c = 0; c < COL_COUNT; c++)
        s->v[c][s->n] = row[c];
    s->n++;
    return 0;
}

// split line (modified in place) at commas; returns the field count, or -1 when > max
static int split(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line;; p++) {
        if (n == max)
            return -1;
        f[n++] = p;
        p = strchr(p, ',');
        if (!p)
            return n;
        *p = 0;
    }
}

static bool number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == 0;
}

// the header: where each wanted column is (-1 when optional and absent)
static int header(char *line, const char *const names[COL_COUNT], int idx[COL_COUNT], int *nf,
                  const char *path, char *err, size_t errlen)
{
    char *f[MAX_FIELDS];
    *nf = split(line, f, MAX_FIELDS);
    for (int c = 0; c < COL_COUNT; c++) {
        idx[c] = -1;
        for (int i = 0; names[c] && i < *nf; i++)
            if (!strcmp(f[i], names[c]))
                idx[c] = i;
        if (idx[c] < 0 && names[c] && c != COL_SD) {
            snprintf(err, errlen, "%s: the header has no '%s' column", path, names[c]);
            return -EPROTO;
        }
    }
    return 0;
}

// one data row into s; wall-clock that restarts (a resumed run) continues from the last row
static int row(char *line, const int idx[COL_COUNT], int nf, struct series *s, double *wall0,
               struct curve_info *info)
{
    char *f[MAX_FIELDS];
    double r[COL_COUNT] = {0};
    if (split(line, f, MAX_FIELDS) != nf) {
        info->bad_rows++;
        return 0;
    }
    for (int c = 0; c < COL_COUNT; c++)
        if (idx[c] >= 0 && !number(f[idx[c]], &r[c])) {
            info->bad_rows++;
            return 0;
        }
    if (!isfinite(r[COL_STEPS]) || r[COL_STEPS] < 0 || !isfinite(r[COL_WALL]) || r[COL_WALL] < 0) {
        info->bad_rows++;
        return 0;
    }
    if (!isfinite(r[COL_Y])) {
        info->no_value++;
        return 0;
    }
    if (!isfinite(r[COL_SD]) || r[COL_SD] < 0)
        r[COL_SD] = 0;
    double prev = s->n ? s->v[COL_WALL][s->n - 1] : 0;
    if (s->n && r[COL_WALL] + *wall0 < prev)
        *wall0 = prev;
    r[COL_WALL] += *wall0;
    return series_push(s, r);
}

/*
 * Read the named columns of path into s. Returns 0 (possibly no rows), -ENOENT (no file),
 * -ENODATA (no header line), -EPROTO (a needed column missing) or -ENOMEM.
 */
static int read_csv(const char *path, const char *const names[COL_COUNT], struct series *s,
                    struct curve_info *info, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
        return -e;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int idx[COL_COUNT], nf = 0, rc = 0;
    double wall0 = 0;
    bool head = false;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        if (len == 0 || line[len - 1] != '\n')
            break; /* the last row, still being written */
        line[--len] = 0;
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = 0;
        if (!head) {
            rc = header(line, names, idx, &nf, path, err, errlen);
            head = true;
        } else if (len > 0) {
            rc = row(line, idx, nf, s, &wall0, info);
        }
    }
    free(line);
    fclose(f);
    if (rc == 0 && !head) {
        snprintf(err, errlen, "%s is empty (no header line)", path);
        rc = -ENODATA;
    }
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory reading %s", path);
    if (head)
        s->has_sd = idx[COL_SD] >= 0;
    return rc;
}

static const char *state(int rc)
{
    return rc == -ENOENT ? "missing" : rc == -ENODATA ? "empty" : "no valid rows";
}

/* a sparse-reward run: its config.ini names a task whose reward is a success signal, or sets
 * success_threshold (a plug-in task is not loaded here) */
static bool success_run(const char *dir)
{
    char path[4096], line[512], env[64] = "";
    double thr = 0;
    snprintf(path, sizeof(path), "%s/config.ini", dir);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "env = %63s", env) != 1)
            (void)sscanf(line, "success_threshold = %lf", &thr);
    if (f)
        fclose(f);
    const struct task_info *t = env[0] ? task_find(env) : NULL;
    return (t && t->sparse) || thr > 0;
}

/* eval.csv when it has rows, else metrics.csv's training return; on a sparse-reward task the
 * eval success rate, and the training return is the share of recent episodes that succeeded */
static int load(const char *dir, struct series *s, struct curve_info *info, char *err,
                size_t errlen)
{
    static const char *const eval_cols[COL_COUNT] = {"env_steps", "wall_s", "return_mean",
                                                     "return_std"};
    static const char *const succ_cols[COL_COUNT] = {"env_steps", "wall_s", "success_rate", NULL};
    static const char *const train_cols[COL_COUNT] = {"env_steps", "wall_s", "return_recent", NULL};
    bool rate = success_run(dir);
    info->success = rate;
    char path[4096], e1[512] = "";
    snprintf(path, sizeof(path), "%s/eval.csv", dir);
    info->eval = true;
    int rc = read_csv(path, rate ? succ_cols : eval_cols, s, info, e1, sizeof(e1));
    s->rate = rate;
    if (rc == -EPROTO || rc == -ENOMEM || (rc == 0 && s->n > 0)) {
        snprintf(err, errlen, "%s", e1);
        return rc;
    }
    int bad = info->bad_rows;
    series_free(s);
    s->rate = rate;
    *info = (struct curve_info){.eval = false, .success = rate};
    snprintf(path, sizeof(path), "%s/metrics.csv", dir);
    char e2[512] = "";
    int rc2 = read_csv(path, train_cols, s, info, e2, sizeof(e2));
    info->bad_rows += bad;
    if (rc2 == 0 && s->n > 0)
        return 0;
    if (rc == -ENOENT && rc2 == -ENOENT) {
        snprintf(err, errlen, "%s has no eval.csv and no metrics.csv (is it a run directory?)",
                 dir);
        return -ENOENT;
    }
    if (rc2 == -EPROTO || rc2 == -ENOMEM) {
        snprintf(err, errlen, "%s", e2);
        return rc2;
    }
    snprintf(err, errlen,
             "%s: no rows to plot (eval.csv: %s, %d malformed; metrics.csv: %s, %d malformed, "
             "%d without a return yet)",
             dir, state(rc), bad, state(rc2), info->bad_rows - bad, info->no_value);
    return -ENODATA;
}

// ---- drawing -----------------------------------------------------------------------------

enum { C_BG, C_FG, C_LINE, C_BAND, C_GRID, C_NCOL };

struct panel {
    const double *x;
    double xscale; /* x is divided by this */
    const char *xlabel;
    const char *title;
    double vp[4]; /* viewport: xmin, xmax, ymin, ymax (page fraction) */
};

// y range of v +- dv (dv nullable), padded by 5%
static void range(const double *v, const double *dv, int n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        double d = dv ? dv[i] : 0;
        *lo = fmin(*lo, v[i] - d);
        *hi = fmax(*hi, v[i] + d);
    }
    double pad = *hi > *lo ? 0.05 * (*hi - *lo) : fmax(1.0, 0.05 * fabs(*hi));
    *lo -= pad;
    *hi += pad;
}

static void draw_panel(const struct series *s, const struct panel *p, const char *ylabel,
                       double *tmp)
{
    int n = s->n;
    const double *y = s->v[COL_Y], *sd = s->has_sd ? s->v[COL_SD] : NULL;
    double *x = tmp, *px = tmp + n, *py = tmp + 3 * n;
    for (int i = 0; i < n; i++)
        x[i] = p->x[i] / p->xscale;
    // steps and time are >= 0: both axes start at zero
    double x0 = 0, x1 = 0, y0, y1;
    for (int i = 0; i < n; i++)
        x1 = fmax(x1, 1.03 * x[i]);
    x1 = x1 > 0 ? x1 : 1;
    range(y, sd, n, &y0, &y1);
    if (s->rate) {
        y0 = -0.03;
        y1 = 1.03;
    }
    plvpor(p->vp[0], p->vp[1], p->vp[2], p->vp[3]);
    plwind(x0, x1, y0, y1);
    plcol0(C_GRID);
    plwidth(1);
    plbox("g", 0, 0, "g", 0, 0);
    // ±std band: upper edge forward, lower edge back
    if (sd && n >= 2) {
        for (int i = 0; i < n; i++) {
            px[i] = px[2 * n - 1 - i] = x[i];
            py[i] = y[i] + sd[i];
            py[2 * n - 1 - i] = y[i] - sd[i];
        }
        plcol0(C_BAND);
        plfill(2 * n, px, py);
    }
    plcol0(C_LINE);
    plwidth(2);
    plline(n, x, y);
    if (n <= 300)
        plstring(n, x, y, "●"); /* a filled dot per point */
    plcol0(C_FG);
    plwidth(1);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    pllab(p->xlabel, ylabel, p->title);
}

// "algo on env" from <dir>/config.ini, if readable
static void run_name(const char *dir, char *out, size_t len)
{
    char path[4096], line[512], algo[64] = "", env[64] = "";
    snprintf(path, sizeof(path), "%s/config.ini", dir);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "algo = %63s", algo) == 1 || sscanf(line, "env = %63s", env) == 1)
            continue;
    }
    if (f)
        fclose(f);
    if (algo[0] && env[0])
        snprintf(out, len, "%s on %s", algo, env);
    else
        out[0] = 0;
}

static bool have_pngcairo(void)
{
    const char *menu[128], *names[128];
    const char **pm = menu, **pn = names; /* PLplot fills the caller's arrays */
    int n = 128;
    plgDevs(&pm, &pn, &n);
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], "pngcairo"))
            return true;
    return false;
}

// draw both panels into f (PLplot takes f over and closes it)
static void render(const struct series *s, const char *dir, bool eval, FILE *f, double *tmp)
{
    int n = s->n;
    double wmax = s->v[COL_WALL][n - 1];
    double ws = wmax <= 120 ? 1 : wmax <= 7200 ? 60 : 3600;
    char wl[64], top[1024], name[160];
    snprintf(wl, sizeof(wl), "wall-clock of training (%s)", ws == 1 ? "s" : ws == 60 ? "min" : "h");
    run_name(dir, name, sizeof(name));
    const char *what = eval ? "evaluation return" : "training return (no evaluation yet)";
    const char *ylabel =
        eval ? "eval return (mean ± std)" : "training return (mean of recent episodes)";
    const char *ty = eval ? "eval return" : "training return";
    if (s->rate) {
        what = eval ? "evaluation success rate" : "training success rate (no evaluation yet)";
        ylabel = eval ? "eval success rate" : "training success rate (recent episodes)";
        ty = eval ? "eval success rate" : "training success rate";
    }
    snprintf(top, sizeof(top), "%s%s%s: %s, last %.*f at %.0f env steps (%d point%s)", dir,
             name[0] ? " — " : "", name, what, s->rate ? 2 : 1, s->v[COL_Y][n - 1],
             s->v[COL_STEPS][n - 1], n, n == 1 ? "" : "s");
    char t0[96], t1[96];
    snprintf(t0, sizeof(t0), "%s vs env steps", ty);
    snprintf(t1, sizeof(t1), "%s vs wall-clock", ty);
    struct panel ps[2] = {
        {s->v[COL_STEPS], 1, "env steps", t0, {0.065, 0.475, 0.12, 0.84}},
        {s->v[COL_WALL], ws, wl, t1, {0.565, 0.975, 0.12, 0.84}},
    };
    PLINT strm;
    PLINT r[C_NCOL] = {255, 0, 31, 190, 225}, g[C_NCOL] = {255, 0, 119, 215, 225},
          b[C_NCOL] = {255, 0, 180, 238, 225};
    plmkstrm(&strm);
    plsdev("pngcairo");
    plsfile(f);
    char geo[32];
    snprintf(geo, sizeof(geo), "%dx%d", CURVE_WIDTH, CURVE_HEIGHT);
    plsetopt("geometry", geo);
    plscmap0(r, g, b, C_NCOL);
    plinit();
    pladv(0);
    plschr(0, 0.62);
    plssym(0, 0.45);
    for (int i = 0; i < 2; i++)
        draw_panel(s, &ps[i], ylabel, tmp);
    plvpor(0, 1, 0, 1);
    plwind(0, 1, 0, 1);
    plcol0(C_FG);
    plschr(0, 0.72);
    plmtex("t", -1.5, 0.5, 0.5, top);
    plend1();
}

// ---- public ------------------------------------------------------------------------------

static int check_png(const char *path, char *err, size_t errlen)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(head, 1, 8, f) : 0;
    if (f)
        fclose(f);
    if (n != 8 || memcmp(head, sig, 8) != 0) {
        snprintf(err, errlen, "PLplot did not write a PNG to %s (no pngcairo device, disk full?)",
                 path);
        return -EIO;
    }
    return 0;
}

int curve_png_write(const char *dst, curve_draw_fn draw, void *user, char *err, size_t errlen)
{
    struct afile a;
    int rc = afile_open(&a, dst, 0644);
    int fd = rc ? -1 : dup(a.fd); /* PLplot closes its stream; a keeps its own descriptor */
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        rc = rc ? rc : -errno;
        snprintf(err, errlen, "cannot write %s: %s", dst, strerror(-rc));
        if (fd >= 0)
            close(fd);
        afile_abort(&a);
        return rc;
    }
    draw(user, f);
    rc = check_png(a.tmp, err, errlen);
    if (rc < 0) {
        afile_abort(&a);
        return rc;
    }
    rc = afile_commit(&a);
    if (rc < 0)
        snprintf(err, errlen, "cannot write %s: %s", dst, strerror(-rc));
    return rc;
}

struct render_args {
    const struct series *s;
    const char *dir;
    bool eval;
    double *tmp;
};

static void render_cb(void *user, FILE *f)
{
    struct render_args *r = user;
    render(r->s, r->dir, r->eval, f, r->tmp);
}

int curve_draw(const char *run_dir, const char *out, struct curve_info *info, char *err,
               size_t errlen)
{
    struct curve_info dummy;
    info = info ? info : &dummy;
    *info = (struct curve_info){0};
    char dst[4096];
    snprintf(dst, sizeof(dst), "%s/curve.png", run_dir);
    if (out)
        snprintf(dst, sizeof(dst), "%s", out);
    struct series s = {0};
    int rc = load(run_dir, &s, info, err, errlen);
    if (rc < 0)
        goto out_free;
    info->points = s.n;
    if (!have_pngcairo()) {
        snprintf(err, errlen, "PLplot has no pngcairo device: install plplot-driver-cairo");
        rc = -ENODEV;
        goto out_free;
    }
    struct render_args ra = {&s, run_dir, info->eval, malloc(5 * (size_t)s.n * sizeof(double))};
    if (!ra.tmp) { /* x, band polygon x and y */
        rc = rl_err(-ENOMEM, err, errlen, "out of memory");
        goto out_free;
    }
    rc = curve_png_write(dst, render_cb, &ra, err, errlen);
    free(ra.tmp);
out_free:
    series_free(&s);
    return rc;
}

void curve_png_begin(FILE *f, int w, int h)
{
    plsdev("pngcairo");
    plsfile(f);
    char geo[32];
    snprintf(geo, sizeof(geo), "%dx%d", w, h);
    plsetopt("geometry", geo);
    plscolbg(255, 255, 255);
    plscol0(1, 0, 0, 0);
    plscol0(4, 225, 225, 225);
    plinit();
    pladv(0);
}
