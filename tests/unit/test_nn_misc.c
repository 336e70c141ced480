#include "nn_fixture.h"

#include "nn_misc.h"

START_TEST(test_add_matches_torch)
{
    struct fixture *fx = fx_load("add");
    struct fer_tensor *a = fx_get(fx, "a"), *b = fx_get(fx, "b");
    struct fer_tensor y = nn_zeros_like(a), da = nn_zeros_like(a), db = nn_zeros_like(b);
    ck_assert_int_eq(fer_add_forward(a, b, &y), 0);
    nn_expect_close("y", &y, fx_get(fx, "y"));
    ck_assert_int_eq(fer_add_backward(fx_get(fx, "dy"), &da, &db), 0);
    nn_expect_close("da", &da, fx_get(fx, "da"));
    nn_expect_close("db", &db, fx_get(fx, "db"));
    ck_assert_int_eq(fer_add_forward(a, b, a), 0); /* in place */
    nn_expect_close("y in place", a, fx_get(fx, "y"));
    struct fer_tensor other;
    fer_tensor_alloc(&other, 4, (int[]){2, 3, 2, 8});
    ck_assert_int_eq(fer_add_forward(a, &other, &y), -1);
    ck_assert_str_eq(fer_error(), "add: second input has the wrong shape");
    fer_tensor_free(&other);
    fer_tensor_free(&y);
    fer_tensor_free(&da);
    fer_tensor_free(&db);
    fx_free(fx);
}
END_TEST

START_TEST(test_concat_matches_torch)
{
    struct fixture *fx = fx_load("concat");
    struct fer_tensor *a = fx_get(fx, "a"), *b = fx_get(fx, "b");
    struct fer_tensor y = nn_zeros_like(fx_get(fx, "y"));
    struct fer_tensor da = nn_zeros_like(a), db = nn_zeros_like(b);
    const struct fer_tensor *parts[] = {a, b};
    ck_assert_int_eq(fer_concat_forward(parts, 2, &y), 0);
    nn_expect_close("y", &y, fx_get(fx, "y"));
    struct fer_tensor *grads[] = {&da, &db};
    ck_assert_int_eq(fer_concat_backward(fx_get(fx, "dy"), grads, 2), 0);
    nn_expect_close("da", &da, fx_get(fx, "da"));
    nn_expect_close("db", &db, fx_get(fx, "db"));
    const struct fer_tensor *wrong[] = {a, a};
    ck_assert_int_eq(fer_concat_forward(wrong, 2, &y), -1);
    ck_assert_str_eq(fer_error(), "concat: parts have 6 channels, output 5");
    fer_tensor_free(&y);
    fer_tensor_free(&da);
    fer_tensor_free(&db);
    fx_free(fx);
}
END_TEST

START_TEST(test_l2norm_matches_torch)
{
    struct fixture *fx = fx_load("l2norm");
    struct fer_tensor *x = fx_get(fx, "x");
    struct fer_tensor y = nn_zeros_like(x), dx = nn_zeros_like(x);
    ck_assert_int_eq(fer_l2norm_forward(x, &y), 0);
    nn_expect_close("y", &y, fx_get(fx, "y"));
    ck_assert_int_eq(fer_l2norm_backward(x, &y, fx_get(fx, "dy"), &dx), 0);
    nn_expect_close("dx", &dx, fx_get(fx, "dx"));
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fx_free(fx);
}
END_TEST

/* A zero row stays zero (divided by eps), and its gradient is dy / eps,
 * as F.normalize's clamp_min. */
START_TEST(test_l2norm_zero_row)
{
    struct fer_tensor x, y, dy, dx;
    fer_tensor_alloc(&x, 2, (int[]){1, 3});
    y = nn_zeros_like(&x);
    dy = nn_zeros_like(&x);
    dx = nn_zeros_like(&x);
    dy.data[1] = 1e-12f;
    ck_assert_int_eq(fer_l2norm_forward(&x, &y), 0);
    ck_assert_float_eq(y.data[0], 0);
    ck_assert_int_eq(fer_l2norm_backward(&x, &y, &dy, &dx), 0);
    ck_assert_float_eq_tol(dx.data[1], 1.0f, 1e-6f);
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_tensor_free(&dy);
    fer_tensor_free(&dx);
}
END_TEST

struct fd_ctx {
    struct fer_tensor *x, *y, *r;
};

static double l2_loss(void *p)
{
    struct fd_ctx *k = p;
    ck_assert_int_eq(fer_l2norm_forward(k->x, k->y), 0);
    return nn_dot(k->y, k->r);
}

START_TEST(test_l2norm_finite_differences)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 9);
    struct fer_tensor x, y, r, dx;
    fer_tensor_alloc(&x, 4, (int[]){3, 2, 2, 2}); /* rows of 8 */
    y = nn_zeros_like(&x);
    r = nn_zeros_like(&x);
    dx = nn_zeros_like(&x);
    nn_randn(&x, &rng);
    nn_randn(&r, &rng);
    ck_assert_int_eq(fer_l2norm_forward(&x, &y), 0);
    ck_assert_int_eq(fer_l2norm_backward(&x, &y, &r, &dx), 0);
    struct fd_ctx ctx = {&x, &y, &r};
    nn_check_fd("dx", l2_loss, &ctx, &x, &dx, 12, &rng);
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_tensor_free(&r);
    fer_tensor_free(&dx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_misc");
    TCase *tc = tcase_create("misc");
    tcase_add_test(tc, test_add_matches_torch);
    tcase_add_test(tc, test_concat_matches_torch);
    tcase_add_test(tc, test_l2norm_matches_torch);
    tcase_add_test(tc, test_l2norm_zero_row);
    tcase_add_test(tc, test_l2norm_finite_differences);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
