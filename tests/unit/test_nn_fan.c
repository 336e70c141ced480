/* test_nn_fan.c - frame attention forward and backward against PyTorch
 * (scripts/gen-fan-fixtures.py). Tolerance: nn_fixture.h. */
#include "nn_fixture.h"
#include "nn_fan.h"

static void check_case(const char *name)
{
    struct fixture *fx = fx_load(name);
    int n = (int)fx_cfg(fx, 0), t = (int)fx_cfg(fx, 1), feat = (int)fx_cfg(fx, 2);
    struct fer_fan fan;
    ck_assert_int_eq(fer_fan_init(&fan, feat), 0);
    fer_tensor_copy(&fan.alpha.weight, fx_get(fx, "alpha.weight"));
    fer_tensor_copy(&fan.alpha.bias, fx_get(fx, "alpha.bias"));
    fer_tensor_copy(&fan.beta.weight, fx_get(fx, "beta.weight"));
    fer_tensor_copy(&fan.beta.bias, fx_get(fx, "beta.bias"));
    struct fer_tensor *x = fx_get(fx, "x"), *y = fx_get(fx, "y");
    struct fer_tensor out = nn_zeros_like(y), dx = nn_zeros_like(x);
    ck_assert_int_eq(out.shape[0], n);
    ck_assert_int_eq(fer_fan_forward(&fan, x, t, &out), 0);
    ck_assert_double_le(nn_error(out.data, y->data, fer_tensor_numel(y)), NN_TOL);
    ck_assert_int_eq(fer_fan_backward(&fan, x, t, fx_get(fx, "dy"), &dx), 0);
    ck_assert_double_le(nn_error(dx.data, fx_get(fx, "dx")->data, fer_tensor_numel(x)), NN_TOL);
    struct { struct fer_tensor *ours; const char *name; } grads[] = {
        {&fan.alpha.weight_grad, "alpha.weight.grad"}, {&fan.alpha.bias_grad, "alpha.bias.grad"},
        {&fan.beta.weight_grad, "beta.weight.grad"}, {&fan.beta.bias_grad, "beta.bias.grad"},
    };
    for (int i = 0; i < 4; i++) {
        struct fer_tensor *ref = fx_get(fx, grads[i].name);
        size_t cnt = fer_tensor_numel(ref);
        double err = nn_error(grads[i].ours->data, ref->data, cnt);
        /* With one frame f' = f_1 whatever alpha is: alpha's true gradient
         * is 0 and both sides hold rounding noise, so compare absolutely. */
        double scale = 0, ours = 0;
        for (size_t k = 0; k < cnt; k++) {
            scale = fmax(scale, fabs(ref->data[k]));
            ours = fmax(ours, fabs(grads[i].ours->data[k]));
        }
        if (scale < 1e-5)
            err = ours < 1e-5 ? 0 : 1;
        ck_assert_msg(err <= NN_TOL, "%s %s: error %g", name, grads[i].name, err);
    }
    /* Gradients accumulate: a second backward doubles them. */
    float before = fan.beta.weight_grad.data[0];
    ck_assert_int_eq(fer_fan_backward(&fan, x, t, fx_get(fx, "dy"), NULL), 0);
    ck_assert_float_eq_tol(fan.beta.weight_grad.data[0], 2 * before, 1e-5 * (1 + fabsf(before)));
    ck_assert_int_eq(fer_fan_forward(&fan, x, t + 1 == n * t ? t + 2 : t + 1, &out), -1);
    fer_tensor_free(&out);
    fer_tensor_free(&dx);
    fer_fan_free(&fan);
    fx_free(fx);
}

START_TEST(test_fan_3x4x6) { check_case("fan_3x4x6"); }
END_TEST
START_TEST(test_fan_2x3x32) { check_case("fan_2x3x32"); }
END_TEST
START_TEST(test_fan_one_frame) { check_case("fan_2x1x5"); }
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_fan");
    TCase *tc = tcase_create("fan");
    tcase_add_test(tc, test_fan_3x4x6);
    tcase_add_test(tc, test_fan_2x3x32);
    tcase_add_test(tc, test_fan_one_frame);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
