/* nn_dropout.h - inverted dropout (PyTorch's nn.Dropout semantics).
 *
 * In training mode each element is zeroed with probability p and the others
 * scaled by 1 / (1 - p); in evaluation mode y = x. The mask comes from the
 * layer's own seeded generator (rng.h), so a run is reproducible for a
 * seed; it is not PyTorch's random stream. Backward regenerates the mask
 * of the last forward from a saved generator state instead of storing it.
 * Any shape; y may be x and dx may be dy (in place).
 */
#ifndef FER_NN_DROPOUT_H
#define FER_NN_DROPOUT_H

#include <stdint.h>

#include "nn.h"
#include "rng.h"

struct fer_dropout {
    float p;        /* 0 <= p <= 1 */
    int training;
    struct fer_rng rng;   /* advances with every training forward */
    struct fer_rng saved; /* the state the last forward started from */
};

int fer_dropout_init(struct fer_dropout *d, float p, uint64_t seed);
int fer_dropout_forward(struct fer_dropout *d, const struct fer_tensor *x,
                        struct fer_tensor *y);
/* The gradient of the last forward. */
int fer_dropout_backward(const struct fer_dropout *d, const struct fer_tensor *dy,
                         struct fer_tensor *dx);

#endif
