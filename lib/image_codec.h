/* image_codec.h - private interface between image.c and the codec files.
 *
 * Not part of the public contract (image.h is): image.c reads files into
 * memory, picks a codec by magic bytes and opens the atomic output; the
 * codecs only turn bytes into pixels and pixels into a stream.
 */
#ifndef FER_IMAGE_CODEC_H
#define FER_IMAGE_CODEC_H

#include "image.h"

#include <stdio.h>

/* Decode to the file's natural layout: 1 channel for grey (with or without
 * alpha), 3 for anything else. im is allocated on success, untouched on
 * failure. Return 0 or -1 with fer_error() set. */
int fer_png_decode(const uint8_t *data, size_t size, struct fer_image *im);
int fer_jpeg_decode(const uint8_t *data, size_t size, struct fer_image *im);

/* Encode im (1 or 3 channels) to fp. level: zlib 0..9 or -1 (fast
 * default); quality 1..100 or -1 (default). Return 0 or -1. */
int fer_png_encode(FILE *fp, const struct fer_image *im, int level);
int fer_jpeg_encode(FILE *fp, const struct fer_image *im, int quality);

/* 0 if a width x height image is within the size limits (and the current
 * fer_image_set_max_pixels limit), else -1 with "FMT: image too large ...". */
int fer_image_check_size(const char *format, unsigned long width, unsigned long height);

#endif
