#include "atomic.h"

#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary names of open outputs, for removal on a fatal signal. Slots are
 * claimed under a mutex; the signal handler only reads them. */
enum { MAX_OPEN = 256 };
static char *volatile open_tmp[MAX_OPEN];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static int registry_add(char *tmp)
{
    pthread_mutex_lock(&registry_lock);
    int slot = -1;
    for (int i = 0; i < MAX_OPEN; i++)
        if (open_tmp[i] == NULL) {
            open_tmp[i] = tmp;
            slot = i;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
    return slot;
}

static void registry_remove(int slot)
{
    if (slot < 0)
        return;
    pthread_mutex_lock(&registry_lock);
    open_tmp[slot] = NULL;
    pthread_mutex_unlock(&registry_lock);
}

void fer_atomic_abort_all(void)
{
    for (int i = 0; i < MAX_OPEN; i++) {
        char *tmp = open_tmp[i];
        if (tmp != NULL)
            unlink(tmp);
    }
}

int fer_atomic_open(struct fer_atomic *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->slot = -1;
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    const char *base = path + dirlen;
    if (*base == '\0')
        return fer_fail("'%s' is a directory name, not a file name", path);
    /* A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written in
     * place: renaming over it would replace /dev/null with a plain file. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return fer_fail("'%s' is a directory", path);
        a->path = strdup(path);
        if (a->path == NULL)
            return fer_fail("out of memory");
        if ((a->fp = fopen(path, "wb")) == NULL) {
            int saved = errno;
            fer_atomic_abort(a);
            errno = saved;
            return fer_fail_errno("cannot open '%s'", path);
        }
        return 0;
    }
    a->path = strdup(path);
    a->tmp = malloc(strlen(path) + 16);
    if (a->path == NULL || a->tmp == NULL) {
        fer_atomic_abort(a);
        return fer_fail("out of memory");
    }
    sprintf(a->tmp, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int saved = errno;
        free(a->tmp);
        a->tmp = NULL;
        fer_atomic_abort(a);
        errno = saved;
        return fer_fail_errno("cannot create '%s'", path);
    }
    a->slot = registry_add(a->tmp);
    /* mkstemp makes 0600; outputs get the usual 0666 & ~umask. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    a->fp = fdopen(fd, "wb");
    if (a->fp == NULL) {
        close(fd);
        fer_atomic_abort(a);
        return fer_fail_errno("cannot open '%s'", path);
    }
    return 0;
}

static void release(struct fer_atomic *a)
{
    registry_remove(a->slot);
    a->slot = -1;
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
}

int fer_atomic_commit(struct fer_atomic *a, int flags)
{
    FILE *fp = a->fp;
    a->fp = NULL;
    int failed = fflush(fp) != 0 || ferror(fp);
    if (!failed && (flags & FER_ATOMIC_SYNC) && a->tmp != NULL)
        failed = fsync(fileno(fp)) != 0;
    int saved = errno;
    if (fclose(fp) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (!failed && a->tmp != NULL && rename(a->tmp, a->path) != 0) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        if (a->tmp != NULL)
            unlink(a->tmp);
        errno = saved;
        fer_fail_errno("cannot write '%s'", a->path);
        release(a);
        return -1;
    }
    release(a);
    return 0;
}

void fer_atomic_abort(struct fer_atomic *a)
{
    if (a->fp != NULL) {
        fclose(a->fp);
        a->fp = NULL;
    }
    if (a->tmp != NULL)
        unlink(a->tmp);
    release(a);
}

int fer_atomic_write_file(const char *path, const void *data, size_t size)
{
    struct fer_atomic a;
    if (fer_atomic_open(&a, path) != 0)
        return -1;
    if (size > 0 && fwrite(data, 1, size, a.fp) != size) {
        fer_fail_errno("cannot write '%s'", path);
        fer_atomic_abort(&a);
        return -1;
    }
    return fer_atomic_commit(&a, 0);
}
