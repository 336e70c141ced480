#include "check_helpers.h"

#include "error.h"
#include "json.h"

#include <stdio.h>
#include <string.h>

static struct fer_json *parse(const char *text)
{
    return fer_json_parse(text, strlen(text), NULL);
}

/* The parse must fail, with a message containing `cause`. */
static void refuse(const char *text, const char *cause)
{
    struct fer_json *v = parse(text);
    ck_assert_msg(v == NULL, "accepted: %s", text);
    ck_assert_msg(strstr(fer_error(), cause) != NULL, "%s: message '%s' lacks '%s'", text,
                  fer_error(), cause);
}

START_TEST(test_parses_nested_document)
{
    struct fer_json *v =
        parse(" {\"a\" : [1, -2.5e3, true, false, null, \"x\"],\n\t\"b\":{}, \"c\":[]}\r\n");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->type, FER_JSON_OBJECT);
    ck_assert_uint_eq(v->length, 3);
    const struct fer_json *a = fer_json_get(v, "a");
    ck_assert_int_eq(a->type, FER_JSON_ARRAY);
    ck_assert_uint_eq(a->length, 6);
    int64_t i;
    ck_assert_int_eq(fer_json_to_int64(&a->u.items[0], &i), 0);
    ck_assert_int_eq(i, 1);
    double d;
    ck_assert_int_eq(fer_json_to_double(&a->u.items[1], &d), 0);
    ck_assert(d == -2500.0);
    ck_assert_int_eq(fer_json_to_int64(&a->u.items[1], &i), -1);
    ck_assert_int_eq(a->u.items[2].type, FER_JSON_TRUE);
    ck_assert_int_eq(a->u.items[3].type, FER_JSON_FALSE);
    ck_assert_int_eq(a->u.items[4].type, FER_JSON_NULL);
    ck_assert_str_eq(a->u.items[5].u.string, "x");
    ck_assert_uint_eq(a->u.items[5].offset, 39);
    ck_assert_int_eq(fer_json_get(v, "b")->type, FER_JSON_OBJECT);
    ck_assert_uint_eq(fer_json_get(v, "c")->length, 0);
    ck_assert_ptr_null(fer_json_get(v, "d"));
    ck_assert_ptr_null(fer_json_find_duplicate(v));
    fer_json_free(v);

    v = parse("7");
    ck_assert_int_eq(v->type, FER_JSON_NUMBER);
    ck_assert_str_eq(v->u.number, "7");
    fer_json_free(v);
}
END_TEST

START_TEST(test_string_escapes_decode_to_utf8)
{
    struct fer_json *v = parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
    ck_assert_str_eq(v->u.string, "q\" b\\ s/ \b\f\n\r\t");
    fer_json_free(v);
    v = parse("\"\\u00e9\\u20AC\\ud83d\\ude00\"");
    ck_assert_str_eq(v->u.string, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    ck_assert_uint_eq(v->length, 9);
    fer_json_free(v);
    v = parse("\"a\\u0000b\""); /* an embedded NUL is kept, length tells */
    ck_assert_uint_eq(v->length, 3);
    ck_assert_uint_eq(strlen(v->u.string), 1);
    fer_json_free(v);
    v = parse("\"caf\xC3\xA9 \xF0\x9F\x98\x80\""); /* raw UTF-8 passes through */
    ck_assert_str_eq(v->u.string, "caf\xC3\xA9 \xF0\x9F\x98\x80");
    fer_json_free(v);
}
END_TEST

START_TEST(test_bad_strings_refused)
{
    refuse("\"abc", "unterminated string");
    refuse("\"abc\\\"", "unterminated string");
    refuse("\"a\tb\"", "control character");
    refuse("\"\\x\"", "invalid escape");
    refuse("\"\\u12\"", "four hex digits");
    refuse("\"\\udc00\"", "lone low surrogate");
    refuse("\"\\ud800\"", "high surrogate");
    refuse("\"\\ud800\\u0041\"", "high surrogate");
    refuse("\"\xC0\x80\"", "invalid UTF-8");         /* overlong NUL */
    refuse("\"\xE0\x80\xAF\"", "invalid UTF-8");     /* overlong '/' */
    refuse("\"\xED\xA0\x80\"", "invalid UTF-8");     /* a surrogate in UTF-8 */
    refuse("\"\xF4\x90\x80\x80\"", "invalid UTF-8"); /* above U+10FFFF */
    refuse("\"\xC3\"", "invalid UTF-8");             /* truncated sequence */
    refuse("\"\xFF\"", "invalid UTF-8");
}
END_TEST

START_TEST(test_number_grammar)
{
    static const char *const good[] = {"0", "-0", "10", "1.5", "-1.5e-3", "1E+2", "0.0e0"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct fer_json *v = parse(good[i]);
        ck_assert_msg(v != NULL, "%s: %s", good[i], fer_error());
        fer_json_free(v);
    }
    static const char *const bad[] = {"+1", "01", ".5", "1.", "1e", "1e+", "-", "--1",
                                      "NaN", "Infinity", "0x10", "1.5.2", "- 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fer_json *v = parse(bad[i]);
        ck_assert_msg(v == NULL, "accepted %s", bad[i]);
    }
}
END_TEST

START_TEST(test_int64_bounds)
{
    struct {
        const char *text;
        int ok;
        int64_t value;
    } cases[] = {
        {"9223372036854775807", 1, INT64_MAX},
        {"-9223372036854775808", 1, INT64_MIN},
        {"9223372036854775808", 0, 0},
        {"-9223372036854775809", 0, 0},
        {"18446744073709551616", 0, 0},
        {"1e2", 0, 0},
        {"1.0", 0, 0},
        {"-0", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fer_json *v = parse(cases[i].text);
        int64_t x = 42;
        int rc = fer_json_to_int64(v, &x);
        ck_assert_msg((rc == 0) == cases[i].ok, "%s", cases[i].text);
        if (cases[i].ok)
            ck_assert_int_eq(x, cases[i].value);
        fer_json_free(v);
    }
    struct fer_json *v = parse("1e999");
    double d;
    ck_assert_int_eq(fer_json_to_double(v, &d), -1);
    fer_json_free(v);
}
END_TEST

START_TEST(test_structure_errors)
{
    refuse("", "unexpected end of input");
    refuse("   ", "unexpected end of input");
    refuse("{} x", "trailing characters");
    refuse("1 2", "trailing characters");
    refuse("{\"a\":1,}", "expected a string key");
    refuse("[1,]", "expected a JSON value");
    refuse("[1 2]", "expected ',' or ']'");
    refuse("{\"a\" 1}", "expected ':'");
    refuse("{\"a\":1 \"b\":2}", "expected ',' or '}'");
    refuse("{1:2}", "expected a string key");
    refuse("[1", "unterminated array");
    refuse("{\"a\":1", "unterminated object");
    refuse("tru", "expected a JSON value");
    refuse("nul", "expected a JSON value");
    refuse("'a'", "expected a JSON value");
    /* an error deep inside frees what was built around it (ASan checks) */
    refuse("{\"a\":{\"b\":[1,{\"c\":x}]}}", "expected a JSON value");
    refuse("[[1,2],[3,\"\\q\"]]", "invalid escape");
    refuse("-x", "expected a digit");
    /* the message names the byte */
    ck_assert_ptr_null(parse("[1, x]"));
    ck_assert_str_eq(fer_error(), "JSON: byte 4: expected a JSON value");
}
END_TEST

START_TEST(test_depth_and_size_limits)
{
    char deep[200];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    struct fer_json *v = parse(deep); /* exactly the default limit */
    ck_assert_ptr_nonnull(v);
    fer_json_free(v);
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    refuse(deep, "nested deeper than 64 levels");

    struct fer_json_limits small = {.max_size = 4, .max_depth = 2};
    ck_assert_ptr_null(fer_json_parse("12345", 5, &small));
    ck_assert_str_eq(fer_error(), "JSON: 5 bytes, more than the limit of 4");
    ck_assert_ptr_null(fer_json_parse("[[[]]]", 6, &(struct fer_json_limits){.max_depth = 2}));
    v = fer_json_parse("[[]]", 4, &small);
    ck_assert_ptr_nonnull(v);
    fer_json_free(v);
    struct fer_json_limits few = {.max_values = 3};
    v = fer_json_parse("[1,2]", 5, &few);
    ck_assert_ptr_nonnull(v);
    fer_json_free(v);
    ck_assert_ptr_null(fer_json_parse("[1,2,3]", 7, &few));
    ck_assert_str_eq(fer_error(), "JSON: byte 5: more than 3 values");
    /* not NUL-terminated: the parser stops at size */
    v = fer_json_parse("[1]xyz", 3, NULL);
    ck_assert_ptr_nonnull(v);
    fer_json_free(v);
}
END_TEST

START_TEST(test_duplicate_keys_found)
{
    struct fer_json *v = parse("{\"b\":1,\"a\":2,\"c\":3,\"a\":4,\"b\":5,\"a\":6}");
    ck_assert_uint_eq(v->length, 6);
    const struct fer_json_member *d = fer_json_find_duplicate(v);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_eq(d, &v->u.members[3]); /* the first repeat in input order */
    ck_assert_str_eq(d->key, "a");
    int64_t x;
    fer_json_to_int64(fer_json_get(v, "a"), &x); /* get finds the first */
    ck_assert_int_eq(x, 2);
    fer_json_free(v);
    /* keys differing after an embedded NUL are different */
    v = parse("{\"a\\u0000x\":1,\"a\\u0000y\":2,\"a\":3}");
    ck_assert_ptr_null(fer_json_find_duplicate(v));
    fer_json_free(v);
}
END_TEST

static char *finish(struct fer_json_writer *w)
{
    size_t n;
    char *text = fer_json_writer_finish(w, &n);
    if (text != NULL)
        ck_assert_uint_eq(n, strlen(text));
    return text;
}

START_TEST(test_writer_compact_and_escaped)
{
    struct fer_json_writer w;
    fer_json_writer_init(&w);
    fer_json_write_begin_object(&w);
    fer_json_write_key(&w, "k\"1");
    fer_json_write_begin_array(&w);
    fer_json_write_int64(&w, -3);
    fer_json_write_int64(&w, INT64_MAX);
    fer_json_write_double(&w, 0.1);
    fer_json_write_double(&w, 1e300);
    fer_json_write_bool(&w, 1);
    fer_json_write_null(&w);
    fer_json_write_end_array(&w);
    fer_json_write_key(&w, "s");
    fer_json_write_string_n(&w, "a\\b\n\x01/\x7f\xC3\xA9\0z", 11);
    fer_json_write_key(&w, "e");
    fer_json_write_begin_object(&w);
    fer_json_write_end_object(&w);
    fer_json_write_end_object(&w);
    char *text = finish(&w);
    ck_assert_str_eq(text, "{\"k\\\"1\":[-3,9223372036854775807,0.1,1e+300,true,null],"
                           "\"s\":\"a\\\\b\\n\\u0001/\x7f\xC3\xA9\\u0000z\",\"e\":{}}");
    /* what we write, we read back to the same values */
    struct fer_json *v = parse(text);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(fer_json_get(v, "s")->length, 11);
    ck_assert_mem_eq(fer_json_get(v, "s")->u.string, "a\\b\n\x01/\x7f\xC3\xA9\0z", 11);
    double d;
    fer_json_to_double(&fer_json_get(v, "k\"1")->u.items[2], &d);
    ck_assert(d == 0.1);
    fer_json_free(v);
    free(text);
}
END_TEST

START_TEST(test_writer_misuse_fails)
{
    struct fer_json_writer w;
    fer_json_writer_init(&w);
    fer_json_write_begin_object(&w);
    fer_json_write_int64(&w, 1); /* a value without a key */
    ck_assert_ptr_null(finish(&w));
    ck_assert_str_eq(fer_error(), "JSON writer: a value where an object key is expected");

    fer_json_writer_init(&w);
    fer_json_write_begin_array(&w);
    ck_assert_ptr_null(finish(&w));
    ck_assert_str_eq(fer_error(), "JSON writer: incomplete document");

    fer_json_writer_init(&w);
    fer_json_write_string(&w, "bad \xC0\x80");
    ck_assert_ptr_null(finish(&w));
    ck_assert_str_eq(fer_error(), "JSON writer: invalid UTF-8 in a string");

    fer_json_writer_init(&w);
    fer_json_write_double(&w, 0.0 / 0.0);
    ck_assert_ptr_null(finish(&w));

    fer_json_writer_init(&w);
    fer_json_write_null(&w);
    fer_json_write_null(&w);
    ck_assert_ptr_null(finish(&w));
    ck_assert_str_eq(fer_error(), "JSON writer: a second top-level value");

    fer_json_writer_init(&w);
    for (int i = 0; i < FER_JSON_WRITER_MAX_DEPTH + 1; i++)
        fer_json_write_begin_array(&w);
    ck_assert_ptr_null(finish(&w));
    ck_assert_str_eq(fer_error(), "JSON writer: nested too deep");
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *parse_case = tcase_create("parse");
    tcase_add_test(parse_case, test_parses_nested_document);
    tcase_add_test(parse_case, test_string_escapes_decode_to_utf8);
    tcase_add_test(parse_case, test_bad_strings_refused);
    tcase_add_test(parse_case, test_number_grammar);
    tcase_add_test(parse_case, test_int64_bounds);
    tcase_add_test(parse_case, test_structure_errors);
    tcase_add_test(parse_case, test_depth_and_size_limits);
    suite_add_tcase(s, parse_case);
    TCase *dup = tcase_create("find_duplicate");
    tcase_add_test(dup, test_duplicate_keys_found);
    suite_add_tcase(s, dup);
    TCase *writer = tcase_create("writer");
    tcase_add_test(writer, test_writer_compact_and_escaped);
    tcase_add_test(writer, test_writer_misuse_fails);
    suite_add_tcase(s, writer);
    return s;
}

int main(void)
{
    return fer_run_suite(json_suite());
}
