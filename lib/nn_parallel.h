/* nn_parallel.h - splitting the engine's memory-bound loops over the pool
 * (internal to the nn_* layers, model.c and optim.c).
 *
 * A round trip through the pool costs 9 us at best here (2 threads, an
 * empty job; 48 us on average with the machine loaded), about what one
 * core needs to stream 256 KB, so loops below FER_NN_PARALLEL_MIN floats
 * of work run in the caller. Both helpers keep parallel.h's static split: the
 * ranges depend only on the item count and the thread count, and the
 * callers make every item write its own outputs, so results do not depend
 * on the thread count at all.
 */
#ifndef FER_NN_PARALLEL_H
#define FER_NN_PARALLEL_H

#include "parallel.h"

#include <stddef.h>

/* Floats of work below which a loop is not worth a wake-up. */
#define FER_NN_PARALLEL_MIN 65536

/* fn over items [0, n), split over the pool when n * floats_per_item
 * (the memory one item touches) is large enough, else in the caller. */
void fer_nn_parallel_for(long n, double floats_per_item, fer_parallel_fn fn,
                         void *ctx);

/* fn over element indices [0, n) in chunks of whole cache lines (16
 * floats), for element-wise loops: fn(ctx, begin, end) gets element
 * indices. floats_per_element as above (e.g. 3 for c = a + b). */
void fer_nn_parallel_elements(size_t n, double floats_per_element,
                              fer_parallel_fn fn, void *ctx);

#endif
