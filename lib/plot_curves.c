/* plot_curves.c - line charts with axes, ticks and a legend (lib/plot). */
#include "plot.h"

#include "error.h"
#include "plot_font.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const uint32_t INK = 0x202020, MUTED = 0x606060, GRID = 0xe6e6e6;

/* Tick step: 1, 2 or 5 times a power of ten, giving about `want` ticks. */
static double nice_step(double range, int want)
{
    double raw = range / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void tick_label(char *buf, size_t size, double v, double step)
{
    /* As many decimals as the step needs, no more: 0.25 0.5 ... not 0.500000. */
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) < step * 1e-6)
        v = 0;
    if (fabs(v) >= 1e6 || (v != 0 && fabs(v) < 1e-4))
        snprintf(buf, size, "%.3g", v);
    else
        snprintf(buf, size, "%.*f", decimals > 6 ? 6 : decimals, v);
}

static int data_range(const struct fer_plot_series *s, size_t n, double *xmin, double *xmax,
                      double *ymin, double *ymax)
{
    int any = 0;
    *xmin = *ymin = INFINITY;
    *xmax = *ymax = -INFINITY;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i]))
                continue;
            any = 1;
            *xmin = fmin(*xmin, s[k].x[i]);
            *xmax = fmax(*xmax, s[k].x[i]);
            *ymin = fmin(*ymin, s[k].y[i]);
            *ymax = fmax(*ymax, s[k].y[i]);
        }
    return any;
}

/* Widen a degenerate range and snap it outwards to whole ticks. */
static double fit_axis(double *lo, double *hi, int want, int snap)
{
    if (*hi - *lo < 1e-12) {
        double d = fabs(*lo) > 1e-12 ? fabs(*lo) * 0.1 : 1;
        *lo -= d;
        *hi += d;
    }
    double step = nice_step(*hi - *lo, want);
    if (snap) {
        *lo = floor(*lo / step + 1e-9) * step;
        *hi = ceil(*hi / step - 1e-9) * step;
    }
    return step;
}

static int legend_width(const struct fer_plot_series *s, size_t n)
{
    int w = 0;
    for (size_t k = 0; k < n; k++)
        if (s[k].name) {
            int tw = fer_plot_text_width(s[k].name, 1);
            w = tw > w ? tw : w;
        }
    return w ? w + 30 : 0;
}

/* The legend box with its right edge at `right`. */
static void draw_legend(struct fer_image *im, int right, int top,
                        const struct fer_plot_series *s, size_t n)
{
    int rows = 0;
    for (size_t k = 0; k < n; k++)
        rows += s[k].name != NULL;
    if (rows == 0)
        return;
    int box_w = legend_width(s, n), box_h = rows * 13 + 8, x = right - box_w, y = top;
    fer_plot_fill(im, x, y, box_w, box_h, 0xffffff);
    fer_plot_frame(im, x, y, box_w, box_h, 0xc0c0c0);
    int r = 0;
    for (size_t k = 0; k < n; k++) {
        if (!s[k].name)
            continue;
        int ly = y + 5 + r * 13;
        fer_plot_fill(im, x + 5, ly + 3, 14, 3, s[k].rgb);
        fer_plot_text(im, x + 24, ly, s[k].name, 1, INK);
        r++;
    }
}

int fer_plot_curves(struct fer_image *im, int x, int y, int w, int h,
                    const struct fer_plot_series *series, size_t n_series,
                    const struct fer_plot_axes *axes)
{
    double xmin, xmax, ymin, ymax;
    if (!data_range(series, n_series, &xmin, &xmax, &ymin, &ymax))
        return fer_fail("no data to plot");
    if (w < 160 || h < 100)
        return fer_fail("chart area %dx%d too small (at least 160x100)", w, h);
    int fixed = isfinite(axes->ymin) && isfinite(axes->ymax) && axes->ymax > axes->ymin;
    if (fixed) {
        ymin = axes->ymin;
        ymax = axes->ymax;
    }
    double xstep = fit_axis(&xmin, &xmax, 6, 0);
    double ystep = fit_axis(&ymin, &ymax, 5, !fixed);

    /* Room for the title above, x tick labels and label below, y tick
     * labels on the left. */
    char buf[64];
    int ylab_w = 0;
    for (double v = ceil(ymin / ystep - 1e-9) * ystep; v <= ymax + ystep * 1e-9; v += ystep) {
        tick_label(buf, sizeof buf, v, ystep);
        int tw = fer_plot_text_width(buf, 1);
        ylab_w = tw > ylab_w ? tw : ylab_w;
    }
    int top = y + (axes->title ? 26 : 10);
    int left = x + ylab_w + 14;
    int bottom = y + h - (axes->xlabel ? 34 : 20);
    int right = x + w - 12, legend_w = legend_width(series, n_series);
    if (axes->legend == FER_PLOT_LEGEND_RIGHT && legend_w)
        right -= legend_w + 12;
    int pw = right - left, ph = bottom - top;
    if (pw < 20 || ph < 20)
        return fer_fail("chart area %dx%d too small for its labels", w, h);
    if (axes->title)
        fer_plot_text(im, left, y + 6, axes->title, 1, INK);

#define PX(v) (left + (int)lround(((v) - xmin) / (xmax - xmin) * pw))
#define PY(v) (bottom - (int)lround(((v) - ymin) / (ymax - ymin) * ph))
    for (double v = ceil(ymin / ystep - 1e-9) * ystep; v <= ymax + ystep * 1e-9; v += ystep) {
        int py = PY(v);
        fer_plot_fill(im, left, py, pw, 1, GRID);
        fer_plot_fill(im, left - 4, py, 4, 1, INK);
        tick_label(buf, sizeof buf, v, ystep);
        fer_plot_text(im, left - 7 - fer_plot_text_width(buf, 1), py - 4, buf, 1, MUTED);
    }
    for (double v = ceil(xmin / xstep - 1e-9) * xstep; v <= xmax + xstep * 1e-9; v += xstep) {
        int px = PX(v);
        fer_plot_fill(im, px, top, 1, ph, GRID);
        fer_plot_fill(im, px, bottom, 1, 4, INK);
        tick_label(buf, sizeof buf, v, xstep);
        int tw = fer_plot_text_width(buf, 1);
        fer_plot_text(im, px - tw / 2, bottom + 7, buf, 1, MUTED);
    }
    fer_plot_fill(im, left, top, 1, ph + 1, INK);
    fer_plot_fill(im, left, bottom, pw + 1, 1, INK);
    if (axes->xlabel)
        fer_plot_text(im, left + pw / 2 - fer_plot_text_width(axes->xlabel, 1) / 2, bottom + 20,
                      axes->xlabel, 1, INK);

    for (size_t k = 0; k < n_series; k++) {
        const struct fer_plot_series *s = &series[k];
        int have = 0, px0 = 0, py0 = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (!isfinite(s->x[i]) || !isfinite(s->y[i])) {
                have = 0; /* a gap */
                continue;
            }
            double yv = fmin(fmax(s->y[i], ymin), ymax);
            int px = PX(s->x[i]), py = PY(yv);
            if (have)
                fer_plot_line(im, px0, py0, px, py, 2, s->rgb);
            else
                fer_plot_fill(im, px - 1, py - 1, 2, 2, s->rgb); /* a lone point shows */
            have = 1;
            px0 = px;
            py0 = py;
        }
    }
#undef PX
#undef PY
    if (axes->legend == FER_PLOT_LEGEND_INSIDE)
        draw_legend(im, right - 6, top + 6, series, n_series);
    else if (axes->legend == FER_PLOT_LEGEND_RIGHT)
        draw_legend(im, x + w - 12, top, series, n_series);
    return 0;
}
