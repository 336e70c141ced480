/* nn_loss.h - losses: value and gradient with respect to their input.
 *
 * Each returns the scalar loss in *loss and OVERWRITES the gradient tensor
 * (pass NULL to skip it) with d loss / d input, i.e. for an upstream
 * gradient of 1; scale it yourself to weight several losses.
 * Sums are accumulated in double.
 */
#ifndef FER_NN_LOSS_H
#define FER_NN_LOSS_H

#include "nn.h"

/* Softmax cross-entropy with PyTorch 1.13's definition (F.cross_entropy with
 * weight and label_smoothing, reduction "mean"). logits: N x K,
 * target[i] in [0, K), class_weight: K positive values or NULL (all 1),
 * smoothing e in [0, 1]. With logp = log_softmax(logits), w = weights,
 * W = sum_i w[target[i]]:
 *   loss = (1 - e) * sum_i w[t_i] (-logp[i, t_i]) / W
 *        + e / K   * sum_i sum_k w[k] (-logp[i, k]) / W
 * (PyTorch divides the smoothing term by the same W, not by N.)
 * Fails on a target outside [0, K) or when W is 0. */
int fer_cross_entropy_loss(const struct fer_tensor *logits, const int *target,
                           const float *class_weight, float smoothing, double *loss,
                           struct fer_tensor *dlogits);

/* Self-masked cosine-similarity softmax (NT-Xent of SimCLR; the similarity
 * softmax of inter-sample attention). z: N x D features, positive[i] in
 * [0, N), != i, temperature > 0. With u_i = z_i / max(||z_i||, 1e-12),
 * s_ij = u_i . u_j / temperature (nn_cosine.h) and the diagonal excluded:
 *   loss = (1/N) sum_i ( -s_i,pos(i) + log sum_{j != i} exp s_ij ).
 * Needs N >= 2. Scratch memory (N x N) from the arena. */
int fer_ntxent_loss(const struct fer_tensor *z, const int *positive, float temperature,
                    double *loss, struct fer_tensor *dz, struct fer_arena *scratch);

#endif
