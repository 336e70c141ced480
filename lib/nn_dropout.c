#include "nn_dropout.h"

#include <string.h>

int fer_dropout_init(struct fer_dropout *d, float p, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    if (!(p >= 0 && p <= 1))
        return fer_fail("dropout: probability %g outside [0, 1]", p);
    d->p = p;
    d->training = 1;
    fer_rng_seed(&d->rng, seed);
    d->saved = d->rng;
    return 0;
}

/* y = mask * x with the mask drawn from *r. */
static void apply(float p, struct fer_rng *r, const float *x, float *y, size_t n)
{
    if (p >= 1) {
        memset(y, 0, n * sizeof *y);
        return;
    }
    const float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        y[i] = fer_rng_uniform(r) < p ? 0.0f : x[i] * scale;
}

int fer_dropout_forward(struct fer_dropout *d, const struct fer_tensor *x,
                        struct fer_tensor *y)
{
    if (fer_nn_check_same("dropout", "input", x, x) < 0 ||
        fer_nn_check_same("dropout", "output", y, x) < 0)
        return -1;
    size_t n = fer_tensor_numel(x);
    if (!d->training || d->p == 0) {
        if (y->data != x->data)
            memcpy(y->data, x->data, n * sizeof(float));
        return 0;
    }
    d->saved = d->rng;
    apply(d->p, &d->rng, x->data, y->data, n);
    return 0;
}

int fer_dropout_backward(const struct fer_dropout *d, const struct fer_tensor *dy,
                         struct fer_tensor *dx)
{
    if (fer_nn_check_same("dropout", "output gradient", dy, dy) < 0 ||
        fer_nn_check_same("dropout", "input gradient", dx, dy) < 0)
        return -1;
    size_t n = fer_tensor_numel(dy);
    if (!d->training || d->p == 0) {
        if (dx->data != dy->data)
            memcpy(dx->data, dy->data, n * sizeof(float));
        return 0;
    }
    struct fer_rng r = d->saved;
    apply(d->p, &r, dy->data, dx->data, n);
    return 0;
}
