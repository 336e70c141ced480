/* face_clips.h - a faces manifest regrouped as clips of frame-ordered tracks.
 *
 * fer-facetrack writes one row per face per frame, clip after clip. The
 * pretext tasks need each track's faces in frame order, so this reader holds
 * one clip at a time (memory grows with the longest clip, not the dataset)
 * and indexes its rows by track.
 *
 * Required columns: clip, frame, track, crop. Optional: pts. Rows with an
 * empty track (fer-facetrack --keep-empty) or empty crop belong to no track
 * but still count as frames. A clip's rows must be contiguous in the input.
 *
 * Gaps: frame numbers may count every decoded frame or only the extracted
 * ones, so a clip's frame step is the smallest difference between its
 * distinct frame numbers; two faces of a track are consecutive when their
 * frames differ by less than twice that step (sampling 5 frames a second
 * from 24 fps video numbers them 4 and 5 decoded frames apart).
 */
#ifndef FER_FACE_CLIPS_H
#define FER_FACE_CLIPS_H

#include "manifest.h"

#include <stddef.h>

struct fer_face_track {
    const char *id;   /* the track column's value */
    size_t n;         /* faces in the track */
    size_t *rows;     /* row index of each face in the clip, in frame order */
    long *frames;     /* frame number of each face */
};

struct fer_face_clip {
    const char *id;
    size_t n_rows;
    char ***rows;     /* every row of the clip, fields as in the manifest */
    size_t n_tracks;
    struct fer_face_track *tracks; /* in order of first appearance */
    long step;        /* frame-number step between consecutive frames */
    double pts_min, pts_max; /* over all rows (frame numbers if no pts) */
};

struct fer_face_clips;

/* Wrap an open manifest (not owned). NULL with fer_error() set when a
 * required column is missing. */
struct fer_face_clips *fer_face_clips_new(struct fer_manifest *m);
/* The next clip: 1 with *clip valid until the next call, 0 at the end, -1 with
 * fer_error() set ("line 12: frame 'x' is not an integer", "line 40: rows of
 * clip 'a' are not contiguous", "line 9: track '1' has frame 5 twice"). */
int fer_face_clips_next(struct fer_face_clips *c, const struct fer_face_clip **clip);
void fer_face_clips_free(struct fer_face_clips *c);

/* Column indices of the wrapped manifest. */
int fer_face_clips_column(const struct fer_face_clips *c, const char *name);

/* Copy n fields into one allocation (free() once). NULL when out of memory. */
char **fer_row_copy(char *const *fields, size_t n);

#endif
