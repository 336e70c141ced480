#include "weights.h"

#include "atomic.h"
#include "error.h"
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* On a little-endian host F32 data are copied as they are; elsewhere (or
 * with FER_WEIGHTS_PORTABLE, which the unit tests use to exercise the
 * big-endian path on a little-endian machine) every element goes through
 * explicit byte loads and stores. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    !defined(FER_WEIGHTS_PORTABLE)
enum { HOST_LITTLE_ENDIAN = 1 };
#else
enum { HOST_LITTLE_ENDIAN = 0 };
#endif

static const struct {
    const char *name;
    enum fer_dtype dtype;
    size_t size;
} dtype_table[] = {
    {"F32", FER_DTYPE_F32, 4}, {"F16", FER_DTYPE_F16, 2}, {"BF16", FER_DTYPE_BF16, 2},
    {"I64", FER_DTYPE_I64, 8}, {"I32", FER_DTYPE_I32, 4},
};
enum { N_DTYPES = sizeof dtype_table / sizeof dtype_table[0] };

const char *fer_dtype_name(enum fer_dtype dtype)
{
    return (unsigned)dtype < N_DTYPES ? dtype_table[dtype].name : "?";
}

static size_t dtype_size(enum fer_dtype dtype)
{
    return dtype_table[dtype].size;
}

/* ---- the in-memory set ---- */

void fer_weights_init(struct fer_weights *w)
{
    memset(w, 0, sizeof *w);
}

void fer_weights_free(struct fer_weights *w)
{
    for (size_t i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    for (size_t i = 0; i < w->n_meta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    free(w->tensors);
    free(w->meta);
    fer_weights_init(w);
}

/* Element count of a shape, or -1 with fer_error() set if a size is
 * negative or the product (in bytes of float32 or 8-byte integers) would
 * overflow. */
static int shape_count(int ndim, const int64_t *shape, size_t *count)
{
    if (ndim < 0 || ndim > FER_WEIGHTS_MAX_DIMS)
        return fer_fail("%d dimensions, at most %d are supported", ndim, FER_WEIGHTS_MAX_DIMS);
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return fer_fail("negative size %" PRId64 " in dimension %d", shape[i], i);
        uint64_t d = (uint64_t)shape[i];
        if (d != 0 && n > (SIZE_MAX / 8) / d)
            return fer_fail("shape has too many elements");
        n *= d;
    }
    *count = (size_t)n;
    return 0;
}

static int grow(void **items, size_t *capacity, size_t count, size_t size)
{
    if (count < *capacity)
        return 0;
    size_t cap = *capacity ? 2 * *capacity : 16;
    void *q = cap <= SIZE_MAX / size ? realloc(*items, cap * size) : NULL;
    if (q == NULL)
        return fer_fail("out of memory");
    *items = q;
    *capacity = cap;
    return 0;
}

const struct fer_weights_tensor *fer_weights_find(const struct fer_weights *w,
                                                  const char *name)
{
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return &w->tensors[i];
    return NULL;
}

struct fer_weights_tensor *fer_weights_add(struct fer_weights *w, const char *name, int ndim,
                                           const int64_t *shape, const float *data)
{
    size_t count;
    if (strcmp(name, "__metadata__") == 0) {
        fer_fail("'__metadata__' is reserved, not a tensor name");
        return NULL;
    }
    if (fer_weights_find(w, name) != NULL) {
        fer_fail("tensor '%s' added twice", name);
        return NULL;
    }
    if (shape_count(ndim, shape, &count) != 0) {
        fer_fail_context("tensor '%s'", name);
        return NULL;
    }
    void *tensors = w->tensors;
    if (grow(&tensors, &w->cap_tensors, w->n_tensors, sizeof *w->tensors) != 0)
        return NULL;
    w->tensors = tensors;
    struct fer_weights_tensor t = {.dtype = FER_DTYPE_F32, .ndim = ndim, .count = count};
    for (int i = 0; i < ndim; i++)
        t.shape[i] = shape[i];
    t.name = strdup(name);
    t.data = count ? calloc(count, sizeof *t.data) : NULL;
    if (t.name == NULL || (count && t.data == NULL)) {
        free(t.name);
        free(t.data);
        fer_fail("out of memory");
        return NULL;
    }
    if (data != NULL && count)
        memcpy(t.data, data, count * sizeof *t.data);
    w->tensors[w->n_tensors] = t;
    return &w->tensors[w->n_tensors++];
}

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape);

const struct fer_weights_tensor *fer_weights_expect(const struct fer_weights *w,
                                                    const char *name, int ndim,
                                                    const int64_t *shape)
{
    const struct fer_weights_tensor *t = fer_weights_find(w, name);
    if (t == NULL) {
        fer_fail("no tensor '%s'", name);
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char have[256], want[256];
        format_shape(have, sizeof have, t->ndim, t->shape);
        format_shape(want, sizeof want, ndim, shape);
        fer_fail("tensor '%s' has shape %s, the model expects %s", name, have, want);
        return NULL;
    }
    return t;
}

int fer_weights_set_meta(struct fer_weights *w, const char *key, const char *value)
{
    char *v = strdup(value);
    if (v == NULL)
        return fer_fail("out of memory");
    for (size_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0) {
            free(w->meta[i].value);
            w->meta[i].value = v;
            return 0;
        }
    char *k = strdup(key);
    void *meta = w->meta;
    if (k == NULL || grow(&meta, &w->cap_meta, w->n_meta, sizeof *w->meta) != 0) {
        free(k);
        free(v);
        return fer_fail("out of memory");
    }
    w->meta = meta;
    w->meta[w->n_meta++] = (struct fer_weights_meta){k, v};
    return 0;
}

const char *fer_weights_get_meta(const struct fer_weights *w, const char *key)
{
    for (size_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0)
            return w->meta[i].value;
    return NULL;
}

/* ---- little-endian element conversion ---- */

static uint16_t load16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t load32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load64(const unsigned char *p)
{
    return (uint64_t)load32(p) | (uint64_t)load32(p + 4) << 32;
}

static float float_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE binary16 to binary32; every half value, subnormals, infinities and
 * NaN payloads included, has an exact float. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    if (exp == 0x1F)
        return float_from_bits(sign | 0x7F800000u | mant << 13);
    if (exp == 0) {
        if (mant == 0)
            return float_from_bits(sign);
        /* subnormal: mant * 2^-24, exact in float */
        float f = (float)mant * 0x1p-24f;
        return sign ? -f : f;
    }
    return float_from_bits(sign | (exp + 112) << 23 | mant << 13);
}

/* Convert n elements of dtype at in to floats. Returns the index of the
 * first integer that has no exact float, or n when all converted. */
static size_t convert_in(enum fer_dtype dtype, const unsigned char *in, size_t n, float *out)
{
    switch (dtype) {
    case FER_DTYPE_F32:
        if (HOST_LITTLE_ENDIAN)
            memcpy(out, in, n * 4);
        else
            for (size_t i = 0; i < n; i++)
                out[i] = float_from_bits(load32(in + 4 * i));
        break;
    case FER_DTYPE_F16:
        for (size_t i = 0; i < n; i++)
            out[i] = half_to_float(load16(in + 2 * i));
        break;
    case FER_DTYPE_BF16:
        for (size_t i = 0; i < n; i++)
            out[i] = float_from_bits((uint32_t)load16(in + 2 * i) << 16);
        break;
    case FER_DTYPE_I64:
        for (size_t i = 0; i < n; i++) {
            int64_t v = (int64_t)load64(in + 8 * i);
            /* 2^63 itself converts but is out of int64 range: compare in
             * double, which holds every float exactly. */
            float f = (float)v;
            if ((double)f >= 0x1p63 || (int64_t)f != v)
                return i;
            out[i] = f;
        }
        break;
    case FER_DTYPE_I32:
        for (size_t i = 0; i < n; i++) {
            int32_t v = (int32_t)load32(in + 4 * i);
            float f = (float)v;
            if ((double)f >= 0x1p31 || (int32_t)f != v)
                return i;
            out[i] = f;
        }
        break;
    }
    return n;
}

/* ---- reading ---- */

/* Where the bytes come from: a buffer, or a stream read sequentially. */
struct source {
    const unsigned char *mem;
    FILE *fp;
    uint64_t size; /* whole file */
    uint64_t pos;
};

static int source_read(struct source *s, void *dst, size_t n)
{
    if (n > s->size - s->pos)
        return fer_fail("unexpected end of file");
    if (s->mem != NULL) {
        memcpy(dst, s->mem + s->pos, n);
    } else if (fread(dst, 1, n, s->fp) != n) {
        if (ferror(s->fp))
            return fer_fail_errno("read error");
        return fer_fail("unexpected end of file (did it change while being read?)");
    }
    s->pos += n;
    return 0;
}

/* One tensor entry of the header, checked. */
struct entry {
    const char *name; /* points into the JSON tree */
    enum fer_dtype dtype;
    int ndim;
    int64_t shape[FER_WEIGHTS_MAX_DIMS];
    size_t count;
    uint64_t begin, end;
};

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, i ? "," : "", shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* A JSON value as it appears, for messages: the number's text or its type. */
static const char *describe(const struct fer_json *v)
{
    return v->type == FER_JSON_NUMBER ? v->u.number : fer_json_type_name(v->type);
}

static int parse_dtype(const struct fer_json *v, struct entry *e)
{
    if (v->type != FER_JSON_STRING)
        return fer_fail("tensor '%s': dtype is %s, not a string", e->name, describe(v));
    for (int i = 0; i < N_DTYPES; i++)
        if (strcmp(v->u.string, dtype_table[i].name) == 0 && v->length == strlen(v->u.string)) {
            e->dtype = dtype_table[i].dtype;
            return 0;
        }
    return fer_fail("tensor '%s': dtype '%.20s' is not supported "
                    "(fer-tools reads F32, F16, BF16, I64, I32)",
                    e->name, v->u.string);
}

static int parse_shape(const struct fer_json *v, struct entry *e)
{
    if (v->type != FER_JSON_ARRAY)
        return fer_fail("tensor '%s': shape is %s, not an array", e->name, describe(v));
    if (v->length > FER_WEIGHTS_MAX_DIMS)
        return fer_fail("tensor '%s': shape has %zu dimensions, at most %d are supported",
                        e->name, v->length, FER_WEIGHTS_MAX_DIMS);
    e->ndim = (int)v->length;
    for (size_t i = 0; i < v->length; i++)
        if (fer_json_to_int64(&v->u.items[i], &e->shape[i]) != 0 || e->shape[i] < 0)
            return fer_fail("tensor '%s': shape[%zu] is %s, not a non-negative integer",
                            e->name, i, describe(&v->u.items[i]));
    if (shape_count(e->ndim, e->shape, &e->count) != 0)
        return fer_fail_context("tensor '%s'", e->name);
    return 0;
}

static int parse_offsets(const struct fer_json *v, struct entry *e)
{
    int64_t b, x;
    if (v->type != FER_JSON_ARRAY || v->length != 2 ||
        fer_json_to_int64(&v->u.items[0], &b) != 0 || b < 0 ||
        fer_json_to_int64(&v->u.items[1], &x) != 0 || x < 0)
        return fer_fail("tensor '%s': data_offsets must be [BEGIN, END], two non-negative "
                        "integers",
                        e->name);
    e->begin = (uint64_t)b;
    e->end = (uint64_t)x;
    return 0;
}

static int parse_entry(const struct fer_json_member *m, struct entry *e, uint64_t data_size)
{
    memset(e, 0, sizeof *e);
    e->name = m->key;
    if (strlen(m->key) != m->key_length)
        return fer_fail("tensor '%s...': name contains a NUL character", m->key);
    const struct fer_json *v = &m->value;
    if (v->type != FER_JSON_OBJECT)
        return fer_fail("tensor '%s': entry is %s, not an object", e->name, describe(v));
    const struct fer_json_member *dup = fer_json_find_duplicate(v);
    if (dup != NULL)
        return fer_fail("tensor '%s': field '%s' appears twice", e->name, dup->key);
    const struct fer_json *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (size_t i = 0; i < v->length; i++) {
        const struct fer_json_member *f = &v->u.members[i];
        if (strcmp(f->key, "dtype") == 0 && f->key_length == 5)
            dtype = &f->value;
        else if (strcmp(f->key, "shape") == 0 && f->key_length == 5)
            shape = &f->value;
        else if (strcmp(f->key, "data_offsets") == 0 && f->key_length == 12)
            offsets = &f->value;
        else
            return fer_fail("tensor '%s': unknown field '%s'", e->name, f->key);
    }
    if (dtype == NULL || shape == NULL || offsets == NULL)
        return fer_fail("tensor '%s': no '%s'", e->name,
                        dtype == NULL ? "dtype" : shape == NULL ? "shape" : "data_offsets");
    if (parse_dtype(dtype, e) != 0 || parse_shape(shape, e) != 0 ||
        parse_offsets(offsets, e) != 0)
        return -1;
    if (e->end < e->begin)
        return fer_fail("tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 ") end before they "
                        "begin",
                        e->name, e->begin, e->end);
    if (e->end > data_size)
        return fer_fail("tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 ") run past the end "
                        "of the data (%" PRIu64 " bytes)",
                        e->name, e->begin, e->end, data_size);
    uint64_t bytes = (uint64_t)e->count * dtype_size(e->dtype); /* no overflow: see shape_count */
    if (e->end - e->begin != bytes) {
        char s[256];
        format_shape(s, sizeof s, e->ndim, e->shape);
        return fer_fail("tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 ") do not match "
                        "shape %s of %s (%" PRIu64 " bytes)",
                        e->name, e->begin, e->end, s, fer_dtype_name(e->dtype), bytes);
    }
    return 0;
}

static int compare_entries(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The byte ranges, sorted, must tile [0, data_size): the reference reader
 * demands the same, and it is what makes every byte of the file accounted
 * for (no hidden payload, no two tensors sharing bytes). */
static int check_tiling(const struct entry *e, size_t n, uint64_t data_size)
{
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].begin > at)
            return fer_fail("tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 ") leave bytes "
                            "[%" PRIu64 ", %" PRIu64 ") of the data unused",
                            e[i].name, e[i].begin, e[i].end, at, e[i].begin);
        if (e[i].begin < at)
            return fer_fail("tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 ") overlap "
                            "tensor '%s' [%" PRIu64 ", %" PRIu64 ")",
                            e[i].name, e[i].begin, e[i].end, e[i - 1].name, e[i - 1].begin,
                            e[i - 1].end);
        at = e[i].end;
    }
    if (at != data_size)
        return fer_fail("the tensors cover %" PRIu64 " bytes of data, but the file has %" PRIu64
                        " after the header",
                        at, data_size);
    return 0;
}

static int parse_metadata(const struct fer_json *v, struct fer_weights *w)
{
    if (v->type != FER_JSON_OBJECT)
        return fer_fail("__metadata__ is %s, not an object", describe(v));
    const struct fer_json_member *dup = fer_json_find_duplicate(v);
    if (dup != NULL)
        return fer_fail("__metadata__: key '%s' appears twice", dup->key);
    for (size_t i = 0; i < v->length; i++) {
        const struct fer_json_member *m = &v->u.members[i];
        if (strlen(m->key) != m->key_length)
            return fer_fail("__metadata__: key '%s...' contains a NUL character", m->key);
        if (m->value.type != FER_JSON_STRING)
            return fer_fail("__metadata__: value of '%s' is %s, not a string", m->key,
                            describe(&m->value));
        if (strlen(m->value.u.string) != m->value.length)
            return fer_fail("__metadata__: value of '%s' contains a NUL character", m->key);
        if (fer_weights_set_meta(w, m->key, m->value.u.string) != 0)
            return -1;
    }
    return 0;
}

/* Check the header and every entry against data_size; fill *entries sorted
 * by offset and the metadata of w. */
static int parse_header(const struct fer_json *root, uint64_t data_size, struct fer_weights *w,
                        struct entry **entries, size_t *n_entries)
{
    if (root->type != FER_JSON_OBJECT)
        return fer_fail("header is %s, not a JSON object", describe(root));
    const struct fer_json_member *dup = fer_json_find_duplicate(root);
    if (dup != NULL)
        return fer_fail("tensor '%s' appears twice in the header", dup->key);
    struct entry *e = malloc((root->length ? root->length : 1) * sizeof *e);
    if (e == NULL)
        return fer_fail("out of memory");
    size_t n = 0;
    for (size_t i = 0; i < root->length; i++) {
        const struct fer_json_member *m = &root->u.members[i];
        int rc = m->key_length == 12 && strcmp(m->key, "__metadata__") == 0
                     ? parse_metadata(&m->value, w)
                     : parse_entry(m, &e[n++], data_size);
        if (rc != 0) {
            free(e);
            return -1;
        }
    }
    qsort(e, n, sizeof *e, compare_entries);
    if (check_tiling(e, n, data_size) != 0) {
        free(e);
        return -1;
    }
    *entries = e;
    *n_entries = n;
    return 0;
}

enum { CHUNK = 1 << 16 };

/* Read one tensor's bytes from the source (positioned at its begin) into a
 * new float array. */
static int load_tensor(struct source *src, const struct entry *e, struct fer_weights_tensor *t)
{
    if (e->count == 0)
        return 0;
    t->data = malloc(e->count * sizeof *t->data);
    if (t->data == NULL)
        return fer_fail("tensor '%s': out of memory for %zu floats", e->name, e->count);
    size_t esize = dtype_size(e->dtype);
    if (src->mem != NULL) {
        size_t bad = convert_in(e->dtype, src->mem + src->pos, e->count, t->data);
        src->pos += e->count * esize;
        if (bad < e->count)
            goto inexact;
        return 0;
    }
    if (e->dtype == FER_DTYPE_F32 && HOST_LITTLE_ENDIAN)
        return source_read(src, t->data, e->count * 4);
    unsigned char buf[CHUNK];
    size_t per = CHUNK / esize;
    for (size_t done = 0; done < e->count;) {
        size_t k = e->count - done < per ? e->count - done : per;
        if (source_read(src, buf, k * esize) != 0)
            return -1;
        size_t bad = convert_in(e->dtype, buf, k, t->data + done);
        if (bad < k)
            goto inexact;
        done += k;
    }
    return 0;
inexact:
    return fer_fail("tensor '%s': %s value has no exact float32 form", e->name,
                    fer_dtype_name(e->dtype));
}

static int read_source(struct source *src, struct fer_weights *w)
{
    fer_weights_init(w);
    if (src->size < 8)
        return fer_fail("file is %" PRIu64 " bytes, too short for a safetensors header",
                        src->size);
    unsigned char len8[8];
    if (source_read(src, len8, 8) != 0)
        return -1;
    uint64_t n = load64(len8);
    if (n > FER_WEIGHTS_MAX_HEADER)
        return fer_fail("header length %" PRIu64 " is over the limit of %d bytes "
                        "(not a safetensors file?)",
                        n, FER_WEIGHTS_MAX_HEADER);
    if (n > src->size - 8)
        return fer_fail("header length %" PRIu64 " runs past the end of the file (%" PRIu64
                        " bytes)",
                        n, src->size);
    char *text = malloc(n ? n : 1);
    if (text == NULL)
        return fer_fail("out of memory");
    if (source_read(src, text, n) != 0) {
        free(text);
        return -1;
    }
    /* A JSON object, like the reference's check: also rejects files that
     * only happen to start with a plausible length. */
    if (n == 0 || text[0] != '{') {
        free(text);
        return fer_fail("header does not start with '{' (not a safetensors file?)");
    }
    /* A real entry is about 12 values in 80 bytes; the cap keeps a hostile
     * 100 MB header of tiny numbers from taking gigabytes of tree, and still
     * allows 300 000 tensors, far more than any model has. */
    struct fer_json *root =
        fer_json_parse(text, n, &(struct fer_json_limits){n, 0, FER_WEIGHTS_MAX_VALUES});
    free(text);
    if (root == NULL)
        return fer_fail_context("header");
    struct entry *e = NULL;
    size_t n_entries = 0;
    int rc = parse_header(root, src->size - 8 - n, w, &e, &n_entries);
    if (rc == 0 && n_entries > 0) {
        w->tensors = calloc(n_entries, sizeof *w->tensors);
        if (w->tensors == NULL)
            rc = fer_fail("out of memory");
        else
            w->cap_tensors = n_entries;
    }
    for (size_t i = 0; rc == 0 && i < n_entries; i++) {
        struct fer_weights_tensor *t = &w->tensors[i];
        w->n_tensors++;
        t->dtype = e[i].dtype;
        t->ndim = e[i].ndim;
        memcpy(t->shape, e[i].shape, sizeof t->shape);
        t->count = e[i].count;
        t->name = strdup(e[i].name);
        if (t->name == NULL)
            rc = fer_fail("out of memory");
        else
            rc = load_tensor(src, &e[i], t);
    }
    free(e);
    fer_json_free(root);
    if (rc != 0)
        fer_weights_free(w);
    return rc;
}

int fer_weights_read_memory(const void *data, size_t size, struct fer_weights *w)
{
    struct source src = {.mem = data, .size = size};
    return read_source(&src, w);
}

/* A pipe or other stream: read it all, then parse from memory. */
static int read_stream(FILE *fp, struct fer_weights *w)
{
    size_t len = 0, cap = 0;
    unsigned char *buf = NULL;
    for (;;) {
        if (cap - len < CHUNK) {
            size_t grown = cap ? 2 * cap : 1 << 20;
            void *p = grown > cap ? realloc(buf, grown) : NULL;
            if (p == NULL) {
                free(buf);
                return fer_fail("out of memory");
            }
            buf = p;
            cap = grown;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    int rc = ferror(fp) ? fer_fail_errno("read error") : fer_weights_read_memory(buf, len, w);
    free(buf);
    return rc;
}

int fer_weights_read(const char *path, struct fer_weights *w)
{
    fer_weights_init(w);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return fer_fail("%s", strerror(errno));
    struct stat st;
    int rc;
    if (fstat(fileno(fp), &st) != 0) {
        rc = fer_fail_errno("cannot stat");
    } else if (S_ISDIR(st.st_mode)) {
        rc = fer_fail("is a directory");
    } else if (!S_ISREG(st.st_mode)) {
        rc = read_stream(fp, w);
    } else {
        struct source src = {.fp = fp, .size = (uint64_t)st.st_size};
        rc = read_source(&src, w);
    }
    fclose(fp);
    return rc;
}

/* ---- writing ---- */

/* Float to the integer dtype it is written as; -1 if it is not an integer
 * in range. */
static int integer_value(float f, enum fer_dtype dtype, int64_t *out)
{
    double d = f;
    double limit = dtype == FER_DTYPE_I64 ? 0x1p63 : 0x1p31;
    if (!(d >= -limit && d < limit) || d != floor(d))
        return -1;
    *out = (int64_t)d;
    return 0;
}

static void store64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The dtype a tensor is written as. */
static enum fer_dtype written_dtype(const struct fer_weights_tensor *t)
{
    return t->dtype == FER_DTYPE_I64 || t->dtype == FER_DTYPE_I32 ? t->dtype : FER_DTYPE_F32;
}

static int write_tensor_data(FILE *fp, const struct fer_weights_tensor *t)
{
    enum fer_dtype dtype = written_dtype(t);
    if (dtype == FER_DTYPE_F32 && HOST_LITTLE_ENDIAN)
        return t->count && fwrite(t->data, 4, t->count, fp) != t->count ? -1 : 0;
    unsigned char buf[CHUNK];
    size_t esize = dtype_size(dtype), per = CHUNK / esize;
    for (size_t done = 0; done < t->count;) {
        size_t k = t->count - done < per ? t->count - done : per;
        for (size_t i = 0; i < k; i++) {
            float f = t->data[done + i];
            int64_t v = 0;
            if (dtype == FER_DTYPE_F32) {
                uint32_t u;
                memcpy(&u, &f, 4);
                v = u;
            } else if (integer_value(f, dtype, &v) != 0) {
                return fer_fail("tensor '%s': value %g at index %zu is not an integer "
                                "representable as %s",
                                t->name, f, done + i, fer_dtype_name(dtype));
            }
            unsigned char le[8];
            store64(le, (uint64_t)v);
            memcpy(buf + i * esize, le, esize);
        }
        if (fwrite(buf, esize, k, fp) != k)
            return -1;
        done += k;
    }
    return 0;
}

/* qsort has no context argument in C11; the base is per thread. */
static _Thread_local const struct fer_weights *sort_base;

static int compare_tensor_names(const void *a, const void *b)
{
    return strcmp(sort_base->tensors[*(const size_t *)a].name,
                  sort_base->tensors[*(const size_t *)b].name);
}

static int compare_meta_keys(const void *a, const void *b)
{
    return strcmp(sort_base->meta[*(const size_t *)a].key, sort_base->meta[*(const size_t *)b].key);
}

/* Indices 0..n-1 of w's tensors or metadata, sorted by the comparator. */
static size_t *sorted_indices(const struct fer_weights *w, size_t n,
                              int (*cmp)(const void *, const void *))
{
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (order == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_base = w;
    qsort(order, n, sizeof *order, cmp);
    return order;
}

static int check_tensor(const struct fer_weights_tensor *t)
{
    size_t count;
    if (t->name == NULL || strcmp(t->name, "__metadata__") == 0)
        return fer_fail("a tensor has no name, or the reserved name '__metadata__'");
    if ((unsigned)t->dtype >= N_DTYPES)
        return fer_fail("tensor '%s': invalid dtype %d", t->name, (int)t->dtype);
    if (shape_count(t->ndim, t->shape, &count) != 0)
        return fer_fail_context("tensor '%s'", t->name);
    if (count != t->count || (count && t->data == NULL))
        return fer_fail("tensor '%s': count %zu or data do not match its shape", t->name,
                        t->count);
    return 0;
}

/* The JSON header, padded with spaces to a multiple of 8. */
static char *build_header(const struct fer_weights *w, const size_t *order,
                          const size_t *meta_order, size_t *length)
{
    struct fer_json_writer j;
    fer_json_writer_init(&j);
    fer_json_write_begin_object(&j);
    if (w->n_meta > 0) {
        fer_json_write_key(&j, "__metadata__");
        fer_json_write_begin_object(&j);
        for (size_t i = 0; i < w->n_meta; i++) {
            fer_json_write_key(&j, w->meta[meta_order[i]].key);
            fer_json_write_string(&j, w->meta[meta_order[i]].value);
        }
        fer_json_write_end_object(&j);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const struct fer_weights_tensor *t = &w->tensors[order[i]];
        enum fer_dtype dtype = written_dtype(t);
        uint64_t bytes = (uint64_t)t->count * dtype_size(dtype);
        fer_json_write_key(&j, t->name);
        fer_json_write_begin_object(&j);
        fer_json_write_key(&j, "dtype");
        fer_json_write_string(&j, fer_dtype_name(dtype));
        fer_json_write_key(&j, "shape");
        fer_json_write_begin_array(&j);
        for (int d = 0; d < t->ndim; d++)
            fer_json_write_int64(&j, t->shape[d]);
        fer_json_write_end_array(&j);
        fer_json_write_key(&j, "data_offsets");
        fer_json_write_begin_array(&j);
        fer_json_write_int64(&j, (int64_t)offset);
        fer_json_write_int64(&j, (int64_t)(offset + bytes));
        fer_json_write_end_array(&j);
        fer_json_write_end_object(&j);
        offset += bytes;
    }
    fer_json_write_end_object(&j);
    size_t n;
    char *text = fer_json_writer_finish(&j, &n);
    if (text == NULL)
        return NULL;
    size_t padded = (n + 7) / 8 * 8;
    char *p = realloc(text, padded + 1);
    if (p == NULL) {
        free(text);
        fer_fail("out of memory");
        return NULL;
    }
    memset(p + n, ' ', padded - n);
    p[padded] = '\0';
    *length = padded;
    return p;
}

static int write_stream(FILE *fp, const struct fer_weights *w)
{
    for (size_t i = 0; i < w->n_tensors; i++)
        if (check_tensor(&w->tensors[i]) != 0)
            return -1;
    size_t *order = sorted_indices(w, w->n_tensors, compare_tensor_names);
    size_t *meta_order = sorted_indices(w, w->n_meta, compare_meta_keys);
    char *header = NULL;
    size_t n = 0;
    int rc = 0;
    if (order == NULL || meta_order == NULL)
        rc = fer_fail("out of memory");
    for (size_t i = 1; rc == 0 && i < w->n_tensors; i++)
        if (strcmp(w->tensors[order[i - 1]].name, w->tensors[order[i]].name) == 0)
            rc = fer_fail("tensor '%s' appears twice", w->tensors[order[i]].name);
    for (size_t i = 1; rc == 0 && i < w->n_meta; i++)
        if (strcmp(w->meta[meta_order[i - 1]].key, w->meta[meta_order[i]].key) == 0)
            rc = fer_fail("metadata key '%s' appears twice", w->meta[meta_order[i]].key);
    if (rc == 0 && (header = build_header(w, order, meta_order, &n)) == NULL)
        rc = -1;
    if (rc == 0 && n > FER_WEIGHTS_MAX_HEADER)
        rc = fer_fail("header of %zu bytes is over the limit of %d", n, FER_WEIGHTS_MAX_HEADER);
    if (rc == 0) {
        unsigned char len8[8];
        store64(len8, n);
        if (fwrite(len8, 1, 8, fp) != 8 || fwrite(header, 1, n, fp) != n)
            rc = fer_fail_errno("write error");
    }
    for (size_t i = 0; rc == 0 && i < w->n_tensors; i++) {
        fer_error_clear();
        if (write_tensor_data(fp, &w->tensors[order[i]]) != 0)
            rc = fer_error()[0] ? -1 : fer_fail_errno("write error");
    }
    free(header);
    free(order);
    free(meta_order);
    return rc;
}

int fer_weights_write(const char *path, const struct fer_weights *w)
{
    struct fer_atomic a;
    if (fer_atomic_open(&a, path) != 0)
        return -1;
    if (write_stream(a.fp, w) != 0) {
        fer_atomic_abort(&a);
        return -1;
    }
    return fer_atomic_commit(&a, 0);
}

int fer_weights_write_memory(const struct fer_weights *w, void **data, size_t *size)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (fp == NULL)
        return fer_fail_errno("open_memstream");
    int rc = write_stream(fp, w);
    if (fclose(fp) != 0 && rc == 0)
        rc = fer_fail_errno("write error");
    if (rc != 0) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = len;
    return 0;
}
