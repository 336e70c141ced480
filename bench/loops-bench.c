/* loops-bench - milliseconds per call of the engine's memory-bound layers.
 *
 * Usage: loops-bench [SECONDS_PER_ROW]
 * Prints TSV rows "name<TAB>ms" (the best call over SECONDS_PER_ROW, in
 * process CPU time: the machine is shared, and the minimum is the least
 * disturbed) for the layer calls of a cnn-s (1x64x64, batch 64) and a
 * resnet18 (3x112x112, batch 32) training step outside the convolutions:
 * ResNet's stem max pool (3x3 stride 2 padding 1) by its vector path and by
 * the general loops, and batch norm + ReLU (+ 2x2 max pool, separate or
 * fused) forward and backward at cnn-s's first stage. Single-threaded: a layer's own cost.
 * Not part of scripts/bench (no peer to compare with); for A/B work.
 */
#include "bench_util.h"
#include "nn_batchnorm.h"
#include "nn_pool.h"
#include "nn.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Prints the best CPU time of stmt over repeated calls filling budget. */
#define ROW(name, budget, stmt)                                                \
    do {                                                                       \
        double best_;                                                          \
        BENCH_BEST(CLOCK_PROCESS_CPUTIME_ID, budget, best_, stmt);             \
        printf("%s\t%.3f\n", name, best_ * 1e3);                               \
    } while (0)

static void die(void)
{
    fprintf(stderr, "loops-bench: %s\n", fer_error());
    exit(1);
}

static void pool_rows(double budget, struct fer_rng *rng)
{
    struct fer_pool2d p = {3, 2, 1, 1, 0}, g = p;
    g.generic = 1;
    struct fer_tensor x, y, dx;
    if (fer_tensor_alloc(&x, 4, (int[]){32, 64, 56, 56}) < 0 ||
        fer_tensor_alloc(&y, 4, (int[]){32, 64, 28, 28}) < 0 ||
        fer_tensor_alloc(&dx, 4, (int[]){32, 64, 56, 56}) < 0)
        die();
    bench_randn(&x, rng);
    bench_randn(&y, rng);
    ROW("maxpool3x3s2-fwd", budget, fer_maxpool2d_forward(&p, &x, &y));
    ROW("maxpool3x3s2-fwd-general", budget, fer_maxpool2d_forward(&g, &x, &y));
    ROW("maxpool3x3s2-bwd", budget, fer_maxpool2d_backward(&p, &x, &y, &dx));
    ROW("maxpool3x3s2-bwd-general", budget, fer_maxpool2d_backward(&g, &x, &y, &dx));
    fer_tensor_free(&x);
    fer_tensor_free(&y);
    fer_tensor_free(&dx);
}

static void bn_rows(double budget, struct fer_rng *rng)
{
    struct fer_batchnorm bn;
    struct fer_pool2d p = {2, 2, 0, 1, 0};
    struct fer_tensor x, y, dy, dx, py, dpy;
    if (fer_batchnorm_init(&bn, 32, 1e-5f, 0.1f) < 0 ||
        fer_tensor_alloc(&x, 4, (int[]){64, 32, 64, 64}) < 0 ||
        fer_tensor_alloc(&y, 4, (int[]){64, 32, 64, 64}) < 0 ||
        fer_tensor_alloc(&dy, 4, (int[]){64, 32, 64, 64}) < 0 ||
        fer_tensor_alloc(&dx, 4, (int[]){64, 32, 64, 64}) < 0 ||
        fer_tensor_alloc(&py, 4, (int[]){64, 32, 32, 32}) < 0 ||
        fer_tensor_alloc(&dpy, 4, (int[]){64, 32, 32, 32}) < 0)
        die();
    bench_randn(&x, rng);
    bench_randn(&dy, rng);
    bench_randn(&dpy, rng);
    ROW("bn-relu-fwd", budget, fer_batchnorm_relu_forward(&bn, &x, &y));
    ROW("maxpool2x2-fwd", budget, fer_maxpool2d_forward(&p, &y, &py));
    ROW("bn-relu-bwd", budget, fer_batchnorm_relu_backward(&bn, &x, &y, &dy, &dx));
    ROW("bn-relu-maxpool-bwd", budget,
        fer_batchnorm_relu_maxpool_backward(&bn, &x, &y, &p, &dpy, &dx));
    ROW("bn-relu-maxpool-fused-fwd", budget,
        fer_batchnorm_relu_maxpool_forward(&bn, &x, &p, &py));
    ROW("bn-relu-maxpool-fused-bwd", budget,
        fer_batchnorm_relu_maxpool_backward(&bn, &x, NULL, &p, &dpy, &dx));
    bn.training = 0;
    ROW("bn-relu-fwd-eval", budget, fer_batchnorm_relu_forward(&bn, &x, &y));
    ROW("bn-relu-maxpool-fused-fwd-eval", budget,
        fer_batchnorm_relu_maxpool_forward(&bn, &x, &p, &py));
    fer_batchnorm_free(&bn);
    struct fer_tensor *all[] = {&x, &y, &dy, &dx, &py, &dpy};
    for (int i = 0; i < 6; i++)
        fer_tensor_free(all[i]);
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 0.5;
    struct fer_rng rng;
    fer_rng_seed(&rng, 1);
    pool_rows(budget, &rng);
    bn_rows(budget, &rng);
    return 0;
}
