/* error.h - how libfer reports failure.
 *
 * Library functions never print and never exit. A function that fails sets a
 * one-line, human-readable cause with fer_fail() and returns -1 (or NULL);
 * the tool then prints it as "prog: file: cause" (see cli.h). The message is
 * per thread, so worker threads do not clobber each other.
 */
#ifndef FER_ERROR_H
#define FER_ERROR_H

#include <stdarg.h>

/* Set the current thread's error message (printf-style). Returns -1 so that
 * callers can write `return fer_fail("bad magic");`. */
int fer_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fer_vfail(const char *fmt, va_list ap);

/* Like fer_fail, appending ": strerror(errno)" for the errno at call time. */
int fer_fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefix the current message with more context: "ctx: old message". */
int fer_fail_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The current thread's last message; "" when none was set. Never NULL. */
const char *fer_error(void);

void fer_error_clear(void);

#endif
