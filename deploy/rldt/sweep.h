/*
 * sweep.h — `rldt sweep` internals shared by sweep.c (the grid and the command line) and
 * sweep_proc.c (launching, resuming and watching the runs). A sweep directory holds
 * <task>/<variant>/s<seed>/ run directories (variant = the algorithm, then any key=value of the
 * grid, joined by ','), <task>/<variant>/s<seed>.log (the run's console output), sweep.args
 * (the command line, so `rldt sweep DIR` resumes) and a `sweep.done` marker in each finished run.
 * Not thread-safe; one sweep process owns its directory.
 */
#ifndef RL_SWEEP_H
#define RL_SWEEP_H

#include <stdbool.h>
#include <sys/types.h>

#define SWEEP_MAX_ARGS 128 /* arguments of one `rldt run` */
#define SWEEP_PATH 1024
#define SWEEP_DONE "sweep.done"

enum sweep_state { SWEEP_PENDING, SWEEP_RUNNING, SWEEP_DONE_ST, SWEEP_FAILED };

/* One run of the grid. */
struct sweep_run {
    char dir[SWEEP_PATH];       /* SWEEP_DIR/<task>/<variant>/s<seed> */
    char label[700];            /* <task> <variant> s<seed> */
    char *argv[SWEEP_MAX_ARGS]; /* `rldt run` arguments (owned), NULL-terminated */
    int argc;
    enum sweep_state state;
    pid_t pid;
    int port; /* first of the 4 loopback ports while running */
    bool resumed;
    int retried; /* relaunches after a failure, this sweep */
};

/* The expanded grid. */
struct sweep {
    char dir[SWEEP_PATH];
    struct sweep_run *runs;
    int n;
    int parallel;
    int retries; /* relaunches of a failed run (not one its configuration failed) */
    bool dry_run;
};

/*
 * Run the grid: skip finished runs, resume the ones with a checkpoint, start the rest, at most
 * sw->parallel at a time, one progress line on stderr. On SIGINT / SIGTERM every running run
 * gets one SIGINT (it checkpoints and stops) and the sweep waits for them. A run that fails
 * (other than exit status 2, its configuration refused) is relaunched up to sw->retries times,
 * from its last checkpoint; one that still fails shows the end of its log. Returns 0 when
 * every run finished, 1 when one failed, 130 when interrupted.
 */
int sweep_execute(struct sweep *sw);

#endif
