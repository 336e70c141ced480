/* The weights reader and writer with the portable byte-by-byte element path
 * that a big-endian host takes, exercised on this (little-endian) machine:
 * weights.c is compiled into this test with FER_WEIGHTS_PORTABLE, and its
 * symbols take the place of libfer.a's copy. The bytes must be the same. */
#define FER_WEIGHTS_PORTABLE 1
#include "../../lib/weights.c"

#include "check_helpers.h"

#include <unistd.h>

START_TEST(test_portable_path_same_bytes)
{
    ck_assert_int_eq(HOST_LITTLE_ENDIAN, 0);
    static const float v[6] = {0, 1, 2, 3, 4, -5.5f};
    struct fer_weights w, r;
    fer_weights_init(&w);
    fer_weights_add(&w, "attn.0", 3, (int64_t[]){1, 2, 3}, v);
    struct fer_weights_tensor *t = fer_weights_add(&w, "n", 1, (int64_t[]){2}, (float[]){-2, 7});
    t->dtype = FER_DTYPE_I32;
    void *out;
    size_t size;
    ck_assert_int_eq(fer_weights_write_memory(&w, &out, &size), 0);
    static const unsigned char data[32] = {
        0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40,
        0, 0, 0x80, 0x40, 0, 0, 0xb0, 0xc0, 0xfe, 0xff, 0xff, 0xff, 7, 0, 0, 0};
    ck_assert_uint_eq(size, 8 + 120 + 32);
    ck_assert_mem_eq((char *)out + 128, data, 32);
    ck_assert_int_eq(fer_weights_read_memory(out, size, &r), 0);
    ck_assert_mem_eq(r.tensors[0].data, v, sizeof v);
    ck_assert(r.tensors[1].data[0] == -2.0f && r.tensors[1].data[1] == 7.0f);
    /* and through a file, which reads in chunks */
    char *dir = fer_test_tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/p.safetensors", dir);
    ck_assert_int_eq(fer_weights_write(path, &w), 0);
    fer_weights_free(&r);
    ck_assert_int_eq(fer_weights_read(path, &r), 0);
    ck_assert_mem_eq(r.tensors[0].data, v, sizeof v);
    unlink(path);
    rmdir(dir);
    free(dir);
    free(out);
    fer_weights_free(&r);
    fer_weights_free(&w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("weights_portable");
    TCase *c = tcase_create("portable");
    tcase_add_test(c, test_portable_path_same_bytes);
    suite_add_tcase(s, c);
    return fer_run_suite(s);
}
