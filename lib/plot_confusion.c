/* plot_confusion.c - the confusion-matrix heat-map of lib/plot. */
#include "plot.h"

#include "error.h"
#include "plot_font.h"

#include <stdio.h>
#include <string.h>

enum { SCALE = 2, PAD = 16, CELL_H = 52, MIN_CELL_W = 84, LABEL_GAP = 10 };

static const uint32_t INK = 0x202020, MUTED = 0x606060, EMPTY = 0xdcdcdc;

/* White -> dark blue by the row-normalized fraction. */
static uint32_t heat(double f)
{
    static const int lo[3] = {255, 255, 255}, hi[3] = {16, 58, 128};
    uint32_t rgb = 0;
    for (int k = 0; k < 3; k++) {
        int v = (int)(lo[k] + (hi[k] - lo[k]) * f + 0.5);
        rgb = rgb << 8 | (uint32_t)v;
    }
    return rgb;
}

static void centered(struct fer_image *im, int cx, int y, const char *s, int scale, uint32_t rgb)
{
    fer_plot_text(im, cx - fer_plot_text_width(s, scale) / 2, y, s, scale, rgb);
}

int fer_plot_confusion(const struct fer_confusion *c, const char *title, struct fer_image *out)
{
    memset(out, 0, sizeof *out);
    int n = c->n_classes, name_w = 0;
    for (int i = 0; i < n; i++) {
        int w = fer_plot_text_width(c->names[i], SCALE);
        name_w = w > name_w ? w : name_w;
    }
    int cell_w = name_w + 24 > MIN_CELL_W ? name_w + 24 : MIN_CELL_W;
    int line = FER_FONT_LINE_PX(SCALE);
    /* Layout, top to bottom: title, "predicted", column names, the grid,
     * then a one-line key; left to right: "true" and row names, the grid. */
    int top = PAD + (title ? line + 8 : 0);
    int names_y = top + line + 6; /* a gap under "predicted" */
    int grid_y = names_y + line + LABEL_GAP - 4;
    int grid_x = PAD + name_w + LABEL_GAP;
    int width = grid_x + n * cell_w + PAD;
    int height = grid_y + n * CELL_H + 12 + line + PAD;
    int min_w = PAD * 2 + (title ? fer_plot_text_width(title, SCALE) : 0);
    width = width < min_w ? min_w : width;
    if (fer_plot_canvas(out, width, height, 0xffffff) != 0)
        return -1;

    if (title)
        fer_plot_text(out, PAD, PAD, title, SCALE, INK);
    centered(out, grid_x + n * cell_w / 2, top, "predicted", SCALE, MUTED);
    fer_plot_text(out, PAD, names_y, "true", SCALE, MUTED);
    for (int j = 0; j < n; j++)
        centered(out, grid_x + j * cell_w + cell_w / 2, names_y, c->names[j], SCALE, INK);

    for (int i = 0; i < n; i++) {
        int y = grid_y + i * CELL_H;
        fer_plot_text(out, grid_x - LABEL_GAP - fer_plot_text_width(c->names[i], SCALE),
                      y + (CELL_H - FER_FONT_HEIGHT * SCALE) / 2, c->names[i], SCALE, INK);
        uint64_t row = 0;
        for (int j = 0; j < n; j++)
            row += fer_confusion_at(c, i, j);
        for (int j = 0; j < n; j++) {
            int x = grid_x + j * cell_w;
            uint64_t v = fer_confusion_at(c, i, j);
            double f = row ? (double)v / (double)row : 0;
            uint32_t bg = row ? heat(f) : EMPTY;
            uint32_t fg = f > 0.5 ? 0xffffff : INK;
            fer_plot_fill(out, x, y, cell_w, CELL_H, bg);
            char count[32], pct[32];
            if (row) {
                snprintf(count, sizeof count, "%llu", (unsigned long long)v);
                snprintf(pct, sizeof pct, "%.1f%%", 100 * f);
            } else {
                snprintf(count, sizeof count, "-");
                pct[0] = '\0';
            }
            centered(out, x + cell_w / 2, y + 11, count, SCALE, fg);
            centered(out, x + cell_w / 2, y + 13 + FER_FONT_LINE * SCALE, pct, 1,
                     f > 0.5 ? 0xffffff : MUTED);
        }
    }
    /* Grid lines, and the diagonal outlined: the cells that should be dark. */
    for (int k = 0; k <= n; k++) {
        fer_plot_fill(out, grid_x, grid_y + k * CELL_H, n * cell_w, 1, 0xbbbbbb);
        fer_plot_fill(out, grid_x + k * cell_w, grid_y, 1, n * CELL_H, 0xbbbbbb);
    }
    for (int i = 0; i < n; i++)
        fer_plot_frame(out, grid_x + i * cell_w, grid_y + i * CELL_H, cell_w + 1, CELL_H + 1,
                       0x202020);

    char key[128];
    snprintf(key, sizeof key, "%llu samples; cells: count, %% of the true row",
             (unsigned long long)fer_confusion_total(c));
    fer_plot_text(out, grid_x, grid_y + n * CELL_H + 12, key, 1, MUTED);
    return 0;
}
