/* A whole training step of cnn-s and resnet18 against PyTorch: same weights,
 * same batch; forward logits, loss, every parameter gradient, the SGD
 * update with running statistics, and evaluation-mode logits after it.
 * The reference is computed at test time by scripts/gen-model-fixtures.py
 * (ResNet-18's weights are too big to commit); without PyTorch and
 * torchvision the test is skipped. */
#include "nn_fixture.h"

#include "model.h"
#include "nn_loss.h"
#include "optim.h"

#include <stdio.h>

static char *fixture_dir;

static const char *cases[] = {"cnn-s", "resnet18", "resnet18-grey"};

/* Compare every tensor before failing, so that a failure names them all. */
static int worse(const char *what, const struct fer_tensor *got, const struct fer_tensor *want)
{
    ck_assert_uint_eq(fer_tensor_numel(got), fer_tensor_numel(want));
    double e = nn_error(got->data, want->data, fer_tensor_numel(want));
    if (e <= NN_TOL)
        return 0;
    fprintf(stderr, "%s: error %.3g\n", what, e);
    return 1;
}

static struct fer_tensor *named(struct fixture *fx, const char *prefix, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "%s%s", prefix, name);
    return fx_get(fx, key);
}

START_TEST(test_model_step_matches_torch)
{
    struct fixture *fx = fx_load_from(fixture_dir, cases[_i]);
    const char *arch = _i == 0 ? "cnn-s" : "resnet18";
    int in = (int)fx_cfg(fx, 0), classes = (int)fx_cfg(fx, 1);
    struct fer_model *m = fer_model_new(arch, in, classes, 0);
    ck_assert_msg(m != NULL, "%s", fer_error());

    /* Same names in the same order as PyTorch's state_dict. */
    const struct fer_model_tensor *list;
    int n = fer_model_tensors(m, &list), k = 0;
    for (int i = 0; i < fx->count; i++) {
        if (strncmp(fx->names[i], "sd.", 3) != 0)
            continue;
        while (k < n && list[k].value == NULL)
            k++; /* num_batches_tracked: int64, not in the fixture */
        ck_assert_int_lt(k, n);
        ck_assert_str_eq(list[k].name, fx->names[i] + 3);
        ck_assert_int_eq(fer_tensor_copy(list[k].value, &fx->t[i]), 0);
        k++;
    }
    while (k < n && list[k].value == NULL)
        k++;
    ck_assert_int_eq(k, n);

    struct fer_arena *arena = fer_arena_new(0);
    struct fer_tensor *x = fx_get(fx, "x"), *t = fx_get(fx, "target");
    struct fer_tensor logits = nn_zeros_like(fx_get(fx, "logits"));
    struct fer_tensor dlogits = nn_zeros_like(&logits);
    int target[64];
    for (int i = 0; i < x->shape[0]; i++)
        target[i] = (int)t->data[i];
    fer_model_set_training(m, 1);
    ck_assert_msg(fer_model_forward(m, x, &logits, arena) == 0, "%s", fer_error());
    nn_expect_close("logits", &logits, fx_get(fx, "logits"));
    double loss;
    ck_assert_int_eq(fer_cross_entropy_loss(&logits, target, NULL, 0, &loss, &dlogits), 0);
    ck_assert_double_eq_tol(loss, fx_get(fx, "loss")->data[0], 1e-4 * loss);
    fer_model_zero_grad(m);
    ck_assert_msg(fer_model_backward(m, &dlogits, NULL, arena) == 0, "%s", fer_error());
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (list[i].grad)
            bad += worse(list[i].name, list[i].grad, named(fx, "grad.", list[i].name));
    ck_assert_msg(bad == 0, "%d gradients differ from PyTorch's", bad);

    const struct fer_param *params;
    int np = fer_model_params(m, &params);
    struct fer_optim_spec spec = {.kind = FER_OPTIM_SGD, .momentum = fx_cfg(fx, 5),
                                  .weight_decay = fx_cfg(fx, 6)};
    struct fer_optim *o = fer_optim_new(&spec, params, np);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(fer_optim_step(o, fx_cfg(fx, 4)), 0);
    for (int i = 0; i < n; i++) {
        if (list[i].value)
            bad += worse(list[i].name, list[i].value, named(fx, "new.", list[i].name));
        else
            ck_assert_int_eq(*list[i].count, 1);
    }
    ck_assert_msg(bad == 0, "%d tensors differ from PyTorch's after the step", bad);
    fer_arena_reset(arena);
    fer_model_set_training(m, 0);
    ck_assert_int_eq(fer_model_forward(m, x, &logits, arena), 0);
    nn_expect_close("logits_eval", &logits, fx_get(fx, "logits_eval"));

    fer_optim_free(o);
    fer_tensor_free(&logits);
    fer_tensor_free(&dlogits);
    fer_arena_free(arena);
    fer_model_free(m);
    fx_free(fx);
}
END_TEST

START_TEST(test_model_shapes_and_errors)
{
    ck_assert_ptr_null(fer_model_new("vgg", 3, 7, 0));
    ck_assert_str_eq(fer_error(), "model: unknown architecture 'vgg' (cnn-s, resnet18)");
    struct fer_model *m = fer_model_new("cnn-s", 1, 0, 0); /* backbone only */
    ck_assert_int_eq(fer_model_features(m), 256);
    struct fer_arena *arena = fer_arena_new(0);
    struct fer_tensor x, f, wrong;
    fer_tensor_alloc(&x, 4, (int[]){2, 1, 48, 48});
    fer_tensor_alloc(&f, 2, (int[]){2, 256});
    fer_tensor_alloc(&wrong, 4, (int[]){2, 3, 48, 48});
    ck_assert_int_eq(fer_model_forward(m, &x, &f, arena), 0);
    ck_assert_int_eq(fer_model_forward(m, &wrong, &f, arena), -1);
    ck_assert_str_eq(fer_error(), "cnn-s: input must be N x 1 x H x W");
    ck_assert_int_eq(fer_model_backward(m, &f, NULL, arena), -1); /* forward failed */
    const struct fer_param *p;
    ck_assert_int_eq(fer_model_params(m, &p), 12); /* 4 x (conv, bn weight, bn bias) */
    fer_tensor_free(&x);
    fer_tensor_free(&f);
    fer_tensor_free(&wrong);
    fer_arena_free(arena);
    fer_model_free(m);
    m = fer_model_new("resnet18", 3, 1000, 0);
    const struct fer_param *params;
    int np = fer_model_params(m, &params);
    size_t total = 0;
    for (int i = 0; i < np; i++)
        total += fer_tensor_numel(params[i].value);
    ck_assert_uint_eq(total, 11689512); /* torchvision's resnet18() */
    fer_model_free(m);
}
END_TEST

int main(void)
{
    if (system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") != 0) {
        puts("skip: PyTorch or torchvision missing (scripts/install-deps)");
        return 77;
    }
    fixture_dir = fer_test_tmpdir();
    const char *root = getenv("FER_ROOT");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/scripts/gen-model-fixtures.py' '%s'",
             root ? root : ".", fixture_dir);
    if (fixture_dir == NULL || system(cmd) != 0) {
        fprintf(stderr, "test_nn_model: %s failed\n", cmd);
        return 1;
    }
    Suite *s = suite_create("nn_model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_model_step_matches_torch, 0, 3);
    tcase_add_test(tc, test_model_shapes_and_errors);
    suite_add_tcase(s, tc);
    int rc = fer_run_suite(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixture_dir);
    if (system(cmd) != 0)
        rc = 1;
    free(fixture_dir);
    return rc;
}
