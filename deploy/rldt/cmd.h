/*
 * cmd.h — the subcommands of the user tool `rldt`. Each returns the process exit code:
 * 0 success, 1 runtime failure, 2 usage or configuration error.
 */
#ifndef RL_CMD_H
#define RL_CMD_H

int cmd_bench(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_dataset_info(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_keygen(int argc, char **argv);

/* bench targets, called by cmd_bench with argv[0] = target name */
int bench_nn(int argc, char **argv);
int bench_env(int argc, char **argv);
int bench_learner(int argc, char **argv);
int bench_ingest(int argc, char **argv);
int bench_actor(int argc, char **argv);
int bench_replay(int argc, char **argv);

/* median of v[0..n-1] (sorts v in place; n odd in our benches) */
double bench_median(double *v, int n);

/* seconds of CPU time of this process (all its threads): single-threaded benchmark rates per
 * CPU second do not count the time other jobs of a shared machine hold the core */
double bench_cpu_now(void);

#endif
