/* dataset.c - dispatch to the importers, and the helpers they share. */
#include "dataset.h"

#include "dataset_impl.h"
#include "error.h"
#include "labels.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *const fer_dataset_kinds[] = {"ckplus", "afew", "rafdb", "folder", "fer2013", NULL};

static const struct fer_dataset_ops *const all_ops[] = {
    &fer_dataset_ckplus_ops, &fer_dataset_afew_ops,    &fer_dataset_rafdb_ops,
    &fer_dataset_folder_ops, &fer_dataset_fer2013_ops,
};

struct fer_dataset *fer_dataset_open(const char *kind, const char *root,
                                     const struct fer_dataset_options *options)
{
    static const struct fer_dataset_options no_options;
    if (options == NULL)
        options = &no_options;
    const struct fer_dataset_ops *ops = NULL;
    for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++)
        if (kind != NULL && strcmp(kind, all_ops[i]->kind) == 0)
            ops = all_ops[i];
    if (ops == NULL) {
        fer_fail("unknown dataset kind '%s' (known: ckplus, afew, rafdb, folder, fer2013)",
                 kind != NULL ? kind : "");
        return NULL;
    }
    if (root == NULL || root[0] == '\0') {
        fer_fail("no dataset root given");
        return NULL;
    }
    if (options->subject_regex != NULL && ops != &fer_dataset_folder_ops) {
        fer_fail("a subject regex applies only to the folder dataset, not %s", kind);
        return NULL;
    }
    struct fer_dataset *d = calloc(1, sizeof *d);
    if (d == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    d->ops = ops;
    if (ops->open(d, root, options) < 0) {
        fer_dataset_close(d);
        return NULL;
    }
    return d;
}

int fer_dataset_next(struct fer_dataset *d, const struct fer_clip **clip)
{
    *clip = NULL;
    if (d->failed)
        return fer_fail("%s", d->error != NULL ? d->error : "out of memory");
    fer_clip_clear(d);
    int rc = d->ops->next(d);
    if (rc < 0) {
        /* Repeat the cause on later calls rather than read past it. */
        d->failed = 1;
        d->error = strdup(fer_error());
        fer_clip_clear(d);
        return -1;
    }
    if (rc > 0)
        *clip = &d->clip;
    return rc;
}

const char *fer_dataset_unmapped(const struct fer_dataset *d)
{
    struct fer_dataset *m = (struct fer_dataset *)d; /* a cache, not a change */
    free(m->unmapped_text);
    m->unmapped_text = NULL;
    size_t size = 1;
    for (size_t i = 0; i < d->n_unmapped; i++)
        size += strlen(d->unmapped[i].name) + 32;
    char *text = malloc(size);
    if (text == NULL)
        return "(out of memory)";
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < d->n_unmapped; i++)
        used += (size_t)snprintf(text + used, size - used, "%s%s (%zu)", i > 0 ? ", " : "",
                                 d->unmapped[i].name, d->unmapped[i].count);
    m->unmapped_text = text;
    return text;
}

void fer_dataset_close(struct fer_dataset *d)
{
    if (d == NULL)
        return;
    fer_clip_clear(d);
    if (d->ops != NULL && d->ops->close != NULL)
        d->ops->close(d);
    for (size_t i = 0; i < d->n_unmapped; i++)
        free(d->unmapped[i].name);
    free(d->unmapped);
    free(d->unmapped_text);
    free(d->error);
    free(d);
}

/* --- the current clip --------------------------------------------------- */

void fer_clip_clear(struct fer_dataset *d)
{
    struct fer_clip *c = &d->clip;
    free(c->id);
    for (size_t i = 0; i < c->n_paths; i++)
        free(c->paths[i]);
    free(c->paths);
    free(d->subject);
    d->subject = NULL;
    /* The importer owns the pixels buffer and reuses it between rows. */
    struct fer_image pixels = c->pixels;
    memset(c, 0, sizeof *c);
    c->pixels = pixels;
}

int fer_clip_set(struct fer_dataset *d, enum fer_clip_kind kind, char *id, char **paths,
                 size_t n_paths, const char *subject, const char *label, const char *split)
{
    fer_clip_clear(d);
    struct fer_clip *c = &d->clip;
    c->kind = kind;
    c->id = id;
    c->paths = paths;
    c->n_paths = n_paths;
    c->label = label;
    c->split = split;
    if (subject != NULL) {
        d->subject = fer_strdup(subject);
        if (d->subject == NULL)
            return -1;
        c->subject = d->subject;
    }
    return id != NULL ? 0 : -1;
}

int fer_dataset_note_unmapped(struct fer_dataset *d, const char *name, size_t count)
{
    for (size_t i = 0; i < d->n_unmapped; i++)
        if (strcmp(d->unmapped[i].name, name) == 0) {
            d->unmapped[i].count += count;
            return 0;
        }
    struct fer_unmapped *grown = realloc(d->unmapped, (d->n_unmapped + 1) * sizeof *grown);
    if (grown == NULL)
        return fer_fail("out of memory");
    d->unmapped = grown;
    char *copy = fer_strdup(name);
    if (copy == NULL)
        return -1;
    d->unmapped[d->n_unmapped++] = (struct fer_unmapped){copy, count};
    return 0;
}

/* --- paths and names ---------------------------------------------------- */

char *fer_strdup(const char *s)
{
    char *copy = strdup(s);
    if (copy == NULL)
        fer_fail("out of memory");
    return copy;
}

char *fer_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *p = malloc(la + (size_t)slash + lb + 1);
    if (p == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    memcpy(p, a, la);
    if (slash)
        p[la] = '/';
    memcpy(p + la + (size_t)slash, b, lb + 1);
    return p;
}

enum fer_path_type fer_path_type(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return FER_PATH_MISSING;
    if (S_ISDIR(st.st_mode))
        return FER_PATH_DIR;
    if (S_ISREG(st.st_mode))
        return FER_PATH_FILE;
    return FER_PATH_OTHER;
}

static int compare_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void fer_names_free(char **names, size_t n)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Is this entry of dir of the wanted type? d_type saves a stat per entry on
 * most file systems; symlinks and unknown types are followed with stat. */
static int entry_matches(const char *dir, const struct dirent *e, enum fer_list_what what)
{
    enum fer_path_type type;
    if (e->d_type == DT_DIR)
        type = FER_PATH_DIR;
    else if (e->d_type == DT_REG)
        type = FER_PATH_FILE;
    else if (e->d_type == DT_LNK || e->d_type == DT_UNKNOWN) {
        char *path = fer_path_join(dir, e->d_name);
        if (path == NULL)
            return -1;
        type = fer_path_type(path);
        free(path);
    } else
        return 0;
    return type == (what == FER_LIST_DIRS ? FER_PATH_DIR : FER_PATH_FILE);
}

int fer_dir_list(const char *dir, enum fer_list_what what, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return fer_fail_errno("%s", dir);
    char **list = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dp);
        if (e == NULL) {
            if (errno != 0)
                rc = fer_fail_errno("%s", dir);
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        int match = entry_matches(dir, e, what);
        if (match < 0) {
            rc = -1;
            break;
        }
        if (!match)
            continue;
        if (count == cap) {
            size_t grown_cap = cap == 0 ? 16 : cap * 2;
            char **grown = realloc(list, grown_cap * sizeof *grown);
            if (grown == NULL) {
                rc = fer_fail("out of memory");
                break;
            }
            list = grown;
            cap = grown_cap;
        }
        if ((list[count] = fer_strdup(e->d_name)) == NULL) {
            rc = -1;
            break;
        }
        count++;
    }
    closedir(dp);
    if (rc < 0) {
        fer_names_free(list, count);
        return -1;
    }
    /* readdir's order depends on the file system; ours must not. */
    if (count > 1)
        qsort(list, count, sizeof *list, compare_strcmp);
    *names = list;
    *n = count;
    return 0;
}

int fer_name_compare_natural(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    while (*p != '\0' && *q != '\0') {
        if (isdigit(*p) && isdigit(*q)) {
            while (*p == '0')
                p++;
            while (*q == '0')
                q++;
            size_t lp = 0, lq = 0;
            while (isdigit(p[lp]))
                lp++;
            while (isdigit(q[lq]))
                lq++;
            /* Without leading zeros, the longer run is the larger number. */
            if (lp != lq)
                return lp < lq ? -1 : 1;
            int c = memcmp(p, q, lp);
            if (c != 0)
                return c;
            p += lp;
            q += lq;
            continue;
        }
        if (*p != *q)
            return *p < *q ? -1 : 1;
        p++;
        q++;
    }
    if (*p != *q)
        return *p == '\0' ? -1 : 1;
    return strcmp(a, b);
}

static int compare_natural(const void *a, const void *b)
{
    return fer_name_compare_natural(*(char *const *)a, *(char *const *)b);
}

void fer_names_sort_natural(char **names, size_t n)
{
    if (n > 1)
        qsort(names, n, sizeof *names, compare_natural);
}

static int has_extension(const char *name, const char *const *extensions)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL || dot == name)
        return 0;
    for (size_t i = 0; extensions[i] != NULL; i++)
        if (strcasecmp(dot + 1, extensions[i]) == 0)
            return 1;
    return 0;
}

int fer_name_is_image(const char *name)
{
    static const char *const extensions[] = {"png", "jpg", "jpeg", NULL};
    return has_extension(name, extensions);
}

int fer_name_is_video(const char *name)
{
    static const char *const extensions[] = {"avi", "mp4", "mkv", "mov", "webm",
                                             "mpg", "mpeg", "m4v", NULL};
    return has_extension(name, extensions);
}

/* --- clip ids ----------------------------------------------------------- */

/* Length of name without its extension (a leading dot is not one). */
static size_t stem_length(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
}

static void make_safe(char *out, const char *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        int ok = isalnum(c) || c == '_' || c == '-' || c == '.';
        if (c >= 0x80 || (i == 0 && (c == '.' || c == '-')))
            ok = 0;
        out[i] = ok ? (char)c : '_';
    }
    out[n] = '\0';
}

char *fer_id_make(const char *const *parts, size_t n, int strip_extension)
{
    size_t size = 1;
    for (size_t i = 0; i < n; i++)
        size += strlen(parts[i]) + 1;
    char *id = malloc(size);
    if (id == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            id[used++] = '_';
        size_t len = strip_extension && i == n - 1 ? stem_length(parts[i]) : strlen(parts[i]);
        make_safe(id + used, parts[i], len);
        used += len;
    }
    id[used] = '\0';
    return id;
}

struct safe_name {
    char *safe;
    const char *original;
};

static int compare_safe(const void *a, const void *b)
{
    const struct safe_name *x = a, *y = b;
    int c = strcmp(x->safe, y->safe);
    return c != 0 ? c : strcmp(x->original, y->original);
}

int fer_ids_check(const char *dir, char *const *names, size_t n, int strip_extension, int last)
{
    if (n < 2)
        return 0;
    struct safe_name *s = calloc(n, sizeof *s);
    if (s == NULL)
        return fer_fail("out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *part = names[i];
        s[i].original = names[i];
        if ((s[i].safe = fer_id_make(&part, 1, strip_extension)) == NULL)
            rc = -1;
    }
    if (rc == 0)
        qsort(s, n, sizeof *s, compare_safe);
    for (size_t i = 0; i + 1 < n && rc == 0; i++) {
        if (strcmp(s[i].safe, s[i + 1].safe) == 0) {
            rc = fer_fail("%s: '%s' and '%s' would give the same clip id '%s'", dir,
                          s[i].original, s[i + 1].original, s[i].safe);
            break;
        }
        if (last)
            continue;
        /* Sorted, so every name that starts with s[i].safe + "_" follows it
         * directly among the names that start with s[i].safe. */
        size_t len = strlen(s[i].safe);
        for (size_t j = i + 1; j < n && strncmp(s[j].safe, s[i].safe, len) == 0; j++)
            if (s[j].safe[len] == '_') {
                rc = fer_fail("%s: '%s' and '%s' would make ambiguous clip ids ('%s_...')", dir,
                              s[i].original, s[j].original, s[j].safe);
                break;
            }
    }
    for (size_t i = 0; i < n; i++)
        free(s[i].safe);
    free(s);
    return rc;
}

/* --- class folders ------------------------------------------------------ */

int fer_class_walk_add(struct fer_class_walk *w, const char *path, const char *name,
                       const char *split)
{
    struct fer_class_dir *grown = realloc(w->dirs, (w->n_dirs + 1) * sizeof *grown);
    if (grown == NULL)
        return fer_fail("out of memory");
    w->dirs = grown;
    struct fer_class_dir *c = &w->dirs[w->n_dirs];
    c->path = fer_strdup(path);
    c->name = fer_strdup(name);
    c->split = split;
    c->label = fer_label_from_name(name);
    if (c->path == NULL || c->name == NULL) {
        free(c->path);
        free(c->name);
        return -1;
    }
    w->n_dirs++;
    return 0;
}

/* List dirs[i_dir] and keep the names accept() takes. */
static int list_class(struct fer_class_walk *w)
{
    const struct fer_class_dir *c = &w->dirs[w->i_dir];
    char **names;
    size_t n;
    if (fer_dir_list(c->path, FER_LIST_FILES, &names, &n) < 0)
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (w->accept(names[i]))
            names[kept++] = names[i];
        else
            free(names[i]);
    }
    w->files = names;
    w->n_files = kept;
    w->i_file = 0;
    w->listed = 1;
    return fer_ids_check(c->path, names, kept, 1, 1);
}

int fer_class_walk_next(struct fer_dataset *d, struct fer_class_walk *w,
                        const struct fer_class_dir **dir, const char **file)
{
    while (w->i_dir < w->n_dirs) {
        if (!w->listed) {
            if (list_class(w) < 0)
                return -1;
            const struct fer_class_dir *c = &w->dirs[w->i_dir];
            if (c->label < 0) {
                if (fer_dataset_note_unmapped(d, c->name, w->n_files) < 0)
                    return -1;
                w->i_file = w->n_files;
            }
        }
        if (w->i_file < w->n_files) {
            *dir = &w->dirs[w->i_dir];
            *file = w->files[w->i_file++];
            return 1;
        }
        fer_names_free(w->files, w->n_files);
        w->files = NULL;
        w->n_files = 0;
        w->listed = 0;
        w->i_dir++;
    }
    return 0;
}

void fer_class_walk_free(struct fer_class_walk *w)
{
    for (size_t i = 0; i < w->n_dirs; i++) {
        free(w->dirs[i].path);
        free(w->dirs[i].name);
    }
    free(w->dirs);
    fer_names_free(w->files, w->n_files);
    memset(w, 0, sizeof *w);
}

int fer_class_walk_check_known(const struct fer_class_walk *w, const char *root)
{
    char names[256] = "";
    size_t used = 0, shown = 0;
    for (size_t i = 0; i < w->n_dirs; i++) {
        if (w->dirs[i].label >= 0)
            return 0;
        if (shown < 4 && used < sizeof names) {
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                     shown > 0 ? ", " : "", w->dirs[i].name);
            shown++;
        }
    }
    return fer_fail("%s: no class folder has an expression name (found %s%s)", root, names,
                    w->n_dirs > shown ? ", ..." : "");
}
