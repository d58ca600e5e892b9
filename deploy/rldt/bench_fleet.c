/*
 * bench_fleet.c — `rldt bench fleet --actors=N`: N simulated actors (fleet_sim.h: real sockets
 * and messages, fake physics) against one real rldt-learner on loopback, spawned here. The
 * learner does not train; it broadcasts the policy's weights every publish_secs (stamped with
 * the publish time), ingests every segment and answers every heartbeat. Measured: broadcast
 * latency (publish -> receipt) p50/p99, ingest (segments and chunk steps/s against what the
 * actors offered), learner CPU per actor, learner RSS and memory per connection (RSS with N
 * actors against RSS before any), and lost messages (segments sent against accepted +
 * rejected, params broadcasts each actor missed).
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/config.h"
#include "common/task.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"
#include "deploy/rldt/fleet_sim.h"
#include "deploy/rldt/statsc.h"

#define FLEET_PER_PROC 64     /* simulated actors per process */
#define FLEET_REPLAY 1024     /* the learner's replay (chunk steps): small, so RSS is connections */
#define FLEET_FDS_PER_ACTOR 3 /* TCP connections per actor at the learner */

struct fleet {
    const struct rl_config *c;
    char host[256], port[16];
    pid_t learner;
    int nproc; /* simulated-actor processes now */
    int procs; /* ... of the learner phase (reported) */
    pid_t *sims;
    FILE **out;
    double t0, w0, w1; /* wall times: start, measurement window */
    double publish_secs;
    double secs; /* window length */
};

// what one run measured
struct fleet_result {
    struct fleet_sim_totals tot;
    double seg_rate, offered_rate;     /* segments/s accepted in the window, and sent */
    double accepted, rejected;         /* segments, over the whole run */
    double cpu_learner, cpu_sims;      /* cores used in the window */
    double cpu_zmq;                    /* of it: the learner's ZeroMQ I/O thread */
    double cpu_idle;                   /* the learner's cores before any actor */
    long rss0_kb, rss_kb, hwm_kb;      /* learner RSS before actors, with N, peak */
    double p50, p99, pmax;             /* broadcast latency, ms */
    long broadcasts, receipts, missed; /* in the window */
    int alive;                         /* actors with a recent heartbeat at the window's end */
    uint64_t params_bytes;
};

// the shipped base policy of the task (deploy/policies/<env>.rldt next to the build directory,
// or share/rldt/policies in an install) into c->base_policy
static int find_policy(struct rl_config *c)
{
    const char *where[] = {"../deploy/policies", "../share/rldt/policies"};
    for (size_t i = 0; i < RL_ARRAY_LEN(where); i++) {
        char name[CONFIG_STR + 64], path[PATH_MAX + 64];
        snprintf(name, sizeof(name), "%s/%s.rldt", where[i], c->env);
        if (cmd_beside_exe(path, sizeof(path), name) == 0 && access(path, R_OK) == 0 &&
            strlen(path) < sizeof(c->base_policy)) {
            memcpy(c->base_policy, path, strlen(path) + 1);
            return 0;
        }
    }
    return -ENOENT;
}

static int raise_nofile(int n)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return -errno;
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
    // the learner: 3 connections per actor; one simulated-actor process: 3 connections and 3
    // socket mailboxes per actor
    rlim_t need = (rlim_t)FLEET_FDS_PER_ACTOR * n + 256;
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < need) {
        fprintf(stderr,
                "rldt bench fleet: the file-descriptor limit is %llu (hard), %d actors need about "
                "%llu at the learner; raise it (ulimit -Hn, or LimitNOFILE) or use fewer actors\n",
                (unsigned long long)r.rlim_cur, n, (unsigned long long)need);
        return -EMFILE;
    }
    return 0;
}

static pid_t spawn_learner(const struct fleet *f)
{
    const struct rl_config *c = f->c;
    char path[PATH_MAX + 32];
    if (cmd_beside_exe(path, sizeof(path), "rldt-learner") < 0)
        return -1;
    char a[16][CONFIG_STR + 48];
    int n = 0;
    snprintf(a[n++], sizeof(a[0]), "--control-port=%d", c->control_port);
    snprintf(a[n++], sizeof(a[0]), "--data-port=%d", c->data_port);
    snprintf(a[n++], sizeof(a[0]), "--params-port=%d", c->params_port);
    snprintf(a[n++], sizeof(a[0]), "--stats=%s", c->stats);
    snprintf(a[n++], sizeof(a[0]), "--env=%s", c->env);
    snprintf(a[n++], sizeof(a[0]), "--algo=%s", c->algo);
    snprintf(a[n++], sizeof(a[0]), "--chunk=%d", c->chunk);
    snprintf(a[n++], sizeof(a[0]), "--replay-size=%d", FLEET_REPLAY);
    snprintf(a[n++], sizeof(a[0]), "--publish-secs=%g", f->publish_secs);
    if (c->base_policy[0])
        snprintf(a[n++], sizeof(a[0]), "--base-policy=%s", c->base_policy);
    snprintf(a[n++], sizeof(a[0]), "--heartbeat-secs=%g", c->heartbeat_secs);
    snprintf(a[n++], sizeof(a[0]), "--actor-timeout=%g", c->actor_timeout);
    snprintf(a[n++], sizeof(a[0]), "--seed=%lld", (long long)c->seed);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[32] = {path};
        for (int i = 0; i < n; i++)
            argv[i + 1] = a[i];
        // no training: the random warm-up never ends, and nothing holds ingest back
        char *fixed[] = {"--min-replay=256",
                         "--updates-per-step=0",
                         "--warmup-steps=1000000000000000",
                         "--log-level=warn",
                         "--max-env-steps=1000000000000000",
                         NULL};
        for (int i = 0; fixed[i]; i++)
            argv[n + 1 + i] = fixed[i];
        execv(path, argv);
        _exit(127);
    }
    return pid;
}

// utime + stime of a /proc stat file, seconds; *zmq: whether the thread is ZeroMQ's
static double stat_cpu(const char *path, bool *zmq)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
    fclose(f);
    if (zmq)
        *zmq = strstr(line, "(ZMQbg") != NULL;
    unsigned long ut = 0, st = 0;
    // after the name: state (field 3) ... utime (14), stime (15)
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double proc_cpu(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    return stat_cpu(path, NULL);
}

// CPU seconds of the process's ZeroMQ I/O threads (sockets: the broadcast's copies, receives)
static double zmq_cpu(pid_t pid)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    double s = 0;
    while (d && (e = readdir(d))) {
        bool z = false;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%.20s/stat", (int)pid, e->d_name);
        double c = stat_cpu(path, &z);
        s += z ? c : 0;
    }
    if (d)
        closedir(d);
    return s;
}

static long proc_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, n))
            kb = strtol(line + n, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static double sims_cpu(const struct fleet *f)
{
    double s = 0;
    for (int i = 0; i < f->nproc; i++)
        s += proc_cpu(f->sims[i]);
    return s;
}

// /stats: a number, or -1 when unreachable; *alive gets actors with a recent heartbeat
static double stat_num(const struct fleet *f, const char *key, int *alive)
{
    char err[256];
    json_t *d = statsc_fetch(f->host, f->port, 2.0, err, sizeof(err));
    double v = d ? json_number_value(json_object_get(d, key)) : -1;
    json_t *arr = d ? json_object_get(d, "actors") : NULL;
    size_t i;
    json_t *a;
    if (alive)
        *alive = 0;
    json_array_foreach(arr, i, a)
    {
        double age = json_number_value(json_object_get(a, "heartbeat_age_s"));
        if (alive && json_is_number(json_object_get(a, "heartbeat_age_s")) &&
            age < 3 * f->c->heartbeat_secs)
            (*alive)++;
    }
    json_decref(d);
    return v;
}

// close the result files of the last set of simulated-actor processes
static void reset_sims(struct fleet *f)
{
    for (int p = 0; f->out && p < f->nproc; p++)
        if (f->out[p])
            fclose(f->out[p]);
    free(f->sims), free(f->out);
    f->sims = NULL, f->out = NULL, f->nproc = 0;
}

static int start_sims(struct fleet *f, int n, double sps, double until, int raw_port)
{
    reset_sims(f);
    f->nproc = (n + FLEET_PER_PROC - 1) / FLEET_PER_PROC;
    f->sims = calloc((size_t)f->nproc, sizeof(*f->sims));
    f->out = calloc((size_t)f->nproc, sizeof(*f->out));
    if (!f->sims || !f->out)
        return -ENOMEM;
    fflush(stdout), fflush(stderr);
    for (int p = 0; p < f->nproc; p++) {
        if (!(f->out[p] = tmpfile()))
            return -errno;
        int first = p * n / f->nproc, last = (p + 1) * n / f->nproc;
        struct fleet_sim_config sc = {.c = f->c,
                                      .first = first,
                                      .n = last - first,
                                      .sps = sps,
                                      .window = f->w0,
                                      .send_until = f->w1,
                                      .until = until,
                                      .out_fd = fileno(f->out[p]),
                                      .raw_port = raw_port};
        pid_t pid = fork();
        if (pid == 0)
            _exit(fleet_sim_run(&sc) < 0 ? 1 : 0);
        if (pid < 0)
            return -errno;
        f->sims[p] = pid;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// read the processes' totals and receipts; latency and misses of broadcasts inside the window
static int collect(const struct fleet *f, int n, struct fleet_result *r)
{
    struct fleet_receipt *rec = NULL;
    size_t nrec = 0;
    for (int p = 0; p < f->nproc; p++) {
        struct fleet_sim_totals t;
        rewind(f->out[p]);
        if (fread(&t, sizeof(t), 1, f->out[p]) != 1) {
            fprintf(stderr, "rldt bench fleet: simulated-actor process %d reported nothing\n", p);
            free(rec);
            return -EIO;
        }
        uint64_t *dst = (uint64_t *)&r->tot, *src = (uint64_t *)&t;
        for (size_t k = 0; k < sizeof(t) / sizeof(uint64_t); k++)
            dst[k] += src[k];
        r->params_bytes = t.params_bytes > r->params_bytes ? t.params_bytes : r->params_bytes;
        struct fleet_receipt *g = realloc(rec, (nrec + t.nrec + 1) * sizeof(*rec));
        if (!g || fread(g + nrec, sizeof(*g), t.nrec, f->out[p]) != t.nrec) {
            free(g ? g : rec);
            return -EIO;
        }
        rec = g, nrec += t.nrec;
    }
    double *lat = malloc((nrec + 1) * sizeof(double));
    uint64_t vmin = UINT64_MAX, vmax = 0;
    long k = 0;
    for (size_t i = 0; lat && i < nrec; i++) {
        double pub = (double)rec[i].publish_ns * 1e-9;
        if (pub < f->w0 || pub > f->w1)
            continue;
        lat[k++] = ((double)rec[i].recv_ns - (double)rec[i].publish_ns) * 1e-6;
        vmin = RL_MIN(vmin, rec[i].version), vmax = RL_MAX(vmax, rec[i].version);
    }
    if (lat && k) {
        qsort(lat, (size_t)k, sizeof(double), cmp_double);
        r->p50 = lat[k / 2], r->p99 = lat[(long)(0.99 * (double)(k - 1))], r->pmax = lat[k - 1];
        r->broadcasts = (long)(vmax - vmin + 1);
    }
    r->receipts = k;
    r->missed = r->broadcasts * n - k;
    free(lat);
    free(rec);
    return 0;
}

// params bytes per second that reached the SUB sockets in the window
static double mbps(const struct fleet *f, const struct fleet_result *r,
                   const struct fleet_result *which)
{
    return (double)which->receipts * (double)r->params_bytes / 1e6 / f->secs;
}

// learner CPU seconds per stored segment in the window, beyond its idle cost (0 if none)
static double cpu_per_segment(const struct fleet_result *r)
{
    double busy = r->cpu_learner - r->cpu_idle;
    return r->seg_rate > 0 && busy > 0 ? busy / r->seg_rate : 0;
}

// actors one learner core serves at fleet_sps each, from the CPU per segment (0 if unknown)
static double actors_per_core(const struct rl_config *c, const struct fleet_result *r)
{
    double per_actor = c->fleet_sps / ((double)c->segment_len * c->chunk); /* segments/s */
    return cpu_per_segment(r) > 0 ? 1 / (cpu_per_segment(r) * per_actor) : 0;
}

static void print_table(const struct rl_config *c, const struct fleet *f,
                        const struct fleet_result *r, const struct fleet_result *raw)
{
    int n = c->actors, T = c->segment_len;
    double mb = (double)r->params_bytes / 1e6;
    printf("rldt bench fleet: %d simulated actors in %d processes, %s %s (chunk %d, T=%d), "
           "%.0f env steps/s each, params %.2f MB every %.2g s, window %.1f s\n",
           n, f->procs, c->algo, c->env, c->chunk, T, c->fleet_sps, mb, f->publish_secs,
           f->w1 - f->w0);
    printf("%-28s %s\n", "figure", "value");
    printf(
        "%-28s %lld Welcomes for %d actors (alive at the end %d, refused %llu)%s\n", "registered",
        (long long)r->tot.registered, n, r->alive, (unsigned long long)r->tot.refused,
        r->tot.registered > (uint64_t)n ? "; the learner expired some, they registered again" : "");
    printf("%-28s p50 %.1f ms, p99 %.1f ms, max %.1f ms (%ld receipts of %ld broadcasts; "
           "p99/goal 200 ms = %.2f); %.0f MB/s delivered\n",
           "broadcast latency", r->p50, r->p99, r->pmax, r->receipts, r->broadcasts, r->p99 / 200.0,
           mbps(f, r, r));
    printf("%-28s p50 %.1f ms, p99 %.1f ms, max %.1f ms, missed %ld of %ld (bare PUB, same "
           "size and SUBs; learner/raw p99 = %.2f)\n",
           "raw zeromq broadcast", raw->p50, raw->p99, raw->pmax, raw->missed, raw->broadcasts * n,
           raw->p99 > 0 ? r->p99 / raw->p99 : 0);
    printf("%-28s %.0f segments/s = %.0f chunk steps/s stored; offered %.0f segments/s "
           "(ratio %.3f)\n",
           "ingest", r->seg_rate, r->seg_rate * T, r->offered_rate,
           r->offered_rate > 0 ? r->seg_rate / r->offered_rate : 0);
    printf("%-28s %.3f cores (ZeroMQ I/O thread %.3f) = %.2f%% of a core per actor; simulated "
           "actors used %.2f cores\n",
           "learner CPU", r->cpu_learner, r->cpu_zmq, 100 * r->cpu_learner / n, r->cpu_sims);
    printf("%-28s %.1f us per stored segment beyond %.3f cores idle (heartbeats, broadcasts "
           "included) = %.0f actors per learner core at %.0f env steps/s each\n",
           "learner CPU per segment", 1e6 * cpu_per_segment(r), r->cpu_idle, actors_per_core(c, r),
           c->fleet_sps);
    double target = n * c->fleet_sps / ((double)c->segment_len * c->chunk);
    if (r->offered_rate < 0.9 * target)
        printf("%-28s the actors sent %.0f of the %.0f segments/s asked (the host is too busy): "
               "fewer, larger batches make the CPU per segment smaller at the full rate\n",
               "note", r->offered_rate, target);
    printf("%-28s %.1f MB before actors, %.1f MB with %d (%.1f kB per actor), peak %.1f MB\n",
           "learner RSS", r->rss0_kb / 1024.0, r->rss_kb / 1024.0, n,
           (double)(r->rss_kb - r->rss0_kb) / n, r->hwm_kb / 1024.0);
    long long behind = (long long)r->tot.segments_due - (long long)r->tot.segments_sent;
    printf("%-28s sent %llu, accepted %.0f, lost %.0f; messages rejected %.0f; behind the rate "
           "%lld (%llu sends refused at the high-water mark, retried)\n",
           "segments", (unsigned long long)r->tot.segments_sent, r->accepted,
           (double)r->tot.segments_sent - r->accepted, r->rejected, behind > 0 ? behind : 0,
           (unsigned long long)r->tot.send_stalls);
    printf("%-28s missed %ld of %ld expected in the window; %llu on SUB, %llu by request\n",
           "params broadcasts", r->missed, r->broadcasts * n, (unsigned long long)r->tot.params_sub,
           (unsigned long long)r->tot.params_req);
    printf("%-28s %llu sent, %llu acked; undecodable messages %llu\n", "heartbeats",
           (unsigned long long)r->tot.heartbeats, (unsigned long long)r->tot.acks,
           (unsigned long long)r->tot.bad_messages);
}

static void print_json(const struct rl_config *c, const struct fleet *f,
                       const struct fleet_result *r, const struct fleet_result *raw)
{
    json_t *o = json_pack(
        "{s:i, s:i, s:s, s:s, s:f, s:f, s:I, s:f, s:I, s:I, s:i, s:f, s:f, s:f, s:I, s:I, s:I, "
        "s:f, s:f}",
        "actors", c->actors, "processes", f->procs, "algo", c->algo, "env", c->env, "window_s",
        f->w1 - f->w0, "actor_sps", c->fleet_sps, "params_bytes", (json_int_t)r->params_bytes,
        "publish_secs", f->publish_secs, "registered", (json_int_t)r->tot.registered, "refused",
        (json_int_t)r->tot.refused, "alive", r->alive, "broadcast_p50_ms", r->p50,
        "broadcast_p99_ms", r->p99, "broadcast_max_ms", r->pmax, "broadcasts",
        (json_int_t)r->broadcasts, "receipts", (json_int_t)r->receipts, "params_missed",
        (json_int_t)r->missed, "segments_per_s", r->seg_rate, "offered_segments_per_s",
        r->offered_rate);
    json_t *o2 = json_pack(
        "{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f, s:I, s:I, s:I, "
        "s:I, s:I, s:I}",
        "chunk_steps_per_s", r->seg_rate * c->segment_len, "learner_cores", r->cpu_learner,
        "learner_us_per_segment", 1e6 * cpu_per_segment(r), "actors_per_learner_core",
        actors_per_core(c, r), "learner_zmq_cores", r->cpu_zmq, "learner_idle_cores", r->cpu_idle,
        "sim_cores", r->cpu_sims, "learner_rss0_mb", r->rss0_kb / 1024.0, "learner_rss_mb",
        r->rss_kb / 1024.0, "rss_kb_per_actor", (double)(r->rss_kb - r->rss0_kb) / c->actors,
        "segments_sent", (json_int_t)r->tot.segments_sent, "segments_accepted", r->accepted,
        "messages_rejected", r->rejected, "segments_lost",
        (double)r->tot.segments_sent - r->accepted, "segments_due", (json_int_t)r->tot.segments_due,
        "send_stalls", (json_int_t)r->tot.send_stalls, "heartbeats", (json_int_t)r->tot.heartbeats,
        "acks", (json_int_t)r->tot.acks, "params_sub", (json_int_t)r->tot.params_sub,
        "bad_messages", (json_int_t)r->tot.bad_messages);
    json_t *o3 = json_pack("{s:f, s:f, s:f, s:I, s:I}", "raw_p50_ms", raw->p50, "raw_p99_ms",
                           raw->p99, "raw_max_ms", raw->pmax, "raw_broadcasts",
                           (json_int_t)raw->broadcasts, "raw_missed", (json_int_t)raw->missed);
    if (o && o2 && o3 && json_object_update(o, o2) == 0 && json_object_update(o, o3) == 0) {
        char *s = json_dumps(o, JSON_COMPACT);
        if (s)
            printf("%s\n", s);
        free(s);
    }
    json_decref(o), json_decref(o2), json_decref(o3);
}

static void stop_all(struct fleet *f)
{
    for (int p = 0; p < f->nproc; p++)
        if (f->sims[p] > 0)
            kill(f->sims[p], SIGTERM), waitpid(f->sims[p], NULL, 0), f->sims[p] = 0;
    if (f->learner > 0)
        kill(f->learner, SIGTERM), waitpid(f->learner, NULL, 0), f->learner = 0;
}

// the learner's segment count once it stops moving (everything sent has arrived), or after 5 s
static double settled_segments(const struct fleet *f, double sent)
{
    double last = -1, v = -1, until = rl_now() + 5;
    while (rl_now() < until) {
        rl_sleep(0.6); /* the stats snapshot is refreshed every 0.5 s */
        v = stat_num(f, "segments", NULL);
        if (v >= sent || (v == last && v >= 0))
            break;
        last = v;
    }
    return v;
}

static int measure(struct fleet *f, struct fleet_result *r)
{
    const struct rl_config *c = f->c;
    int n = c->actors;
    // registrations before the window (slow on a busy host), late broadcasts after it
    double warm = 2 + n / 50.0, drain = 3 + RL_MIN(f->publish_secs, 5.0);
    r->rss0_kb = proc_kb(f->learner, "VmRSS:");
    // the learner's own cost without actors (its loops and timers), taken off per segment
    double i0 = proc_cpu(f->learner), ti = rl_now();
    rl_sleep(1.0);
    r->cpu_idle = (proc_cpu(f->learner) - i0) / (rl_now() - ti);
    f->t0 = rl_wall();
    f->w0 = f->t0 + warm;
    f->w1 = f->w0 + c->secs;
    int rc = start_sims(f, n, c->fleet_sps, f->w1 + drain, 0);
    if (rc < 0)
        return rc;
    rl_sleep(f->w0 - rl_wall());
    double s0 = stat_num(f, "segments", NULL), l0 = proc_cpu(f->learner), a0 = sims_cpu(f);
    double z0 = zmq_cpu(f->learner);
    double t0 = rl_wall();
    rl_sleep(f->w1 - rl_wall());
    double s1 = stat_num(f, "segments", &r->alive), l1 = proc_cpu(f->learner), a1 = sims_cpu(f);
    double z1 = zmq_cpu(f->learner);
    double t1 = rl_wall();
    r->rss_kb = proc_kb(f->learner, "VmRSS:");
    r->seg_rate = (s1 - s0) / (t1 - t0);
    r->cpu_learner = (l1 - l0) / (t1 - t0);
    r->cpu_sims = (a1 - a0) / (t1 - t0);
    r->cpu_zmq = (z1 - z0) / (t1 - t0);
    int bad = 0;
    for (int p = 0; p < f->nproc; p++) {
        int st = 0;
        waitpid(f->sims[p], &st, 0);
        f->sims[p] = 0;
        bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    if (bad) {
        fprintf(stderr, "rldt bench fleet: %d simulated-actor process(es) failed\n", bad);
        return -EIO;
    }
    if ((rc = collect(f, n, r)) < 0)
        return rc;
    f->procs = f->nproc;
    r->offered_rate = (double)r->tot.segments_window / (f->w1 - f->w0);
    r->accepted = settled_segments(f, (double)r->tot.segments_sent);
    r->rejected = stat_num(f, "rejected_total", NULL);
    r->hwm_kb = proc_kb(f->learner, "VmHWM:");
    return 0;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// the reference publisher (a child process): a bare PUB on the params port, the learner's
// send high-water mark, messages of the params' size every publish_secs inside the window
static void raw_publisher(const struct fleet *f, size_t bytes)
{
    void *ctx = zmq_ctx_new();
    void *pub = ctx ? zmq_socket(ctx, ZMQ_PUB) : NULL;
    uint8_t *buf = calloc(bytes, 1);
    char ep[CONFIG_STR + 32];
    snprintf(ep, sizeof(ep), "tcp://%s:%d", f->c->bind_host, f->c->params_port);
    int hwm = 8, linger = 0;
    if (!pub || !buf || zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
        zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof(linger)) != 0 || zmq_bind(pub, ep) != 0)
        _exit(1);
    rl_sleep(f->w0 - rl_wall());
    for (uint64_t v = 1; rl_wall() < f->w1; v++) {
        struct fleet_raw_header h = {v, wall_ns()};
        memcpy(buf, &h, sizeof(h));
        zmq_send(pub, buf, bytes, ZMQ_DONTWAIT);
        rl_sleep(f->publish_secs);
    }
    rl_sleep(3 + RL_MIN(f->publish_secs, 5.0)); /* as long as the SUBs listen */
    _exit(0);
}

// the same fleet's SUB sockets on a bare PUB of the same message size (learner stopped)
static int measure_raw(struct fleet *f, uint64_t bytes, struct fleet_result *r)
{
    int n = f->c->actors;
    f->t0 = rl_wall();
    f->w0 = f->t0 + 2 + n / 50.0;
    f->w1 = f->w0 + f->c->secs;
    fflush(stdout), fflush(stderr);
    pid_t pub = fork();
    if (pub == 0)
        raw_publisher(f, bytes > sizeof(struct fleet_raw_header) ? bytes : 4096);
    if (pub < 0)
        return -errno;
    int rc = start_sims(f, n, f->c->fleet_sps, f->w1 + 3 + RL_MIN(f->publish_secs, 5.0),
                        f->c->params_port);
    for (int p = 0; p < f->nproc; p++)
        if (f->sims[p] > 0)
            waitpid(f->sims[p], NULL, 0), f->sims[p] = 0;
    int st = 0;
    waitpid(pub, &st, 0);
    if (rc == 0 && (!WIFEXITED(st) || WEXITSTATUS(st))) {
        fprintf(stderr, "rldt bench fleet: the reference publisher failed (port in use?)\n");
        rc = -EIO;
    }
    return rc < 0 ? rc : collect(f, n, r);
}

static int wait_learner(struct fleet *f)
{
    double up = rl_now() + 30;
    while (f->learner > 0 && stat_num(f, "uptime_s", NULL) < 0 && rl_now() < up) {
        if (waitpid(f->learner, NULL, WNOHANG) == f->learner) {
            f->learner = 0;
            break;
        }
        rl_sleep(0.1);
    }
    if (f->learner <= 0 || rl_now() >= up) {
        fprintf(stderr, "rldt bench fleet: the learner did not start (ports in use?)\n");
        return -1;
    }
    // the first broadcast is out once policy_version >= 1
    while (stat_num(f, "policy_version", NULL) < 1 && rl_now() < up)
        rl_sleep(0.1);
    return 0;
}

// was --name given on the command line?
static bool given(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], name, strlen(name)))
            return true;
    return false;
}

int bench_fleet(int argc, char **argv)
{
    struct rl_config c;
    int rc = config_cli(
        &c, "rldt bench fleet",
        "rldt bench fleet [--actors=N] [--secs=S] [--env=hopper] [--algo=rldt] [--fleet-sps=R] "
        "[--publish-secs=P] [--json] [ports]\n"
        "  N simulated actors (real sockets and messages, random observations) against one real\n"
        "  rldt-learner on loopback that broadcasts its policy every P seconds (default 1;\n"
        "  rldt-cpu.ini's publish_every = 17 is about 0.4 s at one learner core's ~40 steps/s)",
        "net,bench,-base_policy,-actors,-env,-algo,-chunk,-num_envs,-segment_len,-send_hwm,"
        "-heartbeat_secs,-actor_timeout,-publish_secs,-json,-seed",
        argc, argv, NULL, NULL);
    if (rc)
        return rc == 1 ? 0 : 2;
    // defaults of this bench: rldt, and its chunk (the config resolved sac's)
    if (!given(argc, argv, "--algo"))
        snprintf(c.algo, sizeof(c.algo), "rldt");
    if (!given(argc, argv, "--chunk"))
        c.chunk = strcmp(c.algo, "sac") ? 4 : 1;
    if (strcmp(c.algo, "sac") && !c.base_policy[0] && find_policy(&c) < 0) {
        fprintf(stderr,
                "rldt bench fleet: no shipped base policy for %s; pass --base-policy=FILE\n",
                c.env);
        return 2;
    }
    if (!task_find(c.env)) {
        fprintf(stderr, "rldt bench fleet: unknown env '%s'\n", c.env);
        return 2;
    }
    struct fleet f = {
        .c = &c, .publish_secs = c.publish_secs > 0 ? c.publish_secs : 1.0, .secs = c.secs};
    if (!statsc_split(c.stats, "5558", f.host, sizeof(f.host), f.port, sizeof(f.port))) {
        fprintf(stderr, "rldt bench fleet: bad --stats address\n");
        return 2;
    }
    if (raise_nofile(c.actors) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    struct fleet_result r = {0};
    f.learner = spawn_learner(&f);
    rc = wait_learner(&f);
    if (rc == 0)
        rc = measure(&f, &r);
    stop_all(&f);
    struct fleet_result raw = {0};
    if (rc == 0)
        rc = measure_raw(&f, r.params_bytes, &raw);
    stop_all(&f);
    reset_sims(&f);
    if (rc < 0)
        return 1;
    if (c.json)
        print_json(&c, &f, &r, &raw);
    else
        print_table(&c, &f, &r, &raw);
    return r.tot.registered > 0 && r.receipts > 0 ? 0 : 1;
}
