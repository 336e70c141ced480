/* face_crop.h - normalized face crops from detector boxes.
 *
 * A cascade box is square and tight around eyes, nose and mouth. RMFER
 * widens it by 0.31 w (centred) to take in the cheeks and jaw; we apply that,
 * add an optional margin on every side, and take the enclosing square so
 * that the crop is not distorted when resized to size x size.
 */
#ifndef FER_FACE_CROP_H
#define FER_FACE_CROP_H

#include "image.h"
#include "tracker.h"

enum fer_crop_border {
    FER_CROP_PAD,  /* keep the square where it is; repeat edge pixels outside */
    FER_CROP_CLIP, /* move (and if need be shrink) the square into the frame */
};

struct fer_crop_params {
    int size;       /* output side in pixels */
    int channels;   /* 1 grey, 3 RGB */
    double widen;   /* added to the width, as a fraction of it (RMFER: 0.31) */
    double margin;  /* added on each side, as a fraction of the side (0) */
    enum fer_crop_border border;
};

/* The square, in frame pixels (integer corners), that becomes the crop of
 * `face` in a frame_w x frame_h frame. */
struct fer_rect fer_crop_region(const struct fer_rect *face, int frame_w, int frame_h,
                                const struct fer_crop_params *p);

/* Cut the region out of frame, resize it to size x size (area averaging
 * when shrinking) and convert to the wanted channels. *out is allocated.
 * Returns 0, or -1 with fer_error() set. */
int fer_crop_face(const struct fer_image *frame, const struct fer_rect *region,
                  const struct fer_crop_params *p, struct fer_image *out);

#endif
