/*
 * rng.h — the one random generator of rldt: xoshiro256** seeded through splitmix64.
 * Independent streams (per actor, per env, per purpose) derive from one run seed with
 * rng_init(&r, seed, stream). A struct rng is plain data: copy it to fork a stream, write it
 * into a checkpoint to resume it. Not thread-safe: one struct rng per thread.
 */
#ifndef RL_RNG_H
#define RL_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
    double spare;  /* second normal of the last Box–Muller pair */
    int has_spare; /* 1 when spare is valid */
};

/* A struct rng as a fixed layout of 8-byte fields (48 bytes, no padding): what checkpoints
 * store. */
struct rng_state {
    uint64_t s[4];
    double spare;
    int64_t has_spare;
};

/* Copy r into the fixed layout out (every byte written). */
void rng_pack(const struct rng *r, struct rng_state *out);

/* Restore r from a state rng_pack wrote; continues exactly where the packed one stopped. */
void rng_unpack(struct rng *r, const struct rng_state *in);

/* Seed stream `stream` of run seed `seed`; different (seed, stream) give independent streams. */
void rng_init(struct rng *r, uint64_t seed, uint64_t stream);

/* Next raw 64-bit value. */
uint64_t rng_u64(struct rng *r);

/* Uniform double in [0, 1). */
double rng_uniform(struct rng *r);

/* Uniform double in [lo, hi). */
double rng_range(struct rng *r, double lo, double hi);

/* Uniform integer in [0, n); n > 0. Unbiased. */
uint64_t rng_below(struct rng *r, uint64_t n);

/* Standard normal (mean 0, variance 1). */
double rng_normal(struct rng *r);

/* Fill x[0..n) with independent standard normals (float32). */
void rng_normal_fill(struct rng *r, float *x, long n);

#endif
