#include "nn_fixture.h"

#include "nn_linear.h"

static const char *cases[] = {"linear", "linear_nobias"};

START_TEST(test_linear_matches_torch)
{
    struct fixture *fx = fx_load(cases[_i]);
    struct fer_linear l;
    int bias = (int)fx_cfg(fx, 2);
    ck_assert_int_eq(fer_linear_init(&l, (int)fx_cfg(fx, 0), (int)fx_cfg(fx, 1), bias), 0);
    fer_tensor_copy(&l.weight, fx_get(fx, "weight"));
    if (bias)
        fer_tensor_copy(&l.bias, fx_get(fx, "bias"));
    struct fer_tensor *x = fx_get(fx, "x");
    struct fer_tensor y = nn_zeros_like(fx_get(fx, "y")), dx = nn_zeros_like(x);
    ck_assert_msg(fer_linear_forward(&l, x, &y) == 0, "%s", fer_error());
    nn_expect_close("y", &y, fx_get(fx, "y"));
    fer_tensor_fill(&dx, 7);
    ck_assert_int_eq(fer_linear_backward(&l, x, fx_get(fx, "dy"), &dx), 0);
    nn_expect_close("dx", &dx, fx_get(fx, "dx"));
    nn_expect_close("dweight", &l.weight_grad, fx_get(fx, "dweight"));
    if (bias)
        nn_expect_close("dbias", &l.bias_grad, fx_get(fx, "dbias"));
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fer_linear_free(&l);
    fx_free(fx);
}
END_TEST

/* A 4-D input is taken as N rows of C*H*W features (torch.flatten(x, 1)). */
START_TEST(test_linear_flattens_4d_input)
{
    struct fixture *fx = fx_load("linear");
    struct fer_linear l;
    ck_assert_int_eq(fer_linear_init(&l, 7, 5, 1), 0);
    fer_tensor_copy(&l.weight, fx_get(fx, "weight"));
    fer_tensor_copy(&l.bias, fx_get(fx, "bias"));
    struct fer_tensor x4, y = nn_zeros_like(fx_get(fx, "y"));
    ck_assert_int_eq(fer_tensor_wrap(&x4, fx_get(fx, "x")->data, 4, (int[]){4, 7, 1, 1}), 0);
    ck_assert_int_eq(fer_linear_forward(&l, &x4, &y), 0);
    nn_expect_close("y", &y, fx_get(fx, "y"));
    struct fer_tensor bad;
    fer_tensor_wrap(&bad, fx_get(fx, "x")->data, 2, (int[]){7, 4});
    ck_assert_int_eq(fer_linear_forward(&l, &bad, &y), -1);
    ck_assert_str_eq(fer_error(), "linear: input rows have 4 values, layer expects 7");
    fer_tensor_free(&y);
    fer_linear_free(&l);
    fx_free(fx);
}
END_TEST

struct fd_ctx {
    struct fer_linear *l;
    struct fer_tensor *x, *y, *r;
};

static double linear_loss(void *p)
{
    struct fd_ctx *k = p;
    ck_assert_int_eq(fer_linear_forward(k->l, k->x, k->y), 0);
    return nn_dot(k->y, k->r);
}

START_TEST(test_linear_finite_differences)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 5);
    struct fer_linear l;
    ck_assert_int_eq(fer_linear_init(&l, 9, 4, 1), 0);
    nn_randn(&l.weight, &rng);
    nn_randn(&l.bias, &rng);
    struct fer_tensor x, y, r, dx;
    fer_tensor_alloc(&x, 2, (int[]){3, 9});
    fer_tensor_alloc(&y, 2, (int[]){3, 4});
    r = nn_zeros_like(&y);
    dx = nn_zeros_like(&x);
    nn_randn(&x, &rng);
    nn_randn(&r, &rng);
    ck_assert_int_eq(fer_linear_backward(&l, &x, &r, &dx), 0);
    struct fd_ctx ctx = {&l, &x, &y, &r};
    nn_check_fd("dx", linear_loss, &ctx, &x, &dx, 8, &rng);
    nn_check_fd("dweight", linear_loss, &ctx, &l.weight, &l.weight_grad, 8, &rng);
    nn_check_fd("dbias", linear_loss, &ctx, &l.bias, &l.bias_grad, 4, &rng);
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_tensor_free(&r);
    fer_tensor_free(&dx);
    fer_linear_free(&l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_linear");
    TCase *tc = tcase_create("linear");
    tcase_add_loop_test(tc, test_linear_matches_torch, 0, 2);
    tcase_add_test(tc, test_linear_flattens_4d_input);
    tcase_add_test(tc, test_linear_finite_differences);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
