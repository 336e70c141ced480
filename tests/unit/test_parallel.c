#include "check_helpers.h"

#include "parallel.h"

#include <pthread.h>
#include <string.h>

enum { ITEMS = 1000 };

struct marks {
    int hits[ITEMS];
    pthread_t thread[ITEMS];
};

static void mark_range(void *ctx, long begin, long end)
{
    struct marks *m = ctx;
    for (long i = begin; i < end; i++) {
        m->hits[i]++;
        m->thread[i] = pthread_self();
    }
}

/* Every item exactly once, for thread counts below, at and above the
 * item count, and the split is the documented static one. */
START_TEST(test_covers_each_item_once)
{
    static struct marks m;
    const int threads[] = {1, 2, 3, 7, 1};
    const long sizes[] = {0, 1, 2, 5, ITEMS};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        ck_assert_int_eq(fer_parallel_set_threads(threads[t]), 0);
        ck_assert_int_eq(fer_parallel_threads(), threads[t]);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            memset(&m, 0, sizeof m);
            fer_parallel_for(sizes[s], mark_range, &m);
            for (long i = 0; i < ITEMS; i++)
                ck_assert_int_eq(m.hits[i], i < sizes[s]);
            /* Items of one range ran on one thread: the split is static. */
            const long n = sizes[s];
            const int parts = n < threads[t] ? (int)n : threads[t];
            for (int p = 0; p < parts; p++) {
                long b = n * p / parts, e = n * (p + 1) / parts;
                for (long i = b; i < e; i++)
                    ck_assert(pthread_equal(m.thread[i], m.thread[b]));
            }
        }
    }
}
END_TEST

static void nested(void *ctx, long begin, long end)
{
    struct marks *m = ctx;
    for (long i = begin; i < end; i++) {
        struct marks *inner = m + 1 + i;
        fer_parallel_for(ITEMS, mark_range, inner);
    }
}

/* A loop inside a loop runs serially in its own thread, never deadlocks. */
START_TEST(test_nested_loop_runs_serially)
{
    static struct marks m[4];
    memset(m, 0, sizeof m);
    ck_assert_int_eq(fer_parallel_set_threads(2), 0);
    fer_parallel_for(3, nested, m);
    for (int k = 1; k < 4; k++)
        for (long i = 0; i < ITEMS; i++) {
            ck_assert_int_eq(m[k].hits[i], 1);
            ck_assert(pthread_equal(m[k].thread[i], m[k].thread[0]));
        }
    fer_parallel_set_threads(1);
}
END_TEST

static void *outer_caller(void *arg)
{
    for (int r = 0; r < 200; r++)
        fer_parallel_for(ITEMS, mark_range, arg);
    return NULL;
}

/* Two outer threads calling at once are serialized, not interleaved. */
START_TEST(test_concurrent_callers)
{
    static struct marks a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(fer_parallel_set_threads(2), 0);
    pthread_t other;
    ck_assert_int_eq(pthread_create(&other, NULL, outer_caller, &a), 0);
    outer_caller(&b);
    pthread_join(other, NULL);
    for (long i = 0; i < ITEMS; i++) {
        ck_assert_int_eq(a.hits[i], 200);
        ck_assert_int_eq(b.hits[i], 200);
    }
    fer_parallel_set_threads(1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("parallel");
    TCase *tc = tcase_create("parallel");
    tcase_add_test(tc, test_covers_each_item_once);
    tcase_add_test(tc, test_nested_loop_runs_serially);
    tcase_add_test(tc, test_concurrent_callers);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
