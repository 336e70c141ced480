#include "loader.h"

#include "error.h"
#include "arena.h"
#include "image.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decoded, resized, channel-converted image, for the cache. */
struct cached {
    char *path;
    struct fer_image image;
    struct cached *next;
};

enum { CACHE_BUCKETS = 1 << 16 };

struct slot {
    float *buffer;       /* room for a full batch, owned */
    struct fer_tensor x; /* a view of buffer with this batch's shape */
    int *target;
    size_t *index;
    int count;
    int status;          /* 1 ready, 0 end of pass, -1 error */
    char error[1024];
};

struct fer_loader {
    struct fer_loader_spec spec;
    /* the pass */
    size_t n;
    char **paths;
    int *targets, *quarters;
    int augment;
    uint64_t stream;
    size_t next_example; /* next example the producer will take */
    /* two slots: the worker fills one while the caller uses the other */
    struct slot slot[2];
    int filled[2];       /* slot ready for the caller */
    int producing;       /* the pass has batches left to make */
    int busy;            /* the worker is making one (outside the lock) */
    int producer_slot;   /* slot the worker fills next */
    int consumer_slot;   /* slot the caller holds, -1 none */
    int next_slot;       /* slot the caller takes next */
    int stop;
    pthread_t worker;
    int have_worker;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct cached **cache;
    pthread_mutex_t cache_lock;
};

static uint64_t hash_path(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Decode, resize to the model's size, convert channels. */
static int load_image(struct fer_loader *l, const char *path, struct fer_image *out, int *owned)
{
    const struct fer_loader_spec *s = &l->spec;
    struct cached **bucket = NULL;
    if (s->cache) {
        bucket = &l->cache[hash_path(path) & (CACHE_BUCKETS - 1)];
        pthread_mutex_lock(&l->cache_lock);
        for (struct cached *c = *bucket; c; c = c->next)
            if (strcmp(c->path, path) == 0) {
                *out = c->image;
                *owned = 0;
                pthread_mutex_unlock(&l->cache_lock);
                return 0;
            }
        pthread_mutex_unlock(&l->cache_lock);
    }
    struct fer_image raw = {0}, sized = {0};
    if (fer_image_read(path, &raw, s->channels) != 0)
        return fer_fail_context("%s", path);
    if (raw.width == s->width && raw.height == s->height) {
        sized = raw;
    } else {
        int status = fer_image_resize(&raw, &sized, s->width, s->height);
        fer_image_free(&raw);
        if (status != 0)
            return fer_fail_context("%s", path);
    }
    *out = sized;
    *owned = 1;
    if (s->cache) {
        struct cached *c = malloc(sizeof *c);
        char *copy = strdup(path);
        if (c == NULL || copy == NULL) {
            free(c);
            free(copy);
            return 0; /* not cached: still a good image */
        }
        *c = (struct cached){copy, sized, NULL};
        pthread_mutex_lock(&l->cache_lock);
        c->next = *bucket;
        *bucket = c;
        pthread_mutex_unlock(&l->cache_lock);
        *owned = 0;
    }
    return 0;
}

/* Fill one slot with the next batch of the pass (called by the worker or
 * by the caller; the pass fields are only read). */
static void produce(struct fer_loader *l, struct slot *slot, size_t first)
{
    const struct fer_loader_spec *s = &l->spec;
    size_t left = first < l->n ? l->n - first : 0;
    size_t count = left < (size_t)s->batch ? left : (size_t)s->batch;
    slot->count = (int)count;
    slot->status = count > 0;
    size_t per_image = (size_t)s->channels * (size_t)s->height * (size_t)s->width;
    for (size_t e = 0; e < count; e++) {
        size_t example = first + e;
        slot->target[e] = l->targets[example];
        slot->index[e] = example;
        struct fer_rng rng;
        fer_rng_seed_stream(&rng, s->seed, (l->stream << 32) ^ example);
        int quarter = l->quarters ? l->quarters[example] : 0;
        const struct fer_rng first_rng = rng;
        for (int j = 0; j < s->inputs; j++) {
            if (s->shared_augment)
                rng = first_rng; /* the same draws, so the same change */
            const char *path = l->paths[example * (size_t)s->inputs + (size_t)j];
            struct fer_image im;
            int owned = 0;
            float *out = slot->buffer + (e * (size_t)s->inputs + (size_t)j) * per_image;
            if (load_image(l, path, &im, &owned) != 0 ||
                fer_augment_render(&im, l->augment ? &s->augment : NULL, l->augment ? &rng : NULL,
                                   quarter, s->channels, s->height, s->width, out) != 0) {
                slot->status = -1;
                snprintf(slot->error, sizeof slot->error, "%s", fer_error());
                if (owned)
                    fer_image_free(&im);
                return;
            }
            if (owned)
                fer_image_free(&im);
        }
    }
    int shape[4] = {(int)count * s->inputs, s->channels, s->height, s->width};
    fer_tensor_wrap(&slot->x, slot->buffer, 4, shape);
}

static void *worker_main(void *arg)
{
    struct fer_loader *l = arg;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        int k = l->producer_slot;
        /* Wait for work and a slot the caller is not holding. */
        while (!l->stop && (!l->producing || l->filled[k] || l->consumer_slot == k)) {
            pthread_cond_wait(&l->changed, &l->lock);
            k = l->producer_slot;
        }
        if (l->stop)
            break;
        size_t first = l->next_example;
        l->next_example += (size_t)l->spec.batch;
        l->busy = 1;
        pthread_mutex_unlock(&l->lock);
        produce(l, &l->slot[k], first);
        pthread_mutex_lock(&l->lock);
        l->busy = 0;
        if (l->producing) { /* not cancelled meanwhile */
            l->filled[k] = 1;
            l->producer_slot = 1 - k;
            if (l->slot[k].status <= 0)
                l->producing = 0; /* end of pass or error: nothing more to make */
        }
        pthread_cond_broadcast(&l->changed);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

struct fer_loader *fer_loader_new(const struct fer_loader_spec *spec)
{
    if (spec->inputs < 1 || spec->batch < 1 || spec->height < 1 || spec->width < 1 ||
        (spec->channels != 1 && spec->channels != 3)) {
        fer_fail("loader: bad specification");
        return NULL;
    }
    struct fer_loader *l = calloc(1, sizeof *l);
    if (l == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    l->spec = *spec;
    l->consumer_slot = -1;
    pthread_mutex_init(&l->lock, NULL);
    pthread_mutex_init(&l->cache_lock, NULL);
    pthread_cond_init(&l->changed, NULL);
    size_t floats = (size_t)spec->batch * (size_t)spec->inputs * (size_t)spec->channels *
                    (size_t)spec->height * (size_t)spec->width;
    for (int k = 0; k < 2; k++) {
        if (!(l->slot[k].buffer = fer_aligned_alloc(floats * sizeof(float))) ||
            !(l->slot[k].target = calloc((size_t)spec->batch, sizeof(int))) ||
            !(l->slot[k].index = calloc((size_t)spec->batch, sizeof(size_t)))) {
            fer_loader_free(l);
            fer_fail("out of memory");
            return NULL;
        }
    }
    if (spec->cache && !(l->cache = calloc(CACHE_BUCKETS, sizeof *l->cache))) {
        fer_loader_free(l);
        fer_fail("out of memory");
        return NULL;
    }
    if (spec->prefetch) {
        if (pthread_create(&l->worker, NULL, worker_main, l) != 0) {
            fer_loader_free(l);
            fer_fail("cannot start the loader thread");
            return NULL;
        }
        l->have_worker = 1;
    }
    return l;
}

static void free_pass(struct fer_loader *l)
{
    for (size_t i = 0; l->paths && i < l->n * (size_t)l->spec.inputs; i++)
        free(l->paths[i]);
    free(l->paths);
    free(l->targets);
    free(l->quarters);
    l->paths = NULL;
    l->targets = l->quarters = NULL;
    l->n = 0;
}

/* Cancel the worker's current pass and wait until it is idle. */
static void drain(struct fer_loader *l)
{
    pthread_mutex_lock(&l->lock);
    l->producing = 0;
    while (l->busy)
        pthread_cond_wait(&l->changed, &l->lock);
    l->filled[0] = l->filled[1] = 0;
    l->consumer_slot = -1;
    l->producer_slot = 0;
    pthread_mutex_unlock(&l->lock);
}

void fer_loader_free(struct fer_loader *l)
{
    if (l == NULL)
        return;
    if (l->have_worker) {
        pthread_mutex_lock(&l->lock);
        l->stop = 1;
        pthread_cond_broadcast(&l->changed);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->worker, NULL);
    }
    free_pass(l);
    for (int k = 0; k < 2; k++) {
        fer_aligned_free(l->slot[k].buffer);
        free(l->slot[k].target);
        free(l->slot[k].index);
    }
    for (size_t b = 0; l->cache && b < CACHE_BUCKETS; b++)
        for (struct cached *c = l->cache[b], *next; c; c = next) {
            next = c->next;
            free(c->path);
            fer_image_free(&c->image);
            free(c);
        }
    free(l->cache);
    pthread_mutex_destroy(&l->lock);
    pthread_mutex_destroy(&l->cache_lock);
    pthread_cond_destroy(&l->changed);
    free(l);
}

int fer_loader_start(struct fer_loader *l, size_t n, const char *const *paths,
                     const int *targets, const int *quarters, int augment, uint64_t stream)
{
    if (l->have_worker)
        drain(l);
    free_pass(l);
    size_t n_paths = n * (size_t)l->spec.inputs;
    l->paths = calloc(n_paths ? n_paths : 1, sizeof *l->paths);
    l->targets = malloc((n ? n : 1) * sizeof *l->targets);
    l->quarters = quarters ? malloc((n ? n : 1) * sizeof *l->quarters) : NULL;
    if (l->paths == NULL || l->targets == NULL || (quarters && l->quarters == NULL))
        return fer_fail("out of memory");
    l->n = n;
    for (size_t i = 0; i < n_paths; i++)
        if ((l->paths[i] = strdup(paths[i])) == NULL)
            return fer_fail("out of memory");
    memcpy(l->targets, targets, n * sizeof *targets);
    if (quarters)
        memcpy(l->quarters, quarters, n * sizeof *quarters);
    l->augment = augment;
    l->stream = stream;
    l->next_example = 0;
    l->next_slot = 0;
    if (l->have_worker) {
        pthread_mutex_lock(&l->lock);
        l->producing = 1;
        pthread_cond_broadcast(&l->changed);
        pthread_mutex_unlock(&l->lock);
    }
    return 0;
}

static int hand_over(struct slot *slot, struct fer_batch *b)
{
    if (slot->status < 0)
        return fer_fail("%s", slot->error);
    if (slot->status == 0)
        return 0;
    b->count = slot->count;
    b->x = slot->x;
    b->target = slot->target;
    b->index = slot->index;
    return 1;
}

int fer_loader_next(struct fer_loader *l, struct fer_batch *b)
{
    if (!l->have_worker) {
        struct slot *slot = &l->slot[0];
        produce(l, slot, l->next_example);
        l->next_example += (size_t)slot->count;
        return hand_over(slot, b);
    }
    pthread_mutex_lock(&l->lock);
    /* Give back the slot the caller held. */
    if (l->consumer_slot >= 0) {
        l->filled[l->consumer_slot] = 0;
        l->consumer_slot = -1;
        pthread_cond_broadcast(&l->changed);
    }
    int k = l->next_slot;
    while (!l->filled[k] && l->producing)
        pthread_cond_wait(&l->changed, &l->lock);
    if (!l->filled[k]) { /* pass over, nothing pending in this slot */
        pthread_mutex_unlock(&l->lock);
        return 0;
    }
    l->consumer_slot = k;
    l->next_slot = 1 - k;
    pthread_mutex_unlock(&l->lock);
    return hand_over(&l->slot[k], b);
}
