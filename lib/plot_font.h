/* plot_font.h - the embedded bitmap font used by plot.h (internal).
 *
 * Fixed-width glyphs FER_FONT_WIDTH x FER_FONT_HEIGHT for printable ASCII;
 * anything else is drawn as '?'. Text is laid out in cells of
 * FER_FONT_ADVANCE x FER_FONT_LINE pixels (times the scale).
 */
#ifndef FER_PLOT_FONT_H
#define FER_PLOT_FONT_H

enum {
    FER_FONT_FIRST = 32, FER_FONT_LAST = 126,
    FER_FONT_WIDTH = 5, FER_FONT_HEIGHT = 8,
    FER_FONT_ADVANCE = 6, FER_FONT_LINE = 10,
};

/* Pixel height of one text line at scale s. */
#define FER_FONT_LINE_PX(s) (FER_FONT_LINE * (s))

/* 1 if glyph c has ink at column x, row y (0,0 top left), else 0. */
int fer_font_pixel(int c, int x, int y);

#endif
