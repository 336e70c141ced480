/* test_gemm_conv: the implicit-GEMM convolution path (fer_sgemm_conv and
 * its packer) against im2col written out the plain way.
 *
 *  - The packer must give exactly the floats that fer_gemm_pack_b_avx512
 *    gives on the im2col matrix, for any window of rows and columns
 *    (K blocks, N blocks, ragged edges, columns past the end), over
 *    kernels 1/3/5/7, strides 1/2, every padding 0..k-1, dilation 1/2,
 *    widths that are not multiples of 32, 1/3/64 channels, 1 to 5 images.
 *  - fer_sgemm_conv must equal fer_sgemm of the weights and the im2col
 *    matrix bit for bit (same products, same order), at 1, 2 and 3
 *    threads, with the output as one matrix or scattered per image.
 *  - A whole convolution layer (groups, depthwise) must match a direct
 *    double-precision convolution, and with FER_GEMM=openblas (the im2col
 *    fallback) give the same outputs within rounding.
 */
#include "check_helpers.h"

#include "gemm.h"
#include "gemm_kernel.h"
#include "nn_conv.h"
#include "parallel.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

static int have_avx512(void)
{
    __builtin_cpu_init();
    const char *env = getenv("FER_GEMM");
    return __builtin_cpu_supports("avx512f") && !(env && strcmp(env, "openblas") == 0);
}

static long ncols(const struct fer_conv_shape *s)
{
    return (long)s->out_h * s->out_w * s->images;
}

static int nrows(const struct fer_conv_shape *s)
{
    return s->channels * s->kernel_h * s->kernel_w;
}

/* The K x (images * P) im2col matrix, by the definition in gemm.h. */
static float *im2col_plain(const struct fer_conv_shape *s, const float *x)
{
    const long N = ncols(s), P = (long)s->out_h * s->out_w;
    float *col = malloc(sizeof(float) * nrows(s) * N);
    ck_assert_ptr_nonnull(col);
    for (int c = 0; c < s->channels; c++)
        for (int ki = 0; ki < s->kernel_h; ki++)
            for (int kj = 0; kj < s->kernel_w; kj++) {
                const long row = ((long)c * s->kernel_h + ki) * s->kernel_w + kj;
                for (long j = 0; j < N; j++) {
                    const long i = j / P, q = j % P;
                    const int oh = (int)(q / s->out_w), ow = (int)(q % s->out_w);
                    const int ih = oh * s->stride_h - s->pad_h + ki * s->dilation_h;
                    const int iw = ow * s->stride_w - s->pad_w + kj * s->dilation_w;
                    col[row * N + j] =
                        ih < 0 || ih >= s->height || iw < 0 || iw >= s->width
                            ? 0.0f
                            : x[i * s->image_stride + ((long)c * s->height + ih) * s->width +
                                iw];
                }
            }
    return col;
}

static int out_size(int in, int k, int st, int pad, int dil)
{
    return (in + 2 * pad - dil * (k - 1) - 1) / st + 1;
}

/* A shape, or 0 when the kernel does not fit. image_stride leaves a gap
 * of 5 floats between images, so that a packer reading one image's
 * neighbour instead of zero padding is caught. */
static int make_shape(struct fer_conv_shape *s, int C, int H, int W, int k, int st, int pad,
                      int dil, int images)
{
    *s = (struct fer_conv_shape){C, H, W, 0, 0, k, k, st, st, pad, pad, dil, dil, images,
                                 (ptrdiff_t)C * H * W + 5};
    if (H + 2 * pad < dil * (k - 1) + 1 || W + 2 * pad < dil * (k - 1) + 1)
        return 0;
    s->out_h = out_size(H, k, st, pad, dil);
    s->out_w = out_size(W, k, st, pad, dil);
    return 1;
}

static float *random_floats(size_t n, struct fer_rng *r)
{
    float *v = malloc(sizeof(float) * (n ? n : 1));
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)fer_rng_normal(r);
    return v;
}

/* Pack windows (p0, kc, j0, n) of both and compare every float. */
static void check_pack(const struct fer_conv_shape *s, const float *x, const float *col)
{
    const int K = nrows(s);
    const long N = ncols(s);
    const int kcs[] = {K, 1, 7, 384}, j0s[] = {0, 13, 64}, ns[] = {(int)N, 32, 45};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++)
            for (int d = 0; d < 3; d++) {
                const int p0 = a == 1 ? K - 1 : a == 2 ? K / 3 : 0;
                const int kc = kcs[a] < K - p0 ? kcs[a] : K - p0;
                const int j0 = j0s[b] < N ? j0s[b] : 0;
                /* Windows may run past the last column: zeros expected. */
                const int n = ns[d];
                const size_t len = (size_t)(n + FER_GEMM_NR - 1) / FER_GEMM_NR *
                                   FER_GEMM_NR * kc;
                float *want = aligned_alloc(64, sizeof(float) * len);
                float *got = aligned_alloc(64, sizeof(float) * len);
                ck_assert(want && got);
                /* pack_b reads columns < j0 + n only where they exist. */
                const int nv = j0 + n <= N ? n : (int)(N - j0);
                memset(want, 0, sizeof(float) * len);
                fer_gemm_pack_b_avx512(0, col, N, p0, kc, j0, nv, want);
                memset(got, 0xff, sizeof(float) * len);
                fer_gemm_pack_conv_avx512(s, x, p0, kc, j0, n, got);
                if (memcmp(want, got, sizeof(float) * len) != 0)
                    ck_abort_msg("pack differs: C %d %dx%d k %d s %d,%d p %d d %d images %d; "
                                 "rows %d+%d cols %d+%d",
                                 s->channels, s->height, s->width, s->kernel_h, s->stride_h,
                                 s->stride_w, s->pad_h, s->dilation_h, s->images, p0, kc, j0, n);
                free(want);
                free(got);
            }
}

START_TEST(test_pack_equals_im2col)
{
    if (!have_avx512())
        return;
    struct fer_rng r;
    fer_rng_seed(&r, 11);
    const int ks[] = {1, 3, 5, 7}, Cs[] = {1, 3, 64};
    const int sizes[][2] = {{7, 7}, {13, 37}, {16, 16}, {4, 33}};
    int tried = 0;
    for (int ci = 0; ci < 3; ci++)
        for (int ki = 0; ki < 4; ki++)
            for (int st = 1; st <= 2; st++)
                for (int dil = 1; dil <= 2; dil++)
                    for (int pad = 0; pad < ks[ki]; pad++)
                        for (int si = 0; si < 4; si++) {
                            const int images = 1 + (ci + ki + si + pad) % 5;
                            /* 64 channels: a subset of the geometries, to
                             * keep the test short. */
                            if (Cs[ci] == 64 && (si != 1 || dil != 1 || pad > 1))
                                continue;
                            struct fer_conv_shape s;
                            if (!make_shape(&s, Cs[ci], sizes[si][0], sizes[si][1], ks[ki],
                                            st, pad, dil, images))
                                continue;
                            float *x = random_floats((size_t)s.image_stride * images, &r);
                            float *col = im2col_plain(&s, x);
                            check_pack(&s, x, col);
                            free(x);
                            free(col);
                            tried++;
                        }
    ck_assert_int_gt(tried, 300);
}
END_TEST

/* A copy of the n floats x with an unreadable page right after them
 * (at_end) or right before: a packer reading past the image faults.
 * Release with munmap(*map, *len). */
static float *guarded_copy(const float *x, size_t n, int at_end, void **map, size_t *len)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = sizeof(float) * n;
    const size_t data = (bytes + page - 1) / page * page;
    *len = data + 2 * page;
    char *m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(m != MAP_FAILED);
    ck_assert_int_eq(mprotect(m, page, PROT_NONE), 0);
    ck_assert_int_eq(mprotect(m + page + data, page, PROT_NONE), 0);
    float *p = (float *)(m + page + (at_end ? data - bytes : 0));
    memcpy(p, x, bytes);
    *map = m;
    return p;
}

/* The packer's row segments (stride 1 or 2 across the row, masked loads
 * and a permute): every (stride_h, stride_w) pair up to 3, including
 * unequal ones and stride 3 (gathers), output widths 1 to 33 so that a
 * half panel of 16 lanes crosses 0, 1, 2, 3, 4 or more output rows (more
 * than the 5 segments it takes: gathers), odd widths, padding 0..3 on
 * 1 x 1, 3 x 3 and 7 x 7 kernels, dilation 1 and 2, one image and many
 * (half panels crossing images). The input also sits against an
 * unreadable page at either end: nothing outside it is read but under a
 * load mask. */
START_TEST(test_pack_strided_rows)
{
    if (!have_avx512())
        return;
    struct fer_rng r;
    fer_rng_seed(&r, 13);
    const int strides[][2] = {{1, 1}, {2, 2}, {3, 3}, {1, 2}, {2, 1}, {3, 2}};
    const int ks[] = {1, 3, 7}, widths[] = {3, 7, 8, 9, 10, 11, 15, 17, 31, 33, 35, 66};
    int tried = 0;
    for (int si = 0; si < 6; si++)
        for (int ki = 0; ki < 3; ki++)
            for (int wi = 0; wi < 12; wi++)
                for (int pad = 0; pad <= 3; pad++)
                    for (int dil = 1; dil <= 2; dil++) {
                        const int k = ks[ki], W = widths[wi], H = 5 + (wi + pad) % 6;
                        const int images = (wi + pad + dil) % 3 == 0 ? 1 : 1 + (wi + ki) % 6;
                        const int sh = strides[si][0], sw = strides[si][1];
                        struct fer_conv_shape s = {
                            2, H, W, 0, 0, k, k, sh, sw, pad, pad, dil, dil, images,
                            (ptrdiff_t)2 * H * W + 5};
                        if (H + 2 * pad < dil * (k - 1) + 1 || W + 2 * pad < dil * (k - 1) + 1)
                            continue;
                        s.out_h = out_size(H, k, sh, pad, dil);
                        s.out_w = out_size(W, k, sw, pad, dil);
                        float *x = random_floats((size_t)s.image_stride * images, &r);
                        float *col = im2col_plain(&s, x);
                        check_pack(&s, x, col);
                        /* The last image ends the input: no gap after it. */
                        const size_t n = (size_t)s.image_stride * (images - 1) + 2 * H * W;
                        for (int at_end = 0; at_end <= 1; at_end++) {
                            void *map;
                            size_t len;
                            check_pack(&s, guarded_copy(x, n, at_end, &map, &len), col);
                            munmap(map, len);
                        }
                        free(x);
                        free(col);
                        tried++;
                    }
    ck_assert_int_gt(tried, 1000);
}
END_TEST

/* fer_sgemm_conv against fer_sgemm on im2col, bit for bit, at 1 to 3
 * threads, as one matrix and scattered into per-image outputs. */
START_TEST(test_product_bitwise)
{
    if (!have_avx512())
        return;
    struct fer_rng r;
    fer_rng_seed(&r, 12);
    const struct {
        int C, H, W, k, st, pad, dil, images, M;
    } cases[] = {
        {1, 64, 64, 3, 1, 1, 1, 5, 32},   {32, 16, 16, 3, 1, 1, 1, 4, 64},
        {3, 40, 40, 7, 2, 3, 1, 2, 64},   {64, 14, 14, 1, 2, 0, 1, 3, 16},
        {16, 7, 7, 3, 1, 1, 1, 6, 24},    {128, 4, 4, 3, 1, 1, 1, 5, 8},
        {8, 13, 37, 5, 1, 2, 2, 3, 3},    {70, 9, 9, 3, 1, 1, 1, 2, 40},
        {64, 28, 28, 3, 2, 1, 1, 2, 16},  {128, 14, 14, 3, 2, 1, 1, 3, 16},
        {64, 8, 8, 3, 2, 1, 1, 5, 8},     {5, 23, 31, 7, 2, 3, 1, 3, 24},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        struct fer_conv_shape s;
        ck_assert(make_shape(&s, cases[t].C, cases[t].H, cases[t].W, cases[t].k, cases[t].st,
                             cases[t].pad, cases[t].dil, cases[t].images));
        const int M = cases[t].M, K = nrows(&s);
        const long N = ncols(&s), P = (long)s.out_h * s.out_w;
        float *x = random_floats((size_t)s.image_stride * s.images, &r);
        float *w = random_floats((size_t)M * K, &r);
        float *col = im2col_plain(&s, x);
        float *want = malloc(sizeof(float) * M * N), *got = malloc(sizeof(float) * M * N);
        float *nchw = malloc(sizeof(float) * M * N);
        ck_assert(want && got && nchw);
        ck_assert_int_eq(fer_parallel_set_threads(1), 0);
        ck_assert_int_eq(fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, M, (int)N, K, 1.0f, w, K, col,
                                   (int)N, 0.0f, want, (int)N),
                         0);
        for (int threads = 1; threads <= 3; threads++) {
            ck_assert_int_eq(fer_parallel_set_threads(threads), 0);
            memset(got, 0xff, sizeof(float) * M * N);
            ck_assert_int_eq(fer_sgemm_conv(M, w, K, &s, x, got, N, P), 0);
            ck_assert_msg(memcmp(want, got, sizeof(float) * M * N) == 0,
                          "case %zu, %d threads: matrix output differs", t, threads);
            memset(nchw, 0xff, sizeof(float) * M * N);
            ck_assert_int_eq(fer_sgemm_conv(M, w, K, &s, x, nchw, P, M * P), 0);
            for (int i = 0; i < s.images; i++)
                for (int o = 0; o < M; o++)
                    ck_assert_msg(memcmp(want + o * N + i * P, nchw + (i * M + o) * P,
                                         sizeof(float) * P) == 0,
                                  "case %zu, %d threads: image %d row %d differs", t, threads,
                                  i, o);
        }
        ck_assert_int_eq(fer_parallel_set_threads(1), 0);
        free(x);
        free(w);
        free(col);
        free(want);
        free(got);
        free(nchw);
    }
}
END_TEST

START_TEST(test_bad_arguments)
{
    if (!have_avx512())
        return;
    struct fer_conv_shape s;
    ck_assert(make_shape(&s, 2, 8, 8, 3, 1, 1, 1, 2));
    float x[300] = {0}, w[18] = {0}, y[256];
    ck_assert_int_eq(fer_sgemm_conv(1, w, 17, &s, x, y, 64, 64), -1);
    ck_assert_int_eq(fer_sgemm_conv(1, w, 18, &s, x, y, 63, 64), -1);
    ck_assert_int_eq(fer_sgemm_conv(1, w, 18, &s, x, y, 64, 63), -1);
    ck_assert_int_eq(fer_sgemm_conv(-1, w, 18, &s, x, y, 64, 64), -1);
    ck_assert_int_eq(fer_sgemm_conv(0, w, 18, &s, x, y, 64, 64), 0);
}
END_TEST

/* fer_sgemm_conv_taps for an M-row, tap-major A and shape s (output
 * images out_stride floats apart, channel planes ldc apart), against
 * the double-precision product of A (reordered back) and im2col: the
 * worst error relative to the sum of |products|. Also checks that the
 * floats between outputs are left alone. */
static double taps_error(const struct fer_conv_shape *s, int M, ptrdiff_t ldc,
                         ptrdiff_t out_stride, struct fer_rng *r)
{
    const int C = s->channels, kk = s->kernel_h * s->kernel_w, K = C * kk;
    const ptrdiff_t P = (ptrdiff_t)s->out_h * s->out_w, N = P * s->images;
    float *x = random_floats((size_t)s->image_stride * s->images, r);
    float *at = random_floats((size_t)M * (K + 3), r); /* lda = K + 3 */
    float *col = im2col_plain(s, x);
    const size_t ny = (size_t)out_stride * s->images;
    float *y = malloc(sizeof(float) * ny);
    ck_assert_ptr_nonnull(y);
    for (size_t i = 0; i < ny; i++)
        y[i] = -7.0f;
    ck_assert_int_eq(fer_sgemm_conv_taps(M, at, K + 3, s, x, y, ldc, out_stride), 0);
    double worst = 0;
    for (int m = 0; m < M; m++)
        for (ptrdiff_t j = 0; j < N; j++) {
            double sum = 0, mag = 0;
            for (int c = 0; c < C; c++)
                for (int t = 0; t < kk; t++) {
                    const double p = (double)at[(ptrdiff_t)m * (K + 3) + t * C + c] *
                                     col[((ptrdiff_t)c * kk + t) * N + j];
                    sum += p;
                    mag += fabs(p);
                }
            const double got = y[(j / P) * out_stride + m * ldc + j % P];
            const double e = fabs(got - sum) / (mag + 1e-30);
            worst = e > worst ? e : worst;
        }
    /* Floats between the planes and after the last: untouched. */
    for (int i = 0; i < s->images; i++)
        for (ptrdiff_t q = 0; q < out_stride; q++)
            if (q >= (ptrdiff_t)M * ldc || q % ldc >= P)
                ck_assert_float_eq(y[i * out_stride + q], -7.0f);
    free(x);
    free(at);
    free(col);
    free(y);
    return worst;
}

/* The tap classes over many geometries: 3 x 3 padding 1 at 1 to 9 px,
 * stride 2, a 7 x 7 stride-2 stem, dilation, padding below and above
 * kernel - 1 (no output row wholly in the padding), one image and
 * several, rows M not a multiple of 8, class widths not multiples of 32,
 * outputs with gaps between planes and images. */
START_TEST(test_taps_direct)
{
    if (!have_avx512())
        return;
    struct fer_rng r;
    fer_rng_seed(&r, 21);
    const struct {
        int C, k, st, pad, dil;
    } geos[] = {{5, 3, 1, 1, 1}, {16, 3, 1, 1, 1}, {7, 3, 2, 1, 1}, {3, 7, 2, 3, 1},
                {4, 3, 1, 2, 2}, {6, 5, 1, 1, 1}, {4, 5, 1, 3, 1}, {9, 3, 1, 1, 1}};
    int tried = 0;
    for (size_t gi = 0; gi < sizeof geos / sizeof geos[0]; gi++)
        for (int px = 1; px <= 9; px++)
            for (int images = 1; images <= 3; images += 2) {
                struct fer_conv_shape s;
                if (!make_shape(&s, geos[gi].C, px, px + 1, geos[gi].k, geos[gi].st,
                                geos[gi].pad, geos[gi].dil, images))
                    continue;
                if (fer_conv_padding_fraction(&s) <= 0)
                    continue;
                const int M = 11 + (int)gi;
                const ptrdiff_t P = (ptrdiff_t)s.out_h * s.out_w;
                const double e = taps_error(&s, M, P + 2, M * (P + 2) + 3, &r);
                ck_assert_msg(e < 1e-6, "geometry %zu, %d px, %d images: error %g", gi, px,
                              images, e);
                tried++;
            }
    ck_assert_int_gt(tried, 100);
}
END_TEST

/* Which shapes the classes take: the fraction of padding products, 0
 * where an output row reads only padding. */
START_TEST(test_padding_fraction)
{
    if (!have_avx512())
        return;
    struct fer_conv_shape s;
    ck_assert(make_shape(&s, 8, 4, 4, 3, 1, 1, 1, 2));
    /* ((3 * 4 - 2) / (3 * 4))^2 of the products are real. */
    ck_assert_double_eq_tol(fer_conv_padding_fraction(&s), 1.0 - 100.0 / 144.0, 1e-12);
    ck_assert(make_shape(&s, 8, 4, 4, 1, 1, 0, 1, 2));
    ck_assert_double_eq(fer_conv_padding_fraction(&s), 0.0);
    ck_assert(make_shape(&s, 8, 2, 2, 3, 1, 3, 1, 1)); /* rows wholly in the padding */
    ck_assert_double_eq(fer_conv_padding_fraction(&s), 0.0);
}
END_TEST

/* A whole layer's forward and backward against a direct convolution in
 * double precision; groups and depthwise go through fer_sgemm_conv one
 * group at a time. */
static double layer_error_dw(const struct fer_conv2d_spec *spec, int N, int H, int W,
                             double *dx_err, double *dw_err);

static double layer_error(const struct fer_conv2d_spec *spec, int N, int H, int W,
                          double *dx_err)
{
    double dw_err;
    return layer_error_dw(spec, N, H, W, dx_err, &dw_err);
}

/* ... and the weight gradient's error, relative to its largest entry. */
static double layer_error_dw(const struct fer_conv2d_spec *spec, int N, int H, int W,
                             double *dx_err, double *dw_err)
{
    struct fer_conv2d c;
    ck_assert_int_eq(fer_conv2d_init(&c, spec), 0);
    int OH, OW;
    ck_assert_int_eq(fer_conv2d_output_size(&c, H, W, &OH, &OW), 0);
    struct fer_rng r;
    fer_rng_seed(&r, 13);
    struct fer_tensor x, y, dx;
    ck_assert_int_eq(fer_tensor_alloc(&x, 4, (int[]){N, spec->in_channels, H, W}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&dx, 4, (int[]){N, spec->in_channels, H, W}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&y, 4, (int[]){N, spec->out_channels, OH, OW}), 0);
    for (size_t i = 0; i < fer_tensor_numel(&x); i++)
        x.data[i] = (float)fer_rng_normal(&r);
    for (size_t i = 0; i < fer_tensor_numel(&c.weight); i++)
        c.weight.data[i] = (float)fer_rng_normal(&r);
    if (c.bias.data)
        for (int o = 0; o < spec->out_channels; o++)
            c.bias.data[o] = (float)fer_rng_normal(&r);
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_int_eq(fer_conv2d_forward(&c, &x, &y, a), 0);
    const int G = c.spec.groups, Cg = spec->in_channels / G, Og = spec->out_channels / G;
    const int k = spec->kernel_h, st = spec->stride_h, pad = spec->pad_h;
    const int dil = c.spec.dilation_h;
    double worst = 0;
    /* dx of sum(y * y) / 2 is the backward of dy = y. */
    double *dxd = calloc(fer_tensor_numel(&x), sizeof(double));
    double *dwd = calloc(fer_tensor_numel(&c.weight), sizeof(double));
    ck_assert_ptr_nonnull(dxd);
    ck_assert_ptr_nonnull(dwd);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < spec->out_channels; o++)
            for (int i = 0; i < OH; i++)
                for (int j = 0; j < OW; j++) {
                    const int g = o / Og;
                    double sum = c.bias.data ? c.bias.data[o] : 0, mag = fabs(sum);
                    for (int ch = 0; ch < Cg; ch++)
                        for (int ki = 0; ki < k; ki++)
                            for (int kj = 0; kj < k; kj++) {
                                const int ih = i * st - pad + ki * dil;
                                const int iw = j * st - pad + kj * dil;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                const int xc = n * spec->in_channels + g * Cg + ch;
                                const double p =
                                    (double)c.weight.data[((o * Cg + ch) * k + ki) * k + kj] *
                                    x.data[(xc * H + ih) * W + iw];
                                sum += p;
                                mag += fabs(p);
                            }
                    const double got = y.data[((n * spec->out_channels + o) * OH + i) * OW + j];
                    const double e = fabs(got - sum) / (mag + 1e-30);
                    worst = e > worst ? e : worst;
                    for (int ch = 0; ch < Cg; ch++)
                        for (int ki = 0; ki < k; ki++)
                            for (int kj = 0; kj < k; kj++) {
                                const int ih = i * st - pad + ki * dil;
                                const int iw = j * st - pad + kj * dil;
                                const int xc = n * spec->in_channels + g * Cg + ch;
                                if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
                                    dxd[(xc * H + ih) * W + iw] +=
                                        got * c.weight.data[((o * Cg + ch) * k + ki) * k + kj];
                                    dwd[((o * Cg + ch) * k + ki) * k + kj] +=
                                        got * x.data[(xc * H + ih) * W + iw];
                                }
                            }
                }
    ck_assert_int_eq(fer_conv2d_backward(&c, &x, &y, &dx, a), 0);
    double dworst = 0, scale = 0;
    for (size_t i = 0; i < fer_tensor_numel(&x); i++)
        scale = fabs(dxd[i]) > scale ? fabs(dxd[i]) : scale;
    for (size_t i = 0; i < fer_tensor_numel(&x); i++) {
        const double e = fabs(dx.data[i] - dxd[i]) / (scale + 1e-30);
        dworst = e > dworst ? e : dworst;
    }
    *dx_err = dworst;
    double wworst = 0, wscale = 0;
    for (size_t i = 0; i < fer_tensor_numel(&c.weight); i++)
        wscale = fabs(dwd[i]) > wscale ? fabs(dwd[i]) : wscale;
    for (size_t i = 0; i < fer_tensor_numel(&c.weight); i++) {
        const double e = fabs(c.weight_grad.data[i] - dwd[i]) / (wscale + 1e-30);
        wworst = e > wworst ? e : wworst;
    }
    *dw_err = wworst;
    free(dwd);
    free(dxd);
    fer_arena_free(a);
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fer_conv2d_free(&c);
    return worst;
}

static const struct fer_conv2d_spec layers[] = {
    {4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1},   /* groups */
    {8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8, 0},   /* depthwise */
    {6, 4, 5, 5, 2, 2, 2, 2, 1, 1, 2, 1},   /* groups, stride 2 */
    {3, 16, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1},  /* stem */
    {5, 7, 3, 3, 1, 1, 2, 2, 2, 2, 1, 0},   /* dilation */
    {16, 8, 1, 1, 2, 2, 0, 0, 1, 1, 1, 0},  /* 1x1 stride 2 */
    {40, 36, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1}, /* 1x1: implicit forward and dx */
    {8, 12, 1, 1, 1, 1, 0, 0, 1, 1, 2, 0},  /* 1x1 groups, K < 32: im2col */
};

START_TEST(test_layers_direct)
{
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        double dx_err, err = layer_error(&layers[i], 3, 11, 19, &dx_err);
        ck_assert_msg(err < 1e-6, "layer %zu: forward error %g", i, err);
        ck_assert_msg(dx_err < 1e-5, "layer %zu: input gradient error %g", i, dx_err);
    }
}
END_TEST

/* Layers where many taps read padding are computed by tap class
 * (fer_sgemm_conv_taps), each class's product skipping the kernel rows
 * and columns that fall outside the image: sizes from 1 px (only the
 * middle tap is real) to 9, 1 image and several (class widths not
 * multiples of 32), strides, a 7 x 7 stem, dilation, groups, against the
 * direct convolution. */
static const struct fer_conv2d_spec padded_layers[] = {
    {8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  /* 3 x 3 padding 1 */
    {40, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0}, /* many channels, K over 128 */
    {4, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},   /* K = 36, 5 output rows */
    {8, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},  /* stride 2 */
    {3, 16, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1},  /* stem: 3 top and 3 bottom classes */
    {6, 7, 3, 3, 1, 1, 2, 2, 2, 2, 1, 0},   /* dilation 2 */
    {16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2, 0},  /* groups */
    {8, 8, 5, 5, 1, 1, 1, 1, 1, 1, 1, 0},   /* padding below kernel - 1 */
    {128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0}, /* large enough for the classes */
    {128, 136, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, /* the same, stride 2, bias */
};

START_TEST(test_padding_taps_direct)
{
    static const int images[] = {1, 3};
    for (size_t i = 0; i < sizeof padded_layers / sizeof padded_layers[0]; i++)
        for (int px = 1; px <= 9; px++)
            for (int n = 0; n < 2; n++) {
                const struct fer_conv2d_spec *sp = &padded_layers[i];
                const int span = sp->dilation_h * (sp->kernel_h - 1) + 1;
                if (px + 2 * sp->pad_h < span)
                    continue;
                double dx_err, dw_err;
                double err = layer_error_dw(sp, images[n], px, px + 2, &dx_err, &dw_err);
                ck_assert_msg(dw_err < 1e-5,
                              "layer %zu, %d px, %d images: weight gradient error %g", i,
                              px, images[n], dw_err);
                ck_assert_msg(err < 1e-6, "layer %zu, %d px, %d images: forward error %g",
                              i, px, images[n], err);
                ck_assert_msg(dx_err < 1e-5,
                              "layer %zu, %d px, %d images: input gradient error %g", i,
                              px, images[n], dx_err);
            }
}
END_TEST

/* The forward, input and weight gradients of one padded layer, N images
 * of H x W, at `threads` threads: y, dx and dw one after another in out. */
static void padded_layer_run(const struct fer_conv2d_spec *spec, int N, int H, int W,
                             int threads, float *out)
{
    ck_assert_int_eq(fer_nn_set_threads(threads), 0);
    struct fer_conv2d c;
    ck_assert_int_eq(fer_conv2d_init(&c, spec), 0);
    int OH, OW;
    ck_assert_int_eq(fer_conv2d_output_size(&c, H, W, &OH, &OW), 0);
    struct fer_rng r;
    fer_rng_seed(&r, 5);
    struct fer_tensor x, y, dx;
    ck_assert_int_eq(fer_tensor_alloc(&x, 4, (int[]){N, spec->in_channels, H, W}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&dx, 4, (int[]){N, spec->in_channels, H, W}), 0);
    ck_assert_int_eq(fer_tensor_alloc(&y, 4, (int[]){N, spec->out_channels, OH, OW}), 0);
    for (size_t i = 0; i < fer_tensor_numel(&x); i++)
        x.data[i] = (float)fer_rng_normal(&r);
    for (size_t i = 0; i < fer_tensor_numel(&c.weight); i++)
        c.weight.data[i] = (float)fer_rng_normal(&r);
    struct fer_arena *a = fer_arena_new(0);
    ck_assert_int_eq(fer_conv2d_forward(&c, &x, &y, a), 0);
    ck_assert_int_eq(fer_conv2d_backward(&c, &x, &y, &dx, a), 0);
    memcpy(out, y.data, sizeof(float) * fer_tensor_numel(&y));
    memcpy(out + fer_tensor_numel(&y), dx.data, sizeof(float) * fer_tensor_numel(&dx));
    memcpy(out + fer_tensor_numel(&y) + fer_tensor_numel(&dx), c.weight_grad.data,
           sizeof(float) * fer_tensor_numel(&c.weight_grad));
    fer_arena_free(a);
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
    fer_conv2d_free(&c);
}

/* The tap classes split their products over the threads by tiles only:
 * the same bits at 1, 2 and 3 threads (a layer the classes take, forward,
 * input and weight gradients, at sizes where classes have tens to hundreds of
 * columns, several K blocks, and products large enough to be shared). The
 * sizes are those where the forward keeps the classes (3 and 5 px; 4 px and
 * 6 px up take Winograd, conv_winograd.h) and where the weight gradient
 * takes them (3 and 4 px). */
START_TEST(test_padding_taps_same_bits_for_threads)
{
    static const struct fer_conv2d_spec spec = {128, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0};
    static const int sizes[] = {3, 4, 5};
    for (int si = 0; si < 3; si++) {
        const int N = 9, px = sizes[si];
        const size_t n = (size_t)N * (136 + 128) * px * px + 136 * 128 * 9;
        float *one = malloc(n * sizeof(float)), *more = malloc(n * sizeof(float));
        ck_assert_ptr_nonnull(one);
        ck_assert_ptr_nonnull(more);
        padded_layer_run(&spec, N, px, px, 1, one);
        for (int t = 2; t <= 3; t++) {
            padded_layer_run(&spec, N, px, px, t, more);
            ck_assert_msg(memcmp(one, more, n * sizeof(float)) == 0,
                          "%d px: results differ at %d threads", px, t);
        }
        free(one);
        free(more);
    }
    fer_nn_set_threads(1);
}
END_TEST

/* The im2col fallback (FER_GEMM=openblas, read once per process: in a
 * child) gives the same layers. */
static int layers_openblas_match(void)
{
    struct fer_conv_shape s;
    make_shape(&s, 2, 8, 8, 3, 1, 1, 1, 2);
    float x[300] = {0}, w[18] = {0}, y[256];
    int ok = fer_sgemm_conv(1, w, 18, &s, x, y, 64, 64) == 1;
    for (size_t i = 0; ok && i < sizeof layers / sizeof layers[0]; i++) {
        double dx_err, err = layer_error(&layers[i], 3, 11, 19, &dx_err);
        ok = err < 1e-6 && dx_err < 1e-5;
    }
    return ok;
}

START_TEST(test_layers_openblas)
{
    fer_check_in_child_with_env("FER_GEMM", "openblas", layers_openblas_match);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gemm_conv");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_pack_equals_im2col);
    tcase_add_test(tc, test_pack_strided_rows);
    tcase_add_test(tc, test_product_bitwise);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_layers_direct);
    tcase_add_test(tc, test_taps_direct);
    tcase_add_test(tc, test_padding_fraction);
    tcase_add_test(tc, test_padding_taps_direct);
    tcase_add_test(tc, test_padding_taps_same_bits_for_threads);
    tcase_add_test(tc, test_layers_openblas);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fer_run_suite(suite());
}
