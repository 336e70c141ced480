#include "nn_linear.h"

#include "gemm.h"

#include <string.h>

int fer_linear_init(struct fer_linear *l, int in_features, int out_features, int bias)
{
    memset(l, 0, sizeof *l);
    if (in_features < 1 || out_features < 1)
        return fer_fail("linear: feature counts must be positive");
    l->in_features = in_features;
    l->out_features = out_features;
    const int w[2] = {out_features, in_features};
    if (fer_tensor_alloc(&l->weight, 2, w) < 0 ||
        fer_tensor_alloc(&l->weight_grad, 2, w) < 0 ||
        (bias && (fer_tensor_alloc(&l->bias, 1, &out_features) < 0 ||
                  fer_tensor_alloc(&l->bias_grad, 1, &out_features) < 0))) {
        fer_linear_free(l);
        return -1;
    }
    return 0;
}

void fer_linear_free(struct fer_linear *l)
{
    fer_tensor_free(&l->weight);
    fer_tensor_free(&l->weight_grad);
    fer_tensor_free(&l->bias);
    fer_tensor_free(&l->bias_grad);
}

void fer_linear_zero_grad(struct fer_linear *l)
{
    fer_tensor_fill(&l->weight_grad, 0);
    if (l->bias_grad.data)
        fer_tensor_fill(&l->bias_grad, 0);
}

static int check(const struct fer_linear *l, const struct fer_tensor *x,
                 const struct fer_tensor *y, const char *yname)
{
    if (l->weight.data == NULL)
        return fer_fail("linear: layer not initialised");
    if (fer_nn_check4("linear", "input", x, -1, -1, -1, -1) < 0)
        return -1;
    if (fer_tensor_numel(x) != (size_t)x->shape[0] * l->in_features)
        return fer_fail("linear: input rows have %zu values, layer expects %d",
                        fer_tensor_numel(x) / (x->shape[0] ? x->shape[0] : 1),
                        l->in_features);
    return fer_nn_check4("linear", yname, y, x->shape[0], l->out_features, 1, 1);
}

int fer_linear_forward(const struct fer_linear *l, const struct fer_tensor *x,
                       struct fer_tensor *y)
{
    if (check(l, x, y, "output") < 0)
        return -1;
    const int N = x->shape[0], In = l->in_features, Out = l->out_features;
    if (N == 0)
        return 0;
    fer_sgemm(FER_NO_TRANS, FER_TRANS, N, Out, In, 1.0f, x->data, In,
                l->weight.data, In, 0.0f, y->data, Out);
    if (l->bias.data)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < Out; o++)
                y->data[(ptrdiff_t)n * Out + o] += l->bias.data[o];
    return 0;
}

int fer_linear_backward(struct fer_linear *l, const struct fer_tensor *x,
                        const struct fer_tensor *dy, struct fer_tensor *dx)
{
    if (check(l, x, dy, "output gradient") < 0)
        return -1;
    if (dx && fer_nn_check_same("linear", "input gradient", dx, x) < 0)
        return -1;
    const int N = x->shape[0], In = l->in_features, Out = l->out_features;
    if (N == 0)
        return 0;
    fer_sgemm(FER_TRANS, FER_NO_TRANS, Out, In, N, 1.0f, dy->data, Out,
                x->data, In, 1.0f, l->weight_grad.data, In);
    if (l->bias_grad.data)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < Out; o++)
                l->bias_grad.data[o] += dy->data[(ptrdiff_t)n * Out + o];
    if (dx)
        fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, N, In, Out, 1.0f, dy->data,
                    Out, l->weight.data, In, 0.0f, dx->data, In);
    return 0;
}
