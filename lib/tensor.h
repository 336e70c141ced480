/* tensor.h - float32 tensors: shape, strides, data.
 *
 * A tensor is a small struct passed by pointer and usually kept by value
 * inside a layer or on the stack: up to four dimensions, NCHW order for
 * images (N x C x H x W), N x D for features. Strides count elements, not
 * bytes. A view shares another tensor's data through its own shape and
 * strides and never owns it; only a tensor made by fer_tensor_alloc owns its
 * data (`owns` = 1) and fer_tensor_free releases it.
 *
 * Layers (nn.h) take contiguous tensors unless their header says otherwise;
 * fer_tensor_copy turns a strided view into contiguous data.
 */
#ifndef FER_TENSOR_H
#define FER_TENSOR_H

#include <stddef.h>

#include "arena.h"

#define FER_TENSOR_MAX_DIMS 4

struct fer_tensor {
    float *data;
    int ndim;                              /* 1..4 (0 only when unset) */
    int shape[FER_TENSOR_MAX_DIMS];        /* 1 beyond ndim */
    ptrdiff_t stride[FER_TENSOR_MAX_DIMS]; /* in elements */
    int owns;                              /* data freed by fer_tensor_free */
};

/* Describe `data` (not owned, contiguous) with the given shape. Fails when
 * ndim is not 1..4 or a dimension is < 0, or the element count overflows. */
int fer_tensor_wrap(struct fer_tensor *t, float *data, int ndim, const int *shape);

/* Allocate a contiguous, zero-filled, 64-byte aligned tensor that owns its
 * data. On failure t is left empty (data NULL) and -1 returned. */
int fer_tensor_alloc(struct fer_tensor *t, int ndim, const int *shape);

/* Like fer_tensor_alloc but from an arena: not owned, not cleared, valid
 * until the arena is reset. */
int fer_tensor_arena(struct fer_tensor *t, struct fer_arena *a, int ndim,
                     const int *shape);

/* Free owned data (no-op for views and wrapped data); leaves t empty. */
void fer_tensor_free(struct fer_tensor *t);

size_t fer_tensor_numel(const struct fer_tensor *t);
int fer_tensor_is_contiguous(const struct fer_tensor *t);
/* 1 when a and b have the same ndim and dimensions. */
int fer_tensor_same_shape(const struct fer_tensor *a, const struct fer_tensor *b);

/* A view of contiguous t with a new shape of the same element count. */
int fer_tensor_reshape(struct fer_tensor *view, const struct fer_tensor *t,
                       int ndim, const int *shape);
/* A view of t restricted to [start, start + len) along dimension dim (e.g.
 * a batch slice along 0, a channel group along 1). Not contiguous in
 * general. */
int fer_tensor_narrow(struct fer_tensor *view, const struct fer_tensor *t,
                      int dim, int start, int len);

void fer_tensor_fill(struct fer_tensor *t, float value);
/* Copy element by element (any strides); shapes must match. */
int fer_tensor_copy(struct fer_tensor *dst, const struct fer_tensor *src);

/* Address of element (i0, i1, i2, i3); unused trailing indices are 0. */
static inline float *fer_tensor_at(const struct fer_tensor *t, int i0, int i1,
                                   int i2, int i3)
{
    return t->data + i0 * t->stride[0] + i1 * t->stride[1] + i2 * t->stride[2] +
           i3 * t->stride[3];
}

#endif
