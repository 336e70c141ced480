/* nn_activation.h - element-wise activations.
 *
 * Any shape; y may be the same memory as x (in place), dx the same as dy.
 * Backward takes the OUTPUT y of forward (enough for both, and it lets
 * forward run in place): ReLU passes dy where y > 0 (PyTorch's subgradient
 * at 0 is 0 too), sigmoid multiplies by y (1 - y).
 */
#ifndef FER_NN_ACTIVATION_H
#define FER_NN_ACTIVATION_H

#include "nn.h"

int fer_relu_forward(const struct fer_tensor *x, struct fer_tensor *y);
int fer_relu_backward(const struct fer_tensor *y, const struct fer_tensor *dy,
                      struct fer_tensor *dx);

int fer_sigmoid_forward(const struct fer_tensor *x, struct fer_tensor *y);
int fer_sigmoid_backward(const struct fer_tensor *y, const struct fer_tensor *dy,
                         struct fer_tensor *dx);

#endif
