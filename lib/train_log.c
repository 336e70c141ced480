/* train_log.c - the training log TSV (train_log.h). */
#include "train_log.h"

#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const standard_columns[] = {"epoch", "step", "loss", "accuracy", "lr",
                                               "seconds"};
enum { N_STANDARD = 6 };

struct fer_train_log {
    FILE *fp;
    char *path;
    int n_extra;
};

/* The header line without its newline, malloc'ed. */
static char *header_make(const char *const *extra, int n_extra)
{
    size_t size = 1;
    for (int i = 0; i < N_STANDARD; i++)
        size += strlen(standard_columns[i]) + 1;
    for (int i = 0; i < n_extra; i++)
        size += strlen(extra[i]) + 1;
    char *h = malloc(size);
    if (h == NULL)
        return NULL;
    h[0] = '\0';
    for (int i = 0; i < N_STANDARD + n_extra; i++) {
        if (i > 0)
            strcat(h, "\t");
        strcat(h, i < N_STANDARD ? standard_columns[i] : extra[i - N_STANDARD]);
    }
    return h;
}

/* Keep the header and the rows with step <= resume_step of an existing log,
 * cut the rest. 1: done, 0: no such file, -1: error. */
static int log_truncate(const char *path, const char *header, int64_t resume_step)
{
    FILE *fp = fopen(path, "r+");
    if (fp == NULL) {
        if (errno == ENOENT)
            return 0;
        return fer_fail_errno("cannot open '%s'", path);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long keep = 0;
    int rc = 1, row = 0;
    while ((len = getline(&line, &cap, fp)) > 0) {
        if (line[len - 1] != '\n')
            break; /* a line cut short by a kill: drop it */
        line[len - 1] = '\0';
        if (row++ == 0) {
            if (strcmp(line, header) != 0) {
                rc = fer_fail("log '%s' has columns '%s', expected '%s'", path, line, header);
                break;
            }
        } else {
            const char *tab = strchr(line, '\t');
            char *end;
            errno = 0;
            long long step = tab != NULL ? strtoll(tab + 1, &end, 10) : 0;
            if (tab == NULL || end == tab + 1 || *end != '\t' || errno != 0) {
                rc = fer_fail("log '%s': line %d: no step", path, row);
                break;
            }
            if (step > resume_step)
                break;
        }
        keep = ftell(fp);
    }
    free(line);
    if (rc == 1 && row == 0)
        rc = fer_fail("log '%s' is empty", path);
    if (rc == 1 && (fflush(fp) != 0 || ftruncate(fileno(fp), keep) != 0))
        rc = fer_fail_errno("cannot truncate '%s'", path);
    if (fclose(fp) != 0 && rc == 1)
        rc = fer_fail_errno("cannot close '%s'", path);
    return rc;
}

struct fer_train_log *fer_train_log_open(const char *path, const char *const *extra,
                                         int n_extra, int64_t resume_step)
{
    if (n_extra < 0 || (n_extra > 0 && extra == NULL)) {
        fer_fail("bad extra columns for log '%s'", path);
        return NULL;
    }
    struct fer_train_log *l = calloc(1, sizeof *l);
    char *header = header_make(extra, n_extra);
    if (l == NULL || header == NULL || (l->path = strdup(path)) == NULL) {
        fer_fail("out of memory");
        goto fail;
    }
    l->n_extra = n_extra;
    int existing = 0;
    if (resume_step >= 0) {
        existing = log_truncate(path, header, resume_step);
        if (existing < 0)
            goto fail;
    }
    l->fp = fopen(path, existing ? "a" : "w");
    if (l->fp == NULL) {
        fer_fail_errno("cannot open '%s'", path);
        goto fail;
    }
    if (!existing && (fprintf(l->fp, "%s\n", header) < 0 || fflush(l->fp) != 0)) {
        fer_fail_errno("cannot write '%s'", path);
        goto fail;
    }
    free(header);
    return l;
fail:
    free(header);
    if (l != NULL && l->fp != NULL)
        fclose(l->fp);
    if (l != NULL)
        free(l->path);
    free(l);
    return NULL;
}

static void put_number(FILE *fp, double v)
{
    if (isnan(v))
        fputs("\t", fp);
    else
        fprintf(fp, "\t%.6g", v);
}

int fer_train_log_write(struct fer_train_log *l, int epoch, int64_t step, double loss,
                        double accuracy, double lr, double seconds, const double *extra)
{
    fprintf(l->fp, "%d\t%lld", epoch, (long long)step);
    put_number(l->fp, loss);
    put_number(l->fp, accuracy);
    put_number(l->fp, lr);
    fprintf(l->fp, "\t%.3f", seconds);
    for (int i = 0; i < l->n_extra; i++)
        put_number(l->fp, extra != NULL ? extra[i] : NAN);
    if (fputc('\n', l->fp) == EOF || fflush(l->fp) != 0 || ferror(l->fp))
        return fer_fail_errno("cannot write '%s'", l->path);
    return 0;
}

int fer_train_log_close(struct fer_train_log *l)
{
    if (l == NULL)
        return 0;
    int rc = 0;
    if (fclose(l->fp) != 0)
        rc = fer_fail_errno("cannot close '%s'", l->path);
    free(l->path);
    free(l);
    return rc;
}
