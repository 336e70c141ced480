/* Training steps and threads. The engine's own loops split work so that
 * no sum depends on the split (parallel.h, nn_parallel.h), and so does
 * fer_sgemm's own path (gemm.h): a whole step then gives the same bits at
 * 1, 2 and 3 threads. OpenBLAS's threaded sgemm does not (its partition
 * changed the bits of about half the values here), so on its path
 * (FER_GEMM=openblas, or a CPU without AVX-512) the promise is the
 * issue's: the same bits for the same thread count. Both models, with
 * inputs large enough that every split loop really runs on the pool. */
#include "check_helpers.h"

#include "gemm.h"
#include "model.h"
#include "nn.h"
#include "nn_loss.h"
#include "optim.h"
#include "rng.h"

#include <string.h>

struct result {
    float *data; /* logits, input gradient, then every model tensor */
    size_t n;
};

static void append(struct result *r, const struct fer_tensor *t)
{
    size_t k = fer_tensor_numel(t);
    r->data = realloc(r->data, (r->n + k) * sizeof(float));
    ck_assert_ptr_nonnull(r->data);
    memcpy(r->data + r->n, t->data, k * sizeof(float));
    r->n += k;
}

/* Two SGD steps (momentum, weight decay) from the same seed, then an
 * evaluation forward: everything a step writes. */
static struct result train(const char *arch, int in, int size, int batch, int threads)
{
    ck_assert_int_eq(fer_nn_set_threads(threads), 0);
    const int classes = 7;
    struct fer_model *m = fer_model_new(arch, in, classes, 3);
    ck_assert_msg(m != NULL, "%s", fer_error());
    struct fer_arena *arena = fer_arena_new(0);
    struct fer_tensor x, dx, logits, dlogits;
    ck_assert_int_eq(fer_tensor_alloc(&x, 4, (int[]){batch, in, size, size}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&dx, 4, (int[]){batch, in, size, size}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&logits, 2, (int[]){batch, classes}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&dlogits, 2, (int[]){batch, classes}), 0);
    struct fer_rng rng;
    fer_rng_seed(&rng, 5);
    for (size_t i = 0; i < fer_tensor_numel(&x); i++)
        x.data[i] = (float)fer_rng_normal(&rng);
    int target[64];
    for (int i = 0; i < batch; i++)
        target[i] = (int)fer_rng_below(&rng, classes);
    const struct fer_param *params;
    int np = fer_model_params(m, &params);
    struct fer_optim_spec spec = {.kind = FER_OPTIM_SGD, .momentum = 0.9f,
                                  .weight_decay = 5e-4f};
    struct fer_optim *o = fer_optim_new(&spec, params, np);
    ck_assert_ptr_nonnull(o);
    struct result r = {NULL, 0};
    fer_model_set_training(m, 1);
    for (int step = 0; step < 2; step++) {
        double loss;
        fer_arena_reset(arena);
        fer_model_zero_grad(m);
        ck_assert_msg(fer_model_forward(m, &x, &logits, arena) == 0, "%s", fer_error());
        ck_assert_int_eq(
            fer_cross_entropy_loss(&logits, target, NULL, 0, &loss, &dlogits), 0);
        ck_assert_msg(fer_model_backward(m, &dlogits, &dx, arena) == 0, "%s", fer_error());
        ck_assert_int_eq(fer_optim_step(o, 0.05f), 0);
        append(&r, &logits);
        append(&r, &dx);
    }
    fer_model_set_training(m, 0);
    fer_arena_reset(arena);
    ck_assert_int_eq(fer_model_forward(m, &x, &logits, arena), 0);
    append(&r, &logits);
    const struct fer_model_tensor *list;
    int nt = fer_model_tensors(m, &list);
    for (int i = 0; i < nt; i++) {
        if (list[i].value)
            append(&r, list[i].value);
        if (list[i].grad)
            append(&r, list[i].grad);
    }
    fer_optim_free(o);
    fer_model_free(m);
    fer_arena_free(arena);
    fer_tensor_free(&x);
    fer_tensor_free(&dx);
    fer_tensor_free(&logits);
    fer_tensor_free(&dlogits);
    return r;
}

static void expect_same(const char *arch, const struct result *a, const struct result *b,
                        int threads)
{
    ck_assert_uint_eq(a->n, b->n);
    size_t diff = 0;
    for (size_t i = 0; i < a->n; i++)
        diff += memcmp(&a->data[i], &b->data[i], sizeof(float)) != 0;
    ck_assert_msg(diff == 0, "%s: %zu of %zu values differ at %d threads", arch, diff,
                  a->n, threads);
}

static void expect_same_for_threads(const char *arch, int in, int size, int batch)
{
    const int invariant = strcmp(fer_sgemm_backend(), "openblas") != 0;
    struct result one = train(arch, in, size, batch, 1);
    for (int t = 2; t <= 3; t++) {
        struct result r = train(arch, in, size, batch, t);
        if (invariant) {
            expect_same(arch, &r, &one, t);
        } else {
            struct result again = train(arch, in, size, batch, t);
            expect_same(arch, &r, &again, t);
            free(again.data);
        }
        free(r.data);
    }
    free(one.data);
    fer_nn_set_threads(1);
}

START_TEST(test_cnn_s_same_bits_for_any_thread_count)
{
    expect_same_for_threads("cnn-s", 1, 32, 8);
}
END_TEST

START_TEST(test_resnet18_same_bits_for_any_thread_count)
{
    expect_same_for_threads("resnet18", 3, 40, 4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 600); /* seconds here, minutes under ASan on a loaded machine */
    tcase_add_test(tc, test_cnn_s_same_bits_for_any_thread_count);
    tcase_add_test(tc, test_resnet18_same_bits_for_any_thread_count);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
