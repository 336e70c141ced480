#include "check_helpers.h"

#include "augment.h"

#include <math.h>
#include <string.h>

/* A 4x4 grey image with distinct values: v(x, y) = 16 * y + x * 4. */
static struct fer_image ramp(void)
{
    struct fer_image im;
    fer_image_alloc(&im, 4, 4, 1);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            im.data[y * im.stride + x] = (uint8_t)(64 * y + 4 * x);
    return im;
}

static float norm(int v)
{
    return (float)(v / 127.5 - 1);
}

START_TEST(test_identity_is_exact)
{
    struct fer_image im = ramp();
    float out[16];
    ck_assert_int_eq(fer_augment_render(&im, NULL, NULL, 0, 1, 4, 4, out), 0);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            ck_assert_float_eq_tol(out[y * 4 + x], norm(64 * y + 4 * x), 1e-6);
    fer_image_free(&im);
}
END_TEST

START_TEST(test_quarter_turns_are_exact_and_counter_clockwise)
{
    struct fer_image im = ramp();
    float out[16];
    /* One quarter turn counter-clockwise: the top row of the output is the
     * right column of the source, read top to bottom:
     * out(x, y) = src(3 - y, x). */
    ck_assert_int_eq(fer_augment_render(&im, NULL, NULL, 1, 1, 4, 4, out), 0);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            ck_assert_float_eq_tol(out[y * 4 + x], norm(64 * x + 4 * (3 - y)), 1e-6);
    /* Half turn: out(x, y) = src(3 - x, 3 - y). */
    ck_assert_int_eq(fer_augment_render(&im, NULL, NULL, 2, 1, 4, 4, out), 0);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            ck_assert_float_eq_tol(out[y * 4 + x], norm(64 * (3 - y) + 4 * (3 - x)), 1e-6);
    fer_image_free(&im);
}
END_TEST

START_TEST(test_flip_only_mirrors)
{
    struct fer_image im = ramp();
    struct fer_augment flip = {.scale_min = 1, .flip = 1};
    struct fer_rng rng;
    fer_rng_seed(&rng, 1);
    int flipped = 0, kept = 0;
    for (int trial = 0; trial < 40; trial++) {
        float out[16];
        ck_assert_int_eq(fer_augment_render(&im, &flip, &rng, 0, 1, 4, 4, out), 0);
        int is_flip = fabsf(out[0] - norm(12)) < 1e-6;
        int is_same = fabsf(out[0] - norm(0)) < 1e-6;
        ck_assert(is_flip || is_same);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                ck_assert_float_eq_tol(out[y * 4 + x], norm(64 * y + 4 * (is_flip ? 3 - x : x)), 1e-6);
        flipped += is_flip;
        kept += is_same;
    }
    ck_assert_int_gt(flipped, 5);
    ck_assert_int_gt(kept, 5);
    fer_image_free(&im);
}
END_TEST

START_TEST(test_channels_and_range)
{
    struct fer_image rgb;
    fer_image_alloc(&rgb, 2, 2, 3);
    memset(rgb.data, 0, rgb.stride * 2);
    rgb.data[0] = 255; /* one red pixel */
    float grey[4], three[12];
    ck_assert_int_eq(fer_augment_render(&rgb, NULL, NULL, 0, 1, 2, 2, grey), 0);
    /* BT.601 luma of pure red: 0.299 * 255 = 76.2 */
    ck_assert_float_eq_tol(grey[0], (float)(255 * 4899 / 16384.0 / 127.5 - 1), 1e-5);
    ck_assert_int_eq(fer_augment_render(&rgb, NULL, NULL, 0, 3, 2, 2, three), 0);
    ck_assert_float_eq_tol(three[0], 1, 1e-6);       /* R plane */
    ck_assert_float_eq_tol(three[4], -1, 1e-6);      /* G plane */
    struct fer_augment strong = {.scale_min = 0.5, .shift = 0.2, .flip = 1, .rotate_deg = 30,
                                 .brightness = 0.5, .contrast = 0.9};
    struct fer_rng rng;
    fer_rng_seed(&rng, 2);
    for (int trial = 0; trial < 50; trial++) {
        ck_assert_int_eq(fer_augment_render(&rgb, &strong, &rng, trial % 4, 3, 2, 2, three), 0);
        for (int i = 0; i < 12; i++)
            ck_assert(three[i] >= -1 && three[i] <= 1);
    }
    fer_image_free(&rgb);
}
END_TEST

START_TEST(test_same_seed_same_augmentation)
{
    struct fer_image im = ramp();
    struct fer_augment a;
    fer_augment_default(&a);
    float x[64], y[64];
    struct fer_rng r1, r2;
    fer_rng_seed(&r1, 7);
    fer_rng_seed(&r2, 7);
    fer_augment_render(&im, &a, &r1, 0, 1, 8, 8, x);
    fer_augment_render(&im, &a, &r2, 0, 1, 8, 8, y);
    ck_assert_mem_eq(x, y, sizeof x);
    fer_image_free(&im);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("augment");
    TCase *tc = tcase_create("augment");
    tcase_add_test(tc, test_identity_is_exact);
    tcase_add_test(tc, test_quarter_turns_are_exact_and_counter_clockwise);
    tcase_add_test(tc, test_flip_only_mirrors);
    tcase_add_test(tc, test_channels_and_range);
    tcase_add_test(tc, test_same_seed_same_augmentation);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
