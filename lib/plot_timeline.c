/* plot_timeline.c - expression probabilities over time, per track. */
#include "plot.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int fer_plot_timeline(const struct fer_plot_track *tracks, size_t n_tracks,
                      const char *const *classes, int n_classes, const char *title,
                      const char *xlabel, int width, struct fer_image *out)
{
    memset(out, 0, sizeof *out);
    if (n_tracks == 0)
        return fer_fail("no tracks to plot");
    if (n_classes < 1 || width < 320)
        return fer_fail("timeline: %d classes, width %d", n_classes, width);
    int head = title ? 24 : 0;
    if (fer_plot_canvas(out, width, head + (int)n_tracks * FER_PLOT_PANEL_HEIGHT, 0xffffff) != 0)
        return -1;
    if (title)
        fer_plot_text(out, 12, 6, title, 2, 0x202020);
    struct fer_plot_series *series = calloc((size_t)n_classes, sizeof *series);
    size_t most = 0;
    for (size_t k = 0; k < n_tracks; k++)
        most = tracks[k].n > most ? tracks[k].n : most;
    double *y = calloc(most ? most : 1, (size_t)n_classes * sizeof *y);
    if (series == NULL || y == NULL) {
        free(series);
        free(y);
        fer_image_free(out);
        return fer_fail("out of memory");
    }
    int rc = 0;
    for (size_t k = 0; k < n_tracks && rc == 0; k++) {
        const struct fer_plot_track *tr = &tracks[k];
        /* Column-major copies: a series wants each class's values in a row. */
        for (size_t i = 0; i < tr->n; i++)
            for (int c = 0; c < n_classes; c++)
                y[(size_t)c * tr->n + i] = tr->probs[i * (size_t)n_classes + (size_t)c];
        for (int c = 0; c < n_classes; c++)
            series[c] = (struct fer_plot_series){classes[c], tr->t, y + (size_t)c * tr->n, tr->n,
                                                 fer_plot_class_color(classes[c], c)};
        struct fer_plot_axes axes = {tr->label, xlabel, 0, 1, FER_PLOT_LEGEND_RIGHT};
        rc = fer_plot_curves(out, 0, head + (int)k * FER_PLOT_PANEL_HEIGHT, width,
                             FER_PLOT_PANEL_HEIGHT, series, (size_t)n_classes, &axes);
        if (rc != 0)
            fer_fail_context("track '%s'", tr->label ? tr->label : "");
    }
    free(series);
    free(y);
    if (rc != 0)
        fer_image_free(out);
    return rc;
}
