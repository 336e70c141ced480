/* rng.h - a seeded, portable random number generator.
 *
 * xoshiro256** (Blackman & Vigna) seeded through splitmix64: the same seed
 * gives the same sequence on every machine and libc, unlike rand(). Streams
 * let each worker thread or epoch draw independently yet reproducibly.
 */
#ifndef FER_RNG_H
#define FER_RNG_H

#include <stddef.h>
#include <stdint.h>

struct fer_rng {
    uint64_t s[4];
};

void fer_rng_seed(struct fer_rng *r, uint64_t seed);
/* An independent generator for (seed, stream): e.g. stream = epoch or
 * worker index. */
void fer_rng_seed_stream(struct fer_rng *r, uint64_t seed, uint64_t stream);

uint64_t fer_rng_u64(struct fer_rng *r);
/* Uniform in [0, n), without modulo bias; n > 0. */
uint32_t fer_rng_below(struct fer_rng *r, uint32_t n);
/* Uniform in [0, 1) with 53 random bits. */
double fer_rng_uniform(struct fer_rng *r);
/* Standard normal (Box-Muller). */
double fer_rng_normal(struct fer_rng *r);
/* Fisher-Yates shuffle of n (< 2^32) elements of `size` bytes each. */
void fer_rng_shuffle(struct fer_rng *r, void *base, size_t n, size_t size);

#endif
