#include "check_helpers.h"

#include "error.h"
#include "image.h"
#include "metrics.h"
#include "plot.h"
#include "plot_font.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* With FER_PLOT_KEEP=DIR the charts are also left in DIR, to look at. */
static void write_and_reread(const struct fer_image *im, const char *name)
{
    char *dir = fer_test_tmpdir(), path[512];
    const char *keep = getenv("FER_PLOT_KEEP");
    snprintf(path, sizeof path, "%s/%s", keep ? keep : dir, name);
    ck_assert_msg(fer_image_write(path, im, FER_IMAGE_PNG, -1) == 0, "%s", fer_error());
    struct fer_image back;
    ck_assert_msg(fer_image_read(path, &back, 0) == 0, "%s", fer_error());
    ck_assert_int_eq(back.width, im->width);
    ck_assert_int_eq(back.height, im->height);
    ck_assert_int_eq(back.channels, 3);
    for (int y = 0; y < im->height; y++)
        ck_assert_int_eq(memcmp(back.data + (size_t)y * back.stride,
                                im->data + (size_t)y * im->stride, (size_t)im->width * 3), 0);
    fer_image_free(&back);
    if (!keep)
        unlink(path);
    rmdir(dir);
    free(dir);
}

static uint32_t pixel(const struct fer_image *im, int x, int y)
{
    const uint8_t *p = im->data + (size_t)y * im->stride + (size_t)x * 3;
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Pixels in the rectangle that are not `bg`. */
static int ink(const struct fer_image *im, int x, int y, int w, int h, uint32_t bg)
{
    int n = 0;
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++)
            n += pixel(im, i, j) != bg;
    return n;
}

START_TEST(test_font_covers_ascii)
{
    /* Every printable glyph but the space has ink, no two are the same,
     * and none reaches into the spacing column. */
    static uint8_t bits[95][FER_FONT_HEIGHT];
    for (int c = 32; c <= 126; c++) {
        int n = 0;
        for (int y = 0; y < FER_FONT_HEIGHT; y++) {
            bits[c - 32][y] = 0;
            for (int x = 0; x < FER_FONT_WIDTH; x++)
                if (fer_font_pixel(c, x, y)) {
                    bits[c - 32][y] |= (uint8_t)(1 << x);
                    n++;
                }
            ck_assert_int_eq(fer_font_pixel(c, FER_FONT_WIDTH, y), 0);
        }
        if (c == ' ')
            ck_assert_int_eq(n, 0);
        else
            ck_assert_msg(n > 0, "glyph '%c' is empty", c);
        for (int d = 33; d < c; d++)
            ck_assert_msg(memcmp(bits[c - 32], bits[d - 32], FER_FONT_HEIGHT) != 0,
                          "glyphs '%c' and '%c' are the same", c, d);
    }
    /* Outside ASCII: drawn as '?'. */
    for (int y = 0; y < FER_FONT_HEIGHT; y++)
        for (int x = 0; x < FER_FONT_WIDTH; x++)
            ck_assert_int_eq(fer_font_pixel(200, x, y), fer_font_pixel('?', x, y));
}
END_TEST

START_TEST(test_text_and_primitives)
{
    struct fer_image im;
    ck_assert_int_eq(fer_plot_canvas(&im, 200, 60, 0xffffff), 0);
    int w = fer_plot_text(&im, 10, 10, "Hello, 123", 2, 0x000000);
    ck_assert_int_eq(w, fer_plot_text_width("Hello, 123", 2));
    ck_assert_int_eq(w, (10 * 6 - 1) * 2);
    ck_assert_int_eq(fer_plot_text_height("a\nb", 1), 18);
    ck_assert_int_gt(ink(&im, 10, 10, w, 16, 0xffffff), 50);
    ck_assert_int_eq(ink(&im, 10 + w + 1, 0, 200 - 11 - w, 60, 0xffffff), 0);
    ck_assert_int_eq(ink(&im, 0, 30, 200, 30, 0xffffff), 0);
    /* Clipping: drawing off the canvas is harmless. */
    fer_plot_fill(&im, -50, -50, 60, 60, 0xff0000);
    ck_assert_uint_eq(pixel(&im, 0, 0), 0xff0000);
    ck_assert_uint_eq(pixel(&im, 9, 9), 0xff0000);
    ck_assert_uint_eq(pixel(&im, 12, 10), 0xffffff); /* inside H, no ink */
    fer_plot_line(&im, -10, 59, 300, 59, 1, 0x00ff00);
    ck_assert_uint_eq(pixel(&im, 150, 59), 0x00ff00);
    fer_plot_line(&im, 199, 0, 199, 40, 1, 0x0000ff);
    ck_assert_uint_eq(pixel(&im, 199, 20), 0x0000ff);
    fer_plot_text(&im, 190, 50, "clipped", 3, 0);
    fer_image_free(&im);
}
END_TEST

static void fill_confusion(struct fer_confusion *c)
{
    ck_assert_int_eq(fer_confusion_init(c, 8, NULL), 0);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            if (i == 2) /* contempt: no samples */
                continue;
            int n = i == j ? 40 + 7 * i : (i * 3 + j) % 5;
            for (int k = 0; k < n; k++)
                ck_assert_int_eq(fer_confusion_add(c, i, j), 0);
        }
}

START_TEST(test_confusion_png)
{
    struct fer_confusion c;
    fill_confusion(&c);
    struct fer_image im;
    ck_assert_int_eq(fer_plot_confusion(&c, "Confusion, fold 3", &im), 0);
    ck_assert_int_ge(im.width, 600);
    ck_assert_int_le(im.width, 1400);
    ck_assert_int_le(im.height, 800);
    /* The darkest cells are the diagonal: find each diagonal cell as the
     * darkest pixel of its row band and check its neighbours are lighter. */
    write_and_reread(&im, "confusion.png");
    /* Corners are background; there is dark (>50% row) colour somewhere. */
    ck_assert_uint_eq(pixel(&im, 0, 0), 0xffffff);
    int dark = 0;
    for (int y = 0; y < im.height; y++)
        for (int x = 0; x < im.width; x++)
            dark += (pixel(&im, x, y) & 0xff) < 0xa0 && (pixel(&im, x, y) >> 16) < 0x40;
    ck_assert_int_gt(dark, 7 * 40 * 30);
    fer_image_free(&im);
    fer_confusion_free(&c);
}
END_TEST

START_TEST(test_curves_png)
{
    enum { N = 50 };
    double x[N], loss[N], acc[N], gap[N];
    for (int i = 0; i < N; i++) {
        x[i] = i + 1;
        loss[i] = 2.0 * exp(-i / 12.0) + 0.05;
        acc[i] = 1 - exp(-i / 10.0) * 0.85;
        gap[i] = i % 10 == 5 ? NAN : 0.5;
    }
    struct fer_plot_series s[] = {
        {"loss", x, loss, N, fer_plot_color(0)},
        {"accuracy", x, acc, N, fer_plot_color(1)},
        {"constant with gaps", x, gap, N, fer_plot_color(2)},
    };
    struct fer_image im;
    ck_assert_int_eq(fer_plot_canvas(&im, 640, 360, 0xffffff), 0);
    struct fer_plot_axes axes = {"Training", "epoch", NAN, NAN, 1};
    ck_assert_msg(fer_plot_curves(&im, 0, 0, 640, 360, s, 3, &axes) == 0, "%s", fer_error());
    /* Series colours appear in the plot. */
    int seen[3] = {0};
    for (int y = 0; y < im.height; y++)
        for (int xx = 0; xx < im.width; xx++)
            for (int k = 0; k < 3; k++)
                seen[k] += pixel(&im, xx, y) == s[k].rgb;
    for (int k = 0; k < 3; k++)
        ck_assert_int_gt(seen[k], 100);
    write_and_reread(&im, "curves.png");
    /* No finite point: an error, not an empty chart. */
    double nan1[1] = {NAN};
    struct fer_plot_series e = {"e", nan1, nan1, 1, 0};
    ck_assert_int_eq(fer_plot_curves(&im, 0, 0, 640, 360, &e, 1, &axes), -1);
    ck_assert_str_eq(fer_error(), "no data to plot");
    /* Legend on the right: the plot narrows, the swatches sit right of it
     * and no data is drawn there. */
    fer_plot_fill(&im, 0, 0, 640, 360, 0xffffff);
    axes.legend = FER_PLOT_LEGEND_RIGHT;
    ck_assert_int_eq(fer_plot_curves(&im, 0, 0, 640, 360, s, 3, &axes), 0);
    int lw = fer_plot_text_width("constant with gaps", 1) + 30;
    for (int k = 0; k < 3; k++) {
        int in_legend = 0;
        for (int y = 0; y < 360; y++)
            for (int xx = 640 - 12 - lw; xx < 640; xx++)
                in_legend += pixel(&im, xx, y) == s[k].rgb;
        ck_assert_int_eq(in_legend, 14 * 3); /* exactly the 14x3 swatch */
    }
    /* A single point and a flat line still draw. */
    double one = 3, val = 0.25;
    struct fer_plot_series p = {"p", &one, &val, 1, 0xff0000};
    ck_assert_int_eq(fer_plot_curves(&im, 0, 0, 640, 360, &p, 1, &axes), 0);
    fer_image_free(&im);
}
END_TEST

START_TEST(test_timeline_png)
{
    enum { N = 40, C = 3 };
    static const char *const classes[C] = {"neutral", "happiness", "surprise"};
    double t[N], p[N * C];
    for (int i = 0; i < N; i++) {
        t[i] = i * 0.04;
        double h = i > 15 && i < 30 ? 0.8 : 0.1;
        p[i * C + 0] = 0.9 - h;
        p[i * C + 1] = h;
        p[i * C + 2] = 0.1;
    }
    struct fer_plot_track tracks[2] = {{"clip, track 1", N, t, p}, {"clip, track 2", N / 2, t, p}};
    struct fer_image im;
    ck_assert_msg(fer_plot_timeline(tracks, 2, classes, C, "run", "pts (s)", 640, &im) == 0, "%s",
                  fer_error());
    ck_assert_int_eq(im.width, 640);
    ck_assert_int_eq(im.height, 24 + 2 * FER_PLOT_PANEL_HEIGHT);
    /* Each class's colour is drawn in each panel. */
    for (int k = 0; k < 2; k++)
        for (int c = 0; c < C; c++) {
            uint32_t rgb = fer_plot_class_color(classes[c], c);
            int n = 0;
            for (int y = 24 + k * FER_PLOT_PANEL_HEIGHT; y < 24 + (k + 1) * FER_PLOT_PANEL_HEIGHT; y++)
                for (int x = 0; x < 640; x++)
                    n += pixel(&im, x, y) == rgb;
            ck_assert_int_gt(n, 100);
        }
    write_and_reread(&im, "timeline.png");
    fer_image_free(&im);
    tracks[1].n = 0;
    ck_assert_int_eq(fer_plot_timeline(tracks, 2, classes, C, NULL, "t", 640, &im), -1);
    ck_assert_str_eq(fer_error(), "track 'clip, track 2': no data to plot");
    ck_assert_ptr_null(im.data);
    ck_assert_int_eq(fer_plot_timeline(tracks, 0, classes, C, NULL, "t", 640, &im), -1);
}
END_TEST

START_TEST(test_sheet_png)
{
    struct fer_image tiles[7];
    const char *caps[7] = {"t1 f10", "t1 f20", "t2 f10", NULL, "a very long caption indeed",
                           "x", "y"};
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(fer_image_alloc(&tiles[i], 40 + i, 50, i % 2 ? 3 : 1), 0);
        memset(tiles[i].data, 30 * i, tiles[i].stride * (size_t)tiles[i].height);
    }
    struct fer_image im;
    ck_assert_int_eq(fer_plot_sheet(tiles, caps, 7, 3, 64, &im), 0);
    /* 3 columns x 3 rows of (64 + 8) x (64 + 14 + 8), plus an 8 px margin. */
    ck_assert_int_eq(im.width, 8 + 3 * 72);
    ck_assert_int_eq(im.height, 8 + 3 * 86);
    ck_assert_uint_eq(pixel(&im, 8 + 72 + 30, 8 + 30), 0x1e1e1e); /* tile 1, grey 30 */
    ck_assert_int_gt(ink(&im, 8, 8 + 64 + 3, 64, 10, 0xf4f4f4), 20);  /* caption */
    ck_assert_int_eq(ink(&im, 8, 8 + 86 + 64 + 3, 64, 10, 0xf4f4f4), 0); /* tile 3: none */
    write_and_reread(&im, "sheet.png");
    fer_image_free(&im);
    ck_assert_int_eq(fer_plot_sheet(tiles, caps, 0, 3, 64, &im), -1);
    for (int i = 0; i < 7; i++)
        fer_image_free(&tiles[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_add_test(tc, test_font_covers_ascii);
    tcase_add_test(tc, test_text_and_primitives);
    tcase_add_test(tc, test_confusion_png);
    tcase_add_test(tc, test_curves_png);
    tcase_add_test(tc, test_timeline_png);
    tcase_add_test(tc, test_sheet_png);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
