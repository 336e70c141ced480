/* augment.h - from a decoded crop to a normalized model input.
 *
 * Training sees a slightly different face every epoch: a random crop
 * (scale and shift), a horizontal flip, a small rotation, and a change of
 * brightness and contrast. All geometric changes are one affine map,
 * sampled once per pixel with bilinear interpolation (edges repeated), so
 * the image is resampled once, not once per operation. The rotation pretext
 * task's quarter turns are exact.
 *
 * Output: channels x height x width floats, (v / 255 - 0.5) / 0.5, i.e. in
 * [-1, 1], planar (CHW). Grey sources are replicated to 3 channels; RGB is
 * converted to grey (BT.601) for 1-channel models.
 */
#ifndef FER_AUGMENT_H
#define FER_AUGMENT_H

#include "image.h"
#include "rng.h"

struct fer_augment {
    double scale_min;  /* crop side uniform in [scale_min, 1] of the image (1: off) */
    double shift;      /* crop centre moves up to shift * side (0: off) */
    int flip;          /* mirror left-right with probability 1/2 */
    double rotate_deg; /* rotation uniform in [-rotate_deg, rotate_deg] */
    double brightness; /* add uniform [-b, b] (fraction of the full range) */
    double contrast;   /* scale about mid-grey by uniform [1 - c, 1 + c] */
};

/* The defaults of fer-pretrain and fer-finetune (man pages): scale 0.85..1,
 * shift 0.05, flip, 10 degrees, brightness 0.1, contrast 0.2. */
void fer_augment_default(struct fer_augment *a);

/* Render src into out[channels * height * width]. aug NULL (or rng NULL):
 * no random change, the image is only resized to height x width. quarter:
 * then rotate by quarter * 90 degrees counter-clockwise (0..3). Returns 0,
 * or -1 with fer_error() set. */
int fer_augment_render(const struct fer_image *src, const struct fer_augment *aug,
                       struct fer_rng *rng, int quarter, int channels, int height, int width,
                       float *out);

#endif
