/* Fuzz the JSON parser and writer: any bytes are parsed or refused with a
 * message; a parsed tree, written back with the writer, must parse again to
 * the same strings and structure (so the writer's escaping is right). */
#include "error.h"
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void write_value(struct fer_json_writer *w, const struct fer_json *v)
{
    double d;
    switch (v->type) {
    case FER_JSON_NULL: fer_json_write_null(w); break;
    case FER_JSON_FALSE: fer_json_write_bool(w, 0); break;
    case FER_JSON_TRUE: fer_json_write_bool(w, 1); break;
    case FER_JSON_NUMBER:
        fer_json_write_double(w, fer_json_to_double(v, &d) == 0 ? d : 0.0);
        break;
    case FER_JSON_STRING: fer_json_write_string_n(w, v->u.string, v->length); break;
    case FER_JSON_ARRAY:
        fer_json_write_begin_array(w);
        for (size_t i = 0; i < v->length; i++)
            write_value(w, &v->u.items[i]);
        fer_json_write_end_array(w);
        break;
    case FER_JSON_OBJECT:
        fer_json_write_begin_object(w);
        for (size_t i = 0; i < v->length; i++) {
            /* keys with NUL cannot go through fer_json_write_key */
            const struct fer_json_member *m = &v->u.members[i];
            fer_json_write_key(w, strlen(m->key) == m->key_length ? m->key : "nul");
            write_value(w, &m->value);
        }
        fer_json_write_end_object(w);
        fer_json_find_duplicate(v);
        break;
    }
}

static int same(const struct fer_json *a, const struct fer_json *b)
{
    if (a->type != b->type)
        return a->type == FER_JSON_NUMBER && b->type == FER_JSON_NUMBER;
    switch (a->type) {
    case FER_JSON_STRING:
        return a->length == b->length && memcmp(a->u.string, b->u.string, a->length) == 0;
    case FER_JSON_ARRAY:
        if (a->length != b->length)
            return 0;
        for (size_t i = 0; i < a->length; i++)
            if (!same(&a->u.items[i], &b->u.items[i]))
                return 0;
        return 1;
    case FER_JSON_OBJECT:
        if (a->length != b->length)
            return 0;
        for (size_t i = 0; i < a->length; i++)
            if (!same(&a->u.members[i].value, &b->u.members[i].value))
                return 0;
        return 1;
    default:
        return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fer_error_clear();
    struct fer_json *v = fer_json_parse((const char *)data, size, NULL);
    if (v == NULL) {
        if (fer_error()[0] == '\0')
            abort();
        return 0;
    }
    int64_t i;
    if (v->type == FER_JSON_NUMBER)
        fer_json_to_int64(v, &i);
    struct fer_json_writer w;
    fer_json_writer_init(&w);
    write_value(&w, v);
    size_t n;
    char *text = fer_json_writer_finish(&w, &n);
    if (text == NULL)
        abort(); /* the writer refuses nothing the parser accepts */
    struct fer_json *again = fer_json_parse(text, n, NULL);
    if (again == NULL || !same(v, again))
        abort();
    fer_json_free(again);
    fer_json_free(v);
    free(text);
    return 0;
}
