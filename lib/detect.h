/* detect.h - face detectors behind one interface.
 *
 * The tracker (and any tool) sees only struct fer_detector: a table of two
 * functions and the detector's own state. Today the one implementation is
 * the Viola-Jones cascade of cascade.h; a stronger detector (a CNN) plugs
 * in by providing another fer_detector_ops, without touching the callers.
 *
 * Boxes are in the pixels of the image given, top-left origin, and lie
 * inside the image. score is detector-specific but larger means surer; for
 * cascades it is the number of raw hits merged into the box (OpenCV's
 * numDetections).
 */
#ifndef FER_DETECT_H
#define FER_DETECT_H

#include <stddef.h>

#include "image.h"

struct fer_box {
    int x, y, w, h;
    float score;
};

/* A growable list of boxes: zero-initialise, free with fer_boxes_free. */
struct fer_boxes {
    struct fer_box *v;
    size_t n, cap;
};
void fer_boxes_free(struct fer_boxes *b);

struct fer_detect_params {
    double scale_factor; /* pyramid step, > 1 (default 1.1) */
    int min_neighbors;   /* a box needs more than this many raw hits (default 3) */
    int min_w, min_h;    /* smallest face (default 30x30; 0 = the model's window) */
    int max_w, max_h;    /* largest face (0 = no limit) */
    int threads;         /* worker threads (default 1) */
};

/* The defaults above. */
void fer_detect_params_default(struct fer_detect_params *p);

struct fer_detector;

struct fer_detector_ops {
    const char *name; /* e.g. "cascade" */
    /* Find faces in a grey image (channels == 1). Replaces out->n boxes.
     * Returns 0 or -1 with fer_error() set. */
    int (*detect)(struct fer_detector *d, const struct fer_image *grey,
                  const struct fer_detect_params *p, struct fer_boxes *out);
    void (*free)(struct fer_detector *d);
};

struct fer_detector {
    const struct fer_detector_ops *ops;
    void *state; /* the implementation's own */
};

/* Dispatch to d->ops. fer_detector_detect refuses a non-grey image with
 * "detector needs a grey image" (convert with fer_image_to_grey, which
 * matches OpenCV's cvtColor). fer_detector_free(NULL) does nothing. */
int fer_detector_detect(struct fer_detector *d, const struct fer_image *grey,
                        const struct fer_detect_params *p, struct fer_boxes *out);
void fer_detector_free(struct fer_detector *d);

/* A cascade detector from an OpenCV XML file (cascade.h). Returns a new
 * detector, or NULL with fer_error() "PATH: line N: cause". */
struct fer_detector *fer_detector_open_cascade(const char *path);

#endif
