/* contrastive.c - see contrastive.h. */
#include "contrastive.h"

#include "error.h"
#include "nn_cosine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fer_contrastive_rows(const struct fer_contrastive_spec *spec)
{
    return spec->examples * (2 + spec->negatives);
}

int fer_contrastive_kept_count(double gamma, int m)
{
    if (m <= 0)
        return 0;
    /* 0.1 * 30 is 3.0000000000000004 in double, which must keep 3. */
    double k = ceil(gamma * m - 1e-9);
    return k < 1 ? 1 : k > m ? m : (int)k;
}

struct ranked {
    float value;
    int index;
};

static int by_value(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* Keep the `keep` smallest values of r[0..m) (sign-flip them first to keep
 * the largest): flags[r.index] = 1. */
static void select_smallest(struct ranked *r, int m, int keep, unsigned char *flags)
{
    qsort(r, (size_t)m, sizeof *r, by_value);
    for (int i = 0; i < keep; i++)
        flags[r[i].index] = 1;
}

/* One NT-Xent term of row x, towards column `pos`, over the columns
 * cols[0..n): adds the term to *total and d term / d s_x to g (one row of
 * the N x N gradient), scaled by 1 / terms. */
static void add_term(const float *s, const int *cols, int n, int pos, double scale, float *g,
                     double *total)
{
    double m = -INFINITY, sum = 0;
    for (int c = 0; c < n; c++)
        if (s[cols[c]] > m)
            m = s[cols[c]];
    for (int c = 0; c < n; c++)
        sum += exp(s[cols[c]] - m);
    double lse = m + log(sum);
    *total += lse - s[pos];
    for (int c = 0; c < n; c++)
        g[cols[c]] += (float)(exp(s[cols[c]] - lse) * scale);
    g[pos] -= (float)scale;
}

static int check(const struct fer_tensor *z, const struct fer_contrastive_spec *sp,
                 const struct fer_tensor *dz)
{
    if (sp->examples < 1 || sp->negatives < 0)
        return fer_fail("contrastive: %d examples with %d negatives", sp->examples,
                        sp->negatives);
    if (!(sp->temperature > 0))
        return fer_fail("contrastive: temperature %g is not positive", sp->temperature);
    if (!(sp->gamma > 0 && sp->gamma <= 1))
        return fer_fail("contrastive: gamma %g outside (0, 1]", sp->gamma);
    if (z->ndim != 2 || !fer_tensor_is_contiguous(z) || z->shape[1] < 1 ||
        z->shape[0] != fer_contrastive_rows(sp))
        return fer_fail("contrastive: embeddings must be %d contiguous rows",
                        fer_contrastive_rows(sp));
    if (dz && !fer_tensor_same_shape(dz, z))
        return fer_fail("contrastive: gradient shape differs from the embeddings");
    return 0;
}

int fer_contrastive_loss(const struct fer_tensor *z, const struct fer_contrastive_spec *sp,
                         double *loss, struct fer_tensor *dz, unsigned char *kept_pairs,
                         unsigned char *kept_negatives, struct fer_arena *scratch)
{
    if (check(z, sp, dz) != 0)
        return -1;
    const int B = sp->examples, K = sp->negatives, R = 2 + K, N = B * R;
    const float tau = sp->temperature;
    struct fer_arena_mark mark = fer_arena_mark(scratch);
    struct fer_cosine c;
    float *s = fer_arena_alloc(scratch, sizeof(float) * (size_t)N * N);
    float *g = fer_arena_alloc(scratch, sizeof(float) * (size_t)N * N);
    struct ranked *r = fer_arena_alloc(scratch, sizeof *r * (size_t)(B * (K > 1 ? K : 1)));
    unsigned char *keep_pair = fer_arena_alloc(scratch, (size_t)B);
    unsigned char *keep_neg = fer_arena_alloc(scratch, (size_t)(B * K) + 1);
    int *cols = fer_arena_alloc(scratch, sizeof(int) * (size_t)(2 * B + K));
    if (!s || !g || !r || !keep_pair || !keep_neg || !cols ||
        fer_cosine_normalize(&c, z, scratch) < 0)
        return fer_fail_context("contrastive");
    fer_cosine_similarity(&c, 1.0f / tau, s);

    /* RMFER's filtering: rank by s, which orders like the cosine. */
    memset(keep_pair, 0, (size_t)B);
    memset(keep_neg, 0, (size_t)(B * K) + 1);
    for (int i = 0; i < B; i++)
        r[i] = (struct ranked){-s[(size_t)i * R * N + (size_t)i * R + 1], i};
    int pairs = fer_contrastive_kept_count(sp->gamma, B);
    select_smallest(r, B, pairs, keep_pair);
    int H = 0;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < K; k++)
            if (!sp->present || sp->present[i * K + k])
                r[H++] = (struct ranked){s[(size_t)i * R * N + (size_t)i * R + 2 + k], i * K + k};
    select_smallest(r, H, fer_contrastive_kept_count(sp->gamma, H), keep_neg);

    memset(g, 0, sizeof(float) * (size_t)N * N);
    const double scale = 1.0 / (2.0 * pairs);
    double total = 0;
    for (int i = 0; i < B; i++) {
        if (!keep_pair[i])
            continue;
        int a = i * R, p = a + 1;
        for (int dir = 0; dir < 2; dir++) {
            int x = dir ? p : a, y = dir ? a : p, n = 0;
            for (int j = 0; j < B; j++)
                for (int v = 0; v < 2; v++)
                    if (j * R + v != x)
                        cols[n++] = j * R + v;
            for (int k = 0; !dir && k < K; k++)
                if (keep_neg[i * K + k])
                    cols[n++] = a + 2 + k;
            add_term(s + (size_t)x * N, cols, n, y, scale, g + (size_t)x * N, &total);
        }
    }
    *loss = total * scale;
    if (dz)
        fer_cosine_backward(&c, 1.0f / tau, g, dz->data);
    if (kept_pairs)
        memcpy(kept_pairs, keep_pair, (size_t)B);
    if (kept_negatives && K > 0)
        memcpy(kept_negatives, keep_neg, (size_t)(B * K));
    fer_arena_release(scratch, mark);
    return 0;
}
