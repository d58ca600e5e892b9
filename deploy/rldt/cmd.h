/*
 * cmd.h — the subcommands of the user tool `rldt`. Each returns the process exit code:
 * 0 success, 1 runtime failure, 2 usage or configuration error.
 */
#ifndef RL_CMD_H
#define RL_CMD_H

#include <stddef.h>

/* "<directory of this executable>/name" (just the directory when name is NULL) into out:
 * rldt-learner, rldt-actor and the shipped files are found beside the `rldt` binary. 0, or
 * -errno when /proc/self/exe cannot be read, -ENAMETOOLONG when out is too short. */
int cmd_beside_exe(char *out, size_t len, const char *name);

struct rl_config;

/*
 * A command that takes only --key=value flags (and --config=FILE): its dispatcher parses and
 * validates them with config_cli (--help prints usage and the keys), then calls run with the
 * config, which run may adjust. One front end for every such command and bench target.
 */
struct cmd_keyed {
    const char *prog;  /* "rldt eval": the prefix of its error messages */
    const char *usage; /* the usage line(s) --help prints */
    const char *keys;  /* the sections and single keys it takes, as config_help */
    int (*run)(struct rl_config *c);
};

/* Run k on argv's flags (argv[0] = the command name): its exit code (0 after --help, 2 after a
 * bad flag or value). */
int cmd_keyed_main(const struct cmd_keyed *k, int argc, char **argv);

/* Print the last `lines` lines (at most 16) of the text file at path to stderr, each after
 * prefix; nothing when it cannot be read. For showing why a child process failed. */
void cmd_print_tail(const char *path, int lines, const char *prefix);

/* Take every "PREFIX<value>" flag (prefix e.g. "--minutes=") out of argv[1..]: the last one's
 * value (borrowed from argv), or NULL when there is none. For a command's own flag that the
 * config keys do not know. */
const char *cmd_take_flag(int *argc, char **argv, const char *prefix);

/* Define the subcommand `int name(int argc, char **argv)` as cmd_keyed_main of k. */
#define CMD_KEYED(name, k)                                                                         \
    int name(int argc, char **argv)                                                                \
    {                                                                                              \
        return cmd_keyed_main(&(k), argc, argv);                                                   \
    }

int cmd_bench(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_diag(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_dataset_info(int argc, char **argv);
int cmd_dataset_import(int argc, char **argv);
int cmd_dataset_export(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_act(int argc, char **argv);
int cmd_render(int argc, char **argv);

/* bench targets, called by cmd_bench with argv[0] = target name */
int bench_nn(int argc, char **argv);
int bench_env(int argc, char **argv);
int bench_learner(int argc, char **argv);
int bench_ingest(int argc, char **argv);
int bench_actor(int argc, char **argv);
int bench_replay(int argc, char **argv);
int bench_soak(int argc, char **argv);
int bench_wire(int argc, char **argv);
int bench_fleet(int argc, char **argv);
int bench_render(int argc, char **argv);
int bench_encoder(int argc, char **argv);

/* GFLOP/s of C (m, n) = A (m, k) · B (n, k)^T (row-major; a layer's forward GEMM at batch m)
 * repeated for about secs (at least 3 calls) with OpenBLAS's current thread count; 0 when out
 * of memory. The peer every speed figure of a bench is a ratio against. */
double bench_sgemm_rate(int m, int n, int k, double secs);

/* The same timed on the clock `now` (e.g. bench_cpu_now for one-thread rates). */
double bench_sgemm_rate_on(int m, int n, int k, double secs, double (*now)(void));

/* median of v[0..n-1] (sorts v in place; n odd in our benches) */
double bench_median(double *v, int n);

/* seconds of CPU time of this process (all its threads): single-threaded benchmark rates per
 * CPU second do not count the time other jobs of a shared machine hold the core */
double bench_cpu_now(void);

#endif
