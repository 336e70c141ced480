/* gemm_kernel.h - internal to lib/gemm.c: the AVX-512 micro-kernel and the
 * packing routines of lib/gemm_avx512.c. Call them only on a CPU that has
 * AVX-512F (fer_sgemm checks).
 *
 * Packed layouts (floats, 64-byte aligned):
 *   A panel: FER_GEMM_MR rows of op(A) times kc columns, column by column:
 *            a[k * MR + r] = op(A)[i0 + r][p0 + k]; rows past M are 0.
 *   B panel: kc rows of op(B) times FER_GEMM_NR columns, row by row:
 *            b[k * NR + j] = op(B)[p0 + k][j0 + j]; columns past N are 0.
 */
#ifndef FER_GEMM_KERNEL_H
#define FER_GEMM_KERNEL_H

#include <stddef.h>

/* A tile of C is MR x NR: MR rows of two 16-float vectors, 2 * MR
 * accumulators (see gemm_avx512.c for why this shape). */
#define FER_GEMM_MR 8
#define FER_GEMM_NR 32

/* C[0..m) x [0..n) (m <= MR, n <= NR, row stride ldc) = alpha * a * b +
 * beta * C over kc steps; beta_zero: C is not read. b_stride is the
 * distance between consecutive k rows of b: NR for a packed panel, or the
 * leading dimension of an unpacked row-major op(B) when n == NR. */
void fer_gemm_kernel_avx512(int kc, const float *a, const float *b, ptrdiff_t b_stride,
                            float *c, ptrdiff_t ldc, int m, int n, float alpha,
                            float beta, int beta_zero);

/* Pack rows [i0, i0 + m) x columns [p0, p0 + kc) of op(A) into
 * ceil(m / MR) panels of MR * kc floats, one after another. */
void fer_gemm_pack_a_avx512(int trans, const float *A, ptrdiff_t lda, int i0, int m,
                            int p0, int kc, float *dst);

/* Pack rows [p0, p0 + kc) x columns [j0, j0 + n) of op(B) into
 * ceil(n / NR) panels of kc * NR floats, one after another. */
void fer_gemm_pack_b_avx512(int trans, const float *B, ptrdiff_t ldb, int p0, int kc,
                            int j0, int n, float *dst);

#endif
