/* conv_reference.h - a convolution summed in double precision: the oracle
 * of the convolution kernels' tests (test_conv_direct, test_conv_winograd). */
#ifndef FER_CONV_REFERENCE_H
#define FER_CONV_REFERENCE_H

#include "gemm.h"

#include <math.h>
#include <stddef.h>

/* The input that tap k = (c, ki, kj) reads for output position q of image
 * i, or 0 on the padding. */
static inline double conv_tap_input(const struct fer_conv_shape *s, const float *x, int i,
                                    int k, int q)
{
    const int kk = s->kernel_h * s->kernel_w, c = k / kk;
    const int ih = q / s->out_w * s->stride_h - s->pad_h + k % kk / s->kernel_w * s->dilation_h;
    const int iw = q % s->out_w * s->stride_w - s->pad_w + k % s->kernel_w * s->dilation_w;
    if (ih < 0 || ih >= s->height || iw < 0 || iw >= s->width)
        return 0;
    return x[i * s->image_stride + ((ptrdiff_t)c * s->height + ih) * s->width + iw];
}

/* The worst error of y = w * cols(x) (w: M x K row-major; image i's output
 * channel o at y[i * ys + o * out_h * out_w + q]) relative to the sum of
 * the magnitudes of each output's products; a NaN counts as infinite. */
static inline double conv_worst_error(const struct fer_conv_shape *s, int M, const float *w,
                                      const float *x, const float *y, ptrdiff_t ys)
{
    const int P = s->out_h * s->out_w, K = s->channels * s->kernel_h * s->kernel_w;
    double worst = 0;
    for (int i = 0; i < s->images; i++)
        for (int o = 0; o < M; o++)
            for (int q = 0; q < P; q++) {
                double sum = 0, mag = 1e-30;
                for (int k = 0; k < K; k++) {
                    const double p = w[(ptrdiff_t)o * K + k] * conv_tap_input(s, x, i, k, q);
                    sum += p;
                    mag += fabs(p);
                }
                const double e = fabs(y[i * ys + (ptrdiff_t)o * P + q] - sum) / mag;
                if (!(e <= worst))
                    worst = isnan(e) ? INFINITY : e;
            }
    return worst;
}

#endif
