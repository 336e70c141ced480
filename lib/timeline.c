/* timeline.c - per-track series of predictions (timeline.h). */
#include "timeline.h"

#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct series {
    char *clip, *track; /* the key, owned ("" when the column is missing) */
    char *label;        /* panel title, owned */
    double *t, *probs;  /* n times; n * n_classes probabilities */
    size_t n, cap;
};

struct fer_timeline {
    int col_time, col_clip, col_track; /* -1: no such column */
    const char *time_name, *xlabel; /* "pts", "pts (s)" or "frame", "frame" */
    char **classes;
    int n_classes;
    struct series *series;
    size_t n_series, max_series;
    size_t dropped; /* rows of tracks beyond max_series */
};

static int find(const char *const *header, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(header[i], name) == 0)
            return (int)i;
    return -1;
}

void fer_timeline_free(struct fer_timeline *tl)
{
    if (tl == NULL)
        return;
    for (size_t k = 0; k < tl->n_series; k++) {
        struct series *s = &tl->series[k];
        free(s->clip);
        free(s->track);
        free(s->label);
        free(s->t);
        free(s->probs);
    }
    free(tl->series);
    for (int c = 0; tl->classes != NULL && c < tl->n_classes; c++)
        free(tl->classes[c]);
    free(tl->classes);
    free(tl);
}

struct fer_timeline *fer_timeline_new(const char *const *header, size_t n_columns,
                                      const char *const *classes, int n_classes,
                                      size_t max_tracks)
{
    if (n_classes < 1 || max_tracks < 1) {
        fer_fail("timeline: %d classes, at most %zu tracks", n_classes, max_tracks);
        return NULL;
    }
    int col_time = find(header, n_columns, "pts");
    const char *xlabel = "pts (s)";
    if (col_time < 0) {
        col_time = find(header, n_columns, "frame");
        xlabel = "frame";
    }
    if (col_time < 0) {
        fer_fail("no 'pts' or 'frame' column: no time axis");
        return NULL;
    }
    struct fer_timeline *tl = calloc(1, sizeof *tl);
    if (tl == NULL || (tl->classes = calloc((size_t)n_classes, sizeof *tl->classes)) == NULL ||
        (tl->series = calloc(max_tracks, sizeof *tl->series)) == NULL) {
        fer_timeline_free(tl);
        fer_fail("out of memory");
        return NULL;
    }
    tl->col_time = col_time;
    tl->xlabel = xlabel;
    tl->time_name = strcmp(xlabel, "frame") == 0 ? "frame" : "pts"; /* header may go */
    tl->col_clip = find(header, n_columns, "clip");
    tl->col_track = find(header, n_columns, "track");
    tl->max_series = max_tracks;
    for (int c = 0; c < n_classes; c++, tl->n_classes++)
        if ((tl->classes[c] = strdup(classes[c])) == NULL) {
            fer_timeline_free(tl);
            fer_fail("out of memory");
            return NULL;
        }
    return tl;
}

/* "clip, track 2" as fer-plot has always titled a panel; owned. */
static char *label_of(const struct fer_timeline *tl, const char *clip, const char *track)
{
    int has_clip = tl->col_clip >= 0, has_track = tl->col_track >= 0;
    if (!has_clip && !has_track)
        return strdup("all rows");
    const char *sep = has_clip && has_track ? ", " : "", *word = has_track ? "track " : "";
    int len = snprintf(NULL, 0, "%s%s%s%s", clip, sep, word, track);
    char *label = malloc((size_t)len + 1);
    if (label != NULL)
        snprintf(label, (size_t)len + 1, "%s%s%s%s", clip, sep, word, track);
    return label;
}

/* The series of key (clip, track), created when new and there is room;
 * NULL with *full set when there is not, NULL alone when out of memory. */
static struct series *series_of(struct fer_timeline *tl, const char *clip, const char *track,
                                int *full)
{
    *full = 0;
    /* A linear search: at most max_tracks keys, a handful in practice. */
    for (size_t k = 0; k < tl->n_series; k++)
        if (strcmp(tl->series[k].clip, clip) == 0 && strcmp(tl->series[k].track, track) == 0)
            return &tl->series[k];
    if (tl->n_series == tl->max_series) {
        *full = 1;
        return NULL;
    }
    struct series *s = &tl->series[tl->n_series];
    s->clip = strdup(clip);
    s->track = strdup(track);
    s->label = label_of(tl, clip, track);
    if (s->clip == NULL || s->track == NULL || s->label == NULL) {
        free(s->clip);
        free(s->track);
        free(s->label);
        memset(s, 0, sizeof *s);
        return NULL;
    }
    tl->n_series++;
    return s;
}

int fer_timeline_add(struct fer_timeline *tl, const char *const *fields, const double *probs)
{
    const char *track = tl->col_track >= 0 ? fields[tl->col_track] : "";
    if (tl->col_track >= 0 && track[0] == '\0')
        return 0; /* a frame without a face */
    const char *clip = tl->col_clip >= 0 ? fields[tl->col_clip] : "";
    const char *text = fields[tl->col_time];
    double t = NAN;
    if (text[0] != '\0') {
        char *end;
        errno = 0;
        t = strtod(text, &end);
        if (end == text || *end != '\0' || errno == ERANGE)
            return fer_fail("column '%s': not a number: '%s'", tl->time_name, text);
    }
    int full;
    struct series *s = series_of(tl, clip, track, &full);
    if (s == NULL && full) {
        tl->dropped++;
        return 0;
    }
    if (s == NULL)
        return fer_fail("out of memory");
    size_t K = (size_t)tl->n_classes;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        if (cap > SIZE_MAX / sizeof(double) / K)
            return fer_fail("out of memory");
        double *nt = realloc(s->t, cap * sizeof *nt);
        if (nt == NULL)
            return fer_fail("out of memory");
        s->t = nt;
        double *np = realloc(s->probs, cap * K * sizeof *np);
        if (np == NULL)
            return fer_fail("out of memory");
        s->probs = np;
        s->cap = cap;
    }
    s->t[s->n] = t;
    memcpy(s->probs + s->n * K, probs, K * sizeof *probs);
    s->n++;
    return 1;
}

size_t fer_timeline_tracks(const struct fer_timeline *tl)
{
    return tl->n_series;
}

size_t fer_timeline_dropped(const struct fer_timeline *tl)
{
    return tl->dropped;
}

void fer_timeline_track(const struct fer_timeline *tl, size_t k, struct fer_plot_track *out)
{
    const struct series *s = &tl->series[k];
    *out = (struct fer_plot_track){s->label, s->n, s->t, s->probs};
}

int fer_timeline_plot(const struct fer_timeline *tl, const char *title, int width,
                      struct fer_image *out)
{
    memset(out, 0, sizeof *out);
    if (tl->n_series == 0)
        return fer_fail("no rows with a track");
    struct fer_plot_track *tracks = calloc(tl->n_series, sizeof *tracks);
    if (tracks == NULL)
        return fer_fail("out of memory");
    for (size_t k = 0; k < tl->n_series; k++)
        fer_timeline_track(tl, k, &tracks[k]);
    int rc = fer_plot_timeline(tracks, tl->n_series, (const char *const *)tl->classes,
                               tl->n_classes, title, tl->xlabel, width, out);
    free(tracks);
    return rc;
}
