/* test_classifier.c - backbone + head wrapper and preprocessing metadata. */
#include "check_helpers.h"
#include "checkpoint.h"
#include "classifier.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

START_TEST(test_preprocess_meta)
{
    struct fer_preprocess p = {.arch = "cnn-s", .head = "linear", .task = "expression",
                               .channels = 1, .height = 48, .width = 40, .seq_len = 1};
    ck_assert_int_eq(fer_preprocess_set_classes(&p, "neutral,happiness,surprise"), 0);
    struct fer_weights w;
    fer_weights_init(&w);
    ck_assert_int_eq(fer_preprocess_set_meta(&p, &w), 0);
    ck_assert_str_eq(fer_weights_get_meta(&w, "input_shape"), "1x48x40");
    ck_assert_str_eq(fer_weights_get_meta(&w, "classes"), "neutral,happiness,surprise");
    struct fer_preprocess q;
    ck_assert_int_eq(fer_preprocess_get_meta(&w, &q), 0);
    ck_assert_str_eq(q.arch, "cnn-s");
    ck_assert_int_eq(q.height, 48);
    ck_assert_int_eq(q.width, 40);
    ck_assert_int_eq(q.n_classes, 3);
    ck_assert_int_eq(fer_preprocess_class(&q, "surprise"), 2);
    ck_assert_int_eq(fer_preprocess_class(&q, "anger"), -1);
    fer_weights_set_meta(&w, "normalize", "0.485,0.229");
    ck_assert_int_eq(fer_preprocess_get_meta(&w, &q), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "normalize"));
    fer_weights_set_meta(&w, "normalize", "0.5,0.5");
    fer_weights_set_meta(&w, "input_shape", "2x48x48");
    ck_assert_int_eq(fer_preprocess_get_meta(&w, &q), -1);
    ck_assert_int_eq(fer_preprocess_set_classes(&q, "a,,b"), -1);
    ck_assert_int_eq(fer_preprocess_set_classes(&q, "a,b,a"), -1);
    fer_weights_free(&w);
}
END_TEST

START_TEST(test_backbone_transfer)
{
    /* A pretext model (3 rotation classes) gives its backbone, not its fc. */
    struct fer_model *pre = fer_model_new("cnn-s", 1, 3, 5);
    struct fer_weights w;
    fer_weights_init(&w);
    ck_assert_int_eq(fer_model_export(pre, &w, ""), 0);
    fer_weights_set_meta(&w, "arch", "cnn-s");
    struct fer_classifier *c = fer_classifier_new("cnn-s", 1, "linear", 7, 9);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(fer_classifier_load_backbone(c, &w), 0);
    struct fer_weights out;
    fer_weights_init(&out);
    ck_assert_int_eq(fer_classifier_export(c, &out), 0);
    const struct fer_weights_tensor *a = fer_weights_find(&w, "features.12.weight");
    const struct fer_weights_tensor *b = fer_weights_find(&out, "features.12.weight");
    ck_assert_mem_eq(a->data, b->data, a->count * sizeof(float));
    ck_assert_int_eq(fer_weights_find(&out, "fc.weight")->shape[0], 7);

    /* Another architecture's file: one clear line. */
    struct fer_classifier *r = fer_classifier_new("resnet18", 1, "linear", 7, 9);
    ck_assert_int_eq(fer_classifier_load_backbone(r, &w), -1);
    ck_assert_str_eq(fer_error(), "weights are for cnn-s, the model is resnet18");
    /* Import of a whole classifier checks the head too. */
    struct fer_classifier *c5 = fer_classifier_new("cnn-s", 1, "linear", 5, 9);
    ck_assert_int_eq(fer_classifier_import(c5, &out), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "fc.weight"));
    ck_assert_int_eq(fer_classifier_import(c, &out), 0);

    fer_classifier_free(c);
    fer_classifier_free(c5);
    fer_classifier_free(r);
    fer_model_free(pre);
    fer_weights_free(&w);
    fer_weights_free(&out);
}
END_TEST

START_TEST(test_frames_and_freeze)
{
    struct fer_classifier *c = fer_classifier_new("cnn-s", 1, "linear", 4, 3);
    struct fer_arena *a = fer_arena_new(64 << 20);
    struct fer_tensor x1, x2, l1, l2;
    ck_assert_int_eq(fer_tensor_alloc(&x1, 4, (int[]){1, 1, 16, 16}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&x2, 4, (int[]){2, 1, 16, 16}), 0);
    for (int i = 0; i < 256; i++)
        x1.data[i] = x2.data[i] = x2.data[256 + i] = sinf((float)i);
    fer_tensor_alloc(&l1, 2, (int[]){1, 4});
    fer_tensor_alloc(&l2, 2, (int[]){1, 4});
    fer_classifier_set_training(c, 0);
    ck_assert_int_eq(fer_classifier_forward(c, &x1, 1, &l1, a), 0);
    fer_arena_reset(a);
    ck_assert_int_eq(fer_classifier_forward(c, &x2, 2, &l2, a), 0);
    for (int k = 0; k < 4; k++)
        ck_assert_float_eq_tol(l1.data[k], l2.data[k], 1e-5);
    ck_assert_int_eq(fer_classifier_forward(c, &x2, 3, &l2, a), -1);

    const struct fer_param *p;
    int all = fer_classifier_params(c, &p);
    fer_classifier_set_freeze(c, 1);
    ck_assert_int_eq(fer_classifier_params(c, &p), 2);
    ck_assert_int_gt(all, 2);
    ck_assert_str_eq(p[0].name, "fc.weight");
    /* Frozen: backward touches only the head. */
    fer_classifier_set_training(c, 1);
    fer_classifier_zero_grad(c);
    fer_arena_reset(a);
    ck_assert_int_eq(fer_classifier_forward(c, &x1, 1, &l1, a), 0);
    fer_tensor_fill(&l2, 1.0f);
    ck_assert_int_eq(fer_classifier_backward(c, &l2, a), 0);
    ck_assert(p[1].grad->data[0] == 1.0f);
    const struct fer_param *bp;
    fer_model_params(fer_classifier_backbone(c), &bp);
    ck_assert(bp[0].grad->data[0] == 0.0f);
    fer_tensor_free(&x1);
    fer_tensor_free(&x2);
    fer_tensor_free(&l1);
    fer_tensor_free(&l2);
    fer_arena_free(a);
    fer_classifier_free(c);
}
END_TEST

START_TEST(test_fan_head)
{
    struct fer_classifier *c = fer_classifier_new("cnn-s", 1, "fan", 3, 4);
    ck_assert_ptr_nonnull(c);
    struct fer_weights w;
    fer_weights_init(&w);
    ck_assert_int_eq(fer_classifier_export(c, &w), 0);
    ck_assert_int_eq(fer_weights_find(&w, "fan.alpha.weight")->shape[1], 256);
    ck_assert_int_eq(fer_weights_find(&w, "fan.beta.weight")->shape[1], 512);
    ck_assert_int_eq(fer_weights_find(&w, "fc.weight")->shape[1], 512);
    /* A linear model's file is not a FAN model. */
    struct fer_classifier *lin = fer_classifier_new("cnn-s", 1, "linear", 3, 4);
    ck_assert_int_eq(fer_classifier_import(lin, &w), -1);
    ck_assert_int_eq(fer_classifier_import(c, &w), 0);
    const struct fer_param *p;
    fer_classifier_set_freeze(c, 1);
    ck_assert_int_eq(fer_classifier_params(c, &p), 6);
    fer_classifier_set_freeze(c, 0);
    struct fer_arena *a = fer_arena_new(0);
    struct fer_tensor x, l;
    fer_tensor_alloc(&x, 4, (int[]){6, 1, 16, 16});
    for (int i = 0; i < 6 * 256; i++)
        x.data[i] = cosf((float)i * 0.37f);
    fer_tensor_alloc(&l, 2, (int[]){2, 3});
    fer_classifier_set_training(c, 1);
    fer_classifier_zero_grad(c);
    ck_assert_int_eq(fer_classifier_forward(c, &x, 3, &l, a), 0);
    fer_tensor_fill(&l, 0.5f);
    ck_assert_int_eq(fer_classifier_backward(c, &l, a), 0);
    int n = fer_classifier_params(c, &p);
    ck_assert(p[n - 6].grad->data[0] != 0.0f); /* fan.alpha.weight */
    ck_assert(p[0].grad->data[0] != 0.0f);     /* the backbone's first conv */
    fer_tensor_free(&x);
    fer_tensor_free(&l);
    fer_arena_free(a);
    fer_weights_free(&w);
    fer_classifier_free(c);
    fer_classifier_free(lin);
}
END_TEST

/* The backbone's gradient (first conv weight) after a forward on x and the
 * given backward; ial: 0 main head only, 1 IAL only, 2 both. */
static void ial_grad(struct fer_classifier *c, const struct fer_tensor *x, int which,
                     struct fer_arena *a, float *out, size_t n)
{
    struct fer_tensor l, li, d, di;
    fer_arena_reset(a);
    fer_classifier_zero_grad(c);
    ck_assert_int_eq(fer_tensor_arena(&l, a, 2, (int[]){x->shape[0], 3}), 0);
    ck_assert_int_eq(fer_tensor_arena(&li, a, 2, (int[]){x->shape[0], 3}), 0);
    ck_assert_int_eq(fer_tensor_arena(&d, a, 2, (int[]){x->shape[0], 3}), 0);
    ck_assert_int_eq(fer_tensor_arena(&di, a, 2, (int[]){x->shape[0], 3}), 0);
    ck_assert_int_eq(fer_classifier_forward(c, x, 1, &l, a), 0);
    ck_assert_int_eq(fer_classifier_forward_ial(c, &li, a), 0);
    for (int i = 0; i < x->shape[0] * 3; i++) {
        d.data[i] = which != 1 ? sinf((float)i) : 0.0f;
        di.data[i] = which != 0 ? cosf((float)i * 0.7f) : 0.0f;
    }
    ck_assert_int_eq(fer_classifier_backward_ial(c, &d, &di, a), 0);
    const struct fer_param *p;
    fer_classifier_params(c, &p);
    ck_assert_uint_ge(fer_tensor_numel(p[0].grad), n);
    memcpy(out, p[0].grad->data, n * sizeof *out);
}

START_TEST(test_ial_branch)
{
    struct fer_classifier *fan = fer_classifier_new("cnn-s", 1, "fan", 3, 4);
    ck_assert_int_eq(fer_classifier_enable_ial(fan, 0.25f), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "linear head"));
    fer_classifier_free(fan);

    struct fer_classifier *c = fer_classifier_new("cnn-s", 1, "linear", 3, 4);
    const struct fer_param *p;
    int plain = fer_classifier_params(c, &p);
    ck_assert_int_eq(fer_classifier_enable_ial(c, 0.25f), 0);
    ck_assert_int_eq(fer_classifier_enable_ial(c, 0.25f), -1);
    int n = fer_classifier_params(c, &p);
    ck_assert_int_eq(n, plain + 6);
    ck_assert_str_eq(p[n - 6].name, "ial.proj.0.weight");
    ck_assert_str_eq(p[n - 1].name, "ial.fc.bias");
    ck_assert_int_eq(p[n - 2].value->shape[0], 3);
    ck_assert_int_eq(p[n - 2].value->shape[1], 256);

    /* Checkpoints carry the branch, model files do not, and a model file
     * loads into a plain classifier (what fer-eval builds). */
    struct fer_weights ck, model;
    fer_weights_init(&ck);
    fer_weights_init(&model);
    ck_assert_int_eq(fer_classifier_export(c, &ck), 0);
    ck_assert_int_eq(fer_classifier_export_model(c, &model), 0);
    ck_assert_ptr_nonnull(fer_weights_find(&ck, "ial.proj.2.weight"));
    ck_assert_ptr_null(fer_weights_find(&model, "ial.proj.2.weight"));
    ck_assert_uint_eq(ck.n_tensors, model.n_tensors + 6);
    struct fer_classifier *plain_c = fer_classifier_new("cnn-s", 1, "linear", 3, 4);
    ck_assert_int_eq(fer_classifier_import(plain_c, &model), 0);
    ck_assert_int_eq(fer_classifier_import(c, &model), -1); /* the branch is missing */
    ck_assert_int_eq(fer_classifier_import(c, &ck), 0);

    /* Both heads read the pooled features: the backbone gradient of the
     * sum is the sum of the gradients. */
    struct fer_arena *a = fer_arena_new(0);
    struct fer_tensor x;
    fer_tensor_alloc(&x, 4, (int[]){4, 1, 16, 16});
    for (int i = 0; i < 4 * 256; i++)
        x.data[i] = sinf((float)i * 0.13f) + 0.1f * (float)(i / 256);
    fer_classifier_set_training(c, 1);
    enum { G = 64 };
    float main_g[G], ial_g[G], both[G];
    ial_grad(c, &x, 0, a, main_g, G);
    ial_grad(c, &x, 1, a, ial_g, G);
    ial_grad(c, &x, 2, a, both, G);
    double diff = 0, scale = 0, ial_scale = 0;
    for (int i = 0; i < G; i++) {
        diff = fmax(diff, fabs((double)both[i] - main_g[i] - ial_g[i]));
        scale = fmax(scale, fabs((double)both[i]));
        ial_scale = fmax(ial_scale, fabs((double)ial_g[i]));
    }
    ck_assert_double_gt(ial_scale, 0);
    ck_assert_double_le(diff, 1e-4 * scale);
    /* backward_ial without forward_ial since the last forward. */
    struct fer_tensor l;
    fer_arena_reset(a);
    fer_tensor_arena(&l, a, 2, (int[]){4, 3});
    ck_assert_int_eq(fer_classifier_forward(c, &x, 1, &l, a), 0);
    ck_assert_int_eq(fer_classifier_backward_ial(c, &l, &l, a), -1);
    fer_tensor_free(&x);
    fer_arena_free(a);
    fer_weights_free(&ck);
    fer_weights_free(&model);
    fer_classifier_free(plain_c);
    fer_classifier_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("classifier");
    TCase *tc = tcase_create("classifier");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_preprocess_meta);
    tcase_add_test(tc, test_backbone_transfer);
    tcase_add_test(tc, test_frames_and_freeze);
    tcase_add_test(tc, test_fan_head);
    tcase_add_test(tc, test_ial_branch);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
