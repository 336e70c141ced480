#include "check_helpers.h"

#include "rng.h"

#include <math.h>
#include <string.h>

START_TEST(test_same_seed_same_sequence)
{
    struct fer_rng a, b, c;
    fer_rng_seed(&a, 42);
    fer_rng_seed(&b, 42);
    fer_rng_seed(&c, 43);
    int differs = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = fer_rng_u64(&a);
        ck_assert_uint_eq(x, fer_rng_u64(&b));
        differs |= x != fer_rng_u64(&c);
    }
    ck_assert(differs);
}
END_TEST

START_TEST(test_known_first_values)
{
    /* Pinned so that a change of generator (which would change every seeded
     * output of every tool) cannot go unnoticed. The values come from an
     * independent Python transcription of splitmix64 seeding and
     * xoshiro256** as published by Blackman and Vigna. */
    struct fer_rng r;
    fer_rng_seed(&r, 0);
    ck_assert_uint_eq(fer_rng_u64(&r), 0x99ec5f36cb75f2b4ULL);
    ck_assert_uint_eq(fer_rng_u64(&r), 0xbf6e1f784956452aULL);
}
END_TEST

START_TEST(test_streams_differ)
{
    struct fer_rng a, b;
    fer_rng_seed_stream(&a, 7, 0);
    fer_rng_seed_stream(&b, 7, 1);
    ck_assert_uint_ne(fer_rng_u64(&a), fer_rng_u64(&b));
}
END_TEST

START_TEST(test_below_is_uniform)
{
    /* Chi-square over 7 bins with 70000 draws: the 99.9% critical value for
     * 6 degrees of freedom is 22.46. */
    struct fer_rng r;
    fer_rng_seed(&r, 1);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint32_t v = fer_rng_below(&r, 7);
        ck_assert_uint_lt(v, 7);
        counts[v]++;
    }
    double chi2 = 0;
    for (int i = 0; i < 7; i++)
        chi2 += (counts[i] - 10000.0) * (counts[i] - 10000.0) / 10000.0;
    ck_assert_double_lt(chi2, 22.46);
}
END_TEST

START_TEST(test_uniform_and_normal_moments)
{
    struct fer_rng r;
    fer_rng_seed(&r, 3);
    double sum = 0, sum2 = 0, usum = 0;
    enum { N = 200000 };
    for (int i = 0; i < N; i++) {
        double u = fer_rng_uniform(&r);
        ck_assert(u >= 0 && u < 1);
        usum += u;
        double z = fer_rng_normal(&r);
        sum += z;
        sum2 += z * z;
    }
    /* Standard errors: 0.00065 for the uniform mean, 0.0022 for the normal
     * mean, 0.0032 for its variance; allow about five. */
    ck_assert_double_lt(fabs(usum / N - 0.5), 0.0035);
    ck_assert_double_lt(fabs(sum / N), 0.012);
    ck_assert_double_lt(fabs(sum2 / N - 1), 0.016);
}
END_TEST

START_TEST(test_shuffle_is_permutation)
{
    struct fer_rng r;
    fer_rng_seed(&r, 5);
    int v[50];
    for (int i = 0; i < 50; i++)
        v[i] = i;
    fer_rng_shuffle(&r, v, 50, sizeof v[0]);
    int seen[50] = {0}, moved = 0;
    for (int i = 0; i < 50; i++) {
        seen[v[i]]++;
        moved += v[i] != i;
    }
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_gt(moved, 25);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("rng");
    tcase_add_test(tc, test_same_seed_same_sequence);
    tcase_add_test(tc, test_known_first_values);
    tcase_add_test(tc, test_streams_differ);
    tcase_add_test(tc, test_below_is_uniform);
    tcase_add_test(tc, test_uniform_and_normal_moments);
    tcase_add_test(tc, test_shuffle_is_permutation);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
