/* metrics.h - confusion matrices and the classification figures papers report.
 *
 * A confusion matrix counts (true class, predicted class) pairs over a class
 * list: the canonical eight (labels.h) or any list of names (a model's
 * classes). Rows are true classes, columns predicted classes.
 *
 * Definitions (they match scikit-learn 1.2 with zero_division=0, and
 * the CK+/RAF-DB/AffectNet papers):
 *   overall_accuracy  = trace / total
 *   recall_c          = C[c][c] / support_c          (0 when support_c = 0)
 *   precision_c       = C[c][c] / predicted_c        (0 when nothing was
 *                                                    predicted as c)
 *   f1_c              = 2 tp / (2 tp + fp + fn)      (0 when tp+fp+fn = 0;
 *                       equal to 2PR/(P+R), 0 when P+R = 0, as sklearn)
 *   average_accuracy  = mean of recall_c over the classes with support_c > 0
 *                       (sklearn's balanced_accuracy_score: a class that
 *                       has no true samples has no recall and is left out of
 *                       the mean, rather than counted as 0 which would
 *                       punish a test set for lacking contempt, say).
 * where support_c is row c's sum and predicted_c column c's sum.
 */
#ifndef FER_METRICS_H
#define FER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { FER_METRICS_MAX_CLASSES = 256, FER_METRICS_MAX_NAME = 64 };

struct fer_confusion {
    int n_classes;
    char **names;      /* n_classes owned copies */
    uint64_t *counts;  /* n_classes * n_classes, row-major: [true][predicted] */
};

/* Start an all-zero matrix. names: n_classes class names (copied), or NULL
 * for the canonical labels (then n_classes must be FER_LABEL_COUNT). Names
 * must be non-empty, unique, at most FER_METRICS_MAX_NAME bytes, without
 * TAB/CR/LF. Returns 0, or -1 with fer_error() set. */
int fer_confusion_init(struct fer_confusion *c, int n_classes, const char *const *names);
void fer_confusion_free(struct fer_confusion *c);

/* Count one example. Returns 0, or -1 ("class 9 out of range 0..7"). */
int fer_confusion_add(struct fer_confusion *c, int truth, int predicted);
/* Index of a class name (exact match), or -1. */
int fer_confusion_find(const struct fer_confusion *c, const char *name);
uint64_t fer_confusion_at(const struct fer_confusion *c, int truth, int predicted);
uint64_t fer_confusion_total(const struct fer_confusion *c);
/* Sum of two matrices over the same class list (folds pooled): dst += src.
 * Returns -1 ("class lists differ") when the lists differ. */
int fer_confusion_merge(struct fer_confusion *dst, const struct fer_confusion *src);

struct fer_class_metrics {
    double precision, recall, f1;
    uint64_t support;   /* true samples of the class (row sum) */
    uint64_t predicted; /* samples predicted as the class (column sum) */
};

struct fer_metrics {
    double overall_accuracy, average_accuracy;
    uint64_t total;
    int n_classes;
    int classes_with_support; /* the denominator of average_accuracy */
    struct fer_class_metrics cls[FER_METRICS_MAX_CLASSES];
};

/* Compute every figure above. Fails (-1, "no samples") on an empty matrix,
 * whose accuracy is undefined. */
int fer_metrics_compute(const struct fer_confusion *c, struct fer_metrics *m);

/* The metrics TSV: header "metric<TAB>value", then overall_accuracy,
 * average_accuracy, then for each class in order precision_<name>,
 * recall_<name>, f1_<name> (fractions, "%.6f") and support_<name> (an
 * integer count). Returns 0, or -1 with fer_error() set on a write error
 * or an empty matrix. */
int fer_metrics_write_tsv(FILE *fp, const struct fer_confusion *c);

/* The confusion TSV: header "true" then the class names (predicted), then
 * one row per true class: its name, then the counts. */
int fer_confusion_write_tsv(FILE *fp, const struct fer_confusion *c);
/* Read that format back (path "-" is stdin). The header names the classes;
 * each row must name the classes in the same order, counts are decimal
 * integers. *c is initialized on success. Errors: "line 3: row 'anger'
 * where 'contempt' was expected", "line 2: bad count 'x'". */
int fer_confusion_read_tsv(const char *path, struct fer_confusion *c);
/* The same from an open stream (not closed); name is for messages. */
int fer_confusion_read_stream(FILE *fp, const char *name, struct fer_confusion *c);

/* Cross-validation summary: header "metric<TAB>mean<TAB>std<TAB>fold0<TAB>
 * ...<TAB>fold<n-1>", then the rows overall_accuracy and average_accuracy
 * ("%.6f"; std as fer_stats_mean_std). folds[i] are the per-fold metrics
 * (fer_metrics_compute). Returns 0, or -1 on n = 0 or a write error. */
int fer_metrics_write_folds_tsv(FILE *fp, const struct fer_metrics *const *folds, size_t n);

/* Mean and sample standard deviation (n - 1 in the denominator, like
 * numpy.std(ddof=1) and the "mean ± std over 10 folds" of papers) of n
 * values. For n = 1 the std is reported as 0 (numpy gives NaN); n = 0 is an
 * error. */
int fer_stats_mean_std(const double *x, size_t n, double *mean, double *std);

#endif
