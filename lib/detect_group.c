/* detect_group.c - merge raw detector hits as OpenCV's groupRectangles
 * (objdetect, with levelWeights absent) and clip them to the image as
 * CascadeClassifier::detectMultiScale's clipObjects does.
 *
 * Two hits are similar when each of their four edges differs by at most
 * eps * (min width + min height) / 2; classes are the transitive closure
 * (union-find). A class's box is the mean of its members, each coordinate
 * rounded after multiplying by the float 1/n. A class survives with more
 * than min_neighbors members, unless it lies (within eps of the other's
 * size) inside another surviving class that is stronger: n2 > max(3, n1),
 * or n1 < 3. */
#include <math.h>
#include <stdlib.h>

#include "cascade.h"
#include "error.h"

static int similar(const struct fer_rect *a, const struct fer_rect *b, double eps)
{
    int mw = a->w < b->w ? a->w : b->w, mh = a->h < b->h ? a->h : b->h;
    double delta = eps * (mw + mh) * 0.5;
    return abs(a->x - b->x) <= delta && abs(a->y - b->y) <= delta &&
           abs(a->x + a->w - b->x - b->w) <= delta && abs(a->y + a->h - b->y - b->h) <= delta;
}

static int find_root(int *parent, int i)
{
    int r = i;
    while (parent[r] != r)
        r = parent[r];
    while (parent[i] != r) { /* path compression */
        int next = parent[i];
        parent[i] = r;
        i = next;
    }
    return r;
}

static void clip(struct fer_rects *r, int width, int height)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct fer_rect b = r->v[i];
        int x0 = b.x > 0 ? b.x : 0, y0 = b.y > 0 ? b.y : 0;
        long x1 = (long)b.x + b.w < width ? (long)b.x + b.w : width;
        long y1 = (long)b.y + b.h < height ? (long)b.y + b.h : height;
        if (x1 - x0 <= 0 || y1 - y0 <= 0)
            continue;
        r->v[k++] = (struct fer_rect){x0, y0, (int)(x1 - x0), (int)(y1 - y0), b.n};
    }
    r->n = k;
}

int fer_rects_group(struct fer_rects *rects, int min_neighbors, double eps, int width,
                    int height)
{
    size_t n = rects->n;
    if (min_neighbors <= 0 || n == 0) {
        clip(rects, width, height);
        return 0;
    }
    int *parent = malloc(n * sizeof *parent), *label = malloc(n * sizeof *label);
    long *sum = calloc(n * 5, sizeof *sum); /* x, y, w, h, count per class */
    struct fer_rect *avg = malloc(n * sizeof *avg);
    int rc = -1;
    if (parent == NULL || label == NULL || sum == NULL || avg == NULL) {
        fer_fail("out of memory");
        goto end;
    }
    for (size_t i = 0; i < n; i++)
        parent[i] = (int)i;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (similar(&rects->v[i], &rects->v[j], eps)) {
                int a = find_root(parent, (int)i), b = find_root(parent, (int)j);
                if (a != b)
                    parent[b > a ? b : a] = b > a ? a : b;
            }
    /* Number classes in order of first member, as OpenCV's partition does. */
    int nclasses = 0;
    for (size_t i = 0; i < n; i++)
        label[i] = -1;
    for (size_t i = 0; i < n; i++) {
        int r = find_root(parent, (int)i);
        if (label[r] < 0)
            label[r] = nclasses++;
        int c = label[r];
        sum[c * 5 + 0] += rects->v[i].x;
        sum[c * 5 + 1] += rects->v[i].y;
        sum[c * 5 + 2] += rects->v[i].w;
        sum[c * 5 + 3] += rects->v[i].h;
        sum[c * 5 + 4]++;
    }
    for (int c = 0; c < nclasses; c++) {
        float s = 1.f / (float)sum[c * 5 + 4];
        avg[c] = (struct fer_rect){(int)lrintf((float)sum[c * 5 + 0] * s),
                                   (int)lrintf((float)sum[c * 5 + 1] * s),
                                   (int)lrintf((float)sum[c * 5 + 2] * s),
                                   (int)lrintf((float)sum[c * 5 + 3] * s), (int)sum[c * 5 + 4]};
    }
    size_t kept = 0;
    for (int i = 0; i < nclasses; i++) {
        const struct fer_rect *r1 = &avg[i];
        int n1 = r1->n;
        if (n1 <= min_neighbors)
            continue;
        int j;
        for (j = 0; j < nclasses; j++) {
            const struct fer_rect *r2 = &avg[j];
            int n2 = r2->n;
            if (j == i || n2 <= min_neighbors)
                continue;
            int dx = (int)lrint(r2->w * eps), dy = (int)lrint(r2->h * eps);
            if (r1->x >= r2->x - dx && r1->y >= r2->y - dy &&
                r1->x + r1->w <= r2->x + r2->w + dx && r1->y + r1->h <= r2->y + r2->h + dy &&
                (n2 > (n1 > 3 ? n1 : 3) || n1 < 3))
                break;
        }
        if (j == nclasses)
            rects->v[kept++] = *r1; /* kept <= i < n: fits in place */
    }
    rects->n = kept;
    clip(rects, width, height);
    rc = 0;
end:
    free(parent);
    free(label);
    free(sum);
    free(avg);
    return rc;
}
