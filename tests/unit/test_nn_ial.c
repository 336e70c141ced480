/* test_nn_ial.c - inter-sample attention (nn_ial.h, nn_cosattn.h) forward
 * and backward against PyTorch autograd (scripts/gen-ial-fixtures.py) and
 * against finite differences. Tolerances: nn_fixture.h. */
#include "nn_fixture.h"
#include "nn_cosattn.h"
#include "nn_ial.h"

static const char *const param_names[6] = {
    "ial.proj.0.weight", "ial.proj.0.bias", "ial.proj.2.weight",
    "ial.proj.2.bias", "ial.fc.weight", "ial.fc.bias",
};

static void ial_params(struct fer_ial *ial, struct fer_tensor *value[6], struct fer_tensor *grad[6])
{
    struct fer_linear *l[3] = {&ial->proj0, &ial->proj2, &ial->fc};
    for (int i = 0; i < 3; i++) {
        value[2 * i] = &l[i]->weight, grad[2 * i] = &l[i]->weight_grad;
        value[2 * i + 1] = &l[i]->bias, grad[2 * i + 1] = &l[i]->bias_grad;
    }
}

static void check_case(const char *name)
{
    struct fixture *fx = fx_load(name);
    int n = (int)fx_cfg(fx, 0), feat = (int)fx_cfg(fx, 1), classes = (int)fx_cfg(fx, 2);
    struct fer_ial ial;
    ck_assert_int_eq(fer_ial_init(&ial, feat, classes, fx_cfg(fx, 3)), 0);
    struct fer_tensor *value[6], *grad[6];
    ial_params(&ial, value, grad);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(fer_tensor_copy(value[i], fx_get(fx, param_names[i])), 0);
    struct fer_arena *a = fer_arena_new(0);
    struct fer_tensor *x = fx_get(fx, "x"), *y = fx_get(fx, "y");
    struct fer_tensor out = nn_zeros_like(y), dx = nn_zeros_like(x);
    struct fer_ial_acts acts;
    ck_assert_int_eq(out.shape[0], n);
    ck_assert_int_eq(fer_ial_forward(&ial, x, &acts, &out, a), 0);
    nn_expect_close("attention", &acts.attn, fx_get(fx, "attn"));
    for (int i = 0; i < n; i++)
        ck_assert(acts.attn.data[(size_t)i * n + i] == 0.0f);
    nn_expect_close("attended features", &acts.v, fx_get(fx, "v"));
    nn_expect_close("logits", &out, y);
    ck_assert_int_eq(fer_ial_backward(&ial, x, &acts, fx_get(fx, "dy"), &dx, a), 0);
    nn_expect_close("input gradient", &dx, fx_get(fx, "dx"));
    char gname[80];
    for (int i = 0; i < 6; i++) {
        snprintf(gname, sizeof gname, "%s.grad", param_names[i]);
        nn_expect_close(gname, grad[i], fx_get(fx, gname));
    }
    /* Parameter gradients accumulate: a second backward doubles them. */
    float before = ial.fc.weight_grad.data[0];
    ck_assert_int_eq(fer_ial_backward(&ial, x, &acts, fx_get(fx, "dy"), NULL, a), 0);
    ck_assert_float_eq_tol(ial.fc.weight_grad.data[0], 2 * before, 1e-5 * (1 + fabsf(before)));
    fer_tensor_free(&out);
    fer_tensor_free(&dx);
    fer_arena_free(a);
    fer_ial_free(&ial);
    fx_free(fx);
}

START_TEST(test_ial_6x8x3) { check_case("ial_6x8x3"); }
END_TEST
/* Temperature 0.1 and a batch of 16: peaked rows, 7 classes. */
START_TEST(test_ial_16x32x7) { check_case("ial_16x32x7"); }
END_TEST
/* Two samples: each attends only to the other, whatever the similarity,
 * so the projection gets exactly zero gradient on both sides. */
START_TEST(test_ial_two_samples) { check_case("ial_2x5x2"); }
END_TEST

/* Finite differences of L = sum_i logits_i r_i. */
struct fd_ctx {
    struct fer_ial *ial;
    struct fer_tensor *x, *out, *r;
    struct fer_arena *a;
};

static double fd_loss(void *p)
{
    struct fd_ctx *c = p;
    struct fer_ial_acts acts;
    fer_arena_reset(c->a);
    ck_assert_int_eq(fer_ial_forward(c->ial, c->x, &acts, c->out, c->a), 0);
    return nn_dot(c->out, c->r);
}

START_TEST(test_ial_finite_differences)
{
    const int n = 7, feat = 6, classes = 4;
    struct fer_rng rng;
    fer_rng_seed(&rng, 42);
    struct fer_ial ial;
    ck_assert_int_eq(fer_ial_init(&ial, feat, classes, 0.5f), 0);
    struct fer_tensor *value[6], *grad[6];
    ial_params(&ial, value, grad);
    for (int i = 0; i < 6; i++)
        nn_randn(value[i], &rng);
    struct fer_tensor x, out, r, dx;
    fer_tensor_alloc(&x, 2, (int[]){n, feat});
    fer_tensor_alloc(&dx, 2, (int[]){n, feat});
    fer_tensor_alloc(&out, 2, (int[]){n, classes});
    fer_tensor_alloc(&r, 2, (int[]){n, classes});
    nn_randn(&x, &rng);
    nn_randn(&r, &rng);
    struct fer_arena *a = fer_arena_new(0);
    struct fer_ial_acts acts;
    ck_assert_int_eq(fer_ial_forward(&ial, &x, &acts, &out, a), 0);
    ck_assert_int_eq(fer_ial_backward(&ial, &x, &acts, &r, &dx, a), 0);
    struct fd_ctx ctx = {&ial, &x, &out, &r, a};
    nn_check_fd("input", fd_loss, &ctx, &x, &dx, 12, &rng);
    for (int i = 0; i < 6; i++)
        nn_check_fd(param_names[i], fd_loss, &ctx, value[i], grad[i], 6, &rng);
    fer_tensor_free(&x);
    fer_tensor_free(&dx);
    fer_tensor_free(&out);
    fer_tensor_free(&r);
    fer_arena_free(a);
    fer_ial_free(&ial);
}
END_TEST

START_TEST(test_cosattn_errors)
{
    struct fer_arena *a = fer_arena_new(0);
    struct fer_tensor z, f, attn, v;
    fer_tensor_alloc(&z, 2, (int[]){1, 3});
    fer_tensor_alloc(&f, 2, (int[]){1, 2});
    fer_tensor_alloc(&attn, 2, (int[]){1, 1});
    fer_tensor_alloc(&v, 2, (int[]){1, 2});
    ck_assert_int_eq(fer_cosattn_forward(&z, &f, 0.1f, &attn, &v, a), -1);
    ck_assert_str_eq(fer_error(), "cosattn: needs at least 2 samples, got 1");
    fer_tensor_free(&z);
    fer_tensor_free(&attn);
    fer_tensor_alloc(&z, 2, (int[]){2, 3});
    fer_tensor_alloc(&attn, 2, (int[]){2, 2});
    ck_assert_int_eq(fer_cosattn_forward(&z, &f, 0.1f, &attn, &v, a), -1); /* f has 1 row */
    fer_tensor_free(&f);
    fer_tensor_free(&v);
    fer_tensor_alloc(&f, 2, (int[]){2, 2});
    fer_tensor_alloc(&v, 2, (int[]){2, 2});
    ck_assert_int_eq(fer_cosattn_forward(&z, &f, 0.0f, &attn, &v, a), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "temperature"));
    /* A zero row of z: similarity 0 to everything, finite output. */
    z.data[3] = z.data[4] = z.data[5] = 1.0f;
    f.data[0] = 1, f.data[1] = 2, f.data[2] = 3, f.data[3] = 4;
    ck_assert_int_eq(fer_cosattn_forward(&z, &f, 0.1f, &attn, &v, a), 0);
    ck_assert(attn.data[1] == 1.0f && attn.data[2] == 1.0f);
    ck_assert(v.data[0] == 3.0f && v.data[1] == 4.0f && v.data[2] == 1.0f);
    struct fer_ial ial;
    ck_assert_int_eq(fer_ial_init(&ial, 4, 2, -1.0f), -1);
    fer_tensor_free(&z);
    fer_tensor_free(&f);
    fer_tensor_free(&attn);
    fer_tensor_free(&v);
    fer_arena_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_ial");
    TCase *tc = tcase_create("ial");
    tcase_add_test(tc, test_ial_6x8x3);
    tcase_add_test(tc, test_ial_16x32x7);
    tcase_add_test(tc, test_ial_two_samples);
    tcase_add_test(tc, test_ial_finite_differences);
    tcase_add_test(tc, test_cosattn_errors);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
