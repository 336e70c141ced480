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
    if (e->clips != NULL || *cap == 0) {
        char **cl = realloc(e->clips, c * sizeof *cl);
        if (cl == NULL)
            return fer_fail("out of memory");
        e->clips = cl;
    }
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
    const int col_crop = fer_manifest_find(m, "crop");
    int col = col_crop;
    if (col < 0)
        col = fer_manifest_find(m, "path");
    int col_label = fer_manifest_find(m, "label");
    int col_clip = fer_manifest_find(m, "clip");
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
        const int no_face = fields[col][0] == '\0' && col == col_crop;
        if (fields[col][0] == '\0' && !no_face) {
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
            (!no_face && fer_manifest_resolve(m, fields[col], resolved, sizeof resolved) < 0)) {
            rc = fer_fail("line %zu: path too long or out of memory", line);
            break;
        }
        e->paths[e->n] = no_face ? NULL : strdup(resolved);
        if (!no_face && e->paths[e->n] == NULL) {
            rc = fer_fail("out of memory");
            break;
        }
        e->labels[e->n] = label;
        e->lines[e->n] = line;
        e->clips[e->n] = strdup(col_clip >= 0 ? fields[col_clip] : "");
        if (e->clips[e->n] == NULL) {
            free(e->paths[e->n]);
            rc = fer_fail("out of memory");
            break;
        }
        if (keep_rows && (e->rows[e->n] = copy_fields(fields, e->n_columns)) == NULL) {
            free(e->paths[e->n]);
            free(e->clips[e->n]);
            rc = fer_fail("out of memory");
            break;
        }
        e->n++;
    }
end:
    if (rc == 0 && col_clip < 0 && e->clips != NULL) {
        for (size_t i = 0; i < e->n; i++)
            free(e->clips[i]);
        free(e->clips);
        e->clips = NULL;
    }
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
        if (e->clips != NULL)
            free(e->clips[i]);
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
    free(e->clips);
    memset(e, 0, sizeof *e);
}

void fer_examples_count(const struct fer_examples *e, size_t counts[8])
{
    memset(counts, 0, 8 * sizeof counts[0]);
    for (size_t i = 0; i < e->n; i++)
        if (e->labels[i] >= 0 && e->paths[i] != NULL)
            counts[e->labels[i]]++;
}

/* qsort by clip name, then row: a stable grouping without a hash table. */
static const struct fer_examples *sort_examples;

static int by_clip(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_examples->clips[i], sort_examples->clips[j]);
    return c != 0 ? c : (i > j) - (i < j);
}

struct group_span {
    size_t first, begin, end; /* first row index; span in the sorted list */
};

static int by_first(const void *a, const void *b)
{
    size_t i = ((const struct group_span *)a)->first, j = ((const struct group_span *)b)->first;
    return (i > j) - (i < j);
}

int fer_examples_group(const struct fer_examples *e, int by_row, struct fer_example_groups *g)
{
    memset(g, 0, sizeof *g);
    if (!by_row && e->clips == NULL)
        return fer_fail("no 'clip' column: a clip model needs the rows grouped by clip");
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        n += e->paths[i] != NULL;
    size_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    struct group_span *spans = malloc((n ? n : 1) * sizeof *spans);
    g->start = malloc((n + 1) * sizeof *g->start);
    g->rows = malloc((n ? n : 1) * sizeof *g->rows);
    g->labels = malloc((n ? n : 1) * sizeof *g->labels);
    if (sorted == NULL || spans == NULL || g->start == NULL || g->rows == NULL ||
        g->labels == NULL) {
        free(sorted);
        free(spans);
        fer_example_groups_free(g);
        return fer_fail("out of memory");
    }
    for (size_t i = 0, k = 0; i < e->n; i++)
        if (e->paths[i] != NULL)
            sorted[k++] = i;
    if (!by_row) {
        sort_examples = e;
        qsort(sorted, n, sizeof *sorted, by_clip);
    }
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        if (by_row || i == 0 || strcmp(e->clips[sorted[i]], e->clips[sorted[i - 1]]) != 0)
            spans[ng++] = (struct group_span){sorted[i], i, i + 1};
        else
            spans[ng - 1].end = i + 1;
    }
    qsort(spans, ng, sizeof *spans, by_first);
    size_t k = 0;
    int rc = 0;
    for (size_t gi = 0; gi < ng; gi++) {
        g->start[gi] = k;
        g->labels[gi] = -1;
        for (size_t i = spans[gi].begin; i < spans[gi].end; i++) {
            size_t row = sorted[i];
            g->rows[k++] = row;
            int l = e->labels[row];
            if (l >= 0 && g->labels[gi] >= 0 && l != g->labels[gi] && rc == 0)
                rc = fer_fail("clip '%s': labels %s and %s", e->clips[row],
                              fer_label_name(g->labels[gi]), fer_label_name(l));
            if (l >= 0)
                g->labels[gi] = l;
        }
    }
    g->start[ng] = k;
    g->n = ng;
    free(sorted);
    free(spans);
    if (rc < 0)
        fer_example_groups_free(g);
    return rc;
}

void fer_example_groups_free(struct fer_example_groups *g)
{
    free(g->start);
    free(g->rows);
    free(g->labels);
    memset(g, 0, sizeof *g);
}

void fer_examples_sample(size_t n, int segments, struct fer_rng *rng, size_t *out)
{
    for (int s = 0; s < segments; s++) {
        size_t lo = n * (size_t)s / (size_t)segments;
        size_t hi = n * (size_t)(s + 1) / (size_t)segments;
        if (hi <= lo) {
            out[s] = lo < n ? lo : n - 1; /* fewer rows than segments: repeat */
            continue;
        }
        size_t len = hi - lo;
        out[s] = lo + (rng != NULL ? fer_rng_below(rng, (uint32_t)len) : len / 2);
    }
}
