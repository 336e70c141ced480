/* nn_vec.h - 4-float vectors for the memory-bound layer loops (internal).
 *
 * Batch norm, pooling and ReLU spend their time streaming memory; written
 * as scalar loops with a double accumulator they ran one element per add
 * latency (the compiler may not reorder float sums). GCC/Clang vector
 * extensions give the compiler explicit lanes: 4 floats are one SSE
 * register of the plain x86-64 baseline (wider vectors would change the
 * calling convention without -mavx), so no runtime dispatch is needed.
 * Loads and stores go through memcpy, so no alignment is assumed.
 */
#ifndef FER_NN_VEC_H
#define FER_NN_VEC_H

#include <stddef.h>
#include <string.h>

typedef float fer_v4 __attribute__((vector_size(16)));
typedef int fer_vi4 __attribute__((vector_size(16)));

static inline fer_v4 fer_v4_load(const float *p)
{
    fer_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void fer_v4_store(float *p, fer_v4 v)
{
    memcpy(p, &v, sizeof v);
}

static inline fer_v4 fer_v4_set1(float x)
{
    return (fer_v4){x, x, x, x};
}

/* The lanes summed in double. */
static inline double fer_v4_hsum(fer_v4 v)
{
    double s = 0;
    for (int j = 0; j < 4; j++)
        s += v[j];
    return s;
}

/* v > 0 ? v : 0 per lane (NaN gives 0, like the scalar expression). */
static inline fer_v4 fer_v4_relu(fer_v4 v)
{
    return (fer_v4)((fer_vi4)v & (v > fer_v4_set1(0)));
}

/* mask ? a : b per lane, mask lanes all ones or all zeros. */
static inline fer_v4 fer_v4_select(fer_vi4 mask, fer_v4 a, fer_v4 b)
{
    return (fer_v4)(((fer_vi4)a & mask) | ((fer_vi4)b & ~mask));
}

/* Lanes 0, 2 of a then of b (even), 1, 3 of a then of b (odd), and the
 * inverse: a and b interleaved, low and high halves. */
#ifdef __clang__
#define FER_V4_SHUFFLE(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#else
#define FER_V4_SHUFFLE(a, b, i, j, k, l) __builtin_shuffle(a, b, (fer_vi4){i, j, k, l})
#endif
static inline fer_v4 fer_v4_even(fer_v4 a, fer_v4 b)
{
    return FER_V4_SHUFFLE(a, b, 0, 2, 4, 6);
}

static inline fer_v4 fer_v4_odd(fer_v4 a, fer_v4 b)
{
    return FER_V4_SHUFFLE(a, b, 1, 3, 5, 7);
}

static inline fer_v4 fer_v4_zip_lo(fer_v4 a, fer_v4 b)
{
    return FER_V4_SHUFFLE(a, b, 0, 4, 1, 5);
}

static inline fer_v4 fer_v4_zip_hi(fer_v4 a, fer_v4 b)
{
    return FER_V4_SHUFFLE(a, b, 2, 6, 3, 7);
}

#endif
