#include "check_helpers.h"

#include "atomic.h"
#include "error.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static char *read_all(const char *path)
{
    static char buf[256];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

START_TEST(test_commit_renames_into_place)
{
    char *dir = fer_test_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    struct fer_atomic a;
    ck_assert_int_eq(fer_atomic_open(&a, path), 0);
    fputs("hello", a.fp);
    ck_assert_ptr_null(read_all(path)); /* not visible before commit */
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_eq(fer_atomic_commit(&a, FER_ATOMIC_SYNC), 0);
    ck_assert_str_eq(read_all(path), "hello");
    ck_assert_int_eq(count_entries(dir), 1);
    struct stat st;
    stat(path, &st);
    mode_t mask = umask(0);
    umask(mask);
    ck_assert_int_eq(st.st_mode & 0777, 0666 & ~mask);
    unlink(path);
    rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_abort_leaves_nothing)
{
    char *dir = fer_test_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    struct fer_atomic a;
    ck_assert_int_eq(fer_atomic_open(&a, path), 0);
    fputs("partial", a.fp);
    fer_atomic_abort(&a);
    ck_assert_int_eq(count_entries(dir), 0);
    ck_assert_int_eq(fer_atomic_open(&a, path), 0);
    fer_atomic_abort_all(); /* what a fatal-signal handler does */
    ck_assert_int_eq(count_entries(dir), 0);
    fer_atomic_abort(&a);
    rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_unwritable_directory_fails_cleanly)
{
    struct fer_atomic a;
    ck_assert_int_eq(fer_atomic_open(&a, "/nonexistent-dir/x.png"), -1);
    ck_assert_str_eq(fer_error(), "cannot create '/nonexistent-dir/x.png': No such file or directory");
    ck_assert_int_eq(fer_atomic_open(&a, "dir/"), -1);
}
END_TEST

START_TEST(test_full_disk_is_an_error)
{
    /* /dev/full fails every write with ENOSPC; the error must surface at
     * commit and no file may be renamed into place. */
    char *dir = fer_test_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    struct fer_atomic a;
    ck_assert_int_eq(fer_atomic_open(&a, path), 0);
    FILE *full = fopen("/dev/full", "wb");
    ck_assert_ptr_nonnull(full);
    fclose(a.fp);
    a.fp = full;
    for (int i = 0; i < 10000; i++)
        fputs("data that will not fit ", a.fp);
    ck_assert_int_eq(fer_atomic_commit(&a, 0), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "No space left on device"));
    ck_assert_int_eq(count_entries(dir), 0);
    rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_a_fifo_is_written_in_place)
{
    /* Renaming over a device or pipe (say -o /dev/null) would replace it
     * with a plain file; it must be written directly. A FIFO in a private
     * directory stands for /dev/null here, with this test as its reader. */
    char *dir = fer_test_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    int reader = open(path, O_RDWR | O_NONBLOCK);
    ck_assert_int_ge(reader, 0);
    struct fer_atomic a;
    ck_assert_int_eq(fer_atomic_open(&a, path), 0);
    fputs("through the pipe", a.fp);
    ck_assert_int_eq(fer_atomic_commit(&a, FER_ATOMIC_SYNC), 0);
    char buf[64] = "";
    ck_assert_int_eq(read(reader, buf, sizeof buf - 1), 16);
    ck_assert_str_eq(buf, "through the pipe");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(count_entries(dir), 1);
    close(reader);
    unlink(path);
    rmdir(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("atomic");
    TCase *tc = tcase_create("atomic");
    tcase_add_test(tc, test_commit_renames_into_place);
    tcase_add_test(tc, test_abort_leaves_nothing);
    tcase_add_test(tc, test_unwritable_directory_fails_cleanly);
    tcase_add_test(tc, test_full_disk_is_an_error);
    tcase_add_test(tc, test_a_fifo_is_written_in_place);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
