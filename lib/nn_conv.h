/* nn_conv.h - 2-D convolution (PyTorch's nn.Conv2d, zero padding).
 *
 * y[n, o, i, j] = bias[o] + sum over c in o's group, ki, kj of
 *   weight[o, c, ki, kj] * x[n, g*Cg + c, i*stride - pad + ki*dilation,
 *                                          j*stride - pad + kj*dilation]
 * with x = 0 outside the image, Cg = in_channels / groups, and output size
 * floor((H + 2*pad - dilation*(k-1) - 1) / stride) + 1 as PyTorch.
 *
 * The forward is one product per group for the whole batch, weights
 * times the im2col matrix, which with our own GEMM (fer_sgemm_conv,
 * gemm.h) is never written: its panels are packed straight from the
 * images and the output lands in place. 3x3 layers of stride 1 and
 * padding 1 at 4 px and at 6 px and more take Winograd's F(2x2, 3x3)
 * instead, 2.25x fewer products (conv_winograd.h). Where many kernel taps
 * fall on the zero padding (the other 3x3 layers at 14 px and below with
 * at least 128 output channels and K >= 1024: 9-31% of the products), the
 * product is split by tap class and skips them (fer_sgemm_conv_taps).
 * Both sum in another order than im2col + sgemm, the same for every
 * thread count. The input gradient of a stride-1 convolution is itself a
 * convolution of dy with the rotated, transposed weights, computed the
 * same way, which moves far less memory than a column gradient folded
 * back by col2im. The weight gradient of
 * those layers with at least 25% padding products (4 px) is summed by
 * tap class too, over the valid taps only. A layer of fewer than 32 rows
 * (channels x taps: a 1-channel first layer) with one group and stride 1
 * is computed directly along its output rows, forward and weight
 * gradient (conv_direct.h). The other weight gradients, the other input
 * gradients, other groups of fewer than 32 rows (depthwise), and
 * everything under FER_GEMM=openblas use im2col (several images per GEMM
 * when the output is small) + fer_sgemm.
 * Conventions (overwrite dx, accumulate parameter gradients): see nn.h.
 */
#ifndef FER_NN_CONV_H
#define FER_NN_CONV_H

#include "nn.h"

struct fer_conv2d_spec {
    int in_channels, out_channels;
    int kernel_h, kernel_w;
    int stride_h, stride_w;     /* >= 1 */
    int pad_h, pad_w;           /* >= 0 */
    int dilation_h, dilation_w; /* >= 1; 0 is taken as 1 */
    int groups;                 /* divides both channel counts; 0 taken as 1 */
    int bias;                   /* 1: the layer has a bias */
};

struct fer_conv2d {
    struct fer_conv2d_spec spec;
    struct fer_tensor weight;      /* out x in/groups x kh x kw */
    struct fer_tensor bias;        /* out; data NULL without bias */
    struct fer_tensor weight_grad; /* same shapes, accumulated */
    struct fer_tensor bias_grad;
};

/* Validate spec and allocate zeroed parameters and gradients (owned). */
int fer_conv2d_init(struct fer_conv2d *c, const struct fer_conv2d_spec *spec);
void fer_conv2d_free(struct fer_conv2d *c);
void fer_conv2d_zero_grad(struct fer_conv2d *c);

/* Output height and width for an h x w input; -1 (fer_error set) when the
 * kernel does not fit. */
int fer_conv2d_output_size(const struct fer_conv2d *c, int h, int w, int *oh,
                           int *ow);

/* x: N x in x H x W; y: N x out x OH x OW. */
int fer_conv2d_forward(const struct fer_conv2d *c, const struct fer_tensor *x,
                       struct fer_tensor *y, struct fer_arena *scratch);

/* dy: shape of y. dx (NULL or shape of x) is overwritten; weight_grad and
 * bias_grad accumulate. */
int fer_conv2d_backward(struct fer_conv2d *c, const struct fer_tensor *x,
                        const struct fer_tensor *dy, struct fer_tensor *dx,
                        struct fer_arena *scratch);

#endif
