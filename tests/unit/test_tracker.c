#include "check_helpers.h"

#include "hungarian.h"
#include "rng.h"
#include "tracker.h"

#include <math.h>
#include <string.h>

/* The oracle: try every injective assignment of the smaller side. */
static double brute_force(const double *cost, int rows, int cols, int r, unsigned used)
{
    if (r == rows)
        return 0;
    double best = INFINITY;
    if (rows > cols) { /* some rows stay unassigned: allow "skip" */
        int assigned = __builtin_popcount(used);
        if (rows - r > cols - assigned)
            best = brute_force(cost, rows, cols, r + 1, used);
    }
    for (int c = 0; c < cols; c++)
        if (!(used & (1u << c)))
            best = fmin(best, cost[r * cols + c] + brute_force(cost, rows, cols, r + 1, used | (1u << c)));
    return best;
}

START_TEST(test_hungarian_is_optimal)
{
    struct fer_rng rng;
    fer_rng_seed(&rng, 11);
    for (int trial = 0; trial < 300; trial++) {
        int rows = 1 + (int)fer_rng_below(&rng, 6), cols = 1 + (int)fer_rng_below(&rng, 6);
        double cost[36];
        for (int i = 0; i < rows * cols; i++) /* ties are common in IoU costs */
            cost[i] = trial % 2 ? fer_rng_uniform(&rng) : (double)fer_rng_below(&rng, 4);
        int match[6];
        ck_assert_int_eq(fer_hungarian(cost, (size_t)rows, (size_t)cols, match), 0);
        double total = 0;
        unsigned used = 0;
        int assigned = 0;
        for (int r = 0; r < rows; r++) {
            if (match[r] < 0)
                continue;
            ck_assert_int_lt(match[r], cols);
            ck_assert(!(used & (1u << match[r])));
            used |= 1u << match[r];
            total += cost[r * cols + match[r]];
            assigned++;
        }
        ck_assert_int_eq(assigned, rows < cols ? rows : cols);
        ck_assert_double_le(fabs(total - brute_force(cost, rows, cols, 0, 0)), 1e-9);
    }
}
END_TEST

START_TEST(test_iou)
{
    struct fer_rect a = {0, 0, 10, 10}, b = {5, 0, 10, 10}, c = {20, 20, 5, 5};
    ck_assert_double_eq_tol(fer_rect_iou(&a, &b), 50.0 / 150.0, 1e-12);
    ck_assert_double_eq(fer_rect_iou(&a, &c), 0);
    ck_assert_double_eq(fer_rect_iou(&a, &a), 1);
}
END_TEST

/* Scenario builder: faces as (id, x) per frame, boxes 40x40 at y = 50. */
struct scene {
    struct fer_detection d[512];
    int truth[512];
    size_t n;
};

static void face(struct scene *s, long frame, int who, double x)
{
    s->d[s->n] = (struct fer_detection){frame, {x, 50, 40, 40}, 1.0, -1};
    s->truth[s->n++] = who;
}

/* Track ids must map one-to-one onto true identities. */
static void assert_no_switch(const struct scene *s)
{
    int id_of[16], who_of[64];
    memset(id_of, -1, sizeof id_of);
    memset(who_of, -1, sizeof who_of);
    for (size_t i = 0; i < s->n; i++) {
        int t = s->d[i].track, w = s->truth[i];
        if (t == 0)
            continue;
        if (id_of[w] < 0)
            id_of[w] = t;
        if (who_of[t] < 0)
            who_of[t] = w;
        ck_assert_msg(id_of[w] == t && who_of[t] == w, "frame %ld: identity switch",
                      s->d[i].frame);
    }
}

START_TEST(test_two_faces_cross_without_switch)
{
    /* A walks right, B walks left, 8 px a frame, 40 px boxes; at frame 16
     * A is at 148 and B at 136, so each overlaps the other's previous box
     * more than its own: matching to the last box alone swaps them. Both
     * listing orders, so that a tie-break cannot pass it. */
    for (int order = 0; order < 2; order++) {
        struct scene s = {.n = 0};
        for (long f = 0; f < 40; f++) {
            face(&s, f, order, 20 + 8.0 * f);
            face(&s, f, 1 - order, 264 - 8.0 * f);
        }
        struct fer_track_params p = {0.3, 10, 1, 0};
        ck_assert_int_eq(fer_track_clip(s.d, s.n, &p), 2);
        assert_no_switch(&s);
    }
}
END_TEST

START_TEST(test_gap_enter_leave_and_short_tracks)
{
    struct scene s = {.n = 0};
    for (long f = 0; f < 50; f++) {
        if (f < 20 || f >= 24) /* A disappears for 4 frames */
            face(&s, f, 0, 10 + f);
        if (f >= 10 && f < 30) /* B enters at 10, leaves at 30 */
            face(&s, f, 1, 200);
        if (f == 40) /* a one-frame false positive */
            face(&s, f, 2, 400);
        if (f >= 45) /* B's place reused after a long gap: a new person */
            face(&s, f, 3, 200);
    }
    struct fer_track_params p = {0.3, 5, 3, 0};
    ck_assert_int_eq(fer_track_clip(s.d, s.n, &p), 3);
    assert_no_switch(&s);
    for (size_t i = 0; i < s.n; i++) {
        if (s.truth[i] == 2)
            ck_assert_int_eq(s.d[i].track, 0); /* shorter than min_length */
        else
            ck_assert_int_gt(s.d[i].track, 0);
    }
    /* A's gap of 4 frames is within max_gap 5: one track; with max_gap 3 A
     * becomes two tracks. */
    for (size_t i = 0; i < s.n; i++)
        s.d[i].track = -1;
    p.max_gap = 3;
    ck_assert_int_eq(fer_track_clip(s.d, s.n, &p), 4);
}
END_TEST

START_TEST(test_smoothing_averages_within_runs)
{
    struct scene s = {.n = 0};
    double jitter[] = {0, 4, 0, 4, 0, 4, 0};
    for (long f = 0; f < 7; f++)
        face(&s, f, 0, 100 + jitter[f]);
    struct fer_track_params p = {0.3, 10, 1, 1};
    ck_assert_int_eq(fer_track_clip(s.d, s.n, &p), 1);
    ck_assert_double_eq_tol(s.d[0].box.x, 102, 1e-9); /* (100 + 104) / 2 at the edge */
    ck_assert_double_eq_tol(s.d[3].box.x, (100 + 104 + 100) / 3.0, 1e-9);
}
END_TEST

START_TEST(test_unsorted_is_an_error)
{
    struct scene s = {.n = 0};
    face(&s, 5, 0, 0);
    face(&s, 3, 0, 0);
    struct fer_track_params p = {0.3, 10, 1, 0};
    ck_assert_int_eq(fer_track_clip(s.d, s.n, &p), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tracker");
    TCase *tc = tcase_create("tracker");
    tcase_add_test(tc, test_hungarian_is_optimal);
    tcase_add_test(tc, test_iou);
    tcase_add_test(tc, test_two_faces_cross_without_switch);
    tcase_add_test(tc, test_gap_enter_leave_and_short_tracks);
    tcase_add_test(tc, test_smoothing_averages_within_runs);
    tcase_add_test(tc, test_unsorted_is_an_error);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
