/*
 * sweep_proc.c — runs a sweep's grid (sweep.h): each run is `rldt run` (this executable) in its
 * own process group on 4 free loopback ports, started fresh, or with --resume when its
 * directory holds a checkpoint; finished runs carry a sweep.done marker. Progress comes from
 * the runs' metrics.csv and config.ini. SIGINT / SIGTERM stop the runs with one SIGINT
 * each.
 */
#include "deploy/rldt/sweep.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "deploy/rldt/cmd.h"

// the supervisor's periods: reaping while stopping, the main loop, progress lines
#define STOP_GRACE_SECS 120    /* runs get this long to write a final checkpoint after SIGINT */
#define STOP_POLL_SECS 0.1     /* reap this often while they stop */
#define LOOP_SECS 0.2          /* the main loop: reap, start the next runs */
#define PROGRESS_TTY_SECS 1.0  /* a progress line this often on a terminal, */
#define PROGRESS_LOG_SECS 30.0 /* and this often into a log */
#define PORT_LOW 10000         /* runs' ports are picked from here up to the ephemeral range */
#define PORT_HIGH 32768        /* (or to here when the kernel does not say where it starts) */
#define LOG_TAIL_LINES 4       /* a failed run shows this much of its log */

static bool exists(const char *dir, const char *name)
{
    char p[SWEEP_PATH + 64];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static bool has_checkpoint(const char *dir)
{
    char p[SWEEP_PATH + 16];
    snprintf(p, sizeof(p), "%s/checkpoints", dir);
    DIR *d = opendir(p);
    bool has = false;
    for (struct dirent *e; d && (e = readdir(d));)
        has |= !strncmp(e->d_name, "ckpt-", 5);
    if (d)
        closedir(d);
    return has;
}

// a run that never checkpointed starts over: its files (old CSV rows) are removed
static void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char p[SWEEP_PATH + 300];
    for (struct dirent *e; d && (e = readdir(d));) {
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (e->d_name[0] != '.' && lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            unlink(p);
    }
    if (d)
        closedir(d);
}

// ---- progress ----------------------------------------------------------------------------

// the last complete line of path into line (the header into head); false if none
static bool last_line(const char *path, char *head, size_t hlen, char *line, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(head, (int)hlen, f) != NULL;
    char buf[8192];
    fseek(f, 0, SEEK_END);
    long end = ftell(f), from = end > (long)sizeof(buf) - 1 ? end - (long)sizeof(buf) + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    while (n > 0 && buf[n - 1] != '\n') /* an unterminated row is still being written */
        buf[--n] = 0;
    if (n > 0)
        buf[--n] = 0;
    char *nl = strrchr(buf, '\n');
    snprintf(line, len, "%s", nl ? nl + 1 : buf);
    return ok && n > 0 && nl;
}

// the value of column name in a CSV row with that header
static bool column(const char *head, const char *row, const char *name, double *v)
{
    int idx = -1, i = 0;
    size_t nl = strlen(name);
    for (const char *p = head; p; p = strchr(p, ','), p = p ? p + 1 : NULL, i++)
        if (!strncmp(p, name, nl) && (p[nl] == ',' || p[nl] == '\n' || p[nl] == 0 || p[nl] == '\r'))
            idx = i;
    const char *p = row;
    for (i = 0; p && i < idx; i++)
        p = strchr(p, ','), p = p ? p + 1 : NULL;
    char *end;
    *v = p && idx >= 0 ? strtod(p, &end) : 0;
    return p && idx >= 0 && end != p;
}

// the env steps a run directory has reached and its budget (config.ini); false if unknown
static bool sweep_run_steps(const char *dir, double *steps, double *budget)
{
    char path[SWEEP_PATH + 32], head[8192], row[8192], line[512];
    *steps = 0;
    *budget = 0;
    snprintf(path, sizeof(path), "%s/config.ini", dir);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "max_env_steps = %lf", budget) == 1)
            break;
    if (f)
        fclose(f);
    snprintf(path, sizeof(path), "%s/metrics.csv", dir);
    if (last_line(path, head, sizeof(head), row, sizeof(row)))
        column(head, row, "env_steps", steps);
    return *budget > 0;
}

// the budget the sweep gives a run on its command line (--max-env-steps=N, the last one); 0 if none
static double argv_budget(const struct sweep_run *r)
{
    double b = 0;
    for (int i = 0; i < r->argc; i++)
        if (!strncmp(r->argv[i], "--max-env-steps=", 16))
            b = strtod(r->argv[i] + 16, NULL);
    return b;
}

/* finished: a sweep.done marker, and no larger budget asked for now than the run was given
 * (its config.ini) -- so `rldt sweep DIR --max-env-steps=N` continues finished runs to N */
static bool run_done(const struct sweep_run *r)
{
    double steps, budget, want = argv_budget(r);
    if (!exists(r->dir, SWEEP_DONE))
        return false;
    return want <= 0 || !sweep_run_steps(r->dir, &steps, &budget) || want <= budget;
}

// fraction of the whole sweep: finished runs 1, running ones their share of their budget
static double fraction(const struct sweep *sw, int *done, int *running, int *failed)
{
    double f = 0;
    *done = *running = *failed = 0;
    for (int i = 0; i < sw->n; i++) {
        const struct sweep_run *r = &sw->runs[i];
        double s, b;
        *done += r->state == SWEEP_DONE_ST;
        *running += r->state == SWEEP_RUNNING;
        *failed += r->state == SWEEP_FAILED;
        if (r->state == SWEEP_DONE_ST)
            f += 1;
        else if (r->state != SWEEP_PENDING && sweep_run_steps(r->dir, &s, &b))
            f += RL_MIN(1.0, s / b);
    }
    return sw->n ? f / sw->n : 1;
}

static void fmt_secs(double s, char *out, size_t len)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(out, len, "%ldm%02lds", t / 60, t % 60);
}

static void progress(const struct sweep *sw, double t0, double f0, bool tty, bool last)
{
    int done, running, failed;
    double f = fraction(sw, &done, &running, &failed), el = rl_now() - t0;
    char e[32], eta[32] = "-";
    fmt_secs(el, e, sizeof(e));
    if (f > f0 + 1e-6 && f < 1)
        fmt_secs(el * (1 - f) / (f - f0), eta, sizeof(eta));
    fprintf(stderr,
            "%ssweep: %d/%d done, %d running, %d failed | %.1f%% of the grid | %s elapsed, "
            "eta %s%s",
            tty ? "\r\033[K" : "", done, sw->n, running, failed, 100 * f, e, eta,
            tty && !last ? "" : "\n");
}

// ---- processes ---------------------------------------------------------------------------

static bool port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* the ports the kernel hands out to outgoing connections start here: a learner's port picked
 * above it can be taken by some client's connection between our check and its bind */
static int ephemeral_low(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int lo = 0, hi = 0;
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2)
            lo = 0;
        fclose(f);
    }
    return lo > PORT_LOW + 1000 ? lo : PORT_HIGH;
}

// the first of 4 free loopback ports below the ephemeral range, none given to a running run
static int pick_ports(const struct sweep *sw, unsigned *seed)
{
    unsigned span = (unsigned)(ephemeral_low() - 4 - PORT_LOW);
    for (int tries = 0; tries < 200; tries++) {
        int p = PORT_LOW + (int)(rand_r(seed) % span), ok = 1;
        for (int i = 0; ok && i < sw->n; i++)
            ok = sw->runs[i].state != SWEEP_RUNNING || abs(sw->runs[i].port - p) >= 4;
        for (int k = 0; ok && k < 4; k++)
            ok = port_free(p + k);
        if (ok)
            return p;
    }
    return -EADDRINUSE;
}

static void remove_done(const char *dir)
{
    char p[SWEEP_PATH + 16];
    snprintf(p, sizeof(p), "%s/%s", dir, SWEEP_DONE);
    unlink(p);
}

static int launch(struct sweep *sw, struct sweep_run *r, const char *exe, unsigned *seed)
{
    int port = pick_ports(sw, seed);
    if (port < 0)
        return port;
    r->resumed = has_checkpoint(r->dir);
    if (!r->resumed)
        clear_dir(r->dir);
    else
        remove_done(r->dir); /* a finished run continued to a larger budget is unfinished again */
    char ports[4][64], log[SWEEP_PATH + 8];
    snprintf(ports[0], 64, "--control-port=%d", port);
    snprintf(ports[1], 64, "--data-port=%d", port + 1);
    snprintf(ports[2], 64, "--params-port=%d", port + 2);
    snprintf(ports[3], 64, "--stats=127.0.0.1:%d", port + 3);
    char *av[SWEEP_MAX_ARGS + 8];
    int n = 0;
    av[n++] = (char *)exe;
    for (int i = 0; i < r->argc; i++)
        av[n++] = r->argv[i];
    for (int i = 0; i < 4; i++)
        av[n++] = ports[i];
    if (r->resumed)
        av[n++] = "--resume";
    av[n] = NULL;
    snprintf(log, sizeof(log), "%s.log", r->dir);
    int rc = rl_mkdir_p(r->dir); /* also makes the log's directory */
    int fd = rc ? -1 : open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return rc ? rc : -errno;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return -errno;
    }
    if (pid == 0) {
        setpgid(0, 0); /* a terminal's Ctrl-C reaches the sweep only; it forwards one */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(exe, av);
        _exit(127);
    }
    close(fd);
    r->pid = pid;
    r->port = port;
    r->state = SWEEP_RUNNING;
    return 0;
}

// the last lines of a failed run's console log, indented, on stderr
static void show_log_tail(const struct sweep_run *r)
{
    char path[SWEEP_PATH + 8];
    snprintf(path, sizeof(path), "%s.log", r->dir);
    cmd_print_tail(path, LOG_TAIL_LINES, "    | ");
}

static void describe_status(int st, char *out, size_t len)
{
    if (WIFSIGNALED(st))
        snprintf(out, len, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(out, len, "exit status %d", WEXITSTATUS(st));
}

/* a run ended with status st: mark it (and write its sweep.done) when it finished; relaunch a
 * failed one while retries are left, unless its configuration was refused (status 2) */
static void ended(struct sweep *sw, struct sweep_run *r, int st, bool tty)
{
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    r->pid = 0;
    if (rl_stop_signals) {
        r->state = SWEEP_PENDING;
        return;
    }
    char p[SWEEP_PATH + 16], why[64];
    snprintf(p, sizeof(p), "%s/%s", r->dir, SWEEP_DONE);
    FILE *f = ok ? fopen(p, "w") : NULL;
    if (f)
        fclose(f);
    if (ok && f) {
        r->state = SWEEP_DONE_ST;
        fprintf(stderr, "%ssweep: %s finished\n", tty ? "\r\033[K" : "", r->label);
        return;
    }
    describe_status(st, why, sizeof(why));
    bool retry = !ok && r->retried < sw->retries && !(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    fprintf(stderr, "%ssweep: %s FAILED (%s)%s, see %s.log\n", tty ? "\r\033[K" : "", r->label,
            ok ? "cannot write its sweep.done" : why, retry ? "; relaunching it" : "", r->dir);
    show_log_tail(r);
    r->retried += retry;
    r->state = retry ? SWEEP_PENDING : SWEEP_FAILED;
}

static void reap(struct sweep *sw, bool tty)
{
    int st;
    for (pid_t pid; (pid = waitpid(-1, &st, WNOHANG)) > 0;)
        for (int i = 0; i < sw->n; i++)
            if (sw->runs[i].state == SWEEP_RUNNING && sw->runs[i].pid == pid)
                ended(sw, &sw->runs[i], st, tty);
}

static int count(const struct sweep *sw, enum sweep_state s)
{
    int n = 0;
    for (int i = 0; i < sw->n; i++)
        n += sw->runs[i].state == s;
    return n;
}

// start pending runs up to the parallel limit; a run that cannot start counts as failed
static void fill(struct sweep *sw, const char *exe, unsigned *seed, bool tty)
{
    for (int i = 0; i < sw->n && count(sw, SWEEP_RUNNING) < sw->parallel; i++) {
        struct sweep_run *r = &sw->runs[i];
        if (r->state != SWEEP_PENDING)
            continue;
        int rc = launch(sw, r, exe, seed);
        if (rc < 0) {
            r->state = SWEEP_FAILED;
            fprintf(stderr, "sweep: %s cannot start: %s\n", r->label, strerror(-rc));
            continue;
        }
        fprintf(stderr, "%ssweep: %s %s\n", tty ? "\r\033[K" : "", r->label,
                r->resumed ? "resumed" : "started");
    }
}

static void dry_run(const struct sweep *sw)
{
    for (int i = 0; i < sw->n; i++) {
        const struct sweep_run *r = &sw->runs[i];
        bool done = run_done(r), resume = !done && has_checkpoint(r->dir);
        printf("%s: %s", r->label, done ? "finished" : resume ? "resume" : "start");
        for (int k = 0; k < r->argc && !done; k++)
            printf(" %s", r->argv[k]);
        printf("%s\n", resume ? " --resume" : "");
    }
}

static void wait_stopped(struct sweep *sw, bool tty)
{
    for (int i = 0; i < sw->n; i++)
        if (sw->runs[i].state == SWEEP_RUNNING)
            kill(-sw->runs[i].pid, SIGINT); /* its process group: rldt run and its children */
    double until = rl_now() + STOP_GRACE_SECS;
    while (count(sw, SWEEP_RUNNING) > 0 && rl_now() < until) {
        reap(sw, tty);
        rl_sleep(STOP_POLL_SECS);
    }
    for (int i = 0; i < sw->n; i++)
        if (sw->runs[i].state == SWEEP_RUNNING)
            kill(-sw->runs[i].pid, SIGKILL);
    reap(sw, tty);
}

int sweep_execute(struct sweep *sw)
{
    if (sw->dry_run) {
        dry_run(sw);
        return 0;
    }
    char exe[SWEEP_PATH];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0) {
        fprintf(stderr, "rldt sweep: cannot find this executable: %s\n", strerror(errno));
        return 1;
    }
    exe[len] = 0;
    for (int i = 0; i < sw->n; i++)
        sw->runs[i].state = run_done(&sw->runs[i]) ? SWEEP_DONE_ST : SWEEP_PENDING;
    rl_stop_on_signals();
    bool tty = isatty(STDERR_FILENO);
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    double t0 = rl_now(), last = 0, f0;
    int d, r, f;
    f0 = fraction(sw, &d, &r, &f);
    fprintf(stderr, "sweep: %d runs in %s (%d finished before), %d at a time\n", sw->n, sw->dir, d,
            sw->parallel);
    while (!rl_stop_signals) {
        reap(sw, tty);
        fill(sw, exe, &seed, tty);
        if (count(sw, SWEEP_RUNNING) == 0)
            break;
        if (rl_now() - last >= (tty ? PROGRESS_TTY_SECS : PROGRESS_LOG_SECS)) {
            progress(sw, t0, f0, tty, false);
            last = rl_now();
        }
        rl_sleep(LOOP_SECS);
    }
    if (rl_stop_signals) {
        fprintf(stderr, "%ssweep: stopping the runs (each writes a final checkpoint)...\n",
                tty ? "\r\033[K" : "");
        wait_stopped(sw, tty);
    }
    progress(sw, t0, f0, tty, true);
    if (rl_stop_signals) {
        fprintf(stderr, "sweep: interrupted; `rldt sweep %s` continues it\n", sw->dir);
        return 130;
    }
    return count(sw, SWEEP_FAILED) ? 1 : 0;
}
