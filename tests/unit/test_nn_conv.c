#include "nn_fixture.h"

#include "nn_conv.h"

static const char *cases[] = {
    "conv_3x3_s1_p1", "conv_3x3_s2_p1",  "conv_1x1_s1",      "conv_1x1_s2",
    "conv_5x5_p2",    "conv_7x7_s2_p3",  "conv_depthwise",   "conv_groups2",
    "conv_dilation2", "conv_3x3_32px_n5", "conv_3x3_64px",   "conv_3x3_12px_n5",
    "conv_3x3_p0_n3",
};

static void layer_from_cfg(struct fer_conv2d *c, struct fixture *fx)
{
    struct fer_conv2d_spec s = {
        .in_channels = (int)fx_cfg(fx, 0), .out_channels = (int)fx_cfg(fx, 1),
        .kernel_h = (int)fx_cfg(fx, 2),    .kernel_w = (int)fx_cfg(fx, 3),
        .stride_h = (int)fx_cfg(fx, 4),    .stride_w = (int)fx_cfg(fx, 5),
        .pad_h = (int)fx_cfg(fx, 6),       .pad_w = (int)fx_cfg(fx, 7),
        .dilation_h = (int)fx_cfg(fx, 8),  .dilation_w = (int)fx_cfg(fx, 9),
        .groups = (int)fx_cfg(fx, 10),     .bias = (int)fx_cfg(fx, 11),
    };
    ck_assert_int_eq(fer_conv2d_init(c, &s), 0);
    ck_assert_int_eq(fer_tensor_copy(&c->weight, fx_get(fx, "weight")), 0);
    if (s.bias)
        ck_assert_int_eq(fer_tensor_copy(&c->bias, fx_get(fx, "bias")), 0);
}

START_TEST(test_conv_matches_torch)
{
    struct fixture *fx = fx_load(cases[_i]);
    struct fer_arena *arena = fer_arena_new(0);
    struct fer_conv2d c;
    layer_from_cfg(&c, fx);
    struct fer_tensor *x = fx_get(fx, "x");
    struct fer_tensor y = nn_zeros_like(fx_get(fx, "y"));
    struct fer_tensor dx = nn_zeros_like(x);
    ck_assert_msg(fer_conv2d_forward(&c, x, &y, arena) == 0, "%s", fer_error());
    nn_expect_close("y", &y, fx_get(fx, "y"));
    fer_tensor_fill(&dx, 123); /* must be overwritten */
    ck_assert_msg(fer_conv2d_backward(&c, x, fx_get(fx, "dy"), &dx, arena) == 0,
                  "%s", fer_error());
    nn_expect_close("dx", &dx, fx_get(fx, "dx"));
    nn_expect_close("dweight", &c.weight_grad, fx_get(fx, "dweight"));
    if (c.bias.data)
        nn_expect_close("dbias", &c.bias_grad, fx_get(fx, "dbias"));
    ck_assert_uint_eq(fer_arena_used(arena), 0);
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fer_conv2d_free(&c);
    fer_arena_free(arena);
    fx_free(fx);
}
END_TEST

/* Parameter gradients accumulate (nn.h); dx is overwritten; without dx the
 * weight gradient is still computed. */
START_TEST(test_conv_grads_accumulate)
{
    struct fixture *fx = fx_load("conv_3x3_s2_p1");
    struct fer_arena *arena = fer_arena_new(0);
    struct fer_conv2d c;
    layer_from_cfg(&c, fx);
    struct fer_tensor *x = fx_get(fx, "x"), *dy = fx_get(fx, "dy");
    struct fer_tensor dx = nn_zeros_like(x);
    ck_assert_int_eq(fer_conv2d_backward(&c, x, dy, &dx, arena), 0);
    ck_assert_int_eq(fer_conv2d_backward(&c, x, dy, NULL, arena), 0);
    struct fer_tensor twice = nn_zeros_like(fx_get(fx, "dweight"));
    for (size_t i = 0; i < fer_tensor_numel(&twice); i++)
        twice.data[i] = 2 * fx_get(fx, "dweight")->data[i];
    nn_expect_close("2 dweight", &c.weight_grad, &twice);
    nn_expect_close("dx", &dx, fx_get(fx, "dx"));
    fer_conv2d_zero_grad(&c);
    ck_assert_float_eq(c.weight_grad.data[0], 0);
    fer_tensor_free(&twice);
    fer_tensor_free(&dx);
    fer_conv2d_free(&c);
    fer_arena_free(arena);
    fx_free(fx);
}
END_TEST

START_TEST(test_conv_rejects_bad_shapes)
{
    struct fer_conv2d c;
    struct fer_conv2d_spec s = {.in_channels = 4, .out_channels = 6, .kernel_h = 3,
                                .kernel_w = 3, .stride_h = 1, .stride_w = 1,
                                .groups = 4};
    ck_assert_int_eq(fer_conv2d_init(&c, &s), -1);
    ck_assert_str_eq(fer_error(), "conv2d: 4 groups do not divide 4 -> 6 channels");
    s.groups = 2;
    ck_assert_int_eq(fer_conv2d_init(&c, &s), 0);
    struct fer_arena *arena = fer_arena_new(0);
    struct fer_tensor x, y;
    ck_assert_int_eq(fer_tensor_alloc(&x, 4, (int[]){1, 3, 5, 5}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&y, 4, (int[]){1, 6, 3, 3}), 0);
    ck_assert_int_eq(fer_conv2d_forward(&c, &x, &y, arena), -1);
    ck_assert_str_eq(fer_error(), "conv2d: input has 3 in dimension 1, expected 4");
    fer_tensor_free(&x);
    ck_assert_int_eq(fer_tensor_alloc(&x, 4, (int[]){1, 4, 2, 2}), 0);
    ck_assert_int_eq(fer_conv2d_forward(&c, &x, &y, arena), -1);
    ck_assert_str_eq(fer_error(), "conv2d: 3x3 kernel does not fit a 2x2 input");
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_conv2d_free(&c);
    fer_arena_free(arena);
}
END_TEST

struct fd_ctx {
    struct fer_conv2d *c;
    struct fer_tensor *x, *y, *r;
    struct fer_arena *arena;
};

static double conv_loss(void *p)
{
    struct fd_ctx *k = p;
    ck_assert_int_eq(fer_conv2d_forward(k->c, k->x, k->y, k->arena), 0);
    return nn_dot(k->y, k->r);
}

/* Random small geometries, gradients against finite differences. */
START_TEST(test_conv_finite_differences)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 7);
    struct fer_arena *arena = fer_arena_new(0);
    for (int trial = 0; trial < 8; trial++) {
        int g = 1 + (int)fer_rng_below(&rng, 2);
        int k = 1 + (int)fer_rng_below(&rng, 3);
        struct fer_conv2d_spec s = {
            .in_channels = g * (1 + (int)fer_rng_below(&rng, 3)),
            .out_channels = g * (1 + (int)fer_rng_below(&rng, 3)),
            .kernel_h = k, .kernel_w = 1 + (int)fer_rng_below(&rng, 3),
            .stride_h = 1 + (int)fer_rng_below(&rng, 2),
            .stride_w = 1 + (int)fer_rng_below(&rng, 2),
            .pad_h = (int)fer_rng_below(&rng, 2), .pad_w = (int)fer_rng_below(&rng, 2),
            .dilation_h = 1 + (int)fer_rng_below(&rng, 2), .dilation_w = 1,
            .groups = g, .bias = 1};
        struct fer_conv2d c;
        ck_assert_int_eq(fer_conv2d_init(&c, &s), 0);
        int n = 1 + (int)fer_rng_below(&rng, 3), h = 5 + (int)fer_rng_below(&rng, 3);
        struct fer_tensor x, y, r, dx;
        ck_assert_int_eq(fer_tensor_alloc(&x, 4, (int[]){n, s.in_channels, h, h + 1}), 0);
        int oh, ow;
        ck_assert_int_eq(fer_conv2d_output_size(&c, h, h + 1, &oh, &ow), 0);
        ck_assert_int_eq(fer_tensor_alloc(&y, 4, (int[]){n, s.out_channels, oh, ow}), 0);
        r = nn_zeros_like(&y);
        dx = nn_zeros_like(&x);
        nn_randn(&x, &rng);
        nn_randn(&r, &rng);
        nn_randn(&c.weight, &rng);
        nn_randn(&c.bias, &rng);
        ck_assert_int_eq(fer_conv2d_backward(&c, &x, &r, &dx, arena), 0);
        struct fd_ctx ctx = {&c, &x, &y, &r, arena};
        nn_check_fd("dx", conv_loss, &ctx, &x, &dx, 6, &rng);
        nn_check_fd("dweight", conv_loss, &ctx, &c.weight, &c.weight_grad, 6, &rng);
        nn_check_fd("dbias", conv_loss, &ctx, &c.bias, &c.bias_grad, 2, &rng);
        fer_tensor_free(&x);
        fer_tensor_free(&y);
        fer_tensor_free(&r);
        fer_tensor_free(&dx);
        fer_conv2d_free(&c);
    }
    fer_arena_free(arena);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_conv");
    TCase *tc = tcase_create("conv2d");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_conv_matches_torch, 0, sizeof cases / sizeof *cases);
    tcase_add_test(tc, test_conv_grads_accumulate);
    tcase_add_test(tc, test_conv_rejects_bad_shapes);
    tcase_add_test(tc, test_conv_finite_differences);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
