/* dataset_afew.c - Acted Facial Expressions in the Wild (AFEW, EmotiW).
 *
 *   ROOT/Train/<Emotion>/<id>.avi
 *   ROOT/Val/<Emotion>/<id>.avi
 *
 * Emotion folders are Angry Disgust Fear Happy Neutral Sad Surprise; the
 * split and the label come from the path. AFEW's Test set has no labels
 * and no fixed folder, so it is not read. One of Train/ and Val/ may be
 * missing (the archives come apart), not both. Subjects are unknown: AFEW
 * cuts clips from films and gives no actor ids.
 */
#include "dataset_impl.h"
#include "error.h"
#include "labels.h"

#include <stdlib.h>
#include <string.h>

struct afew {
    struct fer_class_walk walk;
};

static int afew_open(struct fer_dataset *d, const char *root,
                     const struct fer_dataset_options *options)
{
    (void)options;
    static const struct {
        const char *dir, *split;
    } splits[] = {{"Train", "train"}, {"Val", "val"}};
    struct afew *a = calloc(1, sizeof *a);
    if (a == NULL)
        return fer_fail("out of memory");
    d->impl = a;
    a->walk.accept = fer_name_is_video;
    if (fer_path_type(root) != FER_PATH_DIR)
        return fer_fail("%s: not a directory (expected the AFEW root)", root);
    int found = 0;
    for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
        char *dir = fer_path_join(root, splits[s].dir);
        if (dir == NULL)
            return -1;
        if (fer_path_type(dir) != FER_PATH_DIR) {
            free(dir);
            continue;
        }
        found = 1;
        char **classes;
        size_t n;
        int rc = fer_dir_list(dir, FER_LIST_DIRS, &classes, &n);
        if (rc == 0)
            rc = fer_ids_check(dir, classes, n, 0, 0);
        for (size_t i = 0; i < n && rc == 0; i++) {
            char *path = fer_path_join(dir, classes[i]);
            rc = path != NULL ? fer_class_walk_add(&a->walk, path, classes[i], splits[s].split)
                              : -1;
            free(path);
        }
        fer_names_free(classes, n);
        free(dir);
        if (rc < 0)
            return -1;
    }
    if (!found)
        return fer_fail("%s: no Train/ or Val/ directory (AFEW layout: "
                        "ROOT/{Train,Val}/<Emotion>/<id>.avi)",
                        root);
    if (a->walk.n_dirs == 0)
        return fer_fail("%s: no emotion folders under Train/ or Val/", root);
    return fer_class_walk_check_known(&a->walk, root);
}

static int afew_next(struct fer_dataset *d)
{
    struct afew *a = d->impl;
    const struct fer_class_dir *dir;
    const char *file;
    int rc = fer_class_walk_next(d, &a->walk, &dir, &file);
    if (rc <= 0)
        return rc;
    char **paths = malloc(sizeof *paths);
    if (paths == NULL)
        return fer_fail("out of memory");
    if ((paths[0] = fer_path_join(dir->path, file)) == NULL) {
        free(paths);
        return -1;
    }
    const char *parts[] = {dir->split, dir->name, file};
    return fer_clip_set(d, FER_CLIP_VIDEO, fer_id_make(parts, 3, 1), paths, 1, NULL,
                        fer_label_name(dir->label), dir->split) < 0
               ? -1
               : 1;
}

static void afew_close(struct fer_dataset *d)
{
    struct afew *a = d->impl;
    if (a == NULL)
        return;
    fer_class_walk_free(&a->walk);
    free(a);
}

const struct fer_dataset_ops fer_dataset_afew_ops = {"afew", afew_open, afew_next, afew_close};
