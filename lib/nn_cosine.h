/* nn_cosine.h - the cosine similarity of every sample of a batch with every
 * other, the common core of the layers that compare samples: NT-Xent
 * (nn_loss.h), the contrastive loss with hard negatives (contrastive.h) and
 * inter-sample attention (nn_cosattn.h).
 *
 * With u_i = z_i / max(||z_i||, FER_COSINE_EPS) (PyTorch's F.normalize),
 * the similarity matrix is s = scale * u u^T (scale = 1 / temperature).
 * Each user turns s into its own loss or attention and hands back
 * g = d loss / d s; fer_cosine_backward carries g back to z.
 */
#ifndef FER_NN_COSINE_H
#define FER_NN_COSINE_H

#include "nn.h"

#define FER_COSINE_EPS 1e-12

/* The unit rows of an N x D batch, kept for the similarity and its
 * backward; u and norm live in the arena given to fer_cosine_normalize. */
struct fer_cosine {
    int n, d;
    float *u;     /* n x d unit rows */
    double *norm; /* n row norms, clamped below at FER_COSINE_EPS */
};

/* Fill c from z (N x D, contiguous). Returns 0, or -1 with fer_error() set
 * when the arena is out of memory. */
int fer_cosine_normalize(struct fer_cosine *c, const struct fer_tensor *z,
                         struct fer_arena *scratch);

/* s (N x N, caller's) = scale * u u^T. */
void fer_cosine_similarity(const struct fer_cosine *c, float scale, float *s);

/* The log of sum_{j != self} exp(row[j]) over a row of n, computed stably
 * (in double): the normalizer of a softmax that leaves a sample out of its
 * own comparison. */
double fer_cosine_masked_logsumexp(const float *row, int n, int self);

/* Given g = d loss / d s (N x N; symmetrized in place: s uses u_i as row
 * and column), dz (N x D) = d loss / d z, overwritten: scale (G + G^T) u,
 * then through the normalization, (du - u (u . du)) / norm (no projection
 * where the norm was clamped: there the divisor is a constant). */
void fer_cosine_backward(const struct fer_cosine *c, float scale, float *g, float *dz);

#endif
