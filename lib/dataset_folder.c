/* dataset_folder.c - one folder per class (torchvision's ImageFolder).
 *
 *   ROOT/<class>/<image>    (png, jpg or jpeg, any case)
 *   ROOT/<split>/<class>/<image>, split one of train, val, test
 *
 * The second form is how FER2013 and RAF-DB are often passed around as
 * images; it is chosen when any folder of ROOT is a split name, and then all
 * must be. Class names go through fer_label_from_name; folders it does not
 * know (numbered classes, "contempt2", ...) are skipped and reported by
 * fer_dataset_unmapped. Unlike ImageFolder we do not descend into
 * sub-folders of a class: a nested folder is more often a mistake than a
 * class of its own.
 */
#include "dataset_impl.h"
#include "error.h"
#include "labels.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct folder {
    struct fer_class_walk walk;
    regex_t regex;
    int has_regex;
    const char *regex_text;
};

/* "train", "val", "test" for a split folder's name, else NULL. */
static const char *split_of(const char *name)
{
    static const struct {
        const char *name, *split;
    } names[] = {
        {"train", "train"}, {"training", "train"}, {"val", "val"},     {"valid", "val"},
        {"validation", "val"}, {"test", "test"},   {"testing", "test"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].split;
    return NULL;
}

/* Add the class folders of dir (ROOT or ROOT/split). */
static int add_classes(struct folder *f, const char *dir, const char *split)
{
    char **classes;
    size_t n;
    if (fer_dir_list(dir, FER_LIST_DIRS, &classes, &n) < 0)
        return -1;
    int rc = fer_ids_check(dir, classes, n, 0, 0);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *path = fer_path_join(dir, classes[i]);
        rc = path != NULL ? fer_class_walk_add(&f->walk, path, classes[i], split) : -1;
        free(path);
    }
    fer_names_free(classes, n);
    return rc;
}

static int compile_regex(struct folder *f, const char *text)
{
    int err = regcomp(&f->regex, text, REG_EXTENDED);
    if (err != 0) {
        char why[256];
        regerror(err, &f->regex, why, sizeof why);
        return fer_fail("subject regex '%s': %s", text, why);
    }
    f->has_regex = 1;
    f->regex_text = text;
    if (f->regex.re_nsub < 1)
        return fer_fail("subject regex '%s' has no capture group for the subject", text);
    return 0;
}

static int folder_open(struct fer_dataset *d, const char *root,
                       const struct fer_dataset_options *options)
{
    struct folder *f = calloc(1, sizeof *f);
    if (f == NULL)
        return fer_fail("out of memory");
    d->impl = f;
    f->walk.accept = fer_name_is_image;
    if (options->subject_regex != NULL && compile_regex(f, options->subject_regex) < 0)
        return -1;
    if (fer_path_type(root) != FER_PATH_DIR)
        return fer_fail("%s: not a directory", root);
    char **top;
    size_t n;
    if (fer_dir_list(root, FER_LIST_DIRS, &top, &n) < 0)
        return -1;
    const char *a_split = NULL, *a_class = NULL;
    for (size_t i = 0; i < n; i++) {
        if (split_of(top[i]) != NULL)
            a_split = top[i];
        else
            a_class = top[i];
    }
    int rc = 0;
    if (a_split != NULL && a_class != NULL)
        rc = fer_fail("%s: mixes split folders (%s) with class folders (%s)", root, a_split,
                      a_class);
    else if (a_split == NULL)
        rc = add_classes(f, root, NULL);
    for (size_t i = 0; i < n && rc == 0 && a_split != NULL; i++) {
        char *dir = fer_path_join(root, top[i]);
        rc = dir != NULL ? add_classes(f, dir, split_of(top[i])) : -1;
        free(dir);
    }
    /* Two folders of one split ("val", "valid") would interleave. */
    for (size_t i = 0; i < n && rc == 0 && a_split != NULL; i++)
        for (size_t j = i + 1; j < n && rc == 0; j++)
            if (split_of(top[i]) == split_of(top[j]))
                rc = fer_fail("%s: folders %s and %s are both the %s split", root, top[i],
                              top[j], split_of(top[i]));
    fer_names_free(top, n);
    if (rc == 0 && f->walk.n_dirs == 0)
        rc = fer_fail("%s: no class folders (layout: ROOT/<class>/<image> or "
                      "ROOT/{train,val,test}/<class>/<image>)",
                      root);
    if (rc == 0)
        rc = fer_class_walk_check_known(&f->walk, root);
    return rc;
}

/* The subject captured from a file name by the regex. */
static int subject_of(const struct folder *f, const char *dir, const char *file, char **subject)
{
    *subject = NULL;
    if (!f->has_regex)
        return 0;
    regmatch_t m[2];
    if (regexec(&f->regex, file, 2, m, 0) != 0)
        return fer_fail("%s/%s: file name does not match the subject regex '%s'", dir, file,
                        f->regex_text);
    if (m[1].rm_so < 0 || m[1].rm_eo <= m[1].rm_so)
        return fer_fail("%s/%s: the subject regex '%s' captured an empty subject", dir, file,
                        f->regex_text);
    size_t len = (size_t)(m[1].rm_eo - m[1].rm_so);
    if ((*subject = malloc(len + 1)) == NULL)
        return fer_fail("out of memory");
    memcpy(*subject, file + m[1].rm_so, len);
    (*subject)[len] = '\0';
    return 0;
}

static int folder_next(struct fer_dataset *d)
{
    struct folder *f = d->impl;
    const struct fer_class_dir *dir;
    const char *file;
    int rc = fer_class_walk_next(d, &f->walk, &dir, &file);
    if (rc <= 0)
        return rc;
    char *subject;
    if (subject_of(f, dir->path, file, &subject) < 0)
        return -1;
    char **paths = malloc(sizeof *paths);
    if (paths == NULL || (paths[0] = fer_path_join(dir->path, file)) == NULL) {
        free(paths);
        free(subject);
        return fer_fail("out of memory");
    }
    const char *parts[] = {dir->split, dir->name, file};
    size_t skip = dir->split == NULL;
    rc = fer_clip_set(d, FER_CLIP_IMAGE, fer_id_make(parts + skip, 3 - skip, 1), paths, 1,
                      subject, fer_label_name(dir->label), dir->split);
    free(subject);
    return rc < 0 ? -1 : 1;
}

static void folder_close(struct fer_dataset *d)
{
    struct folder *f = d->impl;
    if (f == NULL)
        return;
    fer_class_walk_free(&f->walk);
    if (f->has_regex)
        regfree(&f->regex);
    free(f);
}

const struct fer_dataset_ops fer_dataset_folder_ops = {"folder", folder_open, folder_next,
                                                       folder_close};
