/* dataset_ckplus.c - the Extended Cohn-Kanade (CK+) tree.
 *
 *   ROOT/cohn-kanade-images/S005/001/S005_001_00000001.png ...
 *   ROOT/Emotion/S005/001/S005_001_00000011_emotion.txt   "   3.0000000e+00"
 *   ROOT/Landmarks/..., ROOT/FACS/...                     (not read)
 *
 * One clip per sequence directory, frames in natural order. Only 327 of the
 * 593 sequences carry an emotion file; the others get the empty label, so
 * they stay usable for self-supervised pretraining. CK+ is distributed as
 * separate archives, and a tree without Emotion/ at all is a plausible
 * download for pretraining only: then every label is NULL (unknown) rather
 * than "" (known to be unlabelled), and opening is not an error.
 */
#include "dataset_impl.h"
#include "error.h"
#include "labels.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ckplus {
    char *images;  /* ROOT/cohn-kanade-images */
    char *emotion; /* ROOT/Emotion, NULL when absent */
    char **subjects;
    size_t n_subjects, i_subject;
    char **sequences; /* of subjects[i_subject - 1] */
    size_t n_sequences, i_sequence;
};

static int ckplus_open(struct fer_dataset *d, const char *root,
                       const struct fer_dataset_options *options)
{
    (void)options;
    struct ckplus *c = calloc(1, sizeof *c);
    if (c == NULL)
        return fer_fail("out of memory");
    d->impl = c;
    if (fer_path_type(root) != FER_PATH_DIR)
        return fer_fail("%s: not a directory (expected the CK+ root)", root);
    if ((c->images = fer_path_join(root, "cohn-kanade-images")) == NULL)
        return -1;
    if (fer_path_type(c->images) != FER_PATH_DIR)
        return fer_fail("%s: no such directory (CK+ layout: "
                        "ROOT/cohn-kanade-images/Sxxx/yyy/*.png)",
                        c->images);
    char *emotion = fer_path_join(root, "Emotion");
    if (emotion == NULL)
        return -1;
    if (fer_path_type(emotion) == FER_PATH_DIR)
        c->emotion = emotion;
    else
        free(emotion);
    if (fer_dir_list(c->images, FER_LIST_DIRS, &c->subjects, &c->n_subjects) < 0)
        return -1;
    if (c->n_subjects == 0)
        return fer_fail("%s: no subject directories (Sxxx)", c->images);
    return fer_ids_check(c->images, c->subjects, c->n_subjects, 0, 0);
}

/* The code in an emotion file: one number, written by MATLAB as a float
 * ("   3.0000000e+00"), which must be a whole number 0..7. */
static int read_emotion(const char *path, int *label)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return fer_fail_errno("%s", path);
    char text[256];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    int bad_read = ferror(fp), more = !feof(fp) && getc(fp) != EOF;
    fclose(fp);
    if (bad_read)
        return fer_fail("%s: read error", path);
    if (more)
        return fer_fail("%s: not an emotion file (longer than %zu bytes)", path, sizeof text - 1);
    text[n] = '\0';
    if (memchr(text, '\0', n) != NULL)
        return fer_fail("%s: not an emotion file (NUL byte)", path);
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text)
        return fer_fail("%s: no emotion code in the file", path);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (*end != '\0')
        return fer_fail("%s: unexpected text after the emotion code", path);
    if (!(v >= 0 && v <= 7) || v != floor(v))
        return fer_fail("%s: emotion code %g is not a whole number 0..7", path, v);
    *label = fer_label_from_ckplus((int)v);
    return 0;
}

static int is_emotion_file(const char *name)
{
    static const char suffix[] = "_emotion.txt";
    size_t n = strlen(name), k = sizeof suffix - 1;
    return n > k && strcasecmp(name + n - k, suffix) == 0;
}

/* The label of subject/sequence: a canonical name, "" or NULL. */
static int sequence_label(const struct ckplus *c, const char *subject, const char *sequence,
                          const char **label)
{
    *label = NULL;
    if (c->emotion == NULL)
        return 0;
    *label = "";
    char *sub = fer_path_join(c->emotion, subject);
    char *dir = sub != NULL ? fer_path_join(sub, sequence) : NULL;
    free(sub);
    if (dir == NULL)
        return -1;
    int rc = 0;
    char **files = NULL;
    size_t n = 0;
    if (fer_path_type(dir) != FER_PATH_DIR)
        goto end;
    if ((rc = fer_dir_list(dir, FER_LIST_FILES, &files, &n)) < 0)
        goto end;
    const char *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!is_emotion_file(files[i]))
            continue;
        if (found != NULL) {
            rc = fer_fail("%s: two emotion files, %s and %s", dir, found, files[i]);
            goto end;
        }
        found = files[i];
    }
    if (found != NULL) {
        char *path = fer_path_join(dir, found);
        int code = -1;
        rc = path != NULL ? read_emotion(path, &code) : -1;
        free(path);
        if (rc == 0)
            *label = fer_label_name(code);
    }
end:
    fer_names_free(files, n);
    free(dir);
    return rc;
}

/* Make the next subject's sequences current; 0 when there are no more. */
static int next_subject(struct ckplus *c)
{
    while (c->i_subject < c->n_subjects) {
        fer_names_free(c->sequences, c->n_sequences);
        c->sequences = NULL;
        c->n_sequences = c->i_sequence = 0;
        char *dir = fer_path_join(c->images, c->subjects[c->i_subject++]);
        if (dir == NULL)
            return -1;
        int rc = fer_dir_list(dir, FER_LIST_DIRS, &c->sequences, &c->n_sequences);
        if (rc == 0)
            rc = fer_ids_check(dir, c->sequences, c->n_sequences, 0, 1);
        free(dir);
        if (rc < 0)
            return -1;
        if (c->n_sequences > 0)
            return 1;
    }
    return 0;
}

static int ckplus_next(struct fer_dataset *d)
{
    struct ckplus *c = d->impl;
    if (c->i_sequence >= c->n_sequences) {
        int rc = next_subject(c);
        if (rc <= 0)
            return rc;
    }
    const char *subject = c->subjects[c->i_subject - 1];
    const char *sequence = c->sequences[c->i_sequence++];
    char *sub = fer_path_join(c->images, subject);
    char *dir = sub != NULL ? fer_path_join(sub, sequence) : NULL;
    free(sub);
    if (dir == NULL)
        return -1;
    char **frames = NULL;
    size_t n = 0;
    int rc = fer_dir_list(dir, FER_LIST_FILES, &frames, &n);
    if (rc < 0)
        goto fail;
    /* Keep the images only: some sequences hold stray files. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (fer_name_is_image(frames[i]))
            frames[kept++] = frames[i];
        else
            free(frames[i]);
    }
    n = kept;
    if (n == 0) {
        rc = fer_fail("%s: no image files in the sequence", dir);
        goto fail;
    }
    fer_names_sort_natural(frames, n);
    for (size_t i = 0; i < n; i++) {
        char *path = fer_path_join(dir, frames[i]);
        if (path == NULL)
            goto fail;
        free(frames[i]);
        frames[i] = path;
    }
    const char *label;
    if (sequence_label(c, subject, sequence, &label) < 0)
        goto fail;
    const char *parts[] = {subject, sequence};
    free(dir);
    return fer_clip_set(d, FER_CLIP_SEQUENCE, fer_id_make(parts, 2, 0), frames, n, subject,
                        label, NULL) < 0
               ? -1
               : 1;
fail:
    fer_names_free(frames, n);
    free(dir);
    return -1;
}

static void ckplus_close(struct fer_dataset *d)
{
    struct ckplus *c = d->impl;
    if (c == NULL)
        return;
    free(c->images);
    free(c->emotion);
    fer_names_free(c->subjects, c->n_subjects);
    fer_names_free(c->sequences, c->n_sequences);
    free(c);
}

const struct fer_dataset_ops fer_dataset_ckplus_ops = {"ckplus", ckplus_open, ckplus_next,
                                                       ckplus_close};
