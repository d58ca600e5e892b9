/*
 * report.c — `rldt report SWEEP_DIR...`: reads every run's eval.csv under
 * SWEEP_DIR/<task>/<variant>/s<seed>/ (of one sweep, or of several side by side: tasks and
 * variants of the same name merge), aggregates across the runs of each variant (mean, 95%
 * bootstrap interval, interquartile mean; of the final and of the best evaluation, and the
 * worst evaluation after 10^5 env steps against the start), draws one PNG per task
 * (report_plot.c) and writes report.md (into SWEEP_DIR, or --out=DIR).
 */
#include "deploy/rldt/report.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/afile.h"
#include "common/aggregate.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define BOOT_REPS 10000
#define BOOT_SEED 1

static const char usage[] =
    "usage: rldt report SWEEP_DIR\n"
    "       rldt report SWEEP_DIR SWEEP_DIR... --out=DIR   (several sweeps side by side)\n"
    "       rldt report SWEEP_DIR... --out=DIR --keep-data (and a copy of the data)\n"
    "       rldt report SWEEP_DIR... --reach=R   (when each run first evaluated >= R)\n"
    "\n"
    "Aggregates the runs of a sweep (`rldt sweep`): for each task and variant (algorithm plus\n"
    "grid values), across its seeds: mean, 95% bootstrap interval of the mean and interquartile\n"
    "mean (as rliable computes it) of the final and of the best evaluation return, and the\n"
    "worst evaluation after 10^5 env steps as a fraction of the initial policy's return. Writes\n"
    "report.md and report-<task>.png (every variant's mean curve with its shaded 95% interval,\n"
    "at the evaluation points all its runs have reached) into SWEEP_DIR, or into --out=DIR.\n"
    "Several sweeps (e.g. one per algorithm, each with its own --config) go into one report:\n"
    "their tasks and variants of the same name are merged.\n"
    "--keep-data (with --out=DIR) also copies what the report was made from into\n"
    "DIR/data/<task>/<variant>/s<seed>/: each run's eval.csv and its config.ini keys (no\n"
    "comments, no run_dir; absolute paths cut to the file name), so that\n"
    "`rldt report DIR/data --out=DIR` redoes the report without the runs (results to keep\n"
    "beside a paper or in a repository; a later report can add new sweeps to DIR/data).\n"
    "--reach=R adds a table per task: how many runs of each variant had an evaluation with\n"
    "return >= R, and the env steps and wall-clock (eval.csv's wall_s) of the first one.\n";

// ---- reading -----------------------------------------------------------------------------

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// sorted names of the subdirectories of dir (prefix: only names starting with it); *n set
static char **subdirs(const char *dir, const char *prefix, int *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL, p[4400];
    int cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) ||
            stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nv = realloc(v, (size_t)cap * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        if (!(v[*n] = strdup(e->d_name)))
            break;
        (*n)++;
    }
    closedir(d);
    if (v)
        qsort(v, (size_t)*n, sizeof(*v), cmp_name);
    return v;
}

static void free_names(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

// field i of a comma-separated line as a number
static bool field(const char *line, int i, double *v)
{
    const char *p = line;
    for (int k = 0; p && k < i; k++)
        p = strchr(p, ','), p = p ? p + 1 : NULL;
    if (!p)
        return false;
    char *end;
    *v = strtod(p, &end);
    return end != p && (*end == ',' || *end == 0 || *end == '\n' || *end == '\r') && isfinite(*v);
}

static int col_index(const char *head, const char *name)
{
    int i = 0;
    size_t nl = strlen(name);
    for (const char *p = head; p; p = strchr(p, ','), p = p ? p + 1 : NULL, i++)
        if (!strncmp(p, name, nl) && strchr(",\r\n", p[nl]))
            return i;
    return -1;
}

static int push_row(struct report_run *u, double s, double r, int *cap)
{
    if (u->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        double *ns = realloc(u->steps, (size_t)*cap * sizeof(double));
        if (ns)
            u->steps = ns;
        double *nr = ns ? realloc(u->ret, (size_t)*cap * sizeof(double)) : NULL;
        if (!nr)
            return -ENOMEM;
        u->ret = nr;
    }
    u->steps[u->n] = s;
    u->ret[u->n++] = r;
    return 0;
}

// eval.csv rows (env_steps, return_mean) of a run, and when it first reached `reach` (NaN:
// not asked); rows that do not parse are counted
static int read_eval(const char *dir, struct report_run *u, double reach, int *bad)
{
    char path[4160], line[4096];
    snprintf(path, sizeof(path), "%s/eval.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    int cs = -1, cr = -1, cv = -1, cw = -1, cap = 0, rc = 0;
    if (fgets(line, sizeof(line), f)) {
        cs = col_index(line, "env_steps");
        cr = col_index(line, "return_mean");
        cv = col_index(line, "policy_version");
        cw = col_index(line, "wall_s");
    }
    u->first_version = u->reach_steps = u->reach_wall = NAN;
    while (cs >= 0 && cr >= 0 && rc == 0 && fgets(line, sizeof(line), f)) {
        double s, r, v;
        if (!strchr(line, '\n'))
            break; /* a row still being written */
        if (field(line, cs, &s) && field(line, cr, &r) && s >= 0) {
            if (u->n == 0 && cv >= 0 && field(line, cv, &v))
                u->first_version = v;
            if (r >= reach && isnan(u->reach_steps)) { /* false for a NaN reach */
                u->reach_steps = s;
                if (cw >= 0 && field(line, cw, &v))
                    u->reach_wall = v;
            }
            rc = push_row(u, s, r, &cap);
        } else {
            (*bad)++;
        }
    }
    fclose(f);
    return rc ? rc : cs < 0 || cr < 0 ? -EPROTO : 0;
}

static double config_every(const char *dir)
{
    char path[4160], line[512];
    double v = 0;
    snprintf(path, sizeof(path), "%s/config.ini", dir);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "eval_every = %lf", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static void derive(struct report_run *u)
{
    // the start: an evaluation of the initial weights (version 1), or one at env step 0
    u->start = u->steps[0] == 0 || u->first_version <= 1 ? u->ret[0] : NAN;
    u->final = u->ret[u->n - 1];
    u->best = -INFINITY;
    u->worst_late = NAN;
    for (int i = 0; i < u->n; i++) {
        u->best = fmax(u->best, u->ret[i]);
        if (u->steps[i] > REPORT_STABLE_AFTER)
            u->worst_late = isnan(u->worst_late) ? u->ret[i] : fmin(u->worst_late, u->ret[i]);
    }
}

// the seed directories of a variant with at least one evaluation
static int read_variant(struct report *r, const char *vdir, struct report_variant *v)
{
    int n;
    char **seeds = subdirs(vdir, "s", &n), p[4096];
    for (int i = 0; i < n && v->nruns < REPORT_MAX_RUNS; i++) {
        struct report_run *u = &v->runs[v->nruns];
        snprintf(p, sizeof(p), "%s/%s", vdir, seeds[i]);
        int rc = read_eval(p, u, r->reach, &r->bad_rows);
        if (rc == -ENOMEM) {
            free_names(seeds, n);
            return rc;
        }
        if (rc < 0 || u->n == 0) {
            free(u->steps);
            free(u->ret);
            memset(u, 0, sizeof(*u));
            continue;
        }
        snprintf(u->name, sizeof(u->name), "%s", seeds[i]);
        u->src = strdup(p);
        if (!u->src) {
            free(u->steps);
            free(u->ret);
            memset(u, 0, sizeof(*u));
            free_names(seeds, n);
            return -ENOMEM;
        }
        u->every = config_every(p);
        derive(u);
        v->nruns++;
    }
    free_names(seeds, n);
    return 0;
}

// the task / variant of that name, added (empty) when new; NULL when the table is full
static struct report_task *task_named(struct report *r, const char *name)
{
    for (int t = 0; t < r->ntask; t++)
        if (!strcmp(r->task[t].name, name))
            return &r->task[t];
    if (r->ntask == REPORT_MAX_TASKS)
        return NULL;
    struct report_task *task = &r->task[r->ntask++];
    snprintf(task->name, sizeof(task->name), "%s", name);
    return task;
}

static struct report_variant *variant_named(struct report_task *task, const char *name)
{
    for (int i = 0; i < task->nvar; i++)
        if (!strcmp(task->var[i].name, name))
            return &task->var[i];
    if (task->nvar == REPORT_MAX_VARIANTS)
        return NULL;
    struct report_variant *v = &task->var[task->nvar++];
    snprintf(v->name, sizeof(v->name), "%s", name);
    return v;
}

static int read_sweep(struct report *r, const char *dir)
{
    int nt, rc = 0;
    char **tasks = subdirs(dir, "", &nt), p[1300];
    for (int t = 0; t < nt && !rc; t++) {
        struct report_task *task = task_named(r, tasks[t]);
        int nv;
        snprintf(p, sizeof(p), "%s/%s", dir, tasks[t]);
        char **vars = subdirs(p, "", &nv);
        for (int i = 0; task && i < nv && !rc; i++) {
            struct report_variant *v = variant_named(task, vars[i]);
            char vp[2560];
            snprintf(vp, sizeof(vp), "%s/%s", p, vars[i]);
            rc = v ? read_variant(r, vp, v) : 0;
        }
        free_names(vars, nv);
    }
    free_names(tasks, nt);
    return rc;
}

// drop the tasks and variants no run with evaluations was found for
static void drop_empty(struct report *r)
{
    int kt = 0;
    for (int t = 0; t < r->ntask; t++) {
        struct report_task *task = &r->task[t];
        int kv = 0;
        for (int i = 0; i < task->nvar; i++)
            if (task->var[i].nruns > 0) {
                if (kv != i)
                    task->var[kv] = task->var[i];
                kv++;
            }
        task->nvar = kv;
        if (kv > 0) {
            if (kt != t)
                r->task[kt] = *task;
            kt++;
        }
    }
    r->ntask = kt;
}

static void report_free(struct report *r)
{
    for (int t = 0; t < r->ntask; t++)
        for (int i = 0; i < r->task[t].nvar; i++) {
            struct report_variant *v = &r->task[t].var[i];
            for (int k = 0; k < v->nruns; k++) {
                free(v->runs[k].src);
                free(v->runs[k].steps);
                free(v->runs[k].ret);
            }
            free(v->curve.x);
        }
}

// ---- curves ------------------------------------------------------------------------------

// the run's return in evaluation bin k (bins of `every` env steps): its last row there
static bool at_bin(const struct report_run *u, double every, long k, double *v)
{
    bool found = false;
    for (int i = 0; i < u->n; i++)
        if (lround(u->steps[i] / every) == k) {
            *v = u->ret[i];
            found = true;
        }
    return found;
}

// the mean curve and its interval at the bins every run has reached
static int make_curve(struct report_variant *v, double *work, double *vals)
{
    double every = v->runs[0].every, last = INFINITY;
    for (int k = 0; k < v->nruns; k++) {
        const struct report_run *u = &v->runs[k];
        if (every <= 0 && u->n > 1)
            every = u->steps[1] - u->steps[0];
        last = fmin(last, u->steps[u->n - 1]);
    }
    every = every > 0 ? every : 1;
    long nb = lround(last / every) + 1;
    struct report_curve *c = &v->curve;
    c->x = calloc(4 * (size_t)nb, sizeof(double));
    if (!c->x)
        return -ENOMEM;
    c->mean = c->x + nb, c->lo = c->x + 2 * nb, c->hi = c->x + 3 * nb;
    for (long b = 0; b < nb; b++) {
        int m = 0;
        for (int k = 0; k < v->nruns && m == k; k++)
            m += at_bin(&v->runs[k], every, b, &vals[m]);
        if (m < v->nruns)
            continue;
        c->x[c->n] = (double)b * every;
        c->mean[c->n] = aggregate_mean(vals, m);
        aggregate_bootstrap_ci(vals, m, BOOT_REPS, BOOT_SEED, &c->lo[c->n], &c->hi[c->n], work);
        c->n++;
    }
    return 0;
}

// ---- report.md ---------------------------------------------------------------------------

struct stat3 {
    double mean, lo, hi, iqm;
};

static struct stat3 stats(const double *x, int n, double *work)
{
    struct stat3 s = {aggregate_mean(x, n), NAN, NAN, aggregate_iqm(x, n, work)};
    aggregate_bootstrap_ci(x, n, BOOT_REPS, BOOT_SEED, &s.lo, &s.hi, work);
    return s;
}

static void row(FILE *f, const struct report_variant *v, double *work)
{
    double fin[REPORT_MAX_RUNS], best[REPORT_MAX_RUNS], steps = INFINITY, start = 0;
    double worst = INFINITY;
    int nstart = 0;
    for (int k = 0; k < v->nruns; k++) {
        const struct report_run *u = &v->runs[k];
        fin[k] = u->final;
        best[k] = u->best;
        steps = fmin(steps, u->steps[u->n - 1]);
        if (!isnan(u->start)) {
            start += u->start;
            nstart++;
            if (!isnan(u->worst_late))
                worst = fmin(worst, u->worst_late / u->start);
        }
    }
    struct stat3 a = stats(fin, v->nruns, work), b = stats(best, v->nruns, work);
    fprintf(f, "| %s | %d | %.0f | ", v->name, v->nruns, steps);
    if (nstart)
        fprintf(f, "%.1f | ", start / nstart);
    else
        fprintf(f, "– | ");
    fprintf(f, "%.1f [%.1f, %.1f] | %.1f | %.1f [%.1f, %.1f] | %.1f | ", a.mean, a.lo, a.hi, a.iqm,
            b.mean, b.lo, b.hi, b.iqm);
    if (isfinite(worst))
        fprintf(f, "%.2f |\n", worst);
    else
        fprintf(f, "– |\n");
}

// the sweep's command line from its sweep.args, or nothing when it has none
static void sweep_line(FILE *f, const char *dir)
{
    char path[1100], line[4096];
    snprintf(path, sizeof(path), "%s/sweep.args", dir);
    FILE *a = fopen(path, "r");
    if (!a)
        return;
    fprintf(f, "`rldt sweep --out=%s", dir);
    while (fgets(line, sizeof(line), a)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0])
            fprintf(f, " %s", line);
    }
    fprintf(f, "`, ");
    fclose(a);
}

// --reach: per variant, how many runs reached R, and when (env steps, wall-clock minutes)
static void reach_table(FILE *f, const struct report_task *task, double R)
{
    fprintf(f,
            "\nFirst evaluation with return >= %g (wall-clock: the run's `wall_s`, training "
            "time across resumes; to the evaluation that showed it):\n\n",
            R);
    fprintf(f, "| variant | runs that reached it | env steps: mean (min–max) | wall-clock min: "
               "mean (min–max) | per run (env steps, min) |\n|---|---|---|---|---|\n");
    for (int i = 0; i < task->nvar; i++) {
        const struct report_variant *v = &task->var[i];
        double s = 0, smin = INFINITY, smax = -INFINITY, w = 0, wmin = INFINITY, wmax = -INFINITY;
        int n = 0, nw = 0;
        for (int k = 0; k < v->nruns; k++) {
            const struct report_run *u = &v->runs[k];
            if (isnan(u->reach_steps))
                continue;
            n++, s += u->reach_steps;
            smin = fmin(smin, u->reach_steps), smax = fmax(smax, u->reach_steps);
            if (!isnan(u->reach_wall)) {
                nw++, w += u->reach_wall / 60;
                wmin = fmin(wmin, u->reach_wall / 60), wmax = fmax(wmax, u->reach_wall / 60);
            }
        }
        fprintf(f, "| %s | %d of %d | ", v->name, n, v->nruns);
        if (n)
            fprintf(f, "%.0f (%.0f–%.0f) | ", s / n, smin, smax);
        else
            fprintf(f, "– | ");
        if (nw)
            fprintf(f, "%.1f (%.1f–%.1f) | ", w / nw, wmin, wmax);
        else
            fprintf(f, "– | ");
        for (int k = 0; k < v->nruns; k++) {
            const struct report_run *u = &v->runs[k];
            fprintf(f, "%s%s: ", k ? "; " : "", u->name);
            if (isnan(u->reach_steps))
                fprintf(f, "not reached");
            else if (isnan(u->reach_wall))
                fprintf(f, "%.0f", u->reach_steps);
            else
                fprintf(f, "%.0f, %.1f", u->reach_steps, u->reach_wall / 60);
        }
        fprintf(f, " |\n");
    }
}

static void command_line(FILE *f, const struct report *r)
{
    fprintf(f, "Reproduce: ");
    for (int i = 0; i < r->nsweeps; i++)
        sweep_line(f, r->sweeps[i]);
    fprintf(f, "then `rldt report");
    for (int i = 0; i < r->nsweeps; i++)
        fprintf(f, " %s", r->sweeps[i]);
    if (r->nsweeps > 1 || strcmp(r->dir, r->sweeps[0]))
        fprintf(f, " --out=%s", r->dir);
    if (!isnan(r->reach))
        fprintf(f, " --reach=%g", r->reach);
    fprintf(f, "`.\n\n");
}

static int write_md(const struct report *r, double *work)
{
    char path[1100], tmp[1120];
    snprintf(path, sizeof(path), "%s/report.md", r->dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "# Sweep report: %s\n\n", r->dir);
    command_line(f, r);
    fprintf(f,
            "Deterministic evaluation returns, aggregated across the runs (seeds) of each "
            "variant: mean with a 95%% percentile-bootstrap interval of the mean (%d "
            "resamples), and the interquartile mean (IQM, as rliable: 25%% cut at each end). "
            "*final*: each run's last evaluation; *best*: its best one; *env steps*: the "
            "fewest any run has reached; *worst/start*: the lowest evaluation after 10^5 env "
            "steps divided by the initial policy's return (the lowest over the runs).\n",
            BOOT_REPS);
    for (int t = 0; t < r->ntask; t++) {
        const struct report_task *task = &r->task[t];
        fprintf(f, "\n## %s\n\n", task->name);
        fprintf(f, "| variant | runs | env steps | start | final mean [95%% CI] | final IQM | "
                   "best mean [95%% CI] | best IQM | worst/start |\n");
        fprintf(f, "|---|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < task->nvar; i++)
            row(f, &task->var[i], work);
        if (!isnan(r->reach))
            reach_table(f, task, r->reach);
        fprintf(f, "\n![%s: mean evaluation return and 95%% interval](report-%s.png)\n", task->name,
                task->name);
    }
    int rc = fclose(f) == 0 ? 0 : -EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    return rc;
}

// ---- --keep-data -------------------------------------------------------------------------

// the run's config.ini keys as `key = value` lines: comments, blank lines and run_dir dropped,
// an absolute path cut to its file name (no machine's folders in a kept copy)
static int keep_config(const char *src, struct afile *a)
{
    char path[4200], line[4096];
    snprintf(path, sizeof(path), "%s/config.ini", src);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -errno; /* report reads eval_every 0 (unknown) then */
    FILE *out = afile_stream(a);
    int rc = out ? 0 : -errno;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *eq = strstr(line, " = ");
        if (line[0] == '#' || line[0] == ';' || line[0] == '[' || !eq ||
            !strncmp(line, "run_dir ", 8))
            continue;
        const char *v = eq + 3, *slash = strrchr(v, '/');
        if (v[0] == '/' && slash)
            fprintf(out, "%.*s = %s", (int)(eq - line), line, slash + 1);
        else
            fputs(line, out);
    }
    fclose(f);
    return rc;
}

// copy src/name to dst/name as it is
static int keep_file(const char *src, const char *dst, const char *name)
{
    char in[4200], out[4200], buf[1 << 16];
    snprintf(in, sizeof(in), "%s/%s", src, name);
    snprintf(out, sizeof(out), "%s/%s", dst, name);
    FILE *f = fopen(in, "rb");
    if (!f)
        return -errno;
    struct afile a;
    int rc = afile_open(&a, out, 0644);
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        rc = afile_write(&a, buf, n);
    if (rc == 0 && ferror(f))
        rc = -EIO;
    fclose(f);
    return rc == 0 ? afile_commit(&a) : (afile_abort(&a), rc);
}

static int keep_run(const struct report *r, const char *task, const char *var,
                    const struct report_run *u)
{
    char dst[4160], cfg[4200];
    snprintf(dst, sizeof(dst), "%s/data/%s/%s/%s", r->dir, task, var, u->name);
    int rc = rl_mkdir_p(dst);
    if (rc == 0)
        rc = keep_file(u->src, dst, "eval.csv");
    struct afile a;
    snprintf(cfg, sizeof(cfg), "%s/config.ini", dst);
    if (rc == 0 && (rc = afile_open(&a, cfg, 0644)) == 0) {
        rc = keep_config(u->src, &a);
        rc = rc == 0 ? afile_commit(&a) : (afile_abort(&a), rc);
    }
    if (rc < 0)
        fprintf(stderr, "rldt report: cannot keep %s in %s: %s\n", u->src, dst, strerror(-rc));
    return rc;
}

static int keep_data(const struct report *r)
{
    int rc = 0;
    for (int t = 0; t < r->ntask && !rc; t++)
        for (int i = 0; i < r->task[t].nvar && !rc; i++)
            for (int k = 0; k < r->task[t].var[i].nruns && !rc; k++)
                rc = keep_run(r, r->task[t].name, r->task[t].var[i].name,
                              &r->task[t].var[i].runs[k]);
    return rc;
}

// ---- command -----------------------------------------------------------------------------

static int build(struct report *r)
{
    double *work = malloc((BOOT_REPS + REPORT_MAX_RUNS) * sizeof(double));
    if (!work)
        return -ENOMEM;
    int rc = 0;
    for (int t = 0; t < r->ntask && !rc; t++)
        for (int i = 0; i < r->task[t].nvar && !rc; i++)
            rc = make_curve(&r->task[t].var[i], work, work + BOOT_REPS);
    char path[1400], err[512];
    for (int t = 0; t < r->ntask && !rc; t++) {
        snprintf(path, sizeof(path), "%s/report-%s.png", r->dir, r->task[t].name);
        rc = report_plot_task(r, t, path, err, sizeof(err));
        if (rc)
            fprintf(stderr, "rldt report: %s\n", err);
    }
    if (!rc && (rc = write_md(r, work)) < 0)
        fprintf(stderr, "rldt report: cannot write %s/report.md: %s\n", r->dir, strerror(-rc));
    free(work);
    return rc;
}

// the sweep directories and --out; 0, or the exit code (-1: --help printed)
static int parse(struct report *r, int argc, char **argv)
{
    const char *out = NULL;
    r->reach = NAN;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return -1;
        }
        if (!strncmp(argv[i], "--out=", 6) && argv[i][6]) {
            out = argv[i] + 6;
        } else if (!strcmp(argv[i], "--keep-data")) {
            r->keep_data = true;
        } else if (!strncmp(argv[i], "--reach=", 8)) {
            char *end;
            r->reach = strtod(argv[i] + 8, &end);
            if (end == argv[i] + 8 || *end || !isfinite(r->reach)) {
                fprintf(stderr, "rldt report: --reach needs a number, got '%s'\n", argv[i] + 8);
                return 2;
            }
        } else if (argv[i][0] == '-' || r->nsweeps == REPORT_MAX_SWEEPS) {
            fprintf(stderr, "rldt report: unexpected argument '%s'\n%s", argv[i], usage);
            return 2;
        } else {
            r->sweeps[r->nsweeps++] = argv[i];
        }
    }
    if (r->nsweeps == 0 || (r->nsweeps > 1 && !out)) {
        fprintf(stderr, "rldt report: %s\n%s",
                r->nsweeps ? "several sweeps need --out=DIR" : "no SWEEP_DIR given", usage);
        return 2;
    }
    if (r->keep_data && !out) {
        fprintf(stderr, "rldt report: --keep-data needs --out=DIR (where data/ goes)\n");
        return 2;
    }
    snprintf(r->dir, sizeof(r->dir), "%s", out ? out : r->sweeps[0]);
    int rc = out ? rl_mkdir_p(out) : 0;
    if (rc < 0) {
        fprintf(stderr, "rldt report: cannot make %s: %s\n", out, strerror(-rc));
        return 1;
    }
    return 0;
}

static void summary(const struct report *r)
{
    int runs = 0;
    for (int t = 0; t < r->ntask; t++)
        for (int i = 0; i < r->task[t].nvar; i++)
            runs += r->task[t].var[i].nruns;
    printf("rldt report: %s/report.md and %d PNG%s from %d run%s", r->dir, r->ntask,
           r->ntask == 1 ? "" : "s", runs, runs == 1 ? "" : "s");
    if (r->bad_rows)
        printf(" (%d malformed eval.csv row%s skipped)", r->bad_rows, r->bad_rows == 1 ? "" : "s");
    putchar('\n');
}

int cmd_report(int argc, char **argv)
{
    struct report *r = calloc(1, sizeof(*r));
    if (!r)
        return 1;
    int rc = parse(r, argc, argv);
    if (rc) {
        free(r);
        return rc < 0 ? 0 : rc;
    }
    for (int i = 0; i < r->nsweeps && rc == 0; i++)
        rc = read_sweep(r, r->sweeps[i]);
    drop_empty(r);
    if (rc == 0 && r->ntask == 0) {
        fprintf(stderr,
                "rldt report: %s holds no run with evaluations (<task>/<variant>/s<seed>/"
                "eval.csv)\n",
                r->nsweeps == 1 ? r->sweeps[0] : "none of the sweeps");
        rc = -ENODATA;
    } else if (rc == 0) {
        rc = build(r);
        if (rc == 0 && r->keep_data)
            rc = keep_data(r);
    }
    if (rc == 0)
        summary(r);
    report_free(r);
    free(r);
    return rc == 0 ? 0 : rc == -ENODATA ? 2 : 1;
}
