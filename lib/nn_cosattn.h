/* nn_cosattn.h - self-masked cosine-similarity attention across a batch:
 * every sample attends to the OTHER samples of its batch (the inter-sample
 * attention of RMFER, nn_ial.h). No parameters.
 *
 * z: N x D (what similarity is measured on), f: N x F (what is averaged):
 *   u_i  = z_i / max(||z_i||, 1e-12)             (F.normalize's convention)
 *   s_ij = u_i . u_j / temperature               (nn_cosine.h)
 *   a_ij = exp s_ij / sum_{k != i} exp s_ik  for j != i,   a_ii = 0
 *   v_i  = sum_j a_ij f_j
 * The diagonal is excluded from the softmax, not merely made small: RMFER's
 * code writes -1e7 into it before the softmax, which makes a_ii exactly 0
 * in float32 and passes no gradient to s_ii; so does this. (A diagonal set
 * to a small value such as 1e-6 BEFORE the softmax would not mask at all:
 * exp(1e-6) ~ 1 is the weight of an orthogonal neighbour.)
 * Needs N >= 2 and temperature > 0. Conventions (dz, df overwritten): nn.h.
 */
#ifndef FER_NN_COSATTN_H
#define FER_NN_COSATTN_H

#include "nn.h"

/* attn: N x N (the a_ij, rows sum to 1, zero diagonal), v: N x F, both
 * caller-allocated and overwritten. Scratch (N x D) from the arena. Fails
 * (fer_fail, -1) on a shape mismatch, N < 2 or temperature <= 0. */
int fer_cosattn_forward(const struct fer_tensor *z, const struct fer_tensor *f,
                        float temperature, struct fer_tensor *attn, struct fer_tensor *v,
                        struct fer_arena *scratch);

/* Given z, f and the attn that forward computed from them, and dv (N x F):
 * dz (N x D) and df (N x F) overwritten; either may be NULL to skip it.
 * df holds only the path through v (f is also the value of the average). */
int fer_cosattn_backward(const struct fer_tensor *z, const struct fer_tensor *f,
                         const struct fer_tensor *attn, float temperature,
                         const struct fer_tensor *dv, struct fer_tensor *dz,
                         struct fer_tensor *df, struct fer_arena *scratch);

#endif
