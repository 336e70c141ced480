/* nn_fan.h - the Frame Attention Network aggregation (Meng, Peng, Wang and
 * Qiao, "Frame Attention Networks for Facial Expression Recognition in
 * Videos", ICIP 2019): T frame features of a clip become one clip feature.
 *
 * For the features f_1..f_T (F each) of one example:
 *   alpha_i = sigmoid(alpha.weight . f_i + alpha.bias)     self-attention
 *   f'      = sum_i alpha_i f_i / sum_i alpha_i            clip feature
 *   beta_i  = sigmoid(beta.weight . [f_i; f'] + beta.bias) relation-attention
 *   out     = sum_i alpha_i beta_i [f_i; f'] / sum_i alpha_i beta_i   (2F)
 * A linear classifier on out follows (classifier.h). The same computation
 * runs at training and evaluation time. Parameters are named as modules
 * "alpha" (Linear(F, 1)) and "beta" (Linear(2F, 1)). Conventions (dx
 * overwritten, parameter gradients accumulated): nn.h.
 */
#ifndef FER_NN_FAN_H
#define FER_NN_FAN_H

#include "nn.h"
#include "nn_linear.h"

struct fer_fan {
    int features;             /* F */
    struct fer_linear alpha;  /* F -> 1 */
    struct fer_linear beta;   /* 2F -> 1 */
};

/* Zeroed parameters (set them, e.g. as nn.Linear initialises). */
int fer_fan_init(struct fer_fan *fan, int features);
void fer_fan_free(struct fer_fan *fan);
void fer_fan_zero_grad(struct fer_fan *fan);

/* f: (N * T) x F, example-major (frame t of example n is row n * T + t);
 * out: N x 2F. */
int fer_fan_forward(const struct fer_fan *fan, const struct fer_tensor *f, int frames,
                    struct fer_tensor *out);
/* dout: N x 2F; df (NULL to skip): (N * T) x F, overwritten. The attention
 * weights are recomputed from f (T dot products per example), so forward
 * keeps nothing. */
int fer_fan_backward(struct fer_fan *fan, const struct fer_tensor *f, int frames,
                     const struct fer_tensor *dout, struct fer_tensor *df);

#endif
