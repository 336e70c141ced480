#include "nn_pool.h"

#include "nn_parallel.h"
#include "nn_vec.h"

#include <limits.h>
#include <math.h>
#include <string.h>

int fer_pool2d_output_size(const struct fer_pool2d *p, int h, int w, int *oh, int *ow)
{
    if (p->kernel < 1 || p->stride < 1 || p->pad < 0 || p->pad > p->kernel / 2)
        return fer_fail("pool2d: bad kernel %d, stride %d or padding %d", p->kernel,
                        p->stride, p->pad);
    if (h + 2 * p->pad < p->kernel || w + 2 * p->pad < p->kernel)
        return fer_fail("pool2d: %dx%d window does not fit a %dx%d input", p->kernel,
                        p->kernel, h, w);
    *oh = (h + 2 * p->pad - p->kernel) / p->stride + 1;
    *ow = (w + 2 * p->pad - p->kernel) / p->stride + 1;
    return 0;
}

static int check(const struct fer_pool2d *p, const struct fer_tensor *x,
                 const struct fer_tensor *y, const char *yname)
{
    int oh, ow;
    if (fer_nn_check4("pool2d", "input", x, -1, -1, -1, -1) < 0)
        return -1;
    if (x->ndim != 4)
        return fer_fail("pool2d: input must be N x C x H x W");
    if (fer_pool2d_output_size(p, x->shape[2], x->shape[3], &oh, &ow) < 0)
        return -1;
    return fer_nn_check4("pool2d", yname, y, x->shape[0], x->shape[1], oh, ow);
}

/* The window of output (i, j) clipped to the image: rows [*h0, *h1), cols
 * [*w0, *w1). */
static void window(const struct fer_pool2d *p, int H, int W, int i, int j, int *h0,
                   int *h1, int *w0, int *w1)
{
    int hs = i * p->stride - p->pad, ws = j * p->stride - p->pad;
    *h0 = hs < 0 ? 0 : hs;
    *w0 = ws < 0 ? 0 : ws;
    *h1 = hs + p->kernel > H ? H : hs + p->kernel;
    *w1 = ws + p->kernel > W ? W : ws + p->kernel;
}

/* Index in the plane of the first maximum (NaN wins, as in PyTorch). */
static ptrdiff_t argmax(const float *plane, int W, int h0, int h1, int w0, int w1)
{
    ptrdiff_t best = (ptrdiff_t)h0 * W + w0;
    float m = -INFINITY;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) {
            float v = plane[(ptrdiff_t)h * W + w];
            if (v > m || isnan(v)) {
                m = v;
                best = (ptrdiff_t)h * W + w;
                if (isnan(v))
                    return best;
            }
        }
    return best;
}

/* The value at argmax: the plain maximum (a select the compiler makes
 * branch-free; equal values are interchangeable), unless a NaN is seen,
 * then argmax's first NaN. */
static float window_max(const float *plane, int W, int h0, int h1, int w0, int w1)
{
    float m = plane[(ptrdiff_t)h0 * W + w0];
    int nan = 0;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) {
            float v = plane[(ptrdiff_t)h * W + w];
            m = v > m ? v : m;
            nan |= v != v;
        }
    return nan ? plane[argmax(plane, W, h0, h1, w0, w1)] : m;
}

/* 1 when v replaces the running maximum m under argmax's rule: greater,
 * or the first NaN. Bitwise operators rather than || so that the compiler
 * emits compares and selects: the branches mispredicted on random data. */
static inline int beats(float v, float m)
{
    return (v > m) | ((v != v) & (m == m));
}

/* Index (0..3, row-major) of the first maximum of a 2x2 window: the common
 * 2x2 stride-2 pooling of cnn-s, without argmax's loops and calls. */
static inline int argmax4(const float *r0, const float *r1)
{
    float a = r0[0], b = r0[1], c = r1[0], d = r1[1];
    int kab = beats(b, a), kcd = beats(d, c);
    float mab = kab ? b : a, mcd = kcd ? d : c;
    /* The first maximum: the right pair wins only when strictly better. */
    return beats(mcd, mab) ? 2 + kcd : kab;
}

/* The value argmax4 picks (NaN if any, else the maximum). */
static inline float max4(const float *r0, const float *r1)
{
    float a = r0[0], b = r0[1], c = r1[0], d = r1[1];
    float mab = beats(b, a) ? b : a, mcd = beats(d, c) ? d : c;
    return beats(mcd, mab) ? mcd : mab;
}

/* beats() on 4 lanes: all-ones where v replaces m. */
static inline fer_vi4 beats4(fer_v4 v, fer_v4 m)
{
    return (v > m) | ((v != v) & (m == m));
}

/* 2x2 windows of 4 adjacent outputs j..j+3 read from rows r0, r1 at 2j:
 * the masks that pick b over a, d over c, and the (c, d) pair over (a, b),
 * as argmax4, plus the window maxima. */
struct win4 {
    fer_vi4 kab, kcd, kpair;
    fer_v4 max;
};

static inline struct win4 windows4(const float *r0, const float *r1)
{
    fer_v4 x0 = fer_v4_load(r0), x1 = fer_v4_load(r0 + 4);
    fer_v4 y0 = fer_v4_load(r1), y1 = fer_v4_load(r1 + 4);
    fer_v4 a = fer_v4_even(x0, x1), b = fer_v4_odd(x0, x1);
    fer_v4 c = fer_v4_even(y0, y1), d = fer_v4_odd(y0, y1);
    struct win4 w;
    w.kab = beats4(b, a);
    w.kcd = beats4(d, c);
    fer_v4 mab = fer_v4_select(w.kab, b, a), mcd = fer_v4_select(w.kcd, d, c);
    w.kpair = beats4(mcd, mab);
    w.max = fer_v4_select(w.kpair, mcd, mab);
    return w;
}

static int is_2x2(const struct fer_pool2d *p)
{
    return !p->generic && p->kernel == 2 && p->stride == 2 && p->pad == 0;
}

/* ResNet's stem pool: 3x3 windows, stride 2, padding 1. */
static int is_3x3s2p1(const struct fer_pool2d *p, int H, int W)
{
    return !p->generic && p->kernel == 3 && p->stride == 2 && p->pad == 1 &&
           (long long)H * W < INT_MAX;
}

/* v ties m under argmax's rule: equal (+0 and -0 too), or both NaN. */
static inline fer_vi4 ties4(fer_v4 v, fer_v4 m)
{
    return (v == m) | ((v != v) & (m != m));
}

/* The first maximum, in row-major window order as argmax, of the 3x3
 * windows of 4 adjacent outputs k..k+3 of one output row, whose columns
 * start at c0 = 2k - 1: rows[0..nr) are the window's rows inside the
 * image, top first. Separable: each column's first maximum down the rows
 * (value and row), then across the 3 columns, where a later column wins a
 * tie only from a higher row; that is the row-major first. Sets *max and
 * *at, the maximum's plane index minus rows[0]'s (row offset + column). */
/* Columns c0 + 2l, + 1, + 2 of lane l of a row. */
static inline void columns3(const float *row, int c0, fer_v4 v[3])
{
    const float *p = row + c0;
    fer_v4 l0 = fer_v4_load(p), l1 = fer_v4_load(p + 4);
    fer_v4 s0 = fer_v4_load(p + 1), s1 = fer_v4_load(p + 5);
    v[0] = fer_v4_even(l0, l1);
    v[1] = fer_v4_odd(l0, l1);
    v[2] = fer_v4_odd(s0, s1);
}

static inline void windows3x3(const float *const *rows, int nr, int W, int c0, fer_v4 *max,
                              fer_vi4 *at)
{
    fer_v4 m[3];
    fer_vi4 r[3];
    columns3(rows[0], c0, m); /* nr >= 1 */
    for (int c = 0; c < 3; c++)
        r[c] = (fer_vi4){0, 0, 0, 0};
    for (int t = 1; t < nr; t++) {
        fer_v4 v[3];
        columns3(rows[t], c0, v);
        const fer_vi4 off = {t * W, t * W, t * W, t * W};
        for (int c = 0; c < 3; c++) {
            fer_vi4 k = beats4(v[c], m[c]);
            m[c] = fer_v4_select(k, v[c], m[c]);
            r[c] = (r[c] & ~k) | (off & k);
        }
    }
    fer_v4 best = m[0];
    fer_vi4 row = r[0], col = {0, 0, 0, 0};
    for (int c = 1; c < 3; c++) {
        fer_vi4 k = beats4(m[c], best) | (ties4(m[c], best) & (r[c] < row));
        best = fer_v4_select(k, m[c], best);
        row = (row & ~k) | (r[c] & k);
        col = (col & ~k) | ((fer_vi4){c, c, c, c} & k);
    }
    *max = best;
    *at = row + col + (fer_vi4){c0, c0 + 2, c0 + 4, c0 + 6};
}

/* windows3x3 on a copy of columns c0 .. c0 + 8 with -infinity outside
 * the image (see group3x3). */
static void border3x3(const float *const *rows, int nr, int W, int c0, fer_v4 *max,
                      fer_vi4 *at)
{
    float buf[3][12];
    const float *b[3] = {buf[0], buf[1], buf[2]};
    for (int t = 0; t < nr; t++)
        for (int c = 0; c < 9; c++)
            buf[t][c] = c0 + c >= 0 && c0 + c < W ? rows[t][c0 + c] : -INFINITY;
    windows3x3(b, nr, W, 0, max, at);
    *at += (fer_vi4){c0, c0, c0, c0};
}

/* The windows of outputs k..k+3 of a row (k a multiple of 4; some may
 * be past the row's end), by windows3x3: straight from the rows when they
 * lie inside the image across (columns 2k - 1 .. 2k + 7 read), else from
 * a copy of those columns with -infinity outside the image. A padding
 * cell then wins only a window whose cells are all -infinity (the value
 * is right, -infinity, but not the index: *edge says so, and the
 * backward asks argmax for those).
 * Inlined, so that the inner groups' search sits in the caller's loop (as
 * a call it made the forward 10% slower). */
static inline void group3x3(const float *const *rows, int nr, int W, int k, fer_v4 *max,
                            fer_vi4 *at, int *edge)
{
    const int c0 = 2 * k - 1;
    *edge = !(k > 0 && c0 + 8 <= W - 1);
    if (*edge)
        border3x3(rows, nr, W, c0, max, at);
    else
        windows3x3(rows, nr, W, c0, max, at);
}

/* The window rows of output row i inside the image, top first. */
static int rows3x3(const float *plane, int H, int W, int i, const float *rows[3], int *h0)
{
    int hs = 2 * i - 1, nr = 1;
    *h0 = hs < 0 ? 0 : hs;
    rows[0] = plane + (ptrdiff_t)*h0 * W; /* row h0 < H: the pool's output size */
    for (int h = *h0 + 1; h < hs + 3 && h < H; h++)
        rows[nr++] = plane + (ptrdiff_t)h * W;
    return nr;
}

/* One call's planes (n, c), split over the threads: each plane's output
 * and gradient are its own. */
struct pool_job {
    const struct fer_pool2d *p;
    const float *x, *dy;
    float *out;
    int H, W, OH, OW;
};

void fer_maxpool2x2_rows(const float *r0, const float *r1, int OW, float *out)
{
    int k = 0;
    for (; k + 4 <= OW; k += 4)
        fer_v4_store(out + k, windows4(r0 + 2 * k, r1 + 2 * k).max);
    for (; k < OW; k++)
        out[k] = max4(r0 + 2 * k, r1 + 2 * k);
}

static void maxpool_2x2_plane(const struct pool_job *j, ptrdiff_t pl)
{
    const int H = j->H, W = j->W, OH = j->OH, OW = j->OW;
    for (int i = 0; i < OH; i++) {
        const float *r0 = j->x + (pl * H + 2 * i) * W;
        fer_maxpool2x2_rows(r0, r0 + W, OW, j->out + (pl * OH + i) * OW);
    }
}

static void maxpool_3x3_plane(const struct pool_job *j, ptrdiff_t pl)
{
    const int H = j->H, W = j->W, OH = j->OH, OW = j->OW;
    const float *in = j->x + pl * H * W;
    for (int i = 0; i < OH; i++) {
        float *out = j->out + (pl * OH + i) * OW;
        const float *rows[3];
        int h0, nr = rows3x3(in, H, W, i, rows, &h0);
        for (int k = 0; k < OW; k += 4) {
            fer_v4 m;
            fer_vi4 at;
            int edge;
            group3x3(rows, nr, W, k, &m, &at, &edge);
            if (k + 4 <= OW) {
                fer_v4_store(out + k, m);
                continue;
            }
            for (int l = 0; k + l < OW; l++)
                out[k + l] = m[l];
        }
    }
}

static void maxpool_plane(const struct pool_job *j, ptrdiff_t pl)
{
    if (is_2x2(j->p)) {
        maxpool_2x2_plane(j, pl);
        return;
    }
    const int H = j->H, W = j->W, OH = j->OH, OW = j->OW;
    if (is_3x3s2p1(j->p, H, W)) {
        maxpool_3x3_plane(j, pl);
        return;
    }
    const float *in = j->x + pl * H * W;
    float *out = j->out + pl * OH * OW;
    for (int i = 0; i < OH; i++)
        for (int k = 0; k < OW; k++) {
            int h0, h1, w0, w1;
            window(j->p, H, W, i, k, &h0, &h1, &w0, &w1);
            out[i * OW + k] = window_max(in, W, h0, h1, w0, w1);
        }
}

static void maxpool_planes(void *ctx, long begin, long end)
{
    for (long pl = begin; pl < end; pl++)
        maxpool_plane(ctx, pl);
}

int fer_maxpool2d_forward(const struct fer_pool2d *p, const struct fer_tensor *x,
                          struct fer_tensor *y)
{
    if (check(p, x, y, "output") < 0)
        return -1;
    struct pool_job j = {p, x->data, NULL, y->data, x->shape[2], x->shape[3],
                         y->shape[2], y->shape[3]};
    fer_nn_parallel_for((long)x->shape[0] * x->shape[1],
                        (double)j.H * j.W + (double)j.OH * j.OW, maxpool_planes, &j);
    return 0;
}

void fer_maxpool2x2_grad_rows(const float *r0, const float *r1, const float *g, int OW,
                              float *d0, float *d1)
{
    int k = 0;
    for (; k + 4 <= OW; k += 4) {
        struct win4 w = windows4(r0 + 2 * k, r1 + 2 * k);
        fer_vi4 gv = (fer_vi4)fer_v4_load(g + k);
        fer_v4 top = (fer_v4)(gv & ~w.kpair), bot = (fer_v4)(gv & w.kpair);
        fer_v4 a = (fer_v4)((fer_vi4)top & ~w.kab), b = (fer_v4)((fer_vi4)top & w.kab);
        fer_v4 c = (fer_v4)((fer_vi4)bot & ~w.kcd), d = (fer_v4)((fer_vi4)bot & w.kcd);
        fer_v4_store(d0 + 2 * k, fer_v4_zip_lo(a, b));
        fer_v4_store(d0 + 2 * k + 4, fer_v4_zip_hi(a, b));
        fer_v4_store(d1 + 2 * k, fer_v4_zip_lo(c, d));
        fer_v4_store(d1 + 2 * k + 4, fer_v4_zip_hi(c, d));
    }
    for (; k < OW; k++) {
        int m = argmax4(r0 + 2 * k, r1 + 2 * k);
        (m < 2 ? d0 : d1)[2 * k + (m & 1)] = g[k];
    }
}

/* The 2x2 vector path writes whole windows, zeros included; the scalar
 * tail and any border row or column it leaves are cleared first. */
static void maxpool_2x2_grad_plane(const struct pool_job *j, ptrdiff_t pl)
{
    const int H = j->H, W = j->W, OH = j->OH, OW = j->OW;
    if (!(H == 2 * OH && W == 2 * OW && OW % 4 == 0))
        memset(j->out + pl * H * W, 0, sizeof(float) * H * W);
    for (int i = 0; i < OH; i++) {
        const float *r0 = j->x + (pl * H + 2 * i) * W;
        float *d0 = j->out + (pl * H + 2 * i) * W;
        fer_maxpool2x2_grad_rows(r0, r0 + W, j->dy + (pl * OH + i) * OW, OW, d0, d0 + W);
    }
}

/* Each output's gradient is added where windows3x3 (or argmax at the
 * borders) finds its maximum, outputs in row-major order as the general
 * path, so that cells shared by overlapping windows sum in the same
 * order. */
static void maxpool_3x3_grad_plane(const struct pool_job *j, ptrdiff_t pl)
{
    const int H = j->H, W = j->W, OH = j->OH, OW = j->OW;
    const float *in = j->x + pl * H * W;
    float *out = j->out + pl * H * W;
    memset(out, 0, sizeof(float) * H * W);
    for (int i = 0; i < OH; i++) {
        const float *g = j->dy + (pl * OH + i) * OW;
        const float *rows[3];
        int h0, nr = rows3x3(in, H, W, i, rows, &h0);
        float *top = out + (ptrdiff_t)h0 * W;
        for (int k = 0; k < OW; k += 4) {
            fer_v4 m;
            fer_vi4 at;
            int edge;
            group3x3(rows, nr, W, k, &m, &at, &edge);
            for (int l = 0; l < 4 && k + l < OW; l++) {
                if (edge && m[l] == -INFINITY) {
                    int a0, a1, b0, b1;
                    window(j->p, H, W, i, k + l, &a0, &a1, &b0, &b1);
                    out[argmax(in, W, a0, a1, b0, b1)] += g[k + l];
                } else {
                    top[at[l]] += g[k + l];
                }
            }
        }
    }
}

static void maxpool_grad_plane(const struct pool_job *j, ptrdiff_t pl)
{
    if (is_2x2(j->p)) {
        maxpool_2x2_grad_plane(j, pl);
        return;
    }
    const int H = j->H, W = j->W, OH = j->OH, OW = j->OW;
    if (is_3x3s2p1(j->p, H, W)) {
        maxpool_3x3_grad_plane(j, pl);
        return;
    }
    const float *in = j->x + pl * H * W;
    const float *g = j->dy + pl * OH * OW;
    float *out = j->out + pl * H * W;
    memset(out, 0, sizeof(float) * H * W);
    for (int i = 0; i < OH; i++)
        for (int k = 0; k < OW; k++) {
            int h0, h1, w0, w1;
            window(j->p, H, W, i, k, &h0, &h1, &w0, &w1);
            out[argmax(in, W, h0, h1, w0, w1)] += g[i * OW + k];
        }
}

static void maxpool_grad_planes(void *ctx, long begin, long end)
{
    for (long pl = begin; pl < end; pl++)
        maxpool_grad_plane(ctx, pl);
}

int fer_maxpool2d_backward(const struct fer_pool2d *p, const struct fer_tensor *x,
                           const struct fer_tensor *dy, struct fer_tensor *dx)
{
    if (check(p, x, dy, "output gradient") < 0 ||
        fer_nn_check_same("pool2d", "input gradient", dx, x) < 0)
        return -1;
    struct pool_job j = {p, x->data, dy->data, dx->data, x->shape[2], x->shape[3],
                         dy->shape[2], dy->shape[3]};
    fer_nn_parallel_for((long)x->shape[0] * x->shape[1],
                        2.0 * j.H * j.W + (double)j.OH * j.OW, maxpool_grad_planes, &j);
    return 0;
}

static float divisor(const struct fer_pool2d *p, int h0, int h1, int w0, int w1)
{
    /* With ceil_mode=False a window never passes the padded border, so
     * counting the padding always gives k*k. */
    if (p->count_include_pad)
        return (float)(p->kernel * p->kernel);
    return (float)((h1 - h0) * (w1 - w0));
}

int fer_avgpool2d_forward(const struct fer_pool2d *p, const struct fer_tensor *x,
                          struct fer_tensor *y)
{
    if (check(p, x, y, "output") < 0)
        return -1;
    const int H = x->shape[2], W = x->shape[3], OH = y->shape[2], OW = y->shape[3];
    const ptrdiff_t planes = (ptrdiff_t)x->shape[0] * x->shape[1];
    for (ptrdiff_t pl = 0; pl < planes; pl++) {
        const float *in = x->data + pl * H * W;
        float *out = y->data + pl * OH * OW;
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++) {
                int h0, h1, w0, w1;
                window(p, H, W, i, j, &h0, &h1, &w0, &w1);
                float s = 0;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                        s += in[h * W + w];
                out[i * OW + j] = s / divisor(p, h0, h1, w0, w1);
            }
    }
    return 0;
}

int fer_avgpool2d_backward(const struct fer_pool2d *p, const struct fer_tensor *dy,
                           struct fer_tensor *dx)
{
    if (check(p, dx, dy, "output gradient") < 0)
        return -1;
    const int H = dx->shape[2], W = dx->shape[3], OH = dy->shape[2], OW = dy->shape[3];
    const ptrdiff_t planes = (ptrdiff_t)dx->shape[0] * dx->shape[1];
    memset(dx->data, 0, sizeof(float) * fer_tensor_numel(dx));
    for (ptrdiff_t pl = 0; pl < planes; pl++) {
        const float *g = dy->data + pl * OH * OW;
        float *out = dx->data + pl * H * W;
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++) {
                int h0, h1, w0, w1;
                window(p, H, W, i, j, &h0, &h1, &w0, &w1);
                float v = g[i * OW + j] / divisor(p, h0, h1, w0, w1);
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++)
                        out[h * W + w] += v;
            }
    }
    return 0;
}

static int check_global(const struct fer_tensor *x, const struct fer_tensor *y,
                        const char *xname, const char *yname)
{
    if (fer_nn_check4("global_avgpool", xname, x, -1, -1, -1, -1) < 0)
        return -1;
    if (x->ndim != 4)
        return fer_fail("global_avgpool: input must be N x C x H x W");
    if (fer_nn_check4("global_avgpool", yname, y, x->shape[0], -1, -1, -1) < 0)
        return -1;
    if (fer_tensor_numel(y) != (size_t)x->shape[0] * x->shape[1])
        return fer_fail("global_avgpool: %s must hold N x C values", yname);
    return 0;
}

struct gap_job {
    const float *in;
    float *out;
    ptrdiff_t S;
};

static void gap_planes(void *ctx, long begin, long end)
{
    const struct gap_job *j = ctx;
    for (long pl = begin; pl < end; pl++) {
        const float *in = j->in + pl * j->S;
        float s = 0;
        for (ptrdiff_t k = 0; k < j->S; k++)
            s += in[k];
        j->out[pl] = s / (float)j->S;
    }
}

static void gap_grad_planes(void *ctx, long begin, long end)
{
    const struct gap_job *j = ctx;
    for (long pl = begin; pl < end; pl++) {
        float v = j->in[pl] / (float)j->S, *out = j->out + pl * j->S;
        for (ptrdiff_t k = 0; k < j->S; k++)
            out[k] = v;
    }
}

int fer_global_avgpool_forward(const struct fer_tensor *x, struct fer_tensor *y)
{
    if (check_global(x, y, "input", "output") < 0)
        return -1;
    struct gap_job j = {x->data, y->data, (ptrdiff_t)x->shape[2] * x->shape[3]};
    fer_nn_parallel_for((long)x->shape[0] * x->shape[1], (double)j.S, gap_planes, &j);
    return 0;
}

int fer_global_avgpool_backward(const struct fer_tensor *dy, struct fer_tensor *dx)
{
    if (check_global(dx, dy, "input gradient", "output gradient") < 0)
        return -1;
    struct gap_job j = {dy->data, dx->data, (ptrdiff_t)dx->shape[2] * dx->shape[3]};
    fer_nn_parallel_for((long)dx->shape[0] * dx->shape[1], (double)j.S, gap_grad_planes,
                        &j);
    return 0;
}
