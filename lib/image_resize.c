/* image_resize.c - separable resampling: area when shrinking, bilinear when
 * enlarging, chosen per axis.
 *
 * Each output column (and row) is a weighted sum of a few source columns;
 * the weights are computed once per axis. Shrinking averages every source
 * pixel by the fraction of it that falls under the output pixel (OpenCV's
 * INTER_AREA), so no detail is skipped and nothing aliases; enlarging
 * interpolates between the two nearest source centres with pixel centres
 * at +0.5 (OpenCV's INTER_LINEAR and PyTorch's align_corners=False).
 */
#include "image.h"

#include "error.h"

#include <math.h>
#include <stdlib.h>

struct taps {
    int *first;    /* first source index of each output index */
    int *count;    /* how many source indices it reads */
    float *weight; /* count weights per output index, at stride `width` */
    int width;     /* most taps any output index needs */
};

static void taps_free(struct taps *t)
{
    free(t->first);
    free(t->count);
    free(t->weight);
}

static int taps_init(struct taps *t, int n, int m)
{
    const double scale = (double)n / m;
    t->width = m < n ? (int)ceil(scale) + 1 : 2;
    t->first = malloc((size_t)m * sizeof *t->first);
    t->count = malloc((size_t)m * sizeof *t->count);
    t->weight = calloc((size_t)m * (size_t)t->width, sizeof *t->weight);
    if (t->first == NULL || t->count == NULL || t->weight == NULL) {
        taps_free(t);
        return fer_fail("resize: out of memory");
    }
    for (int i = 0; i < m; i++) {
        float *w = t->weight + (size_t)i * (size_t)t->width;
        if (m < n) {
            double start = i * scale, end = (i + 1) * scale;
            int j0 = (int)floor(start), j1 = (int)ceil(end);
            if (j1 > n)
                j1 = n;
            t->first[i] = j0;
            t->count[i] = j1 - j0;
            for (int j = j0; j < j1; j++) {
                double lo = j > start ? j : start, hi = j + 1 < end ? j + 1 : end;
                w[j - j0] = (float)((hi - lo) / scale);
            }
        } else {
            double s = (i + 0.5) * scale - 0.5;
            int j = (int)floor(s);
            double f = s - j;
            if (j < 0) {
                j = 0;
                f = 0;
            }
            if (j >= n - 1) {
                j = n - 1;
                f = 0;
            }
            t->first[i] = j;
            t->count[i] = f > 0 ? 2 : 1;
            w[0] = (float)(1 - f);
            w[1] = (float)f;
        }
    }
    return 0;
}

int fer_image_resize(const struct fer_image *src, struct fer_image *dst, int width, int height)
{
    if (src == NULL || src->data == NULL || (src->channels != 1 && src->channels != 3))
        return fer_fail("resize: not a grey or RGB image");
    if (fer_image_alloc(dst, width, height, src->channels) != 0)
        return -1;
    const int c = src->channels;
    struct taps tx = {0}, ty = {0};
    float *tmp = NULL;
    int rc = -1;
    if (taps_init(&tx, src->width, width) != 0 || taps_init(&ty, src->height, height) != 0)
        goto end;
    /* Horizontal pass over every source row into floats, then vertical. */
    const size_t tmp_stride = (size_t)width * (size_t)c;
    tmp = malloc((size_t)src->height * tmp_stride * sizeof *tmp);
    if (tmp == NULL) {
        fer_fail("resize: out of memory");
        goto end;
    }
    for (int y = 0; y < src->height; y++) {
        const uint8_t *in = src->data + (size_t)y * src->stride;
        float *out = tmp + (size_t)y * tmp_stride;
        for (int x = 0; x < width; x++) {
            const float *w = tx.weight + (size_t)x * (size_t)tx.width;
            const uint8_t *p = in + (size_t)tx.first[x] * (size_t)c;
            for (int k = 0; k < c; k++) {
                float sum = 0;
                for (int j = 0; j < tx.count[x]; j++)
                    sum += w[j] * p[(size_t)j * (size_t)c + (size_t)k];
                out[(size_t)x * (size_t)c + (size_t)k] = sum;
            }
        }
    }
    for (int y = 0; y < height; y++) {
        const float *w = ty.weight + (size_t)y * (size_t)ty.width;
        uint8_t *out = dst->data + (size_t)y * dst->stride;
        for (size_t i = 0; i < tmp_stride; i++) {
            const float *p = tmp + (size_t)ty.first[y] * tmp_stride + i;
            float sum = 0;
            for (int j = 0; j < ty.count[y]; j++)
                sum += w[j] * p[(size_t)j * tmp_stride];
            long v = lrintf(sum);
            out[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    rc = 0;
end:
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
    if (rc != 0)
        fer_image_free(dst);
    return rc;
}
