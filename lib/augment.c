#include "augment.h"

#include "error.h"

#include <math.h>
#include <stdlib.h>

void fer_augment_default(struct fer_augment *a)
{
    *a = (struct fer_augment){.scale_min = 0.85, .shift = 0.05, .flip = 1, .rotate_deg = 10,
                              .brightness = 0.1, .contrast = 0.2};
}

/* Output pixel (u, v) -> source pixel (x, y): x = a*u + b*v + c,
 * y = d*u + e*v + f, all in pixel-centre coordinates. */
struct affine {
    double a, b, c, d, e, f;
};

static struct affine sample_affine(const struct fer_image *src, const struct fer_augment *aug,
                                   struct fer_rng *rng, int quarter, int width, int height)
{
    double scale = 1, dx = 0, dy = 0, angle = 0, mirror = 1;
    if (aug != NULL && rng != NULL) {
        scale = aug->scale_min + (1 - aug->scale_min) * fer_rng_uniform(rng);
        dx = aug->shift * (2 * fer_rng_uniform(rng) - 1);
        dy = aug->shift * (2 * fer_rng_uniform(rng) - 1);
        angle = aug->rotate_deg * (2 * fer_rng_uniform(rng) - 1) * M_PI / 180;
        mirror = aug->flip && fer_rng_uniform(rng) < 0.5 ? -1 : 1;
    }
    /* In centred unit coordinates p in [-1/2, 1/2]^2: first the exact
     * quarter turn of the output, then mirror, rotation and scale, then
     * the shift; finally to source pixels. */
    static const int quarter_cos[4] = {1, 0, -1, 0}, quarter_sin[4] = {0, 1, 0, -1};
    double qc = quarter_cos[quarter & 3], qs = quarter_sin[quarter & 3];
    double cs = cos(angle) * scale, sn = sin(angle) * scale;
    /* unit output -> unit pre-turn: counter-clockwise display turn means
     * sampling the source rotated clockwise: (x, y) -> (qc x - qs y, qs x + qc y)
     * with y pointing down. */
    double m00 = qc, m01 = -qs, m10 = qs, m11 = qc;
    /* mirror, then rotation+scale */
    double r00 = cs * mirror, r01 = -sn, r10 = sn * mirror, r11 = cs;
    double t00 = r00 * m00 + r01 * m10, t01 = r00 * m01 + r01 * m11;
    double t10 = r10 * m00 + r11 * m10, t11 = r10 * m01 + r11 * m11;
    double sw = src->width, sh = src->height;
    /* output pixel centre u -> unit: (u + 0.5) / width - 0.5 */
    struct affine A;
    A.a = t00 * sw / width;
    A.b = t01 * sw / height;
    A.d = t10 * sh / width;
    A.e = t11 * sh / height;
    double u0 = 0.5 / width - 0.5, v0 = 0.5 / height - 0.5;
    A.c = (t00 * u0 + t01 * v0 + dx + 0.5) * sw - 0.5;
    A.f = (t10 * u0 + t11 * v0 + dy + 0.5) * sh - 0.5;
    return A;
}

static inline double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Bilinear sample of every source channel at (x, y), edges repeated. */
static inline void sample(const struct fer_image *src, double x, double y, double *v)
{
    x = clampd(x, 0, src->width - 1);
    y = clampd(y, 0, src->height - 1);
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < src->width ? x0 + 1 : x0, y1 = y0 + 1 < src->height ? y0 + 1 : y0;
    double fx = x - x0, fy = y - y0;
    int c = src->channels;
    const uint8_t *r0 = src->data + (size_t)y0 * src->stride, *r1 = src->data + (size_t)y1 * src->stride;
    for (int k = 0; k < c; k++) {
        double top = r0[x0 * c + k] + fx * (r0[x1 * c + k] - r0[x0 * c + k]);
        double bottom = r1[x0 * c + k] + fx * (r1[x1 * c + k] - r1[x0 * c + k]);
        v[k] = top + fy * (bottom - top);
    }
}

int fer_augment_render(const struct fer_image *src, const struct fer_augment *aug,
                       struct fer_rng *rng, int quarter, int channels, int height, int width,
                       float *out)
{
    if (src->channels != 1 && src->channels != 3)
        return fer_fail("image has %d channels, expected 1 or 3", src->channels);
    if (channels != 1 && channels != 3)
        return fer_fail("model input has %d channels, expected 1 or 3", channels);
    struct affine A = sample_affine(src, aug, rng, quarter, width, height);
    double gain = 1, offset = 0;
    if (aug != NULL && rng != NULL) {
        gain = 1 + aug->contrast * (2 * fer_rng_uniform(rng) - 1);
        offset = 255 * aug->brightness * (2 * fer_rng_uniform(rng) - 1);
    }
    size_t plane = (size_t)height * (size_t)width;
    for (int v = 0; v < height; v++) {
        for (int u = 0; u < width; u++) {
            double px[3] = {0, 0, 0};
            sample(src, A.a * u + A.b * v + A.c, A.d * u + A.e * v + A.f, px);
            double grey = px[0];
            if (src->channels == 3 && channels == 1)
                grey = (px[0] * FER_GREY_R + px[1] * FER_GREY_G + px[2] * FER_GREY_B) /
                       (1 << FER_GREY_SHIFT);
            size_t at = (size_t)v * (size_t)width + (size_t)u;
            for (int k = 0; k < channels; k++) {
                double value = channels == 1 || src->channels == 1 ? grey : px[k];
                /* contrast about mid-grey, then brightness */
                value = (value - 127.5) * gain + 127.5 + offset;
                value = clampd(value, 0, 255);
                out[(size_t)k * plane + at] = (float)(value / 127.5 - 1);
            }
        }
    }
    return 0;
}
