/* conv_winograd.h - 3 x 3 convolutions of stride 1 by Winograd's F(2x2, 3x3).
 *
 * A 2 x 2 block of outputs ("tile") of one output channel needs the 4 x 4
 * input patch around it; Winograd's minimal filtering (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016, eq. 8)
 * writes it as Y = A^T [sum over c of (G g G^T) . (B^T d B)] A, 16
 * products per (input channel, output channel, tile) instead of the 36 of
 * the direct sum: 2.25x fewer multiplications. The 16 element-wise
 * products summed over the channels are 16 independent matrix products
 * U_xi (M x C) times V_xi (C x tiles), run on fer_sgemm's AVX-512
 * micro-kernel with both operands transformed straight into its packed
 * layouts.
 *
 * Rounding: G, B and A hold only 0, +-1 and +-1/2, so the transforms add
 * at most 4 terms each and halve exactly; an output differs from the
 * direct sum by a few times C * 2^-24 * sum |w||x| (the test measures it).
 * Not the bits of fer_sgemm_conv, but the same bits for every thread
 * count: the tiles are cut into chunks by the shape alone.
 */
#ifndef FER_CONV_WINOGRAD_H
#define FER_CONV_WINOGRAD_H

#include <stddef.h>

struct fer_conv_shape;
struct fer_arena;

/* Whether fer_conv_winograd can compute a convolution of this shape
 * (gemm.h): a 3 x 3 kernel, stride 1, padding 1, no dilation (so the
 * output is the input's size), on the AVX-512 backend
 * (fer_sgemm_backend()). Says nothing about whether it pays. */
int fer_conv_winograd_fits(const struct fer_conv_shape *s);

/* y = w * x for every image of s: w is the layer's M x channels x 3 x 3
 * weights (row-major), output channel o of image i goes to
 * y[i * out_stride + o * P + oh * out_w + ow] (P = out_h * out_w), only
 * written. Scratch (transformed weights, per-thread tile buffers) comes
 * from `scratch` and is released before returning. chunk_tiles: tiles
 * per chunk, 0 for the default (sized for the L2 cache), else rounded up
 * to a multiple of 32 (the kernel's panel width); tests pass small
 * values so that chunks end inside a tile row or an image. It changes
 * which tiles share a product, never the bits: every tile's sums run
 * over the channels in the same order whatever its chunk.
 * Returns 0; 1 when !fer_conv_winograd_fits(s) (nothing written); -1
 * with fer_error() set when out of memory or the sizes are bad. */
int fer_conv_winograd(int M, const float *w, const struct fer_conv_shape *s, const float *x,
                      float *y, ptrdiff_t out_stride, int chunk_tiles,
                      struct fer_arena *scratch);

#endif
