/* loader.h - batches of model inputs from image files, prepared ahead.
 *
 * The loader turns examples (one or more image paths, a target) into
 * batches: images decoded, resized, augmented and normalized into an
 * N x C x H x W tensor (augment.h). A worker thread prepares batch k+1
 * while the caller trains on batch k, so decoding hides behind compute.
 *
 * Determinism: the augmentation of an example depends only on the seed, the
 * pass's stream number and the example's position in the pass, never on
 * thread timing; same inputs, same seed -> same batches.
 *
 * Memory: one pass's example list plus two batches; with `cache`, also every
 * decoded, resized image (small crops: 64x64 grey is 4 KiB each).
 */
#ifndef FER_LOADER_H
#define FER_LOADER_H

#include "augment.h"
#include "tensor.h"

#include <stddef.h>
#include <stdint.h>

struct fer_loader_spec {
    int channels, height, width; /* the model's input */
    int inputs;                  /* images per example (1, or n frames) */
    int batch;                   /* examples per batch */
    struct fer_augment augment;  /* used by passes started with augment = 1 */
    int shared_augment;          /* 1: every input of an example gets the same
                                    random change (the frames of a window differ
                                    only by what moved); 0: each its own */
    int cache;                   /* keep decoded images in memory */
    int prefetch;                /* 1: worker thread, 0: prepare in the caller */
    uint64_t seed;
};

struct fer_batch {
    int count;            /* examples in this batch (the last may be short) */
    struct fer_tensor x;  /* (count * inputs) x C x H x W, example-major */
    const int *target;    /* count targets */
    const size_t *index;  /* each example's position in the pass */
};

struct fer_loader;

struct fer_loader *fer_loader_new(const struct fer_loader_spec *spec);
void fer_loader_free(struct fer_loader *l);

/* Start a pass over n examples, in the order given: paths[i * inputs + j]
 * is input j of example i (strings are copied), targets[i] its target,
 * quarters[i] (NULL: all 0) a quarter-turn count for the rotation task.
 * augment: 1 for training, 0 for evaluation. stream: e.g. the epoch.
 * Returns 0 or -1 with fer_error() set. */
int fer_loader_start(struct fer_loader *l, size_t n, const char *const *paths,
                     const int *targets, const int *quarters, int augment, uint64_t stream);

/* The next batch of the pass: 1 with *b valid until the next call, 0 when
 * the pass is done, -1 with fer_error() set ("crops/a.png: No such file or
 * directory"). */
int fer_loader_next(struct fer_loader *l, struct fer_batch *b);

#endif
