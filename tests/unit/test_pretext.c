#include "check_helpers.h"

#include "error.h"
#include "face_clips.h"
#include "pretext.h"

#include <stdio.h>
#include <math.h>
#include <string.h>

static struct fer_manifest *manifest_of(const char *text)
{
    FILE *fp = fmemopen((void *)text, strlen(text), "r");
    return fer_manifest_from_stream(fp, "faces.tsv", NULL);
}

/* Track 1 has frames 1-5 and 8-12 (a gap at 6-7); track 2 frames 1-3. Frame
 * numbers count every third decoded frame, so the step is 3 in clip b. */
static const char *faces =
    "clip\tframe\ttrack\tcrop\n"
    "a\t1\t1\tc\na\t1\t2\tc\na\t2\t1\tc\na\t2\t2\tc\na\t3\t1\tc\na\t3\t2\tc\n"
    "a\t4\t1\tc\na\t5\t1\tc\na\t6\t\t\na\t7\t\t\na\t8\t1\tc\na\t9\t1\tc\n"
    "a\t10\t1\tc\na\t11\t1\tc\na\t12\t1\tc\n"
    "b\t3\t1\tc\nb\t6\t1\tc\nb\t9\t1\tc\nb\t15\t1\tc\n";

START_TEST(test_clips_group_tracks_and_find_step)
{
    struct fer_manifest *m = manifest_of(faces);
    struct fer_face_clips *c = fer_face_clips_new(m);
    const struct fer_face_clip *k;
    ck_assert_int_eq(fer_face_clips_next(c, &k), 1);
    ck_assert_str_eq(k->id, "a");
    ck_assert_uint_eq(k->n_tracks, 2);
    ck_assert_uint_eq(k->tracks[0].n, 10);
    ck_assert_uint_eq(k->tracks[1].n, 3);
    ck_assert_int_eq(k->step, 1);
    ck_assert_int_eq(fer_face_clips_next(c, &k), 1);
    ck_assert_str_eq(k->id, "b");
    ck_assert_int_eq(k->step, 3);
    ck_assert_int_eq(fer_face_clips_next(c, &k), 0);
    fer_face_clips_free(c);
    fer_manifest_close(m);
}
END_TEST

START_TEST(test_windows_never_cross_gaps)
{
    struct fer_manifest *m = manifest_of(faces);
    struct fer_face_clips *c = fer_face_clips_new(m);
    const struct fer_face_clip *k;
    fer_face_clips_next(c, &k);
    const struct fer_face_track *t = &k->tracks[0];
    size_t firsts[16];
    /* n=3, stride 1, hop 1: runs of 5 give 3 windows each. */
    ck_assert_uint_eq(fer_pretext_windows(k, t, 3, 1, 1, firsts, 16), 6);
    for (size_t w = 0; w < 6; w++) {
        long f0 = t->frames[firsts[w]];
        for (int i = 1; i < 3; i++)
            ck_assert_int_eq(t->frames[firsts[w] + (size_t)i], f0 + i);
    }
    /* n=5 non-overlapping: one window per run; n=3 stride 2: one per run. */
    ck_assert_uint_eq(fer_pretext_windows(k, t, 5, 1, 5, NULL, 0), 2);
    ck_assert_uint_eq(fer_pretext_windows(k, t, 3, 2, 6, firsts, 16), 2);
    ck_assert_int_eq(t->frames[firsts[1]], 8);
    ck_assert_int_eq(t->frames[firsts[1] + 4], 12);
    ck_assert_uint_eq(fer_pretext_windows(k, t, 7, 1, 1, NULL, 0), 0);
    fer_face_clips_next(c, &k); /* clip b: 3, 6, 9 consecutive, 15 after a gap */
    ck_assert_uint_eq(fer_pretext_windows(k, &k->tracks[0], 3, 1, 1, NULL, 0), 1);
    fer_face_clips_free(c);
    fer_manifest_close(m);
}
END_TEST

START_TEST(test_arrange_puts_middle_at_k_and_permutes_the_rest)
{
    struct fer_rng r;
    fer_rng_seed(&r, 9);
    for (int n = 3; n <= 9; n += 2) {
        int position_counts[FER_PRETEXT_MAX_N][FER_PRETEXT_MAX_N] = {{0}};
        for (int trial = 0; trial < 2000; trial++) {
            int k = trial % n; /* every k equally often, as the tool does */
            int order[FER_PRETEXT_MAX_N], seen[FER_PRETEXT_MAX_N] = {0};
            fer_pretext_arrange(&r, n, k, order);
            ck_assert_int_eq(order[k], (n - 1) / 2);
            for (int p = 0; p < n; p++) {
                ck_assert(order[p] >= 0 && order[p] < n);
                seen[order[p]]++;
                position_counts[order[p]][p]++;
            }
            for (int i = 0; i < n; i++)
                ck_assert_int_eq(seen[i], 1);
        }
        /* A non-middle frame lands on each non-k position about equally:
         * frame 0 over 2000 trials is at position p with probability
         * (1/n) * (n-1)/(n-1)... = (n-1)/n * 1/(n-1) = 1/n. */
        for (int p = 0; p < n; p++) {
            double expected = 2000.0 / n;
            ck_assert_double_lt(fabs(position_counts[0][p] - expected), 5 * sqrt(expected));
        }
    }
}
END_TEST

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

START_TEST(test_every_arrangement_enumerated_once)
{
    for (int n = 3; n <= 7; n += 2) {
        uint64_t total = fer_pretext_arrangements(n);
        ck_assert_uint_eq(total, n == 3 ? 6 : n == 5 ? 120 : 5040);
        uint64_t per_k = total / (uint64_t)n;
        /* Distinct, valid, middle at a / (n-1)!. Encode each as a base-n
         * number to check distinctness. */
        uint64_t *codes = malloc(total * sizeof *codes);
        for (uint64_t a = 0; a < total; a++) {
            int order[FER_PRETEXT_MAX_N], seen[FER_PRETEXT_MAX_N] = {0};
            fer_pretext_arrangement(n, a, order);
            ck_assert_int_eq(order[a / per_k], (n - 1) / 2);
            uint64_t code = 0;
            for (int p = 0; p < n; p++) {
                seen[order[p]]++;
                code = code * (uint64_t)n + (uint64_t)order[p];
            }
            for (int i = 0; i < n; i++)
                ck_assert_int_eq(seen[i], 1);
            codes[a] = code;
        }
        qsort(codes, total, sizeof *codes, compare_u64);
        for (uint64_t a = 1; a < total; a++)
            ck_assert_uint_ne(codes[a], codes[a - 1]);
        free(codes);
    }
}
END_TEST

START_TEST(test_held_out_is_stable_and_proportional)
{
    int held = 0;
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "clip%d", i);
        int h = fer_pretext_held_out(1, key, 0.2);
        ck_assert_int_eq(h, fer_pretext_held_out(1, key, 0.2));
        held += h;
    }
    ck_assert_int_gt(held, 1800);
    ck_assert_int_lt(held, 2200);
}
END_TEST

START_TEST(test_bad_manifests)
{
    struct fer_manifest *m = manifest_of("clip\tframe\tcrop\na\t1\tc\n");
    ck_assert_ptr_null(fer_face_clips_new(m));
    ck_assert_str_eq(fer_error(), "no 'track' column (columns: clip frame crop)");
    fer_manifest_close(m);

    m = manifest_of("clip\tframe\ttrack\tcrop\na\t1\t1\tc\nb\t1\t1\tc\na\t2\t1\tc\n");
    struct fer_face_clips *c = fer_face_clips_new(m);
    const struct fer_face_clip *k;
    ck_assert_int_eq(fer_face_clips_next(c, &k), 1);
    ck_assert_int_eq(fer_face_clips_next(c, &k), 1);
    ck_assert_int_eq(fer_face_clips_next(c, &k), -1);
    ck_assert_str_eq(fer_error(), "line 4: rows of clip 'a' are not contiguous");
    fer_face_clips_free(c);
    fer_manifest_close(m);

    m = manifest_of("clip\tframe\ttrack\tcrop\na\tx\t1\tc\n");
    c = fer_face_clips_new(m);
    ck_assert_int_eq(fer_face_clips_next(c, &k), -1);
    ck_assert_str_eq(fer_error(), "line 2: frame 'x' is not a non-negative integer");
    fer_face_clips_free(c);
    fer_manifest_close(m);

    m = manifest_of("clip\tframe\ttrack\tcrop\na\t1\t1\tc\na\t1\t1\tc\n");
    c = fer_face_clips_new(m);
    ck_assert_int_eq(fer_face_clips_next(c, &k), -1);
    ck_assert_str_eq(fer_error(), "clip 'a': track '1' has frame 1 twice");
    fer_face_clips_free(c);
    fer_manifest_close(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pretext");
    TCase *tc = tcase_create("pretext");
    tcase_add_test(tc, test_clips_group_tracks_and_find_step);
    tcase_add_test(tc, test_windows_never_cross_gaps);
    tcase_add_test(tc, test_arrange_puts_middle_at_k_and_permutes_the_rest);
    tcase_add_test(tc, test_every_arrangement_enumerated_once);
    tcase_add_test(tc, test_held_out_is_stable_and_proportional);
    tcase_add_test(tc, test_bad_manifests);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
