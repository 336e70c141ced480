/* The pretext heads (pretext_head.h) against PyTorch (scripts/gen-pretext-fixtures.py). */
#include "nn_fixture.h"

#include "arena.h"
#include "nn_loss.h"
#include "pretext_head.h"

#include <math.h>
#include <stdlib.h>

static struct fixture *load(const char *name)
{
    const char *root = getenv("FER_ROOT");
    char dir[480];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/pretext", root ? root : ".");
    return fx_load_from(dir, name);
}

static const char *cases[] = {"rotation_linear",      "concat_n3",
                              "relational_n3",        "relational_n5",
                              "relational_linear_n5", "projection",
                              "relational_square_n3", "relational_product_n5",
                              "relational_linear_square_n3", "relational_relative_n3",
                              "relational_relative_n5", "relational_linear_relative_n3"};

/* Forward, cross-entropy and backward match autograd: logits, loss, the
 * features' gradient and every parameter's gradient. */
START_TEST(test_head_matches_torch)
{
    struct fixture *fx = load(cases[_i]);
    static const enum fer_head_kind kinds[] = {FER_HEAD_LINEAR, FER_HEAD_CONCAT,
                                               FER_HEAD_RELATIONAL, FER_HEAD_PROJECTION};
    struct fer_pretext_head h;
    enum fer_head_kind kind = kinds[(int)fx_cfg(fx, 0)];
    enum fer_pair_features pairs = (enum fer_pair_features)(int)fx_cfg(fx, 5);
    int rc = kind == FER_HEAD_RELATIONAL
                 ? fer_pretext_head_init_relational(&h, (int)fx_cfg(fx, 2), (int)fx_cfg(fx, 1),
                                                    (int)fx_cfg(fx, 3), pairs, 1)
                 : fer_pretext_head_init(&h, kind, (int)fx_cfg(fx, 2), (int)fx_cfg(fx, 1),
                                         (int)fx_cfg(fx, 4), (int)fx_cfg(fx, 3), 1);
    ck_assert_msg(rc == 0, "%s", fer_error());
    const struct fer_param *p;
    int np = fer_pretext_head_params(&h, &p);
    for (int i = 0; i < np; i++)
        ck_assert_int_eq(fer_tensor_copy(p[i].value, fx_get(fx, p[i].name)), 0);
    struct fer_tensor *feat = fx_get(fx, "feat"), *tf = fx_get(fx, "target");
    int batch = tf->shape[0], target[64];
    for (int i = 0; i < batch; i++)
        target[i] = (int)tf->data[i];
    struct fer_arena *a = fer_arena_new(0);
    struct fer_tensor logits, dlogits, dfeat = nn_zeros_like(feat);
    ck_assert_msg(fer_pretext_head_forward(&h, feat, &logits, a) == 0, "%s", fer_error());
    nn_expect_close("logits", &logits, fx_get(fx, "logits"));
    double loss;
    ck_assert_int_eq(fer_tensor_arena(&dlogits, a, 2, logits.shape), 0);
    ck_assert_int_eq(fer_cross_entropy_loss(&logits, target, NULL, 0, &loss, &dlogits), 0);
    ck_assert_double_eq_tol(loss, fx_get(fx, "loss")->data[0], 1e-5);
    fer_tensor_fill(&dfeat, 7); /* overwritten, not accumulated */
    ck_assert_msg(fer_pretext_head_backward(&h, feat, &dlogits, &dfeat, a) == 0, "%s",
                  fer_error());
    nn_expect_close("dfeat", &dfeat, fx_get(fx, "dfeat"));
    for (int i = 0; i < np; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s.grad", p[i].name);
        nn_expect_close(name, p[i].grad, fx_get(fx, name));
    }
    fer_tensor_free(&dfeat);
    fer_arena_free(a);
    fer_pretext_head_free(&h);
    fx_free(fx);
}
END_TEST

/* The relational head is equivariant: permuting an example's frames
 * permutes its logits the same way (it has no position prior). */
START_TEST(test_relational_is_equivariant)
{
    enum { N = 5, D = 9 };
    struct fer_pretext_head h;
    ck_assert_int_eq(fer_pretext_head_init_relational(&h, D, N, 8, (enum fer_pair_features)_i, 3),
                     0);
    struct fer_tensor f, g, l1, l2;
    ck_assert_int_eq(fer_tensor_alloc(&f, 2, (int[]){N, D}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&g, 2, (int[]){N, D}), 0);
    struct fer_rng rng;
    fer_rng_seed(&rng, 5);
    for (int i = 0; i < N * D; i++)
        f.data[i] = (float)fer_rng_normal(&rng);
    static const int perm[N] = {3, 0, 4, 1, 2};
    for (int i = 0; i < N; i++)
        memcpy(g.data + i * D, f.data + perm[i] * D, D * sizeof(float));
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_int_eq(fer_pretext_head_forward(&h, &f, &l1, a), 0);
    ck_assert_int_eq(fer_pretext_head_forward(&h, &g, &l2, a), 0);
    for (int i = 0; i < N; i++)
        ck_assert_float_eq_tol(l2.data[i], l1.data[perm[i]], 1e-5);
    fer_arena_free(a);
    fer_tensor_free(&f);
    fer_tensor_free(&g);
    fer_pretext_head_free(&h);
}
END_TEST

/* Mean cross-entropy of a head on features f with targets t. */
static double head_loss(struct fer_pretext_head *h, const struct fer_tensor *f, const int *t,
                        struct fer_arena *a)
{
    struct fer_tensor logits;
    double loss;
    ck_assert_int_eq(fer_pretext_head_forward(h, f, &logits, a), 0);
    ck_assert_int_eq(fer_cross_entropy_loss(&logits, t, NULL, 0, &loss, NULL), 0);
    return loss;
}

/* The relative head's feature gradient (which goes through each
 * example's mean difference) matches central finite differences of the
 * loss, in double-checked float: an oracle independent of PyTorch. */
START_TEST(test_relative_gradient_finite_differences)
{
    enum { B = 3, N = 3, D = 5 };
    struct fer_pretext_head h;
    ck_assert_int_eq(fer_pretext_head_init_relational(&h, D, N, 6, FER_PAIR_RELATIVE, 9), 0);
    struct fer_tensor f, dfeat, logits, dlogits;
    ck_assert_int_eq(fer_tensor_alloc(&f, 2, (int[]){B * N, D}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&dfeat, 2, (int[]){B * N, D}), 0);
    struct fer_rng rng;
    fer_rng_seed(&rng, 11);
    for (int i = 0; i < B * N * D; i++)
        f.data[i] = (float)fer_rng_normal(&rng);
    static const int t[B] = {0, 2, 1};
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_int_eq(fer_pretext_head_forward(&h, &f, &logits, a), 0);
    ck_assert_int_eq(fer_tensor_arena(&dlogits, a, 2, logits.shape), 0);
    double loss;
    ck_assert_int_eq(fer_cross_entropy_loss(&logits, t, NULL, 0, &loss, &dlogits), 0);
    ck_assert_int_eq(fer_pretext_head_backward(&h, &f, &dlogits, &dfeat, a), 0);
    const float step = 1e-2f;
    for (int i = 0; i < B * N * D; i++) {
        float keep = f.data[i];
        f.data[i] = keep + step;
        double up = head_loss(&h, &f, t, a);
        f.data[i] = keep - step;
        double down = head_loss(&h, &f, t, a);
        f.data[i] = keep;
        double numeric = (up - down) / (2.0 * step);
        ck_assert_msg(fabs(numeric - dfeat.data[i]) < 2e-3 + 2e-2 * fabs(numeric),
                      "element %d: analytic %g, numeric %g", i, dfeat.data[i], numeric);
    }
    fer_arena_free(a);
    fer_tensor_free(&f);
    fer_tensor_free(&dfeat);
    fer_pretext_head_free(&h);
}
END_TEST

/* Dropout on the pair input: in training mode, with the mask fixed by
 * its seed, the feature and weight gradients match finite differences
 * (for |d| and for the relative pairs, whose mean is taken before the
 * dropout); in evaluation mode the head is the one without dropout. */
START_TEST(test_dropout_gradient_finite_differences)
{
    enum { B = 2, N = 3, D = 6 };
    enum fer_pair_features kind = _i ? FER_PAIR_RELATIVE : FER_PAIR_ABS;
    struct fer_pretext_head h, plain;
    ck_assert_int_eq(fer_pretext_head_init_relational(&h, D, N, 5, kind, 9), 0);
    ck_assert_int_eq(fer_pretext_head_init_relational(&plain, D, N, 5, kind, 9), 0);
    ck_assert_int_eq(fer_pretext_head_set_dropout(&h, 0.4f), 0);
    struct fer_tensor f, dfeat, logits, plain_logits, dlogits;
    ck_assert_int_eq(fer_tensor_alloc(&f, 2, (int[]){B * N, D}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&dfeat, 2, (int[]){B * N, D}), 0);
    struct fer_rng rng;
    fer_rng_seed(&rng, 12);
    for (int i = 0; i < B * N * D; i++)
        f.data[i] = (float)fer_rng_normal(&rng);
    static const int t[B] = {1, 2};
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_int_eq(fer_pretext_head_forward(&h, &f, &logits, a), 0); /* evaluation mode */
    ck_assert_int_eq(fer_pretext_head_forward(&plain, &f, &plain_logits, a), 0);
    for (int i = 0; i < B * N; i++)
        ck_assert_float_eq(logits.data[i], plain_logits.data[i]);
    fer_pretext_head_set_training(&h, 1, 77);
    ck_assert_int_eq(fer_pretext_head_forward(&h, &f, &logits, a), 0);
    int differs = 0;
    for (int i = 0; i < B * N; i++)
        differs |= logits.data[i] != plain_logits.data[i];
    ck_assert_msg(differs, "training-mode dropout changed nothing");
    ck_assert_int_eq(fer_tensor_arena(&dlogits, a, 2, logits.shape), 0);
    double loss;
    ck_assert_int_eq(fer_cross_entropy_loss(&logits, t, NULL, 0, &loss, &dlogits), 0);
    fer_pretext_head_zero_grad(&h);
    ck_assert_int_eq(fer_pretext_head_backward(&h, &f, &dlogits, &dfeat, a), 0);
    const float step = 1e-2f;
    for (int i = 0; i < B * N * D; i++) {
        float keep = f.data[i];
        f.data[i] = keep + step;
        fer_pretext_head_set_training(&h, 1, 77);
        double up = head_loss(&h, &f, t, a);
        f.data[i] = keep - step;
        fer_pretext_head_set_training(&h, 1, 77);
        double down = head_loss(&h, &f, t, a);
        f.data[i] = keep;
        double numeric = (up - down) / (2.0 * step);
        ck_assert_msg(fabs(numeric - dfeat.data[i]) < 2e-3 + 2e-2 * fabs(numeric),
                      "feature %d: analytic %g, numeric %g", i, dfeat.data[i], numeric);
    }
    float *w = h.pair.weight.data, *gw = h.pair.weight_grad.data;
    for (int i = 0; i < 5 * D; i++) {
        float keep = w[i];
        w[i] = keep + step;
        fer_pretext_head_set_training(&h, 1, 77);
        double up = head_loss(&h, &f, t, a);
        w[i] = keep - step;
        fer_pretext_head_set_training(&h, 1, 77);
        double down = head_loss(&h, &f, t, a);
        w[i] = keep;
        double numeric = (up - down) / (2.0 * step);
        ck_assert_msg(fabs(numeric - gw[i]) < 2e-3 + 2e-2 * fabs(numeric),
                      "weight %d: analytic %g, numeric %g", i, gw[i], numeric);
    }
    fer_arena_free(a);
    fer_tensor_free(&f);
    fer_tensor_free(&dfeat);
    fer_pretext_head_free(&h);
    fer_pretext_head_free(&plain);
}
END_TEST

/* The relative head does not see the scale of the features: scaling an
 * example's features (and so all its differences) leaves its logits. */
START_TEST(test_relative_is_scale_free)
{
    enum { N = 3, D = 7 };
    struct fer_pretext_head h;
    ck_assert_int_eq(fer_pretext_head_init_relational(&h, D, N, 8, FER_PAIR_RELATIVE, 4), 0);
    struct fer_tensor f, l1, l2;
    ck_assert_int_eq(fer_tensor_alloc(&f, 2, (int[]){N, D}), 0);
    struct fer_rng rng;
    fer_rng_seed(&rng, 6);
    for (int i = 0; i < N * D; i++)
        f.data[i] = (float)fer_rng_normal(&rng);
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_int_eq(fer_pretext_head_forward(&h, &f, &l1, a), 0);
    for (int i = 0; i < N * D; i++)
        f.data[i] *= 7.5f;
    ck_assert_int_eq(fer_pretext_head_forward(&h, &f, &l2, a), 0);
    for (int i = 0; i < N; i++)
        ck_assert_float_eq_tol(l2.data[i], l1.data[i], 1e-4);
    fer_arena_free(a);
    fer_tensor_free(&f);
    fer_pretext_head_free(&h);
}
END_TEST

START_TEST(test_head_rejects_bad_shapes)
{
    struct fer_pretext_head h;
    ck_assert_int_eq(fer_pretext_head_init(&h, FER_HEAD_CONCAT, 4, 1, 0, 0, 1), -1);
    ck_assert_int_eq(fer_pretext_head_init(&h, FER_HEAD_LINEAR, 4, 1, 1, 0, 1), -1);
    ck_assert_int_eq(fer_pretext_head_init_relational(&h, 4, 3, 2, (enum fer_pair_features)7, 1),
                     -1);
    ck_assert_str_eq(fer_error(), "pretext head: unknown pair features 7");
    ck_assert_int_eq(fer_pretext_head_init(&h, FER_HEAD_CONCAT, 4, 3, 3, 0, 1), 0);
    ck_assert_int_eq(fer_pretext_head_set_dropout(&h, 0.5f), -1);
    ck_assert_str_eq(fer_error(), "pretext head: dropout is for the relational head");
    fer_pretext_head_free(&h);
    ck_assert_int_eq(fer_pretext_head_init(&h, FER_HEAD_RELATIONAL, 4, 3, 3, 2, 1), 0);
    struct fer_tensor f, logits;
    ck_assert_int_eq(fer_tensor_alloc(&f, 2, (int[]){4, 4}), 0); /* 4 rows, n = 3 */
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_int_eq(fer_pretext_head_forward(&h, &f, &logits, a), -1);
    ck_assert_str_eq(fer_error(), "pretext head: 4 feature rows are not a multiple of 3 frames");
    fer_arena_free(a);
    fer_tensor_free(&f);
    fer_pretext_head_free(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pretext_head");
    TCase *tc = tcase_create("pretext_head");
    tcase_add_loop_test(tc, test_head_matches_torch, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_loop_test(tc, test_relational_is_equivariant, FER_PAIR_ABS, FER_PAIR_RELATIVE + 1);
    tcase_add_test(tc, test_relative_gradient_finite_differences);
    tcase_add_test(tc, test_relative_is_scale_free);
    tcase_add_loop_test(tc, test_dropout_gradient_finite_differences, 0, 2);
    tcase_add_test(tc, test_head_rejects_bad_shapes);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
