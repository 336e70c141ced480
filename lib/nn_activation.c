#include "nn_activation.h"

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

int fer_relu_forward(const struct fer_tensor *x, struct fer_tensor *y)
{
    if (check("relu", x, y, NULL) < 0)
        return -1;
    size_t n = fer_tensor_numel(x);
    const float *p = x->data;
    float *q = y->data;
    for (size_t i = 0; i < n; i++)
        q[i] = p[i] > 0 ? p[i] : 0;
    return 0;
}

int fer_relu_backward(const struct fer_tensor *y, const struct fer_tensor *dy,
                      struct fer_tensor *dx)
{
    if (check("relu", y, dy, dx) < 0)
        return -1;
    size_t n = fer_tensor_numel(y);
    for (size_t i = 0; i < n; i++)
        dx->data[i] = y->data[i] > 0 ? dy->data[i] : 0;
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
