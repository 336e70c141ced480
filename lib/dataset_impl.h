/* dataset_impl.h - what the importers (dataset_*.c) share; not installed API.
 *
 * An importer is a table of three functions. open() checks the layout and
 * sets d->impl; next() fills d->clip through the helpers below and returns
 * 1, 0 at the end, or -1 with fer_error() set; close() frees d->impl. The
 * dispatcher (dataset.c) frees the clip's strings between calls, so an
 * importer only ever builds the current clip.
 */
#ifndef FER_DATASET_IMPL_H
#define FER_DATASET_IMPL_H

#include "dataset.h"

#include <stddef.h>

struct fer_dataset;

struct fer_dataset_ops {
    const char *kind;
    int (*open)(struct fer_dataset *d, const char *root, const struct fer_dataset_options *options);
    int (*next)(struct fer_dataset *d);
    void (*close)(struct fer_dataset *d);
};

extern const struct fer_dataset_ops fer_dataset_ckplus_ops, fer_dataset_afew_ops,
    fer_dataset_rafdb_ops, fer_dataset_folder_ops, fer_dataset_fer2013_ops;

struct fer_unmapped {
    char *name;
    size_t count;
};

struct fer_dataset {
    const struct fer_dataset_ops *ops;
    void *impl;
    struct fer_clip clip;  /* id, paths and subject are owned (malloc) */
    char *subject;         /* the owned storage behind clip.subject */
    struct fer_unmapped *unmapped;
    size_t n_unmapped;
    char *unmapped_text;   /* built on demand by fer_dataset_unmapped */
    int failed;            /* next() failed once: it keeps failing */
    char *error;           /* with this message */
};

/* --- the current clip --------------------------------------------------- */

/* Take ownership of id (malloc'd) and paths[0..n-1] (malloc'd array of
 * malloc'd strings); subject is copied (NULL: unknown). label and split must
 * be static strings (fer_label_name, "", "train", ...) or NULL. */
int fer_clip_set(struct fer_dataset *d, enum fer_clip_kind kind, char *id, char **paths,
                 size_t n_paths, const char *subject, const char *label, const char *split);
/* Free what the current clip owns and zero it (pixels are the importer's). */
void fer_clip_clear(struct fer_dataset *d);

/* Count `count` skipped clips under a class name nobody could map. */
int fer_dataset_note_unmapped(struct fer_dataset *d, const char *name, size_t count);

/* --- paths and names ---------------------------------------------------- */

/* "a" + "/" + "b", malloc'd; NULL with fer_error() set when out of memory. */
char *fer_path_join(const char *a, const char *b);
char *fer_strdup(const char *s);

enum fer_path_type { FER_PATH_MISSING, FER_PATH_DIR, FER_PATH_FILE, FER_PATH_OTHER };
/* What is at path, following symlinks. */
enum fer_path_type fer_path_type(const char *path);

enum fer_list_what { FER_LIST_DIRS, FER_LIST_FILES };
/* The entries of dir that are directories (or regular files), hidden names
 * (starting with '.', such as macOS's .DS_Store and ._* files) left out,
 * sorted by strcmp. *names is a malloc'd array of malloc'd strings, freed
 * with fer_names_free. Errors name dir. */
int fer_dir_list(const char *dir, enum fer_list_what what, char ***names, size_t *n);
void fer_names_free(char **names, size_t n);

/* Compare names with runs of digits compared by value, so frame2 < frame10;
 * ties (frame01, frame1) are broken by strcmp, so the order is total. */
int fer_name_compare_natural(const char *a, const char *b);
void fer_names_sort_natural(char **names, size_t n);

/* Does name end in one of the extensions (without dot; case ignored)? */
int fer_name_is_image(const char *name); /* png, jpg, jpeg */
int fer_name_is_video(const char *name); /* avi, mp4, mkv, mov, webm, mpg, mpeg, m4v */

/* --- clip ids ----------------------------------------------------------- */

/* A clip id is its path components joined by '_', each made safe for a file
 * name: bytes outside [A-Za-z0-9._-] become '_', and a leading '.' or '-'
 * becomes '_'. `strip_extension` drops the last component's extension. */
char *fer_id_make(const char *const *parts, size_t n, int strip_extension);

/* Make sure that names (one directory level, as listed) give unique ids:
 * no two are equal once made safe (and stripped of their extension when
 * `strip_extension`), and, unless `last` (nothing follows them in an id), no
 * safe name is another's followed by '_' ("a" and "a_b" would make "a_b_c"
 * ambiguous). Errors name dir and both names. */
int fer_ids_check(const char *dir, char *const *names, size_t n, int strip_extension, int last);

/* --- class folders (shared by afew and folder) ---------------------------- */

struct fer_class_dir {
    char *path;        /* ROOT[/split]/class */
    char *name;        /* the folder name, as on disk */
    const char *split; /* "train", "val", "test" or NULL */
    int label;         /* 0..7, -1 unmapped */
};

/* Walks a list of class folders, listing one at a time, and hands out the
 * file names that `accept` takes, in strcmp order. Unmapped folders are
 * listed too, counted with fer_dataset_note_unmapped, and skipped. */
struct fer_class_walk {
    struct fer_class_dir *dirs;
    size_t n_dirs, i_dir;
    char **files;
    size_t n_files, i_file;
    int listed; /* files holds dirs[i_dir]'s listing */
    int (*accept)(const char *name);
};

/* Append a class folder (copies path and name). */
int fer_class_walk_add(struct fer_class_walk *w, const char *path, const char *name,
                       const char *split);
/* 1 with *dir and *file set (valid until the next call), 0 at the end, -1. */
int fer_class_walk_next(struct fer_dataset *d, struct fer_class_walk *w,
                        const struct fer_class_dir **dir, const char **file);
void fer_class_walk_free(struct fer_class_walk *w);
/* Fail, naming root and a few of the folders, when no class folder maps to
 * a label: the root is then almost surely not the dataset meant, and
 * reading it would quietly give nothing. */
int fer_class_walk_check_known(const struct fer_class_walk *w, const char *root);

#endif
