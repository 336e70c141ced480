/* gemm.h - the engine's single-precision matrix product.
 *
 * fer_sgemm computes C = alpha * op(A) * op(B) + beta * C with cblas_sgemm's
 * row-major semantics: op(X) is X or its transpose, op(A) is M x K, op(B)
 * is K x N, C is M x N; element (i, j) of a row-major matrix X with leading
 * dimension ldx is X[i * ldx + j].
 *
 *   A is M x K (lda >= K) when ta == FER_NO_TRANS, K x M (lda >= M) when
 *   ta == FER_TRANS; B is K x N (ldb >= N) or N x K (ldb >= K); C is M x N
 *   (ldc >= N). A and B are only read; C must not overlap them.
 *   beta == 0: C is only written, never read (NaN or garbage there is
 *   overwritten, as OpenBLAS does). alpha == 0 or K == 0: C = beta * C.
 *   M == 0 or N == 0: nothing is touched.
 *
 * Returns 0, or -1 with fer_error() set if a dimension is negative or a
 * leading dimension is too small (nothing is written then).
 *
 * Which code runs:
 *   - On a CPU with AVX-512F, our own kernels (lib/gemm.c, gemm_avx512.c):
 *     OpenBLAS's speed here depends on OPENBLAS_CORETYPE, which users set
 *     (the Haswell kernels ran convolutions at half our rate), and even at
 *     its best it trailed PyTorch's convolutions.
 *   - Otherwise, or when the environment variable FER_GEMM is "openblas"
 *     (read once, at the first call), cblas_sgemm from OpenBLAS.
 *
 * Threads: our path splits the output into tiles over the engine's pool
 * (lib/parallel.h, sized by fer_nn_set_threads). It never splits the sum
 * over K, and every element is summed in the same order whatever the tile
 * it falls in, so the result is bitwise identical for every thread count.
 * The OpenBLAS path uses OpenBLAS's own threads. Safe to call from several
 * threads at once, and from inside a fer_parallel_for loop (the call then
 * runs in its own thread, with the same bits).
 *
 * Rounding: each element is a sum of K products rounded in float, in an
 * order that differs from OpenBLAS's; results agree with a
 * double-precision reference to about K * 2^-24 * sum |a||b|.
 */
#ifndef FER_GEMM_H
#define FER_GEMM_H

#include <stddef.h>

enum fer_trans { FER_NO_TRANS = 0, FER_TRANS = 1 };

int fer_sgemm(enum fer_trans ta, enum fer_trans tb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C,
              int ldc);

/* A convolution's input read as the B operand of a product ("implicit
 * GEMM"): the K x (images * P) column matrix that im2col would write,
 * P = out_h * out_w, row k = (c, ki, kj) in that order (c < channels),
 * column i * P + oh * out_w + ow, holding
 *   x[i * image_stride + (c * height + ih) * width + iw],
 *   ih = oh * stride_h - pad_h + ki * dilation_h,
 *   iw = ow * stride_w - pad_w + kj * dilation_w,
 * or 0 where (ih, iw) falls outside the height x width image. */
struct fer_conv_shape {
    int channels, height, width;
    int out_h, out_w;
    int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    int images;
    ptrdiff_t image_stride; /* floats from one image's channel 0 to the next's */
};

/* C = A * cols(x) with A an untransposed M x K matrix (lda >= K, K =
 * channels * kernel_h * kernel_w) and cols(x) the matrix above, never
 * written out: its panels are packed straight from x. Output column
 * i * P + q (image i, position q) goes to C[r * ldc + i * out_stride + q]
 * (out_stride: floats from one image's output to the next's, so that a
 * batch lands in NCHW place with ldc = P; out_stride = P and ldc =
 * images * P give an ordinary M x (images * P) matrix). C is only written.
 * The same products are summed in the same order as fer_sgemm's own
 * kernels do for A times the im2col matrix (C = 1 * A B + 0 * C; unless
 * images * P is so small, a few columns, that fer_sgemm would compute
 * that product transposed), so the bits equal that, and they are the
 * same for every thread count.
 * Returns 0; 1 when this path does not apply (the OpenBLAS backend, or an
 * input too large for its 32-bit lane offsets) and nothing was written,
 * the caller then doing im2col and fer_sgemm; -1 with fer_error() set on
 * bad sizes or no memory. */
int fer_sgemm_conv(int M, const float *A, int lda, const struct fer_conv_shape *s,
                   const float *x, float *C, ptrdiff_t ldc, ptrdiff_t out_stride);

/* The same product with the kernel taps that fall on the zero padding
 * skipped. Output positions fall into classes by which kernel rows and
 * columns read the image (9 for a 3 x 3 kernel with padding 1: corners,
 * edges, interior); each class is a product of its own over only its
 * valid taps, its columns gathered from x with no masks, its result
 * scattered to its places in C. The weights must be tap-major:
 * A[r][(ki * kernel_w + kj) * channels + c] (lda >= K), so that a class's
 * taps of one kernel row are a contiguous run of A's columns, read in
 * place. Output layout as fer_sgemm_conv (C only written).
 * Sums are in another order than im2col + fer_sgemm (per class, by tap
 * then channel, in K blocks that depend on the shape alone): not the same
 * bits as fer_sgemm_conv, but the same for every thread count.
 * Returns 0; 1 when fer_conv_padding_fraction(s) is 0 (nothing written);
 * -1 with fer_error() set on bad sizes or no memory. */
int fer_sgemm_conv_taps(int M, const float *A, int lda, const struct fer_conv_shape *s,
                        const float *x, float *C, ptrdiff_t ldc, ptrdiff_t out_stride);

/* The fraction of the products of cols(x) (gemm.h) whose input is padding,
 * which fer_sgemm_conv_taps skips; 0 when that path does not apply (the
 * OpenBLAS backend, an output row or column wholly in the padding, more
 * than 16 row or column classes, offsets past 32 bits). */
double fer_conv_padding_fraction(const struct fer_conv_shape *s);

/* Along one axis of a convolution (out positions, in pixels, kernel k):
 * the output positions [o0, o1) whose kernel taps [lo, hi) read the
 * image, the others the padding; consecutive positions with the same
 * taps form one range. Returns the count of ranges, 0 when a position
 * reads only padding or there would be more than FER_MAX_TAP_RANGES.
 * A tap class of fer_sgemm_conv_taps is a row range times a column range. */
struct fer_tap_range {
    int o0, o1, lo, hi;
};
#define FER_MAX_TAP_RANGES 16
int fer_conv_tap_ranges(int out, int in, int k, int stride, int pad, int dil,
                        struct fer_tap_range cls[FER_MAX_TAP_RANGES]);

/* The code a large product would run: "avx512" or "openblas". */
const char *fer_sgemm_backend(void);

#endif
