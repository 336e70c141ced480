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
 * beta * C over kc steps, a a packed A panel, b a packed B panel;
 * beta_zero: C is not read. */
void fer_gemm_kernel_avx512(int kc, const float *a, const float *b, float *c,
                            ptrdiff_t ldc, int m, int n, float alpha, float beta,
                            int beta_zero);

/* The same with A read in place: a points at op(A)[i0][p0] of a row-major,
 * untransposed A with leading dimension lda, and all MR rows must exist
 * (m == MR). The same products are summed in the same order, so both
 * kernels give the same bits. */
void fer_gemm_kernel_rows_avx512(int kc, const float *a, ptrdiff_t lda, const float *b,
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

/* Pack rows [p0, p0 + kc) x columns [j0, j0 + n) of cols(x) (gemm.h,
 * struct fer_conv_shape) into ceil(n / NR) panels of kc * NR floats, the
 * same floats as fer_gemm_pack_b_avx512 of the im2col matrix. Columns past
 * images * P are 0. Lane offsets are 32-bit: needs 33 * image_stride and
 * channels * height * width below 2^31 (fer_sgemm_conv checks). */
struct fer_conv_shape;
void fer_gemm_pack_conv_avx512(const struct fer_conv_shape *s, const float *x, int p0,
                               int kc, int j0, int n, float *dst);

/* The columns of one tap class of a convolution (fer_sgemm_conv_taps):
 * column j reads, for tap t and channel c, the input float at
 * x + off[j] + c * plane + shift[t], which lies inside the image for every
 * tap the class uses. Row p of the class's B is tap p / channels, channel
 * p % channels (A's tap-major column p). */
struct fer_taps_b {
    const int *off;   /* N offsets: each column's tap (0, 0) input, from x */
    const int *shift; /* per tap ki * kernel_w + kj: its offset from tap (0, 0) */
    int N, channels;
    int plane;        /* height * width */
};

/* Pack rows [p0, p0 + kc) x columns [j0, j0 + n) of that B into
 * ceil(n / NR) panels of kc * NR floats; columns past N are 0. */
void fer_gemm_pack_taps_avx512(const struct fer_taps_b *t, const float *x, int p0, int kc,
                               int j0, int n, float *dst);

/* Rows [0, mr) x columns [0, nr) of the tile c (row stride ldc) stored to
 * out[r * out_ld + off[q]]: consecutive offsets as masked vector stores. */
void fer_gemm_scatter_tile_avx512(const float *c, ptrdiff_t ldc, int mr, int nr,
                                  const int *off, float *out, ptrdiff_t out_ld);

/* C[i][j] = T[j][i] + beta * C[i][j] for i < rows, j < cols (one
 * rounding: a fused multiply-add); beta_zero: C is not read. */
void fer_gemm_transpose_add_avx512(const float *t, ptrdiff_t ldt, int rows, int cols,
                                   float beta, int beta_zero, float *c, ptrdiff_t ldc);

/* out[r][q] = sum over k < K of a[r][k] * b[q][k]: 4 x 3 dot products of
 * rows that run along K, summed 16 lanes wide and then across the lanes,
 * always in the same order. */
void fer_gemm_dot_tile_avx512(int K, const float *const a[4], const float *const b[3],
                              float out[4][3]);

#endif
