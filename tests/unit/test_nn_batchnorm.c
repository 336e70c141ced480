#include "nn_fixture.h"

#include "nn_activation.h"
#include "nn_batchnorm.h"
#include "nn_misc.h"
#include "nn_pool.h"

#include <math.h>

static const char *cases[] = {"bn_train", "bn_eval", "bn1d_train"};

static void layer_from_fixture(struct fer_batchnorm *bn, struct fixture *fx)
{
    ck_assert_int_eq(fer_batchnorm_init(bn, (int)fx_cfg(fx, 0), fx_cfg(fx, 1),
                                        fx_cfg(fx, 2)), 0);
    bn->training = (int)fx_cfg(fx, 3);
    fer_tensor_copy(&bn->weight, fx_get(fx, "weight"));
    fer_tensor_copy(&bn->bias, fx_get(fx, "bias"));
    fer_tensor_copy(&bn->running_mean, fx_get(fx, "running_mean"));
    fer_tensor_copy(&bn->running_var, fx_get(fx, "running_var"));
}

START_TEST(test_bn_matches_torch)
{
    struct fixture *fx = fx_load(cases[_i]);
    struct fer_batchnorm bn;
    layer_from_fixture(&bn, fx);
    struct fer_tensor *x = fx_get(fx, "x");
    struct fer_tensor y = nn_zeros_like(x), dx = nn_zeros_like(x);
    ck_assert_msg(fer_batchnorm_forward(&bn, x, &y) == 0, "%s", fer_error());
    nn_expect_close("y", &y, fx_get(fx, "y"));
    nn_expect_close("running_mean", &bn.running_mean, fx_get(fx, "running_mean_out"));
    nn_expect_close("running_var", &bn.running_var, fx_get(fx, "running_var_out"));
    ck_assert_int_eq(bn.num_batches_tracked, bn.training ? 1 : 0);
    fer_tensor_fill(&dx, 99);
    ck_assert_int_eq(fer_batchnorm_backward(&bn, x, fx_get(fx, "dy"), &dx), 0);
    nn_expect_close("dx", &dx, fx_get(fx, "dx"));
    nn_expect_close("dweight", &bn.weight_grad, fx_get(fx, "dweight"));
    nn_expect_close("dbias", &bn.bias_grad, fx_get(fx, "dbias"));
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fer_batchnorm_free(&bn);
    fx_free(fx);
}
END_TEST

START_TEST(test_bn_rejects_single_value)
{
    struct fer_batchnorm bn;
    ck_assert_int_eq(fer_batchnorm_init(&bn, 2, 1e-5f, 0.1f), 0);
    struct fer_tensor x, y;
    fer_tensor_alloc(&x, 2, (int[]){1, 2});
    fer_tensor_alloc(&y, 2, (int[]){1, 2});
    ck_assert_int_eq(fer_batchnorm_forward(&bn, &x, &y), -1);
    ck_assert_str_eq(fer_error(),
                     "batchnorm: training needs more than one value per channel");
    bn.training = 0;
    ck_assert_int_eq(fer_batchnorm_forward(&bn, &x, &y), 0);
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_batchnorm_free(&bn);
}
END_TEST

/* Inputs far from zero with a small spread (mean 1000, deviation 0.25),
 * the channel's first value an outlier 12 deviations off: the batch
 * statistics (mean, 1 / std and the unbiased running variance) must still
 * match a double-precision two-pass reference within 1e-4 relative. */
START_TEST(test_bn_large_mean)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 5);
    const int N = 3, C = 2, S = 50;
    struct fer_batchnorm bn;
    ck_assert_int_eq(fer_batchnorm_init(&bn, C, 1e-5f, 1.0f), 0);
    struct fer_tensor x, y;
    fer_tensor_alloc(&x, 4, (int[]){N, C, 5, 10});
    y = nn_zeros_like(&x);
    for (size_t i = 0; i < fer_tensor_numel(&x); i++)
        x.data[i] = 1000.0f + 0.25f * (float)fer_rng_normal(&rng);
    for (int c = 0; c < C; c++)
        x.data[c * S] = 1003.0f;
    ck_assert_int_eq(fer_batchnorm_forward(&bn, &x, &y), 0);
    for (int c = 0; c < C; c++) {
        double sum = 0, sq = 0;
        for (int n = 0; n < N; n++)
            for (int k = 0; k < S; k++)
                sum += x.data[(n * C + c) * S + k];
        const double mean = sum / (N * S);
        for (int n = 0; n < N; n++)
            for (int k = 0; k < S; k++) {
                double d = x.data[(n * C + c) * S + k] - mean;
                sq += d * d;
            }
        const double var = sq / (N * S);
        ck_assert_double_eq_tol(bn.save_mean.data[c], mean, 1e-4 * mean);
        const double invstd = 1 / sqrt(var + 1e-5);
        ck_assert_double_eq_tol(bn.save_invstd.data[c], invstd, 1e-4 * invstd);
        const double unbiased = sq / (N * S - 1);
        ck_assert_double_eq_tol(bn.running_var.data[c], unbiased, 1e-4 * unbiased);
    }
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_batchnorm_free(&bn);
}
END_TEST

struct fd_ctx {
    struct fer_batchnorm *bn;
    struct fer_tensor *x, *y, *r;
};

static double bn_loss(void *p)
{
    struct fd_ctx *k = p;
    ck_assert_int_eq(fer_batchnorm_forward(k->bn, k->x, k->y), 0);
    return nn_dot(k->y, k->r);
}

START_TEST(test_bn_finite_differences)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 11);
    for (int trial = 0; trial < 4; trial++) {
        struct fer_batchnorm bn;
        int c = 1 + (int)fer_rng_below(&rng, 3);
        ck_assert_int_eq(fer_batchnorm_init(&bn, c, 1e-5f, 0.1f), 0);
        bn.training = trial < 3;
        nn_randn(&bn.weight, &rng);
        nn_randn(&bn.bias, &rng);
        struct fer_tensor x, y, r, dx;
        fer_tensor_alloc(&x, 4, (int[]){2 + trial, c, 3, 2});
        y = nn_zeros_like(&x);
        r = nn_zeros_like(&x);
        dx = nn_zeros_like(&x);
        nn_randn(&x, &rng);
        nn_randn(&r, &rng);
        ck_assert_int_eq(fer_batchnorm_forward(&bn, &x, &y), 0);
        ck_assert_int_eq(fer_batchnorm_backward(&bn, &x, &r, &dx), 0);
        struct fd_ctx ctx = {&bn, &x, &y, &r};
        nn_check_fd("dx", bn_loss, &ctx, &x, &dx, 8, &rng);
        nn_check_fd("dweight", bn_loss, &ctx, &bn.weight, &bn.weight_grad, 2, &rng);
        nn_check_fd("dbias", bn_loss, &ctx, &bn.bias, &bn.bias_grad, 2, &rng);
        fer_tensor_free(&x);
        fer_tensor_free(&y);
        fer_tensor_free(&r);
        fer_tensor_free(&dx);
        fer_batchnorm_free(&bn);
    }
}
END_TEST

/* Two batch-norm layers of 3 channels with the same random parameters:
 * one for the fused path, one for the separate passes. */
static void twin_batchnorms(struct fer_batchnorm *a, struct fer_batchnorm *b, struct fer_rng *rng)
{
    ck_assert_int_eq(fer_batchnorm_init(a, 3, 1e-5f, 0.1f), 0);
    ck_assert_int_eq(fer_batchnorm_init(b, 3, 1e-5f, 0.1f), 0);
    nn_randn(&a->weight, rng);
    nn_randn(&a->bias, rng);
    fer_tensor_copy(&b->weight, &a->weight);
    fer_tensor_copy(&b->bias, &a->bias);
}

/* The fused relu backward equals ReLU's backward followed by batch norm's,
 * to the bit: input gradient and both parameter gradients, in training
 * and evaluation mode, with planes of 9 values (a vector tail) and exact
 * zeros in the output (the ReLU's cut). */
START_TEST(test_bn_relu_backward_equals_unfused)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 5);
    for (int training = 0; training < 2; training++) {
        struct fer_batchnorm a, b;
        twin_batchnorms(&a, &b, &rng);
        a.training = b.training = training;
        struct fer_tensor x, y, y2, dy, g, dxa, dxb;
        fer_tensor_alloc(&x, 4, (int[]){4, 3, 3, 3});
        y = nn_zeros_like(&x), y2 = nn_zeros_like(&x), dy = nn_zeros_like(&x);
        g = nn_zeros_like(&x), dxa = nn_zeros_like(&x), dxb = nn_zeros_like(&x);
        nn_randn(&x, &rng);
        nn_randn(&dy, &rng);
        ck_assert_int_eq(fer_batchnorm_relu_forward(&a, &x, &y), 0);
        ck_assert_int_eq(fer_batchnorm_relu_forward(&b, &x, &y2), 0);
        ck_assert_int_eq(memcmp(y.data, y2.data, sizeof(float) * fer_tensor_numel(&y)), 0);
        int cut = 0;
        for (size_t i = 0; i < fer_tensor_numel(&y); i++)
            cut += y.data[i] == 0;
        ck_assert_int_gt(cut, 0);
        ck_assert_int_eq(fer_batchnorm_relu_backward(&a, &x, &y, &dy, &dxa), 0);
        ck_assert_int_eq(fer_relu_backward(&y2, &dy, &g), 0);
        ck_assert_int_eq(fer_batchnorm_backward(&b, &x, &g, &dxb), 0);
        size_t n = fer_tensor_numel(&x);
        ck_assert_int_eq(memcmp(dxa.data, dxb.data, sizeof(float) * n), 0);
        ck_assert_int_eq(memcmp(a.weight_grad.data, b.weight_grad.data, 3 * sizeof(float)), 0);
        ck_assert_int_eq(memcmp(a.bias_grad.data, b.bias_grad.data, 3 * sizeof(float)), 0);
        struct fer_tensor *all[] = {&x, &y, &y2, &dy, &g, &dxa, &dxb};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            fer_tensor_free(all[i]);
        fer_batchnorm_free(&a);
        fer_batchnorm_free(&b);
    }
}
END_TEST

/* Batch norm + ReLU + 2x2 max pool backward in one pass equals the three
 * backward passes in turn, to the bit, in training mode with several
 * images and channels (planes of 6 x 16: three row pairs, 8 windows a
 * row), and when the pool's shape cannot be fused it says so. */
START_TEST(test_bn_relu_maxpool_backward_equals_unfused)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 9);
    struct fer_batchnorm a, b;
    twin_batchnorms(&a, &b, &rng);
    const struct fer_pool2d pool = {2, 2, 0, 1, 0};
    struct fer_tensor x, y, p, dp, g, g2, dxa, dxb;
    fer_tensor_alloc(&x, 4, (int[]){2, 3, 6, 16});
    fer_tensor_alloc(&p, 4, (int[]){2, 3, 3, 8});
    y = nn_zeros_like(&x), g = nn_zeros_like(&x), g2 = nn_zeros_like(&x);
    dxa = nn_zeros_like(&x), dxb = nn_zeros_like(&x), dp = nn_zeros_like(&p);
    nn_randn(&x, &rng);
    nn_randn(&dp, &rng);
    ck_assert_int_eq(fer_batchnorm_relu_forward(&a, &x, &y), 0);
    ck_assert_int_eq(fer_batchnorm_relu_forward(&b, &x, &y), 0);
    ck_assert_int_eq(fer_maxpool2d_forward(&pool, &y, &p), 0);
    ck_assert(fer_batchnorm_maxpool_fusable(&pool, &y));
    ck_assert_int_eq(fer_batchnorm_relu_maxpool_backward(&a, &x, &y, &pool, &dp, &dxa), 0);
    ck_assert_int_eq(fer_maxpool2d_backward(&pool, &y, &dp, &g), 0);
    ck_assert_int_eq(fer_relu_backward(&y, &g, &g2), 0);
    ck_assert_int_eq(fer_batchnorm_backward(&b, &x, &g2, &dxb), 0);
    size_t n = fer_tensor_numel(&x);
    ck_assert_int_eq(memcmp(dxa.data, dxb.data, sizeof(float) * n), 0);
    ck_assert_int_eq(memcmp(a.weight_grad.data, b.weight_grad.data, 3 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(a.bias_grad.data, b.bias_grad.data, 3 * sizeof(float)), 0);
    /* Some windows' maxima were cut by the ReLU: the mask mattered. */
    int cut = 0;
    for (size_t i = 0; i < fer_tensor_numel(&p); i++)
        cut += p.data[i] == 0;
    ck_assert_int_gt(cut, 0);
    struct fer_tensor odd;
    fer_tensor_alloc(&odd, 4, (int[]){2, 3, 6, 12});
    ck_assert(!fer_batchnorm_maxpool_fusable(&pool, &odd));
    ck_assert_int_eq(fer_batchnorm_relu_maxpool_backward(&a, &odd, &odd, &pool, &dp, NULL), -1);
    struct fer_tensor *all[] = {&x, &y, &p, &dp, &g, &g2, &dxa, &dxb, &odd};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        fer_tensor_free(all[i]);
    fer_batchnorm_free(&a);
    fer_batchnorm_free(&b);
}
END_TEST

/* The pooled forward (the rectified output never written) equals batch
 * norm + ReLU then 2x2 max pooling, to the bit (scales > 0, < 0 and 0,
 * NaN inputs in evaluation mode), and so do the running statistics; the backward that rebuilds the rectified output from x
 * (y NULL) equals the one that reads it, with and without dx; in training
 * and evaluation mode, planes of 4 x 24 (a 12-wide pooled row: a vector
 * group and a scalar tail). */
START_TEST(test_bn_relu_maxpool_forward_equals_unfused)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 13);
    for (int training = 0; training < 2; training++) {
        struct fer_batchnorm a, b;
        twin_batchnorms(&a, &b, &rng);
        /* Scales of each sign (the pooled path takes the largest or the
         * smallest x) and of 0 (not monotone: the general path). */
        a.weight.data[0] = fabsf(a.weight.data[0]);
        a.weight.data[1] = -fabsf(a.weight.data[1]);
        a.weight.data[2] = 0;
        /* Shifts that leave about half of the values above 0 in
         * evaluation mode too (running statistics 0 and 1 there). */
        for (int c = 0; c < 3; c++)
            a.bias.data[c] = 0.5f;
        fer_tensor_copy(&b.weight, &a.weight);
        fer_tensor_copy(&b.bias, &a.bias);
        a.training = b.training = training;
        const struct fer_pool2d pool = {2, 2, 0, 1, 0};
        struct fer_tensor x, y, pa, pb, dp, dxa, dxb;
        fer_tensor_alloc(&x, 4, (int[]){3, 3, 4, 24});
        fer_tensor_alloc(&pa, 4, (int[]){3, 3, 2, 12});
        y = nn_zeros_like(&x), dxa = nn_zeros_like(&x), dxb = nn_zeros_like(&x);
        pb = nn_zeros_like(&pa), dp = nn_zeros_like(&pa);
        nn_randn(&x, &rng);
        nn_randn(&dp, &rng);
        if (!training) /* NaN rectifies to 0: lone ones (first in a window too) and a whole window */
            for (int k = 0; k < 6; k++) {
                static const int at[] = {24 * 4 + 5, 8, 2, 3, 24 + 2, 24 + 3};
                for (int c = 0; c < 3; c++)
                    x.data[c * 96 + at[k]] = NAN;
            }
        ck_assert_int_eq(fer_batchnorm_relu_maxpool_forward(&a, &x, &pool, &pa), 0);
        ck_assert_int_eq(fer_batchnorm_relu_forward(&b, &x, &y), 0);
        ck_assert_int_eq(fer_maxpool2d_forward(&pool, &y, &pb), 0);
        ck_assert_int_eq(memcmp(pa.data, pb.data, sizeof(float) * fer_tensor_numel(&pa)), 0);
        ck_assert_int_eq(memcmp(a.running_mean.data, b.running_mean.data, 12), 0);
        ck_assert_int_eq(memcmp(a.running_var.data, b.running_var.data, 12), 0);
        ck_assert_int_eq(a.num_batches_tracked, b.num_batches_tracked);
        int cut = 0, kept = 0;
        for (size_t i = 0; i < fer_tensor_numel(&pa); i++)
            cut += pa.data[i] == 0, kept += pa.data[i] > 0;
        ck_assert_int_gt(cut, 0);
        ck_assert_int_gt(kept, fer_tensor_numel(&pa) / 4);
        for (int want_dx = 0; want_dx < 2; want_dx++) {
            ck_assert_int_eq(fer_batchnorm_relu_maxpool_backward(&a, &x, NULL, &pool, &dp,
                                                                 want_dx ? &dxa : NULL), 0);
            ck_assert_int_eq(fer_batchnorm_relu_maxpool_backward(&b, &x, &y, &pool, &dp,
                                                                 want_dx ? &dxb : NULL), 0);
            ck_assert_int_eq(memcmp(dxa.data, dxb.data, sizeof(float) * fer_tensor_numel(&x)),
                             0);
            ck_assert_int_eq(memcmp(a.weight_grad.data, b.weight_grad.data, 12), 0);
            ck_assert_int_eq(memcmp(a.bias_grad.data, b.bias_grad.data, 12), 0);
        }
        struct fer_tensor *all[] = {&x, &y, &pa, &pb, &dp, &dxa, &dxb};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            fer_tensor_free(all[i]);
        fer_batchnorm_free(&a);
        fer_batchnorm_free(&b);
    }
}
END_TEST

/* Batch norm + residual sum + ReLU in one pass equals the three layers
 * in turn, to the bit, output and running statistics, in training and
 * evaluation mode, with planes of 9 values (a scalar tail), and its
 * backward is the unfused one. */
START_TEST(test_bn_add_relu_forward_equals_unfused)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 21);
    for (int training = 0; training < 2; training++) {
        struct fer_batchnorm a, b;
        twin_batchnorms(&a, &b, &rng);
        a.training = b.training = training;
        struct fer_tensor x, skip, ya, t, yb;
        fer_tensor_alloc(&x, 4, (int[]){4, 3, 3, 3});
        skip = nn_zeros_like(&x), ya = nn_zeros_like(&x), t = nn_zeros_like(&x);
        yb = nn_zeros_like(&x);
        nn_randn(&x, &rng);
        nn_randn(&skip, &rng);
        ck_assert_int_eq(fer_batchnorm_add_relu_forward(&a, &x, &skip, &ya), 0);
        ck_assert_int_eq(fer_batchnorm_forward(&b, &x, &t), 0);
        ck_assert_int_eq(fer_add_forward(&t, &skip, &yb), 0);
        ck_assert_int_eq(fer_relu_forward(&yb, &yb), 0);
        const size_t n = fer_tensor_numel(&x);
        ck_assert_int_eq(memcmp(ya.data, yb.data, sizeof(float) * n), 0);
        ck_assert_int_eq(memcmp(a.running_mean.data, b.running_mean.data, 12), 0);
        ck_assert_int_eq(memcmp(a.running_var.data, b.running_var.data, 12), 0);
        ck_assert_int_eq(memcmp(a.save_mean.data, b.save_mean.data, 12), 0);
        ck_assert_int_eq(memcmp(a.save_invstd.data, b.save_invstd.data, 12), 0);
        int cut = 0;
        for (size_t i = 0; i < n; i++)
            cut += ya.data[i] == 0;
        ck_assert_int_gt(cut, 0);
        ck_assert_int_lt(cut, (int)n);
        struct fer_tensor small;
        fer_tensor_alloc(&small, 4, (int[]){4, 3, 3, 2});
        ck_assert_int_eq(fer_batchnorm_add_relu_forward(&a, &x, &small, &ya), -1);
        struct fer_tensor *all[] = {&x, &skip, &ya, &t, &yb, &small};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            fer_tensor_free(all[i]);
        fer_batchnorm_free(&a);
        fer_batchnorm_free(&b);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_batchnorm");
    TCase *tc = tcase_create("batchnorm");
    tcase_add_loop_test(tc, test_bn_matches_torch, 0, sizeof cases / sizeof *cases);
    tcase_add_test(tc, test_bn_rejects_single_value);
    tcase_add_test(tc, test_bn_large_mean);
    tcase_add_test(tc, test_bn_finite_differences);
    tcase_add_test(tc, test_bn_relu_backward_equals_unfused);
    tcase_add_test(tc, test_bn_relu_maxpool_backward_equals_unfused);
    tcase_add_test(tc, test_bn_relu_maxpool_forward_equals_unfused);
    tcase_add_test(tc, test_bn_add_relu_forward_equals_unfused);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
