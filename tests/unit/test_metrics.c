#include "check_helpers.h"

#include "error.h"
#include "labels.h"
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NEAR(a, b) ck_assert_double_eq_tol((a), (b), 1e-9)

/* Hand-computed case, classes a b c d:
 *            pred a  b  c  d
 *   true a       4  1  0  0     support 5
 *   true b       1  2  1  0     support 4
 *   true c       0  0  0  0     no samples, predicted once
 *   true d       0  0  0  0     no samples, never predicted
 * overall 6/9; a: P = R = F1 = 4/5; b: P = 2/3, R = 1/2, F1 = 4/7;
 * c: P = 0/1 = 0, R = 0 (no support), F1 = 0; d: all 0 (nothing at all).
 * average accuracy = (4/5 + 1/2) / 2 = 0.65: c and d have no recall and are
 * left out, not averaged in as zeros. */
static void fill_hand(struct fer_confusion *c)
{
    static const char *const names[] = {"a", "b", "c", "d"};
    ck_assert_int_eq(fer_confusion_init(c, 4, names), 0);
    static const int pairs[][3] = {{0, 0, 4}, {0, 1, 1}, {1, 0, 1}, {1, 1, 2}, {1, 2, 1}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        for (int k = 0; k < pairs[i][2]; k++)
            ck_assert_int_eq(fer_confusion_add(c, pairs[i][0], pairs[i][1]), 0);
}

START_TEST(test_hand_computed)
{
    struct fer_confusion c;
    fill_hand(&c);
    struct fer_metrics m;
    ck_assert_int_eq(fer_metrics_compute(&c, &m), 0);
    ck_assert_uint_eq(m.total, 9);
    NEAR(m.overall_accuracy, 6.0 / 9);
    NEAR(m.average_accuracy, 0.65);
    ck_assert_int_eq(m.classes_with_support, 2);
    NEAR(m.cls[0].precision, 0.8);
    NEAR(m.cls[0].recall, 0.8);
    NEAR(m.cls[0].f1, 0.8);
    NEAR(m.cls[1].precision, 2.0 / 3);
    NEAR(m.cls[1].recall, 0.5);
    NEAR(m.cls[1].f1, 4.0 / 7);
    NEAR(m.cls[2].precision, 0);
    NEAR(m.cls[2].recall, 0);
    NEAR(m.cls[2].f1, 0);
    ck_assert_uint_eq(m.cls[2].support, 0);
    ck_assert_uint_eq(m.cls[2].predicted, 1);
    NEAR(m.cls[3].f1, 0);
    ck_assert_uint_eq(m.cls[3].support, 0);
    fer_confusion_free(&c);
}
END_TEST

static char *capture(int (*write)(FILE *, const struct fer_confusion *),
                     const struct fer_confusion *c)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&buf, &size);
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(write(fp, c), 0);
    fclose(fp);
    return buf;
}

START_TEST(test_write_metrics_tsv)
{
    struct fer_confusion c;
    fill_hand(&c);
    char *text = capture(fer_metrics_write_tsv, &c);
    const char *want = "metric\tvalue\n"
                       "overall_accuracy\t0.666667\n"
                       "average_accuracy\t0.650000\n"
                       "precision_a\t0.800000\nrecall_a\t0.800000\nf1_a\t0.800000\nsupport_a\t5\n"
                       "precision_b\t0.666667\nrecall_b\t0.500000\nf1_b\t0.571429\nsupport_b\t4\n"
                       "precision_c\t0.000000\nrecall_c\t0.000000\nf1_c\t0.000000\nsupport_c\t0\n"
                       "precision_d\t0.000000\nrecall_d\t0.000000\nf1_d\t0.000000\nsupport_d\t0\n";
    ck_assert_str_eq(text, want);
    free(text);
    fer_confusion_free(&c);
}
END_TEST

START_TEST(test_confusion_tsv_round_trip)
{
    struct fer_confusion c, back;
    fill_hand(&c);
    char *text = capture(fer_confusion_write_tsv, &c);
    ck_assert_str_eq(text, "true\ta\tb\tc\td\na\t4\t1\t0\t0\nb\t1\t2\t1\t0\n"
                           "c\t0\t0\t0\t0\nd\t0\t0\t0\t0\n");
    char *dir = fer_test_tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/cm.tsv", dir);
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    ck_assert_int_eq(fer_confusion_read_tsv(path, &back), 0);
    ck_assert_int_eq(back.n_classes, 4);
    ck_assert_str_eq(back.names[3], "d");
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            ck_assert_uint_eq(fer_confusion_at(&back, i, j), fer_confusion_at(&c, i, j));
    fer_confusion_free(&back);

    /* Bad files are errors with a line number. */
    fp = fopen(path, "w");
    fputs("true\ta\tb\na\t1\tx\nb\t0\t1\n", fp);
    fclose(fp);
    ck_assert_int_eq(fer_confusion_read_tsv(path, &back), -1);
    ck_assert_str_eq(fer_error(), "line 2: bad count 'x'");
    fp = fopen(path, "w");
    fputs("true\ta\tb\nb\t1\t0\na\t0\t1\n", fp);
    fclose(fp);
    ck_assert_int_eq(fer_confusion_read_tsv(path, &back), -1);
    ck_assert_str_eq(fer_error(), "line 2: row 'b' where 'a' was expected");
    fp = fopen(path, "w");
    fputs("true\ta\tb\na\t1\t-1\nb\t0\t1\n", fp);
    fclose(fp);
    ck_assert_int_eq(fer_confusion_read_tsv(path, &back), -1);
    fp = fopen(path, "w");
    fputs("metric\tvalue\n", fp);
    fclose(fp);
    ck_assert_int_eq(fer_confusion_read_tsv(path, &back), -1);
    unlink(path);
    rmdir(dir);
    free(dir);
    free(text);
    fer_confusion_free(&c);
}
END_TEST

START_TEST(test_init_and_add_errors)
{
    struct fer_confusion c;
    ck_assert_int_eq(fer_confusion_init(&c, 8, NULL), 0);
    ck_assert_str_eq(c.names[5], "happiness");
    ck_assert_int_eq(fer_confusion_find(&c, "surprise"), 7);
    ck_assert_int_eq(fer_confusion_add(&c, 8, 0), -1);
    ck_assert_str_eq(fer_error(), "true class 8 out of range 0..7");
    ck_assert_int_eq(fer_confusion_add(&c, 0, -1), -1);
    struct fer_metrics m;
    ck_assert_int_eq(fer_metrics_compute(&c, &m), -1);
    ck_assert_str_eq(fer_error(), "no samples");
    fer_confusion_free(&c);
    ck_assert_int_eq(fer_confusion_init(&c, 3, NULL), -1);
    static const char *const dup[] = {"x", "y", "x"};
    ck_assert_int_eq(fer_confusion_init(&c, 3, dup), -1);
    static const char *const tab[] = {"x", "y\tz"};
    ck_assert_int_eq(fer_confusion_init(&c, 2, tab), -1);
}
END_TEST

START_TEST(test_merge)
{
    struct fer_confusion a, b, other;
    fill_hand(&a);
    fill_hand(&b);
    ck_assert_int_eq(fer_confusion_merge(&a, &b), 0);
    ck_assert_uint_eq(fer_confusion_at(&a, 0, 0), 8);
    ck_assert_uint_eq(fer_confusion_total(&a), 18);
    ck_assert_int_eq(fer_confusion_init(&other, 8, NULL), 0);
    ck_assert_int_eq(fer_confusion_merge(&a, &other), -1);
    fer_confusion_free(&a);
    fer_confusion_free(&b);
    fer_confusion_free(&other);
}
END_TEST

START_TEST(test_mean_std)
{
    /* numpy: np.std([0.9, 1.0, 0.95, 0.85], ddof=1) = 0.06454972243679027 */
    const double x[] = {0.9, 1.0, 0.95, 0.85};
    double mean, std;
    ck_assert_int_eq(fer_stats_mean_std(x, 4, &mean, &std), 0);
    NEAR(mean, 0.925);
    NEAR(std, 0.06454972243679027);
    ck_assert_int_eq(fer_stats_mean_std(x, 1, &mean, &std), 0);
    NEAR(std, 0);
    ck_assert_int_eq(fer_stats_mean_std(x, 0, &mean, &std), -1);
}
END_TEST

START_TEST(test_folds_tsv)
{
    struct fer_metrics a = {.overall_accuracy = 0.9, .average_accuracy = 0.8};
    struct fer_metrics b = {.overall_accuracy = 1.0, .average_accuracy = 0.6};
    const struct fer_metrics *folds[] = {&a, &b};
    char *buf = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&buf, &size);
    ck_assert_int_eq(fer_metrics_write_folds_tsv(fp, folds, 2), 0);
    fclose(fp);
    /* std of {0.9, 1.0} with n - 1: 0.1 / sqrt(2); of {0.8, 0.6}: 0.2 / sqrt(2). */
    ck_assert_str_eq(buf, "metric\tmean\tstd\tfold0\tfold1\n"
                          "overall_accuracy\t0.950000\t0.070711\t0.900000\t1.000000\n"
                          "average_accuracy\t0.700000\t0.141421\t0.800000\t0.600000\n");
    free(buf);
    ck_assert_int_eq(fer_metrics_write_folds_tsv(stdout, folds, 0), -1);
}
END_TEST

START_TEST(test_read_stream)
{
    static const char text[] = "true\tx\ty\nx\t1\t2\ny\t3\t4\n";
    FILE *fp = fmemopen((void *)text, sizeof text - 1, "rb");
    struct fer_confusion c;
    ck_assert_int_eq(fer_confusion_read_stream(fp, "mem", &c), 0);
    fclose(fp);
    ck_assert_uint_eq(fer_confusion_at(&c, 1, 0), 3);
    ck_assert_uint_eq(fer_confusion_total(&c), 10);
    fer_confusion_free(&c);
}
END_TEST

static int parse_list(char *s, double *out, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
        out[n++] = strtod(tok, NULL);
    return n;
}

/* The oracle: scikit-learn's figures for random label vectors, written by
 * scripts/gen-metrics-fixtures.py. */
START_TEST(test_against_sklearn)
{
    const char *root = getenv("FER_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/metrics/sklearn.tsv", root ? root : ".");
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open %s (set FER_ROOT)", path);
    char line[65536];
    int cases = 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        char *field[10], *save = NULL;
        int nf = 0;
        for (char *t = strtok_r(line, "\t", &save); t && nf < 10; t = strtok_r(NULL, "\t", &save))
            field[nf++] = t;
        ck_assert_int_eq(nf, 10);
        int k = atoi(field[1]);
        static double yt[4096], yp[4096], p[16], r[16], f[16], s[16];
        int n = parse_list(field[2], yt, 4096);
        ck_assert_int_eq(parse_list(field[3], yp, 4096), n);
        char names[8][4];
        const char *np[8];
        for (int i = 0; i < k; i++) {
            snprintf(names[i], sizeof names[i], "c%d", i);
            np[i] = names[i];
        }
        struct fer_confusion c;
        ck_assert_int_eq(fer_confusion_init(&c, k, np), 0);
        for (int i = 0; i < n; i++)
            ck_assert_int_eq(fer_confusion_add(&c, (int)yt[i], (int)yp[i]), 0);
        struct fer_metrics m;
        ck_assert_int_eq(fer_metrics_compute(&c, &m), 0);
        NEAR(m.overall_accuracy, strtod(field[4], NULL));
        NEAR(m.average_accuracy, strtod(field[5], NULL));
        ck_assert_int_eq(parse_list(field[6], p, 16), k);
        parse_list(field[7], r, 16);
        parse_list(field[8], f, 16);
        parse_list(field[9], s, 16);
        for (int i = 0; i < k; i++) {
            NEAR(m.cls[i].precision, p[i]);
            NEAR(m.cls[i].recall, r[i]);
            NEAR(m.cls[i].f1, f[i]);
            ck_assert_uint_eq(m.cls[i].support, (uint64_t)s[i]);
        }
        fer_confusion_free(&c);
        cases++;
    }
    fclose(fp);
    ck_assert_int_ge(cases, 10);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_hand_computed);
    tcase_add_test(tc, test_write_metrics_tsv);
    tcase_add_test(tc, test_confusion_tsv_round_trip);
    tcase_add_test(tc, test_init_and_add_errors);
    tcase_add_test(tc, test_merge);
    tcase_add_test(tc, test_mean_std);
    tcase_add_test(tc, test_against_sklearn);
    tcase_add_test(tc, test_folds_tsv);
    tcase_add_test(tc, test_read_stream);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
