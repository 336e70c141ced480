/* parallel.h - the engine's own worker threads, for loops OpenBLAS does not run.
 *
 * Batch norm, pooling, im2col and our GEMM kernels split their work over a
 * small persistent pool: fer_parallel_for(n, fn, ctx) calls fn on disjoint
 * ranges that cover [0, n) exactly once and returns when all are done.
 *
 * Determinism: the ranges depend only on n and the thread count (thread t
 * of T gets [n*t/T, n*(t+1)/T)), never on timing, so a loop whose ranges
 * write disjoint outputs gives the same bits on every run with the same
 * thread count.
 *
 * A call from inside fn (a nested loop) runs serially in the calling
 * thread. Calls from two different outer threads at once are serialized.
 */
#ifndef FER_PARALLEL_H
#define FER_PARALLEL_H

/* Work on items [begin, end); ctx is the caller's. */
typedef void (*fer_parallel_fn)(void *ctx, long begin, long end);

/* Use n threads (the caller's included) from now on; 1 runs every loop in
 * the caller. Starts or stops workers as needed. Returns 0, or -1 with
 * fer_error() set if a thread could not be started (the pool then keeps
 * the threads it has). n is clamped to 1..FER_PARALLEL_MAX. */
#define FER_PARALLEL_MAX 64
int fer_parallel_set_threads(int n);

/* The current thread count (1 until set). May be called from inside a
 * loop's fn. */
int fer_parallel_threads(void);

/* Run fn over [0, n) split into fer_parallel_threads() ranges (fewer when
 * n is small: no range is empty). Returns when every range is done. */
void fer_parallel_for(long n, fer_parallel_fn fn, void *ctx);

#endif
