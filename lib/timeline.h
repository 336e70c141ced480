/* timeline.h - gather per-frame predictions into one series per track,
 * for fer_plot_timeline (plot.h).
 *
 * Rows arrive one at a time, as manifest fields (fer-facetrack's faces
 * manifest with fer-eval's probabilities, or the predictions TSV that
 * fer-plot reads back), each with its class probabilities. They are grouped
 * by (clip, track) in order of first appearance, and each group becomes one
 * panel of the timeline, over `pts` (seconds) or, in a manifest without
 * pts, `frame`. Both fer-eval --timeline-png and fer-plot timeline use this,
 * so that the two draw the same picture from the same rows.
 */
#ifndef FER_TIMELINE_H
#define FER_TIMELINE_H

#include "image.h"
#include "plot.h"

#include <stddef.h>

struct fer_timeline;

/* Start a timeline for rows with the n_columns names of header. The time
 * axis is the `pts` column, else the `frame` column; a manifest with
 * neither fails ("no 'pts' or 'frame' column: no time axis"). `clip` and
 * `track` are optional: without `track` each clip is one series, without
 * either the whole input is. classes: the n_classes (>= 1) names of the
 * probabilities, copied. At most max_tracks (>= 1) series are kept, the
 * first to appear; rows of later ones are left out. Returns a timeline to
 * free with fer_timeline_free, or NULL with fer_error() set. */
struct fer_timeline *fer_timeline_new(const char *const *header, size_t n_columns,
                                      const char *const *classes, int n_classes,
                                      size_t max_tracks);

/* Add one row: fields (the n_columns of the header) and its n_classes
 * probabilities (NaN for a gap). Rows with an empty `track` field (a frame
 * without a face) and rows of tracks beyond max_tracks are skipped. An
 * empty time field is NaN (a gap). Returns 1 when the row was added, 0 when
 * skipped, -1 with fer_error() set ("column 'pts': not a number: 'x'", out
 * of memory); the caller adds the line number. */
int fer_timeline_add(struct fer_timeline *tl, const char *const *fields, const double *probs);

/* Series so far (0..max_tracks), in order of first appearance. */
size_t fer_timeline_tracks(const struct fer_timeline *tl);
/* Rows left out because their track came after the first max_tracks. */
size_t fer_timeline_dropped(const struct fer_timeline *tl);
/* Series k (< fer_timeline_tracks) as fer_plot_timeline takes it: its
 * label ("v.mp4, track 2"; "v.mp4" without a track column, "track 2"
 * without a clip column, "all rows" without either), times and
 * probabilities. The pointers belong to tl and stay valid until the next
 * fer_timeline_add or fer_timeline_free. */
void fer_timeline_track(const struct fer_timeline *tl, size_t k, struct fer_plot_track *out);

/* Draw every series with fer_plot_timeline: width (>= 320) pixels wide,
 * FER_PLOT_PANEL_HEIGHT per series plus 24 for a title (title may be NULL).
 * *out is allocated. Returns 0, or -1 with fer_error() set ("no rows with a
 * track", "track 'v, track 2': no data to plot"). */
int fer_timeline_plot(const struct fer_timeline *tl, const char *title, int width,
                      struct fer_image *out);

/* Free tl and everything it holds; NULL is fine. */
void fer_timeline_free(struct fer_timeline *tl);

#endif
