/*
 * rng.c — xoshiro256** (Blackman & Vigna) with splitmix64 seeding; Box–Muller normals.
 */
#include "common/rng.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
    // mix the stream id in through a second splitmix pass so nearby (seed, stream) pairs diverge
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    uint64_t y = h ^ (stream * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&y);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
    r->spare = 0;
    r->has_spare = 0;
}

uint64_t rng_u64(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double rng_uniform(struct rng *r)
{
    return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

double rng_range(struct rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform(r);
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
    // rejection on the top of the range keeps it unbiased
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = rng_u64(r);
    } while (x >= limit);
    return x % n;
}

double rng_normal(struct rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = rng_uniform(r);
    double u2 = rng_uniform(r);
    double rad = sqrt(-2.0 * log(1.0 - u1)); /* 1 - u1 is in (0, 1] */
    double th = 6.283185307179586 * u2;
    r->spare = rad * sin(th);
    r->has_spare = 1;
    return rad * cos(th);
}

void rng_normal_fill(struct rng *r, float *x, long n)
{
    for (long i = 0; i < n; i++)
        x[i] = (float)rng_normal(r);
}

void rng_pack(const struct rng *r, struct rng_state *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->s, r->s, sizeof(out->s));
    out->spare = r->spare;
    out->has_spare = r->has_spare;
}

void rng_unpack(struct rng *r, const struct rng_state *in)
{
    memcpy(r->s, in->s, sizeof(r->s));
    r->spare = in->spare;
    r->has_spare = in->has_spare != 0;
}
