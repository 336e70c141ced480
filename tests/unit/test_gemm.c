/* test_gemm: fer_sgemm against a double-precision reference.
 *
 * Two kinds of data:
 *  - small integers (-4..4): every product and every partial sum is an
 *    integer below 2^24, exact in float whatever the summation order, and
 *    alpha, beta in {1, 0.5, -0.5, 0} scale exactly; the result must then
 *    equal the reference bit for bit, so a single lost, doubled or
 *    misplaced product fails, however long K is.
 *  - random normal floats: rounding now differs from the reference. Any
 *    order of summing K products, blocked or not, with or without FMA, is
 *    within K * u * sum |a||b| of the exact sum (u = 2^-24; Higham,
 *    Accuracy and Stability, 3.1), plus one rounding each for alpha and
 *    beta: the tolerance is (K + 2) u (|alpha| sum |a||b| + |beta c|). It is
 *    relative to sum |a||b|, not to |c|, because a sum of mixed signs can
 *    cancel to near zero while its rounding error does not.
 */
#include "check_helpers.h"

#include "error.h"
#include "gemm.h"
#include "parallel.h"
#include "rng.h"

#include <math.h>
#include <string.h>

struct problem {
    int ta, tb, M, N, K, lda, ldb, ldc;
    float alpha, beta;
    float *A, *B, *C, *C0;
};

static const int PAD = 3; /* extra columns in every leading dimension */

static void fill(float *x, size_t n, struct fer_rng *r, int integers)
{
    for (size_t i = 0; i < n; i++)
        x[i] = integers ? (float)((int)(fer_rng_uniform(r) * 9) - 4)
                        : (float)fer_rng_normal(r);
}

static void make(struct problem *p, int ta, int tb, int M, int N, int K, float alpha,
                 float beta, struct fer_rng *r, int integers)
{
    *p = (struct problem){ta, tb, M, N, K, 0, 0, 0, alpha, beta, NULL, NULL, NULL, NULL};
    const int arows = ta ? K : M, acols = ta ? M : K;
    const int brows = tb ? N : K, bcols = tb ? K : N;
    p->lda = acols + PAD;
    p->ldb = bcols + PAD;
    p->ldc = N + PAD;
    p->A = malloc(sizeof(float) * ((size_t)arows * p->lda + 1));
    p->B = malloc(sizeof(float) * ((size_t)brows * p->ldb + 1));
    p->C = malloc(sizeof(float) * ((size_t)M * p->ldc + 1));
    p->C0 = malloc(sizeof(float) * ((size_t)M * p->ldc + 1));
    ck_assert(p->A && p->B && p->C && p->C0);
    fill(p->A, (size_t)arows * p->lda, r, integers);
    fill(p->B, (size_t)brows * p->ldb, r, integers);
    fill(p->C0, (size_t)M * p->ldc, r, integers);
    if (beta == 0.0f) /* must be overwritten, never read */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                p->C0[(size_t)i * p->ldc + j] = NAN;
    memcpy(p->C, p->C0, sizeof(float) * (size_t)M * p->ldc);
}

static void drop(struct problem *p)
{
    free(p->A);
    free(p->B);
    free(p->C);
    free(p->C0);
}

static double a_at(const struct problem *p, int i, int k)
{
    return p->ta ? p->A[(size_t)k * p->lda + i] : p->A[(size_t)i * p->lda + k];
}

static double b_at(const struct problem *p, int k, int j)
{
    return p->tb ? p->B[(size_t)j * p->ldb + k] : p->B[(size_t)k * p->ldb + j];
}

static int run(struct problem *p)
{
    return fer_sgemm(p->ta ? FER_TRANS : FER_NO_TRANS, p->tb ? FER_TRANS : FER_NO_TRANS,
                     p->M, p->N, p->K, p->alpha, p->A, p->lda, p->B, p->ldb, p->beta, p->C,
                     p->ldc);
}

/* Compare p->C with the reference; exact: demand equality. The padding
 * columns of C must be untouched. */
static void verify(const struct problem *p, int exact)
{
    const double u = 1.0 / (1 << 24);
    for (int i = 0; i < p->M; i++) {
        for (int j = 0; j < p->N; j++) {
            double sum = 0, mag = 0;
            for (int k = 0; k < p->K; k++) {
                double t = a_at(p, i, k) * b_at(p, k, j);
                sum += t;
                mag += fabs(t);
            }
            const double c0 = p->beta == 0.0f ? 0 : p->C0[(size_t)i * p->ldc + j];
            const double want = p->alpha * sum + p->beta * c0;
            const double got = p->C[(size_t)i * p->ldc + j];
            const double tol =
                exact ? 0 : (p->K + 2) * u * (fabs(p->alpha) * mag + fabs(p->beta * c0));
            if (!(fabs(got - want) <= tol))
                ck_abort_msg("%s%s M=%d N=%d K=%d alpha=%g beta=%g: C[%d][%d] = %.9g, "
                             "want %.9g (tol %.3g)",
                             p->ta ? "T" : "N", p->tb ? "T" : "N", p->M, p->N, p->K,
                             p->alpha, p->beta, i, j, got, want, tol);
        }
        for (int j = p->N; j < p->ldc; j++)
            ck_assert_mem_eq(&p->C[(size_t)i * p->ldc + j], &p->C0[(size_t)i * p->ldc + j],
                             sizeof(float));
    }
}

static const int SIZES[] = {1, 2, 15, 16, 17, 31, 33, 100, 257};
enum { NSIZES = sizeof SIZES / sizeof SIZES[0] };
static const float ALPHAS[] = {1.0f, 0.5f};
static const float BETAS[] = {0.0f, 1.0f, -0.5f};

/* Every size combination in every transposition, with alpha and beta
 * cycling so that each pair meets every size. _i is the transposition. */
START_TEST(test_shapes_exact)
{
    struct fer_rng r;
    fer_rng_seed(&r, 10 + _i);
    const int ta = _i & 1, tb = _i >> 1;
    int n = 0;
    for (int a = 0; a < NSIZES; a++)
        for (int b = 0; b < NSIZES; b++)
            for (int c = 0; c < NSIZES; c++, n++) {
                struct problem p;
                make(&p, ta, tb, SIZES[a], SIZES[b], SIZES[c], ALPHAS[n % 2],
                     BETAS[(n / 2) % 3], &r, 1);
                ck_assert_int_eq(run(&p), 0);
                verify(&p, 1);
                drop(&p);
            }
}
END_TEST

/* The engine's convolution products (forward W * cols, weight gradient
 * dY * cols^T, input gradient W^T * dY) and K long enough to be cut into
 * several blocks, on rounded data. */
START_TEST(test_conv_shapes_rounded)
{
    static const int shapes[][5] = {
        /* ta tb M N K */
        {0, 0, 32, 4096, 9},    {0, 0, 64, 1024, 288}, {0, 1, 64, 288, 1024},
        {1, 0, 288, 1024, 64},  {0, 0, 128, 512, 576}, {0, 1, 128, 576, 512},
        {0, 0, 16, 40, 4608},   {1, 1, 33, 47, 1000},  {0, 1, 8, 147, 3136},
        {0, 1, 32, 9, 4096},    {0, 1, 64, 7, 512},
    };
    struct fer_rng r;
    fer_rng_seed(&r, 3);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int b = 0; b < 3; b++) {
            const int *d = shapes[s];
            struct problem p;
            make(&p, d[0], d[1], d[2], d[3], d[4], ALPHAS[b % 2], BETAS[b], &r, 0);
            ck_assert_int_eq(run(&p), 0);
            verify(&p, 0);
            drop(&p);
        }
}
END_TEST

/* The same bits for 1, 2 and 3 threads (products of at least 8 MFLOP:
 * smaller ones run in the caller), on shapes that split over N,
 * over M (few columns) and over several K blocks, on products computed
 * transposed (a narrow output; A B^T with A the shorter) and as dot
 * products (A B^T with a small output). */
START_TEST(test_threads_bitwise)
{
    static const int shapes[][5] = {
        {0, 0, 64, 1000, 300}, {0, 1, 256, 40, 900}, {1, 0, 100, 257, 400},
        {0, 0, 7, 3000, 200},  {0, 1, 64, 288, 1000}, {0, 1, 31, 33, 4100},
    };
    struct fer_rng r;
    fer_rng_seed(&r, 4);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int *d = shapes[s];
        struct problem p;
        make(&p, d[0], d[1], d[2], d[3], d[4], 0.5f, -0.5f, &r, 0);
        const size_t bytes = sizeof(float) * (size_t)p.M * p.ldc;
        float *first = malloc(bytes);
        ck_assert_ptr_nonnull(first);
        for (int t = 1; t <= 3; t++) {
            ck_assert_int_eq(fer_parallel_set_threads(t), 0);
            memcpy(p.C, p.C0, bytes);
            ck_assert_int_eq(run(&p), 0);
            if (t == 1) {
                verify(&p, 0);
                memcpy(first, p.C, bytes);
            } else {
                ck_assert_msg(memcmp(first, p.C, bytes) == 0, "shape %zu: %d threads differ",
                              s, t);
            }
        }
        fer_parallel_set_threads(1);
        free(first);
        drop(&p);
    }
}
END_TEST

struct nested {
    struct problem p[4];
    int rc[4];
};

static void run_nested(void *ctx, long begin, long end)
{
    struct nested *n = ctx;
    for (long i = begin; i < end; i++)
        n->rc[i] = run(&n->p[i]);
}

/* Called from inside a pool loop (two products at once, one per thread,
 * each then run serially): no deadlock, and the bits of a lone call. */
START_TEST(test_nested_in_parallel_loop)
{
    static struct nested n;
    struct fer_rng r;
    fer_rng_seed(&r, 6);
    float *want[4];
    for (int i = 0; i < 4; i++) {
        make(&n.p[i], i & 1, i >> 1, 40 + i, 300, 500, 1.0f, 0.0f, &r, 0);
        ck_assert_int_eq(run(&n.p[i]), 0);
        const size_t bytes = sizeof(float) * (size_t)n.p[i].M * n.p[i].ldc;
        want[i] = malloc(bytes);
        ck_assert_ptr_nonnull(want[i]);
        memcpy(want[i], n.p[i].C, bytes);
        memcpy(n.p[i].C, n.p[i].C0, bytes);
    }
    ck_assert_int_eq(fer_parallel_set_threads(2), 0);
    fer_parallel_for(4, run_nested, &n);
    fer_parallel_set_threads(1);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(n.rc[i], 0);
        ck_assert(memcmp(want[i], n.p[i].C,
                         sizeof(float) * (size_t)n.p[i].M * n.p[i].ldc) == 0);
        free(want[i]);
        drop(&n.p[i]);
    }
}
END_TEST

/* Degenerate sizes: M or N zero touch nothing; K zero or alpha zero
 * give beta * C, and zeros over NaN for beta 0. */
START_TEST(test_degenerate)
{
    float c[4] = {NAN, 2, 3, 4}, a[4] = {1, 1, 1, 1};
    ck_assert_int_eq(fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, 0, 2, 2, 1, a, 2, a, 2, 0, c, 2), 0);
    ck_assert(isnan(c[0]));
    ck_assert_int_eq(fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, 2, 2, 0, 1, a, 1, a, 2, 0, c, 2), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(c[i], 0);
    float d[4] = {1, 2, 3, 4};
    ck_assert_int_eq(fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, 2, 2, 2, 0, a, 2, a, 2, -0.5f, d, 2), 0);
    ck_assert_float_eq(d[3], -2);
}
END_TEST

START_TEST(test_bad_arguments)
{
    float x[16] = {0};
    ck_assert_int_eq(fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, -1, 2, 2, 1, x, 2, x, 2, 0, x, 2), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "negative"));
    ck_assert_int_eq(fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, 2, 2, 3, 1, x, 2, x, 2, 0, x, 2), -1);
    ck_assert_int_eq(fer_sgemm(FER_TRANS, FER_NO_TRANS, 3, 2, 2, 1, x, 2, x, 2, 0, x, 2), -1);
    ck_assert_int_eq(fer_sgemm(FER_NO_TRANS, FER_TRANS, 2, 2, 3, 1, x, 3, x, 2, 0, x, 2), -1);
    ck_assert_int_eq(fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, 2, 3, 2, 1, x, 2, x, 3, 0, x, 2), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "leading dimension"));
}
END_TEST

/* Our kernels run wherever AVX-512F is, unless FER_GEMM=openblas. */
START_TEST(test_backend_default)
{
    const char *env = getenv("FER_GEMM");
    if (env && strcmp(env, "openblas") == 0)
        return;
    __builtin_cpu_init();
    ck_assert_str_eq(fer_sgemm_backend(),
                     __builtin_cpu_supports("avx512f") ? "avx512" : "openblas");
}
END_TEST

/* FER_GEMM=openblas, read once per process: checked in a child of our
 * own so that it holds whatever Check's fork mode. */
static int backend_openblas_exact(void)
{
    struct fer_rng r;
    fer_rng_seed(&r, 5);
    struct problem p;
    make(&p, 0, 1, 33, 100, 257, 0.5f, -0.5f, &r, 1);
    int ok = strcmp(fer_sgemm_backend(), "openblas") == 0 && run(&p) == 0;
    for (int i = 0; ok && i < p.M; i++)
        for (int j = 0; ok && j < p.N; j++) {
            double sum = 0;
            for (int k = 0; k < p.K; k++)
                sum += a_at(&p, i, k) * b_at(&p, k, j);
            ok = p.C[(size_t)i * p.ldc + j] ==
                 (float)(0.5 * sum - 0.5 * p.C0[(size_t)i * p.ldc + j]);
        }
    return ok;
}

START_TEST(test_backend_openblas)
{
    fer_check_in_child_with_env("FER_GEMM", "openblas", backend_openblas_exact);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("fer_sgemm");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_shapes_exact, 0, 4);
    tcase_add_test(tc, test_conv_shapes_rounded);
    tcase_add_test(tc, test_threads_bitwise);
    tcase_add_test(tc, test_nested_in_parallel_loop);
    tcase_add_test(tc, test_degenerate);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_backend_default);
    tcase_add_test(tc, test_backend_openblas);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fer_run_suite(suite());
}
