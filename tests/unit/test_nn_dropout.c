#include "nn_fixture.h"

#include "nn_dropout.h"

/* Dropout cannot match PyTorch's random stream; we check its definition:
 * every output is 0 or x / (1 - p), the dropped fraction is near p, the
 * same seed gives the same mask, and backward applies forward's mask. */
START_TEST(test_dropout_definition)
{
    struct fer_dropout d;
    ck_assert_int_eq(fer_dropout_init(&d, 0.3f, 42), 0);
    struct fer_tensor x, y, dx;
    fer_tensor_alloc(&x, 2, (int[]){100, 100});
    y = nn_zeros_like(&x);
    dx = nn_zeros_like(&x);
    fer_tensor_fill(&x, 2);
    ck_assert_int_eq(fer_dropout_forward(&d, &x, &y), 0);
    size_t dropped = 0, n = fer_tensor_numel(&x);
    for (size_t i = 0; i < n; i++) {
        if (y.data[i] == 0)
            dropped++;
        else
            ck_assert_float_eq_tol(y.data[i], 2 / 0.7f, 1e-6f);
    }
    /* Binomial(10000, 0.3): sd 46, so +-250 is over 5 sd. */
    ck_assert_int_lt(labs((long)dropped - 3000), 250);
    ck_assert_int_eq(fer_dropout_backward(&d, &x, &dx), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(dx.data[i], y.data[i]);
    struct fer_dropout again;
    fer_dropout_init(&again, 0.3f, 42);
    fer_dropout_forward(&again, &x, &dx);
    ck_assert_int_eq(memcmp(dx.data, y.data, n * sizeof(float)), 0);
    fer_dropout_forward(&again, &x, &dx); /* the next batch: another mask */
    ck_assert_int_ne(memcmp(dx.data, y.data, n * sizeof(float)), 0);
    d.training = 0;
    ck_assert_int_eq(fer_dropout_forward(&d, &x, &y), 0);
    ck_assert_float_eq(y.data[0], 2);
    ck_assert_int_eq(fer_dropout_init(&d, 1.5f, 1), -1);
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_dropout");
    TCase *tc = tcase_create("dropout");
    tcase_add_test(tc, test_dropout_definition);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
