/* plot.h - small PNG charts: confusion heat-maps, training curves,
 * per-track expression timelines, contact sheets of face crops.
 *
 * Everything draws into an RGB struct fer_image (image.h) that the caller
 * writes with fer_image_write. Text uses our own embedded 5x8 bitmap font
 * (plot_font.c), printable ASCII only (anything else shows as '?'), scaled
 * by an integer so that it stays crisp. Drawing is clipped to the image:
 * coordinates outside it are fine. Colours are 0xRRGGBB.
 */
#ifndef FER_PLOT_H
#define FER_PLOT_H

#include "image.h"
#include "metrics.h"

#include <stddef.h>
#include <stdint.h>

/* Allocate an RGB canvas filled with rgb. Returns 0, or -1 with fer_error()
 * set (size out of 1..FER_IMAGE_MAX_SIDE, or out of memory). */
int fer_plot_canvas(struct fer_image *im, int width, int height, uint32_t rgb);

/* Primitives (never fail; im must be RGB). */
void fer_plot_fill(struct fer_image *im, int x, int y, int w, int h, uint32_t rgb);
void fer_plot_frame(struct fer_image *im, int x, int y, int w, int h, uint32_t rgb);
/* A line from (x0,y0) to (x1,y1), `thickness` pixels wide (>= 1). */
void fer_plot_line(struct fer_image *im, int x0, int y0, int x1, int y1, int thickness,
                   uint32_t rgb);
/* Draw text with its top-left corner at (x, y); "\n" starts a new line.
 * Returns the width in pixels of the widest line drawn. */
int fer_plot_text(struct fer_image *im, int x, int y, const char *text, int scale, uint32_t rgb);
/* Width and height text would take at scale. */
int fer_plot_text_width(const char *text, int scale);
int fer_plot_text_height(const char *text, int scale);
/* Copy src (grey or RGB) with its top-left corner at (x, y). */
void fer_plot_blit(struct fer_image *im, const struct fer_image *src, int x, int y);

/* Colour i of the series palette (cycles); and the colour of canonical
 * class `name` (labels.h), falling back to the palette by index. */
uint32_t fer_plot_color(int i);
uint32_t fer_plot_class_color(const char *name, int index);

/* Confusion heat-map: rows true, columns predicted, class names on both
 * axes; each cell shows its count and its row-normalized percentage, and is
 * coloured by that fraction (white 0 -> dark blue 1), so a class with few
 * samples is as readable as a big one. A row with no samples is grey with
 * "-". The image is allocated to fit (about 1000x600 for 8 classes).
 * title may be NULL. Returns 0, or -1 with fer_error() set. */
int fer_plot_confusion(const struct fer_confusion *c, const char *title, struct fer_image *out);

/* One series of a line chart: n points (x[i], y[i]); a NaN y is a gap. */
struct fer_plot_series {
    const char *name;
    const double *x, *y;
    size_t n;
    uint32_t rgb;
};

struct fer_plot_axes {
    const char *title;  /* above the panel, may be NULL */
    const char *xlabel; /* under the x axis, may be NULL */
    double ymin, ymax;  /* fixed y range, or NaN for both: fit the data */
    int legend;         /* enum fer_plot_legend */
};

enum fer_plot_legend {
    FER_PLOT_LEGEND_NONE = 0,
    FER_PLOT_LEGEND_INSIDE = 1, /* top-right corner of the plot, over the data */
    FER_PLOT_LEGEND_RIGHT = 2,  /* a column right of the plot (the plot narrows) */
};

/* Draw a line chart with axes, tick labels and legend into the rectangle
 * (x, y, w, h) of im (which must be at least 160x100). Series with no
 * finite point are skipped. Returns 0, or -1 ("no data to plot") when no
 * series has a finite point. */
int fer_plot_curves(struct fer_image *im, int x, int y, int w, int h,
                    const struct fer_plot_series *series, size_t n_series,
                    const struct fer_plot_axes *axes);

/* Timeline of expression probabilities: one panel per track, stacked, one
 * line per class (fer_plot_class_color), probabilities on a fixed 0..1
 * axis, a legend beside each panel. */
struct fer_plot_track {
    const char *label;   /* panel title, e.g. "video.mp4, track 2" */
    size_t n;            /* points */
    const double *t;     /* n times (x axis), increasing */
    const double *probs; /* n * n_classes, row-major: probs[i * n_classes + c] */
};
/* tracks: n_tracks panels of PANEL_HEIGHT pixels (plus 24 for a title);
 * width >= 320. xlabel names the time axis ("pts (s)", "frame"). *out is
 * allocated. Returns 0, or -1 with fer_error() set ("track 'x': no data to
 * plot", no tracks, out of memory). */
enum { FER_PLOT_PANEL_HEIGHT = 260 };
int fer_plot_timeline(const struct fer_plot_track *tracks, size_t n_tracks,
                      const char *const *classes, int n_classes, const char *title,
                      const char *xlabel, int width, struct fer_image *out);

/* Contact sheet: n tiles (grey or RGB, any size: each is scaled to
 * tile x tile pixels) in a grid of `columns`, each captioned under it
 * (captions[i] may be NULL). *out is allocated. Returns 0, or -1 with
 * fer_error() set (n = 0, columns < 1, tile < 8). */
int fer_plot_sheet(const struct fer_image *tiles, const char *const *captions, size_t n,
                   int columns, int tile, struct fer_image *out);

#endif
