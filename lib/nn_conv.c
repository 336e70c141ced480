#include "nn_conv.h"

#include "conv_direct.h"
#include "conv_winograd.h"
#include "gemm.h"
#include "nn_parallel.h"
#include "nn_vec.h"

#include <string.h>

/* Columns per GEMM we aim for when batching small outputs (several images
 * side by side in one GEMM): enough that OpenBLAS runs its kernels at full
 * rate on 4x4 to 8x8 outputs, few enough that the column buffer stays in
 * the core's own cache between im2col and OpenBLAS's packing of it. 4096
 * made cnn-s training 10-20% slower in CPU time than 512 (3 x 3 stride 1
 * columns of 32 px images no longer fit L2); 512 batches only outputs
 * below 16 x 16, where the batch/unbatch copies are small. */
enum { TARGET_COLUMNS = 512 };
static const size_t COLUMN_BLOCK_BYTES = (size_t)512 << 10;
static const size_t MAX_COLUMN_BYTES = (size_t)64 << 20;

/* Below this many rows (channels x kernel taps) the implicit GEMM does
 * not pay; see implicit_images. */
enum { IMPLICIT_MIN_K = 32 };

static int norm1(int v)
{
    return v == 0 ? 1 : v;
}

int fer_conv2d_init(struct fer_conv2d *c, const struct fer_conv2d_spec *spec)
{
    memset(c, 0, sizeof *c);
    struct fer_conv2d_spec s = *spec;
    s.dilation_h = norm1(s.dilation_h);
    s.dilation_w = norm1(s.dilation_w);
    s.groups = norm1(s.groups);
    if (s.in_channels < 1 || s.out_channels < 1 || s.kernel_h < 1 || s.kernel_w < 1)
        return fer_fail("conv2d: channels and kernel size must be positive");
    if (s.stride_h < 1 || s.stride_w < 1 || s.pad_h < 0 || s.pad_w < 0 ||
        s.dilation_h < 1 || s.dilation_w < 1 || s.groups < 1)
        return fer_fail("conv2d: bad stride, padding, dilation or groups");
    if (s.in_channels % s.groups || s.out_channels % s.groups)
        return fer_fail("conv2d: %d groups do not divide %d -> %d channels",
                        s.groups, s.in_channels, s.out_channels);
    c->spec = s;
    const int wshape[4] = {s.out_channels, s.in_channels / s.groups, s.kernel_h,
                           s.kernel_w};
    if (fer_tensor_alloc(&c->weight, 4, wshape) < 0 ||
        fer_tensor_alloc(&c->weight_grad, 4, wshape) < 0)
        goto fail;
    if (s.bias && (fer_tensor_alloc(&c->bias, 1, &s.out_channels) < 0 ||
                   fer_tensor_alloc(&c->bias_grad, 1, &s.out_channels) < 0))
        goto fail;
    return 0;
fail:
    fer_conv2d_free(c);
    return -1;
}

void fer_conv2d_free(struct fer_conv2d *c)
{
    fer_tensor_free(&c->weight);
    fer_tensor_free(&c->weight_grad);
    fer_tensor_free(&c->bias);
    fer_tensor_free(&c->bias_grad);
}

void fer_conv2d_zero_grad(struct fer_conv2d *c)
{
    fer_tensor_fill(&c->weight_grad, 0);
    if (c->bias_grad.data)
        fer_tensor_fill(&c->bias_grad, 0);
}

static int out_dim(int in, int k, int stride, int pad, int dil)
{
    int span = dil * (k - 1) + 1;
    if (in + 2 * pad < span)
        return -1;
    return (in + 2 * pad - span) / stride + 1;
}

int fer_conv2d_output_size(const struct fer_conv2d *c, int h, int w, int *oh,
                           int *ow)
{
    const struct fer_conv2d_spec *s = &c->spec;
    *oh = out_dim(h, s->kernel_h, s->stride_h, s->pad_h, s->dilation_h);
    *ow = out_dim(w, s->kernel_w, s->stride_w, s->pad_w, s->dilation_w);
    if (*oh < 1 || *ow < 1)
        return fer_fail("conv2d: %dx%d kernel does not fit a %dx%d input",
                        s->kernel_h, s->kernel_w, h, w);
    return 0;
}

/* Output positions o in [*lo, *hi) whose input index o*stride + off falls in
 * [0, n): the rest read zero padding. */
static void valid_range(int n_out, int n, int stride, int off, int *lo, int *hi)
{
    int l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int h = n - 1 - off < 0 ? 0 : (n - 1 - off) / stride + 1;
    if (h > n_out)
        h = n_out;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

struct geom {
    int C, H, W;     /* input channels of one group, input size */
    int OH, OW;
    int KH, KW, SH, SW, PH, PW, DH, DW;
};

/* Short row copies and fills, inline: im2col's rows are an output row
 * wide (4 to 112 floats here); below 32 floats a libc memcpy/memset call
 * costs as much as the copy itself (they were 7% of a ResNet-18 step).
 * GCC would turn these loops back into the calls; the attribute stops it. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_LIBC_CALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_LIBC_CALLS
#endif

static inline void copy_row(float *restrict dst, const float *restrict src, int n)
{
    if (n >= 32) {
        /* Long rows: libc's wide-vector copy is faster than 4 lanes. */
        memcpy(dst, src, sizeof(float) * n);
        return;
    }
    int k = 0;
    for (; k + 4 <= n; k += 4)
        fer_v4_store(dst + k, fer_v4_load(src + k));
    for (; k < n; k++)
        dst[k] = src[k];
}

static inline void zero_row(float *dst, int n)
{
    if (n >= 32) {
        memset(dst, 0, sizeof(float) * n);
        return;
    }
    int k = 0;
    for (; k + 4 <= n; k += 4)
        fer_v4_store(dst + k, fer_v4_set1(0));
    for (; k < n; k++)
        dst[k] = 0;
}

/* im2col for a convolution of stride 1 that keeps the width (no
 * horizontal dilation, OW == W): a row (c, ki, kj) is then the input plane
 * shifted by one offset, so its valid rows are one contiguous copy; only
 * the edge columns, which the copy fills with the neighbouring row's
 * pixels, are zeroed after it. Per output row the general loop paid a
 * range computation, a short copy and two fills, which dominated at 8-32
 * px outputs. Both 3 x 3 padding-1 forwards and every stride-1 input
 * gradient (a convolution of dy, padded to keep the width) take it. */
NO_LIBC_CALLS static void im2col_same_width(const struct geom *g, const float *x, int ch,
                                            float *col, ptrdiff_t ld)
{
    const ptrdiff_t P = (ptrdiff_t)g->OH * g->OW;
    for (int ki = 0; ki < g->KH; ki++) {
        /* Output rows oh in [rlo, rhi) read input row oh + offh. */
        int offh = ki * g->DH - g->PH, rlo, rhi;
        valid_range(g->OH, g->H, g->SH, offh, &rlo, &rhi);
        for (int kj = 0; kj < g->KW; kj++) {
            float *row = col + ((ptrdiff_t)(ch * g->KH + ki) * g->KW + kj) * ld;
            int offw = kj - g->PW, lo, hi;
            valid_range(g->OW, g->W, 1, offw, &lo, &hi);
            if (rlo >= rhi || lo >= hi) {
                zero_row(row, (int)P);
                continue;
            }
            const ptrdiff_t first = (ptrdiff_t)rlo * g->OW + lo;
            const ptrdiff_t last = (ptrdiff_t)(rhi - 1) * g->OW + hi; /* exclusive */
            /* The fills are an output row or so: inline, not libc calls. */
            zero_row(row, (int)first);
            memcpy(row + first, x + ((ptrdiff_t)ch * g->H + rlo + offh) * g->W + lo + offw,
                   sizeof(float) * (last - first));
            zero_row(row + last, (int)(P - last));
            /* The edge columns: on the left for kj < PW, on the right for
             * kj > PW, none for the centre column of the kernel. */
            if (lo > 0)
                for (int oh = rlo; oh < rhi; oh++)
                    zero_row(row + (ptrdiff_t)oh * g->OW, lo);
            if (hi < g->OW)
                for (int oh = rlo; oh < rhi; oh++)
                    zero_row(row + (ptrdiff_t)oh * g->OW + hi, g->OW - hi);
        }
    }
}

/* Unfold channel ch of one image's group (C x H x W) into its rows
 * (ch, ki, kj) of OH*OW columns, row stride ld. */
NO_LIBC_CALLS static void im2col(const struct geom *g, const float *x, int ch, float *col,
                                 ptrdiff_t ld)
{
    if (g->SH == 1 && g->SW == 1 && g->DW == 1 && g->OW == g->W) {
        im2col_same_width(g, x, ch, col, ld);
        return;
    }
    for (int ki = 0; ki < g->KH; ki++)
        for (int kj = 0; kj < g->KW; kj++) {
            float *row = col + ((ptrdiff_t)(ch * g->KH + ki) * g->KW + kj) * ld;
            int offw = kj * g->DW - g->PW, lo, hi;
            valid_range(g->OW, g->W, g->SW, offw, &lo, &hi);
            for (int oh = 0; oh < g->OH; oh++) {
                float *dst = row + (ptrdiff_t)oh * g->OW;
                int ih = oh * g->SH - g->PH + ki * g->DH;
                if (ih < 0 || ih >= g->H) {
                    zero_row(dst, g->OW);
                    continue;
                }
                const float *src = x + ((ptrdiff_t)ch * g->H + ih) * g->W + offw;
                for (int ow = 0; ow < lo; ow++)
                    dst[ow] = 0;
                if (g->SW == 1)
                    copy_row(dst + lo, src + lo, hi - lo);
                else
                    for (int ow = lo; ow < hi; ow++)
                        dst[ow] = src[ow * g->SW];
                for (int ow = hi; ow < g->OW; ow++)
                    dst[ow] = 0;
            }
        }
}

/* The adjoint of im2col for channel ch: dx's plane ch is overwritten with
 * the sum of the column entries that read each pixel. */
static void col2im(const struct geom *g, const float *col, ptrdiff_t ld, int ch, float *dx)
{
    memset(dx + (ptrdiff_t)ch * g->H * g->W, 0, sizeof(float) * g->H * g->W);
    for (int ki = 0; ki < g->KH; ki++)
        for (int kj = 0; kj < g->KW; kj++) {
            const float *row = col + ((ptrdiff_t)(ch * g->KH + ki) * g->KW + kj) * ld;
            int offw = kj * g->DW - g->PW, lo, hi;
            valid_range(g->OW, g->W, g->SW, offw, &lo, &hi);
            for (int oh = 0; oh < g->OH; oh++) {
                int ih = oh * g->SH - g->PH + ki * g->DH;
                if (ih < 0 || ih >= g->H)
                    continue;
                const float *src = row + (ptrdiff_t)oh * g->OW;
                float *dst = dx + ((ptrdiff_t)ch * g->H + ih) * g->W + offw;
                if (g->SW == 1)
                    for (int ow = lo; ow < hi; ow++)
                        dst[ow] += src[ow];
                else
                    for (int ow = lo; ow < hi; ow++)
                        dst[ow * g->SW] += src[ow];
            }
        }
}

/* The copies around a GEMM of nn images, split over the threads by
 * (image, channel) pair: every pair writes its own rows or plane, so the
 * split changes no bit. Images are `xs` floats apart in x; image i's
 * columns start at col + i * P (P = OH * OW) in rows ld floats apart. */
enum copy_kind { IM2COL, COL2IM, BATCH, UNBATCH };

struct copy_job {
    enum copy_kind kind;
    const struct geom *g;
    const float *src;
    float *dst;
    ptrdiff_t xs, P, ld;
    int C; /* channels per image: g->C, or the GEMM's rows for (un)batch */
};

NO_LIBC_CALLS static void copy_items(void *ctx, long begin, long end)
{
    const struct copy_job *j = ctx;
    for (long item = begin; item < end; item++) {
        const int i = (int)(item / j->C), ch = (int)(item % j->C);
        switch (j->kind) {
        case IM2COL:
            im2col(j->g, j->src + i * j->xs, ch, j->dst + i * j->P, j->ld);
            break;
        case COL2IM:
            col2im(j->g, j->src + i * j->P, j->ld, ch, j->dst + i * j->xs);
            break;
        case BATCH: /* row ch of the GEMM matrix: channel ch of images 0..nn-1 */
            copy_row(j->dst + (ch * (j->ld / j->P) + i) * j->P, j->src + i * j->xs + ch * j->P,
                     (int)j->P);
            break;
        case UNBATCH:
            copy_row(j->dst + i * j->xs + ch * j->P, j->src + (ch * (j->ld / j->P) + i) * j->P,
                     (int)j->P);
            break;
        }
    }
}

static void copy_run(const struct copy_job *j, int nn, double floats_per_item)
{
    fer_nn_parallel_for((long)nn * j->C, floats_per_item, copy_items, (void *)j);
}

/* im2col of nn images x (xs floats apart) into col (row stride nn * P). */
static void im2col_images(const struct geom *g, const float *x, ptrdiff_t xs, int nn,
                          float *col)
{
    const ptrdiff_t P = (ptrdiff_t)g->OH * g->OW;
    struct copy_job j = {IM2COL, g, x, col, xs, P, nn * P, g->C};
    copy_run(&j, nn, 1.2 * g->KH * g->KW * P);
}

/* col2im of nn images' columns into dx (images xs floats apart), overwriting. */
static void col2im_images(const struct geom *g, const float *col, int nn, float *dx,
                          ptrdiff_t xs)
{
    const ptrdiff_t P = (ptrdiff_t)g->OH * g->OW;
    struct copy_job j = {COL2IM, g, col, dx, xs, P, nn * P, g->C};
    copy_run(&j, nn, 2.0 * g->KH * g->KW * P);
}

/* A batched GEMM's rows hold nn images side by side: row o of the
 * rows x (nn*P) matrix m is channel o of images 0..nn-1. unbatch copies them
 * out to images `stride` floats apart, batch gathers them in. */
static void unbatch(const float *m, int nn, int rows, ptrdiff_t P, float *img,
                    ptrdiff_t stride)
{
    struct copy_job j = {UNBATCH, NULL, m, img, stride, P, nn * P, rows};
    copy_run(&j, nn, 2.0 * P);
}

static void batch(const float *img, ptrdiff_t stride, int nn, int rows, ptrdiff_t P,
                  float *m)
{
    struct copy_job j = {BATCH, NULL, img, m, stride, P, nn * P, rows};
    copy_run(&j, nn, 2.0 * P);
}

/* Common checks; fills geometry and the images-per-GEMM count. */
static int setup(const struct fer_conv2d *c, const struct fer_tensor *x,
                 const struct fer_tensor *y, const char *yname, struct geom *g,
                 int *batch)
{
    const struct fer_conv2d_spec *s = &c->spec;
    if (c->weight.data == NULL)
        return fer_fail("conv2d: layer not initialised");
    if (fer_nn_check4("conv2d", "input", x, -1, s->in_channels, -1, -1) < 0)
        return -1;
    if (x->ndim != 4)
        return fer_fail("conv2d: input must be N x C x H x W");
    int oh, ow;
    if (fer_conv2d_output_size(c, x->shape[2], x->shape[3], &oh, &ow) < 0)
        return -1;
    if (fer_nn_check4("conv2d", yname, y, x->shape[0], s->out_channels, oh, ow) < 0)
        return -1;
    *g = (struct geom){s->in_channels / s->groups, x->shape[2], x->shape[3], oh, ow,
                       s->kernel_h, s->kernel_w, s->stride_h, s->stride_w,
                       s->pad_h, s->pad_w, s->dilation_h, s->dilation_w};
    size_t P = (size_t)oh * ow;
    size_t K = (size_t)g->C * g->KH * g->KW;
    size_t nb = P >= TARGET_COLUMNS ? 1 : TARGET_COLUMNS / P;
    /* Thin columns (1x1 layers: 64-256 rows) batch further, up to half
     * a megabyte: their weight gradient is one product per batch, and at
     * 2 images (512 columns) a second thread barely sped it up. */
    const size_t by_bytes = COLUMN_BLOCK_BYTES / (K * P * sizeof(float));
    if (by_bytes > nb)
        nb = by_bytes;
    while (nb > 1 && K * nb * P * sizeof(float) > MAX_COLUMN_BYTES)
        nb /= 2;
    if (nb > (size_t)x->shape[0])
        nb = (size_t)x->shape[0];
    *batch = nb < 1 ? 1 : (int)nb;
    return 0;
}

static void add_bias(const struct fer_conv2d *c, struct fer_tensor *y, int N, ptrdiff_t P)
{
    const int O = c->spec.out_channels;
    if (c->bias.data)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < O; o++) {
                float b = c->bias.data[o], *p = y->data + ((ptrdiff_t)n * O + o) * P;
                for (ptrdiff_t k = 0; k < P; k++)
                    p[k] += b;
            }
}

/* Use the tap classes (fer_sgemm_conv_taps) when at least this fraction
 * of the products read padding, and the product is tall and deep enough
 * for its overheads: its columns are packed by runs (more loads than the
 * plain implicit GEMM) for every TAPS_MIN_ROWS / 8 row panels that use
 * them, and its results are copied out to their places once per K
 * products. Forward, 3 x 3 padding 1, 1 thread, CPU time best of 3 x 40,
 * classes vs plain: 4 px 512 ch 1.24x faster, 7 px 256 ch 1.12x, 8 px
 * 128 -> 256 1.02-1.04x, 14 px 128 ch 1.01-1.03x (9.3% padding); slower: 16 px
 * 64 -> 128 (K = 576) 0.93x, 28 px 64 ch 0.89x. */
static const double TAPS_MIN_PADDING = 0.09;
enum { TAPS_MIN_ROWS = 128, TAPS_MIN_K = 1024 };

/* The weight gradient by tap class (weight_grad_taps) pays only with more
 * padding: its class columns are copied out (a short copy per output
 * row) and its products are many and small. Backward (input and weight
 * gradients), 1 thread, CPU time best of 3 x 40, weight gradient by
 * class vs im2col: 4 px 512 ch 1.08x, 7 -> 4 px stride 2 1.12x, 7 px
 * 256 ch 1.015x; slower: 8 px 128 -> 256 0.96x, 14 px 128 ch 0.93x. */
static const double TAPS_DW_MIN_PADDING = 0.25;

/* Whether a product of `rows` rows over the columns of sh takes the tap
 * classes, given the padding it needs (TAPS_MIN_PADDING, or
 * TAPS_DW_MIN_PADDING for the weight gradient). */
static int taps_pay(const struct fer_conv_shape *sh, int rows, double min_padding)
{
    const long K = (long)sh->channels * sh->kernel_h * sh->kernel_w;
    return rows >= TAPS_MIN_ROWS && K >= TAPS_MIN_K &&
           fer_conv_padding_fraction(sh) >= min_padding;
}

/* Each row r of rows x (a x b) floats transposed: dst[r][j][i] = src[r][i][j],
 * or += with add. The weights made tap-major for fer_sgemm_conv_taps
 * (a = C, b = kk) and the tap-major weight gradient added back (a = kk,
 * b = C); split over the threads by row. */
struct transpose_job {
    int a, b, add;
    const float *src;
    float *dst;
};

static void transpose_rows(void *ctx, long begin, long end)
{
    const struct transpose_job *j = ctx;
    const ptrdiff_t K = (ptrdiff_t)j->a * j->b;
    /* Written in order, read b floats apart within the row (in L1): the
     * other way round, the strided writes took 1.6% of a ResNet-18 step. */
    for (long r = begin; r < end; r++) {
        const float *src = j->src + r * K;
        float *dst = j->dst + r * K;
        for (int jj = 0; jj < j->b; jj++)
            for (int i = 0; i < j->a; i++) {
                const float v = src[(ptrdiff_t)i * j->b + jj];
                float *d = dst + (ptrdiff_t)jj * j->a + i;
                *d = j->add ? *d + v : v;
            }
    }
}

/* out = w * cols(in) by tap class, skipping the padding: the weights
 * reordered tap-major into scratch, then one fer_sgemm_conv_taps per
 * group. Arguments as implicit_images. */
static int implicit_taps(const struct geom *g, const struct fer_conv_shape *sh, int G,
                         int Og, const float *w, const float *in, float *out,
                         ptrdiff_t os, struct fer_arena *scratch)
{
    const ptrdiff_t P = (ptrdiff_t)g->OH * g->OW, K = (ptrdiff_t)g->C * g->KH * g->KW;
    struct fer_arena_mark mark = fer_arena_mark(scratch);
    float *wt = fer_arena_alloc(scratch, sizeof(float) * G * Og * K);
    if (wt == NULL)
        return fer_fail_context("conv2d");
    struct transpose_job tj = {g->C, g->KH * g->KW, 0, w, wt};
    fer_nn_parallel_for((long)G * Og, 2.0 * K, transpose_rows, &tj);
    int rc = 0;
    for (int gi = 0; gi < G && rc == 0; gi++)
        rc = fer_sgemm_conv_taps(Og, wt + gi * Og * K, (int)K, sh,
                                 in + (ptrdiff_t)gi * g->C * g->H * g->W,
                                 out + (ptrdiff_t)gi * Og * P, P, os);
    fer_arena_release(scratch, mark);
    return rc;
}

/* Winograd F(2x2, 3x3) (conv_winograd.h) for 3 x 3, stride-1, padding-1
 * layers when it needs at least WINOGRAD_MIN_SAVING times fewer products
 * than the direct sum over the taps that read the image (what the tap
 * classes compute): per (input, output channel) pair, (3H - 2)(3W - 2)
 * direct products against 16 per 2 x 2 tile, ceil(H/2) ceil(W/2) tiles.
 * 8 px and up save 1.9x or more; below, the tile grid overhangs the
 * image. Forward, 1 thread, nn-bench GFLOP/s, main -> Winograd (saving):
 * 2 px 512 ch 139 -> 101 (1.0), 3 px 512 ch 133 -> 91 (0.77), 5 px 256
 * ch 127 -> 129 (1.17), 4 px 512 ch 129 -> 159 (1.56), 4 px 128 ch
 * 101 -> 134, 7 px 256 ch 123 -> 155 (1.41), 6 px 256 ch 124 -> 185
 * (1.78), 14 px 128 ch 106 -> 193, 28 px 64 ch 99 -> 173; the input
 * gradients (same shapes, through the flipped weights) follow. */
static const double WINOGRAD_MIN_SAVING = 1.3;

static int winograd_pays(const struct fer_conv_shape *sh)
{
    const double direct = (3.0 * sh->out_h - 2) * (3.0 * sh->out_w - 2);
    const double tiles = (double)((sh->out_h + 1) / 2) * ((sh->out_w + 1) / 2);
    return direct >= WINOGRAD_MIN_SAVING * 16 * tiles && fer_conv_winograd_fits(sh);
}

/* out = w * cols(in) for all N images and G groups without im2col
 * (fer_sgemm_conv packs the columns straight from the images): g is one
 * group's geometry, in images `is` floats apart, out images `os` apart,
 * each group's weights Og x (g->C * KH * KW). 3 x 3 stride-1 padding-1
 * layers of 4 px and 6 px and more by Winograd F(2x2, 3x3)
 * (winograd_pays): the forward and, through the flipped weights, the
 * input gradient. Where enough of the products would read padding, by
 * tap class (implicit_taps). Returns 1 when that path is not available or
 * would not pay (the caller then does im2col), 0 done, -1 on error. */
static int implicit_images(const struct geom *g, int N, int G, int Og, const float *w,
                           const float *in, ptrdiff_t is, float *out, ptrdiff_t os,
                           struct fer_arena *scratch)
{
    const struct fer_conv_shape sh = {g->C, g->H, g->W, g->OH, g->OW, g->KH, g->KW,
                                      g->SH, g->SW, g->PH, g->PW, g->DH, g->DW, N, is};
    const ptrdiff_t P = (ptrdiff_t)g->OH * g->OW, K = (ptrdiff_t)g->C * g->KH * g->KW;
    /* A panel's setup (its lanes' rows, columns and images) is paid once
     * for its K rows: with K = 9 (a 1-channel 3 x 3 layer) it cost more
     * than im2col's copy, and that forward ran 20% slower than with
     * im2col (CPU time, best of 40, here). Such layers (one group, stride
     * 1) are computed along the output rows instead (conv_direct.h). */
    if (K < IMPLICIT_MIN_K)
        return G == 1 ? fer_conv_direct_forward(Og, w, &sh, in, out, os, scratch) : 1;
    if (G == 1 && winograd_pays(&sh))
        return fer_conv_winograd(Og, w, &sh, in, out, os, 0, scratch);
    if (taps_pay(&sh, Og, TAPS_MIN_PADDING))
        return implicit_taps(g, &sh, G, Og, w, in, out, os, scratch);
    for (int gi = 0; gi < G; gi++) {
        int rc = fer_sgemm_conv(Og, w + gi * Og * K, (int)K, &sh,
                                in + (ptrdiff_t)gi * g->C * g->H * g->W,
                                out + (ptrdiff_t)gi * Og * P, P, os);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int fer_conv2d_forward(const struct fer_conv2d *c, const struct fer_tensor *x,
                       struct fer_tensor *y, struct fer_arena *scratch)
{
    struct geom g;
    int nb;
    if (setup(c, x, y, "output", &g, &nb) < 0)
        return -1;
    const struct fer_conv2d_spec *s = &c->spec;
    const int N = x->shape[0], G = s->groups, Og = s->out_channels / G;
    const ptrdiff_t P = (ptrdiff_t)g.OH * g.OW, K = (ptrdiff_t)g.C * g.KH * g.KW;
    const ptrdiff_t xs = (ptrdiff_t)s->in_channels * g.H * g.W;
    const ptrdiff_t ys = (ptrdiff_t)s->out_channels * P;
    struct fer_arena_mark mark = fer_arena_mark(scratch);
    float *col = NULL, *tmp = NULL;
    int rc = implicit_images(&g, N, G, Og, c->weight.data, x->data, xs, y->data, ys, scratch);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        add_bias(c, y, N, P);
        return 0;
    }
    col = fer_arena_alloc(scratch, sizeof(float) * K * nb * P);
    if (nb > 1)
        tmp = fer_arena_alloc(scratch, sizeof(float) * Og * nb * P);
    if (col == NULL || (nb > 1 && tmp == NULL))
        return fer_fail_context("conv2d");
    for (int n0 = 0; n0 < N; n0 += nb) {
        int nn = N - n0 < nb ? N - n0 : nb;
        for (int gi = 0; gi < G; gi++) {
            const float *w = c->weight.data + (ptrdiff_t)gi * Og * K;
            const ptrdiff_t ld = nn * P;
            im2col_images(&g, x->data + n0 * xs + (ptrdiff_t)gi * g.C * g.H * g.W, xs, nn,
                          col);
            if (nn == 1) {
                fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, Og, P, K, 1.0f,
                            w, K, col, P, 0.0f, y->data + n0 * ys + gi * Og * P, P);
                continue;
            }
            fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, Og, ld, K, 1.0f, w,
                        K, col, ld, 0.0f, tmp, ld);
            unbatch(tmp, nn, Og, P, y->data + n0 * ys + gi * Og * P, ys);
        }
    }
    add_bias(c, y, N, P);
    fer_arena_release(scratch, mark);
    return 0;
}

/* With stride 1 and no dilation, dx[c] = sum over o of dy[o] correlated
 * with weight[o, c] rotated by 180 degrees, dy padded by k - 1 - pad: a
 * convolution of dy, computed as im2col + GEMM like the forward. It
 * replaces the K x P column gradient (a GEMM output nine times dx's size
 * for 3x3, zeroed by OpenBLAS first) and col2im's scattered adds. Not
 * when the output has many more channels than the input (a first layer
 * on grey images): dy's columns are then that many times larger than the
 * column gradient, and the GEMM has a single row (1 -> 32 channels at
 * 64 px: 5 GFLOP/s flipped). */
static int is_flippable(const struct fer_conv2d_spec *s)
{
    return s->out_channels <= 4 * s->in_channels && s->stride_h == 1 && s->stride_w == 1 &&
           s->dilation_h == 1 &&
           s->dilation_w == 1 && s->pad_h <= s->kernel_h - 1 &&
           s->pad_w <= s->kernel_w - 1;
}

/* The geometry of that convolution: Og channels of OH x OW in, H x W out. */
static struct geom flipped_geom(const struct geom *g, int Og)
{
    return (struct geom){Og, g->OH, g->OW, g->H, g->W, g->KH, g->KW, 1, 1,
                         g->KH - 1 - g->PH, g->KW - 1 - g->PW, 1, 1};
}

/* Each group's weights (Og x C x KH x KW) as (C x Og x KH x KW), each
 * kernel rotated by 180 degrees; split over the threads by output
 * channel, which owns its own entries of wf. */
struct flip_job {
    const struct geom *g;
    int Og;
    const float *w;
    float *wf;
};

static void flip_items(void *ctx, long begin, long end)
{
    const struct flip_job *j = ctx;
    const int kk = j->g->KH * j->g->KW, C = j->g->C, Og = j->Og;
    for (long item = begin; item < end; item++) {
        const int o = (int)(item % Og);
        const ptrdiff_t group = (item / Og) * (ptrdiff_t)Og * C * kk;
        const float *w = j->w + group;
        float *wf = j->wf + group;
        for (int ch = 0; ch < C; ch++)
            for (int k = 0; k < kk; k++)
                wf[((ptrdiff_t)ch * Og + o) * kk + (kk - 1 - k)] =
                    w[((ptrdiff_t)o * C + ch) * kk + k];
    }
}

static void flip_weights(const struct geom *g, int G, int Og, const float *w, float *wf)
{
    struct flip_job j = {g, Og, w, wf};
    fer_nn_parallel_for((long)G * Og, 2.0 * g->C * g->KH * g->KW, flip_items, &j);
}

/* The weight gradient by tap class, like the forward: per class (a row
 * range times a column range of the output), dW'[:, its taps] += dy_c
 * cols_c^T, with cols_c the class's columns of the input (valid taps
 * only: no padding multiplied, and im2col writes that much less) and
 * dy_c its output positions; dW' is tap-major and added to the layer's
 * gradient at the end. Images in chunks that keep cols_c under
 * MAX_COLUMN_BYTES; the chunks and classes are summed in an order that
 * depends on the shape alone. */
struct class_copy_job {
    const struct geom *g;
    const struct fer_tap_range *r, *c;
    const float *src;
    ptrdiff_t is;   /* floats from one image to the next in src */
    int nn;         /* images */
    float *dst;     /* rows of nn * class positions */
};

/* Rows (ki, kj, ch) of cols_c for channel ch = item, every valid tap. */
static void class_cols_items(void *ctx, long begin, long end)
{
    const struct class_copy_job *j = ctx;
    const struct geom *g = j->g;
    const int nkh = j->r->hi - j->r->lo, nkw = j->c->hi - j->c->lo;
    const int rows = j->r->o1 - j->r->o0, cols = j->c->o1 - j->c->o0;
    const ptrdiff_t ld = (ptrdiff_t)j->nn * rows * cols;
    for (long ch = begin; ch < end; ch++)
        for (int a = 0; a < nkh; a++)
            for (int b = 0; b < nkw; b++) {
                const int ki = j->r->lo + a, kj = j->c->lo + b;
                float *d = j->dst + (((ptrdiff_t)a * nkw + b) * g->C + ch) * ld;
                for (int i = 0; i < j->nn; i++)
                    for (int oh = j->r->o0; oh < j->r->o1; oh++) {
                        const float *p = j->src + i * j->is +
                                         ((ptrdiff_t)ch * g->H + oh * g->SH - g->PH +
                                          ki * g->DH) * g->W +
                                         j->c->o0 * g->SW - g->PW + kj * g->DW;
                        for (int q = 0; q < cols; q++)
                            *d++ = p[q * g->SW];
                    }
            }
}

/* Row o = item of dy_c: output channel o at the class's positions. */
static void class_dy_items(void *ctx, long begin, long end)
{
    const struct class_copy_job *j = ctx;
    const struct geom *g = j->g;
    const int rows = j->r->o1 - j->r->o0, cols = j->c->o1 - j->c->o0;
    const ptrdiff_t ld = (ptrdiff_t)j->nn * rows * cols, P = (ptrdiff_t)g->OH * g->OW;
    for (long o = begin; o < end; o++) {
        float *d = j->dst + o * ld;
        for (int i = 0; i < j->nn; i++)
            for (int oh = j->r->o0; oh < j->r->o1; oh++) {
                const float *p = j->src + i * j->is + o * P + (ptrdiff_t)oh * g->OW + j->c->o0;
                for (int q = 0; q < cols; q++)
                    *d++ = p[q];
            }
    }
}

/* One class's dW' += dy_c cols_c^T: per valid kernel row, its run of
 * taps (contiguous in dW' and in cols_c). */
static int class_weight_grad(const struct geom *g, const struct fer_tap_range *r,
                             const struct fer_tap_range *c, int Og, const float *dyc,
                             const float *colc, int n, float *dwt)
{
    const ptrdiff_t K = (ptrdiff_t)g->C * g->KH * g->KW;
    const int run = (c->hi - c->lo) * g->C;
    for (int ki = r->lo; ki < r->hi; ki++) {
        const float *b = colc + (ptrdiff_t)(ki - r->lo) * run * n;
        if (fer_sgemm(FER_NO_TRANS, FER_TRANS, Og, run, n, 1.0f, dyc, n, b, n, 1.0f,
                      dwt + ((ptrdiff_t)ki * g->KW + c->lo) * g->C, (int)K) < 0)
            return -1;
    }
    return 0;
}

static int weight_grad_taps(const struct geom *g, int N, int Og, const float *x,
                            ptrdiff_t xs, const float *dy, ptrdiff_t ys, float *dw,
                            struct fer_arena *scratch)
{
    struct fer_tap_range rows[FER_MAX_TAP_RANGES], cols[FER_MAX_TAP_RANGES];
    const int nr = fer_conv_tap_ranges(g->OH, g->H, g->KH, g->SH, g->PH, g->DH, rows);
    const int nc = fer_conv_tap_ranges(g->OW, g->W, g->KW, g->SW, g->PW, g->DW, cols);
    const ptrdiff_t P = (ptrdiff_t)g->OH * g->OW, K = (ptrdiff_t)g->C * g->KH * g->KW;
    int chunk = (int)(MAX_COLUMN_BYTES / sizeof(float) / (K * P));
    chunk = chunk < 1 ? 1 : chunk > N ? N : chunk;
    struct fer_arena_mark mark = fer_arena_mark(scratch);
    float *dwt = fer_arena_zeros(scratch, (size_t)Og * K);
    float *colc = fer_arena_alloc(scratch, sizeof(float) * K * chunk * P);
    float *dyc = fer_arena_alloc(scratch, sizeof(float) * Og * chunk * P);
    if (dwt == NULL || colc == NULL || dyc == NULL) {
        fer_arena_release(scratch, mark);
        return fer_fail_context("conv2d");
    }
    int rc = 0;
    for (int n0 = 0; n0 < N && rc == 0; n0 += chunk) {
        const int nn = N - n0 < chunk ? N - n0 : chunk;
        for (int a = 0; a < nr && rc == 0; a++)
            for (int b = 0; b < nc && rc == 0; b++) {
                const int n = nn * (rows[a].o1 - rows[a].o0) * (cols[b].o1 - cols[b].o0);
                const int kc = (rows[a].hi - rows[a].lo) * (cols[b].hi - cols[b].lo) * g->C;
                struct class_copy_job cj = {g, &rows[a], &cols[b], x + n0 * xs, xs, nn, colc};
                fer_nn_parallel_for(g->C, 1.0 * kc / g->C * n, class_cols_items, &cj);
                struct class_copy_job dj = {g, &rows[a], &cols[b], dy + n0 * ys, ys, nn, dyc};
                fer_nn_parallel_for(Og, 1.0 * n, class_dy_items, &dj);
                rc = class_weight_grad(g, &rows[a], &cols[b], Og, dyc, colc, n, dwt);
            }
    }
    if (rc == 0) {
        /* dw[o][c][t] += dwt[o][t][c] */
        struct transpose_job uj = {g->KH * g->KW, g->C, 1, dwt, dw};
        fer_nn_parallel_for(Og, 2.0 * K, transpose_rows, &uj);
    }
    fer_arena_release(scratch, mark);
    return rc;
}

int fer_conv2d_backward(struct fer_conv2d *c, const struct fer_tensor *x,
                        const struct fer_tensor *dy, struct fer_tensor *dx,
                        struct fer_arena *scratch)
{
    struct geom g;
    int nb;
    if (setup(c, x, dy, "output gradient", &g, &nb) < 0)
        return -1;
    if (dx && fer_nn_check4("conv2d", "input gradient", dx, x->shape[0],
                            x->shape[1], x->shape[2], x->shape[3]) < 0)
        return -1;
    const struct fer_conv2d_spec *s = &c->spec;
    const int N = x->shape[0], G = s->groups, Og = s->out_channels / G;
    const ptrdiff_t P = (ptrdiff_t)g.OH * g.OW, K = (ptrdiff_t)g.C * g.KH * g.KW;
    const ptrdiff_t xs = (ptrdiff_t)s->in_channels * g.H * g.W;
    const ptrdiff_t ys = (ptrdiff_t)s->out_channels * P;
    if (c->bias_grad.data)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < s->out_channels; o++) {
                const float *p = dy->data + n * ys + o * P;
                float sum = 0;
                for (ptrdiff_t k = 0; k < P; k++)
                    sum += p[k];
                c->bias_grad.data[o] += sum;
            }

    struct fer_arena_mark mark = fer_arena_mark(scratch);
    /* Stride 1: dx is a convolution of dy (see flipped_geom), no col2im. */
    const int flip = dx && is_flippable(s);
    struct geom gd = flipped_geom(&g, Og);
    const ptrdiff_t Pd = (ptrdiff_t)g.H * g.W, Kd = (ptrdiff_t)Og * g.KH * g.KW;
    float *col = NULL, *dcol = NULL, *tmp = NULL, *wf = NULL, *dtmp = NULL;
    /* dx of all images at once, as a convolution of dy packed in place
     * (fer_sgemm_conv); dx_done stays 0 where that path is unavailable. */
    int dx_done = 0;
    if (flip) {
        wf = fer_arena_alloc(scratch, sizeof(float) * fer_tensor_numel(&c->weight));
        if (wf == NULL)
            return fer_fail_context("conv2d");
        flip_weights(&g, G, Og, c->weight.data, wf);
        int rc = implicit_images(&gd, N, G, g.C, wf, dy->data, ys, dx->data, xs, scratch);
        if (rc < 0) {
            fer_arena_release(scratch, mark);
            return -1;
        }
        dx_done = rc == 0;
    }
    /* The weight gradient by tap class where the forward takes them. */
    const struct fer_conv_shape shx = {g.C, g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW,
                                       g.PH, g.PW, g.DH, g.DW, N, xs};
    int dw_done = 0;
    if (G == 1 && K < IMPLICIT_MIN_K && (dx == NULL || dx_done)) {
        /* Few rows (a first layer, whose dx no one wants): directly. */
        int rc = fer_conv_direct_weight_grad(Og, &shx, x->data, dy->data, ys,
                                             c->weight_grad.data, scratch);
        dw_done = rc == 0;
        if (rc < 0) {
            fer_arena_release(scratch, mark);
            return -1;
        }
    } else if (G == 1 && taps_pay(&shx, Og, TAPS_DW_MIN_PADDING)) {
        dw_done = 1;
        if (weight_grad_taps(&g, N, Og, x->data, xs, dy->data, ys, c->weight_grad.data,
                             scratch) < 0) {
            fer_arena_release(scratch, mark);
            return -1;
        }
    }
    if (dw_done && (dx == NULL || dx_done)) {
        fer_arena_release(scratch, mark);
        return 0;
    }
    col = fer_arena_alloc(scratch, sizeof(float) * K * nb * P);
    if (flip && !dx_done) {
        dcol = fer_arena_alloc(scratch, sizeof(float) * Kd * nb * Pd);
        dtmp = nb > 1 ? fer_arena_alloc(scratch, sizeof(float) * g.C * nb * Pd) : col;
    } else {
        dcol = dx && !dx_done ? fer_arena_alloc(scratch, sizeof(float) * K * nb * P) : col;
    }
    if (nb > 1)
        tmp = fer_arena_alloc(scratch, sizeof(float) * Og * nb * P);
    if (col == NULL || dcol == NULL || (nb > 1 && tmp == NULL) ||
        (flip && !dx_done && dtmp == NULL))
        return fer_fail_context("conv2d");
    for (int n0 = 0; n0 < N; n0 += nb) {
        int nn = N - n0 < nb ? N - n0 : nb;
        for (int gi = 0; gi < G; gi++) {
            const float *w = c->weight.data + (ptrdiff_t)gi * Og * K;
            float *dw = c->weight_grad.data + (ptrdiff_t)gi * Og * K;
            const ptrdiff_t ld = nn * P;
            const float *dyg;
            if (nn == 1) {
                dyg = dy->data + n0 * ys + gi * Og * P;
            } else {
                batch(dy->data + n0 * ys + gi * Og * P, ys, nn, Og, P, tmp);
                dyg = tmp;
            }
            if (!dw_done) {
                im2col_images(&g, x->data + n0 * xs + (ptrdiff_t)gi * g.C * g.H * g.W, xs,
                              nn, col);
                fer_sgemm(FER_NO_TRANS, FER_TRANS, Og, K, ld, 1.0f, dyg, ld, col, ld, 1.0f,
                          dw, K);
            }
            if (dx == NULL || dx_done)
                continue;
            if (flip) {
                /* dx (C x nn*Pd) = wf (C x Kd) * columns of the padded dy. */
                const ptrdiff_t ldd = nn * Pd, gs = (ptrdiff_t)g.C * Pd;
                float *dxg = dx->data + n0 * xs + gi * gs;
                im2col_images(&gd, dy->data + n0 * ys + gi * Og * P, ys, nn, dcol);
                fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, g.C, ldd, Kd, 1.0f,
                            wf + (ptrdiff_t)gi * Og * K, Kd, dcol, ldd, 0.0f,
                            nn == 1 ? dxg : dtmp, ldd);
                if (nn > 1)
                    unbatch(dtmp, nn, g.C, Pd, dxg, xs);
                continue;
            }
            fer_sgemm(FER_TRANS, FER_NO_TRANS, K, ld, Og, 1.0f, w, K,
                        dyg, ld, 0.0f, dcol, ld);
            col2im_images(&g, dcol, nn,
                          dx->data + n0 * xs + (ptrdiff_t)gi * g.C * g.H * g.W, xs);
        }
    }
    fer_arena_release(scratch, mark);
    return 0;
}
