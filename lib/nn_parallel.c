#include "nn_parallel.h"

enum { LINE = 16 }; /* floats per 64-byte cache line */

void fer_nn_parallel_for(long n, double floats_per_item, fer_parallel_fn fn,
                         void *ctx)
{
    if (n <= 0)
        return;
    if (n == 1 || (double)n * floats_per_item < FER_NN_PARALLEL_MIN) {
        fn(ctx, 0, n);
        return;
    }
    fer_parallel_for(n, fn, ctx);
}

struct lines {
    size_t n;
    fer_parallel_fn fn;
    void *ctx;
};

/* Cache lines [begin, end) as element indices: two threads never write
 * the same line. */
static void run_lines(void *ctx, long begin, long end)
{
    const struct lines *l = ctx;
    size_t b = (size_t)begin * LINE, e = (size_t)end * LINE;
    l->fn(l->ctx, (long)b, (long)(e < l->n ? e : l->n));
}

void fer_nn_parallel_elements(size_t n, double floats_per_element,
                              fer_parallel_fn fn, void *ctx)
{
    struct lines l = {n, fn, ctx};
    fer_nn_parallel_for((long)((n + LINE - 1) / LINE), LINE * floats_per_element,
                        run_lines, &l);
}
