/* nn-bench - GFLOP/s of our convolution layers and of plain sgemm.
 *
 * Usage: nn-bench [SECONDS_PER_ROW]
 * Prints TSV rows "name<TAB>GFLOP/s" for OpenBLAS sgemm (1024^3, the rate
 * the convolutions are measured against, row sgemm-1024), for the engine's
 * own fer_sgemm on the same product (row fer-sgemm-1024; it runs OpenBLAS
 * too when FER_GEMM=openblas or without AVX-512) and for forward and backward
 * (input and weight gradients) of the convolution shapes listed in
 * scripts/bench-nn-shapes, read from stdin as
 * "name N Cin Cout H kernel stride pad" lines. Threads: OpenBLAS's
 * (OPENBLAS_NUM_THREADS). Used by scripts/bench-nn.
 */
#include "bench_util.h"
#include "gemm.h"
#include "nn_conv.h"
#include "nn.h"
#include "rng.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Wall clock: the rows are compared with PyTorch's wall-clock figures. */
#define TIME_BEST(budget, best, stmt) BENCH_BEST(CLOCK_MONOTONIC, budget, best, stmt)

/* GFLOP/s of a 1024^3 sgemm, OpenBLAS's (the reference for the
 * convolutions) or, with ours set, fer_sgemm's. */
static double sgemm_rate(double budget, struct fer_rng *rng, int ours)
{
    const int S = 1024;
    float *a = fer_aligned_alloc(sizeof(float) * S * S);
    float *b = fer_aligned_alloc(sizeof(float) * S * S);
    float *c = fer_aligned_alloc(sizeof(float) * S * S);
    if (a == NULL || b == NULL || c == NULL)
        return 0;
    for (int i = 0; i < S * S; i++)
        a[i] = b[i] = (float)fer_rng_uniform(rng);
    double best;
    if (ours)
        TIME_BEST(budget, best,
                  fer_sgemm(FER_NO_TRANS, FER_NO_TRANS, S, S, S, 1.0f, a, S, b, S, 0.0f, c, S));
    else
        TIME_BEST(budget, best,
                  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, S, S, 1.0f, a,
                              S, b, S, 0.0f, c, S));
    fer_aligned_free(a);
    fer_aligned_free(b);
    fer_aligned_free(c);
    return 2.0 * S * S * S / best * 1e-9;
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 0.3;
    /* The script sets OPENBLAS_NUM_THREADS; our own loops use as many. */
    if (fer_nn_set_threads(openblas_get_num_threads()) < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], fer_error());
        return 1;
    }
    struct fer_rng rng;
    fer_rng_seed(&rng, 1);
    double best, sgemm = sgemm_rate(budget, &rng, 0), ours = sgemm_rate(budget, &rng, 1);
    struct fer_arena *arena = fer_arena_new(0);
    char name[64];
    int n, cin, cout, h, k, s, p;
    while (scanf("%63s %d %d %d %d %d %d %d", name, &n, &cin, &cout, &h, &k, &s, &p) == 8) {
        struct fer_conv2d conv;
        struct fer_conv2d_spec spec = {cin, cout, k, k, s, s, p, p, 1, 1, 1, 0};
        int oh, ow;
        if (fer_conv2d_init(&conv, &spec) < 0 ||
            fer_conv2d_output_size(&conv, h, h, &oh, &ow) < 0) {
            fprintf(stderr, "nn-bench: %s: %s\n", name, fer_error());
            return 1;
        }
        struct fer_tensor x, y, dx;
        if (fer_tensor_alloc(&x, 4, (int[]){n, cin, h, h}) < 0 ||
            fer_tensor_alloc(&dx, 4, (int[]){n, cin, h, h}) < 0 ||
            fer_tensor_alloc(&y, 4, (int[]){n, cout, oh, ow}) < 0) {
            fprintf(stderr, "nn-bench: %s\n", fer_error());
            return 1;
        }
        bench_randn(&x, &rng);
        bench_randn(&conv.weight, &rng);
        bench_randn(&y, &rng); /* doubles as dy */
        double flops = 2.0 * n * cout * oh * ow * cin * k * k;
        TIME_BEST(budget, best, fer_conv2d_forward(&conv, &x, &y, arena));
        printf("%s-fwd\t%.2f\n", name, flops / best * 1e-9);
        TIME_BEST(budget, best, fer_conv2d_backward(&conv, &x, &y, &dx, arena));
        printf("%s-bwd\t%.2f\n", name, 2 * flops / best * 1e-9);
        fflush(stdout);
        fer_tensor_free(&x);
        fer_tensor_free(&dx);
        fer_tensor_free(&y);
        fer_conv2d_free(&conv);
    }
    fer_arena_free(arena);
    /* Measured again at the end and the better kept: a shared machine
     * slows whichever run another job overlaps. */
    double again = sgemm_rate(budget, &rng, 0), ours_again = sgemm_rate(budget, &rng, 1);
    printf("sgemm-1024\t%.2f\n", again > sgemm ? again : sgemm);
    printf("fer-sgemm-1024\t%.2f\n", ours_again > ours ? ours_again : ours);
    return 0;
}
