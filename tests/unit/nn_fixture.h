/* nn_fixture.h - PyTorch reference fixtures and tolerance checks for the
 * layer tests (test_nn_*.c).
 *
 * Fixtures are written by scripts/gen-nn-fixtures.py (the format is
 * documented there) into $FER_ROOT/tests/fixtures/nn/<case>.bin.
 *
 * Tolerance. For each tensor we compare
 *     err = max_i |ours_i - torch_i| / max_i |torch_i|
 * and require err <= 1e-4. Normalising by the tensor's largest magnitude,
 * not element by element, is deliberate: a gradient entry that is a sum of
 * O(1) terms cancelling to ~1e-7 has no meaningful relative error in
 * float32 (both sides are rounding noise), while the tensor-wide scale is
 * what a float32 computation is accurate to. Our float32 sums of at most a
 * few hundred O(1) products differ from PyTorch's (another summation order)
 * by about sqrt(K) * 6e-8 ~ 1e-6 of that scale, so 1e-4 leaves two orders of
 * margin for summation order yet catches any wrong index, padding or
 * missing term (those give errors of order 1e-2 to 1).
 */
#ifndef FER_NN_FIXTURE_H
#define FER_NN_FIXTURE_H

#include "check_helpers.h"
#include "error.h"
#include "rng.h"
#include "tensor.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FX_MAX 4096
#define NN_TOL 1e-4

struct fixture {
    int count;
    char (*names)[64];
    struct fer_tensor *t;
};

static inline uint32_t fx_u32(FILE *fp)
{
    unsigned char b[4];
    ck_assert_msg(fread(b, 1, 4, fp) == 4, "fixture truncated");
    return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Load <dir>/<name>.bin. */
static inline struct fixture *fx_load_from(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open fixture %s (set FER_ROOT)", path);
    char magic[8];
    ck_assert(fread(magic, 1, 8, fp) == 8 && memcmp(magic, "FERNNFX1", 8) == 0);
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->count = (int)fx_u32(fp);
    ck_assert_int_le(fx->count, FX_MAX);
    fx->names = calloc(fx->count + 1, sizeof *fx->names);
    fx->t = calloc(fx->count + 1, sizeof *fx->t);
    for (int i = 0; i < fx->count; i++) {
        uint32_t len = fx_u32(fp);
        ck_assert_uint_lt(len, sizeof fx->names[i]);
        ck_assert(fread(fx->names[i], 1, len, fp) == len);
        int nd = (int)fx_u32(fp), shape[4];
        ck_assert(nd >= 1 && nd <= 4);
        for (int d = 0; d < nd; d++)
            shape[d] = (int)fx_u32(fp);
        ck_assert_int_eq(fer_tensor_alloc(&fx->t[i], nd, shape), 0);
        size_t n = fer_tensor_numel(&fx->t[i]);
        /* The format is little-endian; so is every machine we build on. */
        ck_assert(fread(fx->t[i].data, sizeof(float), n, fp) == n);
    }
    fclose(fp);
    return fx;
}

/* Load a committed fixture: $FER_ROOT/tests/fixtures/nn/<name>.bin. */
static inline struct fixture *fx_load(const char *name)
{
    const char *root = getenv("FER_ROOT");
    char dir[480];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/nn", root ? root : ".");
    return fx_load_from(dir, name);
}

static inline void fx_free(struct fixture *fx)
{
    for (int i = 0; i < fx->count; i++)
        fer_tensor_free(&fx->t[i]);
    free(fx->names);
    free(fx->t);
    free(fx);
}

static inline struct fer_tensor *fx_find(struct fixture *fx, const char *name)
{
    for (int i = 0; i < fx->count; i++)
        if (strcmp(fx->names[i], name) == 0)
            return &fx->t[i];
    return NULL;
}

static inline struct fer_tensor *fx_get(struct fixture *fx, const char *name)
{
    struct fer_tensor *t = fx_find(fx, name);
    ck_assert_msg(t != NULL, "fixture has no tensor %s", name);
    return t;
}

static inline float fx_cfg(struct fixture *fx, int i)
{
    struct fer_tensor *c = fx_get(fx, "cfg");
    ck_assert_int_lt(i, (int)fer_tensor_numel(c));
    return c->data[i];
}

/* A zeroed tensor shaped like `like`, owned. */
static inline struct fer_tensor nn_zeros_like(const struct fer_tensor *like)
{
    struct fer_tensor t;
    ck_assert_int_eq(fer_tensor_alloc(&t, like->ndim, like->shape), 0);
    return t;
}

/* max|a-b| / max|b| (see the tolerance note above). */
static inline double nn_error(const float *a, const float *b, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= diff)) /* also catches NaN */
            diff = d;
        if (fabs(b[i]) > scale)
            scale = fabs(b[i]);
    }
    return scale > 0 ? diff / scale : diff;
}

#define nn_expect_close(what, got, want)                                          \
    do {                                                                          \
        const struct fer_tensor *g_ = (got), *w_ = (want);                        \
        ck_assert_msg(fer_tensor_numel(g_) == fer_tensor_numel(w_),               \
                      "%s: %zu elements, expected %zu", what,                     \
                      fer_tensor_numel(g_), fer_tensor_numel(w_));                \
        double e_ = nn_error(g_->data, w_->data, fer_tensor_numel(w_));           \
        ck_assert_msg(e_ <= NN_TOL, "%s: error %.3g > %.0e", what, e_, NN_TOL);   \
    } while (0)

static inline void nn_randn(struct fer_tensor *t, struct fer_rng *r)
{
    size_t n = fer_tensor_numel(t);
    for (size_t i = 0; i < n; i++)
        t->data[i] = (float)fer_rng_normal(r);
}

/* Finite differences. The tests define a scalar L(params) = sum_i y_i r_i
 * with a fixed random r (accumulated in double) and compare the analytic
 * gradient (backward with dy = r) with the central difference
 * (L(p + h) - L(p - h)) / 2h at a few random coordinates. In float32 the
 * forward pass rounds at ~6e-8 relative, so with h = 1e-2 the difference
 * quotient carries ~1e-5 noise plus O(h^2) curvature error: we accept
 * |numeric - analytic| <= 2e-3 * max(1, |analytic|). A wrong term in a
 * gradient is off by O(1) and fails. */
#define NN_FD_H 1e-2f
#define NN_FD_TOL 2e-3

static inline double nn_dot(const struct fer_tensor *y, const struct fer_tensor *r)
{
    double s = 0;
    size_t n = fer_tensor_numel(y);
    for (size_t i = 0; i < n; i++)
        s += (double)y->data[i] * r->data[i];
    return s;
}

typedef double (*nn_loss_fn)(void *ctx);

/* Check grad (analytic dL/dparam) against differences of f at `samples`
 * random coordinates of param. */
static inline void nn_check_fd(const char *what, nn_loss_fn f, void *ctx,
                               struct fer_tensor *param, const struct fer_tensor *grad,
                               int samples, struct fer_rng *r)
{
    size_t n = fer_tensor_numel(param);
    for (int s = 0; s < samples; s++) {
        size_t i = fer_rng_below(r, (uint32_t)n);
        float keep = param->data[i];
        param->data[i] = keep + NN_FD_H;
        double lp = f(ctx);
        param->data[i] = keep - NN_FD_H;
        double lm = f(ctx);
        param->data[i] = keep;
        double num = (lp - lm) / (2.0 * (double)NN_FD_H);
        double ana = grad->data[i];
        double tol = NN_FD_TOL * (fabs(ana) > 1 ? fabs(ana) : 1);
        ck_assert_msg(fabs(num - ana) <= tol, "%s[%zu]: numeric %.6g, analytic %.6g",
                      what, i, num, ana);
    }
}

#endif
