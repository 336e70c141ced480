#include "check_helpers.h"

#include "error.h"
#include "image.h"
#include "loader.h"

#include <stdio.h>
#include <string.h>

enum { N = 11, SIDE = 12 };
static char *dir;
static char paths[N][256];
static const char *path_list[N];
static int targets[N];

static void make_images(void)
{
    dir = fer_test_tmpdir();
    for (int i = 0; i < N; i++) {
        struct fer_image im;
        fer_image_alloc(&im, 16, 16, 3); /* resized to SIDE by the loader */
        for (size_t b = 0; b < im.stride * 16; b++)
            im.data[b] = (uint8_t)(b * 7 + i * 31);
        snprintf(paths[i], sizeof paths[i], "%s/%02d.png", dir, i);
        ck_assert_int_eq(fer_image_write(paths[i], &im, FER_IMAGE_PNG, -1), 0);
        fer_image_free(&im);
        path_list[i] = paths[i];
        targets[i] = i % 3;
    }
}

static struct fer_loader_spec spec_of(int prefetch, int cache)
{
    struct fer_loader_spec s = {.channels = 1, .height = SIDE, .width = SIDE, .inputs = 1,
                                .batch = 4, .cache = cache, .prefetch = prefetch, .seed = 5};
    fer_augment_default(&s.augment);
    return s;
}

/* Every batch of one pass, concatenated. */
static float *run_pass(struct fer_loader *l, int augment, uint64_t stream, int *batches)
{
    static float all[N * SIDE * SIDE];
    ck_assert_int_eq(fer_loader_start(l, N, path_list, targets, NULL, augment, stream), 0);
    struct fer_batch b;
    size_t at = 0;
    int r;
    *batches = 0;
    while ((r = fer_loader_next(l, &b)) == 1) {
        ck_assert_int_eq(b.x.shape[0], b.count);
        for (int e = 0; e < b.count; e++)
            ck_assert_int_eq(b.target[e], targets[b.index[e]]);
        memcpy(all + at, b.x.data, fer_tensor_numel(&b.x) * sizeof(float));
        at += fer_tensor_numel(&b.x);
        (*batches)++;
    }
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(at, (size_t)N * SIDE * SIDE);
    return all;
}

START_TEST(test_plain_pass_equals_direct_rendering)
{
    make_images();
    struct fer_loader_spec s = spec_of(1, 0);
    struct fer_loader *l = fer_loader_new(&s);
    int batches;
    float *got = run_pass(l, 0, 0, &batches);
    ck_assert_int_eq(batches, 3); /* 4 + 4 + 3 */
    for (int i = 0; i < N; i++) {
        struct fer_image im, small;
        fer_image_read(paths[i], &im, 1);
        fer_image_resize(&im, &small, SIDE, SIDE);
        float want[SIDE * SIDE];
        fer_augment_render(&small, NULL, NULL, 0, 1, SIDE, SIDE, want);
        ck_assert_mem_eq(got + i * SIDE * SIDE, want, sizeof want);
        fer_image_free(&im);
        fer_image_free(&small);
    }
    fer_loader_free(l);
}
END_TEST

START_TEST(test_threads_and_cache_do_not_change_batches)
{
    make_images();
    static float reference[N * SIDE * SIDE];
    int batches;
    for (int variant = 0; variant < 4; variant++) {
        struct fer_loader_spec s = spec_of(variant & 1, variant >> 1);
        struct fer_loader *l = fer_loader_new(&s);
        for (int epoch = 0; epoch < 2; epoch++) { /* the second pass hits the cache */
            float *got = run_pass(l, 1, 3, &batches);
            if (variant == 0 && epoch == 0)
                memcpy(reference, got, sizeof reference);
            else
                ck_assert_mem_eq(got, reference, sizeof reference);
        }
        /* another stream (epoch) augments differently */
        float *other = run_pass(l, 1, 4, &batches);
        ck_assert(memcmp(other, reference, sizeof reference) != 0);
        fer_loader_free(l);
    }
}
END_TEST

START_TEST(test_restart_mid_pass_and_missing_file)
{
    make_images();
    struct fer_loader_spec s = spec_of(1, 0);
    struct fer_loader *l = fer_loader_new(&s);
    struct fer_batch b;
    ck_assert_int_eq(fer_loader_start(l, N, path_list, targets, NULL, 0, 0), 0);
    ck_assert_int_eq(fer_loader_next(l, &b), 1);
    /* a new pass before the old one ended: starts from its first example */
    const char *bad[N];
    memcpy(bad, path_list, sizeof bad);
    bad[6] = "/nonexistent/x.png";
    ck_assert_int_eq(fer_loader_start(l, N, bad, targets, NULL, 0, 0), 0);
    ck_assert_int_eq(fer_loader_next(l, &b), 1);
    ck_assert_uint_eq(b.index[0], 0);
    ck_assert_int_eq(fer_loader_next(l, &b), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "/nonexistent/x.png"));
    fer_loader_free(l);
}
END_TEST

/* Frames of one example, augmented with shared_augment: the same random
 * change for each (so two copies of one image stay equal, and a pair of
 * different images keeps its difference's geometry); without it each
 * frame gets its own change. */
START_TEST(test_shared_augment)
{
    make_images();
    for (int shared = 0; shared < 2; shared++) {
        struct fer_loader_spec s = spec_of(0, 0);
        s.inputs = 3;
        s.batch = 2;
        s.shared_augment = shared;
        struct fer_loader *l = fer_loader_new(&s);
        /* example 0: image 0 three times; example 1: images 1, 2, 1 */
        const char *frames[6] = {paths[0], paths[0], paths[0], paths[1], paths[2], paths[1]};
        int t2[2] = {0, 1};
        ck_assert_int_eq(fer_loader_start(l, 2, frames, t2, NULL, 1, 7), 0);
        struct fer_batch b;
        ck_assert_int_eq(fer_loader_next(l, &b), 1);
        ck_assert_int_eq(b.x.shape[0], 6);
        size_t per = SIDE * SIDE;
        const float *x = b.x.data;
        int same01 = memcmp(x, x + per, per * sizeof(float)) == 0;
        int same02 = memcmp(x, x + 2 * per, per * sizeof(float)) == 0;
        int same35 = memcmp(x + 3 * per, x + 5 * per, per * sizeof(float)) == 0;
        ck_assert_int_eq(same01, shared);
        ck_assert_int_eq(same02, shared);
        ck_assert_int_eq(same35, shared);
        /* the change is a real one: not the plain rendering */
        struct fer_image im, small;
        fer_image_read(paths[0], &im, 1);
        fer_image_resize(&im, &small, SIDE, SIDE);
        float plain[SIDE * SIDE];
        fer_augment_render(&small, NULL, NULL, 0, 1, SIDE, SIDE, plain);
        ck_assert(memcmp(x, plain, sizeof plain) != 0);
        fer_image_free(&im);
        fer_image_free(&small);
        fer_loader_free(l);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("loader");
    tcase_add_test(tc, test_plain_pass_equals_direct_rendering);
    tcase_add_test(tc, test_threads_and_cache_do_not_change_batches);
    tcase_add_test(tc, test_restart_mid_pass_and_missing_file);
    tcase_add_test(tc, test_shared_augment);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
