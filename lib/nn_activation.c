#include "nn_activation.h"

#include "nn_parallel.h"

#include <math.h>

static int check(const char *who, const struct fer_tensor *a, const struct fer_tensor *b,
                 const struct fer_tensor *c)
{
    if (fer_nn_check_same(who, "input", a, a) < 0 ||
        fer_nn_check_same(who, "output", b, a) < 0)
        return -1;
    if (c && fer_nn_check_same(who, "gradient", c, a) < 0)
        return -1;
    return 0;
}

/* The in-place and out-of-place loops are separate, each free of possible
 * aliasing, so that the compiler vectorises both (a shared loop would fall
 * back to a scalar compare-and-branch exactly when running in place). The
 * select keeps NaN, as torch.relu does. */
static void relu_in_place(float *restrict p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = p[i] > 0 ? p[i] : 0.0f;
}

static void relu_copy(const float *restrict p, float *restrict q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        q[i] = p[i] > 0 ? p[i] : 0.0f;
}

static void relu_grad_in_place(const float *restrict y, float *restrict g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g[i] = y[i] > 0 ? g[i] : 0.0f;
}

static void relu_grad(const float *restrict y, const float *restrict dy,
                      float *restrict dx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0 ? dy[i] : 0.0f;
}

/* The four loops above over element ranges, split over the threads. */
struct relu_job {
    const float *y; /* backward: the forward output */
    const float *in;
    float *out;
};

static void relu_range(void *ctx, long b, long e)
{
    const struct relu_job *j = ctx;
    if (j->in == j->out)
        relu_in_place(j->out + b, (size_t)(e - b));
    else
        relu_copy(j->in + b, j->out + b, (size_t)(e - b));
}

static void relu_grad_range(void *ctx, long b, long e)
{
    const struct relu_job *j = ctx;
    if (j->in == j->out)
        relu_grad_in_place(j->y + b, j->out + b, (size_t)(e - b));
    else
        relu_grad(j->y + b, j->in + b, j->out + b, (size_t)(e - b));
}

int fer_relu_forward(const struct fer_tensor *x, struct fer_tensor *y)
{
    if (check("relu", x, y, NULL) < 0)
        return -1;
    struct relu_job j = {NULL, x->data, y->data};
    fer_nn_parallel_elements(fer_tensor_numel(x), 2, relu_range, &j);
    return 0;
}

int fer_relu_backward(const struct fer_tensor *y, const struct fer_tensor *dy,
                      struct fer_tensor *dx)
{
    if (check("relu", y, dy, dx) < 0)
        return -1;
    struct relu_job j = {y->data, dy->data, dx->data};
    fer_nn_parallel_elements(fer_tensor_numel(y), 3, relu_grad_range, &j);
    return 0;
}

int fer_sigmoid_forward(const struct fer_tensor *x, struct fer_tensor *y)
{
    if (check("sigmoid", x, y, NULL) < 0)
        return -1;
    size_t n = fer_tensor_numel(x);
    for (size_t i = 0; i < n; i++)
        y->data[i] = 1.0f / (1.0f + expf(-x->data[i]));
    return 0;
}

int fer_sigmoid_backward(const struct fer_tensor *y, const struct fer_tensor *dy,
                         struct fer_tensor *dx)
{
    if (check("sigmoid", y, dy, dx) < 0)
        return -1;
    size_t n = fer_tensor_numel(y);
    for (size_t i = 0; i < n; i++)
        dx->data[i] = dy->data[i] * y->data[i] * (1.0f - y->data[i]);
    return 0;
}
