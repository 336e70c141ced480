#include "tensor.h"

#include "error.h"

#include <stdint.h>
#include <string.h>

/* Fill shape and contiguous strides; the element count must fit in int32
 * ranges used by BLAS calls and in size_t bytes. */
static int set_shape(struct fer_tensor *t, int ndim, const int *shape)
{
    if (ndim < 1 || ndim > FER_TENSOR_MAX_DIMS)
        return fer_fail("tensor: %d dimensions (1 to 4 allowed)", ndim);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return fer_fail("tensor: negative dimension %d", shape[i]);
        if (shape[i] > 0 && n > (size_t)INT32_MAX / (size_t)shape[i])
            return fer_fail("tensor: too many elements");
        n *= (size_t)shape[i];
    }
    t->ndim = ndim;
    for (int i = 0; i < FER_TENSOR_MAX_DIMS; i++)
        t->shape[i] = i < ndim ? shape[i] : 1;
    ptrdiff_t s = 1;
    for (int i = FER_TENSOR_MAX_DIMS - 1; i >= 0; i--) {
        t->stride[i] = s;
        s *= t->shape[i];
    }
    return 0;
}

int fer_tensor_wrap(struct fer_tensor *t, float *data, int ndim, const int *shape)
{
    memset(t, 0, sizeof *t);
    if (set_shape(t, ndim, shape) < 0)
        return -1;
    t->data = data;
    return 0;
}

int fer_tensor_alloc(struct fer_tensor *t, int ndim, const int *shape)
{
    memset(t, 0, sizeof *t);
    if (set_shape(t, ndim, shape) < 0)
        return -1;
    size_t bytes = fer_tensor_numel(t) * sizeof(float);
    t->data = fer_aligned_alloc(bytes);
    if (t->data == NULL) {
        memset(t, 0, sizeof *t);
        return -1;
    }
    memset(t->data, 0, bytes);
    t->owns = 1;
    return 0;
}

int fer_tensor_arena(struct fer_tensor *t, struct fer_arena *a, int ndim,
                     const int *shape)
{
    memset(t, 0, sizeof *t);
    if (set_shape(t, ndim, shape) < 0)
        return -1;
    t->data = fer_arena_alloc(a, fer_tensor_numel(t) * sizeof(float));
    if (t->data == NULL) {
        memset(t, 0, sizeof *t);
        return -1;
    }
    return 0;
}

void fer_tensor_free(struct fer_tensor *t)
{
    if (t->owns)
        fer_aligned_free(t->data);
    memset(t, 0, sizeof *t);
}

size_t fer_tensor_numel(const struct fer_tensor *t)
{
    if (t->ndim == 0)
        return 0;
    size_t n = 1;
    for (int i = 0; i < FER_TENSOR_MAX_DIMS; i++)
        n *= (size_t)t->shape[i];
    return n;
}

int fer_tensor_is_contiguous(const struct fer_tensor *t)
{
    ptrdiff_t s = 1;
    for (int i = FER_TENSOR_MAX_DIMS - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s)
            return 0;
        s *= t->shape[i];
    }
    return 1;
}

int fer_tensor_same_shape(const struct fer_tensor *a, const struct fer_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < FER_TENSOR_MAX_DIMS; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

int fer_tensor_reshape(struct fer_tensor *view, const struct fer_tensor *t,
                       int ndim, const int *shape)
{
    if (!fer_tensor_is_contiguous(t))
        return fer_fail("tensor: reshape of a non-contiguous tensor");
    struct fer_tensor v;
    memset(&v, 0, sizeof v);
    if (set_shape(&v, ndim, shape) < 0)
        return -1;
    if (fer_tensor_numel(&v) != fer_tensor_numel(t))
        return fer_fail("tensor: reshape from %zu to %zu elements",
                        fer_tensor_numel(t), fer_tensor_numel(&v));
    v.data = t->data;
    *view = v;
    return 0;
}

int fer_tensor_narrow(struct fer_tensor *view, const struct fer_tensor *t,
                      int dim, int start, int len)
{
    if (dim < 0 || dim >= t->ndim)
        return fer_fail("tensor: narrow along dimension %d of %d", dim, t->ndim);
    if (start < 0 || len < 0 || start > t->shape[dim] - len)
        return fer_fail("tensor: narrow [%d, %d) outside 0..%d", start,
                        start + len, t->shape[dim]);
    struct fer_tensor v = *t;
    v.owns = 0;
    v.data = t->data + start * t->stride[dim];
    v.shape[dim] = len;
    *view = v;
    return 0;
}

void fer_tensor_fill(struct fer_tensor *t, float value)
{
    for (int a = 0; a < t->shape[0]; a++)
        for (int b = 0; b < t->shape[1]; b++)
            for (int c = 0; c < t->shape[2]; c++) {
                float *p = fer_tensor_at(t, a, b, c, 0);
                for (int d = 0; d < t->shape[3]; d++)
                    p[d * t->stride[3]] = value;
            }
}

int fer_tensor_copy(struct fer_tensor *dst, const struct fer_tensor *src)
{
    if (!fer_tensor_same_shape(dst, src))
        return fer_fail("tensor: copy between different shapes");
    if (fer_tensor_is_contiguous(dst) && fer_tensor_is_contiguous(src)) {
        memmove(dst->data, src->data, fer_tensor_numel(src) * sizeof(float));
        return 0;
    }
    for (int a = 0; a < src->shape[0]; a++)
        for (int b = 0; b < src->shape[1]; b++)
            for (int c = 0; c < src->shape[2]; c++) {
                const float *s = fer_tensor_at(src, a, b, c, 0);
                float *d = fer_tensor_at(dst, a, b, c, 0);
                for (int e = 0; e < src->shape[3]; e++)
                    d[e * dst->stride[3]] = s[e * src->stride[3]];
            }
    return 0;
}
