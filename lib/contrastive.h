/* contrastive.h - the contrastive pretext loss: NT-Xent (SimCLR) with
 * hard negatives and RMFER's similarity filtering (issue 6).
 *
 * A batch holds B examples of R = 2 + K rows each, example-major: row
 * i R is the anchor a_i, i R + 1 its positive p_i (the same track about a
 * second away, or another face nearby), i R + 2 + k its k-th hard-negative
 * slot h_ik (the same track far in time); present[i K + k] says whether
 * the slot holds a crop (a track may have too few far faces; an absent
 * slot's row is ignored whatever it holds).
 *
 * With u = z / max(||z||, 1e-12), c(x, y) = u_x . u_y (cosine) and
 * s = c / temperature:
 *
 * Filtering (RMFER's adaptive contrastive learning, within the batch).
 * The candidates are the B positive pairs (a_i, p_i), ranked by
 * c(a_i, p_i), and the H present hard negatives (a_i, h_ik), ranked by
 * c(a_i, h_ik). The ceil(gamma B) (at least 1) most similar pairs are
 * kept, and, separately, the ceil(gamma H) least similar hard negatives
 * (none when H = 0); ceil is taken with 1e-9 slack so that 0.1 x 30 keeps
 * 3. Ties go to the lower index. The two sets are filtered independently,
 * so a kept hard negative whose anchor's pair was dropped is unused. The
 * in-batch negatives (below) are never filtered. The selection is made on
 * the forward values and is a constant for the gradient (a ranking has
 * none).
 *
 * Loss. Let V be the 2B anchor and positive rows. Each kept pair gives two
 * terms, one per direction as in SimCLR:
 *   anchor:   -s(a_i, p_i) + log( sum_{j in V, j != a_i} exp s(a_i, j)
 *                                + sum_{kept k} exp s(a_i, h_ik) )
 *   positive: -s(p_i, a_i) + log sum_{j in V, j != p_i} exp s(p_i, j)
 * and the loss is their mean. Every anchor and positive of the batch, kept
 * or not, is an in-batch negative; a hard negative is a negative of its own
 * anchor only. With gamma = 1 and K = 0 this is fer_ntxent_loss with
 * partners 2i <-> 2i+1.
 *
 * Why keep the most similar positives and the least similar hard
 * negatives: both kinds of candidate are guesses about expression (a face
 * a second later, or another person reacting to the same moment, usually
 * but not always shows the same expression; the same face half a minute
 * away usually but not always shows another), and the guesses most likely
 * to be wrong are the dissimilar "positives" and the similar "negatives".
 */
#ifndef FER_CONTRASTIVE_H
#define FER_CONTRASTIVE_H

#include "arena.h"
#include "tensor.h"

struct fer_contrastive_spec {
    int examples;                 /* B >= 1 */
    int negatives;                /* K >= 0 hard-negative slots per example */
    const unsigned char *present; /* B K flags (1: a crop); NULL: all present */
    float temperature;            /* > 0 */
    double gamma;                 /* kept fraction, in (0, 1] */
};

/* Rows of one batch: B (2 + K). */
int fer_contrastive_rows(const struct fer_contrastive_spec *spec);

/* Number kept out of m candidates at fraction gamma: ceil(gamma m) (with
 * the slack above), at least 1 and at most m; 0 when m is 0. */
int fer_contrastive_kept_count(double gamma, int m);

/* z: B (2 + K) x P embeddings. Writes the loss to *loss and, when dz is not
 * NULL, OVERWRITES dz (shape of z) with d loss / d z; absent slots' rows get
 * 0. kept_pairs (B flags) and kept_negatives (B K flags), when not NULL,
 * receive the selection. Scratch memory (rows^2 floats) comes from the arena
 * and is released before returning. Returns 0, or -1 with fer_error() set on
 * a shape that does not match the spec, a temperature <= 0 or a gamma
 * outside (0, 1]. */
int fer_contrastive_loss(const struct fer_tensor *z, const struct fer_contrastive_spec *spec,
                         double *loss, struct fer_tensor *dz, unsigned char *kept_pairs,
                         unsigned char *kept_negatives, struct fer_arena *scratch);

#endif
