/* image.c - image memory, format names, and choosing a codec.
 *
 * Files are read whole into memory and decoded from there: both libpng and
 * libjpeg read from a buffer, so one code path serves fer_image_read and
 * fer_image_read_memory (and the fuzzers), and a short read is seen as a
 * truncated file by the decoder, not as an I/O error in the middle of it.
 */
#include "image.h"

#include "atomic.h"
#include "error.h"
#include "image_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static size_t max_pixels = FER_IMAGE_MAX_PIXELS;

void fer_image_set_max_pixels(size_t pixels)
{
    max_pixels = pixels < FER_IMAGE_MAX_PIXELS ? pixels : FER_IMAGE_MAX_PIXELS;
}

int fer_image_check_size(const char *format, unsigned long width, unsigned long height)
{
    if (width == 0 || height == 0)
        return fer_fail("%s: empty image (%lux%lu)", format, width, height);
    if (width > FER_IMAGE_MAX_SIDE || height > FER_IMAGE_MAX_SIDE ||
        (unsigned long long)width * height > max_pixels)
        return fer_fail("%s: image too large (%lux%lu, limit %d per side and %zu pixels)",
                        format, width, height, FER_IMAGE_MAX_SIDE, max_pixels);
    return 0;
}

int fer_image_alloc(struct fer_image *im, int width, int height, int channels)
{
    memset(im, 0, sizeof *im);
    if (channels != 1 && channels != 3)
        return fer_fail("image: %d channels (must be 1 or 3)", channels);
    if (width <= 0 || height <= 0)
        return fer_fail("image: empty image (%dx%d)", width, height);
    if (fer_image_check_size("image", (unsigned long)width, (unsigned long)height) != 0)
        return -1;
    size_t stride = (size_t)width * (size_t)channels;
    uint8_t *data = malloc(stride * (size_t)height);
    if (data == NULL)
        return fer_fail("image: out of memory for %dx%dx%d", width, height, channels);
    im->width = width;
    im->height = height;
    im->channels = channels;
    im->stride = stride;
    im->data = data;
    return 0;
}

void fer_image_free(struct fer_image *im)
{
    if (im == NULL)
        return;
    free(im->data);
    memset(im, 0, sizeof *im);
}

int fer_image_format_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcasecmp(name, "png") == 0)
        return FER_IMAGE_PNG;
    if (strcasecmp(name, "jpg") == 0 || strcasecmp(name, "jpeg") == 0)
        return FER_IMAGE_JPEG;
    return -1;
}

const char *fer_image_format_extension(enum fer_image_format format)
{
    return format == FER_IMAGE_JPEG ? "jpg" : "png";
}

static int is_png(const uint8_t *p, size_t n)
{
    static const uint8_t magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    return n >= 8 && memcmp(p, magic, 8) == 0;
}

static int is_jpeg(const uint8_t *p, size_t n)
{
    return n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff;
}

/* Bring a decoded image to the channel count the caller asked for. */
static int convert_channels(struct fer_image *im, int channels)
{
    if (channels == 0 || channels == im->channels)
        return 0;
    struct fer_image out;
    int rc = channels == 1 ? fer_image_to_grey(im, &out) : fer_image_to_rgb(im, &out);
    if (rc != 0)
        return -1;
    fer_image_free(im);
    *im = out;
    return 0;
}

int fer_image_read_memory(const void *data, size_t size, struct fer_image *im, int channels)
{
    memset(im, 0, sizeof *im);
    if (channels != 0 && channels != 1 && channels != 3)
        return fer_fail("image: cannot convert to %d channels (0, 1 or 3)", channels);
    const uint8_t *p = data;
    if (size == 0)
        return fer_fail("empty file, not a PNG or JPEG file");
    int rc;
    if (is_png(p, size))
        rc = fer_png_decode(p, size, im);
    else if (is_jpeg(p, size))
        rc = fer_jpeg_decode(p, size, im);
    else
        return fer_fail("not a PNG or JPEG file");
    if (rc != 0)
        return -1;
    if (convert_channels(im, channels) != 0) {
        fer_image_free(im);
        return -1;
    }
    return 0;
}

/* Read a whole regular file, refusing sizes no image within the limits could
 * need, so that a wrongly named huge file does not exhaust memory. */
static int read_file(const char *path, uint8_t **out, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return fer_fail("%s", strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int saved = errno;
        fclose(fp);
        return fer_fail("%s", strerror(saved));
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(fp);
        return fer_fail(S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
    }
    /* 3 bytes per pixel uncompressed plus generous room for metadata. */
    const unsigned long long limit = 3ULL * FER_IMAGE_MAX_PIXELS + (64ULL << 20);
    if ((unsigned long long)st.st_size > limit) {
        fclose(fp);
        return fer_fail("file too large for an image (%lld bytes)", (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        fclose(fp);
        return fer_fail("out of memory reading %zu bytes", n);
    }
    size_t got = fread(buf, 1, n, fp);
    int err = ferror(fp);
    int saved = errno;
    fclose(fp);
    if (err) {
        free(buf);
        return fer_fail("read error: %s", strerror(saved));
    }
    *out = buf;
    *size = got; /* a file shrinking under us is then simply truncated */
    return 0;
}

int fer_image_read(const char *path, struct fer_image *im, int channels)
{
    memset(im, 0, sizeof *im);
    uint8_t *buf = NULL;
    size_t size = 0;
    if (read_file(path, &buf, &size) != 0)
        return -1;
    int rc = fer_image_read_memory(buf, size, im, channels);
    free(buf);
    return rc;
}

static int check_writable(const struct fer_image *im)
{
    if (im == NULL || im->data == NULL || im->width <= 0 || im->height <= 0)
        return fer_fail("image: nothing to write (empty image)");
    if (im->channels != 1 && im->channels != 3)
        return fer_fail("image: cannot write %d channels (1 or 3)", im->channels);
    if (im->stride < (size_t)im->width * (size_t)im->channels)
        return fer_fail("image: stride %zu shorter than a row", im->stride);
    return 0;
}

int fer_image_write(const char *path, const struct fer_image *im, enum fer_image_format format,
                    int quality)
{
    if (check_writable(im) != 0)
        return -1;
    if (format == FER_IMAGE_PNG && (quality < -1 || quality > 9))
        return fer_fail("PNG: compression level %d (0..9 or -1)", quality);
    if (format == FER_IMAGE_JPEG && (quality == 0 || quality < -1 || quality > 100))
        return fer_fail("JPEG: quality %d (1..100 or -1)", quality);
    if (format != FER_IMAGE_PNG && format != FER_IMAGE_JPEG)
        return fer_fail("image: unknown format %d", (int)format);
    struct fer_atomic a;
    if (fer_atomic_open(&a, path) != 0)
        return -1;
    int rc = format == FER_IMAGE_PNG ? fer_png_encode(a.fp, im, quality)
                                     : fer_jpeg_encode(a.fp, im, quality);
    if (rc != 0) {
        fer_atomic_abort(&a);
        return -1;
    }
    return fer_atomic_commit(&a, 0);
}
