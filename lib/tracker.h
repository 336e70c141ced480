/* tracker.h - one identity per face track across the frames of a clip.
 *
 * The RMFER preprocessing: faces are matched frame to frame by the overlap
 * (IoU) of their boxes with an optimal assignment, a match needs at least
 * min_iou, a track ends after max_gap frames without a face, an unmatched
 * face starts a new track, and tracks shorter than min_length faces are
 * dropped. Works on a whole clip's detections at once (boxes are small; the
 * frames are not kept), which also allows centred smoothing.
 */
#ifndef FER_TRACKER_H
#define FER_TRACKER_H

#include <stddef.h>

struct fer_rect {
    double x, y, w, h; /* top-left corner and size, in pixels */
};

/* Intersection over union; 0 for boxes that do not overlap or are empty. */
double fer_rect_iou(const struct fer_rect *a, const struct fer_rect *b);

struct fer_detection {
    long frame;          /* index of the frame in the clip, increasing */
    struct fer_rect box;
    double score;
    int track;           /* out: track id >= 1, or 0 when dropped */
};

struct fer_track_params {
    double min_iou;  /* least IoU for a match (default 0.3) */
    long max_gap;    /* frames a track may miss before it ends (default 10) */
    long min_length; /* faces a track needs to be kept (default 1) */
    int smooth;      /* centred moving average over 2*smooth+1 faces (0: off) */
};

/* Track a clip: dets[0..n-1] sorted by frame (several per frame allowed).
 * Sets every det's track: ids 1, 2, ... in order of first appearance
 * among the kept tracks, unique within the clip; 0 for dropped faces. With
 * smooth > 0, boxes of each track are replaced by their centred moving
 * average within the track's gap-free runs. Returns the number of tracks
 * kept, or -1 with fer_error() set (out of memory, unsorted frames). */
int fer_track_clip(struct fer_detection *dets, size_t n, const struct fer_track_params *params);

#endif
