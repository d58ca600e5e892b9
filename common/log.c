/*
 * log.c — formatted one-line logging to stderr (and an optional copy file).
 */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "common/util.h"

int log_level_cur = LOG_INFO;
static char role[48] = "rldt";
static FILE *copy;
static double t0 = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *names[] = {"debug", "info", "warn", "error", "off"};

void log_set_level(enum log_level lv)
{
    log_level_cur = lv;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < (int)RL_ARRAY_LEN(names); i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void log_set_role(const char *r)
{
    pthread_mutex_lock(&lock);
    snprintf(role, sizeof(role), "%s", r);
    pthread_mutex_unlock(&lock);
}

void log_set_copy(FILE *f)
{
    pthread_mutex_lock(&lock);
    copy = f;
    pthread_mutex_unlock(&lock);
}

void log_write(enum log_level lv, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;

    pthread_mutex_lock(&lock);
    if (t0 < 0)
        t0 = rl_now();
    char head[160];
    if (lv >= LOG_WARN)
        snprintf(head, sizeof(head), "%9.3f %s %s %s:%d:", rl_now() - t0, role, names[lv], base,
                 line);
    else
        snprintf(head, sizeof(head), "%9.3f %s %s:", rl_now() - t0, role, names[lv]);
    fprintf(stderr, "%s %s\n", head, msg);
    if (copy) {
        fprintf(copy, "%s %s\n", head, msg);
        fflush(copy);
    }
    pthread_mutex_unlock(&lock);
}
