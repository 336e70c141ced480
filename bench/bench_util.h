/* bench_util.h - what the layer benchmarks (nn-bench, loops-bench) share:
 * a clock, random tensors and best-of timing. Header-only: each benchmark
 * is one program built from one file. */
#ifndef FER_BENCH_UTIL_H
#define FER_BENCH_UTIL_H

#include "rng.h"
#include "tensor.h"

#include <time.h>

/* Seconds on clock id (CLOCK_MONOTONIC: wall; CLOCK_PROCESS_CPUTIME_ID:
 * this process's CPU time, steadier on a shared machine). */
static inline double bench_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Every element of t from a standard normal. */
static inline void bench_randn(struct fer_tensor *t, struct fer_rng *r)
{
    size_t n = fer_tensor_numel(t);
    for (size_t i = 0; i < n; i++)
        t->data[i] = (float)fer_rng_normal(r);
}

/* best = the shortest time of one stmt on clock id, over repeated calls
 * filling `budget` seconds after one warm-up call: the minimum is the
 * least disturbed by other load on a shared machine. */
#define BENCH_BEST(id, budget, best, stmt)                                     \
    do {                                                                       \
        stmt;                                                                  \
        best = 1e30;                                                           \
        double start_ = bench_seconds(id);                                     \
        do {                                                                   \
            double t0_ = bench_seconds(id);                                    \
            stmt;                                                              \
            double dt_ = bench_seconds(id) - t0_;                              \
            if (dt_ < best)                                                    \
                best = dt_;                                                    \
        } while (bench_seconds(id) - start_ < (budget));                       \
    } while (0)

#endif
