/* test_conv_winograd: F(2x2, 3x3) convolutions (fer_conv_winograd)
 * against a direct convolution in double precision.
 *
 *  - Odd and even heights and widths from 1 to 30, not square; channels
 *    and output channels that are not multiples of 8 or 32; 1 to 3
 *    images, with gaps between the images in x and y (a read of the
 *    neighbouring image instead of padding, or a write past an image's
 *    outputs, is caught); chunks of 32 and 64 tiles that end inside a
 *    tile row and inside an image, and the default chunk.
 *  - The error bound: each output is the direct sum of 9 C products,
 *    rearranged; the transforms add at most 4 inputs, 9 weights (halved
 *    exactly) and 9 products, each sum rounding once per addition, and
 *    a tile's intermediates also carry its neighbouring outputs' terms.
 *    Relative to mag = sum |w||x| of the output, we allow 4e-6 (64
 *    roundings of 2^-24); the worst measured over these shapes is
 *    3.5e-7, and a wrong tap, sign or padding gives errors of order 1.
 *  - The same bits whatever the chunk size and the thread count (1/2/3).
 *  - Shapes it does not fit (stride 2, padding 0, 5 x 5) return 1 and
 *    write nothing.
 */
#include "check_helpers.h"

#include "arena.h"
#include "conv_reference.h"
#include "conv_winograd.h"
#include "gemm.h"
#include "nn.h"
#include "rng.h"

#include <stdlib.h>
#include <string.h>

enum { GAP = 7 }; /* floats between images, in x and in y */

static int have_avx512(void)
{
    return strcmp(fer_sgemm_backend(), "avx512") == 0;
}

struct problem {
    struct fer_conv_shape s;
    int M;
    float *x, *w, *y;
    ptrdiff_t ys;
};

static void problem_new(struct problem *p, int C, int M, int H, int W, int N, uint64_t seed)
{
    p->s = (struct fer_conv_shape){C, H, W, H, W, 3, 3, 1, 1, 1, 1, 1, 1, N,
                                   (ptrdiff_t)C * H * W + GAP};
    p->M = M;
    p->ys = (ptrdiff_t)M * H * W + GAP;
    const size_t nx = (size_t)N * p->s.image_stride, nw = (size_t)M * C * 9;
    const size_t ny = (size_t)N * p->ys;
    p->x = malloc(sizeof(float) * nx);
    p->w = malloc(sizeof(float) * nw);
    p->y = malloc(sizeof(float) * ny);
    ck_assert(p->x && p->w && p->y);
    struct fer_rng r;
    fer_rng_seed(&r, seed);
    for (size_t i = 0; i < nx; i++)
        p->x[i] = (float)fer_rng_normal(&r);
    /* The gaps hold huge values: reading one instead of padding shows. */
    for (int i = 0; i < N; i++)
        for (int g = 0; g < GAP; g++)
            p->x[i * p->s.image_stride + (ptrdiff_t)C * H * W + g] = 1e30f;
    for (size_t i = 0; i < nw; i++)
        p->w[i] = (float)fer_rng_normal(&r);
    for (size_t i = 0; i < ny; i++)
        p->y[i] = -7.0f; /* sentinel: must survive in the gaps */
}

static void problem_free(struct problem *p)
{
    free(p->x);
    free(p->w);
    free(p->y);
}

static int run(struct problem *p, int chunk)
{
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_ptr_nonnull(a);
    int rc = fer_conv_winograd(p->M, p->w, &p->s, p->x, p->y, p->ys, chunk, a);
    fer_arena_free(a);
    return rc;
}

/* The worst |y - direct| / sum |w||x| over every output (conv_reference.h);
 * the gaps' sentinels must be intact. */
static double worst_error(const struct problem *p)
{
    const struct fer_conv_shape *s = &p->s;
    for (int i = 0; i < s->images; i++)
        for (int g = 0; g < GAP; g++)
            ck_assert_msg(p->y[i * p->ys + (ptrdiff_t)p->M * s->height * s->width + g] == -7.0f,
                          "image %d: written past its outputs", i);
    return conv_worst_error(s, p->M, p->w, p->x, p->y, p->ys);
}

START_TEST(test_direct)
{
    if (!have_avx512())
        return;
    /* C, M, H, W, images */
    static const int shapes[][5] = {
        {1, 1, 1, 1, 1},    {3, 5, 1, 2, 2},    {5, 3, 2, 1, 3},   {7, 9, 2, 3, 1},
        {9, 7, 3, 2, 2},    {13, 11, 5, 7, 3},  {11, 13, 8, 6, 1}, {17, 19, 9, 14, 2},
        {33, 7, 14, 9, 3},  {6, 37, 15, 15, 2}, {3, 10, 30, 17, 1}, {21, 12, 29, 30, 2},
        {70, 41, 7, 13, 3}, {2, 70, 16, 28, 1}, {40, 24, 11, 19, 3},
    };
    static const int chunks[] = {32, 64, 0};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int ci = 0; ci < 3; ci++) {
            const int *sh = shapes[i];
            struct problem p;
            problem_new(&p, sh[0], sh[1], sh[2], sh[3], sh[4], 100 + i);
            ck_assert_int_eq(run(&p, chunks[ci]), 0);
            const double err = worst_error(&p), bound = 4e-6;
            ck_assert_msg(err < bound,
                          "C %d M %d %dx%d x %d, chunk %d: error %g (bound %g)", sh[0],
                          sh[1], sh[2], sh[3], sh[4], chunks[ci], err, bound);
            problem_free(&p);
        }
}
END_TEST

/* y of one run, copied out. */
static float *outputs(int C, int M, int H, int W, int N, int chunk, int threads)
{
    ck_assert_int_eq(fer_nn_set_threads(threads), 0);
    struct problem p;
    problem_new(&p, C, M, H, W, N, 7);
    ck_assert_int_eq(run(&p, chunk), 0);
    fer_nn_set_threads(1);
    float *y = p.y;
    p.y = NULL;
    problem_free(&p);
    return y;
}

START_TEST(test_same_bits)
{
    if (!have_avx512())
        return;
    /* 28 x 28, 3 images: 588 tiles, chunks of 32 to 320 tiles, several
     * per thread. */
    const int C = 24, M = 40, H = 28, W = 27, N = 3;
    const size_t n = (size_t)N * ((size_t)M * H * W + GAP);
    float *ref = outputs(C, M, H, W, N, 0, 1);
    static const int chunks[] = {32, 96, 0};
    for (int ci = 0; ci < 3; ci++)
        for (int t = 1; t <= 3; t++) {
            float *y = outputs(C, M, H, W, N, chunks[ci], t);
            ck_assert_msg(memcmp(ref, y, n * sizeof(float)) == 0,
                          "chunk %d, %d threads: other bits", chunks[ci], t);
            free(y);
        }
    free(ref);
}
END_TEST

START_TEST(test_not_fitting)
{
    struct problem p;
    problem_new(&p, 4, 4, 6, 6, 1, 3);
    const struct fer_conv_shape ok = p.s;
    p.s.stride_h = p.s.stride_w = 2;
    p.s.out_h = p.s.out_w = 3;
    ck_assert_int_eq(run(&p, 0), 1);
    p.s = ok;
    p.s.pad_h = p.s.pad_w = 0;
    p.s.out_h = p.s.out_w = 4;
    ck_assert_int_eq(run(&p, 0), 1);
    p.s = ok;
    p.s.kernel_h = p.s.kernel_w = 5;
    p.s.pad_h = p.s.pad_w = 2;
    ck_assert_int_eq(run(&p, 0), 1);
    for (int i = 0; i < 4 * 36 + GAP; i++)
        ck_assert(p.y[i] == -7.0f);
    p.s = ok;
    ck_assert_int_eq(run(&p, 0), have_avx512() ? 0 : 1);
    problem_free(&p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("conv_winograd");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_direct);
    tcase_add_test(tc, test_same_bits);
    tcase_add_test(tc, test_not_fitting);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fer_run_suite(suite());
}
