/* metrics.c - confusion matrices, per-class figures, the metrics TSV. */
#include "metrics.h"

#include "error.h"
#include "labels.h"
#include "manifest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= FER_METRICS_MAX_NAME && strpbrk(s, "\t\r\n") == NULL;
}

int fer_confusion_init(struct fer_confusion *c, int n_classes, const char *const *names)
{
    memset(c, 0, sizeof *c);
    if (n_classes < 1 || n_classes > FER_METRICS_MAX_CLASSES)
        return fer_fail("%d classes (must be 1..%d)", n_classes, FER_METRICS_MAX_CLASSES);
    if (names == NULL && n_classes != FER_LABEL_COUNT)
        return fer_fail("%d classes without names (the canonical list has %d)", n_classes,
                        FER_LABEL_COUNT);
    c->names = calloc((size_t)n_classes, sizeof *c->names);
    c->counts = calloc((size_t)n_classes * (size_t)n_classes, sizeof *c->counts);
    if (c->names == NULL || c->counts == NULL) {
        fer_confusion_free(c);
        return fer_fail("out of memory");
    }
    c->n_classes = n_classes;
    for (int i = 0; i < n_classes; i++) {
        const char *name = names ? names[i] : fer_label_name(i);
        if (!name_ok(name)) {
            fer_confusion_free(c);
            return fer_fail("class %d: bad name '%s'", i, name ? name : "");
        }
        for (int j = 0; j < i; j++)
            if (strcmp(c->names[j], name) == 0) {
                fer_confusion_free(c);
                return fer_fail("class '%s' listed twice", name);
            }
        if ((c->names[i] = strdup(name)) == NULL) {
            fer_confusion_free(c);
            return fer_fail("out of memory");
        }
    }
    return 0;
}

void fer_confusion_free(struct fer_confusion *c)
{
    if (c->names)
        for (int i = 0; i < c->n_classes; i++)
            free(c->names[i]);
    free(c->names);
    free(c->counts);
    memset(c, 0, sizeof *c);
}

int fer_confusion_add(struct fer_confusion *c, int truth, int predicted)
{
    int n = c->n_classes;
    if (truth < 0 || truth >= n)
        return fer_fail("true class %d out of range 0..%d", truth, n - 1);
    if (predicted < 0 || predicted >= n)
        return fer_fail("predicted class %d out of range 0..%d", predicted, n - 1);
    c->counts[(size_t)truth * (size_t)n + (size_t)predicted]++;
    return 0;
}

int fer_confusion_find(const struct fer_confusion *c, const char *name)
{
    for (int i = 0; i < c->n_classes; i++)
        if (strcmp(c->names[i], name) == 0)
            return i;
    return -1;
}

uint64_t fer_confusion_at(const struct fer_confusion *c, int truth, int predicted)
{
    return c->counts[(size_t)truth * (size_t)c->n_classes + (size_t)predicted];
}

uint64_t fer_confusion_total(const struct fer_confusion *c)
{
    uint64_t t = 0;
    for (size_t i = 0; i < (size_t)c->n_classes * (size_t)c->n_classes; i++)
        t += c->counts[i];
    return t;
}

int fer_confusion_merge(struct fer_confusion *dst, const struct fer_confusion *src)
{
    if (dst->n_classes != src->n_classes)
        return fer_fail("class lists differ (%d and %d classes)", dst->n_classes,
                        src->n_classes);
    for (int i = 0; i < dst->n_classes; i++)
        if (strcmp(dst->names[i], src->names[i]) != 0)
            return fer_fail("class lists differ ('%s' and '%s')", dst->names[i], src->names[i]);
    for (size_t i = 0; i < (size_t)dst->n_classes * (size_t)dst->n_classes; i++)
        dst->counts[i] += src->counts[i];
    return 0;
}

static double ratio(uint64_t num, uint64_t den)
{
    return den == 0 ? 0.0 : (double)num / (double)den;
}

int fer_metrics_compute(const struct fer_confusion *c, struct fer_metrics *m)
{
    memset(m, 0, sizeof *m);
    int n = c->n_classes;
    m->n_classes = n;
    m->total = fer_confusion_total(c);
    if (m->total == 0)
        return fer_fail("no samples");
    uint64_t correct = 0;
    double recall_sum = 0;
    for (int k = 0; k < n; k++) {
        uint64_t tp = fer_confusion_at(c, k, k), row = 0, col = 0;
        for (int j = 0; j < n; j++) {
            row += fer_confusion_at(c, k, j);
            col += fer_confusion_at(c, j, k);
        }
        struct fer_class_metrics *cm = &m->cls[k];
        cm->support = row;
        cm->predicted = col;
        cm->precision = ratio(tp, col);
        cm->recall = ratio(tp, row);
        /* 2tp + fp + fn = row + col. */
        cm->f1 = ratio(2 * tp, row + col);
        correct += tp;
        if (row > 0) {
            recall_sum += cm->recall;
            m->classes_with_support++;
        }
    }
    m->overall_accuracy = ratio(correct, m->total);
    m->average_accuracy = recall_sum / m->classes_with_support; /* >= 1: total > 0 */
    return 0;
}

int fer_metrics_write_tsv(FILE *fp, const struct fer_confusion *c)
{
    struct fer_metrics *m = malloc(sizeof *m);
    if (m == NULL)
        return fer_fail("out of memory");
    if (fer_metrics_compute(c, m) != 0) {
        free(m);
        return -1;
    }
    fprintf(fp, "metric\tvalue\n");
    fprintf(fp, "overall_accuracy\t%.6f\n", m->overall_accuracy);
    fprintf(fp, "average_accuracy\t%.6f\n", m->average_accuracy);
    for (int k = 0; k < c->n_classes; k++) {
        const struct fer_class_metrics *cm = &m->cls[k];
        fprintf(fp, "precision_%s\t%.6f\n", c->names[k], cm->precision);
        fprintf(fp, "recall_%s\t%.6f\n", c->names[k], cm->recall);
        fprintf(fp, "f1_%s\t%.6f\n", c->names[k], cm->f1);
        fprintf(fp, "support_%s\t%llu\n", c->names[k], (unsigned long long)cm->support);
    }
    free(m);
    if (fflush(fp) != 0 || ferror(fp))
        return fer_fail_errno("write error");
    return 0;
}

int fer_confusion_write_tsv(FILE *fp, const struct fer_confusion *c)
{
    fputs("true", fp);
    for (int j = 0; j < c->n_classes; j++)
        fprintf(fp, "\t%s", c->names[j]);
    fputc('\n', fp);
    for (int i = 0; i < c->n_classes; i++) {
        fputs(c->names[i], fp);
        for (int j = 0; j < c->n_classes; j++)
            fprintf(fp, "\t%llu", (unsigned long long)fer_confusion_at(c, i, j));
        fputc('\n', fp);
    }
    if (fflush(fp) != 0 || ferror(fp))
        return fer_fail_errno("write error");
    return 0;
}

static int parse_count(const char *s, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int read_rows(struct fer_manifest *in, struct fer_confusion *c)
{
    char **f;
    int row = 0, r;
    while ((r = fer_manifest_next(in, &f)) == 1) {
        size_t line = fer_manifest_line(in);
        if (row >= c->n_classes)
            return fer_fail("line %zu: more rows than classes", line);
        if (strcmp(f[0], c->names[row]) != 0)
            return fer_fail("line %zu: row '%s' where '%s' was expected", line, f[0],
                            c->names[row]);
        for (int j = 0; j < c->n_classes; j++)
            if (parse_count(f[j + 1], &c->counts[(size_t)row * (size_t)c->n_classes + (size_t)j]))
                return fer_fail("line %zu: bad count '%s'", line, f[j + 1]);
        row++;
    }
    if (r < 0)
        return -1;
    if (row < c->n_classes)
        return fer_fail("%d rows for %d classes", row, c->n_classes);
    return 0;
}

static int read_manifest(struct fer_manifest *in, struct fer_confusion *c)
{
    size_t cols = fer_manifest_columns(in);
    const char *const *h = fer_manifest_header(in);
    int rc = -1;
    if (cols < 2 || strcmp(h[0], "true") != 0)
        fer_fail("not a confusion matrix: the header must be 'true' then class names");
    else if (fer_confusion_init(c, (int)(cols - 1), h + 1) == 0) {
        rc = read_rows(in, c);
        if (rc != 0)
            fer_confusion_free(c);
    }
    fer_manifest_close(in);
    return rc;
}

int fer_confusion_read_tsv(const char *path, struct fer_confusion *c)
{
    memset(c, 0, sizeof *c);
    struct fer_manifest *in = fer_manifest_open(path);
    return in ? read_manifest(in, c) : -1;
}

int fer_confusion_read_stream(FILE *fp, const char *name, struct fer_confusion *c)
{
    memset(c, 0, sizeof *c);
    struct fer_manifest *in = fer_manifest_from_stream(fp, name, NULL);
    return in ? read_manifest(in, c) : -1;
}

int fer_stats_mean_std(const double *x, size_t n, double *mean, double *std)
{
    if (n == 0)
        return fer_fail("no values");
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    double mu = s / (double)n, ss = 0;
    /* Two passes: the textbook one-pass formula loses digits when the
     * values are close, as fold accuracies are. */
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mu) * (x[i] - mu);
    *mean = mu;
    *std = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    return 0;
}

int fer_metrics_write_folds_tsv(FILE *fp, const struct fer_metrics *const *folds, size_t n)
{
    if (n == 0)
        return fer_fail("no folds");
    double *v = malloc(n * sizeof *v);
    if (v == NULL)
        return fer_fail("out of memory");
    fputs("metric\tmean\tstd", fp);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "\tfold%zu", i);
    fputc('\n', fp);
    for (int which = 0; which < 2; which++) {
        for (size_t i = 0; i < n; i++)
            v[i] = which ? folds[i]->average_accuracy : folds[i]->overall_accuracy;
        double mean, std;
        fer_stats_mean_std(v, n, &mean, &std);
        fprintf(fp, "%s\t%.6f\t%.6f", which ? "average_accuracy" : "overall_accuracy", mean, std);
        for (size_t i = 0; i < n; i++)
            fprintf(fp, "\t%.6f", v[i]);
        fputc('\n', fp);
    }
    free(v);
    if (fflush(fp) != 0 || ferror(fp))
        return fer_fail_errno("write error");
    return 0;
}
