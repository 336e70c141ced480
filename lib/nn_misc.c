#include "nn_misc.h"

#include "nn_parallel.h"

#include <math.h>
#include <string.h>

struct add_job {
    const float *a, *b;
    float *y;
};

static void add_range(void *ctx, long begin, long end)
{
    const struct add_job *j = ctx;
    for (long i = begin; i < end; i++)
        j->y[i] = j->a[i] + j->b[i];
}

int fer_add_forward(const struct fer_tensor *a, const struct fer_tensor *b,
                    struct fer_tensor *y)
{
    if (fer_nn_check_same("add", "first input", a, a) < 0 ||
        fer_nn_check_same("add", "second input", b, a) < 0 ||
        fer_nn_check_same("add", "output", y, a) < 0)
        return -1;
    struct add_job j = {a->data, b->data, y->data};
    fer_nn_parallel_elements(fer_tensor_numel(a), 3, add_range, &j);
    return 0;
}

int fer_add_backward(const struct fer_tensor *dy, struct fer_tensor *da,
                     struct fer_tensor *db)
{
    struct fer_tensor *out[2] = {da, db};
    for (int k = 0; k < 2; k++) {
        if (out[k] == NULL || out[k]->data == dy->data)
            continue;
        if (fer_nn_check_same("add", "input gradient", out[k], dy) < 0)
            return -1;
        memcpy(out[k]->data, dy->data, fer_tensor_numel(dy) * sizeof(float));
    }
    return 0;
}

/* Check the parts against y; *inner = H*W. */
static int concat_check(const struct fer_tensor *const *xs, int n,
                        const struct fer_tensor *y, ptrdiff_t *inner)
{
    if (fer_nn_check4("concat", "output", y, -1, -1, -1, -1) < 0)
        return -1;
    int c = 0;
    for (int i = 0; i < n; i++) {
        if (xs[i] == NULL)
            return fer_fail("concat: part %d missing", i);
        if (fer_nn_check4("concat", "part", xs[i], y->shape[0], -1, y->shape[2],
                          y->shape[3]) < 0)
            return -1;
        c += xs[i]->shape[1];
    }
    if (c != y->shape[1])
        return fer_fail("concat: parts have %d channels, output %d", c, y->shape[1]);
    *inner = (ptrdiff_t)y->shape[2] * y->shape[3];
    return 0;
}

int fer_concat_forward(const struct fer_tensor *const *xs, int n, struct fer_tensor *y)
{
    ptrdiff_t S = 0;
    if (concat_check(xs, n, y, &S) < 0)
        return -1;
    const ptrdiff_t ys = (ptrdiff_t)y->shape[1] * S;
    for (int b = 0; b < y->shape[0]; b++) {
        float *dst = y->data + b * ys;
        for (int i = 0; i < n; i++) {
            ptrdiff_t len = (ptrdiff_t)xs[i]->shape[1] * S;
            memcpy(dst, xs[i]->data + b * len, len * sizeof(float));
            dst += len;
        }
    }
    return 0;
}

int fer_concat_backward(const struct fer_tensor *dy, struct fer_tensor *const *dxs,
                        int n)
{
    ptrdiff_t S = (ptrdiff_t)dy->shape[2] * dy->shape[3], offset = 0;
    const ptrdiff_t ys = (ptrdiff_t)dy->shape[1] * S;
    int c = 0;
    for (int i = 0; i < n; i++) {
        if (dxs[i] == NULL)
            return fer_fail("concat: backward needs every part's shape");
        if (fer_nn_check4("concat", "part gradient", dxs[i], dy->shape[0], -1,
                          dy->shape[2], dy->shape[3]) < 0)
            return -1;
        c += dxs[i]->shape[1];
    }
    if (c != dy->shape[1])
        return fer_fail("concat: parts have %d channels, gradient %d", c, dy->shape[1]);
    for (int i = 0; i < n; i++) {
        ptrdiff_t len = (ptrdiff_t)dxs[i]->shape[1] * S;
        for (int b = 0; b < dy->shape[0]; b++)
            memcpy(dxs[i]->data + b * len, dy->data + b * ys + offset,
                   len * sizeof(float));
        offset += len;
    }
    return 0;
}

static int rows(const struct fer_tensor *x, const struct fer_tensor *y, int *n,
                size_t *d)
{
    if (fer_nn_check_same("l2norm", "input", x, x) < 0 ||
        fer_nn_check_same("l2norm", "output", y, x) < 0)
        return -1;
    *n = x->shape[0];
    *d = *n ? fer_tensor_numel(x) / (size_t)*n : 0;
    return 0;
}

static double row_norm(const float *p, size_t d)
{
    double s = 0;
    for (size_t k = 0; k < d; k++)
        s += (double)p[k] * p[k];
    return sqrt(s);
}

int fer_l2norm_forward(const struct fer_tensor *x, struct fer_tensor *y)
{
    int n;
    size_t d;
    if (rows(x, y, &n, &d) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const float *p = x->data + i * d;
        double norm = row_norm(p, d);
        float inv = (float)(1.0 / (norm > FER_L2NORM_EPS ? norm : FER_L2NORM_EPS));
        for (size_t k = 0; k < d; k++)
            y->data[i * d + k] = p[k] * inv;
    }
    return 0;
}

int fer_l2norm_backward(const struct fer_tensor *x, const struct fer_tensor *y,
                        const struct fer_tensor *dy, struct fer_tensor *dx)
{
    int n;
    size_t d;
    if (rows(x, y, &n, &d) < 0 || fer_nn_check_same("l2norm", "gradient", dy, x) < 0 ||
        fer_nn_check_same("l2norm", "input gradient", dx, x) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const float *yi = y->data + i * d, *gi = dy->data + i * d;
        double norm = row_norm(x->data + i * d, d);
        /* Below eps the divisor is the constant eps: no projection term. */
        double dot = 0;
        if (norm > FER_L2NORM_EPS)
            for (size_t k = 0; k < d; k++)
                dot += (double)yi[k] * gi[k];
        else
            norm = FER_L2NORM_EPS;
        for (size_t k = 0; k < d; k++)
            dx->data[i * d + k] = (float)((gi[k] - yi[k] * dot) / norm);
    }
    return 0;
}
