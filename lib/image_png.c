/* image_png.c - PNG through libpng, with errors turned into fer_fail.
 *
 * libpng reports errors by calling an error function that must not return;
 * ours records the message and longjmps back to the setjmp in the function
 * that drives libpng. Warnings are dropped (library code never prints).
 * Everything that changes after setjmp lives in a struct owned by the
 * caller, so nothing is lost when the longjmp unwinds.
 */
#include "image_codec.h"

#include "error.h"

#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct png_ctx {
    png_structp png;
    png_infop info;
    const uint8_t *data; /* decoding: the input and how far we are */
    size_t size, pos;
    FILE *fp;            /* encoding: the output */
    int write_errno;
    int truncated;
    char msg[256];
    struct fer_image im;
    png_bytep *rows;
};

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void read_bytes(png_structp png, png_bytep out, size_t n)
{
    struct png_ctx *c = png_get_io_ptr(png);
    if (n > c->size - c->pos) {
        c->truncated = 1;
        png_error(png, "truncated PNG");
    }
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

/* Runs under setjmp: every error of libpng lands back here as -1. */
static int decode(struct png_ctx *c)
{
    if (setjmp(png_jmpbuf(c->png)))
        return -1;
    png_structp png = c->png;
    png_infop info = c->info;
    /* A damaged chunk of any kind makes the file suspect: refuse it rather
     * than decode pixels that may be wrong (libpng's default only warns for
     * ancillary chunks). */
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    /* Our own limits are checked below with a clearer message. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_read_fn(png, c, read_bytes);
    png_read_info(png, info);

    png_uint_32 width, height;
    int depth, colour, interlace;
    png_get_IHDR(png, info, &width, &height, &depth, &colour, &interlace, NULL, NULL);
    if (fer_image_check_size("PNG", width, height) != 0) {
        c->msg[0] = '\0'; /* fer_error() already says it */
        return -1;
    }
    /* To 8-bit grey or RGB the way OpenCV's imread does it: palette and
     * low-bit grey expanded, 16-bit samples truncated to their high byte,
     * alpha dropped without compositing. */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    if ((channels != 1 && channels != 3) || png_get_bit_depth(png, info) != 8) {
        snprintf(c->msg, sizeof c->msg, "unsupported layout (%d channels)", channels);
        return -1;
    }
    if (fer_image_alloc(&c->im, (int)width, (int)height, channels) != 0) {
        c->msg[0] = '\0';
        return -1;
    }
    if (png_get_rowbytes(png, info) != c->im.stride) {
        snprintf(c->msg, sizeof c->msg, "unexpected row size");
        return -1;
    }
    c->rows = malloc(height * sizeof *c->rows);
    if (c->rows == NULL) {
        snprintf(c->msg, sizeof c->msg, "out of memory");
        return -1;
    }
    for (png_uint_32 y = 0; y < height; y++)
        c->rows[y] = c->im.data + y * c->im.stride;
    png_read_image(png, c->rows);
    /* Read up to IEND so that a file cut after its pixel data, or with a
     * damaged chunk after them, is still an error. */
    png_read_end(png, NULL);
    return 0;
}

int fer_png_decode(const uint8_t *data, size_t size, struct fer_image *im)
{
    struct png_ctx c;
    memset(&c, 0, sizeof c);
    c.data = data;
    c.size = size;
    c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning);
    if (c.png == NULL)
        return fer_fail("PNG: cannot create decoder (out of memory)");
    c.info = png_create_info_struct(c.png);
    int rc = c.info ? decode(&c) : (snprintf(c.msg, sizeof c.msg, "out of memory"), -1);
    png_destroy_read_struct(&c.png, c.info ? &c.info : NULL, NULL);
    free(c.rows);
    if (rc != 0) {
        fer_image_free(&c.im);
        if (c.truncated)
            return fer_fail("truncated PNG");
        if (c.msg[0] != '\0')
            return fer_fail("PNG: %s", c.msg);
        return -1;
    }
    *im = c.im;
    return 0;
}

static void write_bytes(png_structp png, png_bytep data, size_t n)
{
    struct png_ctx *c = png_get_io_ptr(png);
    if (fwrite(data, 1, n, c->fp) != n) {
        c->write_errno = errno ? errno : EIO;
        png_error(png, "write error");
    }
}

static void flush_nothing(png_structp png)
{
    (void)png;
}

/* The default (-1) is chosen for speed: fer-extract writes thousands of
 * frames and is measured against `ffmpeg -i clip.mp4 out_%05d.png`. On a
 * 360x288 frame of franck.mp4 (see the branch's report / commit message):
 *
 *   filter  zlib               ms/frame  bytes
 *   none    level 6 (ffmpeg)     6.0    122196
 *   sub     level 1              3.0    102964
 *   up      level 1              2.5     89138
 *   up      Z_RLE                2.0     91877   <- default
 *   paeth   Z_RLE                3.0     80692
 *   all     level 6 (libpng)    15.8     79955
 *
 * The UP filter turns the rows of a video frame, which resemble the row
 * above, into runs of small values, and run-length matching (Z_RLE, which
 * ignores the level) finds those runs without deflate's hash-chain search.
 * An explicit level 0..9 gets libpng's adaptive filters and zlib's default
 * strategy instead: smaller files for those who ask, at several times the
 * cost. */
static int encode(struct png_ctx *c, const struct fer_image *im, int level)
{
    if (setjmp(png_jmpbuf(c->png)))
        return -1;
    png_structp png = c->png;
    png_set_write_fn(png, c, write_bytes, flush_nothing);
    png_set_IHDR(png, c->info, (png_uint_32)im->width, (png_uint_32)im->height, 8,
                 im->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (level < 0) {
        png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
        png_set_compression_strategy(png, Z_RLE);
    } else {
        png_set_filter(png, PNG_FILTER_TYPE_BASE, level == 0 ? PNG_FILTER_NONE : PNG_ALL_FILTERS);
        png_set_compression_level(png, level);
    }
    png_set_compression_buffer_size(png, 1 << 16);
    png_write_info(png, c->info);
    for (int y = 0; y < im->height; y++)
        png_write_row(png, im->data + (size_t)y * im->stride);
    png_write_end(png, NULL);
    return 0;
}

int fer_png_encode(FILE *fp, const struct fer_image *im, int level)
{
    struct png_ctx c;
    memset(&c, 0, sizeof c);
    c.fp = fp;
    c.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning);
    if (c.png == NULL)
        return fer_fail("PNG: cannot create encoder (out of memory)");
    c.info = png_create_info_struct(c.png);
    int rc = c.info ? encode(&c, im, level) : (snprintf(c.msg, sizeof c.msg, "out of memory"), -1);
    png_destroy_write_struct(&c.png, c.info ? &c.info : NULL);
    if (rc != 0) {
        if (c.write_errno)
            return fer_fail("PNG: write error: %s", strerror(c.write_errno));
        return fer_fail("PNG: %s", c.msg);
    }
    return 0;
}
