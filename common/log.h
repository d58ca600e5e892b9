/*
 * log.h — one line per event on stderr: monotonic seconds since start, role, level,
 * file:line for warn and error, message. The level is checked before formatting.
 * Thread-safe (each line is one locked write). Global state: the level, role and an
 * optional copy file, set at start-up.
 */
#ifndef RL_LOG_H
#define RL_LOG_H

#include <stdio.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_OFF = 4 };

extern int log_level_cur;

/* Set the minimum level printed. */
void log_set_level(enum log_level lv);

/* Parse "debug|info|warn|error|off"; returns the level or -1. */
int log_level_parse(const char *s);

/* Set the role shown on each line (e.g. "learner", "actor-3"); copied. */
void log_set_role(const char *role);

/* Also append every line to f (borrowed; NULL stops). */
void log_set_copy(FILE *f);

void log_write(enum log_level lv, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_level_cur <= LOG_DEBUG)                                                            \
            log_write(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__);                                 \
    } while (0)
#define log_info(...)                                                                              \
    do {                                                                                           \
        if (log_level_cur <= LOG_INFO)                                                             \
            log_write(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__);                                  \
    } while (0)
#define log_warn(...)                                                                              \
    do {                                                                                           \
        if (log_level_cur <= LOG_WARN)                                                             \
            log_write(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__);                                  \
    } while (0)
#define log_error(...)                                                                             \
    do {                                                                                           \
        if (log_level_cur <= LOG_ERROR)                                                            \
            log_write(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__);                                 \
    } while (0)

#endif
