#include "nn_fixture.h"

#include "nn_activation.h"

typedef int (*fwd_fn)(const struct fer_tensor *, struct fer_tensor *);
typedef int (*bwd_fn)(const struct fer_tensor *, const struct fer_tensor *,
                      struct fer_tensor *);

static void check_case(const char *name, fwd_fn fwd, bwd_fn bwd)
{
    struct fixture *fx = fx_load(name);
    struct fer_tensor *x = fx_get(fx, "x");
    struct fer_tensor y = nn_zeros_like(x), dx = nn_zeros_like(x);
    ck_assert_int_eq(fwd(x, &y), 0);
    nn_expect_close("y", &y, fx_get(fx, "y"));
    ck_assert_int_eq(bwd(&y, fx_get(fx, "dy"), &dx), 0);
    nn_expect_close("dx", &dx, fx_get(fx, "dx"));
    /* In place: y over x, dx over dy. */
    ck_assert_int_eq(fwd(x, x), 0);
    nn_expect_close("y in place", x, fx_get(fx, "y"));
    struct fer_tensor *dy = fx_get(fx, "dy");
    ck_assert_int_eq(bwd(&y, dy, dy), 0);
    nn_expect_close("dx in place", dy, fx_get(fx, "dx"));
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fx_free(fx);
}

START_TEST(test_relu_matches_torch)
{
    check_case("relu", fer_relu_forward, fer_relu_backward);
}
END_TEST

START_TEST(test_sigmoid_matches_torch)
{
    check_case("sigmoid", fer_sigmoid_forward, fer_sigmoid_backward);
}
END_TEST

START_TEST(test_sigmoid_finite_differences)
{
    /* d sigmoid / dx = y (1 - y), compared with a central difference in
     * double at a few points including the saturated tails. */
    const float xs[] = {-30, -4, -0.5f, 0, 0.7f, 3, 25};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        struct fer_tensor x, y, one, dx;
        fer_tensor_alloc(&x, 1, (int[]){1});
        y = nn_zeros_like(&x);
        one = nn_zeros_like(&x);
        dx = nn_zeros_like(&x);
        x.data[0] = xs[i];
        one.data[0] = 1;
        fer_sigmoid_forward(&x, &y);
        fer_sigmoid_backward(&y, &one, &dx);
        double h = 1e-3, num = (1 / (1 + exp(-(xs[i] + h))) - 1 / (1 + exp(-(xs[i] - h)))) / (2 * h);
        ck_assert_double_eq_tol(dx.data[0], num, 1e-6);
        fer_tensor_free(&x);
        fer_tensor_free(&y);
        fer_tensor_free(&one);
        fer_tensor_free(&dx);
    }
}
END_TEST

START_TEST(test_activation_rejects_shape_mismatch)
{
    struct fer_tensor x, y;
    fer_tensor_alloc(&x, 2, (int[]){2, 3});
    fer_tensor_alloc(&y, 2, (int[]){3, 2});
    ck_assert_int_eq(fer_relu_forward(&x, &y), -1);
    ck_assert_str_eq(fer_error(), "relu: output has the wrong shape");
    fer_tensor_free(&x);
    fer_tensor_free(&y);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_activation");
    TCase *tc = tcase_create("activation");
    tcase_add_test(tc, test_relu_matches_torch);
    tcase_add_test(tc, test_sigmoid_matches_torch);
    tcase_add_test(tc, test_sigmoid_finite_differences);
    tcase_add_test(tc, test_activation_rejects_shape_mismatch);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
