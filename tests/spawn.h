/*
 * spawn.h — what the tests that start real rldt-learner / rldt-actor processes share: the four
 * loopback port flags, a logged posix_spawn, a bounded wait for exit, /stats reads and a small
 * hand-made segment to send to a learner.
 * Header-only like harness.h (static inline: a test uses what it needs). Not thread-safe.
 */
#ifndef RL_TEST_SPAWN_H
#define RL_TEST_SPAWN_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deploy/rldt/statsc.h"
#include "common/util.h"
#include "proto/wire.h"
#include "tests/harness.h"

extern char **environ;

#define SPAWN_POLL_SECS 0.02 /* how often spawn_wait looks at the child */

/* The folder of the built programs: $RLDT_ROOT/$BUILD (defaults . and build). */
static inline void spawn_bin_dir(char *out, size_t n)
{
    const char *root = getenv("RLDT_ROOT"), *b = getenv("BUILD");
    snprintf(out, n, "%s/%s", root ? root : ".", b ? b : "build");
}

/* The first of n consecutive TCP ports free on 127.0.0.1 (below the ephemeral range), tried
 * from a start that depends on the pid, so tests running at the same time pick apart. */
static inline int spawn_free_ports(int n)
{
    int first = 20000 + (int)(getpid() % 1000) * 12;
    for (int tries = 0; tries < 50; tries++, first = 20000 + (first - 20000 + 4 * n) % 12000) {
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in a = {.sin_family = AF_INET,
                                    .sin_port = htons((uint16_t)(first + i))};
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
            if (fd >= 0)
                close(fd);
        }
        if (ok)
            return first;
    }
    return first;
}

/* SIGKILL and reap every pid of pids[0..n) that is still running (0 or negative: skipped). */
static inline void spawn_kill_all(const pid_t *pids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
}

/* The flags of a learner on base..base+3: control, data, params and the stats socket. */
static inline void spawn_port_flags(char flags[4][64], int base)
{
    snprintf(flags[0], 64, "--control-port=%d", base);
    snprintf(flags[1], 64, "--data-port=%d", base + 1);
    snprintf(flags[2], 64, "--params-port=%d", base + 2);
    snprintf(flags[3], 64, "--stats=127.0.0.1:%d", base + 3);
}

#define SPAWN_MAX_ARGS 48 /* argv entries spawn_tiny_sac fills at most (NULL included) */

/*
 * argv for a tiny SAC run of path on the learner ports from base: hopper, 32-wide networks, a
 * 200-step warm-up, a checkpoint every second, heartbeats every 0.2 s; then the nmore flags of
 * more (borrowed; NULL entries are skipped) and a NULL. argv has SPAWN_MAX_ARGS entries; ports
 * and rd (a --run-dir=... flag) are the caller's buffers.
 */
static inline void spawn_tiny_sac(char **argv, const char *path, char ports[4][64], int base,
                                  const char *rd, const char *const *more, int nmore)
{
    static const char *const tiny[] = {"--algo=sac",
                                       "--env=hopper",
                                       "--chunk=1",
                                       "--sac-hidden=32",
                                       "--num-envs=2",
                                       "--min-replay=200",
                                       "--warmup-steps=200",
                                       "--batch-size=64",
                                       "--publish-every=5",
                                       "--checkpoint-secs=1",
                                       "--heartbeat-secs=0.2",
                                       "--segment-len=16",
                                       "--updates-per-step=0.5",
                                       "--log-level=info"};
    int n = 0;
    argv[n++] = (char *)path;
    for (size_t i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++)
        argv[n++] = (char *)tiny[i];
    spawn_port_flags(ports, base);
    for (int i = 0; i < 4; i++)
        argv[n++] = ports[i];
    argv[n++] = (char *)rd;
    for (int i = 0; i < nmore && n < SPAWN_MAX_ARGS - 1; i++)
        if (more[i])
            argv[n++] = (char *)more[i];
    argv[n] = NULL;
}

/* The header and last row of a CSV file; its number of lines, -1 if unread. */
static inline int spawn_csv_tail(const char *path, char *head, char *tail, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    int rows = 0;
    head[0] = tail[0] = 0;
    while (fgets(line, sizeof(line), f))
        snprintf(rows++ ? tail : head, n, "%s", line);
    fclose(f);
    return rows;
}

/* The value of column name in a CSV row with that header; NAN when there is none. */
static inline double spawn_csv_get(const char *head, const char *row, const char *name)
{
    char h[4096], r[4096], *hs, *rs;
    snprintf(h, sizeof(h), "%s", head);
    snprintf(r, sizeof(r), "%s", row);
    for (char *k = strtok_r(h, ",\n", &hs), *v = strtok_r(r, ",\n", &rs); k && v;
         k = strtok_r(NULL, ",\n", &hs), v = strtok_r(NULL, ",\n", &rs))
        if (!strcmp(k, name))
            return strtod(v, NULL);
    return NAN;
}

/*
 * A trained run's metrics.csv (in run_dir): at least 3 lines, min_critic critic and min_actor
 * actor steps in the last row (printed), no actor step skipped, and the n named columns finite
 * there.
 */
static inline void spawn_check_metrics(const char *run_dir, double min_critic, double min_actor,
                                       const char *const *keys, size_t n)
{
    char path[1100], head[4096], tail[4096];
    snprintf(path, sizeof(path), "%s/metrics.csv", run_dir);
    T_CHECK(spawn_csv_tail(path, head, tail, sizeof(head)) >= 3);
    double critic = spawn_csv_get(head, tail, "critic_steps");
    double actor = spawn_csv_get(head, tail, "actor_steps");
    T_CHECK_MSG(critic >= min_critic && actor >= min_actor, "critic steps %g, actor steps %g",
                critic, actor);
    T_EQ_INT((int)spawn_csv_get(head, tail, "actor_skipped"), 0);
    fprintf(stderr, "  critic steps %g, actor steps %g\n", critic, actor);
    for (size_t i = 0; i < n; i++)
        T_CHECK_MSG(isfinite(spawn_csv_get(head, tail, keys[i])), "%s", keys[i]);
}

/* The newest checkpoint file of run directory run_dir into out ("" when it has none). */
static inline char *spawn_latest_checkpoint(const char *run_dir, char *out, size_t n)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "ls -1 %s/checkpoints/ckpt-*.rldt 2>/dev/null | tail -n 1", run_dir);
    FILE *p = popen(cmd, "r");
    out[0] = 0;
    if (p) {
        if (fgets(out, (int)n, p))
            out[strcspn(out, "\n")] = 0;
        pclose(p);
    }
    return out;
}

/*
 * The end of a test that ran processes in dir: when it failed, the last n lines of its logs
 * (file names or shell patterns relative to dir, e.g. "*.log"); then dir is removed. 0, or 1
 * when it cannot be.
 */
static inline int spawn_cleanup(const char *dir, const char *logs, int n, bool failed)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "cd %s && tail -n %d %s", dir, n, logs);
    if (failed && system(cmd) != 0)
        fprintf(stderr, "no logs\n");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) != 0;
}

/* Start path with argv (NULL-terminated), stdout and stderr appended to logp. pid or -1. */
static inline pid_t spawn_logged(const char *path, char **argv, const char *logp)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

/* A TCP connection to 127.0.0.1:port with Nagle off (requests go out at once): the fd, or -1
 * when the connect fails. */
static inline int spawn_dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Wait for pid to exit within secs (stretched by t_slow() in slow builds): its wait status, -1 on
 * time-out, -2 if waitpid fails. */
static inline int spawn_wait(pid_t pid, double secs)
{
    double until = rl_now() + t_slow(secs);
    int st;
    while (rl_now() < until) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0)
            return -2;
        rl_sleep(SPAWN_POLL_SECS);
    }
    return -1;
}

/* GET /stats of the learner whose stats socket is 127.0.0.1:port. Caller owns (json_decref);
 * NULL when it does not answer within a second. */
static inline json_t *spawn_stats(const char *port)
{
    char err[256];
    return statsc_fetch("127.0.0.1", port, 1.0, err, sizeof(err));
}

/* The number at key of a stats document, "a.b" for a member of an object (0 when absent).
 * Nullable: doc. */
static inline double spawn_num(json_t *doc, const char *key)
{
    const char *dot = strchr(key, '.');
    if (!dot)
        return json_number_value(json_object_get(doc, key));
    char head[64];
    snprintf(head, sizeof(head), "%.*s", (int)(dot - key), key);
    return spawn_num(json_object_get(doc, head), dot + 1);
}

/* Poll the stats of port every 0.1 s until the number at key (as spawn_num) is >= value, or
 * secs passed: the last document read (caller owns, json_decref), NULL when none answered. */
static inline json_t *spawn_wait_doc(const char *port, const char *key, double value, double secs)
{
    double until = rl_now() + secs;
    json_t *d = NULL;
    while (rl_now() < until) {
        json_t *next = spawn_stats(port);
        if (next) {
            json_decref(d);
            d = next;
            if (spawn_num(d, key) >= value)
                break;
        }
        rl_sleep(0.1);
    }
    return d;
}

/* spawn_wait_doc's last value at key (-1 when the learner never answered). */
static inline double spawn_wait_stat(const char *port, const char *key, double value, double secs)
{
    json_t *d = spawn_wait_doc(port, key, value, secs);
    double v = d ? spawn_num(d, key) : -1;
    json_decref(d);
    return v;
}

/* A Hello as an actor of one Hopper env sends it (pid 1, chunk 1, no known epoch); name borrowed.
 */
static inline struct wire_msg spawn_hello(const char *name, bool evaluator)
{
    struct wire_msg m = {.type = WIRE_HELLO};
    m.hello = (struct wire_hello){.name = name,
                                  .pid = 1,
                                  .num_envs = 1,
                                  .task = "hopper",
                                  .obs_dim = 11,
                                  .act_dim = 3,
                                  .chunk_h = 1,
                                  .known_epoch = 0,
                                  .evaluator = evaluator};
    return m;
}

/* The arrays behind spawn_tiny_segment's message (the caller's, zeroed: rewards are set). */
struct spawn_seg {
    float obs[3 * 11], act[2 * 3], rew[2];
    uint32_t steps[2];
    uint8_t flags[2];
};

/* A valid-looking segment of 2 Hopper chunk steps (obs 11, D 3; run epoch 1, actor 1, seq 1)
 * over st's arrays (borrowed: st must outlive the message). */
static inline struct wire_msg spawn_tiny_segment(struct spawn_seg *st)
{
    *st = (struct spawn_seg){.rew = {1, 1}, .steps = {1, 1}};
    struct wire_msg m = {.type = WIRE_SEGMENT};
    m.segment = (struct wire_segment){.run_epoch = 1,
                                      .actor_id = 1,
                                      .seq = 1,
                                      .T = 2,
                                      .obs_dim = 11,
                                      .D = 3,
                                      .obs = st->obs,
                                      .actions = st->act,
                                      .rewards = st->rew,
                                      .steps = st->steps,
                                      .terminal = st->flags,
                                      .truncated = st->flags};
    return m;
}

#endif
