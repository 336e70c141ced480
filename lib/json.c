#include "json.h"

#include "error.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const unsigned char *s;
    size_t n;
    size_t pos;
    int max_depth;
    size_t values, max_values;
};

static int parse_error(const struct parser *p, const char *what)
{
    return fer_fail("JSON: byte %zu: %s", p->pos, what);
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is invalid
 * (RFC 3629: shortest form only, no surrogates, at most U+10FFFF). */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F; /* U+D800..DFFF are surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static void skip_space(struct parser *p)
{
    while (p->pos < p->n) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* Four hex digits at p->pos; returns the value or -1. */
static long read_hex4(struct parser *p)
{
    if (p->n - p->pos < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p->s[p->pos + (size_t)i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    p->pos += 4;
    return v;
}

/* The \uXXXX escape after "\u" (and its low surrogate, if it is a high one). */
static int parse_unicode_escape(struct parser *p, uint32_t *cp)
{
    long hi = read_hex4(p);
    if (hi < 0)
        return parse_error(p, "\\u must be followed by four hex digits");
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return parse_error(p, "lone low surrogate in \\u escape");
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = (uint32_t)hi;
        return 0;
    }
    if (p->n - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
        return parse_error(p, "high surrogate not followed by a \\u low surrogate");
    p->pos += 2;
    long lo = read_hex4(p);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return parse_error(p, "high surrogate not followed by a \\u low surrogate");
    *cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
    return 0;
}

/* A string starting at the opening quote. The decoded text is never longer
 * than the raw text, so one allocation of the raw length suffices. */
static int parse_string(struct parser *p, char **out, size_t *out_len)
{
    size_t start = ++p->pos, end = start;
    while (end < p->n && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n)
        return parse_error(p, "unterminated string");
    char *buf = malloc(end - start + 1);
    if (buf == NULL)
        return fer_fail("out of memory");
    size_t len = 0;
    while (p->pos < end) {
        unsigned char c = p->s[p->pos];
        if (c < 0x20) {
            free(buf);
            return parse_error(p, "control character in string (must be escaped)");
        }
        if (c >= 0x80) {
            size_t k = utf8_length(p->s + p->pos, end - p->pos);
            if (k == 0) {
                free(buf);
                return parse_error(p, "invalid UTF-8 in string");
            }
            memcpy(buf + len, p->s + p->pos, k);
            len += k;
            p->pos += k;
            continue;
        }
        p->pos++;
        if (c != '\\') {
            buf[len++] = (char)c;
            continue;
        }
        char e = (char)p->s[p->pos++];
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = e != '\0' ? strchr(from, e) : NULL;
        if (hit != NULL) {
            buf[len++] = to[hit - from];
        } else if (e == 'u') {
            uint32_t cp = 0;
            if (parse_unicode_escape(p, &cp) != 0) {
                free(buf);
                return -1;
            }
            len += utf8_encode(cp, buf + len);
        } else {
            p->pos--;
            free(buf);
            return parse_error(p, "invalid escape in string");
        }
        if (p->pos > end) { /* an escape ran past the quote we found */
            free(buf);
            return parse_error(p, "unterminated string");
        }
    }
    buf[len] = '\0';
    p->pos = end + 1;
    *out = buf;
    *out_len = len;
    return 0;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(struct parser *p, struct fer_json *v)
{
    size_t start = p->pos, i = p->pos;
    const unsigned char *s = p->s;
    if (i < p->n && s[i] == '-')
        i++;
    if (i >= p->n || !is_digit(s[i])) {
        p->pos = i;
        return parse_error(p, "expected a digit");
    }
    if (s[i] == '0')
        i++;
    else
        while (i < p->n && is_digit(s[i]))
            i++;
    if (i < p->n && s[i] == '.') {
        i++;
        if (i >= p->n || !is_digit(s[i])) {
            p->pos = i;
            return parse_error(p, "expected a digit after '.'");
        }
        while (i < p->n && is_digit(s[i]))
            i++;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->n || !is_digit(s[i])) {
            p->pos = i;
            return parse_error(p, "expected a digit in the exponent");
        }
        while (i < p->n && is_digit(s[i]))
            i++;
    }
    char *text = malloc(i - start + 1);
    if (text == NULL)
        return fer_fail("out of memory");
    memcpy(text, s + start, i - start);
    text[i - start] = '\0';
    v->type = FER_JSON_NUMBER;
    v->u.number = text;
    v->length = i - start;
    p->pos = i;
    return 0;
}

static int parse_value(struct parser *p, struct fer_json *v, int depth);

/* Grow an array of `size`-byte elements to hold one more than *count. */
static int grow(void **items, size_t *capacity, size_t count, size_t size)
{
    if (count < *capacity)
        return 0;
    size_t cap = *capacity ? 2 * *capacity : 4;
    if (cap > SIZE_MAX / size)
        return fer_fail("out of memory");
    void *q = realloc(*items, cap * size);
    if (q == NULL)
        return fer_fail("out of memory");
    *items = q;
    *capacity = cap;
    return 0;
}

static void free_children(struct fer_json *v);

static int parse_array(struct parser *p, struct fer_json *v, int depth)
{
    size_t capacity = 0;
    v->type = FER_JSON_ARRAY;
    v->u.items = NULL;
    v->length = 0;
    p->pos++;
    skip_space(p);
    if (p->pos < p->n && p->s[p->pos] == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        void *items = v->u.items;
        if (grow(&items, &capacity, v->length, sizeof *v->u.items) != 0)
            return -1;
        v->u.items = items;
        struct fer_json *item = &v->u.items[v->length];
        if (parse_value(p, item, depth + 1) != 0) {
            free_children(item); /* the part of it that was built */
            return -1;
        }
        v->length++;
        skip_space(p);
        if (p->pos >= p->n)
            return parse_error(p, "unterminated array");
        unsigned char c = p->s[p->pos++];
        if (c == ']')
            return 0;
        if (c != ',') {
            p->pos--;
            return parse_error(p, "expected ',' or ']' in an array");
        }
    }
}

static int parse_object(struct parser *p, struct fer_json *v, int depth)
{
    size_t capacity = 0;
    v->type = FER_JSON_OBJECT;
    v->u.members = NULL;
    v->length = 0;
    p->pos++;
    skip_space(p);
    if (p->pos < p->n && p->s[p->pos] == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        skip_space(p);
        if (p->pos >= p->n || p->s[p->pos] != '"')
            return parse_error(p, "expected a string key in an object");
        void *members = v->u.members;
        if (grow(&members, &capacity, v->length, sizeof *v->u.members) != 0)
            return -1;
        v->u.members = members;
        struct fer_json_member *m = &v->u.members[v->length];
        if (parse_string(p, &m->key, &m->key_length) != 0)
            return -1;
        skip_space(p);
        if (p->pos >= p->n || p->s[p->pos] != ':') {
            free(m->key);
            return parse_error(p, "expected ':' after an object key");
        }
        p->pos++;
        if (parse_value(p, &m->value, depth + 1) != 0) {
            free_children(&m->value);
            free(m->key);
            return -1;
        }
        v->length++;
        skip_space(p);
        if (p->pos >= p->n)
            return parse_error(p, "unterminated object");
        unsigned char c = p->s[p->pos++];
        if (c == '}')
            return 0;
        if (c != ',') {
            p->pos--;
            return parse_error(p, "expected ',' or '}' in an object");
        }
    }
}

static int parse_literal(struct parser *p, const char *word, enum fer_json_type type,
                         struct fer_json *v)
{
    size_t len = strlen(word);
    if (p->n - p->pos < len || memcmp(p->s + p->pos, word, len) != 0)
        return parse_error(p, "expected a JSON value");
    p->pos += len;
    v->type = type;
    return 0;
}

/* On failure v is left for the caller to free with free_children: its type
 * and length describe only the children that were completely parsed. */
static int parse_value(struct parser *p, struct fer_json *v, int depth)
{
    memset(v, 0, sizeof *v);
    v->type = FER_JSON_NULL;
    skip_space(p);
    v->offset = p->pos;
    if (p->pos >= p->n)
        return parse_error(p, "unexpected end of input, expected a value");
    if (p->max_values && ++p->values > p->max_values) {
        char what[64];
        snprintf(what, sizeof what, "more than %zu values", p->max_values);
        return parse_error(p, what);
    }
    switch (p->s[p->pos]) {
    case '{':
    case '[':
        if (depth >= p->max_depth) {
            char what[64];
            snprintf(what, sizeof what, "nested deeper than %d levels", p->max_depth);
            return parse_error(p, what);
        }
        return p->s[p->pos] == '{' ? parse_object(p, v, depth) : parse_array(p, v, depth);
    case '"': {
        char *s;
        size_t len;
        if (parse_string(p, &s, &len) != 0)
            return -1;
        v->type = FER_JSON_STRING;
        v->u.string = s;
        v->length = len;
        return 0;
    }
    case 't':
        return parse_literal(p, "true", FER_JSON_TRUE, v);
    case 'f':
        return parse_literal(p, "false", FER_JSON_FALSE, v);
    case 'n':
        return parse_literal(p, "null", FER_JSON_NULL, v);
    default:
        if (p->s[p->pos] != '-' && !is_digit(p->s[p->pos]))
            return parse_error(p, "expected a JSON value");
        return parse_number(p, v);
    }
}

static void free_children(struct fer_json *v)
{
    switch (v->type) {
    case FER_JSON_NUMBER:
        free(v->u.number);
        break;
    case FER_JSON_STRING:
        free(v->u.string);
        break;
    case FER_JSON_ARRAY:
        for (size_t i = 0; i < v->length; i++)
            free_children(&v->u.items[i]);
        free(v->u.items);
        break;
    case FER_JSON_OBJECT:
        for (size_t i = 0; i < v->length; i++) {
            free(v->u.members[i].key);
            free_children(&v->u.members[i].value);
        }
        free(v->u.members);
        break;
    default:
        break;
    }
}

struct fer_json *fer_json_parse(const char *text, size_t size,
                                const struct fer_json_limits *limits)
{
    size_t max_size = limits && limits->max_size ? limits->max_size : FER_JSON_DEFAULT_MAX_SIZE;
    int max_depth = limits && limits->max_depth ? limits->max_depth
                                                : FER_JSON_DEFAULT_MAX_DEPTH;
    if (size > max_size) {
        fer_fail("JSON: %zu bytes, more than the limit of %zu", size, max_size);
        return NULL;
    }
    struct parser p = {(const unsigned char *)text, size, 0, max_depth, 0,
                       limits ? limits->max_values : 0};
    struct fer_json *root = malloc(sizeof *root);
    if (root == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    if (parse_value(&p, root, 0) != 0) {
        fer_json_free(root);
        return NULL;
    }
    skip_space(&p);
    if (p.pos != p.n) {
        parse_error(&p, "trailing characters after the JSON value");
        fer_json_free(root);
        return NULL;
    }
    return root;
}

void fer_json_free(struct fer_json *root)
{
    if (root == NULL)
        return;
    free_children(root);
    free(root);
}

const struct fer_json *fer_json_get(const struct fer_json *object, const char *key)
{
    if (object == NULL || object->type != FER_JSON_OBJECT)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < object->length; i++) {
        const struct fer_json_member *m = &object->u.members[i];
        if (m->key_length == len && memcmp(m->key, key, len) == 0)
            return &m->value;
    }
    return NULL;
}

static int compare_members(const void *a, const void *b)
{
    const struct fer_json_member *x = *(const struct fer_json_member *const *)a;
    const struct fer_json_member *y = *(const struct fer_json_member *const *)b;
    size_t n = x->key_length < y->key_length ? x->key_length : y->key_length;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    if (x->key_length != y->key_length)
        return x->key_length < y->key_length ? -1 : 1;
    return x < y ? -1 : x > y; /* input order among equal keys */
}

static int same_key(const struct fer_json_member *x, const struct fer_json_member *y)
{
    return x->key_length == y->key_length && memcmp(x->key, y->key, x->key_length) == 0;
}

const struct fer_json_member *fer_json_find_duplicate(const struct fer_json *object)
{
    if (object == NULL || object->type != FER_JSON_OBJECT || object->length < 2)
        return NULL;
    size_t n = object->length;
    const struct fer_json_member **sorted = malloc(n * sizeof *sorted);
    const struct fer_json_member *first = NULL;
    if (sorted == NULL) { /* fall back to the quadratic scan rather than fail */
        for (size_t i = 1; i < n && first == NULL; i++)
            for (size_t j = 0; j < i && first == NULL; j++)
                if (same_key(&object->u.members[i], &object->u.members[j]))
                    first = &object->u.members[i];
        return first;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &object->u.members[i];
    qsort(sorted, n, sizeof *sorted, compare_members);
    for (size_t i = 1; i < n; i++)
        /* Within a run of equal keys the order is the input order, so the
         * earliest second occurrence overall is the answer. */
        if (same_key(sorted[i - 1], sorted[i]) && (first == NULL || sorted[i] < first))
            first = sorted[i];
    free(sorted);
    return first;
}

int fer_json_to_int64(const struct fer_json *v, int64_t *out)
{
    if (v == NULL || v->type != FER_JSON_NUMBER)
        return -1;
    const char *s = v->u.number;
    int negative = *s == '-';
    if (negative)
        s++;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    for (; *s; s++) {
        if (!is_digit((unsigned char)*s))
            return -1; /* a fraction or an exponent */
        unsigned d = (unsigned)(*s - '0');
        if (acc > (limit - d) / 10)
            return -1;
        acc = acc * 10 + d;
    }
    *out = negative ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

int fer_json_to_double(const struct fer_json *v, double *out)
{
    if (v == NULL || v->type != FER_JSON_NUMBER)
        return -1;
    errno = 0;
    double d = strtod(v->u.number, NULL);
    if (!isfinite(d))
        return -1;
    *out = d;
    return 0;
}

const char *fer_json_type_name(enum fer_json_type type)
{
    static const char *const names[] = {"null",   "false", "true",  "a number",
                                        "a string", "an array", "an object"};
    return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "?";
}

/* ---- writer ---- */

void fer_json_writer_init(struct fer_json_writer *w)
{
    memset(w, 0, sizeof *w);
}

static void writer_fail(struct fer_json_writer *w, const char *why)
{
    if (!w->failed)
        fer_fail("JSON writer: %s", why);
    w->failed = 1;
}

static void put(struct fer_json_writer *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->capacity - w->length <= n) { /* keep a byte for the final NUL */
        size_t cap = w->capacity ? w->capacity : 256;
        while (cap - w->length <= n) {
            if (cap > SIZE_MAX / 2) {
                writer_fail(w, "out of memory");
                return;
            }
            cap *= 2;
        }
        char *q = realloc(w->buf, cap);
        if (q == NULL) {
            writer_fail(w, "out of memory");
            return;
        }
        w->buf = q;
        w->capacity = cap;
    }
    memcpy(w->buf + w->length, s, n);
    w->length += n;
}

/* Comma and state bookkeeping before any value. Returns 0 if the value may
 * be written. */
static int before_value(struct fer_json_writer *w)
{
    if (w->failed)
        return -1;
    char kind = w->kind[w->depth];
    if (w->depth == 0) {
        if (w->has_items[0]) {
            writer_fail(w, "a second top-level value");
            return -1;
        }
    } else if (kind == 'o') {
        writer_fail(w, "a value where an object key is expected");
        return -1;
    } else if (kind == 'v') {
        w->kind[w->depth] = 'o';
        return 0;
    } else if (w->has_items[w->depth]) {
        put(w, ",", 1);
    }
    w->has_items[w->depth] = 1;
    return 0;
}

static void begin(struct fer_json_writer *w, char open, char kind)
{
    if (before_value(w) != 0)
        return;
    if (w->depth >= FER_JSON_WRITER_MAX_DEPTH) {
        writer_fail(w, "nested too deep");
        return;
    }
    put(w, &open, 1);
    w->depth++;
    w->kind[w->depth] = kind;
    w->has_items[w->depth] = 0;
}

static void end(struct fer_json_writer *w, char close, char kind)
{
    if (w->failed)
        return;
    if (w->depth == 0 || w->kind[w->depth] != kind) {
        writer_fail(w, kind == 'o' ? "end of an object that is not open (or lacks a value)"
                                   : "end of an array that is not open");
        return;
    }
    w->depth--;
    put(w, &close, 1);
}

void fer_json_write_begin_object(struct fer_json_writer *w)
{
    begin(w, '{', 'o');
}

void fer_json_write_end_object(struct fer_json_writer *w)
{
    end(w, '}', 'o');
}

void fer_json_write_begin_array(struct fer_json_writer *w)
{
    begin(w, '[', 'a');
}

void fer_json_write_end_array(struct fer_json_writer *w)
{
    end(w, ']', 'a');
}

static void put_string(struct fer_json_writer *w, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    put(w, "\"", 1);
    size_t i = 0;
    while (i < n && !w->failed) {
        size_t run = i; /* copy plain bytes in runs */
        while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' && u[run] != '\\')
            run++;
        put(w, s + i, run - i);
        i = run;
        if (i >= n)
            break;
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t k = utf8_length(u + i, n - i);
            if (k == 0) {
                writer_fail(w, "invalid UTF-8 in a string");
                return;
            }
            put(w, s + i, k);
            i += k;
            continue;
        }
        char esc[8];
        const char *short_esc = NULL;
        switch (c) {
        case '"': short_esc = "\\\""; break;
        case '\\': short_esc = "\\\\"; break;
        case '\b': short_esc = "\\b"; break;
        case '\f': short_esc = "\\f"; break;
        case '\n': short_esc = "\\n"; break;
        case '\r': short_esc = "\\r"; break;
        case '\t': short_esc = "\\t"; break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            short_esc = esc;
        }
        put(w, short_esc, strlen(short_esc));
        i++;
    }
    put(w, "\"", 1);
}

void fer_json_write_key(struct fer_json_writer *w, const char *key)
{
    if (w->failed)
        return;
    if (w->depth == 0 || w->kind[w->depth] != 'o') {
        writer_fail(w, "a key outside an object, or two keys in a row");
        return;
    }
    if (w->has_items[w->depth])
        put(w, ",", 1);
    w->has_items[w->depth] = 1;
    put_string(w, key, strlen(key));
    put(w, ":", 1);
    w->kind[w->depth] = 'v';
}

void fer_json_write_string_n(struct fer_json_writer *w, const char *s, size_t length)
{
    if (before_value(w) == 0)
        put_string(w, s, length);
}

void fer_json_write_string(struct fer_json_writer *w, const char *s)
{
    fer_json_write_string_n(w, s, strlen(s));
}

void fer_json_write_int64(struct fer_json_writer *w, int64_t v)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%" PRId64, v);
    if (before_value(w) == 0)
        put(w, text, (size_t)n);
}

void fer_json_write_double(struct fer_json_writer *w, double v)
{
    if (!isfinite(v)) {
        writer_fail(w, "NaN or infinity has no JSON form");
        return;
    }
    char text[40];
    int n = 0;
    for (int digits = 1; digits <= 17; digits++) { /* shortest exact form */
        n = snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
    if (before_value(w) == 0)
        put(w, text, (size_t)n);
}

void fer_json_write_bool(struct fer_json_writer *w, int v)
{
    if (before_value(w) == 0)
        put(w, v ? "true" : "false", v ? 4 : 5);
}

void fer_json_write_null(struct fer_json_writer *w)
{
    if (before_value(w) == 0)
        put(w, "null", 4);
}

char *fer_json_writer_finish(struct fer_json_writer *w, size_t *length)
{
    if (!w->failed && (w->depth != 0 || !w->has_items[0]))
        writer_fail(w, "incomplete document");
    if (w->failed) {
        fer_json_writer_discard(w);
        return NULL;
    }
    char *text = w->buf;
    text[w->length] = '\0';
    if (length)
        *length = w->length;
    fer_json_writer_init(w);
    return text;
}

void fer_json_writer_discard(struct fer_json_writer *w)
{
    free(w->buf);
    fer_json_writer_init(w);
}
