/* dataset_rafdb.c - the Real-world Affective Faces Database, basic part.
 *
 *   ROOT/basic/EmoLabel/list_patition_label.txt   "train_00001.jpg 5" per line
 *   ROOT/basic/Image/aligned/train_00001_aligned.jpg   (100x100 faces)
 *   ROOT/basic/Image/original/train_00001.jpg          (whole photos)
 *
 * ("patition" is the dataset's own spelling.) Codes 1..7 are Surprise, Fear,
 * Disgust, Happiness, Sadness, Anger, Neutral; the split is the name's
 * prefix, train_ or test_. The aligned faces are used when that folder
 * exists, since they are what the RAF-DB benchmarks train on.
 *
 * The label list (15,339 lines) is read whole at open so that duplicates
 * are found and every listed image is checked to exist before the first
 * clip: a damaged tree fails before any output is written. Images present
 * but not listed are ignored. Subjects are unknown: RAF-DB gives no ids.
 */
#include "dataset_impl.h"
#include "error.h"
#include "labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LINE_MAX_BYTES = 4096 };

struct entry {
    char *name; /* as listed: train_00001.jpg */
    int label;
    size_t line;
};

struct rafdb {
    char *list;   /* the label file, for messages */
    char *images; /* the aligned or original folder */
    int aligned;
    struct entry *entries;
    size_t n_entries, cap_entries, i_entry;
};

static int compare_entries(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* The image file of a listed name: "train_00001.jpg" is itself in
 * original/ and "train_00001_aligned.jpg" in aligned/. */
static char *image_path(const struct rafdb *r, const char *name)
{
    if (!r->aligned)
        return fer_path_join(r->images, name);
    const char *dot = strrchr(name, '.');
    size_t stem = dot != NULL ? (size_t)(dot - name) : strlen(name);
    const char *ext = name + stem;
    char *file = malloc(stem + sizeof "_aligned" + strlen(ext));
    if (file == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    memcpy(file, name, stem);
    strcpy(file + stem, "_aligned");
    strcat(file, ext);
    char *path = fer_path_join(r->images, file);
    free(file);
    return path;
}

static const char *split_of(const char *name)
{
    if (strncmp(name, "train_", 6) == 0)
        return "train";
    if (strncmp(name, "test_", 5) == 0)
        return "test";
    return NULL;
}

/* One line "name code"; blank lines are allowed and skipped. */
static int parse_line(struct rafdb *r, char *text, size_t line)
{
    char *save, *name = strtok_r(text, " \t\r\n", &save);
    if (name == NULL)
        return 0;
    char *code = strtok_r(NULL, " \t\r\n", &save);
    if (code == NULL)
        return fer_fail("%s: line %zu: no label code after '%s'", r->list, line, name);
    if (strtok_r(NULL, " \t\r\n", &save) != NULL)
        return fer_fail("%s: line %zu: more than two fields", r->list, line);
    if (strchr(name, '/') != NULL || split_of(name) == NULL)
        return fer_fail("%s: line %zu: '%s' is not an image name starting with train_ or test_",
                        r->list, line, name);
    int label = -1;
    if (code[0] >= '1' && code[0] <= '7' && code[1] == '\0')
        label = fer_label_from_rafdb(code[0] - '0');
    if (label < 0)
        return fer_fail("%s: line %zu: label code '%s' is not 1..7", r->list, line, code);
    if (r->n_entries == r->cap_entries) {
        size_t cap = r->cap_entries == 0 ? 1024 : r->cap_entries * 2;
        struct entry *grown = realloc(r->entries, cap * sizeof *grown);
        if (grown == NULL)
            return fer_fail("out of memory");
        r->entries = grown;
        r->cap_entries = cap;
    }
    char *copy = fer_strdup(name);
    if (copy == NULL)
        return -1;
    r->entries[r->n_entries++] = (struct entry){copy, label, line};
    return 0;
}

static int read_list(struct rafdb *r)
{
    FILE *fp = fopen(r->list, "r");
    if (fp == NULL)
        return fer_fail_errno("%s", r->list);
    char text[LINE_MAX_BYTES];
    size_t line = 0;
    int rc = 0;
    while (rc == 0 && fgets(text, sizeof text, fp) != NULL) {
        line++;
        size_t len = strlen(text);
        if (len == sizeof text - 1 && text[len - 1] != '\n')
            rc = fer_fail("%s: line %zu: longer than %d bytes", r->list, line,
                          LINE_MAX_BYTES - 2);
        else
            rc = parse_line(r, text, line);
    }
    if (rc == 0 && ferror(fp))
        rc = fer_fail("%s: read error", r->list);
    fclose(fp);
    if (rc == 0 && r->n_entries == 0)
        rc = fer_fail("%s: no entries", r->list);
    return rc;
}

static int check_entries(struct rafdb *r)
{
    qsort(r->entries, r->n_entries, sizeof *r->entries, compare_entries);
    for (size_t i = 0; i + 1 < r->n_entries; i++)
        if (strcmp(r->entries[i].name, r->entries[i + 1].name) == 0) {
            size_t a = r->entries[i].line, b = r->entries[i + 1].line;
            return fer_fail("%s: line %zu: '%s' is listed again (first on line %zu)", r->list,
                            a > b ? a : b, r->entries[i].name, a < b ? a : b);
        }
    /* Ids drop the extension: train_1.jpg and train_1.png would clash. */
    char **names = malloc(r->n_entries * sizeof *names);
    if (names == NULL)
        return fer_fail("out of memory");
    for (size_t i = 0; i < r->n_entries; i++)
        names[i] = r->entries[i].name;
    int rc = fer_ids_check(r->list, names, r->n_entries, 1, 1);
    free(names);
    for (size_t i = 0; i < r->n_entries && rc == 0; i++) {
        char *path = image_path(r, r->entries[i].name);
        if (path == NULL)
            return -1;
        if (fer_path_type(path) != FER_PATH_FILE)
            rc = fer_fail("%s: missing (listed on line %zu of %s)", path, r->entries[i].line,
                          r->list);
        free(path);
    }
    return rc;
}

static int rafdb_open(struct fer_dataset *d, const char *root,
                      const struct fer_dataset_options *options)
{
    (void)options;
    struct rafdb *r = calloc(1, sizeof *r);
    if (r == NULL)
        return fer_fail("out of memory");
    d->impl = r;
    if (fer_path_type(root) != FER_PATH_DIR)
        return fer_fail("%s: not a directory (expected the RAF-DB root)", root);
    char *basic = fer_path_join(root, "basic");
    if (basic == NULL)
        return -1;
    int rc = -1;
    char *image = NULL, *aligned = NULL, *original = NULL;
    if (fer_path_type(basic) != FER_PATH_DIR) {
        fer_fail("%s: no such directory (RAF-DB layout: ROOT/basic/EmoLabel, "
                 "ROOT/basic/Image)",
                 basic);
        goto end;
    }
    if ((r->list = fer_path_join(basic, "EmoLabel/list_patition_label.txt")) == NULL ||
        (image = fer_path_join(basic, "Image")) == NULL ||
        (aligned = fer_path_join(image, "aligned")) == NULL ||
        (original = fer_path_join(image, "original")) == NULL)
        goto end;
    if (fer_path_type(r->list) != FER_PATH_FILE) {
        errno = ENOENT;
        if (fer_path_type(r->list) == FER_PATH_MISSING)
            fer_fail_errno("%s", r->list);
        else
            fer_fail("%s: not a regular file", r->list);
        goto end;
    }
    if (fer_path_type(aligned) == FER_PATH_DIR) {
        r->images = aligned;
        r->aligned = 1;
        aligned = NULL;
    } else if (fer_path_type(original) == FER_PATH_DIR) {
        r->images = original;
        original = NULL;
    } else {
        fer_fail("%s: no aligned/ or original/ directory", image);
        goto end;
    }
    if (read_list(r) < 0 || check_entries(r) < 0)
        goto end;
    rc = 0;
end:
    free(basic);
    free(image);
    free(aligned);
    free(original);
    return rc;
}

static int rafdb_next(struct fer_dataset *d)
{
    struct rafdb *r = d->impl;
    if (r->i_entry >= r->n_entries)
        return 0;
    const struct entry *e = &r->entries[r->i_entry++];
    char **paths = malloc(sizeof *paths);
    if (paths == NULL)
        return fer_fail("out of memory");
    if ((paths[0] = image_path(r, e->name)) == NULL) {
        free(paths);
        return -1;
    }
    const char *name = e->name;
    return fer_clip_set(d, FER_CLIP_IMAGE, fer_id_make(&name, 1, 1), paths, 1, NULL,
                        fer_label_name(e->label), split_of(e->name)) < 0
               ? -1
               : 1;
}

static void rafdb_close(struct fer_dataset *d)
{
    struct rafdb *r = d->impl;
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_entries; i++)
        free(r->entries[i].name);
    free(r->entries);
    free(r->list);
    free(r->images);
    free(r);
}

const struct fer_dataset_ops fer_dataset_rafdb_ops = {"rafdb", rafdb_open, rafdb_next,
                                                      rafdb_close};
