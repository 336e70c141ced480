/* pretext_head.c - see pretext_head.h. */
#include "pretext_head.h"

#include "error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void linear_uniform(struct fer_linear *l, struct fer_rng *rng)
{
    /* nn.Linear's reset_parameters: kaiming_uniform(a = sqrt 5) on the
     * weight is uniform +-1/sqrt(fan_in), and so is the bias. */
    float bound = 1.0f / sqrtf((float)l->in_features);
    size_t nw = (size_t)l->in_features * (size_t)l->out_features;
    for (size_t i = 0; i < nw; i++)
        l->weight.data[i] = (float)((2 * fer_rng_uniform(rng) - 1) * bound);
    for (int i = 0; l->bias.data && i < l->out_features; i++)
        l->bias.data[i] = (float)((2 * fer_rng_uniform(rng) - 1) * bound);
}

static void add_param(struct fer_pretext_head *h, const char *name, struct fer_tensor *v,
                      struct fer_tensor *g, int no_decay)
{
    int i = h->n_params++;
    snprintf(h->names[i], sizeof h->names[i], "%s", name);
    h->params[i] = (struct fer_param){h->names[i], v, g, no_decay};
}

/* The width of what the relational head's first layer reads per pair. */
static int pair_width(const struct fer_pretext_head *h)
{
    return h->pairs == FER_PAIR_ABS || h->pairs == FER_PAIR_RELATIVE ? h->features
                                                                      : 2 * h->features;
}

/* FER_PAIR_RELATIVE's divisor is mean + this: it keeps a window of
 * identical frames (all differences 0) finite; it is small beside the
 * differences of real frames' features. */
static const float relative_eps = 1e-4f;

static int head_init(struct fer_pretext_head *h, enum fer_head_kind kind, int features, int n,
                     int classes, int hidden, enum fer_pair_features pairs, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->kind = kind;
    if (kind == FER_HEAD_RELATIONAL) {
        if (pairs != FER_PAIR_ABS && pairs != FER_PAIR_ABS_SQUARE &&
            pairs != FER_PAIR_ABS_PRODUCT && pairs != FER_PAIR_RELATIVE)
            return fer_fail("pretext head: unknown pair features %d", (int)pairs);
        h->pairs = pairs;
    }
    h->features = features;
    int per_row = kind == FER_HEAD_LINEAR || kind == FER_HEAD_PROJECTION;
    h->n = per_row ? 1 : n;
    h->classes = per_row ? classes : n;
    h->hidden = kind == FER_HEAD_RELATIONAL || kind == FER_HEAD_PROJECTION ? hidden : 0;
    if (features < 1 || hidden < 0)
        return fer_fail("pretext head: bad feature width %d or hidden width %d", features, hidden);
    if (per_row && classes < (kind == FER_HEAD_LINEAR ? 2 : 1))
        return fer_fail("pretext head: %d outputs", classes);
    if (kind == FER_HEAD_PROJECTION && hidden < 1)
        return fer_fail("pretext head: a projection needs a hidden layer");
    if (!per_row && (n < 2 || n > 15))
        return fer_fail("pretext head: %d frames (need 2..15)", n);
    struct fer_rng rng;
    fer_rng_seed(&rng, seed);
    int rc = 0;
    switch (kind) {
    case FER_HEAD_LINEAR:
        rc = fer_linear_init(&h->score, features, classes, 1);
        break;
    case FER_HEAD_CONCAT:
        rc = fer_linear_init(&h->score, n * features, n, 1);
        break;
    case FER_HEAD_PROJECTION:
        rc = fer_linear_init(&h->pair, features, hidden, 1);
        if (rc == 0)
            rc = fer_linear_init(&h->score, hidden, classes, 1);
        break;
    case FER_HEAD_RELATIONAL:
        if (hidden > 0)
            rc = fer_linear_init(&h->pair, pair_width(h), hidden, 1);
        if (rc == 0)
            /* No bias: it would add (n-1) b to every logit, which the
             * softmax ignores. */
            rc = fer_linear_init(&h->score, hidden > 0 ? hidden : pair_width(h), 1, 0);
        break;
    }
    if (rc != 0) {
        fer_pretext_head_free(h);
        return -1;
    }
    const char *first = kind == FER_HEAD_PROJECTION ? "head.fc1" : "head.pair";
    char name[32];
    if (h->hidden > 0) {
        linear_uniform(&h->pair, &rng);
        snprintf(name, sizeof name, "%s.weight", first);
        add_param(h, name, &h->pair.weight, &h->pair.weight_grad, 0);
        snprintf(name, sizeof name, "%s.bias", first);
        add_param(h, name, &h->pair.bias, &h->pair.bias_grad, 1);
    }
    linear_uniform(&h->score, &rng);
    const char *stem = kind == FER_HEAD_RELATIONAL   ? "head.score"
                       : kind == FER_HEAD_PROJECTION ? "head.fc2"
                                                     : "head.fc";
    snprintf(name, sizeof name, "%s.weight", stem);
    add_param(h, name, &h->score.weight, &h->score.weight_grad, 0);
    if (h->score.bias.data) {
        snprintf(name, sizeof name, "%s.bias", stem);
        add_param(h, name, &h->score.bias, &h->score.bias_grad, 1);
    }
    return 0;
}

int fer_pretext_head_init(struct fer_pretext_head *h, enum fer_head_kind kind, int features,
                          int n, int classes, int hidden, uint64_t seed)
{
    return head_init(h, kind, features, n, classes, hidden, FER_PAIR_ABS, seed);
}

int fer_pretext_head_init_relational(struct fer_pretext_head *h, int features, int n, int hidden,
                                     enum fer_pair_features pairs, uint64_t seed)
{
    return head_init(h, FER_HEAD_RELATIONAL, features, n, n, hidden, pairs, seed);
}

void fer_pretext_head_free(struct fer_pretext_head *h)
{
    fer_linear_free(&h->pair);
    fer_linear_free(&h->score);
    memset(h, 0, sizeof *h);
}

int fer_pretext_head_set_dropout(struct fer_pretext_head *h, float p)
{
    if (h->kind != FER_HEAD_RELATIONAL)
        return fer_fail("pretext head: dropout is for the relational head");
    if (!(p >= 0 && p < 1))
        return fer_fail("pretext head: dropout %g is not in [0, 1)", (double)p);
    int training = h->drop.training;
    if (fer_dropout_init(&h->drop, p, 0) != 0)
        return -1;
    h->drop.training = training;
    return 0;
}

void fer_pretext_head_set_training(struct fer_pretext_head *h, int training, uint64_t mask_seed)
{
    h->drop.training = training;
    if (training)
        fer_rng_seed(&h->drop.rng, mask_seed);
}

void fer_pretext_head_zero_grad(struct fer_pretext_head *h)
{
    if (h->hidden > 0)
        fer_linear_zero_grad(&h->pair);
    fer_linear_zero_grad(&h->score);
}

int fer_pretext_head_outputs(const struct fer_pretext_head *h)
{
    return h->classes;
}

int fer_pretext_head_params(struct fer_pretext_head *h, const struct fer_param **params)
{
    *params = h->params;
    return h->n_params;
}

static int check_feat(const struct fer_pretext_head *h, const struct fer_tensor *feat, int *batch)
{
    if (feat->ndim != 2 || feat->shape[1] != h->features || !fer_tensor_is_contiguous(feat))
        return fer_fail("pretext head: features must be contiguous rows of %d", h->features);
    if (feat->shape[0] % h->n != 0)
        return fer_fail("pretext head: %d feature rows are not a multiple of %d frames",
                        feat->shape[0], h->n);
    *batch = feat->shape[0] / h->n;
    return 0;
}

static int pairs_per_example(int n)
{
    return n * (n - 1) / 2;
}

/* For every unordered pair p < q of every example: |f_p - f_q|, then
 * (f_p - f_q)^2 or f_p * f_q if the head has them; FER_PAIR_RELATIVE
 * divides an example's differences by their mean + eps, stored in scale. */
static void pair_differences(const struct fer_pretext_head *h, const float *f, int batch,
                             float *out, float *scale)
{
    int n = h->n, d = h->features;
    for (int b = 0; b < batch; b++) {
        float *first = out;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                const float *fp = f + ((size_t)b * n + p) * d, *fq = f + ((size_t)b * n + q) * d;
                for (int i = 0; i < d; i++)
                    *out++ = fabsf(fp[i] - fq[i]);
                if (h->pairs == FER_PAIR_ABS_SQUARE)
                    for (int i = 0; i < d; i++)
                        *out++ = (fp[i] - fq[i]) * (fp[i] - fq[i]);
                else if (h->pairs == FER_PAIR_ABS_PRODUCT)
                    for (int i = 0; i < d; i++)
                        *out++ = fp[i] * fq[i];
            }
        if (h->pairs == FER_PAIR_RELATIVE) {
            size_t m = (size_t)(out - first);
            double sum = 0;
            for (size_t i = 0; i < m; i++)
                sum += first[i];
            float s = (float)(sum / (double)m) + relative_eps;
            scale[b] = s;
            for (size_t i = 0; i < m; i++)
                first[i] /= s;
        }
    }
}

static int relational_forward(struct fer_pretext_head *h, const struct fer_tensor *feat,
                              int batch, struct fer_tensor *logits, struct fer_arena *a)
{
    int n = h->n, P = pairs_per_example(n);
    int rows = batch * P;
    if (fer_tensor_arena(&h->saved_pairs, a, 2, (int[]){rows, pair_width(h)}) != 0)
        return -1;
    float *scale = NULL;
    if (h->pairs == FER_PAIR_RELATIVE) {
        if (fer_tensor_arena(&h->saved_scale, a, 1, (int[]){batch}) != 0)
            return -1;
        scale = h->saved_scale.data;
    }
    pair_differences(h, feat->data, batch, h->saved_pairs.data, scale);
    /* Into its own tensor: the relative backward needs the input before
     * dropout, the weights' gradients the one after. */
    const struct fer_tensor *in = &h->saved_pairs;
    h->dropped = h->drop.training && h->drop.p > 0;
    if (h->dropped) {
        if (fer_tensor_arena(&h->saved_dropped, a, 2, h->saved_pairs.shape) != 0 ||
            fer_dropout_forward(&h->drop, &h->saved_pairs, &h->saved_dropped) != 0)
            return -1;
        in = &h->saved_dropped;
    }
    const struct fer_tensor *pair_in = in;
    if (h->hidden > 0) {
        if (fer_tensor_arena(&h->saved_hidden, a, 2, (int[]){rows, h->hidden}) != 0 ||
            fer_linear_forward(&h->pair, pair_in, &h->saved_hidden) != 0)
            return -1;
        size_t m = (size_t)rows * (size_t)h->hidden;
        for (size_t i = 0; i < m; i++)
            if (!(h->saved_hidden.data[i] > 0))
                h->saved_hidden.data[i] = 0;
        in = &h->saved_hidden;
    }
    struct fer_tensor s;
    if (fer_tensor_arena(&s, a, 2, (int[]){rows, 1}) != 0 ||
        fer_linear_forward(&h->score, in, &s) != 0)
        return -1;
    fer_tensor_fill(logits, 0);
    for (int b = 0, k = 0; b < batch; b++)
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++, k++) {
                logits->data[b * n + p] += s.data[k];
                logits->data[b * n + q] += s.data[k];
            }
    return 0;
}

int fer_pretext_head_forward(struct fer_pretext_head *h, const struct fer_tensor *feat,
                             struct fer_tensor *logits, struct fer_arena *a)
{
    int batch;
    if (check_feat(h, feat, &batch) != 0)
        return -1;
    if (fer_tensor_arena(logits, a, 2, (int[]){batch, h->classes}) != 0)
        return -1;
    if (h->kind == FER_HEAD_RELATIONAL)
        return relational_forward(h, feat, batch, logits, a);
    if (h->kind == FER_HEAD_PROJECTION) {
        if (fer_tensor_arena(&h->saved_hidden, a, 2, (int[]){batch, h->hidden}) != 0 ||
            fer_linear_forward(&h->pair, feat, &h->saved_hidden) != 0)
            return -1;
        size_t m = (size_t)batch * (size_t)h->hidden;
        for (size_t i = 0; i < m; i++)
            if (!(h->saved_hidden.data[i] > 0))
                h->saved_hidden.data[i] = 0;
        return fer_linear_forward(&h->score, &h->saved_hidden, logits);
    }
    struct fer_tensor rows;
    if (fer_tensor_reshape(&rows, feat, 2, (int[]){batch, h->n * h->features}) != 0)
        return -1;
    return fer_linear_forward(&h->score, &rows, logits);
}

static int relational_backward(struct fer_pretext_head *h, const struct fer_tensor *feat,
                               int batch, const struct fer_tensor *dlogits,
                               struct fer_tensor *dfeat, struct fer_arena *a)
{
    int n = h->n, d = h->features, P = pairs_per_example(n), rows = batch * P;
    int w = pair_width(h);
    const struct fer_tensor *pair_in = h->dropped ? &h->saved_dropped : &h->saved_pairs;
    struct fer_arena_mark mark = fer_arena_mark(a);
    struct fer_tensor ds, dpairs, dhidden;
    int rc = -1;
    if (fer_tensor_arena(&ds, a, 2, (int[]){rows, 1}) != 0 ||
        fer_tensor_arena(&dpairs, a, 2, (int[]){rows, w}) != 0)
        goto end;
    /* s_pq feeds logit p and logit q. */
    for (int b = 0, k = 0; b < batch; b++)
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++, k++)
                ds.data[k] = dlogits->data[b * n + p] + dlogits->data[b * n + q];
    if (h->hidden > 0) {
        if (fer_tensor_arena(&dhidden, a, 2, (int[]){rows, h->hidden}) != 0 ||
            fer_linear_backward(&h->score, &h->saved_hidden, &ds, &dhidden) != 0)
            goto end;
        size_t m = (size_t)rows * (size_t)h->hidden;
        for (size_t i = 0; i < m; i++)
            if (!(h->saved_hidden.data[i] > 0))
                dhidden.data[i] = 0;
        if (fer_linear_backward(&h->pair, pair_in, &dhidden, dfeat ? &dpairs : NULL) != 0)
            goto end;
    } else if (fer_linear_backward(&h->score, pair_in, &ds, dfeat ? &dpairs : NULL) != 0) {
        goto end;
    }
    if (dfeat && h->dropped && fer_dropout_backward(&h->drop, &dpairs, &dpairs) != 0)
        goto end;
    if (dfeat && h->pairs == FER_PAIR_RELATIVE) {
        /* x = a / s with s = mean(a) + eps over the example's P d entries:
         * dL/da_j = (g_j - sum_i g_i x_i / (P d)) / s. */
        size_t m = (size_t)P * (size_t)d;
        for (int b = 0; b < batch; b++) {
            float *g = dpairs.data + (size_t)b * m;
            const float *x = h->saved_pairs.data + (size_t)b * m;
            double c = 0;
            for (size_t i = 0; i < m; i++)
                c += (double)g[i] * x[i];
            float mean_c = (float)(c / (double)m), s = h->saved_scale.data[b];
            for (size_t i = 0; i < m; i++)
                g[i] = (g[i] - mean_c) / s;
        }
    }
    if (dfeat) {
        fer_tensor_fill(dfeat, 0);
        const float *f = feat->data;
        for (int b = 0, k = 0; b < batch; b++)
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++, k++) {
                    size_t ip = ((size_t)b * n + p) * d, iq = ((size_t)b * n + q) * d;
                    const float *g = dpairs.data + (size_t)k * w, *g2 = g + d;
                    for (int i = 0; i < d; i++) {
                        /* d|x|/dx = sign(x), 0 at 0 as in PyTorch. */
                        float diff = f[ip + i] - f[iq + i];
                        float v = diff > 0 ? g[i] : diff < 0 ? -g[i] : 0;
                        if (h->pairs == FER_PAIR_ABS_SQUARE) {
                            v += 2 * diff * g2[i];
                        } else if (h->pairs == FER_PAIR_ABS_PRODUCT) {
                            /* The product is not a function of the
                             * difference: each side gets the other. */
                            dfeat->data[ip + i] += f[iq + i] * g2[i];
                            dfeat->data[iq + i] += f[ip + i] * g2[i];
                        }
                        dfeat->data[ip + i] += v;
                        dfeat->data[iq + i] -= v;
                    }
                }
    }
    rc = 0;
end:
    fer_arena_release(a, mark);
    return rc;
}

int fer_pretext_head_backward(struct fer_pretext_head *h, const struct fer_tensor *feat,
                              const struct fer_tensor *dlogits, struct fer_tensor *dfeat,
                              struct fer_arena *a)
{
    int batch;
    if (check_feat(h, feat, &batch) != 0)
        return -1;
    if (dlogits->ndim != 2 || dlogits->shape[0] != batch || dlogits->shape[1] != h->classes)
        return fer_fail("pretext head: gradient is not %d x %d", batch, h->classes);
    if (dfeat && !fer_tensor_same_shape(dfeat, feat))
        return fer_fail("pretext head: feature gradient shape differs from the features");
    if (h->kind == FER_HEAD_RELATIONAL)
        return relational_backward(h, feat, batch, dlogits, dfeat, a);
    if (h->kind == FER_HEAD_PROJECTION) {
        struct fer_arena_mark mark = fer_arena_mark(a);
        struct fer_tensor dh;
        int rc = -1;
        if (fer_tensor_arena(&dh, a, 2, (int[]){batch, h->hidden}) == 0 &&
            fer_linear_backward(&h->score, &h->saved_hidden, dlogits, &dh) == 0) {
            size_t m = (size_t)batch * (size_t)h->hidden;
            for (size_t i = 0; i < m; i++)
                if (!(h->saved_hidden.data[i] > 0))
                    dh.data[i] = 0;
            rc = fer_linear_backward(&h->pair, feat, &dh, dfeat);
        }
        fer_arena_release(a, mark);
        return rc;
    }
    struct fer_tensor rows, drows;
    if (fer_tensor_reshape(&rows, feat, 2, (int[]){batch, h->n * h->features}) != 0)
        return -1;
    if (dfeat && fer_tensor_reshape(&drows, dfeat, 2, (int[]){batch, h->n * h->features}) != 0)
        return -1;
    return fer_linear_backward(&h->score, &rows, dlogits, dfeat ? &drows : NULL);
}
