/* examples.c - labelled images from a manifest (examples.h). */
#include "examples.h"

#include "error.h"
#include "labels.h"
#include "manifest.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct fer_examples *e, size_t *cap, int keep_rows)
{
    if (e->n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    char **p = realloc(e->paths, c * sizeof *p);
    if (p != NULL)
        e->paths = p;
    int *l = realloc(e->labels, c * sizeof *l);
    if (l != NULL)
        e->labels = l;
    size_t *ln = realloc(e->lines, c * sizeof *ln);
    if (ln != NULL)
        e->lines = ln;
    char ***r = keep_rows ? realloc(e->rows, c * sizeof *r) : e->rows;
    if (r != NULL)
        e->rows = r;
    if (p == NULL || l == NULL || ln == NULL || (keep_rows && r == NULL))
        return fer_fail("out of memory");
    *cap = c;
    return 0;
}

static char **copy_fields(char *const *fields, size_t n)
{
    char **out = calloc(n, sizeof *out);
    for (size_t i = 0; out != NULL && i < n; i++)
        if ((out[i] = strdup(fields[i])) == NULL) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    return out;
}

int fer_examples_read(const char *path, int keep_rows, struct fer_examples *e)
{
    memset(e, 0, sizeof *e);
    struct fer_manifest *m = fer_manifest_open(path);
    if (m == NULL)
        return -1;
    e->name = strdup(fer_manifest_name(m));
    int col = fer_manifest_find(m, "crop");
    if (col < 0)
        col = fer_manifest_find(m, "path");
    int col_label = fer_manifest_find(m, "label");
    size_t cap = 0;
    char **fields;
    int rc = 0;
    char resolved[PATH_MAX];
    if (e->name == NULL) {
        rc = fer_fail("out of memory");
        goto end;
    }
    if (col < 0) {
        rc = fer_fail("no 'crop' or 'path' column: not a manifest of images");
        goto end;
    }
    e->n_columns = fer_manifest_columns(m);
    if (keep_rows && (e->header = copy_fields((char *const *)fer_manifest_header(m),
                                              e->n_columns)) == NULL) {
        rc = fer_fail("out of memory");
        goto end;
    }
    while ((rc = fer_manifest_next(m, &fields)) == 1) {
        size_t line = fer_manifest_line(m);
        if (fields[col][0] == '\0') {
            rc = fer_fail("line %zu: empty '%s' field", line,
                          fer_manifest_header(m)[col]);
            break;
        }
        int label = -1;
        if (col_label >= 0 && fields[col_label][0] != '\0') {
            label = fer_label_from_name(fields[col_label]);
            if (label < 0) {
                rc = fer_fail("line %zu: unknown label '%s'", line, fields[col_label]);
                break;
            }
        }
        if (grow(e, &cap, keep_rows) < 0 ||
            fer_manifest_resolve(m, fields[col], resolved, sizeof resolved) < 0) {
            rc = fer_fail("line %zu: path too long or out of memory", line);
            break;
        }
        e->paths[e->n] = strdup(resolved);
        if (e->paths[e->n] == NULL) {
            rc = fer_fail("out of memory");
            break;
        }
        e->labels[e->n] = label;
        e->lines[e->n] = line;
        if (keep_rows && (e->rows[e->n] = copy_fields(fields, e->n_columns)) == NULL) {
            free(e->paths[e->n]);
            rc = fer_fail("out of memory");
            break;
        }
        e->n++;
    }
end:
    fer_manifest_close(m);
    if (rc < 0) {
        fer_examples_free(e);
        return -1;
    }
    return 0;
}

void fer_examples_free(struct fer_examples *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->paths[i]);
        if (e->rows != NULL) {
            for (size_t j = 0; j < e->n_columns; j++)
                free(e->rows[i][j]);
            free(e->rows[i]);
        }
    }
    if (e->header != NULL)
        for (size_t j = 0; j < e->n_columns; j++)
            free(e->header[j]);
    free(e->header);
    free(e->rows);
    free(e->paths);
    free(e->labels);
    free(e->lines);
    free(e->name);
    memset(e, 0, sizeof *e);
}

void fer_examples_count(const struct fer_examples *e, size_t counts[8])
{
    memset(counts, 0, 8 * sizeof counts[0]);
    for (size_t i = 0; i < e->n; i++)
        if (e->labels[i] >= 0)
            counts[e->labels[i]]++;
}
