#include "pretext.h"

#include "error.h"

#include <math.h>
#include <stdlib.h>

size_t fer_pretext_windows(const struct fer_face_clip *clip, const struct fer_face_track *track,
                           int n, int stride, int hop, size_t *firsts, size_t max)
{
    size_t count = 0;
    size_t span = (size_t)(n - 1) * (size_t)stride; /* index distance first..last */
    size_t run_start = 0;
    for (size_t i = 1; i <= track->n; i++) {
        /* Sampling by time from a stream whose rate is not a multiple of
         * the sampling rate (fer-extract -r 5 on 24 fps video) gives steps
         * of 4 and 5 decoded frames: anything under twice the smallest
         * step is the next sample, a missing face makes it twice or more. */
        int run_ends = i == track->n || track->frames[i] - track->frames[i - 1] >= 2 * clip->step;
        if (!run_ends)
            continue;
        /* Faces run_start..i-1 are consecutive: place windows in them. */
        for (size_t first = run_start; first + span < i; first += (size_t)hop) {
            if (firsts != NULL) {
                if (count == max)
                    return count;
                firsts[count] = first;
            }
            count++;
        }
        run_start = i;
    }
    return count;
}

void fer_pretext_arrange(struct fer_rng *rng, int n, int k, int *order)
{
    int middle = (n - 1) / 2;
    int others[FER_PRETEXT_MAX_N];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (i != middle)
            others[m++] = i;
    fer_rng_shuffle(rng, others, (size_t)m, sizeof others[0]);
    for (int p = 0, j = 0; p < n; p++)
        order[p] = p == k ? middle : others[j++];
}

static uint64_t factorial(int n)
{
    uint64_t f = 1;
    for (int i = 2; i <= n; i++)
        f *= (uint64_t)i;
    return f;
}

uint64_t fer_pretext_arrangements(int n)
{
    return (uint64_t)n * factorial(n - 1);
}

void fer_pretext_arrangement(int n, uint64_t a, int *order)
{
    int middle = (n - 1) / 2;
    uint64_t per_k = factorial(n - 1);
    int k = (int)(a / per_k);
    uint64_t rank = a % per_k;
    int pool[FER_PRETEXT_MAX_N], m = 0;
    for (int i = 0; i < n; i++)
        if (i != middle)
            pool[m++] = i;
    /* Decode the rank in the factorial number system. */
    for (int p = 0; p < n; p++) {
        if (p == k) {
            order[p] = middle;
            continue;
        }
        uint64_t f = factorial(m - 1);
        int pick = (int)(rank / f);
        rank %= f;
        order[p] = pool[pick];
        for (int j = pick; j < m - 1; j++)
            pool[j] = pool[j + 1];
        m--;
    }
}

int fer_pretext_held_out(uint64_t seed, const char *key, double fraction)
{
    /* FNV-1a of the key, mixed with the seed by the RNG's seeding. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    struct fer_rng r;
    fer_rng_seed_stream(&r, seed, h);
    return fer_rng_uniform(&r) < fraction;
}

static int grey_at(const struct fer_image *im, int x, int y)
{
    const uint8_t *p = im->data + (size_t)y * im->stride + (size_t)x * (size_t)im->channels;
    if (im->channels == 1)
        return p[0];
    return (int)fer_grey_of(p[0], p[1], p[2]);
}

double fer_pretext_motion(const struct fer_image *a, const struct fer_image *b)
{
    if (a->width != b->width || a->height != b->height)
        return fer_fail("crops differ in size: %dx%d and %dx%d", a->width, a->height, b->width,
                        b->height);
    uint64_t sum = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++)
            sum += (uint64_t)abs(grey_at(a, x, y) - grey_at(b, x, y));
    return (double)sum / ((double)a->width * a->height);
}
