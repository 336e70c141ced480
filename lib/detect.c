/* detect.c - the detector interface and its cascade implementation. */
#include "detect.h"

#include <stdlib.h>

#include "cascade.h"
#include "error.h"

void fer_boxes_free(struct fer_boxes *b)
{
    free(b->v);
    b->v = NULL;
    b->n = b->cap = 0;
}

void fer_detect_params_default(struct fer_detect_params *p)
{
    *p = (struct fer_detect_params){.scale_factor = 1.1, .min_neighbors = 3, .min_w = 30,
                                    .min_h = 30, .max_w = 0, .max_h = 0, .threads = 1};
}

int fer_detector_detect(struct fer_detector *d, const struct fer_image *grey,
                        const struct fer_detect_params *p, struct fer_boxes *out)
{
    if (grey->channels != 1)
        return fer_fail("detector needs a grey image");
    return d->ops->detect(d, grey, p, out);
}

void fer_detector_free(struct fer_detector *d)
{
    if (d != NULL)
        d->ops->free(d);
}

static int cascade_detect(struct fer_detector *d, const struct fer_image *grey,
                          const struct fer_detect_params *p, struct fer_boxes *out)
{
    const struct fer_cascade_params cp = {p->scale_factor, p->min_w, p->min_h,
                                          p->max_w, p->max_h, p->threads};
    struct fer_rects r = {0};
    out->n = 0;
    int rc = fer_cascade_detect(d->state, grey->data, grey->width, grey->height, grey->stride,
                                &cp, p->min_neighbors, &r);
    if (rc == 0 && r.n > out->cap) {
        struct fer_box *v = realloc(out->v, r.n * sizeof *v);
        if (v == NULL)
            rc = fer_fail("out of memory");
        else
            out->v = v, out->cap = r.n;
    }
    if (rc == 0) {
        for (size_t i = 0; i < r.n; i++)
            out->v[i] = (struct fer_box){r.v[i].x, r.v[i].y, r.v[i].w, r.v[i].h,
                                         (float)r.v[i].n};
        out->n = r.n;
    }
    fer_rects_free(&r);
    return rc;
}

static void cascade_free(struct fer_detector *d)
{
    fer_cascade_free(d->state);
    free(d);
}

static const struct fer_detector_ops cascade_ops = {"cascade", cascade_detect, cascade_free};

struct fer_detector *fer_detector_open_cascade(const char *path)
{
    struct fer_detector *d = malloc(sizeof *d);
    if (d == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    struct fer_cascade *c;
    if (fer_cascade_read(path, &c) < 0) {
        free(d);
        return NULL;
    }
    d->ops = &cascade_ops;
    d->state = c;
    return d;
}
