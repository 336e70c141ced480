/* nn_cosine.c - see nn_cosine.h. Norms and the row sums of the softmax and
 * of the projection are accumulated in double; the N x N x D products go
 * through SGEMM. */
#include "nn_cosine.h"

#include <cblas.h>
#include <math.h>

int fer_cosine_normalize(struct fer_cosine *c, const struct fer_tensor *z,
                         struct fer_arena *scratch)
{
    const int N = z->shape[0], D = z->shape[1];
    c->n = N;
    c->d = D;
    c->u = fer_arena_alloc(scratch, sizeof(float) * (size_t)N * (size_t)D);
    c->norm = fer_arena_alloc(scratch, sizeof(double) * (size_t)N);
    if (c->u == NULL || c->norm == NULL)
        return -1;
    for (int i = 0; i < N; i++) {
        const float *p = z->data + (ptrdiff_t)i * D;
        double n2 = 0;
        for (int k = 0; k < D; k++)
            n2 += (double)p[k] * p[k];
        c->norm[i] = sqrt(n2) > FER_COSINE_EPS ? sqrt(n2) : FER_COSINE_EPS;
        for (int k = 0; k < D; k++)
            c->u[(ptrdiff_t)i * D + k] = (float)(p[k] / c->norm[i]);
    }
    return 0;
}

void fer_cosine_similarity(const struct fer_cosine *c, float scale, float *s)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->n, c->n, c->d, scale, c->u, c->d,
                c->u, c->d, 0.0f, s, c->n);
}

double fer_cosine_masked_logsumexp(const float *row, int n, int self)
{
    double m = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++)
        if (j != self && row[j] > m)
            m = row[j];
    for (int j = 0; j < n; j++)
        if (j != self)
            sum += exp(row[j] - m);
    return m + log(sum);
}

void fer_cosine_backward(const struct fer_cosine *c, float scale, float *g, float *dz)
{
    const int N = c->n, D = c->d;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            float sym = g[(ptrdiff_t)i * N + j] + g[(ptrdiff_t)j * N + i];
            g[(ptrdiff_t)i * N + j] = g[(ptrdiff_t)j * N + i] = sym;
        }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, D, N, scale, g, N, c->u, D, 0.0f,
                dz, D);
    for (int i = 0; i < N; i++) {
        float *gi = dz + (ptrdiff_t)i * D;
        const float *ui = c->u + (ptrdiff_t)i * D;
        double dot = 0;
        if (c->norm[i] > FER_COSINE_EPS)
            for (int k = 0; k < D; k++)
                dot += (double)ui[k] * gi[k];
        for (int k = 0; k < D; k++)
            gi[k] = (float)((gi[k] - ui[k] * dot) / c->norm[i]);
    }
}
