/* image.h - 8-bit images in memory, PNG and JPEG files, resizing.
 *
 * An image is interleaved 8-bit samples, rows top to bottom, `channels` = 1
 * (grey) or 3 (RGB), rows `stride` bytes apart (stride >= width * channels).
 * Readers accept any PNG (palette, grey, 16-bit, alpha, interlaced) and any
 * baseline or progressive JPEG (grey, YCbCr, CMYK) and convert to 1 or 3
 * channels; alpha is dropped. They are bounds-checked: images larger than
 * FER_IMAGE_MAX_SIDE on a side or FER_IMAGE_MAX_PIXELS in all are refused
 * before any allocation, and a corrupt file is an error, never a crash.
 */
#ifndef FER_IMAGE_H
#define FER_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum { FER_IMAGE_MAX_SIDE = 32768, FER_IMAGE_MAX_PIXELS = 1 << 28 };

struct fer_image {
    int width, height, channels;
    size_t stride;
    uint8_t *data; /* owned; free with fer_image_free */
};

enum fer_image_format { FER_IMAGE_PNG, FER_IMAGE_JPEG };

/* Allocate a w x h x channels image (contents undefined, stride = w*c).
 * Returns 0, or -1 with fer_error() set. */
int fer_image_alloc(struct fer_image *im, int width, int height, int channels);
void fer_image_free(struct fer_image *im);

/* Read PNG or JPEG (chosen by the file's first bytes, not its name).
 * channels: 0 = as stored (grey stays grey, anything else becomes RGB),
 * 1 = convert to grey (fer_image_to_grey), 3 = convert to RGB.
 * Conversions follow OpenCV's imread: palette and low-bit grey expanded,
 * 16-bit samples keep their high byte, alpha dropped (not composited),
 * Adobe CMYK JPEG converted to RGB. On success *im is allocated (free with
 * fer_image_free); on failure it is zeroed and fer_error() names the
 * problem without the file name (the caller adds it): "No such file or
 * directory", "empty file, not a PNG or JPEG file", "not a PNG or JPEG
 * file", "truncated PNG", "PNG: IHDR: CRC error", "truncated JPEG",
 * "JPEG: Corrupt JPEG data: bad Huffman code", "PNG: image too large
 * (40000x40000, limit ...)". */
int fer_image_read(const char *path, struct fer_image *im, int channels);
int fer_image_read_memory(const void *data, size_t size, struct fer_image *im, int channels);

/* Lower the pixel limit for this process (never above FER_IMAGE_MAX_PIXELS),
 * e.g. for fuzzing or a tool with a memory budget. Readers refuse larger
 * images with "image too large". Not thread-safe: call once at start-up. */
void fer_image_set_max_pixels(size_t pixels);

/* Write atomically (temporary name + rename). quality: JPEG quality 1..100;
 * for PNG, 0..9 zlib level with libpng's adaptive row filters (smaller,
 * slower), or -1: our default, fast (UP filter + run-length deflate: about
 * 3x faster than ffmpeg's PNG encoder, 25% smaller; see image_png.c). */
int fer_image_write(const char *path, const struct fer_image *im, enum fer_image_format format,
                    int quality);
/* JPEG: -1 means quality 90 with 4:2:0 chroma (see image_jpeg.c). On any
 * error ("cannot create 'x.png': Permission denied", "PNG: write error: No
 * space left on device") no file is left at path or under a temporary name. */

/* "png" -> FER_IMAGE_PNG, "jpg"/"jpeg" -> FER_IMAGE_JPEG, else -1. */
int fer_image_format_parse(const char *name);
/* "png" or "jpg". */
const char *fer_image_format_extension(enum fer_image_format format);

/* Grey <-> RGB. Grey is ITU-R BT.601 luma, rounded as OpenCV's cvtColor
 * RGB2GRAY does, so the face detector sees what OpenCV sees: weights
 * scaled by 2^15 and summing to it exactly (white stays 255). */
enum { FER_GREY_R = 9798, FER_GREY_G = 19235, FER_GREY_B = 3735, FER_GREY_SHIFT = 15 };
static inline unsigned fer_grey_of(unsigned r, unsigned g, unsigned b)
{
    return (r * FER_GREY_R + g * FER_GREY_G + b * FER_GREY_B + (1u << (FER_GREY_SHIFT - 1))) >>
           FER_GREY_SHIFT;
}
int fer_image_to_grey(const struct fer_image *src, struct fer_image *dst);
int fer_image_to_rgb(const struct fer_image *src, struct fer_image *dst);

/* Resize to width x height: area averaging when shrinking (no aliasing),
 * bilinear when enlarging. dst is allocated. */
int fer_image_resize(const struct fer_image *src, struct fer_image *dst, int width, int height);

/* Copy the width x height rectangle at (x, y) of src into a new image; the
 * rectangle may reach outside src, where the nearest edge pixel is repeated
 * (a face near the border still gives a full-size crop). */
int fer_image_crop(const struct fer_image *src, struct fer_image *dst, int x, int y, int width,
                   int height);

#endif
