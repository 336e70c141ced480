/* manifest.h - the TSV manifests that flow between fer-* tools.
 *
 * Format (man 5 fer-manifest): UTF-8 text, one record per line ending in
 * "\n" (a "\r" before it is dropped); fields separated by a single TAB, never
 * quoted or escaped, so a field cannot contain TAB, CR or LF. The first line
 * is the header: unique, non-empty column names. Every row has exactly as
 * many fields as the header. Fields may be empty. No NUL bytes; a line is at
 * most FER_MANIFEST_MAX_LINE bytes.
 *
 * Paths inside a manifest are absolute, or relative to the directory of the
 * manifest file; for a manifest read from stdin, relative to the current
 * directory.
 */
#ifndef FER_MANIFEST_H
#define FER_MANIFEST_H

#include <stddef.h>
#include <stdio.h>

enum { FER_MANIFEST_MAX_LINE = 1 << 20, FER_MANIFEST_MAX_COLUMNS = 4096 };

struct fer_manifest; /* a reader */

/* Open PATH ("-" or NULL: stdin) and read its header. Returns NULL with
 * fer_error() set ("line 1: empty column name", "No such file ..."). */
struct fer_manifest *fer_manifest_open(const char *path);
/* Read from an open stream; `name` is used in messages, `dir` is the base
 * for relative paths (NULL: current directory). The stream is not closed. */
struct fer_manifest *fer_manifest_from_stream(FILE *fp, const char *name, const char *dir);
void fer_manifest_close(struct fer_manifest *m);

/* The file name for messages: the path given, or "stdin". */
const char *fer_manifest_name(const struct fer_manifest *m);

size_t fer_manifest_columns(const struct fer_manifest *m);
const char *const *fer_manifest_header(const struct fer_manifest *m);
/* Index of a column, or -1. */
int fer_manifest_find(const struct fer_manifest *m, const char *column);
/* Index of a column that must exist; -1 with fer_error() set
 * ("no 'path' column (columns: clip frame ...)") otherwise. */
int fer_manifest_require(const struct fer_manifest *m, const char *column);

/* Read the next row. Returns 1 with *fields pointing at
 * fer_manifest_columns() strings (valid until the next call), 0 at end of
 * input, -1 with fer_error() set ("line 7: 5 fields, header has 6"). */
int fer_manifest_next(struct fer_manifest *m, char ***fields);

/* Number of the line last read (1 is the header). */
size_t fer_manifest_line(const struct fer_manifest *m);

/* Resolve a path field against the manifest's directory into out[size].
 * Returns 0, or -1 if it does not fit. */
int fer_manifest_resolve(const struct fer_manifest *m, const char *path, char *out, size_t size);

/* Writer: a header, then rows, checked as they are written. */
struct fer_manifest_writer;

/* Write the header to fp (not owned). Returns NULL with fer_error() set when
 * a name is empty, repeated, or contains TAB/CR/LF. */
struct fer_manifest_writer *fer_manifest_writer_new(FILE *fp, const char *const *columns,
                                                    size_t n);
/* Write one row of exactly n fields (NULL is written as empty). Returns 0, or
 * -1 with fer_error() set if a field contains TAB/CR/LF or the write failed. */
int fer_manifest_write(struct fer_manifest_writer *w, const char *const *fields);
/* Flush; returns -1 with fer_error() set if any write failed. Frees w. */
int fer_manifest_writer_close(struct fer_manifest_writer *w);

/* The common case of a filter: an output header made of the input's columns
 * followed by `extra` columns. An extra column that the input already has
 * replaces the input's value in place (re-running a tool does not duplicate
 * columns). */
struct fer_manifest_layout {
    size_t n_in, n_out;
    const char **columns; /* n_out names */
    size_t *extra_at;     /* output index of each extra column */
    size_t n_extra;
    const char **row;     /* scratch row of n_out fields */
};
int fer_manifest_layout_init(struct fer_manifest_layout *l, const char *const *in, size_t n_in,
                             const char *const *extra, size_t n_extra);
/* Fill the scratch row: input fields, then extras (strings not copied). */
const char *const *fer_manifest_layout_row(struct fer_manifest_layout *l,
                                           char *const *in_fields,
                                           const char *const *extra_fields);
void fer_manifest_layout_free(struct fer_manifest_layout *l);

#endif
