/* test_checkpoint.c - training state survives a write/read round trip. */
#include "check_helpers.h"
#include "checkpoint.h"
#include "error.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Give every parameter a gradient and take n optimizer steps, so that the
 * weights, the Adam moments and the step count all differ from a new model. */
static void train_steps(struct fer_model *m, struct fer_optim *o, int n, uint64_t seed)
{
    const struct fer_param *p;
    int np = fer_model_params(m, &p);
    struct fer_rng r;
    fer_rng_seed(&r, seed);
    for (int s = 0; s < n; s++) {
        for (int i = 0; i < np; i++)
            for (size_t k = 0; k < fer_tensor_numel(p[i].grad); k++)
                p[i].grad->data[k] = (float)fer_rng_normal(&r);
        fer_optim_step(o, 0.01f);
    }
}

static struct fer_optim *adamw(struct fer_model *m)
{
    struct fer_optim_spec spec = {.kind = FER_OPTIM_ADAMW, .weight_decay = 0.01f,
                                  .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    const struct fer_param *p;
    int np = fer_model_params(m, &p);
    return fer_optim_new(&spec, p, np);
}

static int tensors_equal(struct fer_model *a, struct fer_model *b)
{
    const struct fer_model_tensor *ta, *tb;
    int n = fer_model_tensors(a, &ta);
    ck_assert_int_eq(fer_model_tensors(b, &tb), n);
    for (int i = 0; i < n; i++) {
        if (ta[i].value == NULL) {
            if (*ta[i].count != *tb[i].count)
                return 0;
        } else if (memcmp(ta[i].value->data, tb[i].value->data,
                          fer_tensor_numel(ta[i].value) * sizeof(float)) != 0) {
            return 0;
        }
    }
    return 1;
}

START_TEST(test_round_trip)
{
    char *dir = fer_test_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);

    struct fer_model *m = fer_model_new("cnn-s", 1, 3, 1);
    struct fer_optim *o = adamw(m);
    train_steps(m, o, 3, 7);
    const struct fer_model_tensor *t;
    int nt = fer_model_tensors(m, &t);
    for (int i = 0; i < nt; i++)
        if (t[i].value == NULL)
            *t[i].count = 42;
    struct fer_weights w;
    fer_weights_init(&w);
    ck_assert_int_eq(fer_model_export(m, &w, "model."), 0);
    const struct fer_param *p;
    int np = fer_model_params(m, &p);
    ck_assert_int_eq(fer_optim_export(o, np, &w), 0);
    struct fer_train_position pos = {.step = 123, .epoch = 4, .batch = 5,
                                     .seed = 18446744073709551615u, .seconds = 0.1 + 0.2};
    ck_assert_int_eq(fer_checkpoint_set_position(&w, &pos), 0);
    struct fer_rng r;
    fer_rng_seed(&r, 99);
    fer_rng_u64(&r);
    ck_assert_int_eq(fer_checkpoint_set_rng(&w, "rng", &r), 0);
    ck_assert_int_eq(fer_checkpoint_write(path, &w), 0);
    fer_weights_free(&w);

    struct fer_model *m2 = fer_model_new("cnn-s", 1, 3, 2);
    struct fer_optim *o2 = adamw(m2);
    ck_assert_int_eq(tensors_equal(m, m2), 0);
    ck_assert_int_eq(fer_weights_read(path, &w), 0);
    ck_assert_int_eq(fer_model_import(m2, &w, "model."), 0);
    ck_assert_int_eq(fer_optim_import(o2, np, &w), 0);
    ck_assert_int_eq(tensors_equal(m, m2), 1);
    ck_assert_int_eq(fer_optim_steps(o2), 3);
    for (int i = 0; i < np; i++)
        for (int k = 0; k < 2; k++)
            ck_assert_mem_eq(fer_optim_state(o, i, k)->data, fer_optim_state(o2, i, k)->data,
                             fer_tensor_numel(p[i].value) * sizeof(float));
    struct fer_train_position pos2;
    ck_assert_int_eq(fer_checkpoint_get_position(&w, &pos2), 0);
    ck_assert_int_eq(pos2.step, 123);
    ck_assert_int_eq(pos2.epoch, 4);
    ck_assert_int_eq(pos2.batch, 5);
    ck_assert(pos2.seed == pos.seed);
    ck_assert(pos2.seconds == pos.seconds);
    struct fer_rng r2;
    ck_assert_int_eq(fer_checkpoint_get_rng(&w, "rng", &r2), 0);
    ck_assert(fer_rng_u64(&r2) == fer_rng_u64(&r));

    /* Continuing both gives the same numbers: nothing was lost. */
    train_steps(m, o, 2, 8);
    train_steps(m2, o2, 2, 8);
    ck_assert_int_eq(tensors_equal(m, m2), 1);

    /* SGD cannot take AdamW's state. */
    struct fer_optim_spec sgd = {.kind = FER_OPTIM_SGD, .momentum = 0.9f};
    struct fer_optim *o3 = fer_optim_new(&sgd, p, np);
    ck_assert_int_eq(fer_optim_import(o3, np, &w), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "another kind of optimizer"));
    fer_optim_free(o3);

    fer_weights_free(&w);
    fer_optim_free(o);
    fer_optim_free(o2);
    fer_model_free(m);
    fer_model_free(m2);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}
END_TEST

START_TEST(test_import_lists_differences)
{
    struct fer_model *m1 = fer_model_new("cnn-s", 1, 0, 1);
    struct fer_model *m3 = fer_model_new("cnn-s", 3, 0, 1);
    struct fer_weights w;
    fer_weights_init(&w);
    ck_assert_int_eq(fer_model_export(m1, &w, ""), 0);
    ck_assert_int_eq(fer_model_import(m3, &w, ""), -1);
    ck_assert_str_eq(fer_error(), "tensor 'features.0.weight' has shape [32,1,3,3], the "
                                  "model expects [32,3,3,3]");
    struct fer_model *r = fer_model_new("resnet18", 3, 0, 1);
    ck_assert_int_eq(fer_model_import(r, &w, ""), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "tensors differ: no tensor 'conv1.weight'"));
    ck_assert_ptr_nonnull(strstr(fer_error(), "and "));
    /* Nothing was copied: m3 still has its own first layer. */
    struct fer_weights w3;
    fer_weights_init(&w3);
    ck_assert_int_eq(fer_model_export(m3, &w3, ""), 0);
    ck_assert_int_eq(fer_model_import(m3, &w3, ""), 0);
    struct fer_train_position pos;
    ck_assert_int_eq(fer_checkpoint_get_position(&w3, &pos), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "not a checkpoint"));
    fer_weights_free(&w);
    fer_weights_free(&w3);
    fer_model_free(m1);
    fer_model_free(m3);
    fer_model_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_import_lists_differences);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
