#include "check_helpers.h"

#include "error.h"
#include "weights.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A file image: 8-byte little-endian length of header, header, data_len
 * bytes of data (0, 1, 2, ...). */
static unsigned char *make_file(const char *header, size_t data_len, size_t *size)
{
    size_t n = strlen(header);
    *size = 8 + n + data_len;
    unsigned char *buf = malloc(*size);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(buf + 8, header, n);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + n + i] = (unsigned char)i;
    return buf;
}

static void expect_refused_bytes(const unsigned char *buf, size_t size, const char *message)
{
    struct fer_weights w;
    fer_error_clear();
    int rc = fer_weights_read_memory(buf, size, &w);
    ck_assert_msg(rc == -1, "accepted, expected '%s'", message);
    ck_assert_msg(strstr(fer_error(), message) != NULL, "message '%s' lacks '%s'", fer_error(),
                  message);
    ck_assert_uint_eq(w.n_tensors, 0);
    ck_assert_uint_eq(w.n_meta, 0);
}

static void expect_refused(const char *header, size_t data_len, const char *message)
{
    size_t size;
    unsigned char *buf = make_file(header, data_len, &size);
    expect_refused_bytes(buf, size, message);
    free(buf);
}

/* Byte images written by the reference implementation (the expected bytes
 * of the safetensors crate's own serialization tests), rebuilt here from
 * their text: our writer must produce exactly these. */
START_TEST(test_write_matches_reference_bytes)
{
    static const float v[6] = {0, 1, 2, 3, 4, 5};
    struct fer_weights w;
    fer_weights_init(&w);
    fer_weights_add(&w, "attn.0", 3, (int64_t[]){1, 2, 3}, v);
    void *out;
    size_t size;
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), 0);
    static const char header[] =
        "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    ck_assert_uint_eq(sizeof header - 1, 64); /* already a multiple of 8: no padding */
    ck_assert_uint_eq(size, 8 + 64 + 24);
    ck_assert_mem_eq(out, "\x40\0\0\0\0\0\0\0", 8);
    ck_assert_mem_eq((char *)out + 8, header, 64);
    static const unsigned char data[24] = {0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40,
                                           0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40};
    ck_assert_mem_eq((char *)out + 72, data, 24);
    free(out);
    fer_weights_free(&w);

    /* a 4-d shape: the header is 65 bytes, padded with 7 spaces to 72 */
    fer_weights_add(&w, "attn0", 4, (int64_t[]){1, 1, 2, 3}, v);
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), 0);
    ck_assert_uint_eq(size, 8 + 72 + 24);
    ck_assert_mem_eq(out, "\x48\0\0\0\0\0\0\0", 8);
    ck_assert_mem_eq((char *)out + 8,
                     "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}"
                     "       ",
                     72);
    free(out);
    fer_weights_free(&w);

    /* no tensors: "{}" and six spaces */
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), 0);
    ck_assert_uint_eq(size, 16);
    ck_assert_mem_eq(out, "\x08\0\0\0\0\0\0\0{}      ", 16);
    free(out);

    /* metadata only */
    fer_weights_set_meta(&w, "framework", "pt");
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), 0);
    ck_assert_uint_eq(size, 48);
    ck_assert_mem_eq(out, "\x28\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"}}     ", 48);
    free(out);
    fer_weights_free(&w);
}
END_TEST

START_TEST(test_round_trip_in_memory)
{
    struct fer_weights w, r;
    fer_weights_init(&w);
    float conv[2 * 3 * 3 * 3], bias[2] = {-1.5f, 2.25f}, scalar = 7;
    for (int i = 0; i < 54; i++)
        conv[i] = (float)i * 0.01f - 0.2f;
    ck_assert_ptr_nonnull(fer_weights_add(&w, "layer1.0.conv1.weight", 4,
                                          (int64_t[]){2, 3, 3, 3}, conv));
    ck_assert_ptr_nonnull(fer_weights_add(&w, "fc.bias", 1, (int64_t[]){2}, bias));
    struct fer_weights_tensor *t = fer_weights_add(&w, "bn1.num_batches_tracked", 0, NULL,
                                                   &scalar);
    t->dtype = FER_DTYPE_I64;
    ck_assert_ptr_nonnull(fer_weights_add(&w, "empty", 2, (int64_t[]){0, 5}, NULL));
    ck_assert_ptr_nonnull(fer_weights_add(&w, "zeros", 1, (int64_t[]){3}, NULL));
    ck_assert_int_eq(fer_weights_set_meta(&w, "arch", "resnet18"), 0);
    ck_assert_int_eq(fer_weights_set_meta(&w, "classes", "neutral,happiness"), 0);
    ck_assert_int_eq(fer_weights_set_meta(&w, "arch", "cnn-s"), 0); /* replaces */
    ck_assert_uint_eq(w.n_meta, 2);

    void *out;
    size_t size;
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), 0);
    uint64_t n;
    memcpy(&n, out, 8);
    ck_assert_uint_eq(n % 8, 0);
    ck_assert_int_eq(fer_weights_read_memory(out, size, &r), 0);
    ck_assert_uint_eq(r.n_tensors, 5);
    /* data order: sorted by name; the zero-size tensors take no bytes */
    ck_assert_str_eq(r.tensors[0].name, "bn1.num_batches_tracked");
    ck_assert_int_eq(r.tensors[0].dtype, FER_DTYPE_I64);
    ck_assert_int_eq(r.tensors[0].ndim, 0);
    ck_assert_uint_eq(r.tensors[0].count, 1);
    ck_assert(r.tensors[0].data[0] == 7.0f);
    const struct fer_weights_tensor *c = fer_weights_find(&r, "layer1.0.conv1.weight");
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->ndim, 4);
    ck_assert_int_eq(c->shape[1], 3);
    ck_assert_mem_eq(c->data, conv, sizeof conv);
    ck_assert_mem_eq(fer_weights_find(&r, "fc.bias")->data, bias, sizeof bias);
    ck_assert_uint_eq(fer_weights_find(&r, "empty")->count, 0);
    ck_assert_ptr_null(fer_weights_find(&r, "empty")->data);
    ck_assert(fer_weights_find(&r, "zeros")->data[2] == 0.0f);
    ck_assert_ptr_null(fer_weights_find(&r, "nope"));
    ck_assert_ptr_eq(fer_weights_expect(&r, "fc.bias", 1, (int64_t[]){2}),
                     fer_weights_find(&r, "fc.bias"));
    ck_assert_ptr_null(fer_weights_expect(&r, "fc.bias", 1, (int64_t[]){3}));
    ck_assert_str_eq(fer_error(), "tensor 'fc.bias' has shape [2], the model expects [3]");
    ck_assert_ptr_null(fer_weights_expect(&r, "layer1.0.conv1.weight", 2, (int64_t[]){2, 27}));
    ck_assert_str_eq(fer_error(), "tensor 'layer1.0.conv1.weight' has shape [2,3,3,3], the "
                                  "model expects [2,27]");
    ck_assert_ptr_null(fer_weights_expect(&r, "fc.weight", 0, NULL));
    ck_assert_str_eq(fer_error(), "no tensor 'fc.weight'");
    ck_assert_str_eq(fer_weights_get_meta(&r, "arch"), "cnn-s");
    ck_assert_str_eq(fer_weights_get_meta(&r, "classes"), "neutral,happiness");
    ck_assert_ptr_null(fer_weights_get_meta(&r, "seed"));

    /* what we read, we write back to the same bytes */
    void *again;
    size_t size2;
    ck_assert_int_eq(fer_weights_write_memory(&r, &again, &size2), 0);
    ck_assert_uint_eq(size2, size);
    ck_assert_mem_eq(again, out, size);
    free(again);
    free(out);
    fer_weights_free(&r);
    fer_weights_free(&w);
}
END_TEST

START_TEST(test_round_trip_file)
{
    char *dir = fer_test_tmpdir();
    char path[256], missing[256];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    snprintf(missing, sizeof missing, "%s/none.safetensors", dir);
    struct fer_weights w, r;
    fer_weights_init(&w);
    float *big = malloc(100000 * sizeof *big); /* more than one I/O chunk */
    for (int i = 0; i < 100000; i++)
        big[i] = (float)i;
    fer_weights_add(&w, "big", 2, (int64_t[]){1000, 100}, big);
    fer_weights_set_meta(&w, "tool", "test");
    ck_assert_int_eq(fer_weights_write(path, &w), 0);
    ck_assert_int_eq(fer_weights_read(path, &r), 0);
    ck_assert_mem_eq(r.tensors[0].data, big, 100000 * sizeof *big);
    ck_assert_str_eq(fer_weights_get_meta(&r, "tool"), "test");
    fer_weights_free(&r);

    ck_assert_int_eq(fer_weights_read(missing, &r), -1);
    ck_assert_str_eq(fer_error(), "No such file or directory");
    ck_assert_int_eq(fer_weights_read(dir, &r), -1);
    ck_assert_str_eq(fer_error(), "is a directory");

    /* a failed write leaves neither the file nor a temporary */
    w.tensors[0].dtype = FER_DTYPE_I32; /* 0.5 is not an integer */
    w.tensors[0].data[1] = 0.5f;
    ck_assert_int_eq(fer_weights_write(missing, &w), -1);
    ck_assert_str_eq(fer_error(), "tensor 'big': value 0.5 at index 1 is not an integer "
                                  "representable as I32");
    ck_assert_int_eq(access(missing, F_OK), -1);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    system(cmd);
    free(big);
    free(dir);
    fer_weights_free(&w);
}
END_TEST

START_TEST(test_half_types_and_integers_widen)
{
    static const char header[] =
        "{\"h\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[0,12]},"
        "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},"
        "\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[16,32]},"
        "\"j\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[32,36]}}";
    size_t size;
    unsigned char *buf = make_file(header, 36, &size);
    unsigned char *d = buf + 8 + strlen(header);
    static const unsigned char bytes[36] = {
        0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x7c, 0x00, 0x80, /* F16 */
        0x80, 0x3f, 0x49, 0x40,                                                 /* BF16 */
        0x07, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* I64 */
        0x00, 0x00, 0x00, 0x01,                                                 /* I32 */
    };
    memcpy(d, bytes, 36);
    struct fer_weights w;
    ck_assert_int_eq(fer_weights_read_memory(buf, size, &w), 0);
    const float *h = fer_weights_find(&w, "h")->data;
    ck_assert(h[0] == 1.0f && h[1] == -2.0f && h[2] == 65504.0f && h[3] == 0x1p-24f);
    ck_assert(h[4] == INFINITY && h[5] == 0.0f && signbit(h[5]));
    const float *b = fer_weights_find(&w, "b")->data;
    ck_assert(b[0] == 1.0f && b[1] == 3.140625f);
    ck_assert(fer_weights_find(&w, "i")->data[0] == 7.0f);
    ck_assert(fer_weights_find(&w, "i")->data[1] == -2.0f);
    ck_assert(fer_weights_find(&w, "j")->data[0] == 16777216.0f);
    ck_assert_int_eq(fer_weights_find(&w, "h")->dtype, FER_DTYPE_F16);
    fer_weights_free(&w);

    /* integers beyond float precision are refused, not rounded */
    d[32 + 0] = 0x01; /* 2^24 + 1 */
    expect_refused_bytes(buf, size, "tensor 'j': I32 value has no exact float32 form");
    free(buf);
}
END_TEST

START_TEST(test_corrupt_files_refused)
{
    static const char ok[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t size;
    unsigned char *buf = make_file(ok, 8, &size);
    struct fer_weights w;
    ck_assert_int_eq(fer_weights_read_memory(buf, size, &w), 0);
    fer_weights_free(&w);
    /* truncated anywhere: refused */
    for (size_t cut = 0; cut < size; cut++)
        expect_refused_bytes(buf, cut, cut < 8 ? "too short" : cut < 8 + strlen(ok) ?
                             "runs past the end of the file" : "run past the end of the data");
    buf[7] = 0x80; /* 2^63 */
    expect_refused_bytes(buf, size, "header length 9223372036854775862 is over the limit");
    memcpy(buf, "\x00\xe1\xf5\x05\0\0\0\0", 8); /* 100000000: not over, but past the end */
    expect_refused_bytes(buf, size, "header length 100000000 runs past the end of the file");
    free(buf);

    expect_refused("", 0, "does not start with '{'");
    expect_refused("[]", 0, "does not start with '{'");
    expect_refused("{abc}", 0, "header: JSON: byte 1: expected a string key");
    expect_refused("{} x", 0, "header: JSON: byte 3: trailing characters");
    expect_refused("{\"a\":\"\xff\"}", 0, "invalid UTF-8");
    expect_refused(" {}", 0, "does not start with '{'");
}
END_TEST

START_TEST(test_header_rules)
{
    struct {
        const char *header;
        size_t data;
        const char *message;
    } cases[] = {
        {"{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[64,3,7,7],\"data_offsets\":[0,100]}}",
         100,
         "tensor 'conv1.weight': data_offsets [0, 100) do not match shape [64,3,7,7] of F32 "
         "(37632 bytes)"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
         12, "tensor 'b': data_offsets [4, 12) overlap tensor 'a' [0, 8)"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
         8, "overlap tensor 'a'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
         "tensor 'a': data_offsets [4, 12) leave bytes [0, 4) of the data unused"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 9,
         "the tensors cover 8 bytes of data, but the file has 9 after the header"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
         "tensor 'a': data_offsets [0, 16) run past the end of the data (8 bytes)"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8,
         "end before they begin"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
         "tensor 'a': dtype 'F64' is not supported (fer-tools reads F32, F16, BF16, I64, I32)"},
        {"{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "tensor 'a': dtype is 7, not a string"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, "tensor 'a' appears twice in the header"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 0,
         "tensor 'a': data_offsets must be [BEGIN, END], two non-negative integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.0,4]}}", 4,
         "two non-negative integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8,
         "two non-negative integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e400]}}", 4,
         "two non-negative integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}",
         4, "two non-negative integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
         "tensor 'a': shape[0] is -1, not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,4]}}", 4,
         "shape[0] is 2.5, not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,4]}}", 4,
         "shape[0] is a string, not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
         "tensor 'a': shape has 9 dimensions, at most 8 are supported"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}",
         4, "tensor 'a': shape has too many elements"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}", 4,
         "shape is 4, not an array"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'a': no 'shape'"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': no 'dtype'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'a': no 'data_offsets'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
         "tensor 'a': unknown field 'x'"},
        {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         4, "tensor 'a': field 'dtype' appears twice"},
        {"{\"a\":[1,2]}", 0, "tensor 'a': entry is an array, not an object"},
        {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         "name contains a NUL character"},
        {"{\"__metadata__\":{\"seed\":1}}", 0, "__metadata__: value of 'seed' is 1, not a string"},
        {"{\"__metadata__\":{\"a\":\"x\",\"a\":\"y\"}}", 0, "__metadata__: key 'a' appears twice"},
        {"{\"__metadata__\":[]}", 0, "__metadata__ is an array, not an object"},
        {"{\"__metadata__\":{\"a\":\"x\\u0000\"}}", 0, "value of 'a' contains a NUL character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(cases[i].header, cases[i].data, cases[i].message);

    /* accepted: spaces after the object (the writer's padding), tensors in
     * any order in the header, metadata anywhere */
    size_t size;
    unsigned char *buf = make_file("{\"b\":{\"data_offsets\":[4,8],\"shape\":[1],\"dtype\":\"F32\"},"
                                   "\"__metadata__\":{},"
                                   "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
                                   "  \t ",
                                   8, &size);
    struct fer_weights w;
    ck_assert_int_eq(fer_weights_read_memory(buf, size, &w), 0);
    ck_assert_str_eq(w.tensors[0].name, "a"); /* file data order */
    ck_assert_str_eq(w.tensors[1].name, "b");
    fer_weights_free(&w);
    free(buf);
}
END_TEST

START_TEST(test_add_and_write_errors)
{
    struct fer_weights w;
    fer_weights_init(&w);
    ck_assert_ptr_nonnull(fer_weights_add(&w, "a", 1, (int64_t[]){2}, NULL));
    ck_assert_ptr_null(fer_weights_add(&w, "a", 1, (int64_t[]){2}, NULL));
    ck_assert_str_eq(fer_error(), "tensor 'a' added twice");
    ck_assert_ptr_null(fer_weights_add(&w, "__metadata__", 0, NULL, NULL));
    ck_assert_ptr_null(fer_weights_add(&w, "b", 1, (int64_t[]){-2}, NULL));
    ck_assert_str_eq(fer_error(), "tensor 'b': negative size -2 in dimension 0");
    ck_assert_ptr_null(fer_weights_add(&w, "b", 9, (int64_t[9]){0}, NULL));
    ck_assert_str_eq(fer_error(), "tensor 'b': 9 dimensions, at most 8 are supported");

    void *out;
    size_t size;
    fer_weights_set_meta(&w, "k", "bad \xff");
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), -1);
    ck_assert_str_eq(fer_error(), "JSON writer: invalid UTF-8 in a string");
    fer_weights_free(&w);

    fer_weights_add(&w, "a", 1, (int64_t[]){1}, (float[]){1e30f});
    w.tensors[0].dtype = FER_DTYPE_I64;
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), -1);
    ck_assert_str_eq(fer_error(), "tensor 'a': value 1e+30 at index 0 is not an integer "
                                  "representable as I64");
    w.tensors[0].data[0] = -3;
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), 0);
    ck_assert_mem_eq((char *)out + size - 8, "\xfd\xff\xff\xff\xff\xff\xff\xff", 8);
    free(out);
    /* a struct edited by hand is checked too */
    free(w.tensors[0].name);
    w.tensors[0].name = strdup("x");
    fer_weights_add(&w, "y", 0, NULL, NULL);
    free(w.tensors[1].name);
    w.tensors[1].name = strdup("x");
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), -1);
    ck_assert_str_eq(fer_error(), "tensor 'x' appears twice");
    w.tensors[1].count = 5;
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), -1);
    ck_assert_str_eq(fer_error(), "tensor 'x': count 5 or data do not match its shape");
    w.tensors[1].count = 1;
    fer_weights_free(&w);
}
END_TEST

static Suite *weights_suite(void)
{
    Suite *s = suite_create("weights");
    TCase *write = tcase_create("write");
    tcase_add_test(write, test_write_matches_reference_bytes);
    tcase_add_test(write, test_add_and_write_errors);
    suite_add_tcase(s, write);
    TCase *read = tcase_create("read");
    tcase_add_test(read, test_round_trip_in_memory);
    tcase_add_test(read, test_round_trip_file);
    tcase_add_test(read, test_half_types_and_integers_widen);
    tcase_add_test(read, test_corrupt_files_refused);
    tcase_add_test(read, test_header_rules);
    suite_add_tcase(s, read);
    return s;
}

int main(void)
{
    return fer_run_suite(weights_suite());
}
