/* test_image.c - image I/O, conversion and resizing against OpenCV's
 * results (fixtures made by scripts/gen-image-fixtures.py). */
#include "check_helpers.h"

#include "error.h"
#include "image.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *root(void)
{
    const char *r = getenv("FER_ROOT");
    return r ? r : ".";
}

static const char *media(void)
{
    const char *m = getenv("FER_MEDIA");
    return m ? m : "";
}

/* Path of a fixture under tests/fixtures/image (static buffer). */
static const char *fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/image/%s", root(), name);
    return path;
}

static const char *media_file(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", media(), name);
    return path;
}

static uint8_t *px(const struct fer_image *im, int x, int y)
{
    return im->data + (size_t)y * im->stride + (size_t)x * (size_t)im->channels;
}

/* FNV-1a 64 over the pixel bytes row by row, as the fixture script does. */
static uint64_t fnv1a64(const struct fer_image *im)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int y = 0; y < im->height; y++)
        for (size_t i = 0; i < (size_t)im->width * (size_t)im->channels; i++)
            h = (h ^ px(im, 0, y)[i]) * 0x100000001b3ULL;
    return h;
}

/* Largest absolute difference of two same-shaped images. */
static int max_diff(const struct fer_image *a, const struct fer_image *b)
{
    ck_assert_int_eq(a->width, b->width);
    ck_assert_int_eq(a->height, b->height);
    ck_assert_int_eq(a->channels, b->channels);
    int worst = 0;
    for (int y = 0; y < a->height; y++)
        for (int i = 0; i < a->width * a->channels; i++) {
            int d = abs(px(a, 0, y)[i] - px(b, 0, y)[i]);
            worst = d > worst ? d : worst;
        }
    return worst;
}

/* A smooth image with some texture, like a video frame (no wrap-around
 * edges: JPEG would blur those and the round trip would say little). */
static void make_test_image(struct fer_image *im, int w, int h, int channels)
{
    ck_assert_int_eq(fer_image_alloc(im, w, h, channels), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++)
                px(im, x, y)[c] = (uint8_t)(x * 200 / w + y * (c + 1) * 15 / h + ((x * y) & 7));
}

static char *tmpdir;

static void setup(void)
{
    tmpdir = fer_test_tmpdir();
    ck_assert_ptr_nonnull(tmpdir);
}

static void teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    free(tmpdir);
}

static const char *tmp(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void *slurp(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    void *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *size = (size_t)n;
    return buf;
}

/* --- alloc, formats ----------------------------------------------------- */

START_TEST(test_alloc_and_limits)
{
    struct fer_image im;
    ck_assert_int_eq(fer_image_alloc(&im, 3, 2, 3), 0);
    ck_assert_uint_eq(im.stride, 9);
    fer_image_free(&im);
    ck_assert_ptr_null(im.data);
    fer_image_free(&im); /* twice is harmless */
    ck_assert_int_eq(fer_image_alloc(&im, 3, 2, 2), -1);
    ck_assert_str_eq(fer_error(), "image: 2 channels (must be 1 or 3)");
    ck_assert_int_eq(fer_image_alloc(&im, 0, 2, 1), -1);
    ck_assert_int_eq(fer_image_alloc(&im, FER_IMAGE_MAX_SIDE + 1, 1, 1), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "too large"));
    ck_assert_int_eq(fer_image_alloc(&im, FER_IMAGE_MAX_SIDE, FER_IMAGE_MAX_SIDE, 1), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "too large"));
}
END_TEST

START_TEST(test_format_names)
{
    ck_assert_int_eq(fer_image_format_parse("png"), FER_IMAGE_PNG);
    ck_assert_int_eq(fer_image_format_parse("JPG"), FER_IMAGE_JPEG);
    ck_assert_int_eq(fer_image_format_parse("jpeg"), FER_IMAGE_JPEG);
    ck_assert_int_eq(fer_image_format_parse("gif"), -1);
    ck_assert_int_eq(fer_image_format_parse(""), -1);
    ck_assert_str_eq(fer_image_format_extension(FER_IMAGE_PNG), "png");
    ck_assert_str_eq(fer_image_format_extension(FER_IMAGE_JPEG), "jpg");
}
END_TEST

/* --- round trips -------------------------------------------------------- */

START_TEST(test_png_round_trip)
{
    static const int levels[] = {-1, 0, 6, 9};
    for (int channels = 1; channels <= 3; channels += 2)
        for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
            struct fer_image im, back;
            make_test_image(&im, 97, 31, channels);
            ck_assert_int_eq(fer_image_write(tmp("a.png"), &im, FER_IMAGE_PNG, levels[l]), 0);
            ck_assert_int_eq(fer_image_read(tmp("a.png"), &back, 0), 0);
            ck_assert_int_eq(max_diff(&im, &back), 0);
            fer_image_free(&im);
            fer_image_free(&back);
        }
    ck_assert_int_eq(count_entries(tmpdir), 1); /* no temporary left */
}
END_TEST

START_TEST(test_png_writes_padded_rows)
{
    struct fer_image im, wide, back;
    make_test_image(&wide, 20, 10, 3);
    im = wide;
    im.width = 13; /* a view of the left part: stride longer than a row */
    ck_assert_int_eq(fer_image_write(tmp("v.png"), &im, FER_IMAGE_PNG, -1), 0);
    ck_assert_int_eq(fer_image_read(tmp("v.png"), &back, 3), 0);
    ck_assert_int_eq(max_diff(&im, &back), 0);
    fer_image_free(&back);
    fer_image_free(&wide);
}
END_TEST

START_TEST(test_jpeg_round_trip)
{
    for (int channels = 1; channels <= 3; channels += 2) {
        struct fer_image im, back, back_q30;
        make_test_image(&im, 96, 64, channels);
        ck_assert_int_eq(fer_image_write(tmp("a.jpg"), &im, FER_IMAGE_JPEG, -1), 0);
        ck_assert_int_eq(fer_image_write(tmp("b.jpg"), &im, FER_IMAGE_JPEG, 30), 0);
        ck_assert_int_eq(fer_image_read(tmp("a.jpg"), &back, 0), 0);
        ck_assert_int_eq(fer_image_read(tmp("b.jpg"), &back_q30, 0), 0);
        ck_assert_int_eq(back.channels, channels);
        /* Lossy, but close at the default quality 90, and the quality
         * parameter must matter. */
        long err90 = 0, err30 = 0;
        for (int y = 0; y < im.height; y++)
            for (int i = 0; i < im.width * channels; i++) {
                err90 += abs(px(&im, 0, y)[i] - px(&back, 0, y)[i]);
                err30 += abs(px(&im, 0, y)[i] - px(&back_q30, 0, y)[i]);
            }
        double mean90 = (double)err90 / (im.width * im.height * channels);
        double mean30 = (double)err30 / (im.width * im.height * channels);
        ck_assert_msg(mean90 < 2.5, "mean error %.2f at quality 90", mean90);
        ck_assert_msg(mean30 > mean90, "quality 30 (%.2f) not worse than 90 (%.2f)", mean30,
                      mean90);
        fer_image_free(&im);
        fer_image_free(&back);
        fer_image_free(&back_q30);
    }
}
END_TEST

START_TEST(test_read_converts_channels)
{
    struct fer_image rgb, grey, as_rgb, as_grey, expect;
    make_test_image(&rgb, 40, 30, 3);
    make_test_image(&grey, 40, 30, 1);
    ck_assert_int_eq(fer_image_write(tmp("rgb.png"), &rgb, FER_IMAGE_PNG, -1), 0);
    ck_assert_int_eq(fer_image_write(tmp("grey.png"), &grey, FER_IMAGE_PNG, -1), 0);
    ck_assert_int_eq(fer_image_read(tmp("rgb.png"), &as_grey, 1), 0);
    ck_assert_int_eq(fer_image_to_grey(&rgb, &expect), 0);
    ck_assert_int_eq(max_diff(&as_grey, &expect), 0);
    ck_assert_int_eq(fer_image_read(tmp("grey.png"), &as_rgb, 3), 0);
    ck_assert_int_eq(as_rgb.channels, 3);
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 40; x++)
            for (int c = 0; c < 3; c++)
                ck_assert_int_eq(px(&as_rgb, x, y)[c], px(&grey, x, y)[0]);
    struct fer_image bad;
    ck_assert_int_eq(fer_image_read(tmp("grey.png"), &bad, 2), -1);
    fer_image_free(&rgb);
    fer_image_free(&grey);
    fer_image_free(&as_rgb);
    fer_image_free(&as_grey);
    fer_image_free(&expect);
}
END_TEST

/* --- real stills against cv2.imread ------------------------------------- */

/* One line of stills.txt: name w h c hash x,y=r,g,b ... */
static void check_still(const char *line)
{
    char name[256], hash[32];
    int w, h, c, used;
    ck_assert_int_eq(sscanf(line, "%255s %d %d %d %31s%n", name, &w, &h, &c, hash, &used), 5);
    char *colon = strchr(name, ':');
    int want_grey = colon != NULL && strcmp(colon, ":grey") == 0;
    if (colon)
        *colon = '\0';
    struct fer_image im;
    ck_assert_msg(fer_image_read(media_file(name), &im, want_grey ? 1 : 3) == 0, "%s: %s",
                  name, fer_error());
    ck_assert_int_eq(im.width, w);
    ck_assert_int_eq(im.height, h);
    ck_assert_int_eq(im.channels, c);
    char ours[32];
    snprintf(ours, sizeof ours, "%016llx", (unsigned long long)fnv1a64(&im));
    ck_assert_msg(strcmp(ours, hash) == 0, "%s%s: hash %s, cv2 %s", name,
                  want_grey ? " (grey)" : "", ours, hash);
    const char *p = line + used;
    int x, y, r, g, b, n, samples = 0;
    while (sscanf(p, " %d,%d=%d,%d,%d%n", &x, &y, &r, &g, &b, &n) == 5) {
        ck_assert_int_eq(px(&im, x, y)[0], r);
        ck_assert_int_eq(px(&im, x, y)[1], g);
        ck_assert_int_eq(px(&im, x, y)[2], b);
        p += n;
        samples++;
    }
    ck_assert(want_grey || samples >= 4);
    fer_image_free(&im);
}

START_TEST(test_real_stills_match_opencv)
{
    FILE *fp = fopen(fixture("stills.txt"), "r");
    ck_assert_ptr_nonnull(fp);
    char line[8192];
    int checked = 0;
    while (fgets(line, sizeof line, fp))
        if (line[0] != '#') {
            check_still(line);
            checked++;
        }
    fclose(fp);
    ck_assert_int_eq(checked, 4);
}
END_TEST

/* Every PNG/JPEG variant decodes as cv2.imread decodes it. */
START_TEST(test_variants_match_opencv)
{
    static const char *const names[] = {
        "palette-trns.png", "rgba.png",     "grey-alpha.png",  "grey1bit.png",
        "grey16.png",       "rgb16.png",    "interlaced.png",  "baseline.jpg",
        "grey.jpg",         "progressive.jpg", "optimized444.jpg", "cmyk.jpg",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[512], expect_path[4200];
        snprintf(path, sizeof path, "types/%s", names[i]);
        snprintf(expect_path, sizeof expect_path, "%s", fixture(path));
        strcat(expect_path, ".expect.png");
        struct fer_image im, expect;
        ck_assert_msg(fer_image_read(fixture(path), &im, 3) == 0, "%s: %s", names[i],
                      fer_error());
        ck_assert_int_eq(fer_image_read(expect_path, &expect, 3), 0);
        /* OpenCV converts CMYK with its own integer approximation of
         * C*K/255 (off by one for some values); we round exactly. */
        int d = max_diff(&im, &expect), allowed = strstr(names[i], "cmyk") ? 1 : 0;
        ck_assert_msg(d <= allowed, "%s differs from cv2 by %d", names[i], d);
        fer_image_free(&im);
        fer_image_free(&expect);
    }
}
END_TEST

/* --- grey ------------------------------------------------------------------ */

START_TEST(test_grey_equals_opencv)
{
    struct fer_image rgb, expect, grey;
    ck_assert_int_eq(fer_image_read(fixture("colours.png"), &rgb, 0), 0);
    ck_assert_int_eq(fer_image_read(fixture("colours-grey.png"), &expect, 0), 0);
    ck_assert_int_eq(rgb.channels, 3);
    ck_assert_int_eq(expect.channels, 1);
    ck_assert_int_eq(fer_image_to_grey(&rgb, &grey), 0);
    ck_assert_int_eq(max_diff(&grey, &expect), 0);
    struct fer_image again, back;
    ck_assert_int_eq(fer_image_to_grey(&grey, &again), 0); /* grey stays */
    ck_assert_int_eq(max_diff(&grey, &again), 0);
    ck_assert_int_eq(fer_image_to_rgb(&rgb, &back), 0); /* RGB stays */
    ck_assert_int_eq(max_diff(&rgb, &back), 0);
    fer_image_free(&rgb);
    fer_image_free(&expect);
    fer_image_free(&grey);
    fer_image_free(&again);
    fer_image_free(&back);
}
END_TEST

/* --- resize, crop ---------------------------------------------------------- */

/* OpenCV's INTER_AREA sums in float (integer for whole-number factors) and
 * its INTER_LINEAR uses 11-bit fixed-point weights; we sum in float with
 * exact weights. Both round at the end, so results can differ only where a
 * sum lies within rounding noise of .5: at most 1 level. */
static void check_resize(const char *src_path, const char *expect_name)
{
    struct fer_image src, expect, out;
    ck_assert_int_eq(fer_image_read(src_path, &src, 3), 0);
    ck_assert_int_eq(fer_image_read(fixture(expect_name), &expect, 3), 0);
    ck_assert_int_eq(fer_image_resize(&src, &out, expect.width, expect.height), 0);
    int d = max_diff(&out, &expect);
    ck_assert_msg(d <= 1, "%s: differs from cv2.resize by %d", expect_name, d);
    fer_image_free(&src);
    fer_image_free(&expect);
    fer_image_free(&out);
}

START_TEST(test_resize_matches_opencv)
{
    check_resize(media_file("astronaut.png"), "resize-area-64x64.png");
    check_resize(media_file("astronaut.png"), "resize-area-37x29.png");
    check_resize(media_file("astronaut.png"), "resize-area-200x100.png");
    check_resize(fixture("resize-crop16.png"), "resize-linear-40x33.png");
}
END_TEST

START_TEST(test_resize_identity_and_flat)
{
    struct fer_image im, same, flat, out;
    make_test_image(&im, 33, 17, 3);
    ck_assert_int_eq(fer_image_resize(&im, &same, 33, 17), 0);
    ck_assert_int_eq(max_diff(&im, &same), 0);
    ck_assert_int_eq(fer_image_alloc(&flat, 50, 40, 1), 0);
    memset(flat.data, 201, 50 * 40);
    static const int sizes[][2] = {{7, 3}, {50, 41}, {123, 9}, {1, 1}, {3, 200}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        ck_assert_int_eq(fer_image_resize(&flat, &out, sizes[i][0], sizes[i][1]), 0);
        for (int y = 0; y < out.height; y++)
            for (int x = 0; x < out.width; x++)
                ck_assert_int_eq(px(&out, x, y)[0], 201);
        fer_image_free(&out);
    }
    ck_assert_int_eq(fer_image_resize(&flat, &out, 0, 5), -1);
    fer_image_free(&im);
    fer_image_free(&same);
    fer_image_free(&flat);
}
END_TEST

START_TEST(test_crop_repeats_edges)
{
    struct fer_image im, c;
    make_test_image(&im, 10, 8, 3);
    ck_assert_int_eq(fer_image_crop(&im, &c, 2, 3, 4, 5), 0);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 4; x++)
            ck_assert_int_eq(memcmp(px(&c, x, y), px(&im, x + 2, y + 3), 3), 0);
    fer_image_free(&c);
    ck_assert_int_eq(fer_image_crop(&im, &c, -3, -2, 16, 12), 0);
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 16; x++) {
            int sx = x - 3 < 0 ? 0 : x - 3 > 9 ? 9 : x - 3;
            int sy = y - 2 < 0 ? 0 : y - 2 > 7 ? 7 : y - 2;
            ck_assert_int_eq(memcmp(px(&c, x, y), px(&im, sx, sy), 3), 0);
        }
    fer_image_free(&c);
    /* entirely outside: all edge pixels */
    ck_assert_int_eq(fer_image_crop(&im, &c, 20, -30, 2, 2), 0);
    ck_assert_int_eq(memcmp(px(&c, 1, 1), px(&im, 9, 0), 3), 0);
    fer_image_free(&c);
    ck_assert_int_eq(fer_image_crop(&im, &c, 0, 0, 0, 2), -1);
    fer_image_free(&im);
}
END_TEST

/* --- bad input ------------------------------------------------------------- */

static void expect_read_error(const void *data, size_t size, const char *message)
{
    struct fer_image im = {0};
    fer_error_clear();
    ck_assert_int_eq(fer_image_read_memory(data, size, &im, 0), -1);
    ck_assert_ptr_null(im.data);
    ck_assert_msg(strstr(fer_error(), message) != NULL, "error '%s' lacks '%s'", fer_error(),
                  message);
}

START_TEST(test_rejects_non_images)
{
    expect_read_error("", 0, "empty file");
    expect_read_error("hello, world\n", 13, "not a PNG or JPEG file");
    expect_read_error("\x89PNG", 4, "not a PNG or JPEG file");
    struct fer_image im;
    ck_assert_int_eq(fer_image_read(tmp("missing.png"), &im, 0), -1);
    ck_assert_str_eq(fer_error(), "No such file or directory");
    ck_assert_int_eq(fer_image_read(tmpdir, &im, 0), -1);
    ck_assert_str_eq(fer_error(), "is a directory");
    FILE *fp = fopen(tmp("empty.png"), "w");
    fclose(fp);
    ck_assert_int_eq(fer_image_read(tmp("empty.png"), &im, 0), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "empty file"));
}
END_TEST

/* A real PNG, damaged in several ways. */
START_TEST(test_rejects_damaged_png)
{
    size_t size;
    uint8_t *png = slurp(fixture("resize-crop16.png"), &size);
    uint8_t *copy = malloc(size);
    /* IHDR's CRC is at bytes 29..32; the first IDAT's follows its data. */
    memcpy(copy, png, size);
    copy[30] ^= 0x40;
    expect_read_error(copy, size, "PNG: IHDR: CRC error");
    uint32_t idat_len = 0;
    size_t at = 8;
    while (at + 8 <= size && memcmp(png + at + 4, "IDAT", 4) != 0)
        at += 12 + ((uint32_t)png[at] << 24 | (uint32_t)png[at + 1] << 16 |
                    (uint32_t)png[at + 2] << 8 | png[at + 3]);
    ck_assert(at + 8 <= size);
    idat_len = (uint32_t)png[at] << 24 | (uint32_t)png[at + 1] << 16 |
               (uint32_t)png[at + 2] << 8 | png[at + 3];
    memcpy(copy, png, size);
    copy[at + 8 + idat_len + 2] ^= 0x01;
    expect_read_error(copy, size, "CRC error");
    /* Cut anywhere: after the signature, in IHDR, in IDAT, before IEND. */
    const size_t cuts[] = {9, 20, 40, at + 8 + idat_len / 2, size - 12, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
        expect_read_error(png, cuts[i], "truncated PNG");
    free(copy);
    free(png);
}
END_TEST

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A well-formed PNG declaring a huge image, with a tiny IDAT: the size
 * check must come before we allocate anything for the pixels. */
START_TEST(test_rejects_huge_dimensions)
{
    static const uint32_t dims[][2] = {{100000, 1}, {1, 40000}, {20000, 20000}, {0, 5}};
    for (size_t i = 0; i < sizeof dims / sizeof *dims; i++) {
        uint8_t png[8 + 25 + 12 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                               'I',  'H', 'D', 'R'};
        put32(png + 16, dims[i][0]);
        put32(png + 20, dims[i][1]);
        png[24] = 8; /* depth */
        png[25] = 2; /* RGB */
        put32(png + 29, crc32_png(png + 12, 17));
        memcpy(png + 33, "\0\0\0\0IDAT", 8); /* empty IDAT, IEND */
        put32(png + 41, crc32_png(png + 37, 4));
        memcpy(png + 45, "\0\0\0\0IEND", 8);
        put32(png + 53, crc32_png(png + 49, 4));
        expect_read_error(png, sizeof png, dims[i][0] ? "too large" : "PNG:");
    }
    /* JPEG: SOF0 of 60000 x 60000 after SOI. */
    size_t size;
    uint8_t *jpg = slurp(fixture("types/baseline.jpg"), &size);
    for (size_t at = 2; at + 9 < size; at++)
        if (jpg[at] == 0xff && jpg[at + 1] == 0xc0) {
            jpg[at + 5] = 0xea; /* height 0xea60 = 60000 */
            jpg[at + 6] = 0x60;
            jpg[at + 7] = 0xea;
            jpg[at + 8] = 0x60;
            break;
        }
    expect_read_error(jpg, size, "image too large");
    free(jpg);
}
END_TEST

START_TEST(test_lowered_pixel_limit)
{
    struct fer_image im;
    fer_image_set_max_pixels(255); /* the fixture is 16x16 = 256 */
    ck_assert_int_eq(fer_image_read(fixture("resize-crop16.png"), &im, 0), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "PNG: image too large (16x16"));
    ck_assert_int_eq(fer_image_read(fixture("types/baseline.jpg"), &im, 0), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "JPEG: image too large (24x24"));
    fer_image_set_max_pixels(256);
    ck_assert_int_eq(fer_image_read(fixture("resize-crop16.png"), &im, 0), 0);
    fer_image_free(&im);
    fer_image_set_max_pixels((size_t)-1); /* capped at FER_IMAGE_MAX_PIXELS */
    ck_assert_int_eq(fer_image_alloc(&im, FER_IMAGE_MAX_SIDE, FER_IMAGE_MAX_SIDE, 1), -1);
}
END_TEST

/* An ancillary chunk with a bad CRC: libpng would only warn and skip it,
 * but a file damaged anywhere is not trusted. */
START_TEST(test_rejects_damaged_ancillary_chunk)
{
    size_t size;
    uint8_t *png = slurp(fixture("resize-crop16.png"), &size);
    /* insert a tEXt chunk with a wrong CRC after IHDR (33 bytes in) */
    static const uint8_t text[] = {0, 0, 0, 4, 't', 'E', 'X', 't', 'a', 0, 'b', 'c', 1, 2, 3, 4};
    uint8_t *copy = malloc(size + sizeof text);
    memcpy(copy, png, 33);
    memcpy(copy + 33, text, sizeof text);
    memcpy(copy + 33 + sizeof text, png + 33, size - 33);
    expect_read_error(copy, size + sizeof text, "tEXt: CRC error");
    free(copy);
    free(png);
}
END_TEST

START_TEST(test_rejects_damaged_jpeg)
{
    size_t size;
    uint8_t *jpg = slurp(media_file("grace_hopper_512x512.jpg"), &size);
    /* Cut in the headers, early and late in the scan, just before EOI. */
    const size_t cuts[] = {3, 100, size / 3, size / 2, size - 100, size - 2};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        struct fer_image im = {0};
        ck_assert_int_eq(fer_image_read_memory(jpg, cuts[i], &im, 0), -1);
        ck_assert_ptr_null(im.data);
        if (cuts[i] > 1000)
            ck_assert_str_eq(fer_error(), "truncated JPEG");
        else
            ck_assert_ptr_nonnull(strstr(fer_error(), "JPEG"));
    }
    /* Garbage in the middle of the entropy-coded data. */
    for (size_t i = size / 2; i < size / 2 + 64; i++)
        jpg[i] = (uint8_t)(i * 37);
    expect_read_error(jpg, size, "JPEG");
    free(jpg);
}
END_TEST

/* --- writing failures -------------------------------------------------- */

START_TEST(test_write_failures_leave_nothing)
{
    struct fer_image im;
    make_test_image(&im, 64, 64, 3);
    ck_assert_int_eq(fer_image_write(tmp("no/such/dir/a.png"), &im, FER_IMAGE_PNG, -1), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "No such file or directory"));
    FILE *fp = fopen(tmp("file"), "w");
    fclose(fp);
    ck_assert_int_eq(fer_image_write(tmp("file/a.jpg"), &im, FER_IMAGE_JPEG, -1), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "Not a directory"));
    ck_assert_int_eq(fer_image_write(tmp("q.jpg"), &im, FER_IMAGE_JPEG, 101), -1);
    ck_assert_int_eq(fer_image_write(tmp("q.png"), &im, FER_IMAGE_PNG, 10), -1);
    struct fer_image two = im;
    two.channels = 2;
    ck_assert_int_eq(fer_image_write(tmp("two.png"), &two, FER_IMAGE_PNG, -1), -1);
    ck_assert_int_eq(count_entries(tmpdir), 1); /* just "file" */
    fer_image_free(&im);
}
END_TEST

/* A write that fails half-way (file size limit, like a full disk) must
 * report it and leave neither the output nor its temporary behind. */
START_TEST(test_write_error_midway)
{
    struct fer_image im;
    ck_assert_int_eq(fer_image_alloc(&im, 300, 300, 3), 0);
    uint32_t state = 12345; /* xorshift32: noise does not compress */
    for (size_t i = 0; i < 300 * 300 * 3; i++) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        im.data[i] = (uint8_t)(state >> 24);
    }
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {20000, 20000};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ck_assert_int_eq(fer_image_write(tmp("big.png"), &im, FER_IMAGE_PNG, -1), -1);
    ck_assert_ptr_nonnull(strstr(fer_error(), "File too large"));
    ck_assert_int_eq(fer_image_write(tmp("big.jpg"), &im, FER_IMAGE_JPEG, 100), -1);
    ck_assert_int_eq(count_entries(tmpdir), 0);
    fer_image_free(&im);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("memory");
    tcase_add_test(tc, test_alloc_and_limits);
    tcase_add_test(tc, test_format_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("read-write");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_png_round_trip);
    tcase_add_test(tc, test_png_writes_padded_rows);
    tcase_add_test(tc, test_jpeg_round_trip);
    tcase_add_test(tc, test_read_converts_channels);
    tcase_add_test(tc, test_real_stills_match_opencv);
    tcase_add_test(tc, test_variants_match_opencv);
    suite_add_tcase(s, tc);

    tc = tcase_create("transform");
    tcase_add_test(tc, test_grey_equals_opencv);
    tcase_add_test(tc, test_resize_matches_opencv);
    tcase_add_test(tc, test_resize_identity_and_flat);
    tcase_add_test(tc, test_crop_repeats_edges);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rejects_non_images);
    tcase_add_test(tc, test_rejects_damaged_png);
    tcase_add_test(tc, test_rejects_huge_dimensions);
    tcase_add_test(tc, test_rejects_damaged_jpeg);
    tcase_add_test(tc, test_lowered_pixel_limit);
    tcase_add_test(tc, test_rejects_damaged_ancillary_chunk);
    tcase_add_test(tc, test_write_failures_leave_nothing);
    tcase_add_test(tc, test_write_error_midway);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
