/* dataset_fer2013.c - the FER2013 challenge file (Kaggle, ICML 2013).
 *
 *   emotion,pixels,Usage
 *   0,70 80 82 72 58 58 60 63 54 58 ...,Training
 *
 * Each row is one 48x48 grey face: 2304 values 0..255, row by row, separated
 * by spaces; emotion 0..6 is Angry, Disgust, Fear, Happy, Sad, Surprise,
 * Neutral; Usage Training, PublicTest (the challenge's public leaderboard,
 * which papers use as the validation set) or PrivateTest (the final
 * leaderboard, the test set) gives the split train, val or test.
 *
 * ROOT is the CSV file, or a directory holding fer2013.csv. The columns may
 * come in any order (Kaggle's later icml_face_data.csv has "emotion, Usage,
 * pixels"); only pixels is required: the challenge's test.csv has no
 * emotion (labels NULL) and train.csv no Usage (splits NULL). Columns we do
 * not know are ignored. The file is streamed a row at a time.
 */
#include "dataset_impl.h"
#include "error.h"
#include "labels.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    SIDE = 48,
    PIXELS = SIDE * SIDE,
    LINE_MAX_BYTES = 1 << 16, /* a row is at most 2304 * 4 bytes + labels */
    MAX_FIELDS = 16,
};

struct fer2013 {
    char *path;
    FILE *fp;
    char *line;
    size_t line_number, row;
    int n_fields;
    int emotion, pixels, usage; /* column indices, -1 when absent */
    uint8_t *data;
};

/* Split text at commas in place, trimming blanks and one pair of double
 * quotes around each field. Returns the number of fields, or MAX_FIELDS + 1
 * when there are more. */
static int split_fields(char *text, char *fields[MAX_FIELDS])
{
    int n = 0;
    for (char *p = text;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (n == MAX_FIELDS)
            return MAX_FIELDS + 1;
        while (isspace((unsigned char)*p))
            p++;
        size_t len = strlen(p);
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            p[--len] = '\0';
        if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
            p[len - 1] = '\0';
            p++;
        }
        fields[n++] = p;
        if (comma == NULL)
            return n;
        p = comma + 1;
    }
}

/* Read the next line into f->line without its end; 1, 0 at EOF, -1. */
static int read_line(struct fer2013 *f)
{
    if (fgets(f->line, LINE_MAX_BYTES, f->fp) == NULL) {
        if (ferror(f->fp))
            return fer_fail("%s: read error", f->path);
        return 0;
    }
    f->line_number++;
    size_t len = strlen(f->line);
    if (len > 0 && f->line[len - 1] == '\n')
        f->line[--len] = '\0';
    else if (!feof(f->fp))
        return fer_fail("%s: line %zu: longer than %d bytes", f->path, f->line_number,
                        LINE_MAX_BYTES - 2);
    if (len > 0 && f->line[len - 1] == '\r')
        f->line[--len] = '\0';
    return 1;
}

static int read_header(struct fer2013 *f)
{
    int rc = read_line(f);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return fer_fail("%s: empty file (expected the header emotion,pixels,Usage)", f->path);
    char *fields[MAX_FIELDS];
    int n = split_fields(f->line, fields);
    if (n > MAX_FIELDS)
        return fer_fail("%s: line 1: more than %d columns", f->path, MAX_FIELDS);
    f->emotion = f->pixels = f->usage = -1;
    for (int i = 0; i < n; i++) {
        int *column = strcasecmp(fields[i], "emotion") == 0  ? &f->emotion
                      : strcasecmp(fields[i], "pixels") == 0 ? &f->pixels
                      : strcasecmp(fields[i], "usage") == 0  ? &f->usage
                                                             : NULL;
        if (column == NULL)
            continue;
        if (*column >= 0)
            return fer_fail("%s: line 1: column '%s' appears twice", f->path, fields[i]);
        *column = i;
    }
    if (f->pixels < 0)
        return fer_fail("%s: line 1: no pixels column (expected the header "
                        "emotion,pixels,Usage)",
                        f->path);
    f->n_fields = n;
    return 0;
}

static int fer2013_open(struct fer_dataset *d, const char *root,
                        const struct fer_dataset_options *options)
{
    (void)options;
    struct fer2013 *f = calloc(1, sizeof *f);
    if (f == NULL)
        return fer_fail("out of memory");
    d->impl = f;
    enum fer_path_type type = fer_path_type(root);
    f->path = type == FER_PATH_DIR ? fer_path_join(root, "fer2013.csv") : fer_strdup(root);
    if (f->path == NULL)
        return -1;
    if (type == FER_PATH_DIR && fer_path_type(f->path) == FER_PATH_DIR)
        return fer_fail("%s: is a directory", f->path);
    if ((f->fp = fopen(f->path, "r")) == NULL)
        return fer_fail_errno("%s", f->path);
    if ((f->line = malloc(LINE_MAX_BYTES)) == NULL || (f->data = malloc(PIXELS)) == NULL)
        return fer_fail("out of memory");
    d->clip.pixels = (struct fer_image){SIDE, SIDE, 1, SIDE, f->data};
    return read_header(f);
}

static int parse_pixels(const struct fer2013 *f, const char *text)
{
    const char *p = text;
    size_t n = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (n == PIXELS)
            return fer_fail("%s: line %zu: more than %d pixel values", f->path, f->line_number,
                            PIXELS);
        const char *start = p;
        int value = 0;
        for (; isdigit((unsigned char)*p); p++)
            if (value <= 255) /* saturate: no overflow on long runs */
                value = value * 10 + (*p - '0');
        if (p == start || value > 255 || (*p != '\0' && *p != ' ' && *p != '\t')) {
            size_t len = strcspn(start, " \t");
            return fer_fail("%s: line %zu: pixel %zu is not a number 0..255 (near '%.*s')",
                            f->path, f->line_number, n + 1, (int)(len < 16 ? len : 16), start);
        }
        f->data[n++] = (uint8_t)value;
    }
    if (n != PIXELS)
        return fer_fail("%s: line %zu: %zu pixel values, expected %d (48x48)", f->path,
                        f->line_number, n, PIXELS);
    return 0;
}

static int parse_usage(const struct fer2013 *f, const char *text, const char **split)
{
    if (strcasecmp(text, "Training") == 0)
        *split = "train";
    else if (strcasecmp(text, "PublicTest") == 0)
        *split = "val";
    else if (strcasecmp(text, "PrivateTest") == 0)
        *split = "test";
    else
        return fer_fail("%s: line %zu: Usage '%s' is not Training, PublicTest or PrivateTest",
                        f->path, f->line_number, text);
    return 0;
}

static int fer2013_next(struct fer_dataset *d)
{
    struct fer2013 *f = d->impl;
    int rc;
    /* Blank lines (a trailing one is common) are not rows. */
    do
        rc = read_line(f);
    while (rc > 0 && f->line[strspn(f->line, " \t")] == '\0');
    if (rc <= 0)
        return rc;
    char *fields[MAX_FIELDS];
    int n = split_fields(f->line, fields);
    if (n != f->n_fields)
        return fer_fail("%s: line %zu: %s%d fields, the header has %d", f->path,
                        f->line_number, n > MAX_FIELDS ? "more than " : "",
                        n > MAX_FIELDS ? MAX_FIELDS : n, f->n_fields);
    const char *label = NULL, *split = NULL;
    if (f->emotion >= 0) {
        const char *e = fields[f->emotion];
        int code = e[0] >= '0' && e[0] <= '9' && e[1] == '\0' ? e[0] - '0' : -1;
        if ((label = fer_label_name(fer_label_from_fer2013(code))) == NULL)
            return fer_fail("%s: line %zu: emotion '%s' is not 0..6", f->path, f->line_number,
                            e);
    }
    if (f->usage >= 0 && parse_usage(f, fields[f->usage], &split) < 0)
        return -1;
    if (parse_pixels(f, fields[f->pixels]) < 0)
        return -1;
    char id[64];
    snprintf(id, sizeof id, "fer2013_%06zu", f->row++);
    char *copy = fer_strdup(id);
    return fer_clip_set(d, FER_CLIP_PIXELS, copy, NULL, 0, NULL, label, split) < 0 ? -1 : 1;
}

static void fer2013_close(struct fer_dataset *d)
{
    struct fer2013 *f = d->impl;
    if (f == NULL)
        return;
    if (f->fp != NULL)
        fclose(f->fp);
    free(f->path);
    free(f->line);
    free(f->data);
    free(f);
    d->clip.pixels = (struct fer_image){0};
}

const struct fer_dataset_ops fer_dataset_fer2013_ops = {"fer2013", fer2013_open, fer2013_next,
                                                        fer2013_close};
