/* check_helpers.h - shared bits of the Check unit tests. */
#ifndef FER_CHECK_HELPERS_H
#define FER_CHECK_HELPERS_H

#include <check.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Asserts that body() returns non-zero in a child process with the
 * environment variable name set to value: for settings a library reads
 * once per process (FER_GEMM), whatever Check's fork mode. */
static inline void fer_check_in_child_with_env(const char *name, const char *value,
                                               int (*body)(void))
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv(name, value, 1);
        _exit(body() ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

#endif
