#include "check_helpers.h"

#include "arena.h"
#include "error.h"
#include "tensor.h"

#include <stdint.h>

START_TEST(test_tensor_alloc_and_views)
{
    struct fer_tensor t, v, w;
    ck_assert_int_eq(fer_tensor_alloc(&t, 4, (int[]){2, 3, 4, 5}), 0);
    ck_assert_int_eq(t.owns, 1);
    ck_assert_uint_eq((uintptr_t)t.data % 64, 0);
    ck_assert_uint_eq(fer_tensor_numel(&t), 120);
    ck_assert_int_eq(t.stride[0], 60);
    ck_assert_int_eq(t.stride[3], 1);
    ck_assert_float_eq(t.data[119], 0);
    for (int i = 0; i < 120; i++)
        t.data[i] = (float)i;
    /* Channel 1..2 of every image: shares data, strided, not contiguous. */
    ck_assert_int_eq(fer_tensor_narrow(&v, &t, 1, 1, 2), 0);
    ck_assert_int_eq(v.owns, 0);
    ck_assert_int_eq(fer_tensor_is_contiguous(&v), 0);
    ck_assert_float_eq(*fer_tensor_at(&v, 1, 0, 0, 0), 80);
    ck_assert_int_eq(fer_tensor_reshape(&w, &v, 2, (int[]){2, 40}), -1);
    ck_assert_str_eq(fer_error(), "tensor: reshape of a non-contiguous tensor");
    struct fer_tensor c;
    ck_assert_int_eq(fer_tensor_alloc(&c, 4, (int[]){2, 2, 4, 5}), 0);
    ck_assert_int_eq(fer_tensor_copy(&c, &v), 0);
    ck_assert_float_eq(c.data[20], 40); /* image 0, channel 2 */
    ck_assert_float_eq(c.data[40], 80);
    ck_assert_int_eq(fer_tensor_reshape(&w, &c, 2, (int[]){2, 40}), 0);
    ck_assert_float_eq(*fer_tensor_at(&w, 1, 0, 0, 0), 80);
    ck_assert_int_eq(fer_tensor_reshape(&w, &c, 2, (int[]){3, 40}), -1);
    ck_assert_int_eq(fer_tensor_narrow(&v, &t, 0, 1, 2), -1);
    ck_assert_str_eq(fer_error(), "tensor: narrow [1, 3) outside 0..2");
    /* Views of a narrowed tensor still fill correctly. */
    fer_tensor_narrow(&v, &t, 3, 4, 1);
    fer_tensor_fill(&v, -1);
    ck_assert_float_eq(t.data[4], -1);
    ck_assert_float_eq(t.data[3], 3);
    fer_tensor_free(&c);
    fer_tensor_free(&t);
    ck_assert_ptr_null(t.data);
    ck_assert_int_eq(fer_tensor_alloc(&t, 5, (int[]){1, 1, 1, 1, 1}), -1);
    ck_assert_int_eq(fer_tensor_alloc(&t, 2, (int[]){1 << 20, 1 << 20}), -1);
    ck_assert_str_eq(fer_error(), "tensor: too many elements");
}
END_TEST

START_TEST(test_arena_reuses_memory)
{
    struct fer_arena *a = fer_arena_new(256);
    void *p = fer_arena_alloc(a, 10);
    ck_assert_uint_eq((uintptr_t)p % FER_ALIGN, 0);
    struct fer_tensor t;
    /* Outgrow the first chunk: the arena adds chunks... */
    ck_assert_int_eq(fer_tensor_arena(&t, a, 2, (int[]){100, 100}), 0);
    ck_assert_uint_eq((uintptr_t)t.data % FER_ALIGN, 0);
    t.data[9999] = 1;
    struct fer_arena_mark m = fer_arena_mark(a);
    float *z = fer_arena_zeros(a, 1000);
    ck_assert_float_eq(z[999], 0);
    fer_arena_release(a, m);
    ck_assert_ptr_eq(fer_arena_zeros(a, 10), z); /* released, handed out again */
    size_t peak = fer_arena_peak(a);
    ck_assert_uint_ge(peak, 40000);
    /* ...and after a reset the same step fits in one block: same addresses. */
    fer_arena_reset(a);
    ck_assert_uint_eq(fer_arena_used(a), 0);
    void *p2 = fer_arena_alloc(a, 10);
    struct fer_tensor t2;
    fer_tensor_arena(&t2, a, 2, (int[]){100, 100});
    fer_arena_reset(a);
    ck_assert_ptr_eq(fer_arena_alloc(a, 10), p2);
    ck_assert_ptr_eq(fer_arena_alloc(a, 40000), t2.data);
    ck_assert_uint_eq(fer_arena_peak(a), peak);
    fer_arena_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_tensor");
    TCase *tc = tcase_create("tensor");
    tcase_add_test(tc, test_tensor_alloc_and_views);
    tcase_add_test(tc, test_arena_reuses_memory);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
