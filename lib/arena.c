#include "arena.h"

#include "error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct chunk {
    struct chunk *prev; /* older chunk, NULL for the first */
    size_t size;        /* bytes of data */
    size_t used;
    size_t before;      /* bytes used in all older chunks */
    unsigned char *data;
};

struct fer_arena {
    struct chunk *top; /* newest chunk, allocations come from here */
    size_t peak;
};

void *fer_aligned_alloc(size_t size)
{
    void *p = NULL;
    if (size == 0)
        size = FER_ALIGN;
    /* Round up: aligned_alloc wants a multiple of the alignment. */
    size = (size + FER_ALIGN - 1) / FER_ALIGN * FER_ALIGN;
    if (posix_memalign(&p, FER_ALIGN, size) != 0) {
        fer_fail("out of memory (%zu bytes)", size);
        return NULL;
    }
    return p;
}

void fer_aligned_free(void *p)
{
    free(p);
}

static struct chunk *chunk_new(size_t size, struct chunk *prev)
{
    struct chunk *c = malloc(sizeof *c);
    if (c == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    c->data = fer_aligned_alloc(size);
    if (c->data == NULL) {
        free(c);
        return NULL;
    }
    c->prev = prev;
    c->size = size;
    c->used = 0;
    c->before = prev ? prev->before + prev->used : 0;
    return c;
}

struct fer_arena *fer_arena_new(size_t capacity)
{
    struct fer_arena *a = calloc(1, sizeof *a);
    if (a == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    if (capacity > 0 && (a->top = chunk_new(capacity, NULL)) == NULL) {
        free(a);
        return NULL;
    }
    return a;
}

static void chunks_free(struct chunk *c)
{
    while (c) {
        struct chunk *prev = c->prev;
        fer_aligned_free(c->data);
        free(c);
        c = prev;
    }
}

void fer_arena_free(struct fer_arena *a)
{
    if (a == NULL)
        return;
    chunks_free(a->top);
    free(a);
}

size_t fer_arena_used(const struct fer_arena *a)
{
    return a->top ? a->top->before + a->top->used : 0;
}

size_t fer_arena_peak(const struct fer_arena *a)
{
    return a->peak;
}

void *fer_arena_alloc(struct fer_arena *a, size_t size)
{
    size_t need = (size + FER_ALIGN - 1) / FER_ALIGN * FER_ALIGN;
    if (need == 0)
        need = FER_ALIGN;
    if (need < size)
        return fer_fail("arena allocation too large"), NULL;
    struct chunk *c = a->top;
    if (c == NULL || c->size - c->used < need) {
        /* Grow geometrically so a step that outgrows the arena allocates a
         * handful of chunks, not one per tensor. */
        size_t size_new = c ? c->size * 2 : (size_t)1 << 20;
        if (size_new < need)
            size_new = need;
        struct chunk *n = chunk_new(size_new, c);
        if (n == NULL)
            return NULL;
        a->top = c = n;
    }
    void *p = c->data + c->used;
    c->used += need;
    size_t used = c->before + c->used;
    if (used > a->peak)
        a->peak = used;
    return p;
}

float *fer_arena_zeros(struct fer_arena *a, size_t n)
{
    if (n > SIZE_MAX / sizeof(float))
        return fer_fail("arena allocation too large"), NULL;
    float *p = fer_arena_alloc(a, n * sizeof(float));
    if (p)
        memset(p, 0, n * sizeof(float));
    return p;
}

void fer_arena_reset(struct fer_arena *a)
{
    struct chunk *c = a->top;
    if (c == NULL)
        return;
    if (c->prev != NULL) {
        /* Several chunks: replace them by one that held the peak, so the
         * next step fits without growing. Keep the old ones if that fails. */
        struct chunk *one = chunk_new(a->peak, NULL);
        if (one != NULL) {
            chunks_free(c);
            a->top = c = one;
        } else {
            fer_error_clear();
        }
    }
    for (; c; c = c->prev)
        c->used = 0, c->before = 0;
}

struct fer_arena_mark fer_arena_mark(const struct fer_arena *a)
{
    struct fer_arena_mark m = {a->top, a->top ? a->top->used : 0};
    return m;
}

void fer_arena_release(struct fer_arena *a, struct fer_arena_mark m)
{
    /* Chunks added after the mark are emptied but kept: freeing them would
     * make the next step allocate again, and reset merges them anyway. */
    for (struct chunk *c = a->top; c && c != m.chunk; c = c->prev)
        c->used = 0;
    if (m.chunk)
        ((struct chunk *)m.chunk)->used = m.used;
}
