/* nn.h - conventions shared by every layer (nn_*.h).
 *
 * A layer is a small struct of its own hyper-parameters, parameters and
 * parameter gradients, with explicit forward and backward functions; there
 * is no autograd. Layers with no parameters are plain functions.
 *
 * Contract common to all layers:
 *  - Tensors are float32, contiguous, NCHW for images (N x C x H x W) and
 *    N x D for features. Every shape is checked; a mismatch fails with
 *    fer_fail ("conv2d: input has 3 channels, layer expects 1") and -1.
 *  - forward overwrites its output tensor, which the caller allocated with
 *    the shape the layer's header states (an arena tensor is typical).
 *  - backward is given the same input (and output, where stated) that
 *    forward saw, unchanged, plus the upstream gradient dy.
 *  - The input gradient dx is OVERWRITTEN. Pass NULL to skip computing it
 *    (the first layer of a network).
 *  - Parameter gradients (weight_grad, bias_grad, ...) ACCUMULATE (+=), as
 *    PyTorch's .grad does: zero them before each step (fer_*_zero_grad).
 *    Accumulating lets shared layers (a backbone applied to several frames)
 *    sum their gradients without copies.
 *  - Scratch memory (im2col columns and the like) comes from the arena
 *    argument and is released before the function returns.
 *  - Parameters are named and laid out as in PyTorch (conv weight OIHW,
 *    linear weight out x in, batch-norm weight/bias/running_mean/running_var)
 *    so weight files interoperate.
 */
#ifndef FER_NN_H
#define FER_NN_H

#include "arena.h"
#include "error.h"
#include "tensor.h"

/* Shape checks shared by the layer implementations; they fail (fer_fail,
 * -1) when t is missing or not contiguous, or when its dimensions differ
 * from n, c, h, w (-1: any) or from those of `like`. */
int fer_nn_check4(const char *who, const char *what, const struct fer_tensor *t,
                  int n, int c, int h, int w);
int fer_nn_check_same(const char *who, const char *what,
                      const struct fer_tensor *t, const struct fer_tensor *like);

/* Use n threads in the engine: our own loops and GEMMs (parallel.h,
 * gemm.h) and OpenBLAS's; n = 0: as many as OpenBLAS uses by default
 * (OPENBLAS_NUM_THREADS, else the CPUs). Our loops never let a sum depend
 * on the split, so with fer_sgemm's own kernels results are bitwise
 * identical for every thread count; on its OpenBLAS path, for a fixed
 * thread count. Returns 0, or -1 with fer_error() set if a worker could
 * not be started. */
int fer_nn_set_threads(int n);

#endif
