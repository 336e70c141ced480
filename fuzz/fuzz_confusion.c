/* fuzz_confusion.c - the confusion-matrix TSV reader on arbitrary bytes;
 * a matrix it accepts must survive the metrics and a write/read round trip
 * unchanged. */
#include "error.h"
#include "metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (fp == NULL)
        return 0;
    struct fer_confusion c;
    int rc = fer_confusion_read_stream(fp, "fuzz", &c);
    fclose(fp);
    if (rc != 0)
        return 0;
    struct fer_metrics *m = malloc(sizeof *m);
    if (m == NULL)
        abort();
    if (fer_metrics_compute(&c, m) == 0 && !(m->overall_accuracy >= 0 && m->overall_accuracy <= 1))
        abort();
    free(m);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out == NULL || fer_confusion_write_tsv(out, &c) != 0)
        abort();
    fclose(out);
    FILE *in = fmemopen(buf, len, "rb");
    struct fer_confusion back;
    if (in == NULL || fer_confusion_read_stream(in, "again", &back) != 0)
        abort();
    fclose(in);
    if (back.n_classes != c.n_classes ||
        memcmp(back.counts, c.counts,
               (size_t)c.n_classes * (size_t)c.n_classes * sizeof *c.counts) != 0)
        abort();
    fer_confusion_free(&back);
    fer_confusion_free(&c);
    free(buf);
    return 0;
}
