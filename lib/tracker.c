#include "tracker.h"

#include "error.h"
#include "hungarian.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double fer_rect_iou(const struct fer_rect *a, const struct fer_rect *b)
{
    double x0 = fmax(a->x, b->x), y0 = fmax(a->y, b->y);
    double x1 = fmin(a->x + a->w, b->x + b->w), y1 = fmin(a->y + a->h, b->y + b->h);
    if (x1 <= x0 || y1 <= y0)
        return 0;
    double inter = (x1 - x0) * (y1 - y0);
    double uni = a->w * a->h + b->w * b->h - inter;
    return uni > 0 ? inter / uni : 0;
}

struct open_track {
    int id;            /* provisional id */
    long last_frame;
    struct fer_rect last_box;
    double vx, vy;     /* pixels per frame, from the last two matches */
};

/* Where the face should be now: constant velocity from the last match.
 * Without it, two faces that cross swap identities half of the time, as
 * their boxes coincide for a frame. */
static struct fer_rect predict(const struct open_track *t, long frame)
{
    double dt = (double)(frame - t->last_frame);
    struct fer_rect b = t->last_box;
    b.x += t->vx * dt;
    b.y += t->vy * dt;
    return b;
}

/* Match one frame's faces (dets[first..first+count-1]) to the open tracks. */
static int match_frame(struct fer_detection *dets, size_t count, struct open_track *open,
                       size_t n_open, const struct fer_track_params *p, int *next_id,
                       size_t *n_open_out)
{
    double *cost = malloc((n_open * count + 1) * sizeof *cost);
    int *match = malloc((n_open + 1) * sizeof *match);
    char *taken = calloc(count + 1, 1);
    struct fer_rect *predicted = malloc((n_open + 1) * sizeof *predicted);
    if (!cost || !match || !taken || !predicted) {
        free(cost), free(match), free(taken), free(predicted);
        return fer_fail("out of memory");
    }
    for (size_t t = 0; t < n_open && count > 0; t++)
        predicted[t] = predict(&open[t], dets[0].frame);
    for (size_t t = 0; t < n_open; t++)
        for (size_t d = 0; d < count; d++)
            cost[t * count + d] = 1 - fer_rect_iou(&predicted[t], &dets[d].box);
    if (fer_hungarian(cost, n_open, count, match) != 0) {
        free(cost), free(match), free(taken), free(predicted);
        return -1;
    }
    for (size_t t = 0; t < n_open; t++) {
        int d = match[t];
        if (d < 0 || 1 - cost[t * count + (size_t)d] < p->min_iou)
            continue; /* optimal overall, but too little overlap to be the same face */
        dets[d].track = open[t].id;
        double dt = (double)(dets[d].frame - open[t].last_frame);
        open[t].vx = (dets[d].box.x - open[t].last_box.x) / dt;
        open[t].vy = (dets[d].box.y - open[t].last_box.y) / dt;
        open[t].last_frame = dets[d].frame;
        open[t].last_box = dets[d].box;
        taken[d] = 1;
    }
    for (size_t d = 0; d < count; d++) {
        if (taken[d])
            continue;
        dets[d].track = (*next_id)++;
        open[n_open++] = (struct open_track){dets[d].track, dets[d].frame, dets[d].box, 0, 0};
    }
    *n_open_out = n_open;
    free(cost), free(match), free(taken), free(predicted);
    return 0;
}

/* Centred moving average of a track's boxes within gap-free runs. */
static void smooth_track(struct fer_detection *dets, const size_t *idx, size_t n, int radius)
{
    struct fer_rect *out = malloc(n * sizeof *out);
    if (out == NULL)
        return; /* smoothing is optional: leave boxes as detected */
    for (size_t i = 0; i < n; i++) {
        double sx = 0, sy = 0, sw = 0, sh = 0;
        int count = 0;
        for (long j = (long)i - radius; j <= (long)i + radius; j++) {
            if (j < 0 || j >= (long)n)
                continue;
            /* stay within the run: no frame gap between i and j */
            long lo = j < (long)i ? j : (long)i, hi = j < (long)i ? (long)i : j;
            if (dets[idx[hi]].frame - dets[idx[lo]].frame != hi - lo)
                continue;
            const struct fer_rect *b = &dets[idx[j]].box;
            sx += b->x, sy += b->y, sw += b->w, sh += b->h;
            count++;
        }
        out[i] = (struct fer_rect){sx / count, sy / count, sw / count, sh / count};
    }
    for (size_t i = 0; i < n; i++)
        dets[idx[i]].box = out[i];
    free(out);
}

/* Drop short tracks, renumber the rest by first appearance, smooth. */
static int finish_tracks(struct fer_detection *dets, size_t n, int n_ids,
                         const struct fer_track_params *p)
{
    long *length = calloc((size_t)n_ids + 1, sizeof *length);
    int *final_id = calloc((size_t)n_ids + 1, sizeof *final_id);
    size_t *idx = malloc((n + 1) * sizeof *idx);
    if (!length || !final_id || !idx) {
        free(length), free(final_id), free(idx);
        return fer_fail("out of memory");
    }
    for (size_t i = 0; i < n; i++)
        length[dets[i].track]++;
    int kept = 0;
    for (size_t i = 0; i < n; i++) {
        int id = dets[i].track;
        if (length[id] < p->min_length)
            final_id[id] = 0;
        else if (final_id[id] == 0)
            final_id[id] = ++kept;
    }
    for (size_t i = 0; i < n; i++)
        dets[i].track = final_id[dets[i].track];
    if (p->smooth > 0) {
        for (int id = 1; id <= kept; id++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (dets[i].track == id)
                    idx[m++] = i;
            smooth_track(dets, idx, m, p->smooth);
        }
    }
    free(length), free(final_id), free(idx);
    return kept;
}

int fer_track_clip(struct fer_detection *dets, size_t n, const struct fer_track_params *p)
{
    struct open_track *open = malloc((n + 1) * sizeof *open);
    if (open == NULL)
        return fer_fail("out of memory");
    size_t n_open = 0;
    int next_id = 1;
    for (size_t first = 0; first < n;) {
        size_t end = first;
        while (end < n && dets[end].frame == dets[first].frame)
            end++;
        if (first > 0 && dets[first].frame < dets[first - 1].frame) {
            free(open);
            return fer_fail("detections not sorted by frame (%ld after %ld)", dets[first].frame,
                            dets[first - 1].frame);
        }
        /* Close tracks whose gap grew too long. */
        size_t still = 0;
        for (size_t t = 0; t < n_open; t++)
            if (dets[first].frame - open[t].last_frame <= p->max_gap + 1)
                open[still++] = open[t];
        n_open = still;
        if (match_frame(dets + first, end - first, open, n_open, p, &next_id, &n_open) != 0) {
            free(open);
            return -1;
        }
        first = end;
    }
    free(open);
    return finish_tracks(dets, n, next_id - 1, p);
}
