/*
 * harness.h — a tiny test harness: checks count failures and keep going; T_DONE prints
 * "<module>: N passed, N failed" and returns the exit code. Single-threaded use only.
 *
 *   static void test_x(void) { T_CHECK(1 + 1 == 2); T_NEAR(x, 1.0, 1e-6); }
 *   int main(void) { T_RUN(test_x); return T_DONE("mod"); }
 *
 * A "test" is one T_RUN: it passes when none of its checks failed. Its line ("ok test_x (cpu
 * 1.20 s)") gives the CPU seconds of the process during it (all threads), which tells the slow
 * tests apart on a loaded machine and under the sanitizers (make san).
 */
#ifndef RL_TEST_HARNESS_H
#define RL_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The factor by which a slow build stretches a test's deadlines: $TEST_TIMEOUT_SCALE (an integer
 * >= 1; tests/run.sh's callers set it, `make san` to 3: sanitized code runs 2-3x slower), else 1.
 * For waits on something that must happen eventually (a process exits, a socket closes), never
 * for a speed claim (speed lives in benchmarks).
 */
static inline double t_slow(double secs)
{
    const char *v = getenv("TEST_TIMEOUT_SCALE");
    long k = v ? strtol(v, NULL, 10) : 1;
    return secs * (double)(k >= 1 && k <= 100 ? k : 1);
}

/* The contrast of an image of n bytes (max - min byte): near 0 for a blank or flat picture. */
static inline int t_contrast(const unsigned char *p, size_t n)
{
    int lo = 255, hi = 0;
    for (size_t j = 0; j < n; j++) {
        lo = p[j] < lo ? p[j] : lo;
        hi = p[j] > hi ? p[j] : hi;
    }
    return hi - lo;
}

static int t_passed;
static int t_failed;
static int t_cur_fail;

#define T_CHECK(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                      \
            t_cur_fail++;                                                                          \
        }                                                                                          \
    } while (0)

#define T_CHECK_MSG(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            t_cur_fail++;                                                                          \
        }                                                                                          \
    } while (0)

#define T_EQ_INT(a, b)                                                                             \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        if (t_a_ != t_b_) {                                                                        \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld vs %lld)\n", __FILE__, __LINE__, #a, #b, \
                    t_a_, t_b_);                                                                   \
            t_cur_fail++;                                                                          \
        }                                                                                          \
    } while (0)

#define T_EQ_STR(a, b)                                                                             \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                                           \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, __LINE__, #a, \
                    #b, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");                           \
            t_cur_fail++;                                                                          \
        }                                                                                          \
    } while (0)

/* |a - b| <= tol, printing the difference on failure; NaN always fails */
#define T_NEAR(a, b, tol)                                                                          \
    do {                                                                                           \
        double t_a_ = (double)(a), t_b_ = (double)(b);                                             \
        if (!(fabs(t_a_ - t_b_) <= (double)(tol))) {                                               \
            fprintf(stderr, "  FAIL %s:%d: %s ~ %s (%.9g vs %.9g, diff %.3g > %.3g)\n", __FILE__,  \
                    __LINE__, #a, #b, t_a_, t_b_, fabs(t_a_ - t_b_), (double)(tol));               \
            t_cur_fail++;                                                                          \
        }                                                                                          \
    } while (0)

#define T_RUN(fn)                                                                                  \
    do {                                                                                           \
        t_cur_fail = 0;                                                                            \
        clock_t t_cpu_ = clock();                                                                  \
        fn();                                                                                      \
        double t_secs_ = (double)(clock() - t_cpu_) / CLOCKS_PER_SEC;                              \
        if (t_cur_fail) {                                                                          \
            t_failed++;                                                                            \
            fprintf(stderr, "not ok %s (cpu %.2f s)\n", #fn, t_secs_);                             \
        } else {                                                                                   \
            t_passed++;                                                                            \
            fprintf(stderr, "ok %s (cpu %.2f s)\n", #fn, t_secs_);                                 \
        }                                                                                          \
    } while (0)

#define T_DONE(module)                                                                             \
    (printf("%s: %d passed, %d failed\n", (module), t_passed, t_failed), fflush(stdout),           \
     t_failed ? 1 : 0)

#endif
