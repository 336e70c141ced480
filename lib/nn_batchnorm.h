/* nn_batchnorm.h - batch normalisation (PyTorch's BatchNorm2d/BatchNorm1d).
 *
 * x is N x C x H x W (or N x C): statistics are per channel over N, H, W.
 * Training mode normalises with the batch mean and biased variance and
 * updates the running statistics with PyTorch's convention
 *     running = (1 - momentum) * running + momentum * batch_statistic,
 * using the UNBIASED batch variance (M / (M - 1), M = N*H*W) for
 * running_var, and counts num_batches_tracked. Evaluation mode normalises
 * with the running statistics. y = (x - mean) / sqrt(var + eps) * weight + bias.
 * Planes (n, c) are split over the engine's threads (parallel.h); each
 * channel's sums add per-plane sums in a fixed order, so results do not
 * depend on the thread count. Calls may fail with "out of memory" the
 * first time a shape needs more scratch than the layer holds.
 * Conventions (overwrite dx, accumulate parameter gradients): see nn.h.
 */
#ifndef FER_NN_BATCHNORM_H
#define FER_NN_BATCHNORM_H

#include <stdint.h>

#include "nn.h"

struct fer_batchnorm {
    int channels;
    float eps;      /* PyTorch default 1e-5 */
    float momentum; /* PyTorch default 0.1 */
    int training;   /* 1: batch statistics and running updates */
    struct fer_tensor weight, bias;              /* gamma, beta: C */
    struct fer_tensor running_mean, running_var; /* C */
    struct fer_tensor weight_grad, bias_grad;    /* C, accumulated */
    int64_t num_batches_tracked;
    /* Set by forward, read by backward: the mean and 1/sqrt(var + eps) that
     * normalised the last batch (batch or running statistics). */
    struct fer_tensor save_mean, save_invstd;
    /* Also set by forward: y = x * save_scale + save_shift per channel, the
     * floats it applied (backward rebuilds y from x with them). */
    struct fer_tensor save_scale, save_shift;
    /* Per-plane partial sums between a call's passes, kept for the next
     * call (internal; freed by fer_batchnorm_free). */
    double *scratch;
    size_t scratch_cap;
};

/* weight 1, bias 0, running mean 0 and variance 1, training mode, as
 * PyTorch initialises. */
int fer_batchnorm_init(struct fer_batchnorm *bn, int channels, float eps,
                       float momentum);
void fer_batchnorm_free(struct fer_batchnorm *bn);
void fer_batchnorm_zero_grad(struct fer_batchnorm *bn);

/* x: N x C [x H x W]; y: same shape (not the same memory as x: backward
 * needs x). In training mode fails when N*H*W < 2, as PyTorch. */
int fer_batchnorm_forward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                          struct fer_tensor *y);
/* relu(batchnorm(x)) in one pass over memory, for a batch norm followed by
 * ReLU: backward is then fer_batchnorm_relu_backward, or equally
 * fer_relu_backward on y followed by fer_batchnorm_backward, as if the two
 * had run separately. */
int fer_batchnorm_relu_forward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                               struct fer_tensor *y);
/* relu(batchnorm(x) + skip) in one pass, for ResNet's second batch norm
 * of a block and its residual sum: the same bits as fer_batchnorm_forward,
 * fer_add_forward and fer_relu_forward in turn (skip same shape as x; y
 * may not alias x or skip). The backward is that of the three layers:
 * fer_relu_backward on y, then fer_batchnorm_backward (which reads only
 * x), so the batch norm's own output is never needed. */
int fer_batchnorm_add_relu_forward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                                   const struct fer_tensor *skip, struct fer_tensor *y);
/* The gradient of the last forward (same x, same mode). */
int fer_batchnorm_backward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                           const struct fer_tensor *dy, struct fer_tensor *dx);
/* The gradient through relu(batchnorm(x)): dy is the gradient of the
 * rectified output y (what fer_batchnorm_relu_forward wrote), taken as 0
 * where y <= 0, in the same pass as batch norm's backward. Gives the same
 * bits as fer_relu_backward followed by fer_batchnorm_backward. dx may not
 * alias dy or y. */
int fer_batchnorm_relu_backward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                                const struct fer_tensor *y, const struct fer_tensor *dy,
                                struct fer_tensor *dx);

struct fer_pool2d;

/* maxpool(relu(batchnorm(x))) for 2x2 stride-2 pooling, when
 * fer_batchnorm_maxpool_fusable(pool, x) says so, in one pass that never
 * writes the rectified output: pooled is N x C x H/2 x W/2. Same bits as
 * fer_batchnorm_relu_forward then fer_maxpool2d_forward; the backward is
 * fer_batchnorm_relu_maxpool_backward with y NULL. Fails (fer_fail) when
 * the pool is not fusable or a shape differs. */
int fer_batchnorm_relu_maxpool_forward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                                       const struct fer_pool2d *pool,
                                       struct fer_tensor *pooled);

/* Fused backward of relu(batchnorm(x)) followed by 2x2 stride-2 max
 * pooling, when fer_batchnorm_maxpool_fusable says so (H even, W a
 * multiple of 8 and at most 1024): dpool is the pool's output gradient
 * (N x C x H/2 x W/2) and y the rectified output the pool read, or NULL
 * to rebuild it from x with the last forward's save_scale and save_shift
 * (the same bits; after fer_batchnorm_relu_maxpool_forward). The
 * pool's input gradient is rebuilt inside batch norm's first pass, straight
 * into dx, which the second pass then overwrites in place; it is never a
 * tensor of its own. Gives the same bits as fer_maxpool2d_backward,
 * fer_relu_backward and fer_batchnorm_backward in turn. dx (NULL: only the
 * parameter gradients) must not overlap x, y or dpool. Fails (fer_fail)
 * when the pool is not fusable or a shape differs. */
int fer_batchnorm_maxpool_fusable(const struct fer_pool2d *p, const struct fer_tensor *y);
int fer_batchnorm_relu_maxpool_backward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                                        const struct fer_tensor *y,
                                        const struct fer_pool2d *pool,
                                        const struct fer_tensor *dpool, struct fer_tensor *dx);

#endif
