/* pretext.h - self-supervised examples from face tracks.
 *
 * Shared by fer-shuffle-seq (which writes them to a manifest) and
 * fer-pretrain (which draws fresh ones every epoch).
 *
 * Middle-frame prediction (Yoon & Kim 2022): a window X = (x1..xn) of n
 * consecutive faces of one track, n odd; g(X, k) moves the middle frame
 * x_(n+1)/2 to position k and puts the other n-1 frames in random order in
 * the remaining positions; the target is k.
 */
#ifndef FER_PRETEXT_H
#define FER_PRETEXT_H

#include "face_clips.h"
#include "image.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

enum { FER_PRETEXT_MAX_N = 15 };

/* Start indices (into the track's arrays) of the windows of n faces taken
 * every `stride` frame steps, the starts `hop` faces apart, that lie within
 * one gapless run of the track (consecutive faces differ by the clip's frame
 * step). Face i of window w is at index firsts[w] + i * stride. Returns the
 * number of windows (at most max; all of them when firsts is NULL). */
size_t fer_pretext_windows(const struct fer_face_clip *clip, const struct fer_face_track *track,
                           int n, int stride, int hop, size_t *firsts, size_t max);

/* g(X, k): fill order[0..n-1] with the temporal index (0..n-1) shown at each
 * position; order[k] = (n-1)/2 and the others are a uniformly random
 * permutation of the remaining indices. k is 0-based. */
void fer_pretext_arrange(struct fer_rng *rng, int n, int k, int *order);

/* Every arrangement, for scoring held-out windows without sampling noise:
 * arrangement a (0 <= a < n * (n-1)!) has the middle at k = a / (n-1)! and the
 * others in the (a mod (n-1)!)-th permutation in lexicographic order. */
uint64_t fer_pretext_arrangements(int n);
void fer_pretext_arrangement(int n, uint64_t a, int *order);

/* Held-out assignment by a hash of (seed, key): the same key always lands
 * on the same side. Returns 1 for held out, with probability `fraction`. */
int fer_pretext_held_out(uint64_t seed, const char *key, double fraction);

/* Mean absolute difference of two images of the same size, in grey levels
 * (0..255), computed on grey (RGB is converted as fer_image_to_grey does).
 * Returns -1 with fer_error() set when the sizes differ. */
double fer_pretext_motion(const struct fer_image *a, const struct fer_image *b);

#endif
