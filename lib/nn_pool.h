/* nn_pool.h - max, average and global average pooling over H x W.
 *
 * Square windows as torchvision uses them: kernel k, stride s, padding p,
 * output size floor((H + 2p - k) / s) + 1 (PyTorch's ceil_mode=False).
 * Max pooling pads with -infinity and, among equal maxima, takes the first
 * in row-major window order, as PyTorch's CPU kernel; its backward finds
 * the maximum again from x rather than storing indices. Average pooling
 * divides by k*k when count_include_pad (PyTorch's default), else by the
 * number of window cells inside the image.
 * Conventions (dx overwritten): see nn.h.
 */
#ifndef FER_NN_POOL_H
#define FER_NN_POOL_H

#include "nn.h"

struct fer_pool2d {
    int kernel, stride, pad; /* kernel >= 1, stride >= 1, 0 <= pad <= kernel/2 */
    int count_include_pad;   /* average pooling only */
    /* 1: max pooling always takes the general window loops, never the
     * vector paths for 2x2 stride 2 and 3x3 stride 2 padding 1 (which give
     * the same bits: tests compare the two). */
    int generic;
};

int fer_pool2d_output_size(const struct fer_pool2d *p, int h, int w, int *oh, int *ow);

/* x: N x C x H x W; y: N x C x OH x OW. */
int fer_maxpool2d_forward(const struct fer_pool2d *p, const struct fer_tensor *x,
                          struct fer_tensor *y);
int fer_maxpool2d_backward(const struct fer_pool2d *p, const struct fer_tensor *x,
                           const struct fer_tensor *dy, struct fer_tensor *dx);
/* For layers that fuse 2x2 stride-2 max pooling into their own pass
 * (fer_batchnorm_relu_maxpool_forward): output row out (OW values) from
 * input rows r0, r1 (2 * OW values of each read), the same bits as
 * fer_maxpool2d_forward. */
void fer_maxpool2x2_rows(const float *r0, const float *r1, int OW, float *out);
/* For layers that fuse 2x2 stride-2 max pooling's backward into their
 * own pass (fer_batchnorm_relu_maxpool_backward): the input gradient of
 * input rows r0, r1 (2i, 2i + 1 of a plane, width >= 2 * OW) from output
 * gradient row g (OW values), written to d0, d1 (the first 2 * OW values
 * of each; when OW % 4 == 0 all of them, zeros included, else only the
 * maxima: clear them first). */
void fer_maxpool2x2_grad_rows(const float *r0, const float *r1, const float *g, int OW,
                              float *d0, float *d1);

int fer_avgpool2d_forward(const struct fer_pool2d *p, const struct fer_tensor *x,
                          struct fer_tensor *y);
/* Average pooling's gradient does not depend on x: only dx's shape is used. */
int fer_avgpool2d_backward(const struct fer_pool2d *p, const struct fer_tensor *dy,
                           struct fer_tensor *dx);

/* Mean over H x W: x N x C x H x W, y any shape with N rows of C values
 * (N x C or N x C x 1 x 1), as adaptive_avg_pool2d(x, 1) (+ flatten). */
int fer_global_avgpool_forward(const struct fer_tensor *x, struct fer_tensor *y);
int fer_global_avgpool_backward(const struct fer_tensor *dy, struct fer_tensor *dx);

#endif
