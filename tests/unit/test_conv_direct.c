/* test_conv_direct: the few-row convolutions of conv_direct.h against a
 * convolution summed in double precision.
 *
 *  - Forward and weight gradient over 1 to 3 channels, 1x1 to 5x5 kernels,
 *    paddings from 0 to past the kernel, widths on both sides of the 16
 *    lanes, 1 to 35 output channels (blocks of 16 and their remainders),
 *    1 and 3 images spaced further apart than their size.
 *  - The weight gradient adds to what dw held.
 *  - The same bits at 1, 2 and 3 threads.
 *  - Stride 2, dilation 2, K = 32 and the OpenBLAS backend are refused
 *    (1, nothing written).
 */
#include "check_helpers.h"

#include "conv_direct.h"
#include "conv_reference.h"
#include "nn.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int avx512(void)
{
    return strcmp(fer_sgemm_backend(), "avx512") == 0;
}

static int K_of(const struct fer_conv_shape *s)
{
    return s->channels * s->kernel_h * s->kernel_w;
}

static struct fer_conv_shape shape(int C, int H, int W, int k, int pad, int N)
{
    struct fer_conv_shape s = {C, H, W, H + 2 * pad - k + 1, W + 2 * pad - k + 1, k, k, 1, 1,
                               pad, pad, 1, 1, N, (ptrdiff_t)C * H * W + 7};
    return s;
}

static float *random_floats(size_t n, struct fer_rng *r)
{
    float *p = malloc(n * sizeof(float));
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)fer_rng_normal(r);
    return p;
}

/* Worst error of dw - dw0 against the sum of dy times the tap inputs,
 * relative to the sum of their magnitudes. */
static double grad_error(const struct fer_conv_shape *s, int M, const float *x,
                         const float *dy, ptrdiff_t ys, const float *dw, const float *dw0)
{
    const int P = s->out_h * s->out_w, K = K_of(s);
    double worst = 0;
    for (int o = 0; o < M; o++)
        for (int k = 0; k < K; k++) {
            double sum = 0, mag = 1e-30;
            for (int i = 0; i < s->images; i++)
                for (int q = 0; q < P; q++) {
                    const double p = dy[i * ys + o * P + q] * conv_tap_input(s, x, i, k, q);
                    sum += p;
                    mag += fabs(p);
                }
            /* dw holds dw0 + sum rounded to a float: dw0 is in the scale. */
            const double e = fabs((double)dw[o * K + k] - dw0[o * K + k] - sum) /
                             (mag + fabs(dw0[o * K + k]));
            worst = e > worst ? e : worst;
        }
    return worst;
}

static void check_geometry(int C, int H, int W, int k, int pad, int N, int M,
                           struct fer_rng *r, struct fer_arena *a)
{
    const struct fer_conv_shape s = shape(C, H, W, k, pad, N);
    const int K = K_of(&s);
    const ptrdiff_t P = (ptrdiff_t)s.out_h * s.out_w, ys = M * P + 3;
    float *x = random_floats((size_t)N * s.image_stride, r);
    float *w = random_floats((size_t)M * K, r);
    float *y = random_floats((size_t)N * ys, r);
    float *dw0 = random_floats((size_t)M * K, r);
    float *dw = malloc(sizeof(float) * M * K);
    ck_assert_ptr_nonnull(dw);
    memcpy(dw, dw0, sizeof(float) * M * K);
    ck_assert_int_eq(fer_conv_direct_forward(M, w, &s, x, y, ys, a), 0);
    const double fe = conv_worst_error(&s, M, w, x, y, ys);
    ck_assert_msg(fe < 1e-6, "C %d %dx%d k %d pad %d N %d M %d: forward error %g", C, H, W,
                  k, pad, N, M, fe);
    /* y as the output gradient. */
    ck_assert_int_eq(fer_conv_direct_weight_grad(M, &s, x, y, ys, dw, a), 0);
    const double ge = grad_error(&s, M, x, y, ys, dw, dw0);
    ck_assert_msg(ge < 1e-6, "C %d %dx%d k %d pad %d N %d M %d: weight gradient error %g", C,
                  H, W, k, pad, N, M, ge);
    ck_assert_int_eq(fer_arena_used(a), 0);
    free(x);
    free(w);
    free(y);
    free(dw0);
    free(dw);
}

START_TEST(test_matches_double)
{
    if (!avx512())
        return;
    static const int kernels[][3] = {{1, 3, 1}, {3, 3, 0}, {3, 3, 1}, {2, 3, 2},
                                     {1, 5, 2}, {1, 5, 4}, {1, 1, 0}, {1, 1, 1}};
    static const int widths[] = {1, 5, 16, 17, 33};
    static const int outputs[] = {1, 16, 17, 35};
    struct fer_rng r;
    fer_rng_seed(&r, 3);
    struct fer_arena *a = fer_arena_new(0);
    for (size_t ki = 0; ki < sizeof kernels / sizeof kernels[0]; ki++)
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
            for (size_t mi = 0; mi < sizeof outputs / sizeof outputs[0]; mi++) {
                const int C = kernels[ki][0], k = kernels[ki][1], pad = kernels[ki][2];
                const int H = 2 + (int)wi, W = widths[wi];
                if (H + 2 * pad < k || W + 2 * pad < k)
                    continue;
                check_geometry(C, H, W, k, pad, 1 + 2 * (int)(mi % 2), outputs[mi], &r, a);
            }
    fer_arena_free(a);
}
END_TEST

/* Forward and weight gradient of a 64 x 64 grey batch at t threads, one
 * after the other in out. */
static void run_at(int threads, const float *x, const float *w, float *out)
{
    ck_assert_int_eq(fer_nn_set_threads(threads), 0);
    const struct fer_conv_shape s = shape(1, 64, 64, 3, 1, 5);
    const ptrdiff_t ys = 32 * 64 * 64;
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_int_eq(fer_conv_direct_forward(32, w, &s, x, out, ys, a), 0);
    float *dw = out + 5 * ys;
    memset(dw, 0, sizeof(float) * 32 * 9);
    ck_assert_int_eq(fer_conv_direct_weight_grad(32, &s, x, out, ys, dw, a), 0);
    fer_arena_free(a);
}

START_TEST(test_same_bits_for_threads)
{
    if (!avx512())
        return;
    struct fer_rng r;
    fer_rng_seed(&r, 4);
    const size_t n = 5 * 32 * 64 * 64 + 32 * 9;
    float *x = random_floats(5 * (64 * 64 + 7), &r), *w = random_floats(32 * 9, &r);
    float *one = malloc(n * sizeof(float)), *more = malloc(n * sizeof(float));
    ck_assert_ptr_nonnull(one);
    ck_assert_ptr_nonnull(more);
    run_at(1, x, w, one);
    for (int t = 2; t <= 3; t++) {
        run_at(t, x, w, more);
        ck_assert_msg(memcmp(one, more, n * sizeof(float)) == 0, "differ at %d threads", t);
    }
    fer_nn_set_threads(1);
    free(x);
    free(w);
    free(one);
    free(more);
}
END_TEST

START_TEST(test_refused)
{
    float x[64] = {0}, w[40] = {0}, y[64] = {1}, dw[40] = {1};
    struct fer_arena *a = fer_arena_new(0);
    struct fer_conv_shape s = shape(1, 4, 4, 3, 1, 1);
    s.stride_w = 2;
    s.out_w = 2;
    ck_assert_int_eq(fer_conv_direct_forward(1, w, &s, x, y, 16, a), 1);
    s = shape(1, 4, 4, 3, 2, 1);
    s.dilation_h = 2;
    s.out_h = 4;
    ck_assert_int_eq(fer_conv_direct_weight_grad(1, &s, x, y, 16, dw, a), 1);
    s = shape(2, 2, 2, 4, 1, 1); /* K = 32 */
    ck_assert_int_eq(fer_conv_direct_forward(1, w, &s, x, y, 1, a), 1);
    ck_assert(y[0] == 1 && dw[0] == 1);
    fer_arena_free(a);
}
END_TEST

static int refused_by_openblas(void)
{
    float x[16] = {0}, w[9] = {0}, y[16] = {0};
    struct fer_arena *a = fer_arena_new(0);
    const struct fer_conv_shape s = shape(1, 4, 4, 3, 1, 1);
    const int rc = fer_conv_direct_forward(1, w, &s, x, y, 16, a);
    fer_arena_free(a);
    return rc == 1;
}

START_TEST(test_refused_by_openblas)
{
    fer_check_in_child_with_env("FER_GEMM", "openblas", refused_by_openblas);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("conv_direct");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_matches_double);
    tcase_add_test(tc, test_same_bits_for_threads);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_refused_by_openblas);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fer_run_suite(suite());
}
