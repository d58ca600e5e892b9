/*
 * report.h — `rldt report` internals shared by report.c (reading a sweep directory, the
 * statistics and report.md) and report_plot.c (one PNG per task). The data are read once and
 * owned by struct report (report_free releases them). Not thread-safe (PLplot).
 */
#ifndef RL_REPORT_H
#define RL_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#define REPORT_MAX_TASKS 16
#define REPORT_MAX_VARIANTS 24
#define REPORT_MAX_RUNS 64
#define REPORT_NAME 256
#define REPORT_STABLE_AFTER 1e5 /* env steps after which evaluations count for "worst" */

/* One run's evaluations (eval.csv rows, in file order) and what is derived from them. */
struct report_run {
    char name[REPORT_NAME];
    char *src;           /* the run's directory (owned) */
    double *steps, *ret; /* n rows */
    int n;
    double every;         /* eval_every of its config.ini (0 unknown) */
    double start;         /* return of the initial policy (version 1 or env step 0), else NaN */
    double first_version; /* policy_version of the first row (NaN: no such column) */
    double final, best;   /* last row's return, best return */
    double worst_late;    /* lowest return after REPORT_STABLE_AFTER env steps (NaN: none) */
    double reach_steps;   /* --reach: env steps of the first evaluation >= it (NaN: never) */
    double reach_wall;    /* ... and its wall_s (NaN: never, or no wall_s column) */
};

/* Curve of a variant: mean and 95% interval of the runs' returns at common evaluation points. */
struct report_curve {
    double *x, *mean, *lo, *hi;
    int n;
};

/* Runs of one variant (the algorithm plus the grid's key=value) on one task. */
struct report_variant {
    char name[REPORT_NAME];
    struct report_run runs[REPORT_MAX_RUNS];
    int nruns;
    struct report_curve curve;
};

struct report_task {
    char name[REPORT_NAME];
    struct report_variant var[REPORT_MAX_VARIANTS];
    int nvar;
};

#define REPORT_MAX_SWEEPS 8

struct report {
    char dir[1024];                        /* where report.md and the PNGs go */
    const char *sweeps[REPORT_MAX_SWEEPS]; /* the sweep directories read (borrowed) */
    int nsweeps;
    struct report_task task[REPORT_MAX_TASKS];
    int ntask;
    int bad_rows;   /* malformed eval.csv rows skipped */
    bool keep_data; /* --keep-data: copy each run's eval.csv and keys under dir/data/ */
    double reach;   /* --reach=R: when each run first evaluated >= R (NaN: not asked) */
};

/*
 * Draw the curves of task t into path (PNG): every variant's mean with its shaded 95%
 * interval against env steps. Returns 0, or -errno with a message in err.
 */
int report_plot_task(const struct report *r, int t, const char *path, char *err, size_t errlen);

#endif
