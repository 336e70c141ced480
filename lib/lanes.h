/* lanes.h - masks of 16-float AVX-512 vectors, shared by the files that
 * use them (gemm_avx512.c, gemm_conv_avx512.c, conv_direct.c,
 * conv_winograd.c). */
#ifndef FER_LANES_H
#define FER_LANES_H

#include <immintrin.h>

/* Lanes [lo, hi) of a 16-float vector, clipped to [0, 16). */
static inline __mmask16 fer_lanes(int lo, int hi)
{
    lo = lo < 0 ? 0 : lo;
    hi = hi > 16 ? 16 : hi;
    if (hi <= lo)
        return 0;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

#endif
