/* test_frame_sampler.c - the frame choice of -r, --start, --end, --every.
 * Expected picks are worked out by hand from the fps filter's rules (see
 * frame_sampler.h); the shell test compares against ffmpeg itself. */
#include "check_helpers.h"

#include "frame_sampler.h"

#include <math.h>

/* Run n frames with pts 0..n-1 (time base 1/tb_den) and end pts n through
 * the sampler; store the kept frame numbers. Returns how many. */
static int run(struct fer_frame_sampler *s, int n, int *kept)
{
    int k = 0, held = -1;
    for (int i = 0; i < n; i++) {
        int flags = fer_frame_sampler_push(s, i);
        if (flags & FER_SAMPLER_KEEP_HELD)
            kept[k++] = held;
        if (flags & FER_SAMPLER_STOP)
            return k;
        if (flags & FER_SAMPLER_HOLD)
            held = i;
    }
    if (fer_frame_sampler_finish(s, n))
        kept[k++] = held;
    return k;
}

START_TEST(test_every_frame_and_every_n)
{
    struct fer_frame_sampler s;
    int kept[64];
    fer_frame_sampler_init(&s, 0, 0, 1, 25, 0, INFINITY, 1);
    ck_assert_int_eq(run(&s, 10, kept), 10);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(kept[i], i);
    fer_frame_sampler_init(&s, 0, 0, 1, 25, 0, INFINITY, 3);
    ck_assert_int_eq(run(&s, 10, kept), 4);
    ck_assert_int_eq(kept[0], 0);
    ck_assert_int_eq(kept[1], 3);
    ck_assert_int_eq(kept[3], 9);
}
END_TEST

/* 25 fps down to 5: frame p lands on tick round(p / 5) (ties away from
 * zero: p = 2.5 cannot happen, p = 3 -> 0.6 -> 1); each tick takes the last
 * frame on or before it: 2, 7, 12, 17, 22. Frames 23, 24 round to tick 5,
 * which is the end (pts 25 -> tick 5) and is not emitted. */
START_TEST(test_rate_picks_latest_frame_per_tick)
{
    struct fer_frame_sampler s;
    int kept[64];
    fer_frame_sampler_init(&s, 5, 1, 1, 25, 0, INFINITY, 1);
    ck_assert_int_eq(run(&s, 25, kept), 5);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(kept[i], 2 + 5 * i);
}
END_TEST

/* Faster than the input: ffmpeg repeats each frame twice; we keep it once. */
START_TEST(test_rate_above_input_keeps_each_frame_once)
{
    struct fer_frame_sampler s;
    int kept[64];
    fer_frame_sampler_init(&s, 50, 1, 1, 25, 0, INFINITY, 1);
    ck_assert_int_eq(run(&s, 20, kept), 20);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(kept[i], i);
}
END_TEST

/* 0.5 s .. 0.8 s at 25 fps: pts 13 (0.52 s) to 19 (0.76 s); pts 20 is
 * exactly 0.8 s and ends the clip. */
START_TEST(test_window)
{
    struct fer_frame_sampler s;
    int kept[64];
    fer_frame_sampler_init(&s, 0, 0, 1, 25, 0.5, 0.8, 1);
    ck_assert_int_eq(run(&s, 25, kept), 7);
    ck_assert_int_eq(kept[0], 13);
    ck_assert_int_eq(kept[6], 19);
}
END_TEST

/* The rate grid starts at the first frame of the window, not at 0:
 * window from pts 3: ticks round(p/5) = 1 for p = 3..7 -> 7, then 12. */
START_TEST(test_rate_grid_starts_in_window)
{
    struct fer_frame_sampler s;
    int kept[64];
    fer_frame_sampler_init(&s, 5, 1, 1, 25, 0.12, 0.5, 1);
    ck_assert_int_eq(run(&s, 25, kept), 2);
    ck_assert_int_eq(kept[0], 7);
    ck_assert_int_eq(kept[1], 12);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("frame_sampler");
    TCase *tc = tcase_create("frame_sampler");
    tcase_add_test(tc, test_every_frame_and_every_n);
    tcase_add_test(tc, test_rate_picks_latest_frame_per_tick);
    tcase_add_test(tc, test_rate_above_input_keeps_each_frame_once);
    tcase_add_test(tc, test_window);
    tcase_add_test(tc, test_rate_grid_starts_in_window);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
