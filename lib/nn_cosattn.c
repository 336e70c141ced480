/* nn_cosattn.c - self-masked cosine-similarity attention (nn_cosattn.h).
 * The three N x N x (D or F) products go through SGEMM; the softmax and
 * its row dot products are summed in double. */
#include "nn_cosattn.h"

#include "nn_cosine.h"

#include <cblas.h>
#include <math.h>

static int check(const struct fer_tensor *z, const struct fer_tensor *f, float temperature,
                 const struct fer_tensor *attn, const struct fer_tensor *v, const char *vname)
{
    if (fer_nn_check4("cosattn", "similarity input", z, -1, -1, 1, 1) < 0)
        return -1;
    const int N = z->shape[0];
    if (fer_nn_check4("cosattn", "values", f, N, -1, 1, 1) < 0 ||
        fer_nn_check4("cosattn", "attention", attn, N, N, 1, 1) < 0 ||
        fer_nn_check4("cosattn", vname, v, N, f->shape[1], 1, 1) < 0)
        return -1;
    if (N < 2)
        return fer_fail("cosattn: needs at least 2 samples, got %d", N);
    if (!(temperature > 0))
        return fer_fail("cosattn: temperature %g is not positive", temperature);
    return 0;
}

int fer_cosattn_forward(const struct fer_tensor *z, const struct fer_tensor *f,
                        float temperature, struct fer_tensor *attn, struct fer_tensor *v,
                        struct fer_arena *scratch)
{
    if (check(z, f, temperature, attn, v, "output") < 0)
        return -1;
    const int N = z->shape[0], F = f->shape[1];
    struct fer_arena_mark mark = fer_arena_mark(scratch);
    struct fer_cosine c;
    if (fer_cosine_normalize(&c, z, scratch) < 0)
        return fer_fail_context("cosattn");
    float *s = attn->data;
    fer_cosine_similarity(&c, 1.0f / temperature, s);
    for (int i = 0; i < N; i++) {
        float *row = s + (ptrdiff_t)i * N;
        double lse = fer_cosine_masked_logsumexp(row, N, i);
        for (int j = 0; j < N; j++)
            row[j] = j == i ? 0.0f : (float)exp(row[j] - lse);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, F, N, 1.0f, s, N, f->data, F,
                0.0f, v->data, F);
    fer_arena_release(scratch, mark);
    return 0;
}

int fer_cosattn_backward(const struct fer_tensor *z, const struct fer_tensor *f,
                         const struct fer_tensor *attn, float temperature,
                         const struct fer_tensor *dv, struct fer_tensor *dz,
                         struct fer_tensor *df, struct fer_arena *scratch)
{
    if (check(z, f, temperature, attn, dv, "output gradient") < 0 ||
        (dz != NULL && fer_nn_check_same("cosattn", "similarity gradient", dz, z) < 0) ||
        (df != NULL && fer_nn_check_same("cosattn", "values gradient", df, f) < 0))
        return -1;
    const int N = z->shape[0], F = f->shape[1];
    const float *a = attn->data;
    /* v = A f: the values' gradient is A^T dv. */
    if (df != NULL)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, F, N, 1.0f, a, N, dv->data, F,
                    0.0f, df->data, F);
    if (dz == NULL)
        return 0;
    struct fer_arena_mark mark = fer_arena_mark(scratch);
    struct fer_cosine c;
    float *g = fer_arena_alloc(scratch, sizeof(float) * (size_t)N * (size_t)N);
    if (g == NULL || fer_cosine_normalize(&c, z, scratch) < 0)
        return fer_fail_context("cosattn");
    /* d/d a_ij = dv_i . f_j; through each row's softmax (the diagonal has
     * a_ii = 0, so it gets no gradient): g_ij = a_ij (d_ij - sum_k a_ik d_ik). */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, F, 1.0f, dv->data, F, f->data,
                F, 0.0f, g, N);
    for (int i = 0; i < N; i++) {
        float *row = g + (ptrdiff_t)i * N;
        const float *ai = a + (ptrdiff_t)i * N;
        double dot = 0;
        for (int j = 0; j < N; j++)
            dot += (double)ai[j] * row[j];
        for (int j = 0; j < N; j++)
            row[j] = (float)(ai[j] * (row[j] - dot));
    }
    fer_cosine_backward(&c, 1.0f / temperature, g, dz->data);
    fer_arena_release(scratch, mark);
    return 0;
}
