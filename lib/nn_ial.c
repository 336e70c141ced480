/* nn_ial.c - the IAL branch (nn_ial.h) from existing layers: two linear
 * layers and a ReLU for the projection, the cosine attention, a linear
 * classifier. */
#include "nn_ial.h"

#include "nn_activation.h"
#include "nn_cosattn.h"

#include <string.h>

int fer_ial_init(struct fer_ial *ial, int features, int classes, float temperature)
{
    memset(ial, 0, sizeof *ial);
    if (!(temperature > 0))
        return fer_fail("ial: temperature %g is not positive", temperature);
    ial->features = features;
    ial->classes = classes;
    ial->temperature = temperature;
    if (fer_linear_init(&ial->proj0, features, features, 1) < 0 ||
        fer_linear_init(&ial->proj2, features, features, 1) < 0 ||
        fer_linear_init(&ial->fc, features, classes, 1) < 0) {
        fer_ial_free(ial);
        return -1;
    }
    return 0;
}

void fer_ial_free(struct fer_ial *ial)
{
    fer_linear_free(&ial->proj0);
    fer_linear_free(&ial->proj2);
    fer_linear_free(&ial->fc);
}

void fer_ial_zero_grad(struct fer_ial *ial)
{
    fer_linear_zero_grad(&ial->proj0);
    fer_linear_zero_grad(&ial->proj2);
    fer_linear_zero_grad(&ial->fc);
}

int fer_ial_forward(const struct fer_ial *ial, const struct fer_tensor *f,
                    struct fer_ial_acts *acts, struct fer_tensor *logits, struct fer_arena *a)
{
    if (fer_nn_check4("ial", "features", f, -1, ial->features, 1, 1) < 0)
        return -1;
    const int N = f->shape[0], F = ial->features;
    if (fer_tensor_arena(&acts->h, a, 2, (int[]){N, F}) < 0 ||
        fer_tensor_arena(&acts->z, a, 2, (int[]){N, F}) < 0 ||
        fer_tensor_arena(&acts->attn, a, 2, (int[]){N, N}) < 0 ||
        fer_tensor_arena(&acts->v, a, 2, (int[]){N, F}) < 0)
        return -1;
    if (fer_linear_forward(&ial->proj0, f, &acts->h) < 0 ||
        fer_relu_forward(&acts->h, &acts->h) < 0 ||
        fer_linear_forward(&ial->proj2, &acts->h, &acts->z) < 0 ||
        fer_cosattn_forward(&acts->z, f, ial->temperature, &acts->attn, &acts->v, a) < 0)
        return -1;
    return fer_linear_forward(&ial->fc, &acts->v, logits);
}

int fer_ial_backward(struct fer_ial *ial, const struct fer_tensor *f,
                     const struct fer_ial_acts *acts, const struct fer_tensor *dlogits,
                     struct fer_tensor *df, struct fer_arena *a)
{
    if (fer_nn_check4("ial", "features", f, -1, ial->features, 1, 1) < 0 ||
        (df != NULL && fer_nn_check_same("ial", "input gradient", df, f) < 0))
        return -1;
    const int N = f->shape[0], F = ial->features;
    struct fer_arena_mark mark = fer_arena_mark(a);
    struct fer_tensor dv, dz, dh, dfp;
    if (fer_tensor_arena(&dv, a, 2, (int[]){N, F}) < 0 ||
        fer_tensor_arena(&dz, a, 2, (int[]){N, F}) < 0 ||
        fer_tensor_arena(&dh, a, 2, (int[]){N, F}) < 0 ||
        (df != NULL && fer_tensor_arena(&dfp, a, 2, (int[]){N, F}) < 0))
        return -1;
    if (fer_linear_backward(&ial->fc, &acts->v, dlogits, &dv) < 0 ||
        fer_cosattn_backward(&acts->z, f, &acts->attn, ial->temperature, &dv, &dz, df, a) < 0 ||
        fer_linear_backward(&ial->proj2, &acts->h, &dz, &dh) < 0 ||
        fer_relu_backward(&acts->h, &dh, &dh) < 0 ||
        fer_linear_backward(&ial->proj0, f, &dh, df != NULL ? &dfp : NULL) < 0)
        return -1;
    if (df != NULL) {
        size_t n = (size_t)N * (size_t)F;
        for (size_t i = 0; i < n; i++)
            df->data[i] += dfp.data[i];
    }
    fer_arena_release(a, mark);
    return 0;
}
