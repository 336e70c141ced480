/* examples.h - labelled images listed in a manifest, for training and
 * evaluation (fer-finetune, fer-eval).
 *
 * The image of a row is its `crop` column when the manifest has one (faces
 * cut out by fer-extract or fer-facetrack), else its `path` column (datasets
 * that are already face crops), resolved against the manifest's directory.
 * The label is the `label` column (optional: without it every label is
 * -1), in the canonical vocabulary of labels.h or one of its synonyms; an
 * empty label is -1 (a row to predict, or to skip when training); any other
 * unknown word is an error.
 *
 * An empty `crop` field is a frame where no face was found (fer-facetrack
 * --keep-empty writes such rows to keep every frame in the manifest): the
 * row is kept, with a NULL path, and left out of every group, so it is
 * neither trained on nor predicted, but fer-eval can keep frame alignment.
 * An empty `path` field (the image itself missing) is an error.
 */
#ifndef FER_EXAMPLES_H
#define FER_EXAMPLES_H

#include <stddef.h>

#include "rng.h"

struct fer_examples {
    size_t n;
    char **paths;     /* n resolved image paths, owned; NULL: no face */
    int *labels;      /* n canonical labels 0..7, or -1 */
    size_t *lines;    /* n manifest line numbers, for messages */
    /* With keep_rows: the header and every row's fields, owned. */
    size_t n_columns;
    char **header;
    char ***rows;
    char *name;       /* the manifest's name for messages ("stdin"), owned */
    char **clips;     /* n `clip` fields, owned; NULL without a clip column */
};

/* Read every row of the manifest at path ("-": stdin). keep_rows: also keep
 * the rows' fields (for fer-eval's predictions). Returns 0, or -1 with
 * fer_error() set ("line 7: unknown label 'happyy'", "no 'path' or 'crop'
 * column ...") and e empty. */
int fer_examples_read(const char *path, int keep_rows, struct fer_examples *e);
void fer_examples_free(struct fer_examples *e);

/* Examples per canonical label: counts[8], zeroed first; -1 and rows
 * without a face not counted. */
void fer_examples_count(const struct fer_examples *e, size_t counts[8]);

/* Examples of several frames: the rows grouped by their `clip` field, clips
 * in order of first appearance, rows in manifest order within a clip (the
 * order of time in fer-extract's and fer-facetrack's manifests). With
 * by_row = 1 every row is its own group (single-image examples). Rows
 * without a face (NULL path) are in no group. */
struct fer_example_groups {
    size_t n;       /* groups */
    size_t *start;  /* n + 1 offsets into rows */
    size_t *rows;   /* row indices, group after group */
    int *labels;    /* each group's canonical label, or -1 */
};
/* Fails without a clip column (by_row = 0) or when the labelled rows of a
 * clip disagree ("clip 'S1_happy': labels happiness and sadness"). */
int fer_examples_group(const struct fer_examples *e, int by_row, struct fer_example_groups *g);
void fer_example_groups_free(struct fer_example_groups *g);

/* Choose `segments` of a group's n rows, one per equal segment (the
 * frame sampling of TSN and of FAN's reference setup): a uniformly random
 * row of each segment with rng, the segment's middle row without (NULL).
 * With n < segments rows repeat. out: segments indices in 0..n-1. */
void fer_examples_sample(size_t n, int segments, struct fer_rng *rng, size_t *out);

#endif
