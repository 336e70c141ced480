/* atomic.h - write a file under a temporary name, rename it into place.
 *
 * A reader never sees a half-written output: the data go to a hidden
 * temporary file in the same directory ("DIR/.NAME.XXXXXX"), which is renamed
 * over PATH only when everything was written and flushed without error (a
 * full disk shows up here, not as a truncated file). On failure, or when the
 * program is killed by a signal or dies through fer_die, the temporary file
 * is removed. An existing PATH that is not a regular file (/dev/null,
 * /dev/stdout, a FIFO) is written directly instead, as it cannot be
 * replaced.
 */
#ifndef FER_ATOMIC_H
#define FER_ATOMIC_H

#include <stdio.h>

struct fer_atomic {
    FILE *fp;   /* write here */
    char *path; /* final name */
    char *tmp;  /* temporary name */
    int slot;   /* index in the cleanup registry */
};

enum { FER_ATOMIC_SYNC = 1 }; /* fsync before rename: survives power loss */

/* Create the temporary file. Returns 0, or -1 with fer_error() set
 * ("cannot create '...': Permission denied"). */
int fer_atomic_open(struct fer_atomic *a, const char *path);

/* Flush, close and rename into place (flags: 0 or FER_ATOMIC_SYNC).
 * Returns 0, or -1 with fer_error() set, the temporary removed. */
int fer_atomic_commit(struct fer_atomic *a, int flags);

/* Close and remove the temporary file. Safe on an unopened or committed
 * struct (zero-initialized). */
void fer_atomic_abort(struct fer_atomic *a);

/* Remove every temporary file still open in this process. Async-signal-safe
 * enough for a fatal-signal handler: it only calls unlink(). */
void fer_atomic_abort_all(void);

/* Write a whole buffer to PATH atomically. */
int fer_atomic_write_file(const char *path, const void *data, size_t size);

#endif
