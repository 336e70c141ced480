/* check_helpers.h - shared bits of the Check unit tests. */
#ifndef FER_CHECK_HELPERS_H
#define FER_CHECK_HELPERS_H

#include <check.h>
#include <stdlib.h>

/* Every test program ends the same way: run the suite, exit non-zero on any
 * failure. */
static inline int fer_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* A scratch directory for one test, removed by the caller with rm -rf. */
static inline char *fer_test_tmpdir(void)
{
    static char dir[] = "/tmp/fer-test-XXXXXX";
    char *copy = malloc(sizeof dir);
    if (copy == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof dir; i++)
        copy[i] = dir[i];
    return mkdtemp(copy);
}

#endif
