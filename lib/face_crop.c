#include "face_crop.h"

#include "error.h"

#include <math.h>

struct fer_rect fer_crop_region(const struct fer_rect *face, int frame_w, int frame_h,
                                const struct fer_crop_params *p)
{
    double w = face->w * (1 + p->widen), h = face->h;
    double side = fmax(w, h) * (1 + 2 * p->margin);
    double cx = face->x + face->w / 2, cy = face->y + face->h / 2;
    double s = round(side);
    if (s < 1)
        s = 1;
    double x = round(cx - s / 2), y = round(cy - s / 2);
    if (p->border == FER_CROP_CLIP) {
        s = fmin(s, fmin(frame_w, frame_h));
        x = fmin(fmax(x, 0), frame_w - s);
        y = fmin(fmax(y, 0), frame_h - s);
    }
    return (struct fer_rect){x, y, s, s};
}

int fer_crop_face(const struct fer_image *frame, const struct fer_rect *region,
                  const struct fer_crop_params *p, struct fer_image *out)
{
    struct fer_image cut = {0}, sized = {0};
    if (fer_image_crop(frame, &cut, (int)region->x, (int)region->y, (int)region->w,
                       (int)region->h) != 0)
        return -1;
    int status = fer_image_resize(&cut, &sized, p->size, p->size);
    fer_image_free(&cut);
    if (status != 0)
        return -1;
    if (sized.channels == p->channels) {
        *out = sized;
        return 0;
    }
    status = p->channels == 1 ? fer_image_to_grey(&sized, out) : fer_image_to_rgb(&sized, out);
    fer_image_free(&sized);
    return status;
}
