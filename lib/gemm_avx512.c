/* gemm_avx512.c - the AVX-512 micro-kernel and packing of fer_sgemm.
 *
 * Compiled for baseline x86-64 like the rest of the library: only these
 * functions carry a target attribute, and lib/gemm.c calls them after
 * __builtin_cpu_supports("avx512f"), so the binary still runs anywhere.
 *
 * Kernel shape, 8 x 32: a tile of C is 8 rows of two 16-float vectors,
 * 16 accumulators. Each k step loads two vectors of the B panel,
 * broadcasts 8 values of the A panel and issues 16 FMAs. Zen 4/5 and
 * Skylake-X retire two 512-bit FMAs a cycle at a latency of 4, so 8
 * independent chains keep them busy; 16 leave slack, and with 2 B vectors
 * and the broadcast register the kernel uses 19 of the 32 vector
 * registers, so nothing spills. 10 loads per 16 FMAs stay under the two
 * loads a cycle the load ports sustain. MR = 8 divides every channel count
 * of our models (32 to 512), so row tiles are never wasted on them; the
 * vector direction runs along N (images x positions), which is long.
 */
#include "gemm_kernel.h"
#include "lanes.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512vl,fma")))
#define MR FER_GEMM_MR
#define NR FER_GEMM_NR

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* The kernel body, for A read with row stride rs and k stride ks: (1, MR)
 * for a packed panel, (lda, 1) for rows of a row-major A read in place.
 * Inlined into the two entry points below with the strides as constants
 * where they are, so the packed loop indexes with immediates. */
static TARGET inline __attribute__((always_inline)) void
kernel(int kc, const float *a, ptrdiff_t rs, ptrdiff_t ks, const float *b, float *c,
       ptrdiff_t ldc, int m, int n, float alpha, float beta, int beta_zero)
{
#define DECL(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
    ROWS(DECL)
    /* C's tile is needed only after the loop: start fetching it now. */
#define PREFETCH(r)                                                            \
    if (r < m) {                                                               \
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);                \
        _mm_prefetch((const char *)(c + r * ldc + 16), _MM_HINT_T0);           \
    }
    ROWS(PREFETCH)
    for (int k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#define STEP(r)                                                                \
    {                                                                          \
        const __m512 ar = _mm512_set1_ps(a[r * rs]);                           \
        c##r##0 = _mm512_fmadd_ps(ar, b0, c##r##0);                            \
        c##r##1 = _mm512_fmadd_ps(ar, b1, c##r##1);                            \
    }
        ROWS(STEP)
        a += ks;
        b += NR;
    }
    /* Full tiles take the same masked path with all lanes set, so an
     * element's arithmetic never depends on where the tile edges fall. */
    const __mmask16 k0 = fer_lanes(0, n), k1 = fer_lanes(0, n - 16);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#define STORE(r)                                                               \
    if (r < m) {                                                               \
        float *cr = c + r * ldc;                                               \
        if (beta_zero) {                                                       \
            _mm512_mask_storeu_ps(cr, k0, _mm512_mul_ps(va, c##r##0));         \
            _mm512_mask_storeu_ps(cr + 16, k1, _mm512_mul_ps(va, c##r##1));    \
        } else {                                                               \
            __m512 o0 = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(k0, cr));      \
            __m512 o1 = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(k1, cr + 16)); \
            _mm512_mask_storeu_ps(cr, k0, _mm512_fmadd_ps(va, c##r##0, o0));   \
            _mm512_mask_storeu_ps(cr + 16, k1, _mm512_fmadd_ps(va, c##r##1, o1)); \
        }                                                                      \
    }
    ROWS(STORE)
}

TARGET void fer_gemm_kernel_avx512(int kc, const float *a, const float *b, float *c,
                                   ptrdiff_t ldc, int m, int n, float alpha, float beta,
                                   int beta_zero)
{
    kernel(kc, a, 1, MR, b, c, ldc, m, n, alpha, beta, beta_zero);
}

TARGET void fer_gemm_kernel_rows_avx512(int kc, const float *a, ptrdiff_t lda,
                                        const float *b, float *c, ptrdiff_t ldc, int m,
                                        int n, float alpha, float beta, int beta_zero)
{
    kernel(kc, a, lda, 1, b, c, ldc, m, n, alpha, beta, beta_zero);
}

/* Transpose 16 vectors in place: r[i][j] becomes r[j][i]. */
static TARGET inline __attribute__((always_inline)) void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    /* r[4i + c] now holds, in 128-bit lane L, column 4L + c of rows
     * 4i..4i+3; gather the four lanes of each column. */
    for (int c = 0; c < 4; c++) {
        const __m512 s0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44);
        const __m512 s1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xee);
        const __m512 s2 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44);
        const __m512 s3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xee);
        t[c] = _mm512_shuffle_f32x4(s0, s2, 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(s0, s2, 0xdd);
        t[8 + c] = _mm512_shuffle_f32x4(s1, s3, 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(s1, s3, 0xdd);
    }
    for (int i = 0; i < 16; i++)
        r[i] = t[i];
}

TARGET void fer_gemm_pack_a_avx512(int trans, const float *A, ptrdiff_t lda, int i0,
                                   int m, int p0, int kc, float *dst)
{
    for (int i = 0; i < m; i += MR, dst += (ptrdiff_t)MR * kc) {
        const int rows = m - i < MR ? m - i : MR;
        if (trans) {
            /* op(A)'s column k is a row of A: MR contiguous floats. */
            const __mmask8 mask = (__mmask8)((1u << rows) - 1);
            for (int k = 0; k < kc; k++)
                _mm256_store_ps(dst + k * MR,
                                _mm256_maskz_loadu_ps(mask, A + (ptrdiff_t)(p0 + k) * lda +
                                                                i0 + i));
            continue;
        }
        /* Rows of A are contiguous along k: transpose 8 x 16 blocks (as
         * 16 x 16 with 8 zero rows; the low halves are the 8 x 16 result). */
        for (int k = 0; k < kc; k += 16) {
            const int kk = kc - k < 16 ? kc - k : 16;
            const __mmask16 kmask = fer_lanes(0, kk);
            __m512 r[16];
            for (int j = 0; j < 16; j++)
                r[j] = j < rows ? _mm512_maskz_loadu_ps(
                                      kmask, A + (ptrdiff_t)(i0 + i + j) * lda + p0 + k)
                                : _mm512_setzero_ps();
            transpose16(r);
            for (int t = 0; t < kk; t++)
                _mm256_store_ps(dst + (ptrdiff_t)(k + t) * MR, _mm512_castps512_ps256(r[t]));
        }
    }
}

/* One panel of op(B) = B^T: its 32 columns are rows j0..j0+cols of B,
 * each contiguous along k; moved 16 x 16 blocks at a time. */
static TARGET void pack_b_trans_panel(const float *B, ptrdiff_t ldb, int p0, int kc,
                                      int j0, int cols, float *dst)
{
    for (int k = 0; k < kc; k += 16) {
        const int kk = kc - k < 16 ? kc - k : 16;
        const __mmask16 kmask = fer_lanes(0, kk);
        for (int half = 0; half < 2; half++) {
            __m512 r[16];
            for (int j = 0; j < 16; j++) {
                const int col = half * 16 + j;
                const float *src = B + (ptrdiff_t)(j0 + col) * ldb + p0 + k;
                if (col >= cols) {
                    r[j] = _mm512_setzero_ps();
                    continue;
                }
                /* 32 rows read side by side are more streams than the
                 * hardware prefetcher follows (this pack ran at DRAM
                 * latency, a quarter of a product's time): fetch each
                 * row's line four steps ahead. It may pass the row's
                 * end; a prefetch never faults. */
                _mm_prefetch((const char *)(src + 64), _MM_HINT_T0);
                r[j] = _mm512_maskz_loadu_ps(kmask, src);
            }
            transpose16(r);
            for (int t = 0; t < kk; t++)
                _mm512_store_ps(dst + (ptrdiff_t)(k + t) * NR + half * 16, r[t]);
        }
    }
}

TARGET void fer_gemm_pack_b_avx512(int trans, const float *B, ptrdiff_t ldb, int p0,
                                   int kc, int j0, int n, float *dst)
{
    for (int j = 0; j < n; j += NR, dst += (ptrdiff_t)NR * kc) {
        const int cols = n - j < NR ? n - j : NR;
        if (trans) {
            pack_b_trans_panel(B, ldb, p0, kc, j0 + j, cols, dst);
            continue;
        }
        const __mmask16 m0 = fer_lanes(0, cols), m1 = fer_lanes(0, cols - 16);
        const float *src = B + (ptrdiff_t)p0 * ldb + j0 + j;
        for (int k = 0; k < kc; k++, src += ldb) {
            _mm512_store_ps(dst + k * NR, _mm512_maskz_loadu_ps(m0, src));
            _mm512_store_ps(dst + k * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
        }
    }
}

TARGET void fer_gemm_transpose_add_avx512(const float *t, ptrdiff_t ldt, int rows, int cols,
                                          float beta, int beta_zero, float *c,
                                          ptrdiff_t ldc)
{
    const __m512 vb = _mm512_set1_ps(beta);
    for (int j = 0; j < cols; j += 16) {
        const int jn = cols - j < 16 ? cols - j : 16;
        const __mmask16 jmask = fer_lanes(0, jn);
        for (int i = 0; i < rows; i += 16) {
            const int in = rows - i < 16 ? rows - i : 16;
            const __mmask16 imask = fer_lanes(0, in);
            __m512 r[16];
            for (int q = 0; q < 16; q++)
                r[q] = q < jn ? _mm512_maskz_loadu_ps(imask, t + (ptrdiff_t)(j + q) * ldt + i)
                              : _mm512_setzero_ps();
            transpose16(r);
            for (int q = 0; q < in; q++) {
                float *cr = c + (ptrdiff_t)(i + q) * ldc + j;
                const __m512 v =
                    beta_zero ? r[q]
                              : _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(jmask, cr), r[q]);
                _mm512_mask_storeu_ps(cr, jmask, v);
            }
        }
    }
}

TARGET void fer_gemm_dot_tile_avx512(int K, const float *const a[4], const float *const b[3],
                                     float out[4][3])
{
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    const float *b0 = b[0], *b1 = b[1], *b2 = b[2];
    /* Spelled out: as a 4 x 3 array in loops GCC kept the sums in memory. */
#define DOT_DECL(r) __m512 s##r##0 = _mm512_setzero_ps(), s##r##1 = s##r##0, s##r##2 = s##r##0;
#define DOT_ROW(r)                                                             \
    {                                                                          \
        const __m512 av = _mm512_maskz_loadu_ps(mask, a##r + k);               \
        s##r##0 = _mm512_fmadd_ps(av, v0, s##r##0);                            \
        s##r##1 = _mm512_fmadd_ps(av, v1, s##r##1);                            \
        s##r##2 = _mm512_fmadd_ps(av, v2, s##r##2);                            \
    }
#define DOT_OUT(r)                                                             \
    out[r][0] = _mm512_reduce_add_ps(s##r##0);                                 \
    out[r][1] = _mm512_reduce_add_ps(s##r##1);                                 \
    out[r][2] = _mm512_reduce_add_ps(s##r##2);
    DOT_DECL(0) DOT_DECL(1) DOT_DECL(2) DOT_DECL(3)
    for (int k = 0; k < K; k += 16) {
        const __mmask16 mask = fer_lanes(0, K - k);
        const __m512 v0 = _mm512_maskz_loadu_ps(mask, b0 + k);
        const __m512 v1 = _mm512_maskz_loadu_ps(mask, b1 + k);
        const __m512 v2 = _mm512_maskz_loadu_ps(mask, b2 + k);
        DOT_ROW(0) DOT_ROW(1) DOT_ROW(2) DOT_ROW(3)
    }
    DOT_OUT(0) DOT_OUT(1) DOT_OUT(2) DOT_OUT(3)
}
