/* fuzz_manifest.c - the manifest reader on arbitrary bytes; every row it
 * accepts must be accepted by the writer and read back identically. */
#include "error.h"
#include "manifest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char **copy_fields(char *const *f, size_t n)
{
    char **c = calloc(n ? n : 1, sizeof *c);
    if (c == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((c[i] = strdup(f[i])) == NULL)
            abort();
    return c;
}

static void free_fields(char **c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i]);
    free(c);
}

/* Write header + one row, read them back, compare. */
static void round_trip(const char *const *header, char *const *row, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out == NULL)
        abort();
    struct fer_manifest_writer *w = fer_manifest_writer_new(out, header, n);
    if (w == NULL || fer_manifest_write(w, (const char *const *)row) != 0 ||
        fer_manifest_writer_close(w) != 0)
        __builtin_trap(); /* the reader accepted it, so the writer must */
    fclose(out);
    FILE *in = fmemopen(buf, len, "r");
    struct fer_manifest *m = in ? fer_manifest_from_stream(in, "again", NULL) : NULL;
    char **f;
    if (m == NULL || fer_manifest_columns(m) != n || fer_manifest_next(m, &f) != 1)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i], row[i]) != 0 || strcmp(fer_manifest_header(m)[i], header[i]) != 0)
            __builtin_trap();
    fer_manifest_close(m);
    fclose(in);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *fp = fmemopen((void *)data, size, "r");
    if (fp == NULL)
        return 0; /* fmemopen refuses size 0 in old glibc */
    struct fer_manifest *m = fer_manifest_from_stream(fp, "fuzz", "dir");
    if (m == NULL) {
        if (fer_error()[0] == '\0')
            __builtin_trap();
        fclose(fp);
        return 0;
    }
    size_t n = fer_manifest_columns(m);
    const char *const *header = fer_manifest_header(m);
    static const char *const extra[] = {"path", "score"};
    struct fer_manifest_layout layout;
    int have_layout = fer_manifest_layout_init(&layout, header, n, extra, 2) == 0;
    char **f;
    int rc, rows = 0;
    while ((rc = fer_manifest_next(m, &f)) == 1) {
        if (rows++ < 4) {
            char **copy = copy_fields(f, n);
            char **hdr = copy_fields((char *const *)header, n);
            round_trip((const char *const *)hdr, copy, n);
            free_fields(hdr, n);
            free_fields(copy, n);
        }
        char resolved[256];
        fer_manifest_resolve(m, f[0], resolved, sizeof resolved);
        if (have_layout) {
            static const char *const values[] = {"p.png", "0.5"};
            const char *const *row = fer_manifest_layout_row(&layout, f, values);
            if (row == NULL)
                __builtin_trap();
        }
    }
    if (rc < 0 && fer_error()[0] == '\0')
        __builtin_trap();
    if (have_layout)
        fer_manifest_layout_free(&layout);
    fer_manifest_close(m);
    fclose(fp);
    return 0;
}
