/* nn_ial.h - inter-sample attention learning (IAL) of RMFER (Cho et al.,
 * "RMFER: Semi-supervised Contrastive Learning for Facial Expression
 * Recognition with Reaction Mashup Video", WACV 2024): an auxiliary branch
 * that classifies each sample from the features of the OTHER samples of
 * its batch, weighted by how similar they look. Training only: the
 * classifier's main head is what a model file keeps (classifier.h).
 *
 * For the backbone features f (N x F) of a batch:
 *   z = proj(f) = proj.2(relu(proj.0(f)))     F -> F -> F, RMFER's
 *                                             projection head
 *   a = self-masked softmax of cos(z_i, z_j) / temperature   (nn_cosattn.h)
 *   v_i = sum_{j != i} a_ij f_j               attended features
 *   logits = fc(v)                            N x classes
 * and the training loss adds lambda1 * cross-entropy(logits, labels).
 * Tensors are named as the PyTorch module "ial" with children
 * proj = Sequential(Linear, ReLU, Linear) and fc = Linear:
 * ial.proj.0.{weight,bias}, ial.proj.2.{weight,bias}, ial.fc.{weight,bias}.
 * Conventions (df overwritten, parameter gradients accumulated): nn.h.
 */
#ifndef FER_NN_IAL_H
#define FER_NN_IAL_H

#include "nn.h"
#include "nn_linear.h"

struct fer_ial {
    int features, classes;
    float temperature;
    struct fer_linear proj0, proj2; /* F -> F, F -> F */
    struct fer_linear fc;           /* F -> classes */
};

/* What forward keeps for backward: arena tensors, valid until the arena
 * is reset. h = relu(proj.0(f)), z = proj(f), attn (N x N), v (N x F). */
struct fer_ial_acts {
    struct fer_tensor h, z, attn, v;
};

/* Zeroed parameters (set them, e.g. as nn.Linear initialises); fails on
 * features or classes < 1 or temperature <= 0. */
int fer_ial_init(struct fer_ial *ial, int features, int classes, float temperature);
void fer_ial_free(struct fer_ial *ial);
void fer_ial_zero_grad(struct fer_ial *ial);

/* f: N x F (N >= 2); logits: N x classes, caller-allocated. acts are
 * allocated from the arena. */
int fer_ial_forward(const struct fer_ial *ial, const struct fer_tensor *f,
                    struct fer_ial_acts *acts, struct fer_tensor *logits, struct fer_arena *a);
/* Given the same f and the acts of its forward, dlogits (N x classes):
 * parameter gradients accumulated, df (N x F, NULL to skip) overwritten
 * with both paths (f as the attention's values and through proj). */
int fer_ial_backward(struct fer_ial *ial, const struct fer_tensor *f,
                     const struct fer_ial_acts *acts, const struct fer_tensor *dlogits,
                     struct fer_tensor *df, struct fer_arena *a);

#endif
