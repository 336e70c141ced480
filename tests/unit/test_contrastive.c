/* The contrastive loss (contrastive.h) against PyTorch
 * (scripts/gen-pretext-fixtures.py), finite differences, and plain NT-Xent. */
#include "nn_fixture.h"

#include "arena.h"
#include "contrastive.h"
#include "nn_loss.h"

#include <stdlib.h>

static struct fixture *load(const char *name)
{
    const char *root = getenv("FER_ROOT");
    char dir[480];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/pretext", root ? root : ".");
    return fx_load_from(dir, name);
}

static const char *cases[] = {"contrastive_default", "contrastive_missing", "contrastive_all",
                              "contrastive_no_negatives"};

/* The fixture stores gamma as float32; the definition uses the double the
 * command line gives (0.1, not 0.100000001). */
static double fixture_gamma(struct fixture *fx)
{
    return round(fx_cfg(fx, 3) * 1e6) / 1e6;
}

/* Loss, gradient and the selection (which pairs and which hard negatives
 * survive the filtering) match autograd on the same definition. */
START_TEST(test_contrastive_matches_torch)
{
    struct fixture *fx = load(cases[_i]);
    int B = (int)fx_cfg(fx, 0), K = (int)fx_cfg(fx, 1);
    struct fer_tensor *z = fx_get(fx, "z"), *pr = fx_get(fx, "present");
    unsigned char present[256], kept_pairs[64], kept_neg[256];
    ck_assert_int_le(B * K, 256);
    for (int i = 0; i < B * K; i++)
        present[i] = pr->data[i] != 0;
    struct fer_contrastive_spec spec = {B, K, present, fx_cfg(fx, 2), fixture_gamma(fx)};
    struct fer_arena *a = fer_arena_new(0);
    struct fer_tensor dz = nn_zeros_like(z), l;
    fer_tensor_fill(&dz, 7); /* overwritten, not accumulated */
    double loss;
    ck_assert_msg(fer_contrastive_loss(z, &spec, &loss, &dz, kept_pairs, kept_neg, a) == 0, "%s",
                  fer_error());
    ck_assert_int_eq(fer_tensor_alloc(&l, 1, (int[]){1}), 0);
    l.data[0] = (float)loss;
    nn_expect_close("loss", &l, fx_get(fx, "loss"));
    nn_expect_close("dz", &dz, fx_get(fx, "dz"));
    struct fer_tensor *want_pairs = fx_get(fx, "kept_pairs"), *want_neg = fx_get(fx, "kept_negatives");
    for (int i = 0; i < B; i++)
        ck_assert_msg(kept_pairs[i] == (want_pairs->data[i] != 0), "pair %d: kept %d", i,
                      kept_pairs[i]);
    for (int i = 0; i < B * K; i++)
        ck_assert_msg(kept_neg[i] == (want_neg->data[i] != 0), "negative %d: kept %d", i,
                      kept_neg[i]);
    fer_tensor_free(&l);
    fer_tensor_free(&dz);
    fer_arena_free(a);
    fx_free(fx);
}
END_TEST

/* The filtering keeps ceil(gamma m) of m, at least one; the slack makes
 * 0.1 of 30 keep 3, not 4. */
START_TEST(test_kept_count)
{
    ck_assert_int_eq(fer_contrastive_kept_count(0.1, 30), 3);
    ck_assert_int_eq(fer_contrastive_kept_count(0.1, 31), 4);
    ck_assert_int_eq(fer_contrastive_kept_count(0.1, 32), 4);
    ck_assert_int_eq(fer_contrastive_kept_count(0.1, 5), 1);
    ck_assert_int_eq(fer_contrastive_kept_count(1e-12, 5), 1);
    ck_assert_int_eq(fer_contrastive_kept_count(1, 7), 7);
    ck_assert_int_eq(fer_contrastive_kept_count(0.5, 0), 0);
}
END_TEST

/* A hand-made batch where the filtering's choice is plain: with gamma 0.5
 * of 4 pairs, the two whose anchor and positive point the same way are
 * kept; of 4 hard negatives, the two pointing away from their anchors. */
START_TEST(test_filtering_by_hand)
{
    enum { B = 4, K = 1, R = 3 };
    static const float dirs[B][R][2] = {
        {{1, 0}, {1, 0.1f}, {-1, 0}},  /* close pair, far negative */
        {{0, 1}, {1, 0}, {0, 1}},      /* orthogonal pair, identical negative */
        {{-1, 0}, {-1, 0.2f}, {1, 1}}, /* close pair, far negative */
        {{0, -1}, {1, 1}, {0.1f, -1}}, /* far pair, close negative */
    };
    struct fer_tensor z;
    ck_assert_int_eq(fer_tensor_alloc(&z, 2, (int[]){B * R, 2}), 0);
    memcpy(z.data, dirs, sizeof dirs);
    struct fer_contrastive_spec spec = {B, K, NULL, 0.5f, 0.5};
    unsigned char kp[B], kn[B];
    double loss;
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_int_eq(fer_contrastive_loss(&z, &spec, &loss, NULL, kp, kn, a), 0);
    ck_assert(kp[0] && !kp[1] && kp[2] && !kp[3]);
    ck_assert(kn[0] && !kn[1] && kn[2] && !kn[3]);
    /* An absent slot is never a candidate, whatever its row holds. */
    unsigned char present[B] = {0, 1, 1, 1};
    spec.present = present;
    ck_assert_int_eq(fer_contrastive_loss(&z, &spec, &loss, NULL, kp, kn, a), 0);
    /* Of the 3 present, ceil(1.5) = 2 are kept: the far one and the next. */
    ck_assert(!kn[0] && !kn[1] && kn[2] && kn[3]);
    fer_arena_free(a);
    fer_tensor_free(&z);
}
END_TEST

/* With gamma = 1 and no hard negatives, the loss is plain NT-Xent with
 * partners 2i <-> 2i+1 (fer_ntxent_loss, itself checked against PyTorch). */
START_TEST(test_reduces_to_ntxent)
{
    enum { B = 5, P = 6 };
    struct fer_rng rng;
    fer_rng_seed(&rng, 9);
    struct fer_tensor z, g1, g2;
    ck_assert_int_eq(fer_tensor_alloc(&z, 2, (int[]){2 * B, P}), 0);
    nn_randn(&z, &rng);
    g1 = nn_zeros_like(&z);
    g2 = nn_zeros_like(&z);
    int partner[2 * B];
    for (int i = 0; i < 2 * B; i++)
        partner[i] = i ^ 1;
    struct fer_arena *a = fer_arena_new(0);
    double l1, l2;
    struct fer_contrastive_spec spec = {B, 0, NULL, 0.2f, 1.0};
    ck_assert_int_eq(fer_contrastive_loss(&z, &spec, &l1, &g1, NULL, NULL, a), 0);
    ck_assert_int_eq(fer_ntxent_loss(&z, partner, 0.2f, &l2, &g2, a), 0);
    ck_assert_double_eq_tol(l1, l2, 1e-5);
    nn_expect_close("dz", &g1, &g2);
    fer_arena_free(a);
    fer_tensor_free(&z);
    fer_tensor_free(&g1);
    fer_tensor_free(&g2);
}
END_TEST

/* Finite differences at a random batch with hard negatives, some absent,
 * and gamma 0.5. The selection is piecewise constant: the test also checks
 * that no step changed it, so a pass is never a lucky jump. */
struct fd_ctx {
    struct fer_tensor *z;
    const struct fer_contrastive_spec *spec;
    struct fer_arena *a;
    unsigned char want_pairs[8], want_neg[16];
};

static double loss_of(void *p)
{
    struct fd_ctx *k = p;
    double loss;
    unsigned char kp[8], kn[16];
    ck_assert_int_eq(fer_contrastive_loss(k->z, k->spec, &loss, NULL, kp, kn, k->a), 0);
    ck_assert_msg(memcmp(kp, k->want_pairs, (size_t)k->spec->examples) == 0 &&
                      memcmp(kn, k->want_neg, (size_t)(k->spec->examples * k->spec->negatives)) == 0,
                  "a finite-difference step changed the selection");
    return loss;
}

START_TEST(test_contrastive_finite_differences)
{
    enum { B = 6, K = 2, P = 5 };
    struct fer_rng rng;
    fer_rng_seed(&rng, 31);
    struct fer_tensor z, g;
    ck_assert_int_eq(fer_tensor_alloc(&z, 2, (int[]){B * (2 + K), P}), 0);
    nn_randn(&z, &rng);
    g = nn_zeros_like(&z);
    unsigned char present[B * K] = {1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1};
    struct fer_contrastive_spec spec = {B, K, present, 0.3f, 0.5};
    struct fer_arena *a = fer_arena_new(0);
    struct fd_ctx ctx = {&z, &spec, a, {0}, {0}};
    double loss;
    ck_assert_int_eq(fer_contrastive_loss(&z, &spec, &loss, &g, ctx.want_pairs, ctx.want_neg, a), 0);
    int used = 0; /* a kept hard negative of a kept anchor: the extra term is exercised */
    for (int i = 0; i < B; i++)
        for (int k = 0; k < K; k++)
            used += ctx.want_pairs[i] && ctx.want_neg[i * K + k];
    ck_assert_int_gt(used, 0);
    nn_check_fd("contrastive dz", loss_of, &ctx, &z, &g, 40, &rng);
    fer_arena_free(a);
    fer_tensor_free(&z);
    fer_tensor_free(&g);
}
END_TEST

START_TEST(test_contrastive_rejects_bad_input)
{
    struct fer_tensor z;
    ck_assert_int_eq(fer_tensor_alloc(&z, 2, (int[]){8, 3}), 0);
    struct fer_arena *a = fer_arena_new(0);
    double loss;
    struct fer_contrastive_spec spec = {3, 1, NULL, 0.1f, 0.1};
    ck_assert_int_eq(fer_contrastive_loss(&z, &spec, &loss, NULL, NULL, NULL, a), -1);
    ck_assert_str_eq(fer_error(), "contrastive: embeddings must be 9 contiguous rows");
    spec = (struct fer_contrastive_spec){2, 2, NULL, 0.1f, 0};
    ck_assert_int_eq(fer_contrastive_loss(&z, &spec, &loss, NULL, NULL, NULL, a), -1);
    ck_assert_str_eq(fer_error(), "contrastive: gamma 0 outside (0, 1]");
    spec.gamma = 1;
    spec.temperature = 0;
    ck_assert_int_eq(fer_contrastive_loss(&z, &spec, &loss, NULL, NULL, NULL, a), -1);
    ck_assert_str_eq(fer_error(), "contrastive: temperature 0 is not positive");
    fer_arena_free(a);
    fer_tensor_free(&z);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("contrastive");
    TCase *tc = tcase_create("contrastive");
    tcase_add_loop_test(tc, test_contrastive_matches_torch, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_kept_count);
    tcase_add_test(tc, test_filtering_by_hand);
    tcase_add_test(tc, test_reduces_to_ntxent);
    tcase_add_test(tc, test_contrastive_finite_differences);
    tcase_add_test(tc, test_contrastive_rejects_bad_input);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
