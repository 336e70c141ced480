#include "nn_fixture.h"

#include "nn_pool.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const char *max_cases[] = {"maxpool_3x3_s2_p1_9px", "maxpool_3x3_s2_p1_8px",
                                  "maxpool_2x2_s2_7px", "maxpool_2x2_s2_21px_ties"};
static const char *avg_cases[] = {"avgpool_2x2_s2_7px", "avgpool_3x3_s1_p1",
                                  "avgpool_3x3_s2_p1_nopad"};

static struct fer_pool2d pool_from_cfg(struct fixture *fx, int avg)
{
    struct fer_pool2d p = {(int)fx_cfg(fx, 0), (int)fx_cfg(fx, 1), (int)fx_cfg(fx, 2),
                           avg ? (int)fx_cfg(fx, 3) : 1, 0};
    return p;
}

START_TEST(test_maxpool_matches_torch)
{
    struct fixture *fx = fx_load(max_cases[_i]);
    struct fer_pool2d p = pool_from_cfg(fx, 0);
    struct fer_tensor *x = fx_get(fx, "x");
    struct fer_tensor y = nn_zeros_like(fx_get(fx, "y")), dx = nn_zeros_like(x);
    ck_assert_msg(fer_maxpool2d_forward(&p, x, &y) == 0, "%s", fer_error());
    nn_expect_close("y", &y, fx_get(fx, "y"));
    fer_tensor_fill(&dx, 5);
    ck_assert_int_eq(fer_maxpool2d_backward(&p, x, fx_get(fx, "dy"), &dx), 0);
    nn_expect_close("dx", &dx, fx_get(fx, "dx"));
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fx_free(fx);
}
END_TEST

START_TEST(test_avgpool_matches_torch)
{
    struct fixture *fx = fx_load(avg_cases[_i]);
    struct fer_pool2d p = pool_from_cfg(fx, 1);
    struct fer_tensor *x = fx_get(fx, "x");
    struct fer_tensor y = nn_zeros_like(fx_get(fx, "y")), dx = nn_zeros_like(x);
    ck_assert_msg(fer_avgpool2d_forward(&p, x, &y) == 0, "%s", fer_error());
    nn_expect_close("y", &y, fx_get(fx, "y"));
    fer_tensor_fill(&dx, 5);
    ck_assert_int_eq(fer_avgpool2d_backward(&p, fx_get(fx, "dy"), &dx), 0);
    nn_expect_close("dx", &dx, fx_get(fx, "dx"));
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fx_free(fx);
}
END_TEST

START_TEST(test_global_avgpool_matches_torch)
{
    struct fixture *fx = fx_load("global_avgpool");
    struct fer_tensor *x = fx_get(fx, "x");
    struct fer_tensor y = nn_zeros_like(fx_get(fx, "y")), dx = nn_zeros_like(x);
    ck_assert_int_eq(fer_global_avgpool_forward(x, &y), 0);
    nn_expect_close("y", &y, fx_get(fx, "y"));
    ck_assert_int_eq(fer_global_avgpool_backward(fx_get(fx, "dy"), &dx), 0);
    nn_expect_close("dx", &dx, fx_get(fx, "dx"));
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fx_free(fx);
}
END_TEST

/* Ties go to the first maximum in window order, as PyTorch's CPU kernel;
 * a window entirely in the padding cannot happen (pad <= kernel / 2). */
START_TEST(test_maxpool_ties_and_bad_geometry)
{
    struct fer_pool2d p = {2, 2, 0, 1, 0};
    struct fer_tensor x, y, dy, dx;
    fer_tensor_alloc(&x, 4, (int[]){1, 1, 2, 2});
    fer_tensor_alloc(&y, 4, (int[]){1, 1, 1, 1});
    fer_tensor_fill(&x, 3);
    dy = nn_zeros_like(&y);
    dx = nn_zeros_like(&x);
    dy.data[0] = 1;
    ck_assert_int_eq(fer_maxpool2d_forward(&p, &x, &y), 0);
    ck_assert_int_eq(fer_maxpool2d_backward(&p, &x, &dy, &dx), 0);
    ck_assert_float_eq(dx.data[0], 1);
    ck_assert_float_eq(dx.data[1] + dx.data[2] + dx.data[3], 0);
    p.pad = 2;
    ck_assert_int_eq(fer_maxpool2d_forward(&p, &x, &y), -1);
    ck_assert_str_eq(fer_error(), "pool2d: bad kernel 2, stride 2 or padding 2");
    p = (struct fer_pool2d){3, 1, 0, 1, 0};
    ck_assert_int_eq(fer_avgpool2d_forward(&p, &x, &y), -1);
    ck_assert_str_eq(fer_error(), "pool2d: 3x3 window does not fit a 2x2 input");
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_tensor_free(&dy);
    fer_tensor_free(&dx);
}
END_TEST

/* A NaN in a window wins it (PyTorch propagates NaN), in the general
 * path (3x3, padded) and in the 2x2 vector path. */
START_TEST(test_maxpool_nan)
{
    struct fer_pool2d p = {3, 2, 1, 1, 0};
    struct fer_tensor x, y, dy, dx;
    fer_tensor_alloc(&x, 4, (int[]){1, 1, 4, 4});
    fer_tensor_alloc(&y, 4, (int[]){1, 1, 2, 2});
    for (int i = 0; i < 16; i++)
        x.data[i] = (float)i;
    x.data[5] = NAN;
    ck_assert_int_eq(fer_maxpool2d_forward(&p, &x, &y), 0);
    for (int i = 0; i < 4; i++)
        ck_assert(isnan(y.data[i]));
    fer_tensor_free(&x);
    fer_tensor_free(&y);

    p = (struct fer_pool2d){2, 2, 0, 1, 0};
    fer_tensor_alloc(&x, 4, (int[]){1, 1, 2, 8});
    fer_tensor_alloc(&y, 4, (int[]){1, 1, 1, 4});
    for (int i = 0; i < 16; i++)
        x.data[i] = (float)i;
    x.data[8 + 5] = NAN;
    x.data[8 + 4] = INFINITY;
    ck_assert_int_eq(fer_maxpool2d_forward(&p, &x, &y), 0);
    ck_assert_float_eq(y.data[0], 9);
    ck_assert_float_eq(y.data[1], 11);
    ck_assert(isnan(y.data[2]));
    ck_assert_float_eq(y.data[3], 15);
    dy = nn_zeros_like(&y);
    dx = nn_zeros_like(&x);
    fer_tensor_fill(&dy, 1);
    dy.data[2] = 7;
    fer_tensor_fill(&dx, 5);
    ck_assert_int_eq(fer_maxpool2d_backward(&p, &x, &dy, &dx), 0);
    for (int i = 0; i < 16; i++) {
        float want = i == 13 ? 7 : (i == 9 || i == 11 || i == 15) ? 1 : 0;
        ck_assert_float_eq(dx.data[i], want);
    }
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_tensor_free(&dy);
    fer_tensor_free(&dx);
}
END_TEST

/* Bits of a tensor's values, so that +0 and -0 and NaN payloads count. */
static void expect_same_bits(const char *what, const struct fer_tensor *a,
                             const struct fer_tensor *b)
{
    size_t n = fer_tensor_numel(a);
    ck_assert_uint_eq(n, fer_tensor_numel(b));
    for (size_t i = 0; i < n; i++) {
        uint32_t u, v;
        memcpy(&u, &a->data[i], 4);
        memcpy(&v, &b->data[i], 4);
        ck_assert_msg(u == v, "%s[%zu]: %08x (%g) vs general %08x (%g)", what, i, u,
                      (double)a->data[i], v, (double)b->data[i]);
    }
}

/* The vector paths (2x2 stride 2; 3x3 stride 2 padding 1) against the
 * general window loops, bit for bit: odd and even sizes (the padded
 * borders and the scalar tails), values from a small set so that windows
 * hold ties (+0 against -0 too: which one is the first maximum shows in
 * the sign), windows of -infinity only, NaNs with distinct payloads (the first in window order
 * wins), and a random output gradient, whose sums over overlapping
 * windows must add in the same order. */
START_TEST(test_maxpool_fast_paths_match_general)
{
    static const struct fer_pool2d pools[] = {{3, 2, 1, 1, 0}, {2, 2, 0, 1, 0}};
    static const float set[] = {0.0f, -0.0f, 1.0f, -1.0f, 2.0f, -INFINITY, INFINITY};
    struct fer_rng rng;
    fer_rng_seed(&rng, 17);
    for (int trial = 0; trial < 100; trial++) {
        struct fer_pool2d fast = pools[trial % 2], slow = fast;
        slow.generic = 1;
        const int H = 1 + (int)fer_rng_below(&rng, 20), W = 2 + (int)fer_rng_below(&rng, 34);
        const int nans = trial % 3, C = 1 + (int)fer_rng_below(&rng, 3);
        int oh, ow;
        if (fer_pool2d_output_size(&fast, H, W, &oh, &ow) < 0)
            continue;
        struct fer_tensor x, y1, y2, dy, dx1, dx2;
        fer_tensor_alloc(&x, 4, (int[]){2, C, H, W});
        fer_tensor_alloc(&y1, 4, (int[]){2, C, oh, ow});
        y2 = nn_zeros_like(&y1);
        dy = nn_zeros_like(&y1);
        dx1 = nn_zeros_like(&x);
        dx2 = nn_zeros_like(&x);
        const size_t n = fer_tensor_numel(&x);
        const int span = trial % 4 == 3 ? 7 : 3; /* small: many ties */
        for (size_t i = 0; i < n; i++)
            x.data[i] = set[fer_rng_below(&rng, span)];
        if (trial % 5 == 4) /* windows of -infinity only, at the borders too */
            for (size_t i = 0; i < n; i++)
                x.data[i] = fer_rng_below(&rng, 8) ? -INFINITY : 1.0f;
        for (int k = 0; k < nans * (int)(n / 20 + 1); k++) {
            uint32_t bits = 0x7fc00000u | (uint32_t)(1 + k);
            memcpy(&x.data[fer_rng_below(&rng, n)], &bits, 4);
        }
        nn_randn(&dy, &rng);
        ck_assert_int_eq(fer_maxpool2d_forward(&fast, &x, &y1), 0);
        ck_assert_int_eq(fer_maxpool2d_forward(&slow, &x, &y2), 0);
        expect_same_bits("y", &y1, &y2);
        fer_tensor_fill(&dx1, 5);
        ck_assert_int_eq(fer_maxpool2d_backward(&fast, &x, &dy, &dx1), 0);
        ck_assert_int_eq(fer_maxpool2d_backward(&slow, &x, &dy, &dx2), 0);
        expect_same_bits("dx", &dx1, &dx2);
        struct fer_tensor *all[] = {&x, &y1, &y2, &dy, &dx1, &dx2};
        for (int k = 0; k < 6; k++)
            fer_tensor_free(all[k]);
    }
}
END_TEST

/* PyTorch's own order on a tie of +0 and -0 in a 3x3 window, fixed by
 * hand: the first in row-major order, here -0 in the top row over +0
 * further left in the row below. */
START_TEST(test_maxpool_3x3_signed_zero_tie)
{
    struct fer_pool2d p = {3, 2, 1, 1, 0};
    struct fer_tensor x, y;
    fer_tensor_alloc(&x, 4, (int[]){1, 1, 3, 19});
    fer_tensor_alloc(&y, 4, (int[]){1, 1, 2, 10});
    fer_tensor_fill(&x, -1);
    /* Output (1, 4): rows 1..2, columns 7..9. */
    x.data[1 * 19 + 9] = -0.0f;
    x.data[2 * 19 + 7] = 0.0f;
    ck_assert_int_eq(fer_maxpool2d_forward(&p, &x, &y), 0);
    ck_assert(y.data[10 + 4] == 0 && signbit(y.data[10 + 4]));
    /* Output (1, 3): columns 5..7, only +0 there. */
    ck_assert(y.data[10 + 3] == 0 && !signbit(y.data[10 + 3]));
    fer_tensor_free(&x);
    fer_tensor_free(&y);
}
END_TEST

struct fd_ctx {
    struct fer_pool2d *p;
    int avg;
    struct fer_tensor *x, *y, *r;
};

static double pool_loss(void *v)
{
    struct fd_ctx *k = v;
    ck_assert_int_eq((k->avg ? fer_avgpool2d_forward : fer_maxpool2d_forward)(k->p, k->x,
                                                                             k->y), 0);
    return nn_dot(k->y, k->r);
}

START_TEST(test_pool_finite_differences)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 3);
    for (int trial = 0; trial < 6; trial++) {
        int k = 2 + (int)fer_rng_below(&rng, 2);
        struct fer_pool2d p = {k, 1 + (int)fer_rng_below(&rng, 2),
                               (int)fer_rng_below(&rng, k / 2 + 1),
                               (int)fer_rng_below(&rng, 2), 0};
        int avg = trial % 2;
        struct fer_tensor x, y, r, dx;
        fer_tensor_alloc(&x, 4, (int[]){2, 2, 6, 5});
        int oh, ow;
        ck_assert_int_eq(fer_pool2d_output_size(&p, 6, 5, &oh, &ow), 0);
        fer_tensor_alloc(&y, 4, (int[]){2, 2, oh, ow});
        r = nn_zeros_like(&y);
        dx = nn_zeros_like(&x);
        /* Distinct values 0.1 apart, shuffled: max pooling's argmax is
         * stable under the +-h = 0.01 probe. */
        for (size_t i = 0; i < fer_tensor_numel(&x); i++)
            x.data[i] = 0.1f * (float)i;
        fer_rng_shuffle(&rng, x.data, fer_tensor_numel(&x), sizeof(float));
        nn_randn(&r, &rng);
        if (avg)
            ck_assert_int_eq(fer_avgpool2d_backward(&p, &r, &dx), 0);
        else
            ck_assert_int_eq(fer_maxpool2d_backward(&p, &x, &r, &dx), 0);
        struct fd_ctx ctx = {&p, avg, &x, &y, &r};
        nn_check_fd(avg ? "avg dx" : "max dx", pool_loss, &ctx, &x, &dx, 10, &rng);
        fer_tensor_free(&x);
        fer_tensor_free(&y);
        fer_tensor_free(&r);
        fer_tensor_free(&dx);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_pool");
    TCase *tc = tcase_create("pool");
    tcase_add_loop_test(tc, test_maxpool_matches_torch, 0, 4);
    tcase_add_loop_test(tc, test_avgpool_matches_torch, 0, 3);
    tcase_add_test(tc, test_global_avgpool_matches_torch);
    tcase_add_test(tc, test_maxpool_ties_and_bad_geometry);
    tcase_add_test(tc, test_maxpool_nan);
    tcase_add_test(tc, test_maxpool_fast_paths_match_general);
    tcase_add_test(tc, test_maxpool_3x3_signed_zero_tie);
    tcase_add_test(tc, test_pool_finite_differences);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
