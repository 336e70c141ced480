/* test_frame_writer.c - the encoder pool: order, transforms, failure. */
#include "check_helpers.h"

#include "error.h"
#include "frame_writer.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct record {
    int64_t frames[64];
    int n;
    int fail_at; /* make `done` fail for this frame; -1: never */
};

static int on_done(void *user, const struct fer_frame_job *job)
{
    struct record *r = user;
    if (job->frame == r->fail_at)
        return fer_fail("done refused frame %lld", (long long)job->frame);
    r->frames[r->n++] = job->frame;
    return 0;
}

static void gradient(struct fer_image *im, int w, int h, int seed)
{
    ck_assert_int_eq(fer_image_alloc(im, w, h, 3), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < 3 * w; x++)
            im->data[(size_t)y * im->stride + (size_t)x] = (uint8_t)(x + 7 * y + seed);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Jobs finish in any order on 3 threads; they are reported in order, and
 * each file holds the transformed image. */
START_TEST(test_reports_in_submission_order)
{
    char *dir = fer_test_tmpdir();
    struct record rec = {.fail_at = -1};
    struct fer_frame_writer_options opt = {.threads = 3, .format = FER_IMAGE_PNG,
                                           .quality = -1, .max_side = 20};
    struct fer_frame_writer *w = fer_frame_writer_new(&opt, on_done, &rec);
    ck_assert_ptr_nonnull(w);
    char path[4096];
    for (int i = 0; i < 40; i++) {
        struct fer_image im;
        gradient(&im, 40 + i % 5, 30, i);
        snprintf(path, sizeof path, "%s/%02d.png", dir, i);
        ck_assert_int_eq(fer_frame_writer_submit(w, &im, NULL, path, i, i * 0.5), 0);
        ck_assert_ptr_null(im.data); /* taken over */
    }
    ck_assert_int_eq(fer_frame_writer_flush(w), 0);
    ck_assert_int_eq(rec.n, 40);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(rec.frames[i], i);
    struct fer_image back;
    snprintf(path, sizeof path, "%s/03.png", dir);
    ck_assert_int_eq(fer_image_read(path, &back, 0), 0);
    ck_assert_int_eq(back.width, 20); /* 43x30 -> 20x14 */
    ck_assert_int_eq(back.height, 14);
    fer_image_free(&back);
    fer_frame_writer_free(w);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}
END_TEST

START_TEST(test_transform_sizes)
{
    struct fer_frame_writer_options opt = {.max_side = 100};
    struct fer_image im;
    gradient(&im, 360, 288, 0);
    ck_assert_int_eq(fer_frame_writer_transform(&opt, &im), 0);
    ck_assert_int_eq(im.width, 100);
    ck_assert_int_eq(im.height, 80);
    fer_image_free(&im);
    gradient(&im, 288, 360, 0);
    ck_assert_int_eq(fer_frame_writer_transform(&opt, &im), 0);
    ck_assert_int_eq(im.width, 80);
    ck_assert_int_eq(im.height, 100);
    fer_image_free(&im);
    gradient(&im, 50, 40, 0); /* never enlarged */
    ck_assert_int_eq(fer_frame_writer_transform(&opt, &im), 0);
    ck_assert_int_eq(im.width, 50);
    fer_image_free(&im);
    struct fer_frame_writer_options exact = {.width = 7, .height = 3, .grey = 1};
    gradient(&im, 50, 40, 0);
    ck_assert_int_eq(fer_frame_writer_transform(&exact, &im), 0);
    ck_assert_int_eq(im.width, 7);
    ck_assert_int_eq(im.height, 3);
    ck_assert_int_eq(im.channels, 1);
    fer_image_free(&im);
}
END_TEST

/* A job that cannot be written fails the writer, names its file, and after
 * abort no file of a job that was not reported is left. */
static void check_failure(int threads)
{
    char *dir = fer_test_tmpdir();
    struct record rec = {.fail_at = -1};
    struct fer_frame_writer_options opt = {.threads = threads, .format = FER_IMAGE_PNG,
                                           .quality = -1};
    struct fer_frame_writer *w = fer_frame_writer_new(&opt, on_done, &rec);
    char path[4096], bad[4096];
    snprintf(bad, sizeof bad, "%s/no-such-dir/05.png", dir);
    int rc = 0;
    for (int i = 0; i < 12 && rc == 0; i++) {
        struct fer_image im;
        gradient(&im, 16, 16, i);
        if (i == 5)
            snprintf(path, sizeof path, "%s", bad);
        else
            snprintf(path, sizeof path, "%s/%02d.png", dir, i);
        rc = fer_frame_writer_submit(w, &im, NULL, path, i, 0);
        fer_image_free(&im);
    }
    if (rc == 0)
        rc = fer_frame_writer_flush(w);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "No such file or directory"));
    ck_assert_str_eq(fer_frame_writer_failed_file(w), bad);
    fer_frame_writer_abort(w);
    ck_assert_int_eq(rec.n, 5); /* 0..4 reported, nothing after the failure */
    for (int i = 0; i < 12; i++) {
        snprintf(path, sizeof path, "%s/%02d.png", dir, i);
        ck_assert_int_eq(exists(path), i < 5);
    }
    fer_frame_writer_free(w);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}

START_TEST(test_failure_inline)
{
    check_failure(1);
}
END_TEST

START_TEST(test_failure_threads)
{
    check_failure(3);
}
END_TEST

/* A failing `done` (the manifest could not be written) stops the writer and
 * removes that frame's file too. */
START_TEST(test_done_failure_removes_file)
{
    char *dir = fer_test_tmpdir();
    struct record rec = {.fail_at = 2};
    struct fer_frame_writer_options opt = {.threads = 2, .format = FER_IMAGE_JPEG, .quality = 80};
    struct fer_frame_writer *w = fer_frame_writer_new(&opt, on_done, &rec);
    char path[4096];
    int rc = 0;
    for (int i = 0; i < 6 && rc == 0; i++) {
        struct fer_image im;
        gradient(&im, 16, 16, i);
        snprintf(path, sizeof path, "%s/%02d.jpg", dir, i);
        rc = fer_frame_writer_submit(w, &im, NULL, path, i, 0);
        fer_image_free(&im);
    }
    if (rc == 0)
        rc = fer_frame_writer_flush(w);
    ck_assert_int_eq(rc, -1);
    fer_frame_writer_abort(w);
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%02d.jpg", dir, i);
        ck_assert_int_eq(exists(path), i < 2);
    }
    fer_frame_writer_free(w);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("frame_writer");
    TCase *tc = tcase_create("frame_writer");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_reports_in_submission_order);
    tcase_add_test(tc, test_transform_sizes);
    tcase_add_test(tc, test_failure_inline);
    tcase_add_test(tc, test_failure_threads);
    tcase_add_test(tc, test_done_failure_removes_file);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
