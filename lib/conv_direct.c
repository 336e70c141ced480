/* conv_direct.c - the few-row convolutions of conv_direct.h.
 *
 * Forward: a 16-float vector is 16 consecutive outputs of one output row.
 * For each kernel tap (c, ki, kj) the inputs those outputs read are 16
 * consecutive floats of one input row, one masked load (the lanes on the
 * padding, and the whole vector when the input row is padding, are masked
 * off and read as 0). That vector is multiplied into 16 output channels
 * at once, 16 accumulators, with the weights broadcast from a copy laid
 * out tap by tap, 16 channels together. At K = 9 that is 144 FMAs per 9
 * loads and 16 stores, where a GEMM tile of the same product would have
 * been loaded and stored after every 9 steps. With 9 products per output
 * such a layer is bound by writing its output to memory, not by the FMAs:
 * see forward_tile's stores.
 *
 * Weight gradient: dw[o][k] is a sum over every output position of
 * dy[o] times the tap's input. A few output channels are summed together
 * over all positions, a sweep of up to TAPS_PER_SWEEP taps at a time, so
 * that each input vector loaded serves all of them; the 16 lanes are
 * added at the end. One item is a group of output channels, so each
 * weight's sum has one order whatever the thread count.
 *
 * Only the kernels carry the AVX-512 target attribute; they run after
 * fer_sgemm_backend() said the CPU has it.
 */
#include "conv_direct.h"

#include "error.h"
#include "lanes.h"
#include "nn_parallel.h"

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,avx512vl,fma")))

enum {
    LANES = 16,
    OUT_BLOCK = 16,     /* forward: output channels per accumulator block */
    GRAD_OUTPUTS = 2,   /* weight gradient: output channels per item */
    TAPS_PER_SWEEP = 9, /* ... and taps per sweep: 2 x 9 accumulators */
};

static int applies(const struct fer_conv_shape *s)
{
    const long K = (long)s->channels * s->kernel_h * s->kernel_w;
    return s->stride_h == 1 && s->stride_w == 1 && s->dilation_h == 1 &&
           s->dilation_w == 1 && K >= 1 && K <= FER_CONV_DIRECT_MAX_K && s->out_h > 0 &&
           s->out_w > 0 && s->images > 0 && strcmp(fer_sgemm_backend(), "avx512") == 0;
}

/* What every output row and column tile needs, worked out once per call.
 * Tap k = (c, ki, kj) of output row oh, taps[oh * kpad + k], reads
 * image[off + ow] for output column ow, in the lanes of masks[tile * (kw +
 * 2) + mask]. Per tile of 16 columns the masks are: 0, the columns that
 * exist; 1 + kj, those whose input column of kernel column kj lies in the
 * image; kw + 1, none (a tap whose input row is padding, or past K when
 * K is rounded up to kpad). */
struct tap {
    ptrdiff_t off;
    int mask;
};

struct plan {
    const struct fer_conv_shape *s;
    int K, kpad;
    struct tap *taps;
    __mmask16 *masks;
};

static int plan_new(const struct fer_conv_shape *s, int kpad, struct fer_arena *a,
                    struct plan *p)
{
    const int kw = s->kernel_w, kk = s->kernel_h * kw, tiles = (s->out_w + LANES - 1) / LANES;
    const ptrdiff_t plane = (ptrdiff_t)s->height * s->width;
    *p = (struct plan){s, s->channels * kk, kpad, NULL, NULL};
    p->taps = fer_arena_alloc(a, sizeof(struct tap) * s->out_h * kpad);
    p->masks = fer_arena_alloc(a, sizeof(__mmask16) * tiles * (kw + 2));
    if (p->taps == NULL || p->masks == NULL)
        return fer_fail_context("conv2d");
    for (int oh = 0; oh < s->out_h; oh++)
        for (int k = 0; k < kpad; k++) {
            const int c = k / kk, ki = k % kk / kw, kj = k % kw;
            const int ih = oh + ki - s->pad_h;
            const int inside = k < p->K && ih >= 0 && ih < s->height;
            /* The input of output column 0, which may lie left of the row
             * (the padding): only lanes inside the row are ever loaded. */
            p->taps[(ptrdiff_t)oh * kpad + k] =
                inside ? (struct tap){c * plane + (ptrdiff_t)ih * s->width + kj - s->pad_w, 1 + kj}
                       : (struct tap){0, kw + 1};
        }
    for (int t = 0; t < tiles; t++) {
        __mmask16 *m = p->masks + t * (kw + 2);
        const int ow0 = t * LANES;
        m[0] = fer_lanes(0, s->out_w - ow0);
        for (int kj = 0; kj < kw; kj++) {
            const int col = ow0 + kj - s->pad_w; /* input column of lane 0 */
            m[1 + kj] = m[0] & fer_lanes(-col, s->width - col);
        }
        m[kw + 1] = 0;
    }
    return 0;
}

/* ---- forward -------------------------------------------------------- */

struct forward_job {
    struct plan p;
    int M;
    const float *wt; /* per block of OUT_BLOCK channels: [k][o], zero-padded */
    const float *x;
    float *y;
    ptrdiff_t out_stride;
};

/* OUT_BLOCK output channels (outputs of them stored) of the 16 outputs of
 * column tile `tile` of one row: out points at the first channel's row. */
static TARGET inline void forward_tile(const struct plan *p, const struct tap *taps,
                                       const float *image, const float *wt, int tile,
                                       float *out, int outputs)
{
    const __mmask16 *masks = p->masks + tile * (p->s->kernel_w + 2);
    const int ow0 = tile * LANES;
    __m512 acc[OUT_BLOCK];
#pragma GCC unroll 16
    for (int o = 0; o < OUT_BLOCK; o++)
        acc[o] = _mm512_setzero_ps();
    for (int k = 0; k < p->K; k++) {
        const __m512 v = _mm512_maskz_loadu_ps(masks[taps[k].mask], image + taps[k].off + ow0);
        const float *w = wt + (ptrdiff_t)k * OUT_BLOCK;
#pragma GCC unroll 16
        for (int o = 0; o < OUT_BLOCK; o++)
            acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(w[o]), v, acc[o]);
    }
    /* Whole aligned vectors bypass the cache: a first layer's output (32
     * channels of 64 px grey images: 33 MB at batch 64) does not fit it,
     * and the loads that writing it through the cache costs halved this
     * layer's rate (57 -> 78 GFLOP/s streaming, 1 thread). */
    const ptrdiff_t P = (ptrdiff_t)p->s->out_h * p->s->out_w;
#pragma GCC unroll 16
    for (int o = 0; o < OUT_BLOCK; o++) {
        float *dst = out + o * P + ow0;
        if (o >= outputs)
            break;
        if (masks[0] == 0xffff && ((uintptr_t)dst & 63) == 0)
            _mm512_stream_ps(dst, acc[o]);
        else
            _mm512_mask_storeu_ps(dst, masks[0], acc[o]);
    }
}

/* Items are output rows (image, oh). */
static TARGET void forward_rows(void *ctx, long begin, long end)
{
    const struct forward_job *j = ctx;
    const struct fer_conv_shape *s = j->p.s;
    const ptrdiff_t P = (ptrdiff_t)s->out_h * s->out_w;
    for (long item = begin; item < end; item++) {
        const int img = (int)(item / s->out_h), oh = (int)(item % s->out_h);
        const struct tap *taps = j->p.taps + (ptrdiff_t)oh * j->p.kpad;
        const float *image = j->x + img * s->image_stride;
        float *row = j->y + img * j->out_stride + (ptrdiff_t)oh * s->out_w;
        for (int o0 = 0; o0 < j->M; o0 += OUT_BLOCK)
            for (int tile = 0; tile * LANES < s->out_w; tile++)
                forward_tile(&j->p, taps, image, j->wt + (ptrdiff_t)o0 * j->p.K, tile,
                             row + o0 * P, j->M - o0);
    }
    _mm_sfence(); /* order the streaming stores before the pool hands over */
}

int fer_conv_direct_forward(int M, const float *w, const struct fer_conv_shape *s,
                            const float *x, float *y, ptrdiff_t out_stride,
                            struct fer_arena *a)
{
    if (M < 1 || !applies(s))
        return 1;
    struct fer_arena_mark mark = fer_arena_mark(a);
    struct forward_job j = {.M = M, .x = x, .y = y, .out_stride = out_stride};
    const int K = s->channels * s->kernel_h * s->kernel_w;
    const int blocks = (M + OUT_BLOCK - 1) / OUT_BLOCK;
    float *wt = fer_arena_zeros(a, (size_t)blocks * OUT_BLOCK * K);
    if (wt == NULL || plan_new(s, K, a, &j.p) < 0) {
        fer_arena_release(a, mark);
        return wt == NULL ? fer_fail_context("conv2d") : -1;
    }
    for (int o = 0; o < M; o++)
        for (int k = 0; k < K; k++)
            wt[((ptrdiff_t)(o / OUT_BLOCK) * K + k) * OUT_BLOCK + o % OUT_BLOCK] =
                w[(ptrdiff_t)o * K + k];
    j.wt = wt;
    const double floats_per_row = (double)s->out_w * (M + K);
    fer_nn_parallel_for((long)s->images * s->out_h, floats_per_row, forward_rows, &j);
    fer_arena_release(a, mark);
    return 0;
}

/* ---- weight gradient ------------------------------------------------ */

struct grad_job {
    struct plan p;
    int M;
    const float *x, *dy;
    ptrdiff_t dy_stride;
    float *dw;
};

/* One sweep: dw[o0 + o][k0 + t] += the sum over every output position of
 * dy[o0 + o] times tap k0 + t's input, for o < outputs, t < TAPS_PER_SWEEP.
 * Every accumulator index is a constant of the unrolled loops, so they
 * stay in registers across the whole sweep. */
static TARGET void grad_sweep(const struct grad_job *j, int o0, int outputs, int k0)
{
    const struct fer_conv_shape *s = j->p.s;
    const ptrdiff_t P = (ptrdiff_t)s->out_h * s->out_w;
    const int nmask = s->kernel_w + 2;
    __m512 acc[GRAD_OUTPUTS][TAPS_PER_SWEEP];
#pragma GCC unroll 16
    for (int o = 0; o < GRAD_OUTPUTS; o++)
#pragma GCC unroll 16
        for (int t = 0; t < TAPS_PER_SWEEP; t++)
            acc[o][t] = _mm512_setzero_ps();
    for (int img = 0; img < s->images; img++)
        for (int oh = 0; oh < s->out_h; oh++) {
            const struct tap *taps = j->p.taps + (ptrdiff_t)oh * j->p.kpad + k0;
            const float *image = j->x + img * s->image_stride;
            const float *dy = j->dy + img * j->dy_stride + o0 * P + (ptrdiff_t)oh * s->out_w;
            for (int tile = 0; tile * LANES < s->out_w; tile++) {
                const __mmask16 *masks = j->p.masks + tile * nmask;
                const int ow0 = tile * LANES;
                __m512 d[GRAD_OUTPUTS];
#pragma GCC unroll 16
                for (int o = 0; o < GRAD_OUTPUTS; o++)
                    d[o] = o < outputs ? _mm512_maskz_loadu_ps(masks[0], dy + o * P + ow0)
                                       : _mm512_setzero_ps();
#pragma GCC unroll 16
                for (int t = 0; t < TAPS_PER_SWEEP; t++) {
                    const __m512 v = _mm512_maskz_loadu_ps(masks[taps[t].mask],
                                                           image + taps[t].off + ow0);
#pragma GCC unroll 16
                    for (int o = 0; o < GRAD_OUTPUTS; o++)
                        acc[o][t] = _mm512_fmadd_ps(d[o], v, acc[o][t]);
                }
            }
        }
#pragma GCC unroll 16
    for (int o = 0; o < GRAD_OUTPUTS; o++)
#pragma GCC unroll 16
        for (int t = 0; t < TAPS_PER_SWEEP; t++)
            if (o < outputs && k0 + t < j->p.K)
                j->dw[(ptrdiff_t)(o0 + o) * j->p.K + k0 + t] += _mm512_reduce_add_ps(acc[o][t]);
}

/* Items are groups of GRAD_OUTPUTS output channels. */
static void grad_groups(void *ctx, long begin, long end)
{
    const struct grad_job *j = ctx;
    for (long item = begin; item < end; item++) {
        const int o0 = (int)item * GRAD_OUTPUTS;
        const int outputs = j->M - o0 < GRAD_OUTPUTS ? j->M - o0 : GRAD_OUTPUTS;
        for (int k0 = 0; k0 < j->p.K; k0 += TAPS_PER_SWEEP)
            grad_sweep(j, o0, outputs, k0);
    }
}

int fer_conv_direct_weight_grad(int M, const struct fer_conv_shape *s, const float *x,
                                const float *dy, ptrdiff_t dy_stride, float *dw,
                                struct fer_arena *a)
{
    if (M < 1 || !applies(s))
        return 1;
    const int K = s->channels * s->kernel_h * s->kernel_w;
    const int kpad = (K + TAPS_PER_SWEEP - 1) / TAPS_PER_SWEEP * TAPS_PER_SWEEP;
    struct fer_arena_mark mark = fer_arena_mark(a);
    struct grad_job j = {.M = M, .x = x, .dy = dy, .dy_stride = dy_stride, .dw = dw};
    if (plan_new(s, kpad, a, &j.p) < 0) {
        fer_arena_release(a, mark);
        return -1;
    }
    const double floats_per_group =
        (double)s->images * s->out_h * s->out_w * (GRAD_OUTPUTS + K);
    fer_nn_parallel_for((M + GRAD_OUTPUTS - 1) / GRAD_OUTPUTS, floats_per_group, grad_groups,
                        &j);
    fer_arena_release(a, mark);
    return 0;
}
