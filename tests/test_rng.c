/* test_rng.c — seeding, streams, uniform and normal moments, reproducibility. */
#include "common/rng.h"
#include "tests/harness.h"

#include <math.h>

static void test_reproducible(void)
{
    struct rng a, b;
    rng_init(&a, 42, 7);
    rng_init(&b, 42, 7);
    for (int i = 0; i < 1000; i++)
        T_CHECK(rng_u64(&a) == rng_u64(&b));
    // a copied state continues identically (checkpoint/resume)
    struct rng c = a;
    T_NEAR(rng_normal(&a), rng_normal(&c), 0);
}

static void test_pack(void)
{
    struct rng a, b;
    rng_init(&a, 9, 2);
    rng_normal(&a); /* leaves a spare normal in the state */
    T_CHECK(a.has_spare);
    T_EQ_INT((int)sizeof(struct rng_state), 48);
    struct rng_state st;
    memset(&st, 0xab, sizeof(st));
    rng_pack(&a, &st);
    rng_init(&b, 1, 1);
    rng_unpack(&b, &st);
    // the unpacked generator continues exactly: the spare first, then the same stream
    for (int i = 0; i < 100; i++)
        T_NEAR(rng_normal(&b), rng_normal(&a), 0);
    T_CHECK(rng_u64(&a) == rng_u64(&b));
}

static void test_streams_differ(void)
{
    struct rng a, b, c;
    rng_init(&a, 1, 0);
    rng_init(&b, 1, 1);
    rng_init(&c, 2, 0);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_u64(&a);
        same_ab += x == rng_u64(&b);
        same_ac += x == rng_u64(&c);
    }
    T_EQ_INT(same_ab, 0);
    T_EQ_INT(same_ac, 0);
    // streams are uncorrelated: correlation of uniforms from adjacent streams is ~0
    rng_init(&a, 5, 3);
    rng_init(&b, 5, 4);
    double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
    int n = 100000;
    for (int i = 0; i < n; i++) {
        double x = rng_uniform(&a), y = rng_uniform(&b);
        sx += x, sy += y, sxy += x * y, sxx += x * x, syy += y * y;
    }
    double cov = sxy / n - sx / n * sy / n;
    double corr = cov / sqrt((sxx / n - sx * sx / n / n) * (syy / n - sy * sy / n / n));
    T_NEAR(corr, 0, 0.02);
}

static void test_moments(void)
{
    struct rng r;
    rng_init(&r, 123, 0);
    int n = 200000;
    double s = 0, ss = 0, us = 0, s4 = 0;
    double umin = 1, umax = 0;
    for (int i = 0; i < n; i++) {
        double x = rng_normal(&r);
        s += x, ss += x * x, s4 += x * x * x * x;
        double u = rng_uniform(&r);
        us += u;
        umin = u < umin ? u : umin;
        umax = u > umax ? u : umax;
    }
    T_NEAR(s / n, 0, 0.01);
    T_NEAR(ss / n, 1, 0.02);
    T_NEAR(s4 / n, 3, 0.1); /* normal kurtosis */
    T_NEAR(us / n, 0.5, 0.005);
    T_CHECK(umin >= 0 && umax < 1);
}

static void test_below(void)
{
    struct rng r;
    rng_init(&r, 9, 9);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t k = rng_below(&r, 7);
        T_CHECK(k < 7);
        if (k < 7)
            counts[k]++;
    }
    for (int k = 0; k < 7; k++)
        T_NEAR(counts[k], 10000, 400);
}

int main(void)
{
    T_RUN(test_reproducible);
    T_RUN(test_pack);
    T_RUN(test_streams_differ);
    T_RUN(test_moments);
    T_RUN(test_below);
    return T_DONE("rng");
}
