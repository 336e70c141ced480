/* plot.c - drawing primitives and the palette of lib/plot. */
#include "plot.h"

#include "error.h"
#include "labels.h"
#include "plot_font.h"

#include <stdlib.h>
#include <string.h>

int fer_plot_canvas(struct fer_image *im, int width, int height, uint32_t rgb)
{
    if (fer_image_alloc(im, width, height, 3) != 0)
        return -1;
    fer_plot_fill(im, 0, 0, width, height, rgb);
    return 0;
}

static void put(struct fer_image *im, int x, int y, uint32_t rgb)
{
    if (x < 0 || y < 0 || x >= im->width || y >= im->height)
        return;
    uint8_t *p = im->data + (size_t)y * im->stride + (size_t)x * 3;
    p[0] = (uint8_t)(rgb >> 16);
    p[1] = (uint8_t)(rgb >> 8);
    p[2] = (uint8_t)rgb;
}

void fer_plot_fill(struct fer_image *im, int x, int y, int w, int h, uint32_t rgb)
{
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > im->width ? im->width : x + w;
    int y1 = y + h > im->height ? im->height : y + h;
    for (int j = y0; j < y1; j++)
        for (int i = x0; i < x1; i++)
            put(im, i, j, rgb);
}

void fer_plot_frame(struct fer_image *im, int x, int y, int w, int h, uint32_t rgb)
{
    fer_plot_fill(im, x, y, w, 1, rgb);
    fer_plot_fill(im, x, y + h - 1, w, 1, rgb);
    fer_plot_fill(im, x, y, 1, h, rgb);
    fer_plot_fill(im, x + w - 1, y, 1, h, rgb);
}

/* Bresenham, stamping a thickness x thickness square at each step. */
void fer_plot_line(struct fer_image *im, int x0, int y0, int x1, int y1, int thickness,
                   uint32_t rgb)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    int half = (thickness - 1) / 2;
    for (;;) {
        fer_plot_fill(im, x0 - half, y0 - half, thickness, thickness, rgb);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

int fer_plot_text(struct fer_image *im, int x, int y, const char *text, int scale, uint32_t rgb)
{
    int cx = x, widest = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n') {
            y += FER_FONT_LINE * scale;
            cx = x;
            continue;
        }
        for (int gy = 0; gy < FER_FONT_HEIGHT; gy++)
            for (int gx = 0; gx < FER_FONT_WIDTH; gx++)
                if (fer_font_pixel(*p, gx, gy))
                    fer_plot_fill(im, cx + gx * scale, y + gy * scale, scale, scale, rgb);
        cx += FER_FONT_ADVANCE * scale;
        if (cx - x > widest)
            widest = cx - x;
    }
    return widest > 0 ? widest - scale : 0; /* no spacing after the last glyph */
}

int fer_plot_text_width(const char *text, int scale)
{
    int widest = 0, n = 0;
    for (const char *p = text;; p++) {
        if (*p == '\n' || *p == '\0') {
            widest = n > widest ? n : widest;
            n = 0;
            if (*p == '\0')
                break;
        } else {
            n++;
        }
    }
    return widest > 0 ? (widest * FER_FONT_ADVANCE - 1) * scale : 0;
}

int fer_plot_text_height(const char *text, int scale)
{
    int lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    return ((lines - 1) * FER_FONT_LINE + FER_FONT_HEIGHT) * scale;
}

void fer_plot_blit(struct fer_image *im, const struct fer_image *src, int x, int y)
{
    for (int j = 0; j < src->height; j++)
        for (int i = 0; i < src->width; i++) {
            const uint8_t *s = src->data + (size_t)j * src->stride + (size_t)i * (size_t)src->channels;
            uint32_t rgb = src->channels == 1
                               ? (uint32_t)s[0] * 0x010101u
                               : ((uint32_t)s[0] << 16) | ((uint32_t)s[1] << 8) | s[2];
            put(im, x + i, y + j, rgb);
        }
}

/* Ten colours far apart in hue and lightness, readable on white and told
 * apart by the common colour-blindnesses as far as ten colours can be. */
static const uint32_t palette[] = {
    0x1f5fbf, 0xe0701a, 0x2a9d3a, 0xc8283c, 0x8a5cc2,
    0x8c5a3c, 0xd660b0, 0x707070, 0xb0a820, 0x18a8b8,
};

uint32_t fer_plot_color(int i)
{
    int n = (int)(sizeof palette / sizeof palette[0]);
    return palette[((i % n) + n) % n];
}

/* Expressions get colours people associate with them, the same in every
 * chart: neutral grey, anger red, happiness orange, sadness blue, ... */
uint32_t fer_plot_class_color(const char *name, int index)
{
    static const uint32_t by_label[FER_LABEL_COUNT] = {
        0x808080, /* neutral */
        0xc8283c, /* anger */
        0x8c5a3c, /* contempt */
        0x2a9d3a, /* disgust */
        0x8a5cc2, /* fear */
        0xe8a010, /* happiness */
        0x1f5fbf, /* sadness */
        0x18b8c8, /* surprise */
    };
    int label = name ? fer_label_from_name(name) : -1;
    return label >= 0 ? by_label[label] : fer_plot_color(index);
}
