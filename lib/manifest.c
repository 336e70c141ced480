#include "manifest.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fer_manifest {
    FILE *fp;
    int owns_fp;
    char *name;
    char *dir; /* base for relative paths, "" for the current directory */
    char *line;
    size_t capacity;
    size_t line_no;
    char **header; /* copies, owned */
    size_t n_columns;
    char **fields; /* point into line */
};

/* Read one line into m->line without its terminator. Returns 1, 0 at EOF,
 * -1 on error. Bounded by FER_MANIFEST_MAX_LINE however long the input. */
static int read_line(struct fer_manifest *m)
{
    size_t len = 0;
    int c;
    while ((c = getc(m->fp)) != EOF && c != '\n') {
        if (c == '\0')
            return fer_fail("line %zu: NUL byte", m->line_no + 1);
        if (len + 1 >= FER_MANIFEST_MAX_LINE)
            return fer_fail("line %zu: longer than %d bytes", m->line_no + 1,
                            FER_MANIFEST_MAX_LINE);
        if (len + 1 >= m->capacity) {
            size_t grown = m->capacity ? 2 * m->capacity : 4096;
            char *p = realloc(m->line, grown);
            if (p == NULL)
                return fer_fail("out of memory");
            m->line = p;
            m->capacity = grown;
        }
        m->line[len++] = (char)c;
    }
    if (ferror(m->fp))
        return fer_fail_errno("read error");
    if (c == EOF && len == 0)
        return 0;
    if (m->line == NULL) { /* an empty first line */
        m->line = malloc(1);
        if (m->line == NULL)
            return fer_fail("out of memory");
        m->capacity = 1;
    }
    if (len > 0 && m->line[len - 1] == '\r')
        len--;
    /* Any other CR is inside a field, which the format forbids (and the
     * writer refuses): accepting it would let a row in that cannot be
     * written out again. Found by fuzz/fuzz_manifest.c. */
    if (memchr(m->line, '\r', len) != NULL)
        return fer_fail("line %zu: CR inside a field", m->line_no + 1);
    m->line[len] = '\0';
    m->line_no++;
    return 1;
}

/* Split the line at TABs in place; returns the number of fields. */
static size_t split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        if (n < max)
            fields[n] = p;
        n++;
        char *tab = strchr(p, '\t');
        if (tab == NULL)
            return n;
        *tab = '\0';
        p = tab + 1;
    }
}

static int parse_header(struct fer_manifest *m)
{
    int r = read_line(m);
    if (r < 0)
        return -1;
    if (r == 0)
        return fer_fail("empty manifest (no header line)");
    size_t n = 1;
    for (const char *p = m->line; *p; p++)
        n += *p == '\t';
    if (n > FER_MANIFEST_MAX_COLUMNS)
        return fer_fail("line 1: more than %d columns", FER_MANIFEST_MAX_COLUMNS);
    m->header = calloc(n, sizeof *m->header);
    m->fields = calloc(n, sizeof *m->fields);
    if (m->header == NULL || m->fields == NULL)
        return fer_fail("out of memory");
    split(m->line, m->fields, n);
    m->n_columns = n;
    for (size_t i = 0; i < n; i++) {
        if (m->fields[i][0] == '\0')
            return fer_fail("line 1: column %zu has an empty name", i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->header[j], m->fields[i]) == 0)
                return fer_fail("line 1: column '%s' appears twice", m->fields[i]);
        m->header[i] = strdup(m->fields[i]);
        if (m->header[i] == NULL)
            return fer_fail("out of memory");
    }
    return 0;
}

struct fer_manifest *fer_manifest_from_stream(FILE *fp, const char *name, const char *dir)
{
    struct fer_manifest *m = calloc(1, sizeof *m);
    if (m == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    m->fp = fp;
    m->name = strdup(name ? name : "stdin");
    m->dir = strdup(dir ? dir : "");
    if (m->name == NULL || m->dir == NULL) {
        fer_fail("out of memory");
        fer_manifest_close(m);
        return NULL;
    }
    if (parse_header(m) != 0) {
        fer_manifest_close(m);
        return NULL;
    }
    return m;
}

struct fer_manifest *fer_manifest_open(const char *path)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return fer_manifest_from_stream(stdin, "stdin", NULL);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fer_fail("%s", strerror(errno));
        return NULL;
    }
    char *dir = strdup(path);
    if (dir == NULL) {
        fclose(fp);
        fer_fail("out of memory");
        return NULL;
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        dir[0] = '\0';
    struct fer_manifest *m = fer_manifest_from_stream(fp, path, dir);
    free(dir);
    if (m == NULL) {
        fclose(fp);
        return NULL;
    }
    m->owns_fp = 1;
    return m;
}

void fer_manifest_close(struct fer_manifest *m)
{
    if (m == NULL)
        return;
    if (m->owns_fp)
        fclose(m->fp);
    for (size_t i = 0; m->header && i < m->n_columns; i++)
        free(m->header[i]);
    free(m->header);
    free(m->fields);
    free(m->line);
    free(m->name);
    free(m->dir);
    free(m);
}

const char *fer_manifest_name(const struct fer_manifest *m)
{
    return m->name;
}

size_t fer_manifest_columns(const struct fer_manifest *m)
{
    return m->n_columns;
}

const char *const *fer_manifest_header(const struct fer_manifest *m)
{
    return (const char *const *)m->header;
}

int fer_manifest_find(const struct fer_manifest *m, const char *column)
{
    for (size_t i = 0; i < m->n_columns; i++)
        if (strcmp(m->header[i], column) == 0)
            return (int)i;
    return -1;
}

int fer_manifest_require(const struct fer_manifest *m, const char *column)
{
    int i = fer_manifest_find(m, column);
    if (i >= 0)
        return i;
    char list[512] = "";
    for (size_t j = 0; j < m->n_columns; j++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", j ? " " : "", m->header[j]);
    }
    return fer_fail("no '%s' column (columns: %s)", column, list);
}

int fer_manifest_next(struct fer_manifest *m, char ***fields)
{
    int r = read_line(m);
    if (r <= 0)
        return r;
    size_t n = split(m->line, m->fields, m->n_columns);
    if (n != m->n_columns)
        return fer_fail("line %zu: %zu field%s, header has %zu", m->line_no, n,
                        n == 1 ? "" : "s", m->n_columns);
    *fields = m->fields;
    return 1;
}

size_t fer_manifest_line(const struct fer_manifest *m)
{
    return m->line_no;
}

int fer_manifest_resolve(const struct fer_manifest *m, const char *path, char *out, size_t size)
{
    const char *base = path[0] == '/' ? "" : m->dir;
    int n = snprintf(out, size, "%s%s", base, path);
    if (n < 0 || (size_t)n >= size)
        return fer_fail("path too long: %.40s...", path);
    return 0;
}

/* Writer */

struct fer_manifest_writer {
    FILE *fp;
    size_t n;
    int failed;
};

static int bad_field(const char *s)
{
    return s != NULL && strpbrk(s, "\t\r\n") != NULL;
}

struct fer_manifest_writer *fer_manifest_writer_new(FILE *fp, const char *const *columns,
                                                    size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (columns[i] == NULL || columns[i][0] == '\0' || bad_field(columns[i])) {
            fer_fail("column %zu: a name must be non-empty, without TAB, CR or LF", i + 1);
            return NULL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(columns[i], columns[j]) == 0) {
                fer_fail("column '%s' appears twice", columns[i]);
                return NULL;
            }
    }
    struct fer_manifest_writer *w = calloc(1, sizeof *w);
    if (w == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    w->fp = fp;
    w->n = n;
    if (fer_manifest_write(w, columns) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

int fer_manifest_write(struct fer_manifest_writer *w, const char *const *fields)
{
    for (size_t i = 0; i < w->n; i++)
        if (bad_field(fields[i]))
            return fer_fail("field %zu contains TAB, CR or LF: '%.40s'", i + 1, fields[i]);
    for (size_t i = 0; i < w->n; i++) {
        if (i > 0)
            putc('\t', w->fp);
        if (fields[i])
            fputs(fields[i], w->fp);
    }
    putc('\n', w->fp);
    if (ferror(w->fp)) {
        w->failed = 1;
        return fer_fail_errno("write error");
    }
    return 0;
}

int fer_manifest_writer_close(struct fer_manifest_writer *w)
{
    if (w == NULL)
        return 0;
    int failed = w->failed || fflush(w->fp) != 0 || ferror(w->fp);
    free(w);
    return failed ? fer_fail_errno("write error") : 0;
}

/* Layout */

int fer_manifest_layout_init(struct fer_manifest_layout *l, const char *const *in, size_t n_in,
                             const char *const *extra, size_t n_extra)
{
    memset(l, 0, sizeof *l);
    l->columns = calloc(n_in + n_extra, sizeof *l->columns);
    l->row = calloc(n_in + n_extra, sizeof *l->row);
    l->extra_at = calloc(n_extra ? n_extra : 1, sizeof *l->extra_at);
    if (l->columns == NULL || l->row == NULL || l->extra_at == NULL) {
        fer_manifest_layout_free(l);
        return fer_fail("out of memory");
    }
    l->n_in = n_in;
    l->n_extra = n_extra;
    memcpy(l->columns, in, n_in * sizeof *in);
    size_t n = n_in;
    for (size_t e = 0; e < n_extra; e++) {
        size_t at = n;
        for (size_t i = 0; i < n; i++)
            if (strcmp(l->columns[i], extra[e]) == 0)
                at = i;
        if (at == n)
            l->columns[n++] = extra[e];
        l->extra_at[e] = at;
    }
    l->n_out = n;
    return 0;
}

const char *const *fer_manifest_layout_row(struct fer_manifest_layout *l,
                                           char *const *in_fields,
                                           const char *const *extra_fields)
{
    for (size_t i = 0; i < l->n_in; i++)
        l->row[i] = in_fields[i];
    for (size_t e = 0; e < l->n_extra; e++)
        l->row[l->extra_at[e]] = extra_fields[e];
    return l->row;
}

void fer_manifest_layout_free(struct fer_manifest_layout *l)
{
    free(l->columns);
    free(l->row);
    free(l->extra_at);
    memset(l, 0, sizeof *l);
}
