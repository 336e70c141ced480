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

enum fer_trans { FER_NO_TRANS = 0, FER_TRANS = 1 };

int fer_sgemm(enum fer_trans ta, enum fer_trans tb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C,
              int ldc);

/* The code a large product would run: "avx512" or "openblas". */
const char *fer_sgemm_backend(void);

#endif
