/* gemm.c - fer_sgemm: blocking, packing and threads around the AVX-512
 * micro-kernel of gemm_avx512.c (Goto/BLIS design), or OpenBLAS.
 *
 * Loops, outermost first, for one product:
 *   A transposed is packed once into MR-row panels, per K block; an
 *   untransposed A is read in place, MR rows at a time (its rows run
 *   along K, so a pack would be a transpose; the kernel broadcasts from 8
 *   row streams instead), only a last partial panel being packed.
 *   items: the output split into N blocks of n2 columns (and, when there
 *          are fewer N blocks than threads, into M chunks), one parallel
 *          loop over them;
 *     for each K block of kc <= KC_MAX:
 *       pack op(B)[K block, N block] into NR-column panels (L2-sized);
 *       for each A panel (MR x kc, 12 KB at most: stays in L1):
 *         for each B panel (kc x NR, streamed from L2): the kernel.
 * The A panel is the kernel's broadcast operand, read once per k step by 8
 * scalar loads, so it is the one kept in L1; the B panels are read as two
 * full vectors a step, which L2 delivers at a few bytes a cycle.
 *
 * Block sizes for Zen 4/5 (48 KB L1D, 1 MB L2 per core; Skylake-X is
 * alike): KC_MAX = 384 keeps an A panel at 12 KB, a quarter of L1, with
 * the two cache lines of B per step passing through; the packed B block,
 * kc x n2 floats, is held to 512 KB, half of L2, so that C tiles and the
 * A panels streaming in do not evict it. With a small K (the first
 * convolutions, K = 9 to 147) the block widens to the whole N so that
 * packing and threading are paid once. Measured here, KC_MAX from 256 to
 * 512 made no difference beyond the machine's noise (bench/gemm-bench).
 * A K longer than KC_MAX is cut in equal blocks that depend on K alone:
 * the sum order, and so the bits, never depend on the thread count.
 *
 * fer_sgemm_conv runs the same loops with the B block packed from a
 * convolution's input (gemm_conv_avx512.c) instead of from a matrix, and
 * may scatter C's columns into per-image outputs; a tile across two
 * images is computed into a buffer and copied out.
 *
 * Some products are computed transposed, C^T = op(B)^T op(A)^T into
 * scratch, then transposed back (sgemm_run says when): narrow outputs,
 * which would leave most of a 32-wide tile idle, and A B^T with the
 * shorter A, so that the transposing B pack falls on the smaller operand.
 */
#include "gemm.h"

#include "error.h"
#include "gemm_kernel.h"
#include "parallel.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MR FER_GEMM_MR
#define NR FER_GEMM_NR

enum { KC_MAX = 384 };
static const size_t B_BLOCK_BYTES = 512 * 1024;

static pthread_once_t choose_once = PTHREAD_ONCE_INIT;
static int use_ours;

static void choose(void)
{
#if defined(__x86_64__) || defined(__i386__)
    const char *env = getenv("FER_GEMM");
    __builtin_cpu_init();
    use_ours = __builtin_cpu_supports("avx512f") &&
               !(env != NULL && strcmp(env, "openblas") == 0);
#endif
}

const char *fer_sgemm_backend(void)
{
    pthread_once(&choose_once, choose);
    return use_ours ? "avx512" : "openblas";
}

/* Packing buffers, kept between calls: a training step makes hundreds of
 * products of the same few shapes, and fresh megabyte buffers would be
 * mmap'ed and page-faulted every time. One call at a time owns them; a
 * concurrent call allocates its own. */
struct buffers {
    float *a, *c;
    size_t a_cap, c_cap;
    int *idx;            /* fer_sgemm_conv_taps's offsets and K blocks */
    size_t idx_cap;
    float *t;            /* and its transposed input columns */
    size_t t_cap;
    float *b[FER_PARALLEL_MAX];
    size_t b_cap[FER_PARALLEL_MAX];
};
static struct buffers cached;
static pthread_mutex_t cached_lock = PTHREAD_MUTEX_INITIALIZER;

static int reserve(float **p, size_t *cap, size_t n)
{
    if (n <= *cap)
        return 0;
    free(*p);
    *cap = 0;
    *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (*p == NULL)
        return fer_fail("sgemm: out of memory for %zu packed floats", n);
    *cap = n;
    return 0;
}

static int reserve_ints(int **p, size_t *cap, size_t n)
{
    if (n <= *cap)
        return 0;
    free(*p);
    *cap = 0;
    *p = malloc(n * sizeof(int));
    if (*p == NULL)
        return fer_fail("sgemm: out of memory for %zu offsets", n);
    *cap = n;
    return 0;
}

static void release(struct buffers *b)
{
    free(b->a);
    free(b->c);
    free(b->idx);
    free(b->t);
    for (int i = 0; i < FER_PARALLEL_MAX; i++)
        free(b->b[i]);
}

struct job {
    int ta, tb, M, N, K;
    int direct_a;        /* full A panels read in place (A untransposed) */
    int serial;          /* too small to share: run in the caller */
    float alpha, beta;
    const float *A, *B;
    float *C;
    ptrdiff_t lda, ldb, ldc;
    int nkb;             /* K blocks */
    ptrdiff_t mpad;      /* M rounded up to MR */
    const float *apack;  /* packed A, K block p at mpad * (its first k) */
    int n2, nblocks;     /* N block width (a multiple of NR) and count */
    int mrows, mchunks;  /* M chunk height (a multiple of MR) and count */
    const struct fer_conv_shape *conv; /* B is cols(B) of this shape (gemm.h) */
    const struct fer_taps_b *taps; /* B is a tap class's columns of B */
    float *out;          /* taps: where column j of row r goes, at out[r * out_ld + */
    ptrdiff_t out_ld;    /* out_off[j]]; C is then scratch between K blocks */
    const int *out_off;
    const int *kb;       /* set: the K blocks, nkb pairs (first column, count) */
    ptrdiff_t cimg;      /* > 0: C column j at (j / cP) * cimg + j % cP */
    int cP;
    float **bbuf;        /* one B block per part */
    int nbufs;           /* how many */
    size_t bfloats;      /* the size of each */
    atomic_int next_slot;
    atomic_int failed;   /* a part could not get memory */
};

/* Below this many flops (about 40 us here) a product runs in the caller:
 * a round trip through the pool costs 10 us at best, and on a loaded
 * machine the second thread may not run at all for longer than that (the
 * 32 x 9 x 4096 weight gradient ran at half speed on two threads). The
 * split never changes the bits, so neither does this. */
static const double SERIAL_FLOPS = 8e6;

static void loop(const struct job *j, long n, fer_parallel_fn fn, void *ctx)
{
    if (j->serial)
        fn(ctx, 0, n);
    else
        fer_parallel_for(n, fn, ctx);
}

/* K block p: columns [*p0, *p0 + *kc) of A, rows of B. Without a list,
 * nkb equal blocks that depend on K alone. */
static inline void kblock(const struct job *j, int p, int *p0, int *kc)
{
    if (j->kb) {
        *p0 = j->kb[2 * p];
        *kc = j->kb[2 * p + 1];
        return;
    }
    *p0 = (int)((long)j->K * p / j->nkb);
    *kc = (int)((long)j->K * (p + 1) / j->nkb) - *p0;
}

/* Copy an m x nr tile between buf (row stride NR) and C columns col ..
 * col + nr of a job whose columns are images cP wide, cimg apart: one run
 * of columns per image the tile touches. */
static void tile_copy(const struct job *j, float *buf, int i, int col, int m, int nr,
                      int to_c)
{
    for (int t = 0; t < nr;) {
        const int cc = col + t, q = cc % j->cP;
        const int len = nr - t < j->cP - q ? nr - t : j->cP - q;
        float *c = j->C + (ptrdiff_t)i * j->ldc + (ptrdiff_t)(cc / j->cP) * j->cimg + q;
        for (int r = 0; r < m; r++)
            if (to_c)
                memcpy(c + (ptrdiff_t)r * j->ldc, buf + r * NR + t, sizeof(float) * len);
            else
                memcpy(buf + r * NR + t, c + (ptrdiff_t)r * j->ldc, sizeof(float) * len);
        t += len;
    }
}

/* One MR x NR tile (or less) of C at row i and column col, of an item's
 * A panel (ap, or rows of A in place) and B panel b. */
static void tile(const struct job *j, int kc, const float *ap, const float *arows,
                 const float *b, int i, int col, int mr, int nr, float beta, int beta_zero)
{
    float *c = j->C + (ptrdiff_t)i * j->ldc + col;
    ptrdiff_t ldc = j->ldc;
    float buf[MR * NR];
    int split = 0;
    if (j->cimg) {
        const int q = col % j->cP;
        /* A tile across two or more images is computed into buf and
         * copied out in pieces: the kernel does the same arithmetic, so
         * the bits do not depend on where the images fall. */
        split = q + nr > j->cP;
        c = split ? buf : j->C + (ptrdiff_t)i * ldc + (ptrdiff_t)(col / j->cP) * j->cimg + q;
        if (split)
            ldc = NR;
    }
    if (split && !beta_zero)
        tile_copy(j, buf, i, col, mr, nr, 0);
    if (j->direct_a && mr == MR)
        fer_gemm_kernel_rows_avx512(kc, arows, j->lda, b, c, ldc, mr, nr, j->alpha, beta,
                                    beta_zero);
    else
        fer_gemm_kernel_avx512(kc, ap, b, c, ldc, mr, nr, j->alpha, beta, beta_zero);
    if (split)
        tile_copy(j, buf, i, col, mr, nr, 1);
}

/* A tile of a tap class's product: computed in place in the scratch C
 * over K blocks, or, with one K block, in a buffer on the stack; after
 * the last block, copied out while it is in L1 (a separate pass over the
 * scratch cost 5-11% of a small forward). */
static void tile_taps(const struct job *j, int kc, const float *ap, const float *arows,
                      const float *b, int i, int col, int mr, int nr, float beta,
                      int beta_zero, int last)
{
    float buf[MR * NR];
    const int one = j->nkb == 1;
    float *c = one ? buf : j->C + (ptrdiff_t)i * j->ldc + col;
    const ptrdiff_t ldc = one ? NR : j->ldc;
    if (j->direct_a && mr == MR)
        fer_gemm_kernel_rows_avx512(kc, arows, j->lda, b, c, ldc, mr, nr, j->alpha, beta,
                                    beta_zero);
    else
        fer_gemm_kernel_avx512(kc, ap, b, c, ldc, mr, nr, j->alpha, beta, beta_zero);
    if (last)
        fer_gemm_scatter_tile_avx512(c, ldc, mr, nr, j->out_off + col,
                                     j->out + (ptrdiff_t)i * j->out_ld, j->out_ld);
}

static void run_items(void *ctx, long begin, long end)
{
    struct job *j = ctx;
    const int slot = atomic_fetch_add(&j->next_slot, 1);
    /* More parts than buffers only if the pool grew since they were
     * counted (fer_parallel_set_threads from another thread). */
    float *own = NULL, *bp = slot < j->nbufs ? j->bbuf[slot] : NULL;
    if (bp == NULL) {
        bp = own = aligned_alloc(64, (j->bfloats * sizeof(float) + 63) / 64 * 64);
        if (bp == NULL) {
            atomic_store(&j->failed, 1);
            return;
        }
    }
    for (long it = begin; it < end; it++) {
        const int j0 = (int)(it % j->nblocks) * j->n2, i0 = (int)(it / j->nblocks) * j->mrows;
        const int n = j->N - j0 < j->n2 ? j->N - j0 : j->n2;
        const int m = j->M - i0 < j->mrows ? j->M - i0 : j->mrows;
        for (int p = 0; p < j->nkb; p++) {
            int p0, kc;
            kblock(j, p, &p0, &kc);
            const float beta = p == 0 ? j->beta : 1.0f;
            const int beta_zero = p == 0 && j->beta == 0.0f;
            if (j->taps)
                fer_gemm_pack_taps_avx512(j->taps, j->B, p0, kc, j0, n, bp);
            else if (j->conv)
                fer_gemm_pack_conv_avx512(j->conv, j->B, p0, kc, j0, n, bp);
            else
                fer_gemm_pack_b_avx512(j->tb, j->B, j->ldb, p0, kc, j0, n, bp);
            const float *ap = j->apack + j->mpad * p0 + (ptrdiff_t)i0 * kc;
            for (int i = 0; i < m; i += MR, ap += (ptrdiff_t)MR * kc) {
                const int mr = m - i < MR ? m - i : MR;
                const float *arows = j->A + (ptrdiff_t)(i0 + i) * j->lda + p0;
                for (int jj = 0; jj < n; jj += NR) {
                    const int nr = n - jj < NR ? n - jj : NR;
                    if (j->taps)
                        tile_taps(j, kc, ap, arows, bp + (ptrdiff_t)jj * kc, i0 + i, j0 + jj,
                                  mr, nr, beta, beta_zero, p == j->nkb - 1);
                    else
                        tile(j, kc, ap, arows, bp + (ptrdiff_t)jj * kc, i0 + i, j0 + jj, mr,
                             nr, beta, beta_zero);
                }
            }
        }
    }
    free(own);
}

static int ceil_div(long a, long b)
{
    return (int)((a + b - 1) / b);
}

static int sgemm_ours(struct job *j, struct buffers *buf)
{
    const int T = j->serial ? 1 : fer_parallel_threads();
    int kc_max = 0;
    if (j->kb) {
        for (int p = 0; p < j->nkb; p++)
            kc_max = j->kb[2 * p + 1] > kc_max ? j->kb[2 * p + 1] : kc_max;
    } else {
        j->nkb = ceil_div(j->K, KC_MAX);
        kc_max = ceil_div(j->K, j->nkb);
    }
    j->mpad = (ptrdiff_t)ceil_div(j->M, MR) * MR;

    /* N blocks: L2-sized, at least one per thread when N allows. */
    int n2max = (int)(B_BLOCK_BYTES / sizeof(float) / kc_max) / NR * NR;
    if (n2max < NR)
        n2max = NR;
    int npanels = ceil_div(j->N, NR), nblocks = ceil_div(j->N, n2max);
    if (nblocks % T)
        nblocks += T - nblocks % T;
    if (nblocks > npanels)
        nblocks = npanels;
    j->n2 = ceil_div(npanels, nblocks) * NR;
    j->nblocks = ceil_div(j->N, j->n2);
    /* Too few N blocks to share: cut M too. */
    j->mchunks = 1;
    if (j->nblocks < T) {
        int mc = ceil_div(T, j->nblocks), mpanels = ceil_div(j->M, MR);
        j->mchunks = mc < mpanels ? mc : mpanels;
    }
    j->mrows = ceil_div(ceil_div(j->M, MR), j->mchunks) * MR;
    j->mchunks = ceil_div(j->M, j->mrows);
    const long items = (long)j->nblocks * j->mchunks;
    const int parts = items < T ? (int)items : T;

    if (reserve(&buf->a, &buf->a_cap, (size_t)j->mpad * j->K) < 0)
        return -1;
    for (int t = 0; t < parts; t++)
        if (reserve(&buf->b[t], &buf->b_cap[t], (size_t)kc_max * j->n2) < 0)
            return -1;
    /* An untransposed A is read in place, 8 rows at a time (packing it
     * would be a transpose); only a last, partial panel is packed, with
     * zero rows, so that the kernel never reads past A. */
    j->direct_a = !j->ta;
    const int first = j->direct_a ? j->M / MR * MR : 0;
    for (int p = 0; p < j->nkb && first < j->M; p++) {
        int p0, kc;
        kblock(j, p, &p0, &kc);
        fer_gemm_pack_a_avx512(j->ta, j->A, j->lda, first, j->M - first, p0, kc,
                               buf->a + j->mpad * p0 + (ptrdiff_t)first * kc);
    }
    j->apack = buf->a;
    j->bbuf = buf->b;
    j->nbufs = parts;
    j->bfloats = (size_t)kc_max * j->n2;
    atomic_init(&j->next_slot, 0);
    atomic_init(&j->failed, 0);
    loop(j, items, run_items, j);
    if (atomic_load(&j->failed))
        return fer_fail("sgemm: out of memory for a packing buffer");
    return 0;
}

/* The fraction of the kernel's lanes doing useful work on an M x N
 * output, as it is and transposed. A narrow output (a weight gradient of
 * a 1-channel convolution is 32 x 9, a classifier 64 x 7) fills a 32-wide
 * tile a quarter full; transposed, its 9 or 7 rows fill 8-row tiles. */
static int better_transposed(int M, int N)
{
    const double as_is = (double)N / (ceil_div(N, NR) * NR) * M / (ceil_div(M, MR) * MR);
    const double swapped = (double)M / (ceil_div(M, NR) * NR) * N / (ceil_div(N, MR) * MR);
    return swapped > 1.25 * as_is;
}

struct transpose_job {
    const float *t;
    float *c;
    ptrdiff_t ldc;
    int M, N;
    float beta;
};

/* Columns [16 * begin, 16 * end) of C from the scratch C^T. */
static void transpose_cols(void *ctx, long begin, long end)
{
    const struct transpose_job *t = ctx;
    const int j0 = (int)begin * 16, j1 = end * 16 < t->N ? (int)end * 16 : t->N;
    fer_gemm_transpose_add_avx512(t->t + (ptrdiff_t)j0 * t->M, t->M, t->M, j1 - j0, t->beta,
                                  t->beta == 0.0f, t->c + j0, t->ldc);
}

/* C = op(A) op(B) computed as C^T = op(B)^T op(A)^T into a scratch N x M
 * matrix, then added into C. alpha rounds once with the product, the
 * addition of beta * C once more: within the contract's bound, and, the
 * choice depending on the shape alone, the same for every thread count. */
static int sgemm_transposed(const struct job *in, struct buffers *buf)
{
    const int M = in->M, N = in->N;
    if (reserve(&buf->c, &buf->c_cap, (size_t)M * N) < 0)
        return -1;
    struct job j = {.ta = !in->tb, .tb = !in->ta, .M = N, .N = M, .K = in->K,
                    .alpha = in->alpha, .beta = 0.0f, .A = in->B, .B = in->A,
                    .C = buf->c, .lda = in->ldb, .ldb = in->lda, .ldc = M,
                    .serial = in->serial};
    if (sgemm_ours(&j, buf) < 0)
        return -1;
    struct transpose_job t = {buf->c, in->C, in->ldc, M, N, in->beta};
    loop(in, ceil_div(N, 16), transpose_cols, &t);
    return 0;
}

/* A B^T with a small output and a long K (the weight gradient of a
 * 1-channel convolution is 32 x 9 over K = 4096 positions; a classifier's
 * logits 64 x 7 over 512 features): both operands' rows run along K, so
 * each output is a dot product of two rows read in place, 4 x 3 of them at
 * a time, with no packing, which cost more than the arithmetic there. */
enum { DOT_ROWS = 4, DOT_COLS = 3 };

static int use_dot(const struct job *j)
{
    return !j->ta && j->tb && (long)j->M * j->N <= 1024 && j->K >= 64;
}

static void dot_items(void *ctx, long begin, long end)
{
    const struct job *j = ctx;
    const int col_tiles = ceil_div(j->N, DOT_COLS);
    for (long it = begin; it < end; it++) {
        const int i0 = (int)(it / col_tiles) * DOT_ROWS, j0 = (int)(it % col_tiles) * DOT_COLS;
        /* Rows past the edge repeat the first one; their sums are dropped. */
        const float *a[DOT_ROWS], *b[DOT_COLS];
        for (int r = 0; r < DOT_ROWS; r++)
            a[r] = j->A + (ptrdiff_t)(i0 + r < j->M ? i0 + r : i0) * j->lda;
        for (int q = 0; q < DOT_COLS; q++)
            b[q] = j->B + (ptrdiff_t)(j0 + q < j->N ? j0 + q : j0) * j->ldb;
        float out[DOT_ROWS][DOT_COLS];
        fer_gemm_dot_tile_avx512(j->K, a, b, out);
        for (int r = 0; r < DOT_ROWS && i0 + r < j->M; r++)
            for (int q = 0; q < DOT_COLS && j0 + q < j->N; q++) {
                float *c = j->C + (ptrdiff_t)(i0 + r) * j->ldc + j0 + q;
                *c = j->beta == 0.0f ? j->alpha * out[r][q]
                                     : fmaf(j->alpha, out[r][q], j->beta * *c);
            }
    }
}

/* The route for one product. Computed transposed: narrow outputs (see
 * better_transposed), and A B^T with A the shorter: both operands then
 * run along K, the one playing B must be transposed while packing, the one
 * playing A is read in place, and transposing the smaller one pays for the
 * pass over C when that saves twice C's size. (The weight gradient of a
 * convolution, dY cols^T, is such a product: 64 x 288 over K = 1024 for
 * cnn-s.) The choice depends on the shape alone. */
static int sgemm_run(struct job *j, struct buffers *buf)
{
    const int nt = !j->ta && j->tb;
    if (use_dot(j)) {
        loop(j, (long)ceil_div(j->M, DOT_ROWS) * ceil_div(j->N, DOT_COLS), dot_items, j);
        return 0;
    }
    if (better_transposed(j->M, j->N) ||
        (nt && (double)(j->N - j->M) * j->K > 2.0 * j->M * j->N))
        return sgemm_transposed(j, buf);
    return sgemm_ours(j, buf);
}

/* C = beta * C, with beta == 0 writing zeros over whatever C held. */
static void scale(int M, int N, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        float *c = C + (ptrdiff_t)i * ldc;
        if (beta == 0.0f)
            memset(c, 0, sizeof(float) * N);
        else if (beta != 1.0f)
            for (int k = 0; k < N; k++)
                c[k] *= beta;
    }
}

/* run(j) with the cached packing buffers, or, while another call holds
 * them, with buffers of its own. */
static int with_buffers(struct job *j, int (*run)(struct job *, struct buffers *))
{
    if (pthread_mutex_trylock(&cached_lock) == 0) {
        int rc = run(j, &cached);
        pthread_mutex_unlock(&cached_lock);
        return rc;
    }
    struct buffers own = {0};
    int rc = run(j, &own);
    release(&own);
    return rc;
}

int fer_sgemm(enum fer_trans ta, enum fer_trans tb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C,
              int ldc)
{
    if (M < 0 || N < 0 || K < 0)
        return fer_fail("sgemm: negative size %d x %d x %d", M, N, K);
    const int a_cols = ta == FER_TRANS ? M : K, b_cols = tb == FER_TRANS ? K : N;
    if (lda < (a_cols > 1 ? a_cols : 1) || ldb < (b_cols > 1 ? b_cols : 1) ||
        ldc < (N > 1 ? N : 1))
        return fer_fail("sgemm: leading dimensions %d, %d, %d below row lengths %d, %d, %d",
                        lda, ldb, ldc, a_cols, b_cols, N);
    if (M == 0 || N == 0)
        return 0;
    if (K == 0 || alpha == 0.0f) {
        scale(M, N, beta, C, ldc);
        return 0;
    }
    pthread_once(&choose_once, choose);
    if (!use_ours) {
        cblas_sgemm(CblasRowMajor, ta == FER_TRANS ? CblasTrans : CblasNoTrans,
                    tb == FER_TRANS ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
                    ldb, beta, C, ldc);
        return 0;
    }
    struct job j = {.ta = ta == FER_TRANS, .tb = tb == FER_TRANS, .M = M, .N = N, .K = K,
                    .alpha = alpha, .beta = beta, .A = A, .B = B, .C = C,
                    .lda = lda, .ldb = ldb, .ldc = ldc,
                    .serial = 2.0 * M * N * K < SERIAL_FLOPS};
    return with_buffers(&j, sgemm_run);
}

int fer_sgemm_conv(int M, const float *A, int lda, const struct fer_conv_shape *s,
                   const float *x, float *C, ptrdiff_t ldc, ptrdiff_t out_stride)
{
    const long K = (long)s->channels * s->kernel_h * s->kernel_w;
    const long P = (long)s->out_h * s->out_w, N = P * s->images;
    if (M < 0 || K < 1 || P < 1 || s->images < 1 || N > INT_MAX || K > INT_MAX)
        return fer_fail("sgemm_conv: bad size %d x %ld x %ld", M, N, K);
    if (lda < K || ldc < P || out_stride < P)
        return fer_fail("sgemm_conv: strides %d, %td, %td below %ld, %ld, %ld", lda, ldc,
                        out_stride, K, P, P);
    pthread_once(&choose_once, choose);
    /* The packer's lane offsets are 32-bit, from a panel's first image. */
    if (!use_ours || (double)s->image_stride * 33 >= INT_MAX ||
        (double)s->channels * s->height * s->width >= INT_MAX)
        return 1;
    if (M == 0)
        return 0;
    struct job j = {.ta = 0, .tb = 0, .M = M, .N = (int)N, .K = (int)K, .alpha = 1.0f,
                    .beta = 0.0f, .A = A, .B = x, .C = C, .lda = lda, .ldb = 0, .ldc = ldc,
                    .serial = 2.0 * M * N * K < SERIAL_FLOPS, .conv = s,
                    /* Images side by side are an ordinary matrix. */
                    .cimg = out_stride == P || s->images == 1 ? 0 : out_stride, .cP = (int)P};
    return with_buffers(&j, sgemm_ours);
}

/* Tap classes (fer_sgemm_conv_taps, gemm.h). The input position o *
 * stride - pad + t * dil grows with both o and t, so each position's
 * valid taps are an interval, and lo and hi never grow with o: equal
 * intervals are consecutive positions.
 *
 * The classes of one axis; returns their count, *real the valid taps
 * summed over the positions; 0 when a position reads only padding or
 * there are more than FER_MAX_TAP_RANGES classes. */
static int axis_classes(int out, int in, int k, int stride, int pad, int dil,
                        struct fer_tap_range *cls, long *real)
{
    int n = 0;
    *real = 0;
    for (int o = 0; o < out; o++) {
        const int base = o * stride - pad;
        const int lo = base >= 0 ? 0 : (-base + dil - 1) / dil;
        int hi = in - 1 - base < 0 ? 0 : (in - 1 - base) / dil + 1;
        if (hi > k)
            hi = k;
        if (lo >= hi)
            return 0;
        *real += hi - lo;
        if (n > 0 && cls[n - 1].lo == lo && cls[n - 1].hi == hi) {
            cls[n - 1].o1 = o + 1;
            continue;
        }
        if (n == FER_MAX_TAP_RANGES)
            return 0;
        cls[n++] = (struct fer_tap_range){o, o + 1, lo, hi};
    }
    return n;
}

int fer_conv_tap_ranges(int out, int in, int k, int stride, int pad, int dil,
                        struct fer_tap_range cls[FER_MAX_TAP_RANGES])
{
    long real;
    return axis_classes(out, in, k, stride, pad, dil, cls, &real);
}

/* The 32-bit offsets of the taps packer and of the class columns: every
 * input and output float of the batch within int range. */
static int taps_fit(const struct fer_conv_shape *s, ptrdiff_t out_stride)
{
    return (double)s->images * s->image_stride < INT_MAX &&
           (double)s->channels * s->height * s->width < INT_MAX &&
           (double)s->images * out_stride < INT_MAX;
}

double fer_conv_padding_fraction(const struct fer_conv_shape *s)
{
    pthread_once(&choose_once, choose);
    struct fer_tap_range rows[FER_MAX_TAP_RANGES], cols[FER_MAX_TAP_RANGES];
    long rreal, creal;
    if (!use_ours || s->out_h < 1 || s->out_w < 1 || s->images < 1 ||
        !taps_fit(s, (ptrdiff_t)s->out_h * s->out_w) ||
        !axis_classes(s->out_h, s->height, s->kernel_h, s->stride_h, s->pad_h,
                      s->dilation_h, rows, &rreal) ||
        !axis_classes(s->out_w, s->width, s->kernel_w, s->stride_w, s->pad_w, s->dilation_w,
                      cols, &creal))
        return 0;
    return 1.0 - (double)rreal * creal /
                     ((double)s->out_h * s->kernel_h * s->out_w * s->kernel_w);
}

/* One call of fer_sgemm_conv_taps; j first, so that with_buffers hands
 * it back. */
struct taps_call {
    struct job j;
    const struct fer_conv_shape *s;
    int M, lda;
    const float *A, *x;
    float *C;
    ptrdiff_t ldc, out_stride;
    struct fer_tap_range rows[FER_MAX_TAP_RANGES], cols[FER_MAX_TAP_RANGES];
    int nrows, ncols;
};

/* A class's K blocks, as (first column of A, count) pairs: per valid
 * kernel row, the run of its valid taps, all channels (tap-major A);
 * runs of whole kernel rows are contiguous and merged. Each run is cut
 * into equal blocks of at most KC_MAX that depend on the shape alone.
 * Returns the block count. */
static int class_kblocks(const struct fer_conv_shape *s, const struct fer_tap_range *r,
                         const struct fer_tap_range *c, int *kb)
{
    const int C = s->channels, KW = s->kernel_w, whole = c->lo == 0 && c->hi == KW;
    int n = 0;
    for (int ki = r->lo; ki < r->hi;) {
        const int last = whole ? r->hi : ki + 1; /* kernel rows [ki, last) */
        const int first = (ki * KW + c->lo) * C;
        const int len = ((last - 1) * KW + c->hi) * C - first;
        const int nb = ceil_div(len, KC_MAX);
        for (int b = 0; b < nb; b++) {
            const int b0 = (int)((long)len * b / nb), b1 = (int)((long)len * (b + 1) / nb);
            kb[2 * n] = first + b0;
            kb[2 * n + 1] = b1 - b0;
            n++;
        }
        ki = last;
    }
    return n;
}

/* Where a class's columns read: x itself, or a transposed copy of the
 * input columns a narrow class reads. Lane (img, oh, ow) reads tap
 * (ki, kj) of channel c at x[img * is + c * plane + (oh * SH - PH + ki * DH)
 * * row_step + (ow * SW - PW - col0 + kj * DW) * col_step]. */
struct class_source {
    const float *x;
    ptrdiff_t is;
    int plane, row_step, col_step, col0;
};

/* A class at most this many output columns wide, at stride 1, reads a
 * transposed copy of its input columns: its lanes then run down the
 * output rows, consecutive in the copy, where in x they are a row apart
 * and need a gather (Zen 4: some 40 cycles for 16 floats; with the edge
 * columns gathered, the packing took 9% of an 8 px forward). */
enum { NARROW_CLASS = 3 };

/* Input columns [iw0, iw0 + nw) of every image and channel as
 * t[img][c][iw - iw0][ih]. */
static void transpose_columns(const struct fer_conv_shape *s, const float *x, int iw0, int nw,
                              float *t)
{
    const int H = s->height, W = s->width;
    for (int img = 0; img < s->images; img++)
        for (int c = 0; c < s->channels; c++) {
            const float *p = x + img * s->image_stride + (ptrdiff_t)c * H * W + iw0;
            float *q = t + ((ptrdiff_t)img * s->channels + c) * nw * H;
            for (int ih = 0; ih < H; ih++)
                for (int w = 0; w < nw; w++)
                    q[w * H + ih] = p[ih * W + w];
        }
}

/* The source of the classes of column class c: x, or the transposed
 * copy of its columns in buf->t. */
static int class_source_of(const struct taps_call *t, const struct fer_tap_range *c,
                           struct buffers *buf, struct class_source *src)
{
    const struct fer_conv_shape *s = t->s;
    if (s->stride_w != 1 || c->o1 - c->o0 > NARROW_CLASS) {
        *src = (struct class_source){t->x, s->image_stride, s->height * s->width, s->width,
                                     1, 0};
        return 0;
    }
    const int iw0 = c->o0 - s->pad_w + c->lo * s->dilation_w;
    const int nw = (c->o1 - 1 - s->pad_w + (c->hi - 1) * s->dilation_w) - iw0 + 1;
    const ptrdiff_t is = (ptrdiff_t)s->channels * nw * s->height;
    if (reserve(&buf->t, &buf->t_cap, (size_t)s->images * is) < 0)
        return -1;
    transpose_columns(s, t->x, iw0, nw, buf->t);
    *src = (struct class_source){buf->t, is, nw * s->height, 1, s->height, iw0};
    return 0;
}

/* Each class: its columns' input and output offsets, its K blocks, its
 * product (scratch buf->c between K blocks), scattered tile by tile. */
static int run_taps(struct job *jj, struct buffers *buf)
{
    struct taps_call *t = (struct taps_call *)jj;
    const struct fer_conv_shape *s = t->s;
    const int KH = s->kernel_h, KW = s->kernel_w, C = s->channels;
    const int K = C * KH * KW;
    int max_nc = 0;
    for (int a = 0; a < t->nrows; a++)
        for (int b = 0; b < t->ncols; b++) {
            const int nc = s->images * (t->rows[a].o1 - t->rows[a].o0) *
                           (t->cols[b].o1 - t->cols[b].o0);
            max_nc = nc > max_nc ? nc : max_nc;
        }
    const int max_blocks = KH + K / KC_MAX + 2;
    if (reserve_ints(&buf->idx, &buf->idx_cap,
                     (size_t)KH * KW + 2 * (size_t)max_nc + 2 * max_blocks) < 0 ||
        reserve(&buf->c, &buf->c_cap, (size_t)t->M * max_nc) < 0)
        return -1;
    int *shift = buf->idx, *off = shift + KH * KW, *out_off = off + max_nc;
    int *kb = out_off + max_nc;
    for (int b = 0; b < t->ncols; b++) {
        const struct fer_tap_range *c = &t->cols[b];
        struct class_source src;
        if (class_source_of(t, c, buf, &src) < 0)
            return -1;
        for (int ki = 0; ki < KH; ki++)
            for (int kj = 0; kj < KW; kj++)
                shift[ki * KW + kj] = ki * s->dilation_h * src.row_step +
                                      kj * s->dilation_w * src.col_step;
        for (int a = 0; a < t->nrows; a++) {
            const struct fer_tap_range *r = &t->rows[a];
            int nc = 0;
            for (int img = 0; img < s->images; img++)
                for (int oh = r->o0; oh < r->o1; oh++)
                    for (int ow = c->o0; ow < c->o1; ow++, nc++) {
                        off[nc] = (int)(img * src.is +
                                        (ptrdiff_t)(oh * s->stride_h - s->pad_h) * src.row_step +
                                        (ow * s->stride_w - s->pad_w - src.col0) * src.col_step);
                        out_off[nc] = (int)(img * t->out_stride + (ptrdiff_t)oh * s->out_w + ow);
                    }
            const int nkb = class_kblocks(s, r, c, kb);
            const long kc_total = (long)C * (r->hi - r->lo) * (c->hi - c->lo);
            const struct fer_taps_b tb = {off, shift, nc, C, src.plane};
            struct job j = {.M = t->M, .N = nc, .K = K, .alpha = 1.0f, .beta = 0.0f,
                            .A = t->A, .lda = t->lda, .B = src.x, .C = buf->c, .ldc = nc,
                            .serial = 2.0 * t->M * nc * kc_total < SERIAL_FLOPS, .taps = &tb,
                            .kb = kb, .nkb = nkb, .out = t->C, .out_ld = t->ldc,
                            .out_off = out_off};
            if (sgemm_ours(&j, buf) < 0)
                return -1;
        }
    }
    return 0;
}

int fer_sgemm_conv_taps(int M, const float *A, int lda, const struct fer_conv_shape *s,
                        const float *x, float *C, ptrdiff_t ldc, ptrdiff_t out_stride)
{
    const long K = (long)s->channels * s->kernel_h * s->kernel_w;
    const long P = (long)s->out_h * s->out_w, N = P * s->images;
    if (M < 0 || K < 1 || P < 1 || s->images < 1 || N > INT_MAX || K > INT_MAX)
        return fer_fail("sgemm_conv_taps: bad size %d x %ld x %ld", M, N, K);
    if (lda < K || ldc < P || out_stride < P)
        return fer_fail("sgemm_conv_taps: strides %d, %td, %td below %ld, %ld, %ld", lda,
                        ldc, out_stride, K, P, P);
    if (fer_conv_padding_fraction(s) <= 0 || !taps_fit(s, out_stride) ||
        (double)M * ldc >= INT_MAX)
        return 1;
    if (M == 0)
        return 0;
    struct taps_call t = {.s = s, .M = M, .lda = lda, .A = A, .x = x, .C = C, .ldc = ldc,
                          .out_stride = out_stride};
    long real;
    t.nrows = axis_classes(s->out_h, s->height, s->kernel_h, s->stride_h, s->pad_h,
                           s->dilation_h, t.rows, &real);
    t.ncols = axis_classes(s->out_w, s->width, s->kernel_w, s->stride_w, s->pad_w,
                           s->dilation_w, t.cols, &real);
    return with_buffers(&t.j, run_taps);
}
