/* conv_winograd.c - F(2x2, 3x3) convolutions (see conv_winograd.h).
 *
 * Layout. Tiles are numbered across the batch, image by image, row by
 * row: tile g is image g / (TY * TX), tile row (g / TX) % TY, column
 * g % TX, covering outputs [2ty, 2ty + 2) x [2tx, 2tx + 2). They are
 * processed in chunks of T tiles (a multiple of the kernel's 32 columns):
 *   U: per position xi of the 4 x 4 transform, ceil(M / 8) A panels of
 *      8 output channels x C, a[c * 8 + r] (gemm_kernel.h), written once;
 *   V: per xi, T / 32 B panels of C x 32 tiles, b[c * 32 + j];
 *   P: per xi, an M x T product, row o holding the chunk's tiles.
 * V and P of a chunk are 16 (C + M) T floats, sized to stay near the
 * 1 MB L2 cache of a Zen 4 core between the transforms and the products.
 *
 * The transforms run 16 tiles of one tile row at a time, one tile per
 * vector lane: a row of a 4 x 4 patch is input columns 2tx - 1 .. 2tx + 2,
 * so 16 neighbouring tiles read 34 consecutive floats, loaded as masked
 * vectors (the mask is the zero padding and the image's edge) and split
 * into the patches' 4 columns by permutes, not gathers.
 *
 * Only called after fer_sgemm_backend() says "avx512": every function
 * that uses AVX-512 carries the target attribute, like gemm_avx512.c.
 */
#include "conv_winograd.h"

#include "arena.h"
#include "error.h"
#include "gemm.h"
#include "gemm_kernel.h"
#include "lanes.h"
#include "nn_parallel.h"
#include "parallel.h"

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,avx512vl,fma")))
#define MR FER_GEMM_MR
#define NR FER_GEMM_NR

enum { XI = 16, LANES = 16 };

/* V's and P's 16 blocks (one per xi) are tens of KB, often a multiple of
 * 4 KB, apart: the transforms' 16 streams then fall in the same L1 set
 * (8 ways) and evict one another. One cache line more per block spreads
 * them over 16 sets. */
enum { XI_PAD = 16 };

/* V and P of one chunk: near the L2 cache (see the top of the file). */
static const size_t CHUNK_BYTES = (size_t)1 << 20;

struct wino {
    int M, C, H, W, TY, TX;
    long tiles;           /* images * TY * TX */
    int T;                /* tiles per chunk, a multiple of NR */
    int npanels;          /* T / NR */
    int mpanels;          /* ceil(M / MR) */
    ptrdiff_t vxi, pxi;   /* floats from one xi to the next in V and in P */
    long nchunks;
    const float *x, *w;
    ptrdiff_t xs, ys;     /* floats from one image to the next */
    float *y;
    float *u;             /* 16 * mpanels * MR * C */
    float *work;          /* per slot: V, P, then the chunk's runs */
    size_t slot_floats;
    int slots;
};

int fer_conv_winograd_fits(const struct fer_conv_shape *s)
{
    return s->kernel_h == 3 && s->kernel_w == 3 && s->stride_h == 1 && s->stride_w == 1 &&
           s->pad_h == 1 && s->pad_w == 1 && s->dilation_h == 1 && s->dilation_w == 1 &&
           s->out_h == s->height && s->out_w == s->width &&
           strcmp(fer_sgemm_backend(), "avx512") == 0;
}

/* ---- Weights: U = G g G^T, G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]. */

/* G a for a column a of 3 values, 16 kernels at once. */
static TARGET inline void g_times(__m512 a0, __m512 a1, __m512 a2, __m512 out[4])
{
    const __m512 half = _mm512_set1_ps(0.5f);
    out[0] = a0;
    out[1] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(a0, a1), a2));
    out[2] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(a0, a1), a2));
    out[3] = a2;
}

/* A panel p of every U_xi for channels c and c + 1 (only c when
 * `pair` is 0): lane L is output channel 8p + L % 8, input channel
 * c + L / 8, so that the 16 lanes are 16 consecutive floats of the
 * panel (a[c * 8 + r]). The kernels' taps are 9 floats apart: gathered.
 * Lanes past M or past the channels are 0. */
static TARGET void weight_pair(const struct wino *k, long p, int c, int pair)
{
    const ptrdiff_t panel = (ptrdiff_t)MR * k->C;
    const int rows = k->M - (int)p * MR < MR ? k->M - (int)p * MR : MR;
    const unsigned row_bits = (1u << rows) - 1;
    const __mmask16 live = (__mmask16)(row_bits | (pair ? row_bits << 8 : 0));
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    /* (L % 8) * C * 9 + (L / 8) * 9 */
    const __m512i idx = _mm512_add_epi32(
        _mm512_mullo_epi32(_mm512_and_si512(lane, _mm512_set1_epi32(7)),
                           _mm512_set1_epi32(k->C * 9)),
        _mm512_mullo_epi32(_mm512_srli_epi32(lane, 3), _mm512_set1_epi32(9)));
    const float *base = k->w + ((ptrdiff_t)p * MR * k->C + c) * 9;
    __m512 g[9];
    for (int t = 0; t < 9; t++)
        g[t] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, idx, base + t, 4);
    __m512 gg[4][3]; /* G g: 4 rows of 3 */
    for (int j = 0; j < 3; j++) {
        __m512 col[4];
        g_times(g[j], g[3 + j], g[6 + j], col);
        for (int i = 0; i < 4; i++)
            gg[i][j] = col[i];
    }
    float *dst = k->u + p * panel + (ptrdiff_t)c * MR;
    const __mmask16 store = pair ? (__mmask16)0xffff : (__mmask16)0xff;
    for (int i = 0; i < 4; i++) {
        __m512 u[4];
        g_times(gg[i][0], gg[i][1], gg[i][2], u);
        for (int j = 0; j < 4; j++)
            _mm512_mask_storeu_ps(dst + (ptrdiff_t)(4 * i + j) * k->mpanels * panel, store,
                                  u[j]);
    }
}

/* A panels [begin, end) of every U_xi; rows past M are 0. */
static void weight_panels(void *ctx, long begin, long end)
{
    const struct wino *k = ctx;
    for (long p = begin; p < end; p++)
        for (int c = 0; c < k->C; c += 2)
            weight_pair(k, p, c, c + 1 < k->C);
}

/* ---- Tiles of a chunk, by runs of one tile row. */

/* A run of `lanes` tiles of one tile row, the first being tile t of the
 * chunk, with what its transforms need, computed once per chunk rather
 * than once per channel: where its 4 input rows and 2 output rows start
 * in a plane (row 0 for one in the padding, masked out), and the masks
 * of its loads and stores. */
struct run {
    ptrdiff_t in_image, out_image; /* floats from x / y to the run's image */
    int in_row[4], out_row[2];     /* floats from a plane to each row's column 0 */
    int in_col, out_col;           /* 2 tx - 1 and 2 tx */
    int t;
    __mmask16 lanes;               /* the run's tiles */
    __mmask16 in_mask[4][4];       /* row i, load q (columns in_col + 0, 16, 2, 18) */
    __mmask16 out_mask[2][2];      /* row i, store q (columns out_col + 0, 16) */
};

/* Bits j of a 16-float load at column s of a row of `width` floats whose
 * column s + j lies in [0, width) and j < limit. */
static inline __mmask16 span_mask(int s, int width, int limit)
{
    return fer_lanes(-s, width - s < limit ? width - s : limit);
}

static void describe_run(const struct wino *k, int img, int ty, int tx, int t, int lanes,
                         struct run *r)
{
    static const int load_at[4] = {0, 16, 2, 18};
    r->in_image = img * k->xs;
    r->out_image = img * k->ys;
    r->in_col = 2 * tx - 1;
    r->out_col = 2 * tx;
    r->t = t;
    r->lanes = (__mmask16)((1u << lanes) - 1);
    for (int i = 0; i < 4; i++) {
        const int iy = 2 * ty - 1 + i, inside = iy >= 0 && iy < k->H;
        r->in_row[i] = inside ? iy * k->W : 0;
        for (int q = 0; q < 4; q++)
            r->in_mask[i][q] = inside ? span_mask(r->in_col + load_at[q], k->W, 16) : 0;
    }
    for (int i = 0; i < 2; i++) {
        const int oy = 2 * ty + i, inside = oy < k->H;
        r->out_row[i] = inside ? oy * k->W : 0;
        r->out_mask[i][0] = inside ? span_mask(r->out_col, k->W, 2 * lanes) : 0;
        r->out_mask[i][1] = inside ? span_mask(r->out_col + 16, k->W, 2 * lanes - 16) : 0;
    }
}

/* The chunk's tiles [g0, g0 + n) cut into runs of at most LANES tiles
 * within a tile row; panel_bound: nor across a 32-tile panel of V, so
 * that a run's lanes are consecutive floats there. Returns the count
 * (at most n). */
static int cut_runs(const struct wino *k, long g0, int n, int panel_bound, struct run *runs)
{
    const long per_image = (long)k->TY * k->TX;
    int count = 0;
    for (long g = g0; g < g0 + n;) {
        const long in_image = g % per_image;
        const int tx = (int)(in_image % k->TX), t = (int)(g - g0);
        long lanes = k->TX - tx;
        if (lanes > g0 + n - g)
            lanes = g0 + n - g;
        if (lanes > LANES)
            lanes = LANES;
        if (panel_bound && lanes > NR - t % NR)
            lanes = NR - t % NR;
        describe_run(k, (int)(g / per_image), (int)(in_image / k->TX), tx, t, (int)lanes,
                     &runs[count++]);
        g += lanes;
    }
    return count;
}

static const int32_t EVEN[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
static const int32_t ODD[16] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};

/* Row i of 16 patches times B: lane j's patch row is columns
 * in_col + 2j .. in_col + 2j + 3 of `row` (0 outside the image), and
 * B^T a = (a0 - a2, a1 + a2, a2 - a1, a1 - a3) on those 4 columns. */
static TARGET inline void patch_row_b(const float *row, const struct run *r, int i,
                                      __m512i even, __m512i odd, __m512 h[4])
{
    const float *p = row + r->in_col;
    const __m512 lo = _mm512_maskz_loadu_ps(r->in_mask[i][0], p);
    const __m512 hi = _mm512_maskz_loadu_ps(r->in_mask[i][1], p + 16);
    const __m512 lo2 = _mm512_maskz_loadu_ps(r->in_mask[i][2], p + 2);
    const __m512 hi2 = _mm512_maskz_loadu_ps(r->in_mask[i][3], p + 18);
    const __m512 d0 = _mm512_permutex2var_ps(lo, even, hi);
    const __m512 d1 = _mm512_permutex2var_ps(lo, odd, hi);
    const __m512 d2 = _mm512_permutex2var_ps(lo2, even, hi2);
    const __m512 d3 = _mm512_permutex2var_ps(lo2, odd, hi2);
    h[0] = _mm512_sub_ps(d0, d2);
    h[1] = _mm512_add_ps(d1, d2);
    h[2] = _mm512_sub_ps(d2, d1);
    h[3] = _mm512_sub_ps(d1, d3);
}

/* V = B^T d B of a run's patches in channel c, into the chunk's B
 * panels: the rows times B, then B^T down the columns, each of V's 16
 * values stored to its xi block as soon as it is known. */
static TARGET inline void input_run(const struct wino *k, const struct run *r, int c,
                                    __m512i even, __m512i odd, float *v)
{
    const ptrdiff_t plane_floats = (ptrdiff_t)k->H * k->W;
    const float *plane = k->x + r->in_image + c * plane_floats;
    float *dst = v + (ptrdiff_t)(r->t / NR) * k->C * NR + r->t % NR + (ptrdiff_t)c * NR;
    /* The same rows of the next channel, read after this channel's other
     * runs: the prefetchers did not start the planes' streams early
     * enough (the rows' first loads were a third of the transform). */
    if (c + 1 < k->C)
        for (int i = 0; i < 4; i++) {
            const float *next = plane + plane_floats + r->in_row[i] + r->in_col;
            _mm_prefetch((const char *)(next + 1), _MM_HINT_T0);
            _mm_prefetch((const char *)(next + 17), _MM_HINT_T0);
            _mm_prefetch((const char *)(next + 33), _MM_HINT_T0);
        }
    __m512 h0[4], h1[4], h2[4], h3[4];
    patch_row_b(plane + r->in_row[0], r, 0, even, odd, h0);
    patch_row_b(plane + r->in_row[1], r, 1, even, odd, h1);
    patch_row_b(plane + r->in_row[2], r, 2, even, odd, h2);
    patch_row_b(plane + r->in_row[3], r, 3, even, odd, h3);
    for (int j = 0; j < 4; j++) {
        _mm512_mask_storeu_ps(dst + (0 + j) * k->vxi, r->lanes, _mm512_sub_ps(h0[j], h2[j]));
        _mm512_mask_storeu_ps(dst + (4 + j) * k->vxi, r->lanes, _mm512_add_ps(h1[j], h2[j]));
        _mm512_mask_storeu_ps(dst + (8 + j) * k->vxi, r->lanes, _mm512_sub_ps(h2[j], h1[j]));
        _mm512_mask_storeu_ps(dst + (12 + j) * k->vxi, r->lanes, _mm512_sub_ps(h1[j], h3[j]));
    }
}

/* Every run's patches, channel by channel: a channel's input rows are
 * then read in order, which the hardware prefetchers follow (run by run,
 * all channels, the first load of each row missed: 40% of the
 * transform's time). */
static TARGET void input_chunk(const struct wino *k, const struct run *runs, int nruns,
                               float *v)
{
    const __m512i even = _mm512_loadu_si512(EVEN), odd = _mm512_loadu_si512(ODD);
    for (int c = 0; c < k->C; c++)
        for (int i = 0; i < nruns; i++)
            input_run(k, &runs[i], c, even, odd, v);
}

/* A^T a for 4 values a, A^T = [1 1 1 0; 0 1 -1 -1]. */
static TARGET inline void at_times(__m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 *out0,
                                   __m512 *out1)
{
    *out0 = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
    *out1 = _mm512_sub_ps(_mm512_sub_ps(a1, a2), a3);
}

static const int32_t ZIP_LO[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
static const int32_t ZIP_HI[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};

/* Y = A^T m A of a run's tiles for output channel o, from the chunk's
 * products into the output: the two output rows' left and right values
 * of 16 tiles, interleaved into 32 floats of each row. */
static TARGET inline void output_run(const struct wino *k, const struct run *r, int o,
                                     const float *prod, __m512i zlo, __m512i zhi)
{
    const ptrdiff_t xs = k->pxi;
    const float *m = prod + (ptrdiff_t)o * k->T + r->t;
    __m512 top[4], bottom[4]; /* A^T m: its two rows, column j */
    for (int j = 0; j < 4; j++)
        at_times(_mm512_maskz_loadu_ps(r->lanes, m + (0 + j) * xs),
                 _mm512_maskz_loadu_ps(r->lanes, m + (4 + j) * xs),
                 _mm512_maskz_loadu_ps(r->lanes, m + (8 + j) * xs),
                 _mm512_maskz_loadu_ps(r->lanes, m + (12 + j) * xs), &top[j], &bottom[j]);
    float *out = k->y + r->out_image + (ptrdiff_t)o * k->H * k->W + r->out_col;
    /* The next channel's rows, for writing: the output is written once,
     * and its lines came in from memory with each store's miss. */
    if (o + 1 < k->M)
        for (int i = 0; i < 2; i++) {
            const float *next = out + (ptrdiff_t)k->H * k->W + r->out_row[i];
            _mm_prefetch((const char *)next, _MM_HINT_ET0);
            _mm_prefetch((const char *)(next + 31), _MM_HINT_ET0);
        }
    __m512 left, right;
    at_times(top[0], top[1], top[2], top[3], &left, &right);
    _mm512_mask_storeu_ps(out + r->out_row[0], r->out_mask[0][0],
                          _mm512_permutex2var_ps(left, zlo, right));
    _mm512_mask_storeu_ps(out + r->out_row[0] + 16, r->out_mask[0][1],
                          _mm512_permutex2var_ps(left, zhi, right));
    at_times(bottom[0], bottom[1], bottom[2], bottom[3], &left, &right);
    _mm512_mask_storeu_ps(out + r->out_row[1], r->out_mask[1][0],
                          _mm512_permutex2var_ps(left, zlo, right));
    _mm512_mask_storeu_ps(out + r->out_row[1] + 16, r->out_mask[1][1],
                          _mm512_permutex2var_ps(left, zhi, right));
}

/* Every run's outputs, channel by channel (each output plane written in
 * order). */
static TARGET void output_chunk(const struct wino *k, const struct run *runs, int nruns,
                                const float *prod)
{
    const __m512i zlo = _mm512_loadu_si512(ZIP_LO), zhi = _mm512_loadu_si512(ZIP_HI);
    for (int o = 0; o < k->M; o++)
        for (int i = 0; i < nruns; i++)
            output_run(k, &runs[i], o, prod, zlo, zhi);
}

/* ---- Chunks. */

/* P_xi = U_xi V_xi for the chunk's n tiles: per A panel (8 output
 * channels x C, in L1 for the panel's sweep), every B panel from L2. */
static TARGET void chunk_products(const struct wino *k, int n, const float *v, float *prod)
{
    const ptrdiff_t apanel = (ptrdiff_t)MR * k->C, bpanel = (ptrdiff_t)k->C * NR;
    const int used = (n + NR - 1) / NR;
    for (int xi = 0; xi < XI; xi++) {
        const float *u = k->u + (ptrdiff_t)xi * k->mpanels * apanel;
        const float *vx = v + xi * k->vxi;
        float *px = prod + xi * k->pxi;
        for (int p = 0; p < k->mpanels; p++) {
            const int m = k->M - p * MR < MR ? k->M - p * MR : MR;
            for (int q = 0; q < used; q++) {
                const int cols = n - q * NR < NR ? n - q * NR : NR;
                fer_gemm_kernel_avx512(k->C, u + p * apanel, vx + q * bpanel,
                                       px + (ptrdiff_t)p * MR * k->T + q * NR, k->T, m, cols,
                                       1.0f, 0.0f, 1);
            }
        }
    }
}

/* The columns past the chunk's n tiles in its last B panel, per xi and
 * channel: the kernel multiplies them too (their products are dropped),
 * and zeros keep whatever the arena held there (NaN, denormals) out of
 * it. */
static TARGET void zero_tail(const struct wino *k, int n, float *v)
{
    if (n % NR == 0)
        return;
    const __m512 zero = _mm512_setzero_ps();
    const int from = n % NR;
    const __mmask16 m0 = (__mmask16)(from >= 16 ? 0 : 0xffffu << from);
    const __mmask16 m1 = (__mmask16)(from <= 16 ? 0xffffu : 0xffffu << (from - 16));
    for (int xi = 0; xi < XI; xi++) {
        float *b = v + xi * k->vxi + (ptrdiff_t)(n / NR) * k->C * NR;
        for (int c = 0; c < k->C; c++) {
            _mm512_mask_storeu_ps(b + (ptrdiff_t)c * NR, m0, zero);
            _mm512_mask_storeu_ps(b + (ptrdiff_t)c * NR + 16, m1, zero);
        }
    }
}

static void run_chunk(const struct wino *k, long chunk, float *slot)
{
    const long g0 = chunk * k->T;
    const int n = (int)(k->tiles - g0 < k->T ? k->tiles - g0 : k->T);
    float *v = slot, *prod = slot + XI * k->vxi;
    struct run *runs = (struct run *)(prod + XI * k->pxi);
    int nruns = cut_runs(k, g0, n, 1, runs);
    input_chunk(k, runs, nruns, v);
    zero_tail(k, n, v);
    chunk_products(k, n, v, prod);
    nruns = cut_runs(k, g0, n, 0, runs);
    output_chunk(k, runs, nruns, prod);
}

/* Slot s (one per thread) takes chunks [nchunks * s / slots, ...): the
 * chunks, not this split, decide the bits. */
static void slot_items(void *ctx, long begin, long end)
{
    const struct wino *k = ctx;
    for (long s = begin; s < end; s++) {
        float *slot = k->work + (size_t)s * k->slot_floats;
        for (long c = k->nchunks * s / k->slots; c < k->nchunks * (s + 1) / k->slots; c++)
            run_chunk(k, c, slot);
    }
}

/* Tiles per chunk: V and P within CHUNK_BYTES, a multiple of NR, at least
 * NR, at most what the batch has. */
static int default_chunk(int C, int M, long tiles)
{
    long T = (long)(CHUNK_BYTES / (sizeof(float) * XI * ((size_t)C + M))) / NR * NR;
    const long all = (tiles + NR - 1) / NR * NR;
    if (T < NR)
        T = NR;
    return (int)(T < all ? T : all);
}

int fer_conv_winograd(int M, const float *w, const struct fer_conv_shape *s, const float *x,
                      float *y, ptrdiff_t out_stride, int chunk_tiles,
                      struct fer_arena *scratch)
{
    if (M < 1 || s->channels < 1 || s->height < 1 || s->width < 1 || s->images < 1 ||
        chunk_tiles < 0)
        return fer_fail("winograd: bad sizes");
    if (!fer_conv_winograd_fits(s))
        return 1;
    struct wino k = {.M = M, .C = s->channels, .H = s->height, .W = s->width,
                     .TY = (s->height + 1) / 2, .TX = (s->width + 1) / 2,
                     .x = x, .w = w, .xs = s->image_stride, .ys = out_stride, .y = y};
    k.tiles = (long)s->images * k.TY * k.TX;
    k.T = chunk_tiles ? (chunk_tiles + NR - 1) / NR * NR : default_chunk(k.C, M, k.tiles);
    k.npanels = k.T / NR;
    k.mpanels = (M + MR - 1) / MR;
    k.nchunks = (k.tiles + k.T - 1) / k.T;
    const int threads = fer_parallel_threads();
    k.slots = k.nchunks < threads ? (int)k.nchunks : threads;
    k.vxi = (ptrdiff_t)k.npanels * k.C * NR + XI_PAD;
    k.pxi = (ptrdiff_t)M * k.T + XI_PAD;
    /* Then the chunk's runs (at most one per tile), in whole cache lines. */
    k.slot_floats = (size_t)XI * (k.vxi + k.pxi) +
                    ((size_t)k.T * sizeof(struct run) / sizeof(float) + 15) / 16 * 16;

    struct fer_arena_mark mark = fer_arena_mark(scratch);
    k.u = fer_arena_alloc(scratch, sizeof(float) * XI * k.mpanels * MR * (size_t)k.C);
    k.work = fer_arena_alloc(scratch, sizeof(float) * k.slot_floats * k.slots);
    if (k.u == NULL || k.work == NULL) {
        fer_arena_release(scratch, mark);
        return fer_fail_context("winograd");
    }
    fer_nn_parallel_for(k.mpanels, 2.0 * XI * MR * k.C, weight_panels, &k);
    fer_parallel_for(k.slots, slot_items, &k);
    fer_arena_release(scratch, mark);
    return 0;
}
