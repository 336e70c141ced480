/* test_train_log.c - the training log TSV: header, rows, --resume cut. */
#include "check_helpers.h"
#include "train_log.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

START_TEST(test_write_rows)
{
    char *dir = fer_test_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/log.tsv", dir);
    const char *extra[] = {"val_loss", "val_accuracy"};
    struct fer_train_log *l = fer_train_log_open(path, extra, 2, -1);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(fer_train_log_write(l, 0, 10, 1.5, 0.25, 0.1, 2.0, NULL), 0);
    /* Rows are flushed as they are written. */
    ck_assert_str_eq(slurp(path), "epoch\tstep\tloss\taccuracy\tlr\tseconds\tval_loss\t"
                                  "val_accuracy\n0\t10\t1.5\t0.25\t0.1\t2.000\t\t\n");
    double v[2] = {0.75, NAN};
    ck_assert_int_eq(fer_train_log_write(l, 1, 20, 1, 0.5, 0.05, 3.25, v), 0);
    ck_assert_int_eq(fer_train_log_close(l), 0);
    ck_assert_str_eq(slurp(path), "epoch\tstep\tloss\taccuracy\tlr\tseconds\tval_loss\t"
                                  "val_accuracy\n0\t10\t1.5\t0.25\t0.1\t2.000\t\t\n"
                                  "1\t20\t1\t0.5\t0.05\t3.250\t0.75\t\n");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}
END_TEST

START_TEST(test_resume_cuts_rows)
{
    char *dir = fer_test_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/log.tsv", dir);
    const char *head = "epoch\tstep\tloss\taccuracy\tlr\tseconds\n";
    char text[512];
    snprintf(text, sizeof text, "%s0\t5\t1\t0\t1\t1\n0\t10\t1\t0\t1\t2\n1\t15\t1\t0\t1\t3\n"
                                "1\t2", head); /* a line cut short by kill -9 */
    spit(path, text);
    struct fer_train_log *l = fer_train_log_open(path, NULL, 0, 10);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(fer_train_log_write(l, 1, 15, 2, 0.5, 1, 4, NULL), 0);
    ck_assert_int_eq(fer_train_log_close(l), 0);
    snprintf(text, sizeof text, "%s0\t5\t1\t0\t1\t1\n0\t10\t1\t0\t1\t2\n"
                                "1\t15\t2\t0.5\t1\t4.000\n", head);
    ck_assert_str_eq(slurp(path), text);

    /* Resuming at step 0 keeps only the header; a missing log is created. */
    l = fer_train_log_open(path, NULL, 0, 0);
    ck_assert_ptr_nonnull(l);
    fer_train_log_close(l);
    ck_assert_str_eq(slurp(path), head);
    char other[300];
    snprintf(other, sizeof other, "%s/new.tsv", dir);
    l = fer_train_log_open(other, NULL, 0, 7);
    ck_assert_ptr_nonnull(l);
    fer_train_log_close(l);
    ck_assert_str_eq(slurp(other), head);

    /* Another tool's log (different columns) is refused, untouched. */
    spit(path, "a\tb\n1\t2\n");
    const char *extra[] = {"val_accuracy"};
    ck_assert_ptr_null(fer_train_log_open(path, extra, 1, 3));
    ck_assert_ptr_nonnull(strstr(fer_error(), "has columns"));
    ck_assert_str_eq(slurp(path), "a\tb\n1\t2\n");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}
END_TEST

START_TEST(test_open_errors)
{
    ck_assert_ptr_null(fer_train_log_open("/nonexistent-dir/log.tsv", NULL, 0, -1));
    ck_assert_ptr_nonnull(strstr(fer_error(), "/nonexistent-dir/log.tsv"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train_log");
    TCase *tc = tcase_create("train_log");
    tcase_add_test(tc, test_write_rows);
    tcase_add_test(tc, test_resume_cuts_rows);
    tcase_add_test(tc, test_open_errors);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
