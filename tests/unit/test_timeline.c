#include "check_helpers.h"

#include "error.h"
#include "plot.h"
#include "timeline.h"

#include <math.h>
#include <string.h>

static const char *const classes[2] = {"neutral", "happiness"};

/* Rows of a faces manifest with predictions: two clips, tracks that
 * interleave, a frame without a face. */
START_TEST(test_timeline_groups_by_clip_and_track)
{
    static const char *const header[] = {"clip", "frame", "pts", "track", "crop"};
    static const char *const rows[][5] = {
        {"a", "0", "0.00", "1", "x"}, {"a", "0", "0.00", "2", "x"}, {"a", "1", "0.04", "", ""},
        {"a", "2", "0.08", "1", "x"}, {"b", "0", "0.00", "1", "x"}, {"a", "3", "0.12", "2", "x"},
        {"a", "4", "", "1", "x"},
    };
    struct fer_timeline *tl = fer_timeline_new(header, 5, classes, 2, 6);
    ck_assert_ptr_nonnull(tl);
    int added = 0;
    for (int i = 0; i < 7; i++) {
        double p[2] = {1 - i / 10.0, i / 10.0};
        int rc = fer_timeline_add(tl, rows[i], p);
        ck_assert_int_ge(rc, 0);
        added += rc;
    }
    ck_assert_int_eq(added, 6); /* the row without a track is skipped */
    ck_assert_uint_eq(fer_timeline_dropped(tl), 0); /* not counted as dropped */
    ck_assert_uint_eq(fer_timeline_tracks(tl), 3);
    struct fer_plot_track t;
    fer_timeline_track(tl, 0, &t);
    ck_assert_str_eq(t.label, "a, track 1");
    ck_assert_uint_eq(t.n, 3);
    ck_assert_double_eq(t.t[1], 0.08);
    ck_assert(isnan(t.t[2])); /* an empty pts is a gap */
    ck_assert_double_eq_tol(t.probs[1 * 2 + 1], 0.3, 1e-12); /* row 3's happiness */
    fer_timeline_track(tl, 1, &t);
    ck_assert_str_eq(t.label, "a, track 2");
    ck_assert_uint_eq(t.n, 2);
    ck_assert_double_eq(t.t[1], 0.12);
    fer_timeline_track(tl, 2, &t);
    ck_assert_str_eq(t.label, "b, track 1");
    ck_assert_uint_eq(t.n, 1);

    struct fer_image im;
    ck_assert_msg(fer_timeline_plot(tl, "title", 400, &im) == 0, "%s", fer_error());
    ck_assert_int_eq(im.width, 400);
    ck_assert_int_eq(im.height, 24 + 3 * FER_PLOT_PANEL_HEIGHT);
    fer_image_free(&im);
    fer_timeline_free(tl);
}
END_TEST

/* At most max_tracks series, the first to appear; later ones are left out. */
START_TEST(test_timeline_max_tracks)
{
    static const char *const header[] = {"track", "frame"};
    static const char *const rows[][2] = {{"3", "0"}, {"1", "0"}, {"2", "1"}, {"3", "1"}};
    struct fer_timeline *tl = fer_timeline_new(header, 2, classes, 2, 2);
    ck_assert_ptr_nonnull(tl);
    const double p[2] = {0.5, 0.5};
    ck_assert_int_eq(fer_timeline_add(tl, rows[0], p), 1);
    ck_assert_int_eq(fer_timeline_add(tl, rows[1], p), 1);
    ck_assert_int_eq(fer_timeline_add(tl, rows[2], p), 0);
    ck_assert_int_eq(fer_timeline_add(tl, rows[3], p), 1);
    ck_assert_uint_eq(fer_timeline_tracks(tl), 2);
    ck_assert_uint_eq(fer_timeline_dropped(tl), 1);
    struct fer_plot_track t;
    fer_timeline_track(tl, 0, &t);
    ck_assert_str_eq(t.label, "track 3"); /* no clip column */
    ck_assert_uint_eq(t.n, 2);
    struct fer_image im;
    ck_assert_int_eq(fer_timeline_plot(tl, NULL, 320, &im), 0);
    ck_assert_int_eq(im.height, 2 * FER_PLOT_PANEL_HEIGHT); /* frame axis, no title */
    fer_image_free(&im);
    fer_timeline_free(tl);
}
END_TEST

/* Without track each clip is one series, without either the whole input;
 * without pts or frame there is no time axis. */
START_TEST(test_timeline_fallbacks_and_errors)
{
    static const char *const by_clip[] = {"clip", "frame", "path"};
    struct fer_timeline *tl = fer_timeline_new(by_clip, 3, classes, 2, 6);
    ck_assert_ptr_nonnull(tl);
    const double p[2] = {0.2, 0.8};
    ck_assert_int_eq(fer_timeline_add(tl, (const char *const[]){"v", "0", "a.png"}, p), 1);
    ck_assert_int_eq(fer_timeline_add(tl, (const char *const[]){"v", "1", "b.png"}, p), 1);
    ck_assert_int_eq(fer_timeline_add(tl, (const char *const[]){"v", "2x", "c.png"}, p), -1);
    ck_assert_str_eq(fer_error(), "column 'frame': not a number: '2x'");
    ck_assert_uint_eq(fer_timeline_tracks(tl), 1);
    struct fer_plot_track t;
    fer_timeline_track(tl, 0, &t);
    ck_assert_str_eq(t.label, "v");
    ck_assert_uint_eq(t.n, 2);
    fer_timeline_free(tl);

    static const char *const bare[] = {"pts", "path"};
    tl = fer_timeline_new(bare, 2, classes, 2, 6);
    ck_assert_ptr_nonnull(tl);
    struct fer_image im;
    ck_assert_int_eq(fer_timeline_plot(tl, NULL, 320, &im), -1);
    ck_assert_str_eq(fer_error(), "no rows with a track");
    ck_assert_ptr_null(im.data);
    ck_assert_int_eq(fer_timeline_add(tl, (const char *const[]){"1.5", "a.png"}, p), 1);
    fer_timeline_track(tl, 0, &t);
    ck_assert_str_eq(t.label, "all rows");
    ck_assert_double_eq(t.t[0], 1.5);
    fer_timeline_free(tl);

    static const char *const no_time[] = {"clip", "track", "path"};
    ck_assert_ptr_null(fer_timeline_new(no_time, 3, classes, 2, 6));
    ck_assert_str_eq(fer_error(), "no 'pts' or 'frame' column: no time axis");
    ck_assert_ptr_null(fer_timeline_new(bare, 2, classes, 0, 6));
    ck_assert_ptr_null(fer_timeline_new(bare, 2, classes, 2, 0));
    fer_timeline_free(NULL);
}
END_TEST

/* Many rows: the series grow past their first allocation intact. */
START_TEST(test_timeline_many_rows)
{
    static const char *const header[] = {"frame", "track"};
    struct fer_timeline *tl = fer_timeline_new(header, 2, classes, 2, 6);
    ck_assert_ptr_nonnull(tl);
    for (int i = 0; i < 2000; i++) {
        char frame[16];
        snprintf(frame, sizeof frame, "%d", i);
        double p[2] = {i, -i};
        ck_assert_int_eq(fer_timeline_add(tl, (const char *const[]){frame, i % 2 ? "b" : "a"}, p),
                         1);
    }
    struct fer_plot_track t;
    fer_timeline_track(tl, 1, &t);
    ck_assert_str_eq(t.label, "track b");
    ck_assert_uint_eq(t.n, 1000);
    for (size_t i = 0; i < t.n; i++) {
        ck_assert_double_eq(t.t[i], 2.0 * i + 1);
        ck_assert_double_eq(t.probs[2 * i + 1], -(2.0 * i + 1));
    }
    fer_timeline_free(tl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timeline");
    TCase *tc = tcase_create("timeline");
    tcase_add_test(tc, test_timeline_groups_by_clip_and_track);
    tcase_add_test(tc, test_timeline_max_tracks);
    tcase_add_test(tc, test_timeline_fallbacks_and_errors);
    tcase_add_test(tc, test_timeline_many_rows);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
