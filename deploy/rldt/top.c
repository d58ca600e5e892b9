/*
 * top.c — `rldt top`: a live terminal view of a learner's stats socket. Polls GET /stats with
 * the small blocking HTTP/1.0 client of deploy/rldt/statsc.h, parses the JSON with jansson and
 * redraws one compact frame per interval.
 * Everything printed from the document is filtered to printable ASCII (no terminal escapes
 * from the wire). Single-threaded; no globals of its own (the stop flag is common/util.h's).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "deploy/rldt/statsc.h"
#include "common/util.h"
#include "deploy/rldt/cmd.h"

#define TOP_DEFAULT_HOST "127.0.0.1"
#define TOP_DEFAULT_PORT "5558"
#define TOP_TIMEOUT_S 3.0
#define TOP_WIDTH 100

struct top_opts {
    char host[256];
    char port[16];
    char where[288]; // "host:port" or "[v6]:port", for messages
    double interval;
    bool once;
};

// ---- flags -------------------------------------------------------------------------------

static void usage(FILE *f)
{
    fprintf(f, "usage: rldt top [--stats=ADDR:PORT] [--interval=SECS] [--once]\n\n"
               "Live view of a learner's stats socket (GET /stats).\n\n"
               "  --stats=ADDR:PORT  stats socket to poll (default " TOP_DEFAULT_HOST
               ":" TOP_DEFAULT_PORT "; [v6]:PORT for IPv6)\n"
               "  --interval=SECS    seconds between frames, 0.1..3600 (default 1)\n"
               "  --once             print one frame without clearing the screen and exit:\n"
               "                     0 when the socket answered, 1 when it could not be read\n"
               "  --help             this text\n");
}

// split "host:port", "[v6]:port" or "host"; false on a malformed address
static bool split_addr(const char *s, struct top_opts *o)
{
    return statsc_split(s, o->port, o->host, sizeof(o->host), o->port, sizeof(o->port));
}

// 0: run, 1: --help printed, 2: usage error (message printed)
static int parse_flags(int argc, char **argv, struct top_opts *o)
{
    snprintf(o->host, sizeof(o->host), "%s", TOP_DEFAULT_HOST);
    snprintf(o->port, sizeof(o->port), "%s", TOP_DEFAULT_PORT);
    o->interval = 1.0;
    o->once = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--once")) {
            o->once = true;
        } else if (!strncmp(a, "--stats=", 8)) {
            if (!split_addr(a + 8, o)) {
                fprintf(stderr, "rldt top: --stats: bad address '%s' (want ADDR:PORT)\n", a + 8);
                return 2;
            }
        } else if (!strncmp(a, "--interval=", 11)) {
            char *end;
            o->interval = strtod(a + 11, &end);
            if (!a[11] || *end || !(o->interval >= 0.1 && o->interval <= 3600)) {
                fprintf(stderr, "rldt top: --interval: '%s' is not a number in 0.1..3600\n",
                        a + 11);
                return 2;
            }
        } else {
            fprintf(stderr, "rldt top: unknown option '%s' (see rldt top --help)\n", a);
            return 2;
        }
    }
    snprintf(o->where, sizeof(o->where), strchr(o->host, ':') ? "[%s]:%s" : "%s:%s", o->host,
             o->port);
    return 0;
}

// ---- formatting --------------------------------------------------------------------------

// printable-ASCII copy of s (at most size - 1 bytes): line breaks become spaces, trailing
// spaces go, other bytes become '?'
static const char *clean(const char *s, char *out, size_t size)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < size; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch == '\n' || ch == '\r' ? ' ' : ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    while (i > 0 && out[i - 1] == ' ')
        i--;
    out[i] = '\0';
    return out;
}

// 12345678 -> "12.3M"; NaN -> "-"
static const char *human(double v, char *out, size_t size)
{
    static const char units[] = " kMGTP";
    if (!isfinite(v)) {
        snprintf(out, size, "-");
        return out;
    }
    int u = 0;
    while (fabs(v) >= 999.5 && u < 5) {
        v /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(out, size, fabs(v - round(v)) < 1e-9 ? "%.0f" : "%.3g", v);
    else
        snprintf(out, size, "%.3g%c", v, units[u]);
    return out;
}

static double jnum(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jstr(const json_t *o, const char *key, char *out, size_t size)
{
    json_t *v = json_object_get(o, key);
    return clean(json_is_string(v) ? json_string_value(v) : "-", out, size);
}

static void print_header(FILE *f, const struct top_opts *o, const json_t *doc)
{
    char algo[48];
    char task[48];
    char pver[16];
    double up = jnum(doc, "uptime_s");
    long s = isfinite(up) ? (long)up : 0;
    fprintf(f, "rldt top  %s  %s/%s  epoch %.0f  up %ldh%02ldm%02lds  policy v%s%s\n", o->where,
            jstr(doc, "algo", algo, sizeof(algo)), jstr(doc, "task", task, sizeof(task)),
            jnum(doc, "run_epoch"), s / 3600, s / 60 % 60, s % 60,
            human(jnum(doc, "policy_version"), pver, sizeof(pver)),
            json_is_true(json_object_get(doc, "finished")) ? "  [finished]" : "");
}

static void print_totals(FILE *f, const json_t *doc)
{
    char b[9][16];
    const json_t *replay = json_object_get(doc, "replay");
    double size = jnum(replay, "size");
    double cap = jnum(replay, "capacity");
    fprintf(f,
            "steps %s %s/s  upd %s %s/s  replay %s/%s %.0f%%  return %.4g (n=%s)  lag %s  "
            "rejected %s\n",
            human(jnum(doc, "env_steps"), b[0], 16), human(jnum(doc, "env_steps_per_s"), b[1], 16),
            human(jnum(doc, "updates"), b[2], 16), human(jnum(doc, "updates_per_s"), b[3], 16),
            human(size, b[4], 16), human(cap, b[5], 16), cap > 0 ? 100 * size / cap : 0.0,
            jnum(doc, "recent_return"), human(jnum(doc, "recent_episodes"), b[6], 16),
            human(jnum(doc, "policy_lag_max"), b[7], 16),
            human(jnum(doc, "rejected_total"), b[8], 16));
}

// actor table, at most max_rows rows (< 0: all)
static void print_actors(FILE *f, const json_t *doc, int max_rows)
{
    const json_t *actors = json_object_get(doc, "actors");
    size_t n = json_is_array(actors) ? json_array_size(actors) : 0;
    fprintf(f, "\n%6s %-24s %7s %8s %5s %8s %8s %8s\n", "ACTOR", "NAME", "HB(s)", "POLICY", "LAG",
            "STEPS", "STEPS/S", "SEGS");
    for (size_t i = 0; i < n; i++) {
        if (max_rows >= 0 && (int)i >= max_rows) {
            fprintf(f, "... %zu more\n", n - i);
            break;
        }
        const json_t *a = json_array_get(actors, i);
        char name[25];
        char b[6][16];
        double hb = jnum(a, "heartbeat_age_s");
        fprintf(f, "%6s %-24s %7.1f %8s %5s %8s %8s %8s\n", human(jnum(a, "id"), b[0], 16),
                jstr(a, "name", name, sizeof(name)), hb, human(jnum(a, "policy_version"), b[1], 16),
                human(jnum(a, "policy_lag"), b[2], 16), human(jnum(a, "env_steps"), b[3], 16),
                human(jnum(a, "steps_per_s"), b[4], 16), human(jnum(a, "segments"), b[5], 16));
    }
    if (n == 0)
        fprintf(f, "(no actors)\n");
}

// "title: k v  k v ..." wrapped at TOP_WIDTH; nonzero_only skips zero values
static void print_table(FILE *f, const char *title, const json_t *obj, bool nonzero_only)
{
    if (!json_is_object(obj))
        return;
    int col = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        double x = json_is_number(v) ? json_number_value(v) : NAN;
        if (nonzero_only && x == 0)
            continue;
        char k[48];
        char item[96];
        int n = snprintf(item, sizeof(item), "%s %.5g", clean(key, k, sizeof(k)), x);
        if (col == 0)
            col = fprintf(f, "%s:", title);
        else if (col + 2 + n > TOP_WIDTH)
            col = fprintf(f, "\n%*s", (int)strlen(title) + 1, "") - 1;
        col += fprintf(f, "  %s", item);
    }
    if (col)
        fputc('\n', f);
}

static void print_frame(FILE *f, const struct top_opts *o, const json_t *doc, int max_rows)
{
    print_header(f, o, doc);
    print_totals(f, doc);
    print_actors(f, doc, max_rows);
    fputc('\n', f);
    print_table(f, "scalars", json_object_get(doc, "scalars"), false);
    print_table(f, "rejected", json_object_get(doc, "rejected"), true);
    print_table(f, "events", json_object_get(doc, "counters"), true);
}

// ---- main loop ---------------------------------------------------------------------------

// fetch and parse /stats; the document or NULL with a reason in err
static json_t *fetch(const struct top_opts *o, char *err, size_t errlen)
{
    return statsc_fetch(o->host, o->port, TOP_TIMEOUT_S, err, errlen);
}

static int term_rows(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
        return ws.ws_row;
    return 40;
}

int cmd_top(int argc, char **argv)
{
    struct top_opts o;
    int r = parse_flags(argc, argv, &o);
    if (r)
        return r == 1 ? 0 : 2;
    char err[512];
    if (o.once) {
        json_t *doc = fetch(&o, err, sizeof(err));
        if (!doc) {
            fprintf(stderr, "rldt top: %s: %s\n", o.where, err);
            return 1;
        }
        print_frame(stdout, &o, doc, -1);
        json_decref(doc);
        return 0;
    }
    rl_stop_on_signals();
    bool finished = false;
    while (!rl_stop_signals && !finished) {
        char *frame = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&frame, &len);
        if (!f) {
            fprintf(stderr, "rldt top: out of memory\n");
            return 1;
        }
        fputs("\033[H\033[2J", f); // home, clear screen
        json_t *doc = fetch(&o, err, sizeof(err));
        if (doc) {
            print_frame(f, &o, doc, RL_MAX(term_rows() - 10, 1));
            finished = json_is_true(json_object_get(doc, "finished"));
            json_decref(doc);
        } else {
            fprintf(f, "rldt top  %s  %s (retrying every %gs; Ctrl-C quits)\n", o.where, err,
                    o.interval);
        }
        fclose(f);
        fwrite(frame, 1, len, stdout);
        fflush(stdout);
        free(frame);
        if (!finished)
            rl_sleep(o.interval);
    }
    return 0;
}
