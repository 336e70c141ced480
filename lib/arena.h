/* arena.h - scratch memory for one training step, without malloc in the loop.
 *
 * A bump allocator: fer_arena_alloc hands out 64-byte aligned blocks (so
 * OpenBLAS and vector loads see aligned rows), fer_arena_reset takes them all
 * back at once. When a step needs more than the arena holds, the arena grows
 * by another chunk; the next reset merges the chunks into one block of the
 * total size, so from the second step on a step of the same shape allocates
 * nothing. Not thread-safe: use one arena per thread.
 */
#ifndef FER_ARENA_H
#define FER_ARENA_H

#include <stddef.h>

#define FER_ALIGN 64

struct fer_arena;

/* A new arena whose first chunk holds `capacity` bytes (0: allocate on
 * first use). Returns NULL (with fer_error set) when out of memory. */
struct fer_arena *fer_arena_new(size_t capacity);
void fer_arena_free(struct fer_arena *a);

/* `size` bytes aligned to FER_ALIGN, valid until the next reset or free.
 * The memory is not cleared. size 0 gives a valid, unique pointer. Returns
 * NULL (fer_error set) when out of memory. */
void *fer_arena_alloc(struct fer_arena *a, size_t size);
/* Like fer_arena_alloc, for n floats set to zero. */
float *fer_arena_zeros(struct fer_arena *a, size_t n);

/* Forget every allocation; keeps (and merges) the memory. */
void fer_arena_reset(struct fer_arena *a);

/* A mark to roll back to: allocations made after fer_arena_mark are
 * released by fer_arena_release (used for a layer's temporary buffers). */
struct fer_arena_mark {
    void *chunk;
    size_t used;
};
struct fer_arena_mark fer_arena_mark(const struct fer_arena *a);
void fer_arena_release(struct fer_arena *a, struct fer_arena_mark m);

/* Bytes in use now, and the largest total ever in use since creation. */
size_t fer_arena_used(const struct fer_arena *a);
size_t fer_arena_peak(const struct fer_arena *a);

/* 64-byte aligned heap memory for long-lived buffers (parameters); free
 * with fer_aligned_free. Returns NULL (fer_error set) when out of memory. */
void *fer_aligned_alloc(size_t size);
void fer_aligned_free(void *p);

#endif
