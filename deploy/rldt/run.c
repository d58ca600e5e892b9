/*
 * run.c — `rldt run`: the local launcher. Starts one rldt-learner and --actors=N rldt-actor
 * processes from the same resolved config, shows a live progress line read from the
 * learner's stats socket, restarts actors that die, stops at max_env_steps (the learner ends
 * the run), and on Ctrl-C shuts everything down cleanly (the learner writes a final
 * checkpoint). The run directory gets config.ini, metrics.csv, log files and checkpoints/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config.h"
#include "deploy/rldt/curve.h" /* [tb] */
#include "common/util.h"
#include "deploy/rldt/cmd.h"
#include "proto/tblog.h"
#include "deploy/rldt/statsc.h"

#define MAX_ACTORS 256
#define RESPAWN_LIMIT 20
#define CURVE_SECS 60       /* [tb] redraw period of curve.png during a run */
#define REAP_SECS 0.05      /* between looks at the children (exits, the progress line) */
#define STATS_WAIT_SECS 0.1 /* between tries of the learner's stats socket at start-up */

struct launcher {
    struct rl_config c;
    char dir[CONFIG_STR];
    char cfg_path[CONFIG_STR + 32];
    char bin[PATH_MAX];
    pid_t learner;
    pid_t actor[MAX_ACTORS + 1]; /* actors, then the evaluator */
    int n;                       /* processes in actor[] */
    int respawns;
    char host[256], port[16];
    bool tty;
};

int cmd_beside_exe(char *out, size_t len, const char *name)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0)
        return n < 0 ? -errno : -ENOENT;
    buf[n] = 0;
    int k = name ? snprintf(out, len, "%s/%s", dirname(buf), name)
                 : snprintf(out, len, "%s", dirname(buf));
    return k < 0 || (size_t)k >= len ? -ENAMETOOLONG : 0;
}

static pid_t spawn(struct launcher *L, const char *prog, const char *logname, const char *extra,
                   const char *extra2)
{
    char path[PATH_MAX + 32], cfg[CONFIG_STR + 48], log[CONFIG_STR + 64];
    snprintf(path, sizeof(path), "%s/%s", L->bin, prog);
    snprintf(cfg, sizeof(cfg), "--config=%s", L->cfg_path);
    snprintf(log, sizeof(log), "%s/%s", L->dir, logname);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    // child: own process group (the launcher orchestrates Ctrl-C), die with the launcher
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
    }
    char *argv[] = {path, cfg, (char *)extra, (char *)extra2, NULL};
    execv(path, argv);
    fprintf(stderr, "rldt run: cannot start %s: %s\n", path, strerror(errno));
    _exit(127);
}

// actor i, or the evaluator when i == c.actors (an actor in the eval role)
static pid_t spawn_actor(struct launcher *L, int i)
{
    if (i == L->c.actors)
        return spawn(L, "rldt-actor", "eval.log", "--actor-role=eval", "--actor-name=eval");
    char log[32], name[48];
    snprintf(log, sizeof(log), "actor-%d.log", i);
    snprintf(name, sizeof(name), "--actor-name=a%d", i);
    return spawn(L, "rldt-actor", log, name, NULL);
}

// print the last lines of a log in the run directory
static void tail_log(const char *dir, const char *name)
{
    char path[CONFIG_STR + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    cmd_print_tail(path, 8, "    ");
}

// reap children that exited; restart actors that died while the learner runs
static bool reap(struct launcher *L, int *learner_status)
{
    int st;
    pid_t pid;
    bool learner_gone = false;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        if (pid == L->learner) {
            *learner_status = st;
            learner_gone = true;
            L->learner = 0;
            continue;
        }
        for (int i = 0; i < L->n; i++)
            if (L->actor[i] == pid) {
                L->actor[i] = 0;
                bool crashed = WIFSIGNALED(st) || WEXITSTATUS(st) != 0;
                if (crashed && L->learner && !rl_stop_signals && L->respawns < RESPAWN_LIMIT) {
                    fprintf(stderr, "\nrldt run: actor %d exited (%s %d): restarting it\n", i,
                            WIFSIGNALED(st) ? "signal" : "status",
                            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                    L->respawns++;
                    L->actor[i] = spawn_actor(L, i);
                }
            }
    }
    return learner_gone;
}

// true once every data-collecting actor has died and no restart is left: nothing can progress
static bool no_collectors(struct launcher *L)
{
    if (L->respawns < RESPAWN_LIMIT)
        return false;
    for (int i = 0; i < L->c.actors; i++)
        if (L->actor[i])
            return false;
    return true;
}

// the actors of a stats document that collect training data (not the evaluator)
static size_t count_actors(const json_t *actors)
{
    size_t i, n = 0;
    json_t *a;
    json_array_foreach(actors, i, a)
    {
        const char *name = json_string_value(json_object_get(a, "name"));
        n += !name || strcmp(name, "eval") != 0;
    }
    return n;
}

static void progress(struct launcher *L, double t0, bool final)
{
    char err[256];
    json_t *doc = statsc_fetch(L->host, L->port, 1.0, err, sizeof(err));
    if (!doc)
        return;
    double steps = json_number_value(json_object_get(doc, "env_steps"));
    double sps = json_number_value(json_object_get(doc, "env_steps_per_s"));
    double ups = json_number_value(json_object_get(doc, "updates_per_s"));
    json_t *ret = json_object_get(doc, "recent_return");
    double lag = json_number_value(json_object_get(doc, "policy_lag_max"));
    size_t nact = count_actors(json_object_get(doc, "actors"));
    json_t *scal = json_object_get(doc, "scalars");
    json_t *ev = json_object_get(scal, "eval_return");
    char evs[64] = "";
    if (json_is_number(ev))
        snprintf(evs, sizeof(evs), " | eval %.1f @%.0f", json_number_value(ev),
                 json_number_value(json_object_get(scal, "eval_env_steps")));
    double frac = steps / (double)L->c.max_env_steps;
    double el = rl_now() - t0;
    static double first = -1; /* env steps at the first reading (a resumed run starts > 0) */
    if (first < 0)
        first = steps;
    char rets[32] = "n/a";
    if (json_is_number(ret))
        snprintf(rets, sizeof(rets), "%.1f", json_number_value(ret));
    char eta[32] = "-";
    double rate = el > 0 ? (steps - first) / el : 0;
    if (rate > 0 && frac < 1)
        snprintf(eta, sizeof(eta), "%.0fs", ((double)L->c.max_env_steps - steps) / rate);
    fprintf(stderr,
            "%s%.0f/%lld env steps (%.1f%%) | %.0f steps/s | return %s%s | %.1f upd/s | "
            "lag %.0f | actors %zu | %.0fs elapsed, eta %s%s",
            L->tty ? "\r\033[K" : "", steps, (long long)L->c.max_env_steps, 100 * frac, sps, rets,
            evs, ups, lag, nact, el, eta, L->tty && !final ? "" : "\n");
    json_decref(doc);
}

static void stop_all(struct launcher *L, int sig)
{
    if (L->learner)
        kill(L->learner, sig);
    for (int i = 0; i < L->n; i++)
        if (L->actor[i])
            kill(L->actor[i], sig);
}

static bool any_alive(struct launcher *L)
{
    if (L->learner)
        return true;
    for (int i = 0; i < L->n; i++)
        if (L->actor[i])
            return true;
    return false;
}

// wait up to secs for every child to exit, reaping them
static void wait_all(struct launcher *L, double secs, int *learner_status)
{
    double until = rl_now() + secs;
    while (any_alive(L) && rl_now() < until) {
        reap(L, learner_status);
        rl_sleep(REAP_SECS);
    }
}

static int prepare_dir(struct launcher *L)
{
    struct rl_config *c = &L->c;
    if (!c->run_dir[0])
        snprintf(c->run_dir, sizeof(c->run_dir), "runs/%s-%s", c->algo, c->env);
    snprintf(L->dir, sizeof(L->dir), "%s", c->run_dir);
    char ck[CONFIG_STR + 32];
    snprintf(ck, sizeof(ck), "%s/checkpoints", L->dir);
    bool has = false;
    DIR *d = opendir(ck);
    for (struct dirent *e; d && (e = readdir(d));)
        has |= !strncmp(e->d_name, "ckpt-", 5);
    if (d)
        closedir(d);
    if (has && !c->resume) {
        fprintf(stderr,
                "rldt run: %s already holds checkpoints: add --resume to continue it, or choose "
                "another --run-dir\n",
                L->dir);
        return -EEXIST;
    }
    int rc = rl_mkdir_p(ck);
    if (rc < 0) {
        fprintf(stderr, "rldt run: cannot create %s: %s\n", ck, strerror(-rc));
        return rc;
    }
    // a resumed run keeps its config.ini until the learner has accepted the new one
    snprintf(L->cfg_path, sizeof(L->cfg_path), "%s/config.ini%s", L->dir, c->resume ? ".next" : "");
    if (config_save(c, L->cfg_path) < 0) {
        fprintf(stderr, "rldt run: cannot write %s: %s\n", L->cfg_path, strerror(errno));
        return -EIO;
    }
    return 0;
}

// wait until the learner's stats socket answers (or the learner exits)
static int wait_learner(struct launcher *L, int *status)
{
    double until = rl_now() + 30;
    char err[256];
    while (rl_now() < until && !rl_stop_signals) {
        if (reap(L, status))
            return -ECHILD;
        json_t *doc = statsc_fetch(L->host, L->port, 0.5, err, sizeof(err));
        if (doc) {
            json_decref(doc);
            return 0;
        }
        rl_sleep(STATS_WAIT_SECS);
    }
    return -ETIMEDOUT;
}

// [tb] the final curve.png of the run, or why there is none
static void redraw_curve(struct launcher *L)
{
    char e[512];
    struct curve_info info;
    if (curve_draw(L->dir, NULL, &info, e, sizeof(e)) == 0)
        fprintf(stderr, "rldt run: curve %s/curve.png (%d %s points)\n", L->dir, info.points,
                info.eval ? "eval" : "training-return");
    else
        fprintf(stderr, "rldt run: no curve.png: %s\n", e);
}

// ---- the final evaluation --------------------------------------------------------------

// the newest checkpoint of the run (names sort by update count), or -ENOENT
static int newest_ckpt(const char *dir, char *out, size_t len)
{
    char ck[CONFIG_STR + 32];
    snprintf(ck, sizeof(ck), "%s/checkpoints", dir);
    DIR *d = opendir(ck);
    if (!d)
        return -errno;
    char best[256] = "";
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (!strncmp(e->d_name, "ckpt-", 5) && n > 10 && n < sizeof(best) &&
            !strcmp(e->d_name + n - 5, ".rldt") && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof(best), "%s", e->d_name);
    }
    closedir(d);
    if (!best[0])
        return -ENOENT;
    snprintf(out, len, "%s/%s", ck, best);
    return 0;
}

// run `rldt eval ... --json` on a checkpoint; its one-line JSON answer, or NULL
static json_t *eval_ckpt(struct launcher *L, const char *ckpt)
{
    char prog[PATH_MAX + 8], env[96], pol[CONFIG_STR + 400], eps[48], seed[48],
        log[CONFIG_STR + 16], len[48], plug[CONFIG_STR + 16];
    snprintf(prog, sizeof(prog), "%s/rldt", L->bin);
    snprintf(plug, sizeof(plug), "--task-plugin=%s", L->c.task_plugin);
    snprintf(env, sizeof(env), "--env=%s", L->c.env);
    snprintf(pol, sizeof(pol), "--policy=%s", ckpt);
    snprintf(eps, sizeof(eps), "--episodes=%d", L->c.eval_episodes);
    snprintf(seed, sizeof(seed), "--seed=%llu", (unsigned long long)L->c.seed);
    snprintf(len, sizeof(len), "--max-episode-steps=%d", L->c.max_episode_steps); /* as in-run */
    snprintf(log, sizeof(log), "%s/eval.log", L->dir);
    int fds[2];
    if (pipe(fds) < 0)
        return NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0)
            dup2(fd, STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        // the same kind of evaluation as the run's evaluator: stochastic where the run's
        // config asks for it (sparse-reward tasks), else from x0 = 0 without noise
        char *av[] = {prog, "eval", env, pol, eps, seed, len, plug, "--json", NULL, NULL};
        if (!L->c.eval_stochastic)
            av[9] = "--deterministic";
        execv(prog, av);
        _exit(127);
    }
    close(fds[1]);
    char buf[4096];
    size_t n = 0;
    ssize_t r;
    char drain[512]; /* whatever does not fit is read and dropped: the child never blocks */
    while ((r = read(fds[0], n < sizeof(buf) - 1 ? buf + n : drain,
                     n < sizeof(buf) - 1 ? sizeof(buf) - 1 - n : sizeof(drain))) > 0 ||
           (r < 0 && errno == EINTR))
        if (r > 0 && n < sizeof(buf) - 1)
            n += (size_t)r;
    buf[n] = 0;
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return NULL;
    json_t *doc = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
    if (doc && !json_is_number(json_object_get(doc, "return_mean"))) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

// the first and the last data row of a CSV file in the run directory (either may be "")
static void csv_ends(const char *dir, const char *name, char *first, char *last, size_t len)
{
    char path[CONFIG_STR + 64], line[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    first[0] = last[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    for (int i = 0; fgets(line, sizeof(line), f); i++) {
        if (i == 0)
            continue; /* header */
        line[strcspn(line, "\n")] = 0;
        if (!first[0])
            snprintf(first, len, "%s", line);
        snprintf(last, len, "%s", line);
    }
    fclose(f);
}

/* the final evaluation in the run's TensorBoard files too (a new event file: the learner's is
 * closed), under the learner's tags */
static void final_eval_events(struct launcher *L, double steps, double ret, double sd, double len)
{
    char e[512];
    struct tblog *tb = tblog_open(L->dir, e, sizeof(e));
    if (!tb) {
        fprintf(stderr, "rldt run: no TensorBoard event for the final evaluation: %s\n", e);
        return;
    }
    tblog_scalar(tb, "eval/return", (int64_t)steps, ret);
    tblog_scalar(tb, "eval/return_std", (int64_t)steps, sd);
    tblog_scalar(tb, "eval/length", (int64_t)steps, len);
    tblog_close(&tb);
}

/*
 * The finished run's final policy, evaluated on its newest checkpoint the way the run's
 * evaluator does (deterministically unless eval_stochastic; the evaluator reports only at
 * eval_every boundaries): appended to eval.csv (wall-clock, env steps and policy version of the
 * learner's last metrics row) and printed beside the first evaluation of the run.
 */
static void final_eval(struct launcher *L)
{
    char ckpt[CONFIG_STR + 320];
    if (newest_ckpt(L->dir, ckpt, sizeof(ckpt)) < 0)
        return;
    fprintf(stderr, "rldt run: evaluating the final policy (%d episodes, %s)...\n",
            L->c.eval_episodes, L->c.eval_stochastic ? "stochastic" : "deterministic");
    json_t *doc = eval_ckpt(L, ckpt);
    if (!doc) {
        fprintf(stderr, "rldt run: the final evaluation failed; see %s/eval.log\n", L->dir);
        return;
    }
    double ret = json_number_value(json_object_get(doc, "return_mean"));
    double sd = json_number_value(json_object_get(doc, "return_std"));
    double len = json_number_value(json_object_get(doc, "length_mean"));
    double succ = json_number_value(json_object_get(doc, "success_rate"));
    json_decref(doc);
    char first[4096], last[4096], mfirst[4096], mlast[4096];
    csv_ends(L->dir, "eval.csv", first, last, sizeof(first));
    csv_ends(L->dir, "metrics.csv", mfirst, mlast, sizeof(mfirst));
    double wall = 0, steps = 0, ver = 0;
    if (mlast[0]) /* wall_s,env_steps,chunk_steps,updates,policy_version,... */
        sscanf(mlast, "%lf,%lf,%*f,%*f,%lf", &wall, &steps, &ver);
    char path[CONFIG_STR + 32];
    snprintf(path, sizeof(path), "%s/eval.csv", L->dir);
    FILE *f = fopen(path, "a");
    if (f) {
        if (!first[0] && !last[0] && ftell(f) == 0)
            fprintf(f, "wall_s,env_steps,policy_version,return_mean,return_std,length_mean,"
                       "success_rate\n");
        fprintf(f, "%.3f,%.0f,%.0f,%.3f,%.3f,%.1f,%.4f\n", wall, steps, ver, ret, sd, len, succ);
        fclose(f);
    }
    final_eval_events(L, steps, ret, sd, len);
    double w0, s0, v0, r0;
    if (first[0] && sscanf(first, "%lf,%lf,%lf,%lf", &w0, &s0, &v0, &r0) == 4)
        fprintf(stderr,
                "rldt run: eval return %.1f at start (%.0f env steps) -> %.1f +- %.1f at "
                "end (%.0f env steps, %s)\n",
                r0, s0, ret, sd, steps, ckpt);
    else
        fprintf(stderr, "rldt run: eval return %.1f +- %.1f at end (%.0f env steps, %s)\n", ret, sd,
                steps, ckpt);
}

// ---- checks before any process starts -------------------------------------------------

/* the stats address can be bound here (host resolves, port free) */
static int check_stats_addr(struct launcher *L)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    const char *host = strcmp(L->host, "*") ? L->host : NULL;
    int g = getaddrinfo(host, L->port, &hints, &ai);
    if (g != 0) {
        fprintf(stderr, "rldt run: stats address %s: %s\n", L->c.stats, gai_strerror(g));
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    int one = 1, rc = fd < 0 ? -errno : 0;
    if (!rc)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (!rc && bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        rc = -errno;
    if (rc)
        fprintf(stderr, "rldt run: stats address %s cannot be bound: %s\n", L->c.stats,
                strerror(-rc));
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

/*
 * What would make the learner fail at once, reported before anything starts: the stats
 * address and the base policy of RLDT. Input paths become absolute (the processes and a later
 * --resume read config.ini from the run directory). 0 or the exit code.
 */
static int preflight(struct launcher *L)
{
    char err[512];
    if (config_resolve_paths(&L->c, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "rldt run: %s\n", err);
        return 2;
    }
    if (L->c.actors > MAX_ACTORS) {
        fprintf(stderr, "rldt run: at most %d actors on one host (--actors=%d)\n", MAX_ACTORS,
                L->c.actors);
        return 2;
    }
    if (!L->c.stats[0] ||
        !statsc_split(L->c.stats, "5558", L->host, sizeof(L->host), L->port, sizeof(L->port))) {
        fprintf(stderr, "rldt run: needs the stats socket (--stats=ADDR:PORT) for progress\n");
        return 2;
    }
    if (check_stats_addr(L) < 0)
        return 2;
    bool flow = !strncmp(L->c.algo, "rldt", 4) || !strcmp(L->c.algo, "reinflow");
    if (flow && access(L->c.base_policy, R_OK) != 0) {
        fprintf(stderr, "rldt run: base_policy %s: %s (%s fine-tunes a pre-trained flow policy)\n",
                L->c.base_policy[0] ? L->c.base_policy : "(not set)",
                L->c.base_policy[0] ? strerror(errno) : "required", L->c.algo);
        if (L->c.resume && L->c.base_policy[0]) /* a run directory moved, or its policy did */
            fprintf(stderr, "rldt run: resuming still reads the base policy (shapes, bounds); "
                            "if it moved, give --base-policy=FILE (the checkpoint's weights "
                            "are kept)\n");
        return 2;
    }
    return 0;
}

/* a resumed run whose learner came up: its config.ini.next becomes config.ini */
static int commit_config(struct launcher *L)
{
    char final[CONFIG_STR + 32];
    snprintf(final, sizeof(final), "%s/config.ini", L->dir);
    if (rename(L->cfg_path, final) < 0) {
        fprintf(stderr, "rldt run: cannot replace %s: %s\n", final, strerror(errno));
        return -errno;
    }
    snprintf(L->cfg_path, sizeof(L->cfg_path), "%s", final);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    struct launcher L;
    memset(&L, 0, sizeof(L));
    int rc =
        config_cli(&L.c, "rldt run", "rldt run [--config=FILE] [--key=value ...]",
                   "run,env,net,learner,actor,train,sac,flow,rldt,auth", argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    /* --resume continues the run as it was configured: its saved config.ini first, then
     * whatever is given now (a --config file, flags) on top */
    char saved[CONFIG_STR + 32], opt[CONFIG_STR + 48];
    snprintf(saved, sizeof(saved), "%s/config.ini", L.c.run_dir);
    if (L.c.resume && L.c.run_dir[0] && access(saved, R_OK) == 0) {
        char **av = calloc((size_t)argc + 2, sizeof(*av));
        if (!av)
            return 1;
        snprintf(opt, sizeof(opt), "--config=%s", saved);
        av[0] = argv[0];
        av[1] = opt;
        for (int i = 1; i < argc; i++)
            av[i + 1] = argv[i];
        rc = config_cli(&L.c, "rldt run", "rldt run [--config=FILE] [--key=value ...]",
                        "run,env,net,learner,actor,train,sac,flow,rldt,auth", argc + 1, av, NULL,
                        NULL);
        free(av);
        if (rc)
            return rc == 1 ? 0 : 2;
        fprintf(stderr, "rldt run: resuming with %s (settings given now override it)\n", saved);
    }
    if ((rc = preflight(&L)) != 0)
        return rc;
    if (cmd_beside_exe(L.bin, sizeof(L.bin), NULL) < 0 || prepare_dir(&L) < 0)
        return 1;
    L.tty = isatty(STDERR_FILENO);
    rl_stop_on_signals();
    fprintf(stderr, "rldt run: %s on %s, %d actor(s) x %d envs, up to %lld env steps; run dir %s\n",
            L.c.algo, L.c.env, L.c.actors, L.c.num_envs, (long long)L.c.max_env_steps, L.dir);
    double t0 = rl_now();
    int status = 0;
    L.learner = spawn(&L, "rldt-learner", "learner.stderr", NULL, NULL);
    int up = L.learner < 0 ? -ECHILD : wait_learner(&L, &status);
    /* a resumed run whose budget was already reached: the learner checkpoints and exits at once */
    bool ended = up == -ECHILD && L.learner == 0 && WIFEXITED(status) && !WEXITSTATUS(status);
    if (up < 0 && !ended) {
        fprintf(stderr, "rldt run: the learner did not come up; its log (%s/log.txt):\n", L.dir);
        tail_log(L.dir, "log.txt");
        tail_log(L.dir, "learner.stderr");
        stop_all(&L, SIGKILL);
        wait_all(&L, 2, &status);
        if (L.c.resume)
            unlink(L.cfg_path); /* the run's config.ini stays as it was */
        return 1;
    }
    if (L.c.resume && commit_config(&L) < 0)
        return 1;
    if (ended)
        fprintf(stderr, "rldt run: the learner ended at once (the run had reached its budget)\n");
    L.n = ended ? 0 : L.c.actors + (L.c.eval_every > 0);
    for (int i = 0; i < L.n; i++)
        L.actor[i] = spawn_actor(&L, i);
    double last = 0, last_plot = rl_now(); /* [tb] curve.png every CURVE_SECS */
    int sent = 0;
    bool actors_failed = false;
    while (L.learner) {
        if (rl_stop_signals && !sent) {
            fprintf(stderr, "\nrldt run: stopping (final checkpoint)...\n");
            stop_all(&L, SIGTERM); /* the learner checkpoints and tells actors to stop */
            sent = 1;
        } else if (rl_stop_signals > 1 && sent == 1) {
            fprintf(stderr, "rldt run: second interrupt: killing\n");
            stop_all(&L, SIGKILL);
            sent = 2;
        }
        if (reap(&L, &status))
            break;
        if (!sent && no_collectors(&L)) {
            fprintf(stderr,
                    "\nrldt run: every actor exited with an error and %d restarts are used up; "
                    "stopping. The last actor's log (%s/actor-0.log):\n",
                    RESPAWN_LIMIT, L.dir);
            tail_log(L.dir, "actor-0.log");
            stop_all(&L, SIGTERM);
            sent = 1;
            actors_failed = true;
        }
        if (rl_now() - last >= (L.tty ? 1.0 : 10.0)) {
            progress(&L, t0, false);
            last = rl_now();
        }
        if (rl_now() - last_plot >= CURVE_SECS) { /* [tb] quiet: there may be no rows yet */
            char e[512];
            curve_draw(L.dir, NULL, NULL, e, sizeof(e));
            last_plot = rl_now();
        }
        rl_sleep(REAP_SECS);
    }
    // the learner is gone: actors stop on its stop message; make sure of it
    wait_all(&L, 5, &status);
    stop_all(&L, SIGTERM);
    wait_all(&L, 3, &status);
    stop_all(&L, SIGKILL);
    wait_all(&L, 1, &status);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !actors_failed;
    fprintf(stderr, "%srldt run: %s after %.0fs; run dir %s\n", L.tty ? "\n" : "",
            actors_failed     ? "actors failed"
            : !ok             ? "learner failed"
            : rl_stop_signals ? "stopped"
                              : "finished",
            rl_now() - t0, L.dir);
    if (ok && !rl_stop_signals && L.c.eval_every > 0)
        final_eval(&L);
    redraw_curve(&L); /* [tb] */
    if (!ok)
        tail_log(L.dir, "log.txt");
    return !ok ? 1 : rl_stop_signals ? 128 + SIGINT : 0; /* 130 after Ctrl-C, as shells report */
}
