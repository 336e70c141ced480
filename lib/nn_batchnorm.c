#include "nn_batchnorm.h"

#include "nn_parallel.h"
#include "nn_pool.h"
#include "nn_vec.h"

#include <math.h>
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

/* Adds the sums of d = p - shift and of d^2 over a plane: float lanes
 * within the plane (each lane sums n/8 values), double across planes. */
static void plane_moments(const float *p, ptrdiff_t n, float shift, double *sum,
                          double *sq)
{
    const fer_v4 k = fer_v4_set1(shift);
    fer_v4 a0 = fer_v4_set1(0), a1 = a0, b0 = a0, b1 = a0;
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        fer_v4 d0 = fer_v4_load(p + i) - k, d1 = fer_v4_load(p + i + 4) - k;
        a0 += d0;
        a1 += d1;
        b0 += d0 * d0;
        b1 += d1 * d1;
    }
    double s = fer_v4_hsum(a0 + a1), q = fer_v4_hsum(b0 + b1);
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

static void pooled_forward(const struct job *j, int c, float scale, float shift)
{
    float buf[2 * POOL_MAX_W];
    const int C = j->bn->channels, W = j->W, OW = j->W / 2, OH = j->H / 2;
    /* Otherwise (scale 0 or not finite, shift not finite, or a scalar
     * tail) the rows are rectified into a buffer and pooled from there. */
    const int monotone = (scale > 0 || scale < 0) && isfinite(scale) && isfinite(shift) &&
                         OW % 4 == 0;
    for (int n = 0; n < j->N; n++) {
        const ptrdiff_t plane = (ptrdiff_t)n * C + c;
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
}

static void forward_channel(const struct job *j, int c)
{
    struct fer_batchnorm *bn = j->bn;
    const int N = j->N, C = bn->channels;
    const ptrdiff_t S = j->S;
    const double M = (double)N * S;
    double mean, invstd;
    if (bn->training) {
        /* One pass over the channel for both moments (the data are read
         * once, not twice: batch norm is memory-bound), taken about one
         * of its own values so that inputs with a large mean do not
         * cancel: var = E[(x - k)^2] - (E[x - k])^2 loses little when k
         * is within a few deviations of the mean. */
        const float shift = j->x[(ptrdiff_t)c * S];
        double sum = 0, sq = 0;
        for (int n = 0; n < N; n++)
            plane_moments(j->x + ((ptrdiff_t)n * C + c) * S, S, shift, &sum, &sq);
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
    float scale = (float)(bn->weight.data[c] * invstd);
    float shift = (float)(bn->bias.data[c] - mean * bn->weight.data[c] * invstd);
    bn->save_scale.data[c] = scale;
    bn->save_shift.data[c] = shift;
    if (j->pooled) {
        pooled_forward(j, c, scale, shift);
        return;
    }
    for (int n = 0; n < N; n++)
        affine(j->x + ((ptrdiff_t)n * C + c) * S, j->out + ((ptrdiff_t)n * C + c) * S, S,
               scale, shift, j->relu);
}

static void forward_channels(void *ctx, long begin, long end)
{
    for (long c = begin; c < end; c++)
        forward_channel(ctx, (int)c);
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
    struct job j = {bn, x->data, NULL, NULL, y->data, N, relu, S, 0, 0, 0};
    fer_nn_parallel_for(bn->channels, 2.0 * N * S, forward_channels, &j);
    if (bn->training)
        bn->num_batches_tracked++;
    return 0;
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

/* Sums of d and of d * (p - mean) in 4 float lanes each; with r, d is
 * taken as 0 where the rectified output r is not positive (ReLU's
 * backward, folded into this pass). n is a multiple of 4; a plane may be
 * fed in pieces (rows) with the same result as in one piece. */
struct dot_acc {
    fer_v4 a, b;
};

static inline void dot_block(struct dot_acc *acc, const float *p, const float *d,
                             const float *r, ptrdiff_t n, float mean)
{
    const fer_v4 m = fer_v4_set1(mean), zero = fer_v4_set1(0);
    fer_v4 a = acc->a, b = acc->b;
    for (ptrdiff_t k = 0; k < n; k += 4) {
        fer_v4 dv = fer_v4_load(d + k);
        if (r)
            dv = (fer_v4)((fer_vi4)dv & (fer_v4_load(r + k) > zero));
        a += dv;
        b += dv * (fer_v4_load(p + k) - m);
    }
    acc->a = a;
    acc->b = b;
}

/* Adds the sums of d and of d * (p - mean) over a plane, d masked by r as
 * above. */
static void plane_dot(const float *p, const float *d, const float *r, ptrdiff_t n,
                      float mean, double *sum_d, double *sum_dp)
{
    struct dot_acc acc = {fer_v4_set1(0), fer_v4_set1(0)};
    const ptrdiff_t n4 = n / 4 * 4;
    dot_block(&acc, p, d, r, n4, mean);
    double sd = fer_v4_hsum(acc.a), sp = fer_v4_hsum(acc.b);
    for (ptrdiff_t k = n4; k < n; k++) {
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
    struct dot_acc acc = {zero, zero};
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
    *sum_d += fer_v4_hsum(acc.a);
    *sum_dp += fer_v4_hsum(acc.b);
}

static void backward_channel(const struct job *j, int c)
{
    struct fer_batchnorm *bn = j->bn;
    const int N = j->N, C = bn->channels;
    const ptrdiff_t S = j->S;
    const double M = (double)N * S;
    const double mean = bn->save_mean.data[c], invstd = bn->save_invstd.data[c];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int n = 0; n < N; n++) {
        const ptrdiff_t o = ((ptrdiff_t)n * C + c) * S;
        if (j->pooled)
            pooled_dot(j, c, o, (float)mean, &sum_dy, &sum_dy_xhat);
        else
            plane_dot(j->x + o, j->dy + o, j->y ? j->y + o : NULL, S, (float)mean, &sum_dy,
                      &sum_dy_xhat);
    }
    sum_dy_xhat *= invstd;
    bn->weight_grad.data[c] += (float)sum_dy_xhat;
    bn->bias_grad.data[c] += (float)sum_dy;
    if (j->out == NULL)
        return;
    const double g = bn->weight.data[c] * invstd;
    /* Training: the batch statistics depend on x too, which subtracts the
     * mean of dy and the projection of dy on xhat. */
    const float a = (float)g;
    const float b = bn->training ? (float)(-g * sum_dy / M) : 0.0f;
    const float e = bn->training ? (float)(-g * sum_dy_xhat * invstd / M) : 0.0f;
    for (int n = 0; n < N; n++) {
        const ptrdiff_t o = ((ptrdiff_t)n * C + c) * S;
        if (j->pooled) /* dx holds the masked gradient (pooled_dot) */
            plane_grad(j->x + o, j->out + o, NULL, j->out + o, S, a, b, e, (float)mean);
        else
            plane_grad(j->x + o, j->dy + o, j->y ? j->y + o : NULL, j->out + o, S, a, b, e,
                       (float)mean);
    }
}

static void backward_channels(void *ctx, long begin, long end)
{
    for (long c = begin; c < end; c++)
        backward_channel(ctx, (int)c);
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
    struct job j = {bn, x->data, y ? y->data : NULL, dy->data, dx ? dx->data : NULL,
                    N, y != NULL, S, 0, 0, 0};
    fer_nn_parallel_for(bn->channels, (y ? 4.0 : 3.0) * N * S, backward_channels, &j);
    return 0;
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
                    N, 1, S, x->shape[2], x->shape[3], 1};
    fer_nn_parallel_for(bn->channels, 3.5 * N * S, backward_channels, &j);
    return 0;
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
                    x->shape[2], x->shape[3], 1};
    fer_nn_parallel_for(bn->channels, 2.25 * N * S, forward_channels, &j);
    if (bn->training)
        bn->num_batches_tracked++;
    return 0;
}
