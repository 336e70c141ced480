/* json.h - a small, strict JSON parser and writer (RFC 8259).
 *
 * Written for file headers that come from untrusted files (the safetensors
 * header of a weight file, man 5 fer-weights), so the parser is strict and
 * bounded rather than forgiving:
 *   - the whole input must be one JSON value, with only JSON whitespace
 *     (space, TAB, LF, CR) around it: trailing garbage is an error;
 *   - strings must be valid UTF-8 (no overlong forms, no UTF-16 surrogates,
 *     nothing above U+10FFFF) without raw control characters; escapes are
 *     the eight of RFC 8259 plus \uXXXX, with surrogate pairs joined into
 *     one code point and a lone surrogate refused;
 *   - numbers follow the RFC grammar exactly (no "+1", "01", ".5", "1.",
 *     NaN or Infinity);
 *   - nesting depth and input size are limited (fer_json_limits);
 *   - duplicate object keys are kept, in order, and can be found with
 *     fer_json_find_duplicate (RFC 8259 leaves them undefined; a caller that
 *     needs unique keys refuses them).
 * Every read is bounds-checked; the parser is fuzzed (fuzz/fuzz_json.c).
 * Memory: a parsed tree takes up to about 40 bytes per input byte (the
 * worst case is an array of one-digit numbers, 2 input bytes and ~80 bytes
 * of tree each); fer_json_limits.max_values bounds it independently of the
 * input size.
 */
#ifndef FER_JSON_H
#define FER_JSON_H

#include <stddef.h>
#include <stdint.h>

enum fer_json_type {
    FER_JSON_NULL,
    FER_JSON_FALSE,
    FER_JSON_TRUE,
    FER_JSON_NUMBER,
    FER_JSON_STRING,
    FER_JSON_ARRAY,
    FER_JSON_OBJECT,
};

struct fer_json_member;

/* One parsed value. Everything it points to belongs to the tree and is freed
 * by fer_json_free on the root. */
struct fer_json {
    enum fer_json_type type;
    size_t offset; /* byte offset of the value in the input, for messages */
    /* STRING: length in bytes; ARRAY: number of items; OBJECT: number of
     * members; NUMBER: length of the number's text. */
    size_t length;
    union {
        /* NUMBER: the number exactly as written (NUL-terminated), so that
         * integers beyond 2^53 are not rounded through a double. */
        char *number;
        /* STRING: decoded UTF-8, NUL-terminated; may contain a NUL byte
         * if the input had \u0000 (compare length with strlen to tell). */
        char *string;
        struct fer_json *items;          /* ARRAY */
        struct fer_json_member *members; /* OBJECT, in input order */
    } u;
};

struct fer_json_member {
    char *key; /* decoded, NUL-terminated */
    size_t key_length;
    struct fer_json value;
};

struct fer_json_limits {
    size_t max_size;   /* input bytes; 0 means FER_JSON_DEFAULT_MAX_SIZE */
    int max_depth;     /* nested arrays/objects; 0 means FER_JSON_DEFAULT_MAX_DEPTH */
    size_t max_values; /* values in the tree (a bound on its memory); 0: no limit */
};

enum {
    FER_JSON_DEFAULT_MAX_DEPTH = 64,
    FER_JSON_DEFAULT_MAX_SIZE = 100000000, /* the safetensors header limit */
};

/* Parse text[0..size) (need not be NUL-terminated) into a newly allocated
 * tree. limits may be NULL for the defaults. Returns the root, owned by the
 * caller (fer_json_free), or NULL with fer_error() set to one line naming
 * the byte offset: "JSON: byte 17: expected ':' after an object key". */
struct fer_json *fer_json_parse(const char *text, size_t size,
                                const struct fer_json_limits *limits);

/* Free a tree returned by fer_json_parse. NULL is allowed. */
void fer_json_free(struct fer_json *root);

/* The value of the first member named key (NUL-terminated) in an object, or
 * NULL if there is none or v is not an object. Linear in the member count. */
const struct fer_json *fer_json_get(const struct fer_json *object, const char *key);

/* The first member of an object whose key also appears earlier, or NULL if
 * all keys are distinct (or v is not an object). O(n log n), so a hostile
 * object with a million keys costs milliseconds, not hours. */
const struct fer_json_member *fer_json_find_duplicate(const struct fer_json *object);

/* A NUMBER that is an integer written without fraction or exponent, within
 * int64_t. Returns 0 with *out set, or -1 (no message) otherwise. */
int fer_json_to_int64(const struct fer_json *v, int64_t *out);

/* A NUMBER as a double (strtod in the C locale). Returns 0, or -1 if v is
 * not a number or does not fit a finite double. */
int fer_json_to_double(const struct fer_json *v, double *out);

/* A short name for a type, for messages: "null", "false", "number", ... */
const char *fer_json_type_name(enum fer_json_type type);

/* The writer builds compact JSON (no spaces, like serde_json and Python's
 * json.dumps(separators=(",", ":"))) into a growing buffer. Commas and
 * nesting are tracked, so the calls read like the document. After any
 * error (out of memory, invalid UTF-8 in a string, a value where a key is
 * required, too deep) the writer stays failed and fer_json_writer_finish
 * reports it. */
enum { FER_JSON_WRITER_MAX_DEPTH = 64 };

struct fer_json_writer {
    char *buf; /* owned until finish */
    size_t length, capacity;
    int depth;
    int failed;
    /* Per level: 'o' object expecting a key, 'v' object expecting the value
     * of a key, 'a' array; plus whether a comma is needed before the next
     * item. */
    char kind[FER_JSON_WRITER_MAX_DEPTH + 1];
    unsigned char has_items[FER_JSON_WRITER_MAX_DEPTH + 1];
};

void fer_json_writer_init(struct fer_json_writer *w);
void fer_json_write_begin_object(struct fer_json_writer *w);
void fer_json_write_end_object(struct fer_json_writer *w);
void fer_json_write_begin_array(struct fer_json_writer *w);
void fer_json_write_end_array(struct fer_json_writer *w);
/* An object key; the next call writes its value. */
void fer_json_write_key(struct fer_json_writer *w, const char *key);
/* A string of length bytes (may contain NUL, written as \u0000). Escapes
 * '"', '\\' and control characters as serde_json does (\b \f \n \r \t, else
 * \u00XX); other bytes are copied, and must be valid UTF-8. */
void fer_json_write_string_n(struct fer_json_writer *w, const char *s, size_t length);
void fer_json_write_string(struct fer_json_writer *w, const char *s);
void fer_json_write_int64(struct fer_json_writer *w, int64_t v);
/* A finite double in the shortest form that reads back exactly. */
void fer_json_write_double(struct fer_json_writer *w, double v);
void fer_json_write_bool(struct fer_json_writer *w, int v);
void fer_json_write_null(struct fer_json_writer *w);

/* Finish: returns the NUL-terminated text (owned by the caller, free()) with
 * its length in *length, or NULL with fer_error() set if any call failed or
 * the document is incomplete. The writer is reset either way. */
char *fer_json_writer_finish(struct fer_json_writer *w, size_t *length);

/* Release a writer without finishing (after an error elsewhere). */
void fer_json_writer_discard(struct fer_json_writer *w);

#endif
