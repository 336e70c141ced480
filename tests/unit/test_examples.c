/* test_examples.c - labelled images from a manifest, clip grouping and
 * segment sampling. */
#include "check_helpers.h"
#include "error.h"
#include "examples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *write_manifest(const char *dir, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/m.tsv", dir);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void cleanup(char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}

START_TEST(test_read)
{
    char *dir = fer_test_tmpdir();
    struct fer_examples e;
    /* crop wins over path; synonyms map to canonical labels; empty = -1. */
    char *m = write_manifest(dir, "path\tcrop\tlabel\tclip\n"
                                  "a.png\tc/a.png\thappy\tx\n"
                                  "b.png\t/abs/b.png\t\ty\n");
    ck_assert_int_eq(fer_examples_read(m, 1, &e), 0);
    ck_assert_uint_eq(e.n, 2);
    char want[300];
    snprintf(want, sizeof want, "%s/c/a.png", dir);
    ck_assert_str_eq(e.paths[0], want);
    ck_assert_str_eq(e.paths[1], "/abs/b.png");
    ck_assert_int_eq(e.labels[0], 5);
    ck_assert_int_eq(e.labels[1], -1);
    ck_assert_str_eq(e.clips[1], "y");
    ck_assert_str_eq(e.rows[1][0], "b.png");
    ck_assert_uint_eq(e.lines[1], 3);
    fer_examples_free(&e);

    m = write_manifest(dir, "path\tlabel\na.png\thappyy\n");
    ck_assert_int_eq(fer_examples_read(m, 0, &e), -1);
    ck_assert_str_eq(fer_error(), "line 2: unknown label 'happyy'");
    m = write_manifest(dir, "file\tlabel\na.png\thappy\n");
    ck_assert_int_eq(fer_examples_read(m, 0, &e), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "no 'crop' or 'path' column"));
    m = write_manifest(dir, "path\tlabel\n\thappy\n");
    ck_assert_int_eq(fer_examples_read(m, 0, &e), -1);
    ck_assert_str_eq(fer_error(), "line 2: empty 'path' field");
    cleanup(dir);
}
END_TEST

START_TEST(test_group)
{
    char *dir = fer_test_tmpdir();
    struct fer_examples e;
    char *m = write_manifest(dir, "clip\tpath\tlabel\n"
                                  "b\t1.png\t\n"
                                  "a\t2.png\tsad\n"
                                  "b\t3.png\tsurprise\n"
                                  "a\t4.png\t\n"
                                  "b\t5.png\tsurprise\n");
    ck_assert_int_eq(fer_examples_read(m, 0, &e), 0);
    struct fer_example_groups g;
    ck_assert_int_eq(fer_examples_group(&e, 0, &g), 0);
    ck_assert_uint_eq(g.n, 2); /* b first: order of first appearance */
    ck_assert_uint_eq(g.start[1], 3);
    ck_assert_uint_eq(g.rows[0], 0);
    ck_assert_uint_eq(g.rows[1], 2);
    ck_assert_uint_eq(g.rows[2], 4);
    ck_assert_uint_eq(g.rows[3], 1);
    ck_assert_uint_eq(g.rows[4], 3);
    ck_assert_int_eq(g.labels[0], 7);
    ck_assert_int_eq(g.labels[1], 6);
    fer_example_groups_free(&g);
    ck_assert_int_eq(fer_examples_group(&e, 1, &g), 0);
    ck_assert_uint_eq(g.n, 5);
    ck_assert_int_eq(g.labels[0], -1);
    fer_example_groups_free(&g);
    fer_examples_free(&e);

    m = write_manifest(dir, "clip\tpath\tlabel\nq\t1.png\tsad\nq\t2.png\thappy\n");
    ck_assert_int_eq(fer_examples_read(m, 0, &e), 0);
    ck_assert_int_eq(fer_examples_group(&e, 0, &g), -1);
    ck_assert_str_eq(fer_error(), "clip 'q': labels sadness and happiness");
    fer_examples_free(&e);
    m = write_manifest(dir, "path\tlabel\n1.png\tsad\n");
    ck_assert_int_eq(fer_examples_read(m, 0, &e), 0);
    ck_assert_ptr_null(e.clips);
    ck_assert_int_eq(fer_examples_group(&e, 0, &g), -1);
    fer_examples_free(&e);
    cleanup(dir);
}
END_TEST

/* An empty crop is a frame without a face: kept with a NULL path, in no
 * group and not counted; its label does not join its clip's. */
START_TEST(test_rows_without_a_face)
{
    char *dir = fer_test_tmpdir();
    struct fer_examples e;
    char *m = write_manifest(dir, "clip\tpath\tcrop\tlabel\n"
                                  "a\tf1.png\tc1.png\tsad\n"
                                  "a\tf2.png\t\thappy\n"
                                  "b\tf3.png\t\tsad\n"
                                  "a\tf4.png\tc4.png\tsad\n");
    ck_assert_int_eq(fer_examples_read(m, 1, &e), 0);
    ck_assert_uint_eq(e.n, 4);
    ck_assert_ptr_nonnull(e.paths[0]);
    ck_assert_ptr_null(e.paths[1]);
    ck_assert_ptr_null(e.paths[2]);
    ck_assert_str_eq(e.rows[1][1], "f2.png");
    size_t counts[8];
    fer_examples_count(&e, counts);
    ck_assert_uint_eq(counts[6], 2);
    ck_assert_uint_eq(counts[5], 0);
    struct fer_example_groups g;
    ck_assert_int_eq(fer_examples_group(&e, 0, &g), 0); /* no happy/sad clash */
    ck_assert_uint_eq(g.n, 1);                         /* clip b has no face */
    ck_assert_uint_eq(g.start[1], 2);
    ck_assert_uint_eq(g.rows[0], 0);
    ck_assert_uint_eq(g.rows[1], 3);
    fer_example_groups_free(&g);
    ck_assert_int_eq(fer_examples_group(&e, 1, &g), 0);
    ck_assert_uint_eq(g.n, 2);
    ck_assert_uint_eq(g.rows[1], 3);
    fer_example_groups_free(&g);
    fer_examples_free(&e);
    cleanup(dir);
}
END_TEST

START_TEST(test_sample)
{
    size_t out[4];
    fer_examples_sample(9, 3, NULL, out); /* segments [0,3) [3,6) [6,9) */
    ck_assert_uint_eq(out[0], 1);
    ck_assert_uint_eq(out[1], 4);
    ck_assert_uint_eq(out[2], 7);
    fer_examples_sample(2, 3, NULL, out); /* fewer rows than segments */
    for (int s = 0; s < 3; s++)
        ck_assert_uint_lt(out[s], 2);
    struct fer_rng r;
    fer_rng_seed(&r, 5);
    int seen[10] = {0};
    for (int i = 0; i < 300; i++) {
        fer_examples_sample(10, 3, &r, out); /* [0,3) [3,6) [6,10) */
        ck_assert_uint_lt(out[0], 3);
        ck_assert(out[1] >= 3 && out[1] < 6);
        ck_assert(out[2] >= 6 && out[2] < 10);
        for (int s = 0; s < 3; s++)
            seen[out[s]] = 1;
    }
    for (int i = 0; i < 10; i++)
        ck_assert_msg(seen[i], "row %d never sampled", i);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("examples");
    TCase *tc = tcase_create("examples");
    tcase_add_test(tc, test_read);
    tcase_add_test(tc, test_group);
    tcase_add_test(tc, test_rows_without_a_face);
    tcase_add_test(tc, test_sample);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
