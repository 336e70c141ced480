#include "rng.h"

#include <math.h>

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

void fer_rng_seed(struct fer_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

void fer_rng_seed_stream(struct fer_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t mix = seed;
    uint64_t a = splitmix64(&mix);
    mix = stream ^ 0x5851f42d4c957f2dULL;
    fer_rng_seed(r, a ^ splitmix64(&mix));
}

uint64_t fer_rng_u64(struct fer_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t fer_rng_below(struct fer_rng *r, uint32_t n)
{
    /* Lemire's multiply-and-reject method. */
    uint64_t m = (uint64_t)(uint32_t)(fer_rng_u64(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = -n % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(fer_rng_u64(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double fer_rng_uniform(struct fer_rng *r)
{
    return (double)(fer_rng_u64(r) >> 11) * 0x1.0p-53;
}

double fer_rng_normal(struct fer_rng *r)
{
    double u1 = 1.0 - fer_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = fer_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
    for (size_t k = 0; k < size; k++) {
        unsigned char t = a[k];
        a[k] = b[k];
        b[k] = t;
    }
}

void fer_rng_shuffle(struct fer_rng *r, void *base, size_t n, size_t size)
{
    unsigned char *p = base;
    for (size_t i = n; i > 1; i--) {
        size_t j = fer_rng_below(r, (uint32_t)i);
        if (j != i - 1)
            swap_bytes(p + j * size, p + (i - 1) * size, size);
    }
}
