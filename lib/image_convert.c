/* image_convert.c - grey <-> RGB, and cropping. */
#include "image.h"

#include "error.h"

#include <string.h>

/* fer_grey_of (image.h) is BT.601 luma (0.299 R + 0.587 G + 0.114 B) in the
 * fixed point of OpenCV 4.x's cvtColor RGB2GRAY for 8-bit images, rounded
 * half up. OpenCV 3's 2^14 weights (4899, 9617, 1868) differ from 4.x in
 * about 0.3% of colours; scripts/gen-image-fixtures.py checks ours against
 * cv2 on all 2^24 colours. */

static int check_source(const struct fer_image *src)
{
    if (src == NULL || src->data == NULL || (src->channels != 1 && src->channels != 3))
        return fer_fail("image: not a grey or RGB image");
    return 0;
}

int fer_image_to_grey(const struct fer_image *src, struct fer_image *dst)
{
    if (check_source(src) != 0 || fer_image_alloc(dst, src->width, src->height, 1) != 0)
        return -1;
    for (int y = 0; y < src->height; y++) {
        const uint8_t *in = src->data + (size_t)y * src->stride;
        uint8_t *out = dst->data + (size_t)y * dst->stride;
        if (src->channels == 1) {
            memcpy(out, in, (size_t)src->width);
            continue;
        }
        for (int x = 0; x < src->width; x++, in += 3)
            out[x] = (uint8_t)fer_grey_of(in[0], in[1], in[2]);
    }
    return 0;
}

int fer_image_to_rgb(const struct fer_image *src, struct fer_image *dst)
{
    if (check_source(src) != 0 || fer_image_alloc(dst, src->width, src->height, 3) != 0)
        return -1;
    for (int y = 0; y < src->height; y++) {
        const uint8_t *in = src->data + (size_t)y * src->stride;
        uint8_t *out = dst->data + (size_t)y * dst->stride;
        if (src->channels == 3) {
            memcpy(out, in, 3 * (size_t)src->width);
            continue;
        }
        for (int x = 0; x < src->width; x++, out += 3)
            out[0] = out[1] = out[2] = in[x];
    }
    return 0;
}

static int clamp(long v, int hi)
{
    return v < 0 ? 0 : v > hi ? hi : (int)v;
}

int fer_image_crop(const struct fer_image *src, struct fer_image *dst, int x, int y, int width,
                   int height)
{
    if (check_source(src) != 0)
        return -1;
    if (fer_image_alloc(dst, width, height, src->channels) != 0)
        return -1;
    const size_t c = (size_t)src->channels;
    for (int row = 0; row < height; row++) {
        const uint8_t *in = src->data + (size_t)clamp((long)y + row, src->height - 1) * src->stride;
        uint8_t *out = dst->data + (size_t)row * dst->stride;
        /* The part inside the source is one copy; outside, repeat edges. */
        long first = (long)x, last = (long)x + width; /* [first, last) */
        long lo = first < 0 ? 0 : first, hi = last > src->width ? src->width : last;
        for (long col = first; col < last; col++) {
            if (col == lo && lo < hi) {
                memcpy(out + (size_t)(col - first) * c, in + (size_t)col * c,
                       (size_t)(hi - lo) * c);
                col = hi - 1;
                continue;
            }
            const uint8_t *p = in + (size_t)clamp(col, src->width - 1) * c;
            memcpy(out + (size_t)(col - first) * c, p, c);
        }
    }
    return 0;
}
