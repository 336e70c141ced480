/* nn_linear.h - fully connected layer (PyTorch's nn.Linear).
 *
 * y = x weight^T + bias, x: N rows of in_features (N x D, or N x C x H x W
 * flattened per row), weight: out x in, y: N x out.
 * Conventions (overwrite dx, accumulate parameter gradients): see nn.h.
 */
#ifndef FER_NN_LINEAR_H
#define FER_NN_LINEAR_H

#include "nn.h"

struct fer_linear {
    int in_features, out_features;
    struct fer_tensor weight;      /* out x in */
    struct fer_tensor bias;        /* out; data NULL without bias */
    struct fer_tensor weight_grad; /* accumulated */
    struct fer_tensor bias_grad;
};

/* Zeroed parameters and gradients (owned). */
int fer_linear_init(struct fer_linear *l, int in_features, int out_features, int bias);
void fer_linear_free(struct fer_linear *l);
void fer_linear_zero_grad(struct fer_linear *l);

int fer_linear_forward(const struct fer_linear *l, const struct fer_tensor *x,
                       struct fer_tensor *y);
int fer_linear_backward(struct fer_linear *l, const struct fer_tensor *x,
                        const struct fer_tensor *dy, struct fer_tensor *dx);

#endif
