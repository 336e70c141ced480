#include "nn_loss.h"

#include "nn_cosine.h"

#include <math.h>
#include <string.h>

int fer_cross_entropy_loss(const struct fer_tensor *logits, const int *target,
                           const float *class_weight, float smoothing, double *loss,
                           struct fer_tensor *dlogits)
{
    if (fer_nn_check4("cross_entropy", "logits", logits, -1, -1, 1, 1) < 0)
        return -1;
    if (dlogits && fer_nn_check_same("cross_entropy", "gradient", dlogits, logits) < 0)
        return -1;
    if (!(smoothing >= 0 && smoothing <= 1))
        return fer_fail("cross_entropy: label smoothing %g outside [0, 1]", smoothing);
    const int N = logits->shape[0], K = logits->shape[1];
    double W = 0, wsum = 0;
    for (int k = 0; k < K; k++)
        wsum += class_weight ? class_weight[k] : 1.0;
    for (int i = 0; i < N; i++) {
        if (target[i] < 0 || target[i] >= K)
            return fer_fail("cross_entropy: target %d outside 0..%d", target[i], K - 1);
        W += class_weight ? class_weight[target[i]] : 1.0;
    }
    if (!(W > 0))
        return fer_fail("cross_entropy: total target weight is %g", W);
    const double e = smoothing;
    double total = 0;
    for (int i = 0; i < N; i++) {
        const float *z = logits->data + (ptrdiff_t)i * K;
        double m = z[0], s = 0;
        for (int k = 1; k < K; k++)
            if (z[k] > m)
                m = z[k];
        for (int k = 0; k < K; k++)
            s += exp(z[k] - m);
        const double lse = m + log(s);
        const int t = target[i];
        const double wt = class_weight ? class_weight[t] : 1.0;
        double smooth = 0;
        for (int k = 0; k < K; k++)
            smooth += (class_weight ? class_weight[k] : 1.0) * (lse - z[k]);
        total += (1 - e) * wt * (lse - z[t]) + e / K * smooth;
        if (dlogits == NULL)
            continue;
        /* d/dz_k of the row's two terms: (1-e) w_t (p_k - [k=t]) and
         * e/K (p_k sum_j w_j - w_k). */
        float *g = dlogits->data + (ptrdiff_t)i * K;
        for (int k = 0; k < K; k++) {
            double p = exp(z[k] - lse), wk = class_weight ? class_weight[k] : 1.0;
            double d = (1 - e) * wt * (p - (k == t)) + e / K * (p * wsum - wk);
            g[k] = (float)(d / W);
        }
    }
    *loss = total / W;
    return 0;
}

int fer_ntxent_loss(const struct fer_tensor *z, const int *positive, float temperature,
                    double *loss, struct fer_tensor *dz, struct fer_arena *scratch)
{
    if (fer_nn_check4("ntxent", "features", z, -1, -1, 1, 1) < 0)
        return -1;
    if (dz && fer_nn_check_same("ntxent", "gradient", dz, z) < 0)
        return -1;
    const int N = z->shape[0];
    if (N < 2)
        return fer_fail("ntxent: needs at least 2 samples, got %d", N);
    if (!(temperature > 0))
        return fer_fail("ntxent: temperature %g is not positive", temperature);
    for (int i = 0; i < N; i++)
        if (positive[i] < 0 || positive[i] >= N || positive[i] == i)
            return fer_fail("ntxent: sample %d has positive %d", i, positive[i]);
    struct fer_arena_mark mark = fer_arena_mark(scratch);
    struct fer_cosine c;
    float *s = fer_arena_alloc(scratch, sizeof(float) * N * N);
    if (s == NULL || fer_cosine_normalize(&c, z, scratch) < 0)
        return fer_fail_context("ntxent");
    /* s = u u^T / temperature; then each row becomes its masked softmax
     * minus the one-hot positive, over N: that is d loss / d s. */
    fer_cosine_similarity(&c, 1.0f / temperature, s);
    double total = 0;
    for (int i = 0; i < N; i++) {
        float *row = s + (ptrdiff_t)i * N;
        double lse = fer_cosine_masked_logsumexp(row, N, i);
        total += lse - row[positive[i]];
        for (int j = 0; j < N; j++)
            row[j] = j == i ? 0.0f
                            : (float)((exp(row[j] - lse) - (j == positive[i])) / N);
    }
    *loss = total / N;
    if (dz)
        fer_cosine_backward(&c, 1.0f / temperature, s, dz->data);
    fer_arena_release(scratch, mark);
    return 0;
}
