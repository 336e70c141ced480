#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { FER_ERROR_MAX = 1024 };

static _Thread_local char message[FER_ERROR_MAX];

int fer_vfail(const char *fmt, va_list ap)
{
    vsnprintf(message, sizeof message, fmt, ap);
    return -1;
}

int fer_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fer_vfail(fmt, ap);
    va_end(ap);
    return -1;
}

int fer_fail_errno(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    fer_vfail(fmt, ap);
    va_end(ap);
    size_t used = strlen(message);
    snprintf(message + used, sizeof message - used, ": %s", strerror(saved));
    return -1;
}

int fer_fail_context(const char *fmt, ...)
{
    char old[FER_ERROR_MAX];
    memcpy(old, message, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    fer_vfail(fmt, ap);
    va_end(ap);
    size_t used = strlen(message);
    if (old[0] != '\0')
        snprintf(message + used, sizeof message - used, ": %s", old);
    return -1;
}

const char *fer_error(void)
{
    return message;
}

void fer_error_clear(void)
{
    message[0] = '\0';
}
