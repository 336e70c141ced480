/* test_video.c - the decoder module on a real clip and on bad files.
 * (Timestamps and pixels of whole videos are checked against ffprobe and
 * ffmpeg in tests/tools/test-extract-video.sh.) */
#include "check_helpers.h"

#include "error.h"
#include "video.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *media_file(const char *name)
{
    static char path[4096];
    const char *m = getenv("FER_MEDIA");
    snprintf(path, sizeof path, "%s/%s", m ? m : "", name);
    return path;
}

/* cap13_edit2.mp4: 765 frames at 25 fps (time base 1/25), 400x300. */
START_TEST(test_decodes_every_frame_with_pts)
{
    const char *path = media_file("cap13_edit2.mp4");
    if (access(path, R_OK) != 0)
        return; /* media not fetched: the tool tests report the skip */
    for (int threads = 1; threads <= 2; threads++) {
        struct fer_video *v = fer_video_open(path, threads);
        ck_assert_msg(v != NULL, "%s", fer_error());
        int num, den;
        fer_video_time_base(v, &num, &den);
        ck_assert_int_eq(num, 1);
        ck_assert_int_eq(den, 25);
        ck_assert_int_eq(fer_video_frame_count(v), 765);
        struct fer_video_frame f = {0}, kept = {0};
        struct fer_image rgb = {0};
        int64_t n = 0;
        int r;
        while ((r = fer_video_next(v, &f)) == 1) {
            ck_assert_int_eq(f.index, n);
            ck_assert_int_eq(f.pts, n);
            ck_assert(fabs(f.seconds - n / 25.0) < 1e-9);
            ck_assert_int_eq(f.width, 400);
            if (n == 10)
                fer_video_frame_move(&kept, &f); /* held while decoding goes on */
            n++;
        }
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(n, 765);
        ck_assert_int_eq(fer_video_next(v, &f), 0); /* stays at the end */
        ck_assert_int_eq(kept.index, 10);
        ck_assert_int_eq(fer_video_frame_convert(v, &kept, &rgb), 0);
        ck_assert_int_eq(rgb.width, 400);
        ck_assert_int_eq(rgb.height, 300);
        ck_assert_int_eq(rgb.channels, 3);
        fer_image_free(&rgb);
        fer_video_frame_release(&kept);
        fer_video_frame_release(&f);
        fer_video_close(v);
    }
}
END_TEST

START_TEST(test_bad_files)
{
    ck_assert_ptr_null(fer_video_open("/nonexistent/x.mp4", 1));
    ck_assert_ptr_nonnull(strstr(fer_error(), "No such file or directory"));
    char path[] = "/tmp/fer-video-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "hello, not a video\n", 19), 19);
    close(fd);
    ck_assert_ptr_null(fer_video_open(path, 1));
    ck_assert_ptr_nonnull(strstr(fer_error(), "Invalid data found when processing input"));
    unlink(path);
    struct fer_video_frame empty = {0};
    fer_video_frame_release(&empty); /* safe on an empty frame */
    fer_video_close(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("video");
    TCase *tc = tcase_create("video");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_decodes_every_frame_with_pts);
    tcase_add_test(tc, test_bad_files);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
