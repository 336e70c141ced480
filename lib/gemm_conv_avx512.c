/* gemm_conv_avx512.c - packing a convolution's input straight into the
 * B panels of fer_sgemm's kernel (implicit GEMM, see fer_sgemm_conv).
 *
 * im2col wrote a K x P column matrix (9 to 49 times the input for 3 x 3 to
 * 7 x 7 kernels) only for the B pack to read it once more: 13% of a
 * training step was that copy. Here each kc x 32 panel is filled from the
 * image itself. A panel's 32 columns are consecutive output positions;
 * for each lane the output row, column and image are worked out once per
 * panel, and then every row (c, ki, kj) of the panel is 32 input offsets
 * and a validity mask (the padding reads 0):
 *   - stride 1 with the output as wide as the input (3 x 3 padding 1, and
 *     every input gradient of a stride-1 layer): the offsets are
 *     consecutive within an image, so a row is two masked vector loads,
 *     or four where a half panel runs into the next image;
 *   - otherwise, at stride 1 or 2 across the row (valid convolutions,
 *     strided layers, planes under 16): a half panel's lanes are a few
 *     segments, one per output row it touches, each a stretch of inputs
 *     1 or 2 floats apart. At stride 1 a segment is a masked load; at
 *     stride 2 its 16 lanes read every other float of a 32-float span:
 *     two masked loads, and one permute picks the even floats for the
 *     whole half (the segments' loads fill disjoint floats of the span,
 *     so they are ORed first). Zen 4 gathers 16 floats in some 40
 *     cycles: a ResNet-18 stem's forward (7 x 7 stride 2, 112 px) went
 *     from 79 to 92 GFLOP/s without them;
 *   - otherwise (wider strides, more than MAX_SEGS segments: outputs
 *     under 4 wide) a masked gather.
 * The masks and offsets of each kernel tap (ki, kj) are the same for
 * every channel: they are worked out once per panel.
 * Masked-off lanes are never read (AVX-512 suppresses their faults), so
 * the padding costs no branches.
 *
 * Compiled like gemm_avx512.c: only these functions carry the target
 * attribute, and lib/gemm.c calls them after checking the CPU.
 */
#include "gemm.h"
#include "gemm_kernel.h"
#include "lanes.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512vl,fma")))
#define NR FER_GEMM_NR

/* Per-lane geometry of one panel half: 16 consecutive columns. */
struct lanes {
    __m512i ih, iw;  /* top-left input row and column each lane reads */
    __m512i off;     /* their offset from the panel's first image */
    __mmask16 valid; /* columns that exist */
};

/* Lanes for 16 consecutive columns, of which `cols` exist, the first at
 * output row oh, column ow + skip of the panel's first image (offsets are
 * relative to that image). */
static TARGET struct lanes lanes_of(const struct fer_conv_shape *s, int oh, int ow, int skip,
                                    int cols)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                           14, 15);
    const __m512i one = _mm512_set1_epi32(1);
    __m512i vow = _mm512_add_epi32(_mm512_set1_epi32(ow + skip), iota);
    __m512i voh = _mm512_set1_epi32(oh);
    __m512i img = _mm512_setzero_si512();
    /* Carry the column into rows and the row into images: as many rounds
     * as the lanes span rows (1 or 2 for outputs 16 wide or more). */
    const __m512i ow_n = _mm512_set1_epi32(s->out_w), oh_n = _mm512_set1_epi32(s->out_h);
    for (__mmask16 m; (m = _mm512_cmpge_epi32_mask(vow, ow_n));) {
        vow = _mm512_mask_sub_epi32(vow, m, vow, ow_n);
        voh = _mm512_mask_add_epi32(voh, m, voh, one);
    }
    for (__mmask16 m; (m = _mm512_cmpge_epi32_mask(voh, oh_n));) {
        voh = _mm512_mask_sub_epi32(voh, m, voh, oh_n);
        img = _mm512_mask_add_epi32(img, m, img, one);
    }
    struct lanes l;
    l.ih = _mm512_sub_epi32(_mm512_mullo_epi32(voh, _mm512_set1_epi32(s->stride_h)),
                            _mm512_set1_epi32(s->pad_h));
    l.iw = _mm512_sub_epi32(_mm512_mullo_epi32(vow, _mm512_set1_epi32(s->stride_w)),
                            _mm512_set1_epi32(s->pad_w));
    l.off = _mm512_add_epi32(_mm512_mullo_epi32(img, _mm512_set1_epi32((int)s->image_stride)),
                             _mm512_add_epi32(_mm512_mullo_epi32(l.ih, _mm512_set1_epi32(s->width)),
                                              l.iw));
    l.valid = fer_lanes(0, cols);
    return l;
}

/* The lanes of l whose input (ih + dh, iw + dw) lies inside the image. */
static TARGET inline __mmask16 inside(const struct lanes *l, int dh, int dw, __m512i h,
                                      __m512i w)
{
    __mmask16 m = _mm512_mask_cmplt_epu32_mask(
        l->valid, _mm512_add_epi32(l->ih, _mm512_set1_epi32(dh)), h);
    return _mm512_mask_cmplt_epu32_mask(m, _mm512_add_epi32(l->iw, _mm512_set1_epi32(dw)),
                                        w);
}

/* Kernel taps (ki, kj) whose masks and offsets are tabulated once per
 * panel: every channel's rows reuse them. Larger kernels compute them row
 * by row. */
enum { MAX_TAPS = 64 };

/* Floats ahead of a row's loads to prefetch: the next panel's. */
enum { PREFETCH_AHEAD = 32 };

/* One half panel read as up to two runs of consecutive floats (stride 1,
 * output as wide as the input): lanes below `split` from image run a,
 * the others from the next image, each lane t at run[t] + the tap's
 * offset. */
struct runs {
    const float *a, *b;
    __mmask16 in_a;
};

static TARGET struct runs runs_of(const struct fer_conv_shape *s, const float *x, long img,
                                  int q)
{
    const int P = s->out_h * s->out_w;
    if (q >= P) {
        q -= P;
        img++;
    }
    const ptrdiff_t pad = (ptrdiff_t)s->pad_h * s->width + s->pad_w;
    const int split = P - q; /* lanes left in image img */
    struct runs r;
    r.a = x + img * s->image_stride + q - pad;
    r.b = x + (img + 1) * s->image_stride - split - pad;
    r.in_a = split >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << split) - 1);
    return r;
}

/* A half panel as segments, one per output row it touches: lanes
 * lane[r] read, for tap (0, 0) of channel 0, the floats at org[r] +
 * stride_w * i (lane i) from the panel's first image. */
enum { MAX_SEGS = 5 }; /* 16 lanes of outputs 4 wide touch up to 5 rows */

struct segs {
    int n;
    __mmask16 lane[MAX_SEGS];
    int org[MAX_SEGS];
};

/* The segments of the `cols` lanes (at most 16) from output row oh,
 * column ow + skip of the panel's first image; 0 when there are more
 * than MAX_SEGS. */
static int segs_of(const struct fer_conv_shape *s, int oh, int ow, int skip, int cols,
                   struct segs *g)
{
    ow += skip;
    oh += ow / s->out_w;
    ow %= s->out_w;
    long img = oh / s->out_h;
    oh %= s->out_h;
    g->n = 0;
    for (int i = 0; i < cols;) {
        const int len = s->out_w - ow < cols - i ? s->out_w - ow : cols - i;
        if (g->n == MAX_SEGS)
            return 0;
        g->lane[g->n] = (__mmask16)(((1u << len) - 1) << i);
        g->org[g->n] = (int)(img * s->image_stride +
                             (long)(oh * s->stride_h - s->pad_h) * s->width +
                             (long)ow * s->stride_w - s->pad_w - (long)s->stride_w * i);
        g->n++;
        i += len;
        ow = 0;
        if (++oh == s->out_h) {
            oh = 0;
            img++;
        }
    }
    return 1;
}

/* Bit i of a byte m moved to bit 2 i: the floats of a 16-float load that
 * 8 lanes at stride 2 read. A table, not shifts: a 7 x 7 stem's panel
 * works out 2 of them per segment for each of its 49 taps, and uses each
 * tap for 3 rows only (the stem's forward 1.5% faster). */
#define SPREAD(m)                                                                  \
    (((m)&1) | (((m)&2) << 1) | (((m)&4) << 2) | (((m)&8) << 3) | (((m)&16) << 4) | \
     (((m)&32) << 5) | (((m)&64) << 6) | (((m)&128) << 7))
#define SPREAD4(m) SPREAD(m), SPREAD((m) + 1), SPREAD((m) + 2), SPREAD((m) + 3)
#define SPREAD16(m) SPREAD4(m), SPREAD4((m) + 4), SPREAD4((m) + 8), SPREAD4((m) + 12)
#define SPREAD64(m) SPREAD16(m), SPREAD16((m) + 16), SPREAD16((m) + 32), SPREAD16((m) + 48)
static const unsigned short spread_table[256] = {SPREAD64(0), SPREAD64(64), SPREAD64(128),
                                                 SPREAD64(192)};

static inline __mmask16 spread8(unsigned m)
{
    return spread_table[m & 0xff];
}

/* Per segment the load masks of one tap, whose inside-the-image lanes are
 * m: at stride 1 one load (ld[0][r]), at stride 2 the two halves of the
 * 32-float span (ld[0][r], ld[1][r]). Lanes outside the image read
 * nothing and come out 0. */
static inline void seg_loads(const struct segs *g, __mmask16 m, int stride2,
                             __mmask16 ld[2][MAX_SEGS])
{
    for (int r = 0; r < g->n; r++) {
        const unsigned k = g->lane[r] & m;
        ld[0][r] = stride2 ? spread8(k) : (__mmask16)k;
        ld[1][r] = stride2 ? spread8(k >> 8) : 0;
    }
}

/* The n loads of src + base[r] under mask[r], whose lanes are disjoint,
 * in one vector. Zero-masked loads ORed, not merged one into the next: a
 * merging load waits on the previous one's latency, and a chain of four
 * cost more than a gather. Shared by the segments of fer_gemm_pack_conv
 * and the runs of the tap classes' packer. */
static TARGET inline __m512 or_masked_loads(int n, const __mmask16 *mask, const int *base,
                                            const float *src)
{
    __m512i v = _mm512_setzero_si512();
    for (int r = 0; r < n; r++)
        v = _mm512_or_si512(v, _mm512_castps_si512(_mm512_maskz_loadu_ps(mask[r], src + base[r])));
    return _mm512_castsi512_ps(v);
}

/* One half panel's row from its segments, src pointing at the row's
 * channel and tap in the panel's first image. */
static TARGET inline __m512 seg_row(const struct segs *g, const __mmask16 ld[2][MAX_SEGS],
                                    int stride2, const float *src)
{
    const __m512 lo = or_masked_loads(g->n, ld[0], g->org, src);
    if (!stride2)
        return lo;
    const __m512 hi = or_masked_loads(g->n, ld[1], g->org, src + 16);
    /* Lane i takes float 2 i of the span lo:hi; the floats no lane
     * reads were not loaded and are 0, and so are lanes of no segment. */
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24,
                                           26, 28, 30);
    return _mm512_permutex2var_ps(lo, even, hi);
}

/* As the runs do, for the next panel: 32 columns further on, stride_w
 * times as many floats, two lines per half (lane0: each half's first
 * lane's offset from row). A prefetch past the image never faults. */
static inline void prefetch_next_panel(const float *row, const int lane0[2], int stride_w)
{
    const float *next = row + 32 * stride_w;
    _mm_prefetch((const char *)(next + lane0[0]), _MM_HINT_T0);
    _mm_prefetch((const char *)(next + lane0[0] + 16), _MM_HINT_T0);
    _mm_prefetch((const char *)(next + lane0[1]), _MM_HINT_T0);
    _mm_prefetch((const char *)(next + lane0[1] + 16), _MM_HINT_T0);
}

TARGET void fer_gemm_pack_conv_avx512(const struct fer_conv_shape *s, const float *x, int p0,
                                      int kc, int j0, int n, float *dst)
{
    const long P = (long)s->out_h * s->out_w, total = P * s->images;
    const int KH = s->kernel_h, KW = s->kernel_w, kk = KH * KW;
    const ptrdiff_t HW = (ptrdiff_t)s->height * s->width;
    /* Consecutive offsets within an image: stride 1 and rows as wide as
     * the input; a half panel then spans at most two images if P >= 16. */
    const int runs = s->stride_h == 1 && s->stride_w == 1 && s->dilation_w == 1 &&
                     s->out_w == s->width && P >= 16;
    /* Inputs 1 or 2 floats apart along an output row: segments. */
    const int strided = !runs && (s->stride_w == 1 || s->stride_w == 2);
    const int stride2 = s->stride_w == 2;
    const __m512i h = _mm512_set1_epi32(s->height), w = _mm512_set1_epi32(s->width);
    const __m512 zero = _mm512_setzero_ps();
    __mmask16 mask[2][MAX_TAPS];
    int shift[MAX_TAPS];
    __mmask16 seg_ld[MAX_TAPS][2][2][MAX_SEGS]; /* per tap, half, load, segment */
    for (int jp = 0; jp < n; jp += NR, dst += (ptrdiff_t)NR * kc) {
        const long first = (long)j0 + jp;
        int cols = n - jp < NR ? n - jp : NR;
        if (first + cols > total)
            cols = first >= total ? 0 : (int)(total - first);
        /* The one division of the panel (fer_sgemm_conv keeps N an int). */
        const long img0 = first / P;
        const int q0 = (int)(first - img0 * P), oh0 = q0 / s->out_w;
        const int ow0 = q0 - oh0 * s->out_w;
        const float *xb = x + img0 * s->image_stride;
        const struct lanes l0 = lanes_of(s, oh0, ow0, 0, cols);
        const struct lanes l1 = lanes_of(s, oh0, ow0, 16, cols - 16);
        const int lane0[2] = {_mm512_cvtsi512_si32(l0.off), _mm512_cvtsi512_si32(l1.off)};
        struct runs r0 = {0}, r1 = {0};
        if (runs) {
            r0 = runs_of(s, x, img0, q0);
            r1 = runs_of(s, x, img0, q0 + 16);
        }
        struct segs g[2];
        const int segmented = strided && segs_of(s, oh0, ow0, 0, cols < 16 ? cols : 16, &g[0]) &&
                              segs_of(s, oh0, ow0, 16, cols > 16 ? cols - 16 : 0, &g[1]);
        /* Tabulated when rows repeat taps: a K = 9 first layer's panel
         * has each tap once, and the table would cost what it saves. */
        const int tabulate = kk <= MAX_TAPS && kc > kk;
        if (tabulate)
            for (int t = 0, ki = 0, kj = 0; t < kk; t++, kj = kj + 1 == KW ? (ki++, 0) : kj + 1) {
                const int dh = ki * s->dilation_h, dw = kj * s->dilation_w;
                mask[0][t] = inside(&l0, dh, dw, h, w);
                mask[1][t] = inside(&l1, dh, dw, h, w);
                shift[t] = dh * s->width + dw;
                if (segmented) {
                    seg_loads(&g[0], mask[0][t], stride2, seg_ld[t][0]);
                    seg_loads(&g[1], mask[1][t], stride2, seg_ld[t][1]);
                }
            }
        /* Row p0 + k is channel c, tap t = (ki, kj), counted without
         * divisions (they cost as much as a K = 9 panel's loads). */
        int c = p0 / kk, t = p0 % kk, ki = t / KW, kj = t % KW;
        for (int k = 0; k < kc; k++) {
            __mmask16 m0, m1;
            int sh;
            if (tabulate) {
                m0 = mask[0][t];
                m1 = mask[1][t];
                sh = shift[t];
            } else {
                const int dh = ki * s->dilation_h, dw = kj * s->dilation_w;
                m0 = inside(&l0, dh, dw, h, w);
                m1 = inside(&l1, dh, dw, h, w);
                sh = dh * s->width + dw;
            }
            const ptrdiff_t o = c * HW + sh;
            __m512 v0, v1;
            if (segmented) {
                prefetch_next_panel(xb + o, lane0, s->stride_w);
                __mmask16 ld[2][2][MAX_SEGS];
                if (!tabulate) {
                    seg_loads(&g[0], m0, stride2, ld[0]);
                    seg_loads(&g[1], m1, stride2, ld[1]);
                }
                v0 = seg_row(&g[0], tabulate ? seg_ld[t][0] : ld[0], stride2, xb + o);
                v1 = seg_row(&g[1], tabulate ? seg_ld[t][1] : ld[1], stride2, xb + o);
            } else if (runs) {
                /* The next panel reads the 32 floats after these, in
                 * as many planes and rows as this one: more streams than
                 * the hardware prefetcher follows. A prefetch past the
                 * image never faults. */
                _mm_prefetch((const char *)(r1.a + o + PREFETCH_AHEAD), _MM_HINT_T0);
                _mm_prefetch((const char *)(r1.a + o + PREFETCH_AHEAD + 16), _MM_HINT_T0);
                v0 = _mm512_maskz_loadu_ps(m0 & r0.in_a, r0.a + o);
                v1 = _mm512_maskz_loadu_ps(m1 & r1.in_a, r1.a + o);
                if ((m0 & ~r0.in_a) | (m1 & ~r1.in_a)) {
                    v0 = _mm512_mask_loadu_ps(v0, m0 & ~r0.in_a, r0.b + o);
                    v1 = _mm512_mask_loadu_ps(v1, m1 & ~r1.in_a, r1.b + o);
                }
            } else {
                prefetch_next_panel(xb + o, lane0, s->stride_w);
                const __m512i add = _mm512_set1_epi32((int)o);
                v0 = _mm512_mask_i32gather_ps(zero, m0, _mm512_add_epi32(l0.off, add), xb, 4);
                v1 = _mm512_mask_i32gather_ps(zero, m1, _mm512_add_epi32(l1.off, add), xb, 4);
            }
            _mm512_store_ps(dst + (ptrdiff_t)k * NR, v0);
            _mm512_store_ps(dst + (ptrdiff_t)k * NR + 16, v1);
            t++;
            if (++kj == KW) {
                kj = 0;
                if (++ki == KH) {
                    ki = 0;
                    t = 0;
                    c++;
                }
            }
        }
    }
}

/* A half panel of a tap class as runs of lanes whose inputs are
 * consecutive floats (an output row's stretch of the class at stride 1):
 * run r covers lanes mask[r] and lane i of it reads base[r] + i. */
enum { MAX_RUNS = 8 };

struct half_runs {
    int n;                /* runs, or 0: too many, gather */
    __mmask16 mask[MAX_RUNS];
    int base[MAX_RUNS];
};

static void half_runs_of(const int *off, int cols, struct half_runs *h)
{
    h->n = 0;
    for (int i = 0; i < cols;) {
        int e = i + 1;
        while (e < cols && off[e] == off[e - 1] + 1)
            e++;
        if (h->n == MAX_RUNS) {
            h->n = 0;
            return;
        }
        h->mask[h->n] = (__mmask16)(((1u << (e - i)) - 1) << i);
        h->base[h->n] = off[i] - i;
        h->n++;
        i = e;
    }
}

/* One half panel's row: its runs as masked loads (lanes outside a run
 * are not read), or a gather when the runs are many. */
static TARGET inline __m512 half_row(const struct half_runs *h, __mmask16 m, __m512i off,
                                     const float *src)
{
    if (h->n == 0)
        return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, off, src, 4);
    return or_masked_loads(h->n, h->mask, h->base, src);
}

/* A tap class's panels: every lane's input is inside the image, so no
 * masks but for the runs. Zen 4 gathers 16 floats in some 40 cycles (the
 * packing took 15% of a 7 px forward with gathers alone); runs of a few
 * consecutive inputs are a masked load each. */
TARGET void fer_gemm_pack_taps_avx512(const struct fer_taps_b *t, const float *x, int p0,
                                      int kc, int j0, int n, float *dst)
{
    for (int jp = 0; jp < n; jp += NR, dst += (ptrdiff_t)NR * kc) {
        const int first = j0 + jp;
        int cols = n - jp < NR ? n - jp : NR;
        if (first + cols > t->N)
            cols = first >= t->N ? 0 : t->N - first;
        const __mmask16 m0 = fer_lanes(0, cols), m1 = fer_lanes(0, cols - 16);
        const __m512i off0 = _mm512_maskz_loadu_epi32(m0, t->off + first);
        const __m512i off1 = _mm512_maskz_loadu_epi32(m1, t->off + first + 16);
        struct half_runs h0, h1;
        half_runs_of(t->off + first, cols < 16 ? cols : 16, &h0);
        half_runs_of(t->off + first + 16, cols > 16 ? cols - 16 : 0, &h1);
        if (cols <= 16) /* no lanes: zeros, one "run" with no lanes */
            h1 = (struct half_runs){1, {0}, {0}};
        int c = p0 % t->channels, tap = p0 / t->channels;
        for (int k = 0; k < kc; k++) {
            const float *src = x + (ptrdiff_t)c * t->plane + t->shift[tap];
            _mm512_store_ps(dst + (ptrdiff_t)k * NR, half_row(&h0, m0, off0, src));
            _mm512_store_ps(dst + (ptrdiff_t)k * NR + 16, half_row(&h1, m1, off1, src));
            if (++c == t->channels) {
                c = 0;
                tap++;
            }
        }
    }
}

/* One half row of a result tile stored to its runs; more than MAX_RUNS
 * runs (a class one output column wide) one float at a time. */
static TARGET inline void store_half(const struct half_runs *h, const int *off, int cols,
                                     __m512 v, const float *src, float *dst)
{
    if (h->n == 0) {
        for (int q = 0; q < cols; q++)
            dst[off[q]] = src[q];
        return;
    }
    for (int r = 0; r < h->n; r++)
        _mm512_mask_storeu_ps(dst + h->base[r], h->mask[r], v);
}

TARGET void fer_gemm_scatter_tile_avx512(const float *c, ptrdiff_t ldc, int mr, int nr,
                                         const int *off, float *out, ptrdiff_t out_ld)
{
    struct half_runs h0, h1;
    const int n0 = nr < 16 ? nr : 16, n1 = nr > 16 ? nr - 16 : 0;
    half_runs_of(off, n0, &h0);
    half_runs_of(off + 16, n1, &h1);
    for (int r = 0; r < mr; r++) {
        const float *src = c + r * ldc;
        float *dst = out + r * out_ld;
        store_half(&h0, off, n0, _mm512_maskz_loadu_ps(fer_lanes(0, n0), src), src, dst);
        if (n1 > 0)
            store_half(&h1, off + 16, n1, _mm512_maskz_loadu_ps(fer_lanes(0, n1), src + 16),
                       src + 16, dst);
    }
}
