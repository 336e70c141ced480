/* plot_sheet.c - contact sheets of face crops (lib/plot). */
#include "plot.h"

#include "error.h"
#include "plot_font.h"

#include <stdio.h>
#include <string.h>

static const uint32_t INK = 0x202020;

int fer_plot_sheet(const struct fer_image *tiles, const char *const *captions, size_t n,
                   int columns, int tile, struct fer_image *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return fer_fail("no images for the contact sheet");
    if (columns < 1 || tile < 8)
        return fer_fail("contact sheet: %d columns of %d px tiles", columns, tile);
    int cols = (size_t)columns < n ? columns : (int)n;
    int rows = (int)((n + (size_t)cols - 1) / (size_t)cols);
    int gap = 8, cap_h = 14, cell_w = tile + gap, cell_h = tile + cap_h + gap;
    if (fer_plot_canvas(out, gap + cols * cell_w, gap + rows * cell_h, 0xf4f4f4) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int x = gap + (int)(i % (size_t)cols) * cell_w, y = gap + (int)(i / (size_t)cols) * cell_h;
        struct fer_image scaled;
        const struct fer_image *src = &tiles[i];
        if (src->width != tile || src->height != tile) {
            if (fer_image_resize(src, &scaled, tile, tile) != 0) {
                fer_image_free(out);
                return -1;
            }
            src = &scaled;
        }
        fer_plot_blit(out, src, x, y);
        if (src == &scaled)
            fer_image_free(&scaled);
        fer_plot_frame(out, x - 1, y - 1, tile + 2, tile + 2, 0xb0b0b0);
        if (captions && captions[i]) {
            /* Cut a caption that does not fit its tile rather than overlap. */
            char cap[128];
            snprintf(cap, sizeof cap, "%s", captions[i]);
            size_t fit = (size_t)((tile + 1) / FER_FONT_ADVANCE);
            if (strlen(cap) > fit && fit < sizeof cap)
                cap[fit] = '\0';
            fer_plot_text(out, x, y + tile + 4, cap, 1, INK);
        }
    }
    return 0;
}
