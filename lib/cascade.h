/* cascade.h - Viola-Jones boosted cascades in OpenCV's XML format.
 *
 * Reads the "new style" cascade files that OpenCV's traincascade writes and
 * Debian's opencv-data ships (/usr/share/opencv4/haarcascades/ and
 * /usr/share/opencv4/lbpcascades/): stageType BOOST, featureType HAAR
 * (2 or 3 weighted rectangles, upright or tilted by 45 degrees) or LBP
 * (3x3 blocks, 256 categories), decision stumps or small trees.
 *
 * The reader is a small XML tokenizer of our own, bounds-checked: every
 * count, index and rectangle is validated against the window before the
 * model is returned, so detection never reads outside its buffers. A bad
 * file is an error "line N: what", never a crash. The old haartraining
 * format (<haarcascade_frontalface_default type_id="opencv-haar-classifier">)
 * is refused with a message that says so.
 *
 * Detection reproduces cv2.CascadeClassifier.detectMultiScale (OpenCV 4.6):
 * the image is shrunk by scale_factor per level with the window fixed,
 * windows are stepped 2 pixels (1 from scale 2 up), and the raw hits are
 * merged by fer_rects_group. See detect.h for the plug-in interface.
 */
#ifndef FER_CASCADE_H
#define FER_CASCADE_H

#include <stddef.h>
#include <stdint.h>

struct fer_cascade; /* opaque, immutable after reading: share across threads */

/* Limits of the reader: larger files or models are refused. */
enum {
    FER_CASCADE_MAX_BYTES = 64 << 20,
    FER_CASCADE_MAX_WINDOW = 1024,
    FER_CASCADE_MAX_NODES = 1 << 20, /* weak-tree nodes, features, stages each */
};

/* Read a cascade file. Returns 0 and *out (free with fer_cascade_free), or
 * -1 with fer_error() "PATH: line N: cause" (or "PATH: strerror"). */
int fer_cascade_read(const char *path, struct fer_cascade **out);

/* The same from memory; name prefixes the error message (may be NULL). */
int fer_cascade_read_memory(const void *data, size_t size, const char *name,
                            struct fer_cascade **out);

void fer_cascade_free(struct fer_cascade *c);

/* The training window (e.g. 24x24 for haarcascade_frontalface_default). */
void fer_cascade_window(const struct fer_cascade *c, int *width, int *height);

/* 1 for LBP cascades, 0 for Haar. */
int fer_cascade_is_lbp(const struct fer_cascade *c);

/* A rectangle in image pixels; n is the number of raw hits merged into it. */
struct fer_rect {
    int x, y, w, h, n;
};

/* A growable list of rectangles (zero-initialise, free with fer_rects_free). */
struct fer_rects {
    struct fer_rect *v;
    size_t n, cap;
};
int fer_rects_push(struct fer_rects *r, struct fer_rect rect);
void fer_rects_free(struct fer_rects *r);

/* Search options, as detectMultiScale's arguments. */
struct fer_cascade_params {
    double scale_factor;   /* > 1; OpenCV's default 1.1 */
    int min_w, min_h;      /* smallest window (0 = the cascade's) */
    int max_w, max_h;      /* largest window (0 = the image) */
    int threads;           /* worker threads, >= 1 */
};

/* Run the cascade over every window and scale of an 8-bit grey image
 * (rows `stride` bytes apart) and append each accepted window to *hits,
 * with n = 1, in scan order (scale by scale, then stripes of rows).
 * Returns 0, or -1 with fer_error() set (bad parameters, out of memory). */
int fer_cascade_scan(const struct fer_cascade *c, const uint8_t *grey, int width, int height,
                     size_t stride, const struct fer_cascade_params *p, struct fer_rects *hits);

/* OpenCV's groupRectangles(rects, min_neighbors, eps): partition the hits
 * into classes of similar rectangles (all four edges within eps * mean
 * size), average each class, keep classes of more than min_neighbors hits,
 * drop a class that lies inside a stronger one. Then clip to the image
 * (width x height) as CascadeClassifier::detectMultiScale does. With
 * min_neighbors <= 0 the hits are only clipped. Replaces *rects. Returns 0
 * or -1 (out of memory). */
int fer_rects_group(struct fer_rects *rects, int min_neighbors, double eps, int width,
                    int height);

/* Both steps: scan, then group with eps 0.2. */
int fer_cascade_detect(const struct fer_cascade *c, const uint8_t *grey, int width, int height,
                       size_t stride, const struct fer_cascade_params *p, int min_neighbors,
                       struct fer_rects *out);

#endif
