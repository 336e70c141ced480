/* cascade_detect.c - run a cascade over an image pyramid, the way OpenCV
 * 4.6's CascadeClassifier::detectMultiScale does before grouping.
 *
 * Reproducing OpenCV's boxes needs its arithmetic, step by step:
 * - scales: factor *= scale_factor in double, stored as float; level size
 *   cvRound(width / (float)scale); the image shrinks, the window stays;
 * - the shrink is cv::resize INTER_LINEAR_EXACT (not plain INTER_LINEAR:
 *   checked against OpenCV 4.6 window by window), 8-bit fixed point;
 * - integral images are 32-bit and may wrap: window differences are taken
 *   modulo 2^32 (unsigned here, so no undefined behaviour), as OpenCV's
 *   int arithmetic does in practice;
 * - Haar windows are normalised by sqrt(area * sqsum - sum^2) over the
 *   window shrunk by one pixel, and windows whose standard deviation is
 *   below 10 grey levels are rejected (area * norm < 0.1);
 * - feature values are float, stage sums double, as in predictOrdered*;
 * - the window steps 2 pixels (1 from scale 2 up), and one more step after
 *   a window rejected by the first stage; the bottom rows that OpenCV's
 *   stripe split leaves out are left out here too;
 * - a hit at (x, y) on a level of scale s is cvRound(x*s), cvRound(y*s)
 *   with size cvRound(window * s), all in float.
 * Threads take whole levels, largest first; the hits of each level are
 * kept apart and concatenated in level order, so the output does not
 * depend on the thread count.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cascade.h"
#include "cascade_model.h"
#include "error.h"

/* cvRound of a float: round half to even, as the SSE conversion does. */
static int round_f(float v)
{
    return (int)lrintf(v);
}

static int round_d(double v)
{
    return (int)lrint(v);
}

int fer_rects_push(struct fer_rects *r, struct fer_rect rect)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct fer_rect *v = realloc(r->v, cap * sizeof *v);
        if (v == NULL)
            return fer_fail("out of memory");
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = rect;
    return 0;
}

void fer_rects_free(struct fer_rects *r)
{
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

/* ---- cv::resize(INTER_LINEAR_EXACT) for 8-bit single-channel images ----
 * OpenCV's setImage shrinks with the bit-exact linear resize: coordinates
 * in double, coefficients rounded to 8 fractional bits, a horizontal pass
 * into 8.8 fixed point, a vertical pass into 16.16, rounded to 8 bits.
 * Destination positions left of the first source pixel (or right of the
 * last) copy that edge pixel. */

struct axis {
    int *ofs;        /* first source index per destination index */
    uint16_t *coef;  /* two 8.8 coefficients per destination index */
    int lo, hi;      /* [lo, hi) interpolates; below lo: first, from hi: last */
};

static int axis_init(struct axis *a, int src, int dst)
{
    a->ofs = calloc((size_t)dst, sizeof *a->ofs);
    a->coef = calloc((size_t)dst * 2, sizeof *a->coef);
    if (a->ofs == NULL || a->coef == NULL)
        return fer_fail("out of memory");
    double scale = 1.0 / ((double)dst / src);
    a->lo = 0;
    a->hi = dst;
    for (int d = 0; d < dst; d++) {
        double f = scale * ((double)d + 0.5) - 0.5;
        int i = (int)floor(f);
        if (i >= 0 && src > 1) {
            if (i < src - 1) {
                a->ofs[d] = i;
                uint16_t c1 = (uint16_t)lrint((f - i) * 256.0);
                a->coef[2 * d + 1] = c1;
                a->coef[2 * d] = (uint16_t)(c1 > 256 ? 0 : 256 - c1);
            } else {
                a->ofs[d] = src - 1;
                if (d < a->hi)
                    a->hi = d;
            }
        } else if (d + 1 > a->lo) {
            a->lo = d + 1;
        }
    }
    if (a->hi < a->lo)
        a->hi = a->lo;
    return 0;
}

static void axis_free(struct axis *a)
{
    free(a->ofs);
    free(a->coef);
}

/* One source row to 8.8 fixed point at the destination columns. */
static void hresize_row(const uint8_t *s, uint16_t *d, const struct axis *ax, int dw)
{
    int x = 0;
    for (; x < ax->lo && x < dw; x++)
        d[x] = (uint16_t)(s[0] << 8);
    for (; x < ax->hi; x++) {
        const uint8_t *p = s + ax->ofs[x];
        d[x] = (uint16_t)(ax->coef[2 * x] * p[0] + ax->coef[2 * x + 1] * p[1]);
    }
    for (; x < dw; x++)
        d[x] = (uint16_t)(s[ax->ofs[dw - 1]] << 8);
}

static uint8_t round88(uint16_t v)
{
    unsigned r = ((unsigned)v + 128) >> 8;
    return (uint8_t)(r > 255 ? 255 : r);
}

/* OpenCV's exact 2x shrink (the resize turns into the fast area path). */
static void resize_half(const uint8_t *src, size_t sstride, uint8_t *dst, int dw, int dh)
{
    for (int y = 0; y < dh; y++) {
        const uint8_t *a = src + (size_t)(2 * y) * sstride, *b = a + sstride;
        uint8_t *o = dst + (size_t)y * (size_t)dw;
        for (int x = 0; x < dw; x++)
            o[x] = (uint8_t)((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2);
    }
}

/* Resize src (sw x sh) to dst (dw x dh, packed rows). */
static int resize_linear(const uint8_t *src, int sw, int sh, size_t sstride, uint8_t *dst, int dw,
                         int dh)
{
    if (dw == sw && dh == sh) {
        for (int y = 0; y < dh; y++)
            memcpy(dst + (size_t)y * (size_t)dw, src + (size_t)y * sstride, (size_t)dw);
        return 0;
    }
    if (1. / ((double)dw / sw) == 2.0 && 1. / ((double)dh / sh) == 2.0) {
        resize_half(src, sstride, dst, dw, dh);
        return 0;
    }
    struct axis ax = {0}, ay = {0};
    uint16_t *rows = malloc((size_t)dw * 2 * sizeof *rows);
    int rc = -1;
    if (rows == NULL) {
        fer_fail("out of memory");
        goto end;
    }
    if (axis_init(&ax, sw, dw) < 0 || axis_init(&ay, sh, dh) < 0)
        goto end;
    uint16_t *r0 = rows, *r1 = rows + dw;
    int have0 = -1, have1 = -1;
    for (int y = 0; y < dh; y++) {
        uint8_t *o = dst + (size_t)y * (size_t)dw;
        if (y < ay.lo || y >= ay.hi) { /* above the first or below the last row */
            int s = y < ay.lo ? 0 : sh - 1;
            if (have0 != s) {
                hresize_row(src + (size_t)s * sstride, r0, &ax, dw);
                have0 = s;
                if (have1 == s)
                    have1 = -1;
            }
            for (int x = 0; x < dw; x++)
                o[x] = round88(r0[x]);
            continue;
        }
        int s0 = ay.ofs[y], s1 = s0 + 1;
        if (have0 != s0) { /* reuse the rows of the previous output row */
            if (have1 == s0) {
                uint16_t *t = r0;
                r0 = r1;
                r1 = t;
                have1 = -1;
            } else {
                hresize_row(src + (size_t)s0 * sstride, r0, &ax, dw);
            }
            have0 = s0;
        }
        if (have1 != s1) {
            hresize_row(src + (size_t)s1 * sstride, r1, &ax, dw);
            have1 = s1;
        }
        uint32_t b0 = ay.coef[2 * y], b1 = ay.coef[2 * y + 1];
        for (int x = 0; x < dw; x++) {
            uint32_t v = (r0[x] * b0 + r1[x] * b1 + 32768u) >> 16;
            o[x] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
    rc = 0;
end:
    axis_free(&ax);
    axis_free(&ay);
    free(rows);
    return rc;
}

/* ---- integral images (all (w+1) x (h+1), row stride `st`) ---- */

static void integral(const uint8_t *img, int w, int h, size_t st, uint32_t *sum, uint32_t *sq)
{
    memset(sum, 0, (size_t)(w + 1) * sizeof *sum);
    if (sq)
        memset(sq, 0, (size_t)(w + 1) * sizeof *sq);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img + (size_t)y * (size_t)w;
        uint32_t *s = sum + (size_t)(y + 1) * st, *sp = s - st;
        uint32_t acc = 0, acc2 = 0;
        s[0] = 0;
        if (sq) {
            uint32_t *q = sq + (size_t)(y + 1) * st, *qp = q - st;
            q[0] = 0;
            for (int x = 0; x < w; x++) {
                uint32_t v = row[x];
                acc += v;
                acc2 += v * v;
                s[x + 1] = sp[x + 1] + acc;
                q[x + 1] = qp[x + 1] + acc2;
            }
        } else {
            for (int x = 0; x < w; x++) {
                acc += row[x];
                s[x + 1] = sp[x + 1] + acc;
            }
        }
    }
}

/* OpenCV's rotated integral: T(X,Y) = sum of I(x,y) for y < Y and
 * |x - X + 1| <= Y - 1 - y (a triangle with its apex at (X-1, Y-1)).
 * Going down one row adds the two diagonals through the triangle's sides:
 * T(X,Y) = T(X,Y-1) + D1(X-Y) + D2(X+Y-2) - I(X-1,Y-1), where D1 sums
 * column-minus-row = const and D2 column-plus-row = const over rows < Y. */
static int tilted_integral(const uint8_t *img, int w, int h, size_t st, uint32_t *t)
{
    /* d1 index: x - y + h (range 0 .. w + h), d2 index: x + y + 2 */
    size_t n = (size_t)w + (size_t)h + 4;
    uint32_t *d1 = calloc(n, sizeof *d1), *d2 = calloc(n, sizeof *d2);
    if (d1 == NULL || d2 == NULL) {
        free(d1);
        free(d2);
        return fer_fail("out of memory");
    }
    memset(t, 0, (size_t)(w + 1) * sizeof *t);
    for (int Y = 1; Y <= h; Y++) {
        const uint8_t *row = img + (size_t)(Y - 1) * (size_t)w;
        for (int x = 0; x < w; x++) { /* add row Y-1 to the diagonal sums */
            d1[x - (Y - 1) + h] += row[x];
            d2[x + (Y - 1) + 2] += row[x];
        }
        uint32_t *cur = t + (size_t)Y * st, *up = cur - st;
        for (int X = 0; X <= w; X++) {
            int i1 = X - Y + h, i2 = X + Y - 2 + 2;
            uint32_t v = up[X];
            if (i1 >= 0 && (size_t)i1 < n)
                v += d1[i1];
            if (i2 >= 0 && (size_t)i2 < n)
                v += d2[i2];
            if (X >= 1)
                v -= row[X - 1];
            cur[X] = v;
        }
    }
    free(d1);
    free(d2);
    return 0;
}

/* ---- evaluation ---- */

/* A feature's corners as offsets from the window's top-left in the sum
 * (or tilted) integral, for a given row stride. */
struct haar_opt {
    int ofs[3][4];
    float w[3];
    int tilted;
};

struct lbp_opt {
    int ofs[16];
};

/* An LBP stump with its feature and category subset copied in. */
struct lbp_stump {
    struct lbp_opt f;
    int32_t subset[8];
    float leaf[2]; /* outside, inside the subset */
};

/* A Haar stump with its feature copied in: the hot loop of stump cascades
 * (all of Debian's frontal-face Haar files but alt2) reads one record. */
struct haar_stump {
    struct haar_opt f;
    float threshold;
    float leaf[2]; /* below, not below the threshold: indexed, no branch */
};

struct level {
    float scale;
    int w, h;      /* shrunk image size */
    int step;
    int rows;      /* window rows scanned: y < rows (OpenCV's stripes) */
    int win_w, win_h; /* window in original pixels */
    struct fer_rects hits;
};

struct job {
    const struct fer_cascade *c;
    const uint8_t *grey;
    int width, height;
    size_t stride;
    struct level *levels;
    int nlevels;
    size_t ist;            /* integral row stride, the largest level's w + 1 */
    struct haar_opt *haar; /* per feature */
    struct haar_stump *hstumps; /* per stump, when the cascade has stumps */
    struct lbp_stump *lstumps;
    struct lbp_opt *lbp;
    int nofs[4];           /* normalisation rectangle */
    atomic_int next;
    atomic_int failed;
};

static uint32_t corner_sum(const uint32_t *p, const int o[4])
{
    return p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]];
}

static inline __attribute__((always_inline)) float haar_value(const struct haar_opt *f, const uint32_t *ps, const uint32_t *pt,
                        float norm)
{
    const uint32_t *p = f->tilted ? pt : ps;
    float ret = f->w[0] * (float)(int32_t)corner_sum(p, f->ofs[0]) +
                f->w[1] * (float)(int32_t)corner_sum(p, f->ofs[1]);
    if (f->w[2] != 0.0f)
        ret += f->w[2] * (float)(int32_t)corner_sum(p, f->ofs[2]);
    return ret * norm;
}

static inline __attribute__((always_inline)) int lbp_value(const struct lbp_opt *f, const uint32_t *p)
{
    const int *o = f->ofs;
#define BLOCK(a, b, c, d) ((int32_t)(p[o[a]] - p[o[b]] - p[o[c]] + p[o[d]]))
    int32_t centre = BLOCK(5, 6, 9, 10);
    return (BLOCK(0, 1, 4, 5) >= centre ? 128 : 0) | (BLOCK(1, 2, 5, 6) >= centre ? 64 : 0) |
           (BLOCK(2, 3, 6, 7) >= centre ? 32 : 0) | (BLOCK(6, 7, 10, 11) >= centre ? 16 : 0) |
           (BLOCK(10, 11, 14, 15) >= centre ? 8 : 0) | (BLOCK(9, 10, 13, 14) >= centre ? 4 : 0) |
           (BLOCK(8, 9, 12, 13) >= centre ? 2 : 0) | (BLOCK(4, 5, 8, 9) >= centre ? 1 : 0);
#undef BLOCK
}

static int lbp_in_subset(const int32_t *subset, int c)
{
    return ((uint32_t)subset[c >> 5] >> (c & 31)) & 1u;
}

/* Returns 1 (accepted), -k (rejected at stage k, 0 for the first) or -1
 * with k = 1 ... as OpenCV's runAt; `invalid` windows (flat) give -1. */
static int run_haar(const struct job *j, const uint32_t *ps, const uint32_t *pq,
                    const uint32_t *pt)
{
    const struct fer_cascade *c = j->c;
    int32_t vsum = (int32_t)corner_sum(ps, j->nofs);
    uint32_t vsq = corner_sum(pq, j->nofs);
    double area = (double)(c->win_w - 2) * (double)(c->win_h - 2);
    double nf = area * vsq - (double)vsum * vsum;
    if (!(nf > 0.))
        return -1;
    float norm = (float)(1. / sqrt(nf));
    if (!(area * norm < 1e-1))
        return -1;
    if (j->hstumps != NULL) {
        const struct haar_stump *sp = j->hstumps;
        for (int si = 0; si < c->nstages; si++) {
            const struct fer_cascade_stage *st = &c->stages[si];
            double sum = 0;
            for (int i = 0; i < st->ntrees; i++, sp++) {
                float v = haar_value(&sp->f, ps, pt, norm);
                sum += sp->leaf[!(v < sp->threshold)];
            }
            if (sum < st->threshold)
                return -si;
        }
        return 1;
    }
    for (int si = 0; si < c->nstages; si++) {
        const struct fer_cascade_stage *st = &c->stages[si];
        double sum = 0;
        for (int i = 0; i < st->ntrees; i++) {
            const struct fer_cascade_tree *t = &c->trees[st->first_tree + i];
            int idx = 0;
            do {
                const struct fer_cascade_node *nd = &c->nodes[t->first_node + idx];
                double v = haar_value(&j->haar[nd->feature], ps, pt, norm);
                idx = v < nd->threshold ? nd->left : nd->right;
            } while (idx > 0);
            sum += c->leaves[t->first_leaf - idx];
        }
        if (sum < st->threshold)
            return -si;
    }
    return 1;
}

static int run_lbp(const struct job *j, const uint32_t *ps)
{
    const struct fer_cascade *c = j->c;
    int ss = c->subset_size;
    if (j->lstumps != NULL) {
        const struct lbp_stump *sp = j->lstumps;
        for (int si = 0; si < c->nstages; si++) {
            const struct fer_cascade_stage *st = &c->stages[si];
            double sum = 0;
            for (int i = 0; i < st->ntrees; i++, sp++) {
                int v = lbp_value(&sp->f, ps);
                /* select without a branch: the outcome is unpredictable */
                sum += sp->leaf[lbp_in_subset(sp->subset, v)];
            }
            if (sum < st->threshold)
                return -si;
        }
        return 1;
    }
    for (int si = 0; si < c->nstages; si++) {
        const struct fer_cascade_stage *st = &c->stages[si];
        double sum = 0;
        for (int i = 0; i < st->ntrees; i++) {
            const struct fer_cascade_tree *t = &c->trees[st->first_tree + i];
            int idx = 0;
            do {
                int node = t->first_node + idx;
                const struct fer_cascade_node *nd = &c->nodes[node];
                int v = lbp_value(&j->lbp[nd->feature], ps);
                idx = lbp_in_subset(c->subsets + (size_t)node * (size_t)ss, v) ? nd->left
                                                                                : nd->right;
            } while (idx > 0);
            sum += c->leaves[t->first_leaf - idx];
        }
        if (sum < st->threshold)
            return -si;
    }
    return 1;
}

struct buffers {
    uint8_t *img;
    uint32_t *sum, *sq, *tilt;
};

static int scan_level(struct job *j, struct level *lv, struct buffers *b)
{
    const struct fer_cascade *c = j->c;
    if (resize_linear(j->grey, j->width, j->height, j->stride, b->img, lv->w, lv->h) < 0)
        return -1;
    integral(b->img, lv->w, lv->h, j->ist, b->sum, c->lbp ? NULL : b->sq);
    if (c->has_tilted && tilted_integral(b->img, lv->w, lv->h, j->ist, b->tilt) < 0)
        return -1;
    int ww = lv->w + 1 - c->win_w;
    for (int y = 0; y < lv->rows; y += lv->step) {
        for (int x = 0; x < ww; x += lv->step) {
            size_t at = (size_t)y * j->ist + (size_t)x;
            int r = c->lbp ? run_lbp(j, b->sum + at)
                           : run_haar(j, b->sum + at, b->sq + at, b->tilt ? b->tilt + at : NULL);
            if (r > 0) {
                struct fer_rect rect = {round_f((float)x * lv->scale),
                                        round_f((float)y * lv->scale), lv->win_w, lv->win_h, 1};
                if (fer_rects_push(&lv->hits, rect) < 0)
                    return -1;
            }
            if (r == 0)
                x += lv->step; /* rejected by the first stage: skip one more */
        }
    }
    return 0;
}

static void *worker(void *arg)
{
    struct job *j = arg;
    const struct fer_cascade *c = j->c;
    size_t cells = j->ist * (size_t)(j->levels[0].h + 1);
    struct buffers b = {0};
    b.img = malloc((size_t)j->levels[0].w * (size_t)j->levels[0].h + 1);
    b.sum = malloc(cells * sizeof *b.sum);
    if (!c->lbp)
        b.sq = malloc(cells * sizeof *b.sq);
    if (c->has_tilted)
        b.tilt = malloc(cells * sizeof *b.tilt);
    if (b.img == NULL || b.sum == NULL || (!c->lbp && b.sq == NULL) ||
        (c->has_tilted && b.tilt == NULL)) {
        fer_fail("out of memory");
        atomic_store(&j->failed, 1);
    }
    while (!atomic_load(&j->failed)) {
        int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->nlevels)
            break;
        if (scan_level(j, &j->levels[i], &b) < 0)
            atomic_store(&j->failed, 1);
    }
    free(b.img);
    free(b.sum);
    free(b.sq);
    free(b.tilt);
    return NULL;
}

/* The pyramid levels of detectMultiScaleNoGrouping (OpenCV 4.6). */
static int plan_levels(struct job *j, const struct fer_cascade_params *p)
{
    const struct fer_cascade *c = j->c;
    int max_w = p->max_w > 0 ? p->max_w : j->width, max_h = p->max_h > 0 ? p->max_h : j->height;
    j->levels = NULL;
    j->nlevels = 0;
    if (j->width < c->win_w || j->height < c->win_h)
        return 0;
    float all[4096];
    int nall = 0;
    for (double f = 1; nall < 4096; f *= p->scale_factor) {
        if (round_d(c->win_w * f) > j->width || round_d(c->win_h * f) > j->height)
            break;
        all[nall++] = (float)f;
    }
    float pick[4096];
    int npick = 0;
    for (int i = 0; i < nall; i++) {
        int ww = round_f((float)c->win_w * all[i]), wh = round_f((float)c->win_h * all[i]);
        if (ww > max_w || wh > max_h)
            break;
        if (ww < p->min_w || wh < p->min_h)
            continue;
        pick[npick++] = all[i];
    }
    if (npick == 0 && nall > 0) { /* minSize == maxSize between two levels: the nearest */
        int best = 0;
        double bestd = 0;
        for (int i = 0; i < nall; i++) {
            int dw = p->min_w - round_f((float)c->win_w * all[i]);
            int dh = p->min_h - round_f((float)c->win_h * all[i]);
            double d = (double)dw * dw + (double)dh * dh;
            if (i == 0 || bestd > d)
                best = i, bestd = d;
        }
        pick[npick++] = all[best];
    }
    j->levels = calloc((size_t)(npick ? npick : 1), sizeof *j->levels);
    if (j->levels == NULL)
        return fer_fail("out of memory");
    for (int i = 0; i < npick; i++) {
        struct level *lv = &j->levels[i];
        lv->scale = pick[i];
        lv->w = round_f((float)j->width / pick[i]);
        lv->h = round_f((float)j->height / pick[i]);
        lv->step = pick[i] >= 2 ? 1 : 2;
        lv->win_w = round_f((float)c->win_w * pick[i]);
        lv->win_h = round_f((float)c->win_h * pick[i]);
    }
    j->nlevels = npick;
    /* OpenCV cuts every level into the same number of stripes of whole
     * steps, rounding the stripe height down: the last rows of a level can
     * fall outside every stripe and are then never scanned. */
    if (npick > 0) {
        int w0 = j->levels[0].w + 1 - c->win_w;
        int nstripes = w0 > 0 ? (w0 + 31) / 32 : 0;
        for (int i = 0; i < npick; i++) {
            struct level *lv = &j->levels[i];
            int wh = lv->h + 1 - c->win_h;
            if (wh < 0)
                wh = 0;
            int stripe = nstripes ? (wh / lv->step + nstripes - 1) / nstripes : 0;
            stripe = (stripe > 1 ? stripe : 1) * lv->step;
            long covered = (long)nstripes * stripe;
            lv->rows = covered < wh ? (int)covered : wh;
        }
    }
    return 0;
}

static void set_sum_offsets(int o[4], int x, int y, int w, int h, size_t st)
{
    int s = (int)st;
    o[0] = x + s * y;
    o[1] = x + w + s * y;
    o[2] = x + s * (y + h);
    o[3] = x + w + s * (y + h);
}

static void set_tilted_offsets(int o[4], int x, int y, int w, int h, size_t st)
{
    int s = (int)st;
    o[0] = x + s * y;
    o[1] = x - h + s * (y + h);
    o[2] = x + w + s * (y + w);
    o[3] = x + w - h + s * (y + w + h);
}

static int prepare_features(struct job *j)
{
    const struct fer_cascade *c = j->c;
    set_sum_offsets(j->nofs, 1, 1, c->win_w - 2, c->win_h - 2, j->ist);
    if (c->lbp) {
        j->lbp = calloc((size_t)c->nfeatures, sizeof *j->lbp);
        if (j->lbp == NULL)
            return fer_fail("out of memory");
        for (int i = 0; i < c->nfeatures; i++) {
            const struct fer_lbp_feature *f = &c->lbpf[i];
            int *o = j->lbp[i].ofs, s = (int)j->ist;
            for (int r = 0; r < 4; r++) /* the 4x4 grid of block corners */
                for (int q = 0; q < 4; q++)
                    o[r * 4 + q] = f->x + q * f->w + s * (f->y + r * f->h);
        }
        if (c->stumps != NULL && c->subset_size == 8) {
            j->lstumps = calloc((size_t)c->ntrees, sizeof *j->lstumps);
            if (j->lstumps == NULL)
                return fer_fail("out of memory");
            for (int t = 0; t < c->ntrees; t++) {
                const struct fer_cascade_stump *sp = &c->stumps[t];
                struct lbp_stump *ls = &j->lstumps[t];
                ls->f = j->lbp[sp->feature];
                memcpy(ls->subset, c->subsets + (size_t)t * 8, sizeof ls->subset);
                ls->leaf[0] = sp->right;
                ls->leaf[1] = sp->left;
            }
        }
        return 0;
    }
    j->haar = calloc((size_t)c->nfeatures, sizeof *j->haar);
    if (j->haar == NULL)
        return fer_fail("out of memory");
    for (int i = 0; i < c->nfeatures; i++) {
        const struct fer_haar_feature *f = &c->haar[i];
        struct haar_opt *o = &j->haar[i];
        o->tilted = f->tilted;
        for (int r = 0; r < 3; r++) {
            if (r >= f->nrects) { /* an absent rectangle weighs nothing */
                memset(o->ofs[r], 0, sizeof o->ofs[r]);
                o->w[r] = 0.f;
                continue;
            }
            const struct fer_haar_rect *hr = &f->r[r];
            o->w[r] = hr->weight;
            if (f->tilted)
                set_tilted_offsets(o->ofs[r], hr->x, hr->y, hr->w, hr->h, j->ist);
            else
                set_sum_offsets(o->ofs[r], hr->x, hr->y, hr->w, hr->h, j->ist);
        }
    }
    if (c->stumps != NULL) {
        j->hstumps = calloc((size_t)c->ntrees, sizeof *j->hstumps);
        if (j->hstumps == NULL)
            return fer_fail("out of memory");
        for (int t = 0; t < c->ntrees; t++) {
            const struct fer_cascade_stump *sp = &c->stumps[t];
            j->hstumps[t] = (struct haar_stump){j->haar[sp->feature], sp->threshold,
                                                {sp->left, sp->right}};
        }
    }
    return 0;
}

int fer_cascade_scan(const struct fer_cascade *c, const uint8_t *grey, int width, int height,
                     size_t stride, const struct fer_cascade_params *p, struct fer_rects *hits)
{
    if (!(p->scale_factor > 1.0) || !isfinite(p->scale_factor))
        return fer_fail("scale factor must be greater than 1");
    if (width < 1 || height < 1 || stride < (size_t)width)
        return fer_fail("bad image size %dx%d", width, height);
    struct job j = {.c = c, .grey = grey, .width = width, .height = height, .stride = stride};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    int rc = -1;
    if (plan_levels(&j, p) < 0)
        goto end;
    if (j.nlevels == 0) {
        rc = 0;
        goto end;
    }
    j.ist = (size_t)j.levels[0].w + 1;
    if (prepare_features(&j) < 0)
        goto end;
    int threads = p->threads < 1 ? 1 : p->threads > 64 ? 64 : p->threads;
    if (threads > j.nlevels)
        threads = j.nlevels;
    pthread_t tid[64];
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[started], NULL, worker, &j) != 0)
            break;
        started++;
    }
    worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    if (atomic_load(&j.failed)) {
        /* workers fail only for memory; their messages stay in their threads */
        fer_fail("out of memory during detection");
        goto end;
    }
    for (int i = 0; i < j.nlevels; i++)
        for (size_t k = 0; k < j.levels[i].hits.n; k++)
            if (fer_rects_push(hits, j.levels[i].hits.v[k]) < 0)
                goto end;
    rc = 0;
end:
    for (int i = 0; i < j.nlevels; i++)
        fer_rects_free(&j.levels[i].hits);
    free(j.levels);
    free(j.haar);
    free(j.hstumps);
    free(j.lstumps);
    free(j.lbp);
    return rc;
}

int fer_cascade_detect(const struct fer_cascade *c, const uint8_t *grey, int width, int height,
                       size_t stride, const struct fer_cascade_params *p, int min_neighbors,
                       struct fer_rects *out)
{
    out->n = 0;
    if (fer_cascade_scan(c, grey, width, height, stride, p, out) < 0)
        return -1;
    return fer_rects_group(out, min_neighbors, 0.2, width, height);
}
