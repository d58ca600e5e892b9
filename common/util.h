/*
 * util.h — small helpers every module uses: an always-on assertion for programmer errors,
 * array length, the formatted error of parsers, monotonic and wall clocks. Thread-safe; no state.
 */
#ifndef RL_UTIL_H
#define RL_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Always on, for programmer errors only (never for outside input): prints file:line, aborts. */
#define RL_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            rl_assert_fail(#cond, __FILE__, __LINE__);                                             \
    } while (0)

#define RL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RL_MAX(a, b) ((a) > (b) ? (a) : (b))

_Noreturn void rl_assert_fail(const char *expr, const char *file, int line);

/* Format a one-line reason into err (errlen bytes, truncated) and return rc, so a parser of
 * outside input reports with `return rl_err(-EINVAL, err, errlen, "bad %s", what);`.
 * Nullable: err (then nothing is written). */
__attribute__((format(printf, 4, 5))) int rl_err(int rc, char *err, size_t errlen, const char *fmt,
                                                 ...);

/* Seconds on the monotonic clock (for rates and time-outs). */
double rl_now(void);

/* Seconds since the Unix epoch (for timestamps written to files). */
double rl_wall(void);

/* Sleep for the given seconds (<= 0: return at once). A signal ends the sleep early (no
 * restart on EINTR), so callers re-check their stop flag and state after it. */
void rl_sleep(double secs);

/* Write all n bytes of buf to fd, retrying short writes and EINTR. 0 or -errno (-EIO when the
 * kernel accepts nothing). */
int rl_write_all(int fd, const void *buf, size_t n);

/* mkdir -p: create path and its missing parents (mode 0755). 0 or -errno. */
int rl_mkdir_p(const char *path);

/* The process's stop flag: how many SIGINT/SIGTERM arrived since rl_stop_on_signals() (the one
 * global the style allows besides the log level). */
extern volatile sig_atomic_t rl_stop_signals;

/* Install the SIGINT/SIGTERM handler that counts into rl_stop_signals (no SA_RESTART: blocking
 * calls return early). For main() and the CLI commands; calling it again is harmless. */
void rl_stop_on_signals(void);

/* A kB figure of process pid from /proc/PID/status, field "VmRSS" (resident now) or "VmHWM"
 * (peak resident), ...; -1 when the process or the field is not there. */
long rl_proc_status_kb(int pid, const char *field);

#endif
