/* conv_direct.h - convolutions with few input rows, computed directly.
 *
 * A first layer on grey faces (1 -> 32 channels, 3 x 3) has K = 9 products
 * per output: as a GEMM its tiles are reloaded and stored after every 9
 * steps, and im2col writes nine copies of the image. Here the vectors run
 * along an output row instead: each of the K shifted input rows is loaded
 * once per 16 outputs and multiplied into 16 output channels at once.
 *
 * Both functions take the shape of gemm.h (struct fer_conv_shape) and
 * apply when the convolution has stride 1, no dilation and
 * K = channels * kernel_h * kernel_w <= FER_CONV_DIRECT_MAX_K, on a CPU
 * with AVX-512. They return 1 otherwise (nothing written: the caller
 * takes another path), 0 when done, -1 with fer_error() set on no memory.
 * Every output is summed by one thread in a fixed order, so the bits do
 * not depend on the thread count.
 */
#ifndef FER_CONV_DIRECT_H
#define FER_CONV_DIRECT_H

#include "arena.h"
#include "gemm.h"

#include <stddef.h>

#define FER_CONV_DIRECT_MAX_K 31

/* y = w * cols(x) (gemm.h): w is M x K row-major; image i's output is
 * y[i * out_stride + o * out_h * out_w + q]. Scratch comes from a and is
 * released before returning (both functions). */
int fer_conv_direct_forward(int M, const float *w, const struct fer_conv_shape *s,
                            const float *x, float *y, ptrdiff_t out_stride,
                            struct fer_arena *a);

/* dw += dy * cols(x)^T: dw is M x K row-major, dy image i's output
 * gradient at dy[i * dy_stride + o * out_h * out_w + q]. */
int fer_conv_direct_weight_grad(int M, const struct fer_conv_shape *s, const float *x,
                                const float *dy, ptrdiff_t dy_stride, float *dw,
                                struct fer_arena *a);

#endif
