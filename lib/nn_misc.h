/* nn_misc.h - residual add, channel concatenation, L2 normalisation.
 * Conventions (input gradients overwritten): see nn.h.
 */
#ifndef FER_NN_MISC_H
#define FER_NN_MISC_H

#include "nn.h"

/* y = a + b, all the same shape; y may be a or b. The gradient of both
 * inputs is dy: backward copies it (da, db may be dy itself, or NULL). */
int fer_add_forward(const struct fer_tensor *a, const struct fer_tensor *b,
                    struct fer_tensor *y);
int fer_add_backward(const struct fer_tensor *dy, struct fer_tensor *da,
                     struct fer_tensor *db);

/* Concatenate n tensors N x Ci x H x W (or N x Ci) along the channel
 * dimension into y: N x sum(Ci) x H x W, as torch.cat(xs, 1). Backward
 * splits dy into dxs[i] (none may be NULL: their shapes
 * say where each part starts). */
int fer_concat_forward(const struct fer_tensor *const *xs, int n, struct fer_tensor *y);
int fer_concat_backward(const struct fer_tensor *dy, struct fer_tensor *const *dxs,
                        int n);

/* Each row of x (N x D, or N x C x H x W as N rows) divided by its L2 norm:
 * y = x / max(||x||, eps), F.normalize(x, dim=1) with eps = 1e-12 for N x D.
 * Backward needs x and y. */
#define FER_L2NORM_EPS 1e-12f
int fer_l2norm_forward(const struct fer_tensor *x, struct fer_tensor *y);
int fer_l2norm_backward(const struct fer_tensor *x, const struct fer_tensor *y,
                        const struct fer_tensor *dy, struct fer_tensor *dx);

#endif
