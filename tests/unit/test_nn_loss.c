#include "nn_fixture.h"

#include "nn_loss.h"

static const char *ce_cases[] = {"ce", "ce_smooth", "ce_weight", "ce_smooth_weight"};

static int *targets(const struct fer_tensor *t)
{
    size_t n = fer_tensor_numel(t);
    int *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = (int)t->data[i];
    return out;
}

static struct fer_tensor scalar(double v)
{
    struct fer_tensor t;
    fer_tensor_alloc(&t, 1, (int[]){1});
    t.data[0] = (float)v;
    return t;
}

START_TEST(test_cross_entropy_matches_torch)
{
    struct fixture *fx = fx_load(ce_cases[_i]);
    struct fer_tensor *logits = fx_get(fx, "logits");
    struct fer_tensor *w = fx_find(fx, "weight");
    int *t = targets(fx_get(fx, "target"));
    struct fer_tensor g = nn_zeros_like(logits);
    double loss;
    ck_assert_msg(fer_cross_entropy_loss(logits, t, w ? w->data : NULL, fx_cfg(fx, 1),
                                         &loss, &g) == 0, "%s", fer_error());
    struct fer_tensor l = scalar(loss);
    nn_expect_close("loss", &l, fx_get(fx, "loss"));
    nn_expect_close("dlogits", &g, fx_get(fx, "dlogits"));
    fer_tensor_free(&l);
    fer_tensor_free(&g);
    free(t);
    fx_free(fx);
}
END_TEST

START_TEST(test_cross_entropy_rejects_bad_target)
{
    struct fer_tensor z;
    fer_tensor_alloc(&z, 2, (int[]){2, 3});
    double loss;
    ck_assert_int_eq(fer_cross_entropy_loss(&z, (int[]){0, 3}, NULL, 0, &loss, NULL), -1);
    ck_assert_str_eq(fer_error(), "cross_entropy: target 3 outside 0..2");
    ck_assert_int_eq(fer_cross_entropy_loss(&z, (int[]){0, 2}, NULL, 0, &loss, NULL), 0);
    ck_assert_double_eq_tol(loss, log(3.0), 1e-12);
    fer_tensor_free(&z);
}
END_TEST

START_TEST(test_ntxent_matches_torch)
{
    const char *names[] = {"ntxent", "ntxent_t01"};
    struct fixture *fx = fx_load(names[_i]);
    struct fer_tensor *z = fx_get(fx, "z");
    int *pos = targets(fx_get(fx, "pos"));
    struct fer_tensor g = nn_zeros_like(z);
    struct fer_arena *arena = fer_arena_new(0);
    double loss;
    ck_assert_msg(fer_ntxent_loss(z, pos, fx_cfg(fx, 0), &loss, &g, arena) == 0, "%s",
                  fer_error());
    struct fer_tensor l = scalar(loss);
    nn_expect_close("loss", &l, fx_get(fx, "loss"));
    nn_expect_close("dz", &g, fx_get(fx, "dz"));
    pos[0] = 0;
    ck_assert_int_eq(fer_ntxent_loss(z, pos, 0.5f, &loss, &g, arena), -1);
    ck_assert_str_eq(fer_error(), "ntxent: sample 0 has positive 0");
    fer_arena_free(arena);
    fer_tensor_free(&l);
    fer_tensor_free(&g);
    free(pos);
    fx_free(fx);
}
END_TEST

/* Finite differences of both losses in double at random inputs, including
 * an unequal, non-symmetric choice of positives. */
struct fd_ctx {
    int which;
    struct fer_tensor *x;
    const int *t;
    const float *w;
    struct fer_arena *arena;
};

static double loss_of(void *p)
{
    struct fd_ctx *k = p;
    double loss;
    if (k->which == 0)
        ck_assert_int_eq(fer_cross_entropy_loss(k->x, k->t, k->w, 0.15f, &loss, NULL), 0);
    else
        ck_assert_int_eq(fer_ntxent_loss(k->x, k->t, 0.3f, &loss, NULL, k->arena), 0);
    return loss;
}

START_TEST(test_losses_finite_differences)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 21);
    struct fer_arena *arena = fer_arena_new(0);
    struct fer_tensor x, g;
    fer_tensor_alloc(&x, 2, (int[]){5, 4});
    g = nn_zeros_like(&x);
    nn_randn(&x, &rng);
    const int t[5] = {1, 2, 0, 4, 3}; /* as targets: K = 4 needs t < 4 */
    const int ce_t[5] = {1, 2, 0, 3, 3};
    const float w[4] = {0.5f, 1.5f, 1, 2};
    double loss;
    struct fd_ctx ce = {0, &x, ce_t, w, arena};
    ck_assert_int_eq(fer_cross_entropy_loss(&x, ce_t, w, 0.15f, &loss, &g), 0);
    nn_check_fd("ce dlogits", loss_of, &ce, &x, &g, 10, &rng);
    struct fd_ctx nt = {1, &x, t, NULL, arena};
    ck_assert_int_eq(fer_ntxent_loss(&x, t, 0.3f, &loss, &g, arena), 0);
    nn_check_fd("ntxent dz", loss_of, &nt, &x, &g, 10, &rng);
    fer_tensor_free(&x);
    fer_tensor_free(&g);
    fer_arena_free(arena);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_loss");
    TCase *tc = tcase_create("loss");
    tcase_add_loop_test(tc, test_cross_entropy_matches_torch, 0, 4);
    tcase_add_test(tc, test_cross_entropy_rejects_bad_target);
    tcase_add_loop_test(tc, test_ntxent_matches_torch, 0, 2);
    tcase_add_test(tc, test_losses_finite_differences);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
