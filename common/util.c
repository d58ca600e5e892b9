/*
 * util.c — assertion failure, formatted errors, clocks, sleep, mkdir -p, the stop-signal flag,
 * /proc status figures.
 */
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void rl_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "rldt: assertion failed at %s:%d: %s\n", file, line, expr);
    abort();
}

int rl_err(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

double rl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double rl_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void rl_sleep(double secs)
{
    if (!(secs > 0))
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL); /* an interrupting signal ends the sleep early: callers re-check state */
}

int rl_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int rl_mkdir_p(const char *path)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 1);
    if (!tmp)
        return -ENOMEM;
    memcpy(tmp, path, n + 1);
    int rc = 0;
    for (char *p = tmp + 1; *p && !rc; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                rc = -errno;
            *p = '/';
        }
    if (!rc && mkdir(tmp, 0755) != 0 && errno != EEXIST)
        rc = -errno;
    free(tmp);
    return rc;
}

long rl_proc_status_kb(int pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = strlen(field);
    long kb = -1;
    while (kb < 0 && fgets(line, sizeof(line), f))
        if (!strncmp(line, field, n) && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return kb;
}

volatile sig_atomic_t rl_stop_signals;

static void on_stop_signal(int sig)
{
    (void)sig;
    rl_stop_signals++;
}

void rl_stop_on_signals(void)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
