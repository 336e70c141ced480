#include "face_clips.h"

#include "error.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fer_face_clips {
    struct fer_manifest *m;
    int col_clip, col_frame, col_track, col_crop, col_pts;
    char **pending;          /* first row of the next clip, or NULL */
    size_t pending_line;
    int done;
    struct fer_face_clip clip;
    size_t capacity;
    /* ids of clips already finished, to detect non-contiguous input */
    char **seen;
    size_t n_seen, cap_seen;
};

char **fer_row_copy(char *const *fields, size_t n)
{
    size_t bytes = n * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(fields[i]) + 1;
    char **row = malloc(bytes);
    if (row == NULL)
        return NULL;
    char *p = (char *)(row + n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(fields[i]) + 1;
        memcpy(p, fields[i], len);
        row[i] = p;
        p += len;
    }
    return row;
}

struct fer_face_clips *fer_face_clips_new(struct fer_manifest *m)
{
    struct fer_face_clips *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    c->m = m;
    if ((c->col_clip = fer_manifest_require(m, "clip")) < 0 ||
        (c->col_frame = fer_manifest_require(m, "frame")) < 0 ||
        (c->col_track = fer_manifest_require(m, "track")) < 0 ||
        (c->col_crop = fer_manifest_require(m, "crop")) < 0) {
        free(c);
        return NULL;
    }
    c->col_pts = fer_manifest_find(m, "pts");
    return c;
}

int fer_face_clips_column(const struct fer_face_clips *c, const char *name)
{
    return fer_manifest_find(c->m, name);
}

static void clear_clip(struct fer_face_clips *c)
{
    struct fer_face_clip *k = &c->clip;
    for (size_t i = 0; i < k->n_rows; i++)
        free(k->rows[i]);
    for (size_t t = 0; t < k->n_tracks; t++) {
        free(k->tracks[t].rows);
        free(k->tracks[t].frames);
    }
    free(k->tracks);
    k->tracks = NULL;
    k->n_tracks = 0;
    k->n_rows = 0;
}

void fer_face_clips_free(struct fer_face_clips *c)
{
    if (c == NULL)
        return;
    clear_clip(c);
    free(c->clip.rows);
    free(c->pending);
    for (size_t i = 0; i < c->n_seen; i++)
        free(c->seen[i]);
    free(c->seen);
    free(c);
}

static int parse_frame(const char *text, long *frame)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || v < 0)
        return -1;
    *frame = v;
    return 0;
}

static int add_row(struct fer_face_clips *c, char **row)
{
    struct fer_face_clip *k = &c->clip;
    if (k->n_rows == c->capacity) {
        size_t grown = c->capacity ? 2 * c->capacity : 256;
        char ***p = realloc(k->rows, grown * sizeof *p);
        if (p == NULL)
            return fer_fail("out of memory");
        k->rows = p;
        c->capacity = grown;
    }
    k->rows[k->n_rows++] = row;
    return 0;
}

static int remember_clip(struct fer_face_clips *c, const char *id)
{
    for (size_t i = 0; i < c->n_seen; i++)
        if (strcmp(c->seen[i], id) == 0)
            return fer_fail("line %zu: rows of clip '%s' are not contiguous",
                            fer_manifest_line(c->m), id);
    if (c->n_seen == c->cap_seen) {
        size_t grown = c->cap_seen ? 2 * c->cap_seen : 64;
        char **p = realloc(c->seen, grown * sizeof *p);
        if (p == NULL)
            return fer_fail("out of memory");
        c->seen = p;
        c->cap_seen = grown;
    }
    if ((c->seen[c->n_seen] = strdup(id)) == NULL)
        return fer_fail("out of memory");
    c->n_seen++;
    return 0;
}

/* Read rows until the clip id changes; the first row of the next clip is
 * kept in c->pending. */
static int read_clip_rows(struct fer_face_clips *c)
{
    size_t ncols = fer_manifest_columns(c->m);
    if (c->pending) {
        if (add_row(c, c->pending) != 0)
            return -1;
        c->pending = NULL;
        if (remember_clip(c, c->clip.rows[0][c->col_clip]) != 0)
            return -1;
    }
    char **fields;
    int r;
    while ((r = fer_manifest_next(c->m, &fields)) == 1) {
        char **row = fer_row_copy(fields, ncols);
        if (row == NULL)
            return fer_fail("out of memory");
        if (c->clip.n_rows > 0 && strcmp(row[c->col_clip], c->clip.rows[0][c->col_clip]) != 0) {
            c->pending = row;
            return 1;
        }
        if (add_row(c, row) != 0) {
            free(row);
            return -1;
        }
        if (c->clip.n_rows == 1 && remember_clip(c, row[c->col_clip]) != 0)
            return -1;
    }
    if (r < 0)
        return -1;
    c->done = 1;
    return c->clip.n_rows > 0;
}

static struct fer_face_track *find_or_add_track(struct fer_face_clip *k, const char *id)
{
    for (size_t t = 0; t < k->n_tracks; t++)
        if (strcmp(k->tracks[t].id, id) == 0)
            return &k->tracks[t];
    struct fer_face_track *p = realloc(k->tracks, (k->n_tracks + 1) * sizeof *p);
    if (p == NULL)
        return NULL;
    k->tracks = p;
    struct fer_face_track *t = &k->tracks[k->n_tracks++];
    memset(t, 0, sizeof *t);
    t->id = id;
    return t;
}

static const long *sort_frames_key;
static int by_frame(const void *a, const void *b)
{
    long fa = sort_frames_key[*(const size_t *)a], fb = sort_frames_key[*(const size_t *)b];
    return (fa > fb) - (fa < fb);
}

static int compare_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Build tracks, sort them by frame, find the clip's frame step. */
static int index_clip(struct fer_face_clips *c, size_t first_line)
{
    struct fer_face_clip *k = &c->clip;
    k->id = k->rows[0][c->col_clip];
    long *frame_of = malloc(k->n_rows * sizeof *frame_of);
    long *sorted = malloc(k->n_rows * sizeof *sorted);
    if (frame_of == NULL || sorted == NULL) {
        free(frame_of);
        free(sorted);
        return fer_fail("out of memory");
    }
    int status = 0;
    k->pts_min = INFINITY;
    k->pts_max = -INFINITY;
    for (size_t i = 0; i < k->n_rows && status == 0; i++) {
        char **row = k->rows[i];
        if (parse_frame(row[c->col_frame], &frame_of[i]) != 0) {
            status = fer_fail("line %zu: frame '%s' is not a non-negative integer",
                              first_line + i, row[c->col_frame]);
            break;
        }
        sorted[i] = frame_of[i];
        double t = (double)frame_of[i];
        if (c->col_pts >= 0 && row[c->col_pts][0] != '\0') {
            char *end;
            t = strtod(row[c->col_pts], &end);
            if (*end != '\0' || !isfinite(t)) {
                status = fer_fail("line %zu: pts '%s' is not a number", first_line + i,
                                  row[c->col_pts]);
                break;
            }
        }
        k->pts_min = fmin(k->pts_min, t);
        k->pts_max = fmax(k->pts_max, t);
        if (row[c->col_track][0] == '\0' || row[c->col_crop][0] == '\0')
            continue;
        struct fer_face_track *t_ = find_or_add_track(k, row[c->col_track]);
        if (t_ == NULL) {
            status = fer_fail("out of memory");
            break;
        }
        size_t *rows = realloc(t_->rows, (t_->n + 1) * sizeof *rows);
        if (rows == NULL) {
            status = fer_fail("out of memory");
            break;
        }
        t_->rows = rows;
        t_->rows[t_->n++] = i;
    }
    /* The step: smallest positive difference of distinct frame numbers. */
    if (status == 0) {
        qsort(sorted, k->n_rows, sizeof *sorted, compare_long);
        k->step = 0;
        for (size_t i = 1; i < k->n_rows; i++) {
            long d = sorted[i] - sorted[i - 1];
            if (d > 0 && (k->step == 0 || d < k->step))
                k->step = d;
        }
        if (k->step == 0)
            k->step = 1;
    }
    for (size_t t = 0; t < k->n_tracks && status == 0; t++) {
        struct fer_face_track *tr = &k->tracks[t];
        sort_frames_key = frame_of;
        qsort(tr->rows, tr->n, sizeof *tr->rows, by_frame);
        tr->frames = malloc(tr->n * sizeof *tr->frames);
        if (tr->frames == NULL) {
            status = fer_fail("out of memory");
            break;
        }
        for (size_t j = 0; j < tr->n; j++) {
            tr->frames[j] = frame_of[tr->rows[j]];
            if (j > 0 && tr->frames[j] == tr->frames[j - 1]) {
                status = fer_fail("clip '%s': track '%s' has frame %ld twice", k->id, tr->id,
                                  tr->frames[j]);
                break;
            }
        }
    }
    free(frame_of);
    free(sorted);
    return status;
}

int fer_face_clips_next(struct fer_face_clips *c, const struct fer_face_clip **clip)
{
    clear_clip(c);
    if (c->done && c->pending == NULL)
        return 0;
    size_t first_line = fer_manifest_line(c->m) + (c->pending ? 0 : 1);
    int r = read_clip_rows(c);
    if (r <= 0)
        return r;
    if (index_clip(c, first_line) != 0)
        return -1;
    *clip = &c->clip;
    return 1;
}
