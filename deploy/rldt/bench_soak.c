/*
 * bench_soak.c — `rldt bench soak --minutes=N`: runs a learner and `actors` actors (the
 * processes next to this binary, with the given config) for N minutes, samples each process's
 * resident memory (VmRSS) every few seconds, and reports per process the RSS at start and end
 * and the least-squares slope over the second half of the run (after the replay has had time
 * to fill), in MB per minute and as a fraction of its mean RSS per hour. A flat process has a
 * slope near 0; a leak shows as a steady positive slope. The run directory is a temporary one
 * (removed) unless --run-dir is given.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define SOAK_PROCS 65 /* the learner and up to 64 actors */
#define SOAK_SAMPLES 4096

struct soak {
    int n; /* processes: [0] learner, [1..] actors */
    pid_t pid[SOAK_PROCS];
    char name[SOAK_PROCS][32];
    int ns;                              /* samples taken */
    double t[SOAK_SAMPLES];              /* seconds since start */
    float rss[SOAK_SAMPLES][SOAK_PROCS]; /* MB, -1 when the process was gone */
    bool learner_exited;
    char dir[CONFIG_STR], cfg[CONFIG_STR + 32];
};

static double rss_mb(pid_t pid)
{
    long kb = rl_proc_status_kb((int)pid, "VmRSS");
    return kb < 0 ? -1 : kb / 1024.0;
}

// start prog (next to this binary) with the soak's config file and extra args; output to log
static pid_t spawn(const struct soak *s, const char *prog, const char *extra, const char *log)
{
    char path[PATH_MAX + 32], logpath[CONFIG_STR + 64];
    if (cmd_beside_exe(path, sizeof(path), prog) < 0)
        return -1;
    snprintf(logpath, sizeof(logpath), "%s/%s", s->dir, log);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    FILE *f = freopen(logpath, "a", stderr);
    (void)f;
    char *argv[] = {path, (char *)s->cfg, (char *)extra, NULL};
    execv(path, argv);
    _exit(127);
}

// least-squares slope of process p's RSS (MB per second) over samples [from, ns); mean in *mean
static double slope(const struct soak *s, int p, int from, double *mean)
{
    double st = 0, sy = 0, stt = 0, sty = 0;
    int n = 0;
    for (int i = from; i < s->ns; i++) {
        if (s->rss[i][p] < 0)
            continue;
        st += s->t[i];
        sy += s->rss[i][p];
        stt += s->t[i] * s->t[i];
        sty += s->t[i] * s->rss[i][p];
        n++;
    }
    *mean = n ? sy / n : 0;
    double den = n * stt - st * st;
    return n >= 3 && den > 0 ? (n * sty - st * sy) / den : 0;
}

static void report(const struct soak *s, double minutes)
{
    int half = s->ns / 2;
    printf("soak: %.1f min, %d samples; slopes over the second half (%.1f min)\n", minutes, s->ns,
           s->ns ? (s->t[s->ns - 1] - s->t[half]) / 60 : 0);
    for (int p = 0; p < s->n; p++) {
        double mean = 0, mb_s = slope(s, p, half, &mean);
        float first = s->rss[0][p], last = s->rss[s->ns - 1][p];
        printf("%-10s rss %.1f -> %.1f MB, slope %+.3f MB/min (%+.2f%% of its mean per hour)%s\n",
               s->name[p], first, last, mb_s * 60, mean > 0 ? 100 * mb_s * 3600 / mean : 0,
               p == 0 && s->learner_exited ? " [exited early]"
               : last < 0                  ? " [gone]"
                                           : "");
    }
}

// sample every `every` seconds until minutes are up, a stop signal, or the learner exits
static void sample(struct soak *s, double minutes, double every)
{
    double t0 = rl_now(), end = t0 + minutes * 60;
    while (!rl_stop_signals && s->ns < SOAK_SAMPLES && rl_now() < end) {
        s->t[s->ns] = rl_now() - t0;
        for (int p = 0; p < s->n; p++)
            s->rss[s->ns][p] = (float)rss_mb(s->pid[p]);
        s->ns++;
        if (waitpid(s->pid[0], NULL, WNOHANG) == s->pid[0]) {
            s->learner_exited = true;
            break;
        }
        rl_sleep(every);
    }
}

static void stop_all(struct soak *s)
{
    if (s->learner_exited)
        s->pid[0] = -1; // reaped: never signal a pid that may have been reused
    if (s->pid[0] > 0)
        kill(s->pid[0], SIGTERM); // the learner checkpoints and tells the actors to stop
    double end = rl_now() + 30;
    while (s->pid[0] > 0 && rl_now() < end && waitpid(s->pid[0], NULL, WNOHANG) == 0)
        rl_sleep(0.2);
    for (int p = 0; p < s->n; p++) {
        if (s->pid[p] <= 0)
            continue;
        kill(s->pid[p], SIGKILL);
        waitpid(s->pid[p], NULL, 0);
    }
}

// --minutes=N is the soak's own flag: taken out of argv before the config is parsed
static int prepare(struct soak *s, struct rl_config *c)
{
    bool temp = !c->run_dir[0];
    if (temp) {
        snprintf(s->dir, sizeof(s->dir), "/tmp/rldt-soak-XXXXXX");
        if (!mkdtemp(s->dir))
            return -errno;
        snprintf(c->run_dir, sizeof(c->run_dir), "%s", s->dir);
    } else {
        snprintf(s->dir, sizeof(s->dir), "%s", c->run_dir);
        if (rl_mkdir_p(s->dir) < 0)
            return -errno;
    }
    c->eval_every = 0; // trainers only: every process sampled is a peer of the others
    char path[CONFIG_STR + 16];
    snprintf(path, sizeof(path), "%s/soak.ini", s->dir);
    snprintf(s->cfg, sizeof(s->cfg), "--config=%s", path);
    return config_save(c, path);
}

int bench_soak(int argc, char **argv)
{
    const char *m = cmd_take_flag(&argc, argv, "--minutes=");
    double minutes = m ? strtod(m, NULL) : 10;
    struct rl_config c;
    int rc =
        config_cli(&c, "rldt bench soak",
                   "rldt bench soak --minutes=N [--config=FILE] [--key=value ...]\n"
                   "  runs a learner and `actors` actors for N minutes (default 10) and "
                   "reports their RSS slopes",
                   "run,env,net,learner,actor,train,sac,flow,rldt,auth", argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!(minutes > 0) || c.actors > SOAK_PROCS - 1) {
        fprintf(stderr, "rldt bench soak: --minutes must be > 0 and actors <= %d\n",
                SOAK_PROCS - 1);
        return 2;
    }
    struct soak *s = calloc(1, sizeof(*s));
    bool temp = !c.run_dir[0];
    if (!s || prepare(s, &c) < 0) {
        fprintf(stderr, "rldt bench soak: cannot prepare a run directory\n");
        free(s);
        return 1;
    }
    rl_stop_on_signals();
    s->pid[0] = spawn(s, "rldt-learner", NULL, "learner.stderr");
    snprintf(s->name[0], sizeof(s->name[0]), "learner");
    rl_sleep(1.0);
    for (int i = 0; i < c.actors; i++) {
        char name[48], log[32];
        snprintf(name, sizeof(name), "--actor-name=soak%d", i);
        snprintf(log, sizeof(log), "actor-%d.log", i);
        s->pid[1 + i] = spawn(s, "rldt-actor", name, log);
        snprintf(s->name[1 + i], sizeof(s->name[1 + i]), "actor-%d", i);
    }
    s->n = 1 + c.actors;
    rl_sleep(2.0); // past exec and start-up: the first sample is a running process
    double every = RL_MAX(1.0, minutes * 60 / 120);
    sample(s, minutes, every);
    stop_all(s);
    bool died = s->learner_exited;
    report(s, minutes);
    if (temp) {
        char cmd[CONFIG_STR + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "rldt bench soak: could not remove %s\n", s->dir);
    }
    free(s);
    return died || rl_stop_signals ? 1 : 0;
}
