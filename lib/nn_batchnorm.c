#include "nn_batchnorm.h"

#include "nn_parallel.h"
#include "nn_pool.h"
#include "nn_vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fer_batchnorm_init(struct fer_batchnorm *bn, int channels, float eps,
                       float momentum)
{
    memset(bn, 0, sizeof *bn);
    if (channels < 1 || !(eps > 0) || !(momentum >= 0 && momentum <= 1))
        return fer_fail("batchnorm: bad channels, eps or momentum");
    bn->channels = channels;
    bn->eps = eps;
    bn->momentum = momentum;
    bn->training = 1;
    struct fer_tensor *all[] = {&bn->weight,      &bn->bias,      &bn->running_mean,
                                &bn->running_var, &bn->weight_grad, &bn->bias_grad,
                                &bn->save_mean,   &bn->save_invstd,
                                &bn->save_scale,  &bn->save_shift};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (fer_tensor_alloc(all[i], 1, &channels) < 0) {
            fer_batchnorm_free(bn);
            return -1;
        }
    fer_tensor_fill(&bn->weight, 1);
    fer_tensor_fill(&bn->running_var, 1);
    return 0;
}

void fer_batchnorm_free(struct fer_batchnorm *bn)
{
    struct fer_tensor *all[] = {&bn->weight,      &bn->bias,      &bn->running_mean,
                                &bn->running_var, &bn->weight_grad, &bn->bias_grad,
                                &bn->save_mean,   &bn->save_invstd,
                                &bn->save_scale,  &bn->save_shift};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        fer_tensor_free(all[i]);
    free(bn->scratch);
    bn->scratch = NULL;
    bn->scratch_cap = 0;
}

void fer_batchnorm_zero_grad(struct fer_batchnorm *bn)
{
    fer_tensor_fill(&bn->weight_grad, 0);
    fer_tensor_fill(&bn->bias_grad, 0);
}

/* Dimensions as (N, C, inner) with inner = H*W (1 for N x C). */
static int dims(const struct fer_batchnorm *bn, const struct fer_tensor *x,
                const struct fer_tensor *y, const char *yname, int *n, ptrdiff_t *inner)
{
    if (bn->weight.data == NULL)
        return fer_fail("batchnorm: layer not initialised");
    if (fer_nn_check4("batchnorm", "input", x, -1, bn->channels, -1, -1) < 0)
        return -1;
    if (x->ndim != 2 && x->ndim != 4)
        return fer_fail("batchnorm: input must be N x C or N x C x H x W");
    if (fer_nn_check_same("batchnorm", yname, y, x) < 0)
        return -1;
    *n = x->shape[0];
    *inner = (ptrdiff_t)x->shape[2] * x->shape[3];
    return 0;
}

/* y = x * scale + shift, rectified when relu: one pass over memory instead
 * of two (batch norm and ReLU are memory-bound). */
static void affine(const float *restrict p, float *restrict q, ptrdiff_t n, float scale,
                   float shift, int relu)
{
    const fer_v4 vs = fer_v4_set1(scale), vb = fer_v4_set1(shift);
    ptrdiff_t k = 0;
    if (relu) {
        for (; k + 4 <= n; k += 4)
            fer_v4_store(q + k, fer_v4_relu(fer_v4_load(p + k) * vs + vb));
        for (; k < n; k++) {
            float v = p[k] * scale + shift;
            q[k] = v > 0 ? v : 0.0f;
        }
    } else {
        for (; k + 4 <= n; k += 4)
            fer_v4_store(q + k, fer_v4_load(p + k) * vs + vb);
        for (; k < n; k++)
            q[k] = p[k] * scale + shift;
    }
}

/* q = relu(p * scale + shift + s): batch norm, a residual sum and ReLU in
 * one pass, the same operations in the same order as the three layers. */
static void affine_add_relu(const float *restrict p, const float *restrict s,
                            float *restrict q, ptrdiff_t n, float scale, float shift)
{
    const fer_v4 vs = fer_v4_set1(scale), vb = fer_v4_set1(shift);
    ptrdiff_t k = 0;
    for (; k + 4 <= n; k += 4)
        fer_v4_store(q + k, fer_v4_relu((fer_v4_load(p + k) * vs + vb) + fer_v4_load(s + k)));
    for (; k < n; k++) {
        float v = p[k] * scale + shift;
        v = v + s[k];
        q[k] = v > 0 ? v : 0.0f;
    }
}

/* Adds the sums of d = p - shift and of d^2 over a plane: float lanes
 * within the plane (each lane sums n/16 values), double across planes.
 * Four accumulators a sum: one add's latency is three vector adds'
 * issue time, and one chain made the loop wait on it. */
static void plane_moments(const float *p, ptrdiff_t n, float shift, double *sum,
                          double *sq)
{
    const fer_v4 k = fer_v4_set1(shift);
    fer_v4 a[4], b[4];
    for (int u = 0; u < 4; u++)
        a[u] = b[u] = fer_v4_set1(0);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int u = 0; u < 4; u++) {
            fer_v4 d = fer_v4_load(p + i + 4 * u) - k;
            a[u] += d;
            b[u] += d * d;
        }
    double s = fer_v4_hsum((a[0] + a[1]) + (a[2] + a[3]));
    double q = fer_v4_hsum((b[0] + b[1]) + (b[2] + b[3]));
    for (; i < n; i++) {
        double d = (double)p[i] - shift;
        s += d;
        q += d * d;
    }
    *sum += s;
    *sq += q;
}

/* One layer call's work, split over channels: every per-channel sum stays
 * in one thread, in the same order, so results do not depend on the
 * thread count. */
struct job {
    struct fer_batchnorm *bn;
    const float *x, *y, *dy; /* y: the rectified output (backward with relu;
                                with a fused pool, NULL: rebuilt from x) */
    float *out;              /* forward: y (fused pool: the pooled output);
                                backward: dx (NULL: none) */
    int N, relu;
    ptrdiff_t S;
    int H, W; /* with a fused 2x2 max pool: dy is its output gradient */
    int pooled;
    const float *skip; /* forward: added before the ReLU (residual), or NULL */
    double *part; /* 2 per plane: its partial sums (layer_scratch) */
    double *coef; /* 3 per channel: backward's factors a, b, e */
};

/* The widest plane the fused max pool paths take (their row buffers). */
enum { POOL_MAX_W = 1024 };

/* With a fused 2x2 max pool: two rows of the rectified output at a time
 * into a buffer that stays in L1, pooled from there, so the full-size
 * output is never written nor read back (j->out is the pooled tensor). */
/* m replaced by v when v is further in the direction of the sign of
 * scale (larger for +1, smaller for -1), or m is NaN: the extreme of the
 * non-NaN values, NaN only when all are. */
static inline fer_v4 extreme(fer_v4 m, fer_v4 v, int sign)
{
    fer_vi4 k = (sign > 0 ? v > m : v < m) | (m != m);
    return fer_v4_select(k, v, m);
}

/* The pooled output straight from x when the affine map is monotone
 * (scale > 0: non-decreasing, each rounding too; < 0: non-increasing):
 * the window's largest y comes from its largest x (smallest for scale <
 * 0), so y is computed for a quarter of the values. A NaN x gives y = 0,
 * the least y, so it loses to any other value; a window of NaNs gives
 * relu(NaN) = 0 as well. Equal bits to rectifying every value first: y is
 * a function of x and the maximum of ys is unique as a value (the ReLU
 * leaves no -0 to tie with +0). OW a multiple of 4. */
static void pooled_rows_monotone(const float *r0, const float *r1, int OW, float scale,
                                 float shift, float *out)
{
    const int sign = scale > 0 ? 1 : -1;
    const fer_v4 vs = fer_v4_set1(scale), vb = fer_v4_set1(shift);
    for (int k = 0; k < OW; k += 4) {
        fer_v4 a0 = fer_v4_load(r0 + 2 * k), a1 = fer_v4_load(r0 + 2 * k + 4);
        fer_v4 b0 = fer_v4_load(r1 + 2 * k), b1 = fer_v4_load(r1 + 2 * k + 4);
        fer_v4 m = extreme(fer_v4_even(a0, a1), fer_v4_odd(a0, a1), sign);
        m = extreme(m, fer_v4_even(b0, b1), sign);
        m = extreme(m, fer_v4_odd(b0, b1), sign);
        fer_v4_store(out + k, fer_v4_relu(m * vs + vb));
    }
}

static void pooled_forward(const struct job *j, ptrdiff_t plane, float scale, float shift)
{
    float buf[2 * POOL_MAX_W];
    const int W = j->W, OW = j->W / 2, OH = j->H / 2;
    /* Otherwise (scale 0 or not finite, shift not finite, or a scalar
     * tail) the rows are rectified into a buffer and pooled from there. */
    const int monotone = (scale > 0 || scale < 0) && isfinite(scale) && isfinite(shift) &&
                         OW % 4 == 0;
    for (int i = 0; i < OH; i++) {
        const float *r0 = j->x + plane * j->S + (ptrdiff_t)2 * i * W;
        float *out = j->out + (plane * OH + i) * OW;
        if (monotone) {
            pooled_rows_monotone(r0, r0 + W, OW, scale, shift, out);
            continue;
        }
        affine(r0, buf, 2 * W, scale, shift, 1);
        fer_maxpool2x2_rows(buf, buf + W, OW, out);
    }
}

/* The passes below go over planes (n, c) in memory order, each thread a
 * range of them: a channel's planes lie C planes apart, and walking them
 * channel by channel ran at half the speed (the prefetchers follow a
 * stream, not 64 short ones). Per-channel sums are taken from per-plane
 * partial sums in a fixed order (n = 0, 1, ...), so results do not depend
 * on the thread count. */

/* Forward pass 1: each plane's moments about its channel's first value
 * (j->x[c * S]: inputs with a large mean do not cancel, since var =
 * E[(x - k)^2] - (E[x - k])^2 loses little when k is within a few
 * deviations of the mean). */
static void moments_planes(void *ctx, long begin, long end)
{
    const struct job *j = ctx;
    const int C = j->bn->channels;
    for (long pl = begin; pl < end; pl++) {
        double sum = 0, sq = 0;
        plane_moments(j->x + pl * j->S, j->S, j->x[(ptrdiff_t)(pl % C) * j->S], &sum, &sq);
        j->part[2 * pl] = sum;
        j->part[2 * pl + 1] = sq;
    }
}

/* Between the passes: channel c's statistics, running updates, and the
 * scale and shift that pass 2 applies. */
static void channel_stats(const struct job *j, int c)
{
    struct fer_batchnorm *bn = j->bn;
    const int N = j->N, C = bn->channels;
    const double M = (double)N * j->S;
    double mean, invstd;
    if (bn->training) {
        const float shift = j->x[(ptrdiff_t)c * j->S];
        double sum = 0, sq = 0;
        for (int n = 0; n < N; n++) {
            sum += j->part[2 * ((ptrdiff_t)n * C + c)];
            sq += j->part[2 * ((ptrdiff_t)n * C + c) + 1];
        }
        const double dm = sum / M;
        mean = shift + dm;
        double var = sq / M - dm * dm;
        if (var < 0)
            var = 0;
        invstd = 1.0 / sqrt(var + bn->eps);
        double m = bn->momentum;
        bn->running_mean.data[c] = (float)((1 - m) * bn->running_mean.data[c] + m * mean);
        bn->running_var.data[c] =
            (float)((1 - m) * bn->running_var.data[c] + m * var * M / (M - 1));
    } else {
        mean = bn->running_mean.data[c];
        invstd = 1.0 / sqrt((double)bn->running_var.data[c] + bn->eps);
    }
    bn->save_mean.data[c] = (float)mean;
    bn->save_invstd.data[c] = (float)invstd;
    /* y = x * scale + shift */
    bn->save_scale.data[c] = (float)(bn->weight.data[c] * invstd);
    bn->save_shift.data[c] = (float)(bn->bias.data[c] - mean * bn->weight.data[c] * invstd);
}

/* Forward pass 2: y (or the pooled output) plane by plane. */
static void output_planes(void *ctx, long begin, long end)
{
    const struct job *j = ctx;
    const struct fer_batchnorm *bn = j->bn;
    for (long pl = begin; pl < end; pl++) {
        const int c = (int)(pl % bn->channels);
        const float scale = bn->save_scale.data[c], shift = bn->save_shift.data[c];
        if (j->pooled)
            pooled_forward(j, pl, scale, shift);
        else if (j->skip)
            affine_add_relu(j->x + pl * j->S, j->skip + pl * j->S, j->out + pl * j->S, j->S,
                            scale, shift);
        else
            affine(j->x + pl * j->S, j->out + pl * j->S, j->S, scale, shift, j->relu);
    }
}

/* The layer's scratch for n doubles, kept between calls (a step of the
 * same shapes allocates nothing); NULL with fer_error set when out of
 * memory. */
static double *layer_scratch(struct fer_batchnorm *bn, size_t n)
{
    if (n > bn->scratch_cap) {
        double *p = realloc(bn->scratch, n * sizeof *p);
        if (p == NULL)
            return fer_fail("batchnorm: out of memory"), NULL;
        bn->scratch = p;
        bn->scratch_cap = n;
    }
    return bn->scratch;
}

/* Both passes of the forward for job j (pooled output or not). */
static int run_forward(struct job *j)
{
    struct fer_batchnorm *bn = j->bn;
    const long planes = (long)j->N * bn->channels;
    if (bn->training) {
        if ((j->part = layer_scratch(bn, 2 * (size_t)planes)) == NULL)
            return -1;
        fer_nn_parallel_for(planes, (double)j->S, moments_planes, j);
    }
    for (int c = 0; c < bn->channels; c++)
        channel_stats(j, c);
    fer_nn_parallel_for(planes, (j->pooled ? 1.25 : 2.0) * j->S, output_planes, j);
    if (bn->training)
        bn->num_batches_tracked++;
    return 0;
}

static int forward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                   struct fer_tensor *y, int relu)
{
    int N = 0;
    ptrdiff_t S = 0;
    if (dims(bn, x, y, "output", &N, &S) < 0)
        return -1;
    if (bn->training && (double)N * S < 2)
        return fer_fail("batchnorm: training needs more than one value per channel");
    struct job j = {bn, x->data, NULL, NULL, y->data, N, relu, S, 0, 0, 0, NULL, NULL, NULL};
    return run_forward(&j);
}

int fer_batchnorm_add_relu_forward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                                   const struct fer_tensor *skip, struct fer_tensor *y)
{
    int N = 0;
    ptrdiff_t S = 0;
    if (dims(bn, x, y, "output", &N, &S) < 0 ||
        fer_nn_check_same("batchnorm", "residual", skip, x) < 0)
        return -1;
    if (bn->training && (double)N * S < 2)
        return fer_fail("batchnorm: training needs more than one value per channel");
    struct job j = {bn, x->data, NULL, NULL, y->data, N, 1, S, 0, 0, 0, skip->data, NULL, NULL};
    return run_forward(&j);
}

int fer_batchnorm_forward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                          struct fer_tensor *y)
{
    return forward(bn, x, y, 0);
}

int fer_batchnorm_relu_forward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                               struct fer_tensor *y)
{
    return forward(bn, x, y, 1);
}

/* Sums of d and of d * (p - mean) in 4 float vectors each (4 chains of
 * adds, as plane_moments); with r, d is taken as 0 where the rectified
 * output r is not positive (ReLU's backward, folded into this pass). n is
 * a multiple of 16; a plane may be fed in pieces (rows) of multiples of 16
 * with the same result as in one piece. */
struct dot_acc {
    fer_v4 a[4], b[4];
};

static inline void dot_init(struct dot_acc *acc)
{
    for (int u = 0; u < 4; u++)
        acc->a[u] = acc->b[u] = fer_v4_set1(0);
}

static inline void dot_block(struct dot_acc *acc, const float *p, const float *d,
                             const float *r, ptrdiff_t n, float mean)
{
    const fer_v4 m = fer_v4_set1(mean), zero = fer_v4_set1(0);
    struct dot_acc t = *acc;
    for (ptrdiff_t k = 0; k < n; k += 16)
        for (int u = 0; u < 4; u++) {
            fer_v4 dv = fer_v4_load(d + k + 4 * u);
            if (r)
                dv = (fer_v4)((fer_vi4)dv & (fer_v4_load(r + k + 4 * u) > zero));
            t.a[u] += dv;
            t.b[u] += dv * (fer_v4_load(p + k + 4 * u) - m);
        }
    *acc = t;
}

/* The two sums, added to *sum_d and *sum_dp. */
static inline void dot_sums(const struct dot_acc *acc, double *sum_d, double *sum_dp)
{
    *sum_d += fer_v4_hsum((acc->a[0] + acc->a[1]) + (acc->a[2] + acc->a[3]));
    *sum_dp += fer_v4_hsum((acc->b[0] + acc->b[1]) + (acc->b[2] + acc->b[3]));
}

/* Adds the sums of d and of d * (p - mean) over a plane, d masked by r as
 * above. */
static void plane_dot(const float *p, const float *d, const float *r, ptrdiff_t n,
                      float mean, double *sum_d, double *sum_dp)
{
    struct dot_acc acc;
    dot_init(&acc);
    const ptrdiff_t n16 = n / 16 * 16;
    dot_block(&acc, p, d, r, n16, mean);
    double sd = 0, sp = 0;
    dot_sums(&acc, &sd, &sp);
    for (ptrdiff_t k = n16; k < n; k++) {
        float dk = r && !(r[k] > 0) ? 0.0f : d[k];
        sd += dk;
        sp += (double)dk * (p[k] - mean);
    }
    *sum_d += sd;
    *sum_dp += sp;
}

/* q = a * d + b + e * (p - mean) over a plane, d masked by r as above. */
static void plane_grad(const float *p, const float *d, const float *r, float *q,
                       ptrdiff_t n, float a, float b, float e, float mean)
{
    const fer_v4 va = fer_v4_set1(a), vb = fer_v4_set1(b), ve = fer_v4_set1(e),
                 vm = fer_v4_set1(mean), zero = fer_v4_set1(0);
    ptrdiff_t k = 0;
    for (; k + 4 <= n; k += 4) {
        fer_v4 dv = fer_v4_load(d + k);
        if (r)
            dv = (fer_v4)((fer_vi4)dv & (fer_v4_load(r + k) > zero));
        fer_v4_store(q + k, va * dv + vb + ve * (fer_v4_load(p + k) - vm));
    }
    for (; k < n; k++) {
        float dk = r && !(r[k] > 0) ? 0.0f : d[k];
        q[k] = a * dk + b + e * (p[k] - mean);
    }
}

/* With a fused 2x2 max pool: the gradient of the rectified output y is
 * the pool's backward, rebuilt two rows at a time. With dx wanted it is
 * rebuilt straight into dx, masked by the ReLU there, and the second pass
 * turns it into dx in place: the pool's gradient is never a tensor of its
 * own, read back twice. Without dx, a row buffer that stays in L1 holds
 * it. Sums are fed row by row, which plane_dot's lanes make the same as a
 * whole plane. */
static void pooled_dot(const struct job *j, int c, ptrdiff_t o, float mean, double *sum_d,
                       double *sum_dp)
{
    float buf[2 * POOL_MAX_W], ybuf[2 * POOL_MAX_W];
    const int W = j->W, OW = j->W / 2;
    const fer_v4 zero = fer_v4_set1(0);
    struct dot_acc acc;
    dot_init(&acc);
    for (int i = 0; i < j->H / 2; i++) {
        const ptrdiff_t r = o + (ptrdiff_t)2 * i * W;
        float *rows = j->out ? j->out + r : buf;
        const float *y = j->y ? j->y + r : ybuf;
        if (j->y == NULL) /* the forward's rows again, from x */
            affine(j->x + r, ybuf, 2 * W, j->bn->save_scale.data[c],
                   j->bn->save_shift.data[c], 1);
        fer_maxpool2x2_grad_rows(y, y + W, j->dy + o / 4 + (ptrdiff_t)i * OW, OW, rows,
                                 rows + W);
        dot_block(&acc, j->x + r, rows, y, 2 * W, mean);
        if (j->out)
            for (int k = 0; k < 2 * W; k += 4) /* the mask dot_block applied, kept */
                fer_v4_store(rows + k, (fer_v4)((fer_vi4)fer_v4_load(rows + k) &
                                                 (fer_v4_load(y + k) > zero)));
    }
    dot_sums(&acc, sum_d, sum_dp);
}

/* Backward pass 1: each plane's sums of dy and of dy * (x - mean). */
static void dot_planes(void *ctx, long begin, long end)
{
    const struct job *j = ctx;
    for (long pl = begin; pl < end; pl++) {
        const int c = (int)(pl % j->bn->channels);
        const float mean = j->bn->save_mean.data[c];
        const ptrdiff_t o = pl * j->S;
        double sd = 0, sp = 0;
        if (j->pooled)
            pooled_dot(j, c, o, mean, &sd, &sp);
        else
            plane_dot(j->x + o, j->dy + o, j->y ? j->y + o : NULL, j->S, mean, &sd, &sp);
        j->part[2 * pl] = sd;
        j->part[2 * pl + 1] = sp;
    }
}

/* Between the passes: channel c's parameter gradients and pass 2's
 * factors. */
static void channel_grads(const struct job *j, int c)
{
    struct fer_batchnorm *bn = j->bn;
    const int N = j->N, C = bn->channels;
    const double M = (double)N * j->S;
    const double invstd = bn->save_invstd.data[c];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int n = 0; n < N; n++) {
        sum_dy += j->part[2 * ((ptrdiff_t)n * C + c)];
        sum_dy_xhat += j->part[2 * ((ptrdiff_t)n * C + c) + 1];
    }
    sum_dy_xhat *= invstd;
    bn->weight_grad.data[c] += (float)sum_dy_xhat;
    bn->bias_grad.data[c] += (float)sum_dy;
    const double g = bn->weight.data[c] * invstd;
    /* Training: the batch statistics depend on x too, which subtracts the
     * mean of dy and the projection of dy on xhat. */
    j->coef[3 * c] = (float)g;
    j->coef[3 * c + 1] = bn->training ? (float)(-g * sum_dy / M) : 0.0f;
    j->coef[3 * c + 2] = bn->training ? (float)(-g * sum_dy_xhat * invstd / M) : 0.0f;
}

/* Backward pass 2: dx plane by plane. */
static void grad_planes(void *ctx, long begin, long end)
{
    const struct job *j = ctx;
    for (long pl = begin; pl < end; pl++) {
        const int c = (int)(pl % j->bn->channels);
        const float mean = j->bn->save_mean.data[c];
        const float a = (float)j->coef[3 * c], b = (float)j->coef[3 * c + 1],
                    e = (float)j->coef[3 * c + 2];
        const ptrdiff_t o = pl * j->S;
        if (j->pooled) /* dx holds the masked gradient (pooled_dot) */
            plane_grad(j->x + o, j->out + o, NULL, j->out + o, j->S, a, b, e, mean);
        else
            plane_grad(j->x + o, j->dy + o, j->y ? j->y + o : NULL, j->out + o, j->S, a, b,
                       e, mean);
    }
}

/* Both passes of the backward for job j. */
static int run_backward(struct job *j)
{
    struct fer_batchnorm *bn = j->bn;
    const int C = bn->channels;
    const long planes = (long)j->N * C;
    if ((j->part = layer_scratch(bn, 2 * (size_t)planes + 3 * (size_t)C)) == NULL)
        return -1;
    j->coef = j->part + 2 * (size_t)planes;
    fer_nn_parallel_for(planes, (j->y || j->pooled ? 3.0 : 2.0) * j->S, dot_planes, j);
    for (int c = 0; c < C; c++)
        channel_grads(j, c);
    if (j->out)
        fer_nn_parallel_for(planes, 3.0 * j->S, grad_planes, j);
    return 0;
}

static int backward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                    const struct fer_tensor *y, const struct fer_tensor *dy,
                    struct fer_tensor *dx)
{
    int N = 0;
    ptrdiff_t S = 0;
    if (dims(bn, x, dy, "output gradient", &N, &S) < 0)
        return -1;
    if (dx && fer_nn_check_same("batchnorm", "input gradient", dx, x) < 0)
        return -1;
    if (y && fer_nn_check_same("batchnorm", "output", y, x) < 0)
        return -1;
    struct job j = {bn,           x->data, y ? y->data : NULL, dy->data, dx ? dx->data : NULL,
                    N,            y != NULL, S, 0, 0, 0, NULL, NULL, NULL};
    return run_backward(&j);
}

int fer_batchnorm_backward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                           const struct fer_tensor *dy, struct fer_tensor *dx)
{
    return backward(bn, x, NULL, dy, dx);
}

int fer_batchnorm_relu_backward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                                const struct fer_tensor *y, const struct fer_tensor *dy,
                                struct fer_tensor *dx)
{
    if (y == NULL)
        return fer_fail("batchnorm: relu backward needs the output");
    return backward(bn, x, y, dy, dx);
}

int fer_batchnorm_maxpool_fusable(const struct fer_pool2d *p, const struct fer_tensor *y)
{
    return !p->generic && p->kernel == 2 && p->stride == 2 && p->pad == 0 && y->ndim == 4 &&
           y->shape[2] % 2 == 0 && y->shape[3] % 8 == 0 && y->shape[3] <= POOL_MAX_W;
}

int fer_batchnorm_relu_maxpool_backward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                                        const struct fer_tensor *y,
                                        const struct fer_pool2d *pool,
                                        const struct fer_tensor *dpool, struct fer_tensor *dx)
{
    int N = 0;
    ptrdiff_t S = 0;
    if (dims(bn, x, y ? y : x, "output", &N, &S) < 0)
        return -1;
    if (!fer_batchnorm_maxpool_fusable(pool, x))
        return fer_fail("batchnorm: this pooling cannot be fused");
    if (fer_nn_check4("batchnorm", "pool gradient", dpool, N, bn->channels, x->shape[2] / 2,
                      x->shape[3] / 2) < 0)
        return -1;
    if (dx && fer_nn_check_same("batchnorm", "input gradient", dx, x) < 0)
        return -1;
    struct job j = {bn, x->data, y ? y->data : NULL, dpool->data, dx ? dx->data : NULL,
                    N, 1, S, x->shape[2], x->shape[3], 1, NULL, NULL, NULL};
    return run_backward(&j);
}

int fer_batchnorm_relu_maxpool_forward(struct fer_batchnorm *bn, const struct fer_tensor *x,
                                       const struct fer_pool2d *pool,
                                       struct fer_tensor *pooled)
{
    int N = 0;
    ptrdiff_t S = 0;
    if (dims(bn, x, x, "output", &N, &S) < 0)
        return -1;
    if (!fer_batchnorm_maxpool_fusable(pool, x))
        return fer_fail("batchnorm: this pooling cannot be fused");
    if (fer_nn_check4("batchnorm", "pooled output", pooled, N, bn->channels,
                      x->shape[2] / 2, x->shape[3] / 2) < 0)
        return -1;
    if (bn->training && (double)N * S < 2)
        return fer_fail("batchnorm: training needs more than one value per channel");
    struct job j = {bn, x->data, NULL, NULL, pooled->data, N, 1, S,
                    x->shape[2], x->shape[3], 1, NULL, NULL, NULL};
    return run_forward(&j);
}
