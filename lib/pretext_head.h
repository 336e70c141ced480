/* pretext_head.h - the heads of the pretext tasks, on backbone features.
 *
 * Each head maps the features of a batch (model.h, classes = 0) to logits
 * for fer_cross_entropy_loss, with forward and backward written out
 * (nn.h conventions: dfeat is OVERWRITTEN, parameter gradients ACCUMULATE).
 * feat is (B * n) x D, example-major: rows b*n .. b*n+n-1 are the n frames
 * of example b in the order shown to the model (n = 1 for rotation).
 *
 *  FER_HEAD_LINEAR      rotation: Linear(D, classes) on each row.
 *                        Tensors head.fc.weight [classes, D], head.fc.bias.
 *  FER_HEAD_CONCAT      middle frame, Yoon & Kim 2022: the n features
 *                        concatenated in order, Linear(n D, n).
 *                        Tensors head.fc.weight [n, n D], head.fc.bias [n].
 *                        Each logit is a sum of one-frame terms, so in steady
 *                        video (where no single frame shows it is the middle)
 *                        it stays at chance (measured, issue 6).
 *  FER_HEAD_RELATIONAL  middle frame by comparison: for every unordered pair
 *                        of positions {p, q},
 *                          s_pq = w2 . relu(W1 |f_p - f_q| + b1)
 *                        and logit_p = sum over q != p of s_pq.
 *                        Every logit depends only on frame differences, and
 *                        the head is equivariant to reordering the frames:
 *                        it cannot learn a position prior, only which frame
 *                        is "closest to all others" in a learned metric
 *                        (the pixel-distance rule is the case W1 = I,
 *                        w2 = -1). hidden = 0 drops the hidden layer:
 *                        s_pq = w . |f_p - f_q|. (No bias on the score: it
 *                        would shift every logit alike, which the softmax
 *                        ignores.)
 *                        Tensors head.pair.weight [H, D], head.pair.bias
 *                        [H], head.score.weight [1, H]
 *                        (hidden 0: only head.score.weight [1, D]).
 *                        fer_pretext_head_init_relational can widen the
 *                        pair's input to 2D: |f_p - f_q| followed by
 *                        (f_p - f_q)^2 (FER_PAIR_ABS_SQUARE) or by
 *                        f_p * f_q elementwise (FER_PAIR_ABS_PRODUCT; both
 *                        symmetric in p, q, so the head stays equivariant);
 *                        head.pair.weight is then [H, 2D] (hidden 0:
 *                        head.score.weight [1, 2D]).
 *                        FER_PAIR_RELATIVE keeps the width D but divides
 *                        each example's |f_p - f_q| by that example's mean
 *                        over all its pairs and features (plus 1e-4), so the
 *                        head sees which frames are relatively closer, not
 *                        how far apart one person's frames are (the pixel
 *                        rule is scale-free in the same way); the gradient
 *                        goes through the mean too.
 *                        fer_pretext_head_set_dropout adds inverted dropout
 *                        (nn_dropout.h) on what the first layer reads of
 *                        each pair, in training mode only.
 *  FER_HEAD_PROJECTION  contrastive (SimCLR's projection head): each row
 *                        z = W2 relu(W1 f + b1) + b2, `classes` outputs
 *                        (the embedding width), n is 1. Tensors
 *                        head.fc1.weight [H, D], head.fc1.bias [H],
 *                        head.fc2.weight [classes, H], head.fc2.bias.
 */
#ifndef FER_PRETEXT_HEAD_H
#define FER_PRETEXT_HEAD_H

#include "arena.h"
#include "nn_dropout.h"
#include "nn_linear.h"
#include "optim.h"
#include "rng.h"
#include "tensor.h"

#include <stdint.h>

enum fer_head_kind { FER_HEAD_LINEAR, FER_HEAD_CONCAT, FER_HEAD_RELATIONAL, FER_HEAD_PROJECTION };

/* What the relational head sees of a pair of frames (see above). */
enum fer_pair_features {
    FER_PAIR_ABS,
    FER_PAIR_ABS_SQUARE,
    FER_PAIR_ABS_PRODUCT,
    FER_PAIR_RELATIVE
};

struct fer_pretext_head {
    enum fer_head_kind kind;
    int features, n, classes, hidden;
    enum fer_pair_features pairs; /* relational only; FER_PAIR_ABS otherwise */
    struct fer_linear pair;  /* relational with hidden > 0; projection fc1 */
    struct fer_linear score; /* linear/concat: the fc; relational: the score */
    struct fer_param params[4];
    char names[4][32];
    int n_params;
    /* What the last forward kept for backward (arena memory). */
    struct fer_tensor saved_pairs, saved_hidden;
    struct fer_tensor saved_scale; /* FER_PAIR_RELATIVE: each example's divisor */
    struct fer_dropout drop;       /* relational: on the pair input; p 0 = off */
    struct fer_tensor saved_dropped; /* the pair input after dropout */
    int dropped;                     /* the last forward used saved_dropped */
};

/* A head for features of width D. LINEAR and PROJECTION (hidden >= 1):
 * classes outputs per row (n is 1). CONCAT and RELATIONAL: n frames (2..15), n logits per example.
 * Parameters are initialised like PyTorch's nn.Linear (uniform
 * +-1/sqrt(fan_in)) from the seed. Returns 0 or -1 with fer_error set. */
int fer_pretext_head_init(struct fer_pretext_head *h, enum fer_head_kind kind, int features,
                          int n, int classes, int hidden, uint64_t seed);
/* A relational head (as fer_pretext_head_init with FER_HEAD_RELATIONAL and
 * classes = n) whose pairs are described by `pairs`. Same return. */
int fer_pretext_head_init_relational(struct fer_pretext_head *h, int features, int n, int hidden,
                                     enum fer_pair_features pairs, uint64_t seed);
void fer_pretext_head_free(struct fer_pretext_head *h);
/* Relational head: dropout with probability p (0 <= p < 1; 0, the
 * default, is off) on the pair input in training mode. Returns 0, or -1
 * with fer_error set for another head or a bad p. */
int fer_pretext_head_set_dropout(struct fer_pretext_head *h, float p);
/* Training mode (dropout on) or evaluation (off, the initial mode); in
 * training mode the next masks are drawn from mask_seed, so a caller that
 * derives it from its step makes a resumed run draw the same masks. */
void fer_pretext_head_set_training(struct fer_pretext_head *h, int training, uint64_t mask_seed);
void fer_pretext_head_zero_grad(struct fer_pretext_head *h);

/* Examples in a feature batch: rows / n. */
int fer_pretext_head_outputs(const struct fer_pretext_head *h);

/* feat: (B n) x D. logits: B x outputs (allocated from the arena, valid
 * until it is reset). Keeps what backward needs in the arena. */
int fer_pretext_head_forward(struct fer_pretext_head *h, const struct fer_tensor *feat,
                             struct fer_tensor *logits, struct fer_arena *a);
/* After forward on the same feat, with the arena not reset since:
 * dfeat (same shape as feat, NULL to skip) is overwritten. */
int fer_pretext_head_backward(struct fer_pretext_head *h, const struct fer_tensor *feat,
                              const struct fer_tensor *dlogits, struct fer_tensor *dfeat,
                              struct fer_arena *a);

/* The trainable parameters, named head.* as in the weight file. */
int fer_pretext_head_params(struct fer_pretext_head *h, const struct fer_param **params);

#endif
