#include "check_helpers.h"

#include "error.h"
#include "manifest.h"

#include <string.h>

static struct fer_manifest *open_text(const char *text)
{
    FILE *fp = fmemopen((void *)text, strlen(text), "r");
    return fer_manifest_from_stream(fp, "test.tsv", "base/");
}

START_TEST(test_reads_header_and_rows)
{
    struct fer_manifest *m = open_text("clip\tframe\tpath\na\t1\tx.png\nb\t2\t/abs.png\n");
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(fer_manifest_columns(m), 3);
    ck_assert_int_eq(fer_manifest_find(m, "path"), 2);
    ck_assert_int_eq(fer_manifest_find(m, "label"), -1);
    char **f;
    ck_assert_int_eq(fer_manifest_next(m, &f), 1);
    ck_assert_str_eq(f[0], "a");
    ck_assert_str_eq(f[2], "x.png");
    char path[64];
    ck_assert_int_eq(fer_manifest_resolve(m, f[2], path, sizeof path), 0);
    ck_assert_str_eq(path, "base/x.png");
    ck_assert_int_eq(fer_manifest_next(m, &f), 1);
    ck_assert_int_eq(fer_manifest_resolve(m, f[2], path, sizeof path), 0);
    ck_assert_str_eq(path, "/abs.png");
    ck_assert_int_eq(fer_manifest_next(m, &f), 0);
    fer_manifest_close(m);
}
END_TEST

START_TEST(test_empty_fields_and_crlf)
{
    struct fer_manifest *m = open_text("a\tb\tc\r\n\t\t\r\nx\t\tz");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(fer_manifest_header(m)[2], "c");
    char **f;
    ck_assert_int_eq(fer_manifest_next(m, &f), 1);
    ck_assert_str_eq(f[0], "");
    ck_assert_str_eq(f[2], "");
    ck_assert_int_eq(fer_manifest_next(m, &f), 1); /* last line has no newline */
    ck_assert_str_eq(f[2], "z");
    ck_assert_int_eq(fer_manifest_next(m, &f), 0);
    fer_manifest_close(m);
}
END_TEST

/* Regression (fuzz/fuzz_manifest.c): a CR that does not end the line is
 * inside a field; the writer refuses such fields, so the reader must too. */
START_TEST(test_cr_inside_field_is_an_error)
{
    struct fer_manifest *m = open_text("a\tb\r\n1\t2\r\n\t\r[\n");
    ck_assert_ptr_nonnull(m);
    char **f;
    ck_assert_int_eq(fer_manifest_next(m, &f), 1);
    ck_assert_int_eq(fer_manifest_next(m, &f), -1);
    ck_assert_str_eq(fer_error(), "line 3: CR inside a field");
    fer_manifest_close(m);
}
END_TEST

START_TEST(test_wrong_field_count_names_line)
{
    struct fer_manifest *m = open_text("a\tb\n1\t2\n1\t2\t3\n");
    char **f;
    ck_assert_int_eq(fer_manifest_next(m, &f), 1);
    ck_assert_int_eq(fer_manifest_next(m, &f), -1);
    ck_assert_str_eq(fer_error(), "line 3: 3 fields, header has 2");
    fer_manifest_close(m);
}
END_TEST

START_TEST(test_bad_headers)
{
    ck_assert_ptr_null(open_text(""));
    ck_assert_str_eq(fer_error(), "empty manifest (no header line)");
    ck_assert_ptr_null(open_text("a\t\tb\n"));
    ck_assert_str_eq(fer_error(), "line 1: column 2 has an empty name");
    ck_assert_ptr_null(open_text("a\tb\ta\n"));
    ck_assert_str_eq(fer_error(), "line 1: column 'a' appears twice");
    static const char nul[] = "a\0b\n";
    FILE *fp = fmemopen((void *)nul, sizeof nul - 1, "r");
    ck_assert_ptr_null(fer_manifest_from_stream(fp, "x", NULL));
    ck_assert_str_eq(fer_error(), "line 1: NUL byte");
    fclose(fp);
}
END_TEST

START_TEST(test_require_lists_columns)
{
    struct fer_manifest *m = open_text("clip\tframe\n");
    ck_assert_int_eq(fer_manifest_require(m, "path"), -1);
    ck_assert_str_eq(fer_error(), "no 'path' column (columns: clip frame)");
    fer_manifest_close(m);
}
END_TEST

START_TEST(test_writer_round_trip_and_rejects_tabs)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&buf, &size);
    const char *cols[] = {"clip", "path"};
    struct fer_manifest_writer *w = fer_manifest_writer_new(fp, cols, 2);
    ck_assert_ptr_nonnull(w);
    const char *row[] = {"c1", NULL};
    ck_assert_int_eq(fer_manifest_write(w, row), 0);
    const char *bad[] = {"c\t1", "p"};
    ck_assert_int_eq(fer_manifest_write(w, bad), -1);
    ck_assert_int_eq(fer_manifest_writer_close(w), 0);
    fclose(fp);
    ck_assert_str_eq(buf, "clip\tpath\nc1\t\n");
    free(buf);
    const char *dup[] = {"a", "a"};
    ck_assert_ptr_null(fer_manifest_writer_new(stdout, dup, 2));
}
END_TEST

START_TEST(test_layout_appends_and_replaces)
{
    const char *in[] = {"clip", "track", "path"};
    const char *extra[] = {"track", "crop"};
    struct fer_manifest_layout l;
    ck_assert_int_eq(fer_manifest_layout_init(&l, in, 3, extra, 2), 0);
    ck_assert_uint_eq(l.n_out, 4);
    ck_assert_str_eq(l.columns[3], "crop");
    char *fields[] = {"c", "old", "p"};
    const char *values[] = {"7", "x.png"};
    const char *const *row = fer_manifest_layout_row(&l, fields, values);
    ck_assert_str_eq(row[1], "7");
    ck_assert_str_eq(row[3], "x.png");
    fer_manifest_layout_free(&l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");
    tcase_add_test(tc, test_reads_header_and_rows);
    tcase_add_test(tc, test_empty_fields_and_crlf);
    tcase_add_test(tc, test_cr_inside_field_is_an_error);
    tcase_add_test(tc, test_wrong_field_count_names_line);
    tcase_add_test(tc, test_bad_headers);
    tcase_add_test(tc, test_require_lists_columns);
    tcase_add_test(tc, test_writer_round_trip_and_rejects_tabs);
    tcase_add_test(tc, test_layout_appends_and_replaces);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
