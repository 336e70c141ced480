#include "nn_fixture.h"

#include "optim.h"

static const char *cases[] = {"sgd_plain", "sgd_momentum_wd", "sgd_nesterov", "adamw",
                              "adamw_betas"};

/* Several steps of torch.optim on the same gradients; p1 sits in a
 * parameter group without weight decay (our no_decay). */
START_TEST(test_optim_matches_torch)
{
    struct fixture *fx = fx_load(cases[_i]);
    struct fer_optim_spec spec = {
        .kind = fx_cfg(fx, 0) ? FER_OPTIM_ADAMW : FER_OPTIM_SGD,
        .momentum = fx_cfg(fx, 2), .dampening = fx_cfg(fx, 3),
        .nesterov = (int)fx_cfg(fx, 4), .weight_decay = fx_cfg(fx, 5),
        .beta1 = fx_cfg(fx, 6), .beta2 = fx_cfg(fx, 7), .eps = fx_cfg(fx, 8)};
    float lr = fx_cfg(fx, 1);
    int steps = (int)fx_cfg(fx, 9);
    struct fer_tensor g[2] = {nn_zeros_like(fx_get(fx, "p0")),
                              nn_zeros_like(fx_get(fx, "p1"))};
    struct fer_param params[2] = {{"p0", fx_get(fx, "p0"), &g[0], 0},
                                  {"p1", fx_get(fx, "p1"), &g[1], 1}};
    struct fer_optim *o = fer_optim_new(&spec, params, 2);
    ck_assert_msg(o != NULL, "%s", fer_error());
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < 2; i++) {
            char name[16];
            snprintf(name, sizeof name, "g%d_%d", s, i);
            fer_tensor_copy(&g[i], fx_get(fx, name));
        }
        ck_assert_int_eq(fer_optim_step(o, lr), 0);
    }
    ck_assert_int_eq(fer_optim_steps(o), steps);
    nn_expect_close("p0", fx_get(fx, "p0"), fx_get(fx, "p0_out"));
    nn_expect_close("p1", fx_get(fx, "p1"), fx_get(fx, "p1_out"));
    fer_optim_free(o);
    fer_tensor_free(&g[0]);
    fer_tensor_free(&g[1]);
    fx_free(fx);
}
END_TEST

START_TEST(test_optim_rejects_bad_spec)
{
    struct fer_optim_spec spec = {.kind = FER_OPTIM_SGD, .nesterov = 1};
    ck_assert_ptr_null(fer_optim_new(&spec, NULL, 0));
    ck_assert_str_eq(fer_error(),
                     "sgd: Nesterov momentum requires a momentum and zero dampening");
    struct fer_tensor a, b;
    fer_tensor_alloc(&a, 1, (int[]){3});
    fer_tensor_alloc(&b, 1, (int[]){4});
    struct fer_param p = {"w", &a, &b, 0};
    spec.nesterov = 0;
    ck_assert_ptr_null(fer_optim_new(&spec, &p, 1));
    ck_assert_str_eq(fer_error(), "optimizer: parameter w has no matching gradient");
    fer_tensor_free(&a);
    fer_tensor_free(&b);
}
END_TEST

static const char *lr_cases[] = {"lr_step", "lr_cosine", "lr_warmup_cosine"};

START_TEST(test_lr_schedule_matches_torch)
{
    struct fixture *fx = fx_load(lr_cases[_i]);
    struct fer_lr_schedule s = {
        .kind = (enum fer_lr_kind)(int)fx_cfg(fx, 0), .base = fx_cfg(fx, 1),
        .step_size = (int)fx_cfg(fx, 2), .gamma = fx_cfg(fx, 3),
        .total = (int)fx_cfg(fx, 4), .min = fx_cfg(fx, 5),
        .warmup = (int)fx_cfg(fx, 6), .warmup_start = fx_cfg(fx, 7)};
    struct fer_tensor *want = fx_get(fx, "lr");
    for (int t = 0; t < (int)fer_tensor_numel(want); t++)
        ck_assert_msg(fabs(fer_lr_at(&s, t) - want->data[t]) <= 1e-6 * want->data[0],
                      "epoch %d: %g, PyTorch %g", t, fer_lr_at(&s, t), want->data[t]);
    fx_free(fx);
}
END_TEST

START_TEST(test_clip_matches_torch)
{
    const char *names[] = {"clip_norm", "clip_norm_none"};
    struct fixture *fx = fx_load(names[_i]);
    struct fer_param p[2] = {{"a", fx_get(fx, "g0"), fx_get(fx, "g0"), 0},
                             {"b", fx_get(fx, "g1"), fx_get(fx, "g1"), 0}};
    double norm = fer_clip_grad_norm(p, 2, fx_cfg(fx, 0));
    ck_assert_double_eq_tol(norm, fx_get(fx, "norm")->data[0], 1e-5 * norm);
    nn_expect_close("g0", fx_get(fx, "g0"), fx_get(fx, "g0_out"));
    nn_expect_close("g1", fx_get(fx, "g1"), fx_get(fx, "g1_out"));
    fx_free(fx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_optim");
    TCase *tc = tcase_create("optim");
    tcase_add_loop_test(tc, test_optim_matches_torch, 0, 5);
    tcase_add_test(tc, test_optim_rejects_bad_spec);
    tcase_add_loop_test(tc, test_lr_schedule_matches_torch, 0, 3);
    tcase_add_loop_test(tc, test_clip_matches_torch, 0, 2);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
