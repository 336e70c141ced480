/* examples.h - labelled images listed in a manifest, for training and
 * evaluation (fer-finetune, fer-eval).
 *
 * The image of a row is its `crop` column when the manifest has one (faces
 * cut out by fer-extract or fer-facetrack), else its `path` column (datasets
 * that are already face crops), resolved against the manifest's directory.
 * The label is the `label` column (optional: without it every label is
 * -1), in the canonical vocabulary of labels.h or one of its synonyms; an
 * empty label is -1 (a row to predict, or to skip when training); any other
 * unknown word is an error. Rows with an empty image field are errors.
 */
#ifndef FER_EXAMPLES_H
#define FER_EXAMPLES_H

#include <stddef.h>

struct fer_examples {
    size_t n;
    char **paths;     /* n resolved image paths, owned */
    int *labels;      /* n canonical labels 0..7, or -1 */
    size_t *lines;    /* n manifest line numbers, for messages */
    /* With keep_rows: the header and every row's fields, owned. */
    size_t n_columns;
    char **header;
    char ***rows;
    char *name;       /* the manifest's name for messages ("stdin"), owned */
};

/* Read every row of the manifest at path ("-": stdin). keep_rows: also keep
 * the rows' fields (for fer-eval's predictions). Returns 0, or -1 with
 * fer_error() set ("line 7: unknown label 'happyy'", "no 'path' or 'crop'
 * column ...") and e empty. */
int fer_examples_read(const char *path, int keep_rows, struct fer_examples *e);
void fer_examples_free(struct fer_examples *e);

/* Examples per canonical label: counts[8], zeroed first; -1 not counted. */
void fer_examples_count(const struct fer_examples *e, size_t counts[8]);

#endif
