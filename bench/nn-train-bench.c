/* nn-train-bench - training and inference images per second of our models.
 *
 * Usage: nn-train-bench ARCH IN_CHANNELS SIZE BATCH SECONDS
 * Prints "train<TAB>images/s" and "infer<TAB>images/s": a training step is
 * forward, cross-entropy, backward and an SGD (momentum) update; inference
 * is an evaluation-mode forward. Each figure is the median step time over
 * SECONDS of steps after one warm-up step. Threads: OpenBLAS's
 * (OPENBLAS_NUM_THREADS). Used by scripts/bench-nn.
 *
 * NN_BENCH_CLOCK=cpu times steps (and SECONDS) in process CPU time instead
 * of wall-clock time: on a shared, loaded machine a wall-clock step counts
 * the time other processes ran, which made A/B comparisons of the same
 * binary differ by 30%. Only meaningful at one thread (idle OpenBLAS
 * threads spin and would be counted).
 */
#include "model.h"
#include "nn_loss.h"
#include "optim.h"
#include "nn.h"
#include "rng.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_step(double budget, int (*step)(void *), void *ctx)
{
    double t[4096];
    int n = 0;
    if (step(ctx) < 0)
        return -1;
    double start = now();
    while (n < 4096 && (n < 3 || now() - start < budget)) {
        double t0 = now();
        if (step(ctx) < 0)
            return -1;
        t[n++] = now() - t0;
    }
    qsort(t, n, sizeof *t, cmp);
    return t[n / 2];
}

struct ctx {
    struct fer_model *m;
    struct fer_optim *o;
    struct fer_arena *arena;
    struct fer_tensor x, logits, dlogits;
    int *target;
};

static int train_step(void *p)
{
    struct ctx *c = p;
    double loss;
    fer_arena_reset(c->arena);
    fer_model_zero_grad(c->m);
    if (fer_model_forward(c->m, &c->x, &c->logits, c->arena) < 0 ||
        fer_cross_entropy_loss(&c->logits, c->target, NULL, 0, &loss, &c->dlogits) < 0 ||
        fer_model_backward(c->m, &c->dlogits, NULL, c->arena) < 0)
        return -1;
    return fer_optim_step(c->o, 0.01f);
}

static int infer_step(void *p)
{
    struct ctx *c = p;
    fer_arena_reset(c->arena);
    return fer_model_forward(c->m, &c->x, &c->logits, c->arena);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: nn-train-bench ARCH IN_CHANNELS SIZE BATCH SECONDS\n");
        return 2;
    }
    int in = atoi(argv[2]), size = atoi(argv[3]), batch = atoi(argv[4]), classes = 7;
    double budget = atof(argv[5]);
    const char *clk = getenv("NN_BENCH_CLOCK");
    /* The script sets OPENBLAS_NUM_THREADS; our own loops use as many. */
    if (fer_nn_set_threads(openblas_get_num_threads()) < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], fer_error());
        return 1;
    }
    if (clk && strcmp(clk, "cpu") == 0)
        clock_id = CLOCK_PROCESS_CPUTIME_ID;
    struct ctx c = {0};
    c.m = fer_model_new(argv[1], in, classes, 1);
    c.arena = fer_arena_new(0);
    c.target = calloc(batch, sizeof *c.target);
    if (c.m == NULL || c.arena == NULL || c.target == NULL ||
        fer_tensor_alloc(&c.x, 4, (int[]){batch, in, size, size}) < 0 ||
        fer_tensor_alloc(&c.logits, 2, (int[]){batch, classes}) < 0 ||
        fer_tensor_alloc(&c.dlogits, 2, (int[]){batch, classes}) < 0) {
        fprintf(stderr, "nn-train-bench: %s\n", fer_error());
        return 1;
    }
    struct fer_rng r;
    fer_rng_seed(&r, 1);
    for (size_t i = 0; i < fer_tensor_numel(&c.x); i++)
        c.x.data[i] = (float)fer_rng_normal(&r);
    for (int i = 0; i < batch; i++)
        c.target[i] = (int)fer_rng_below(&r, classes);
    const struct fer_param *params;
    int np = fer_model_params(c.m, &params);
    struct fer_optim_spec spec = {.kind = FER_OPTIM_SGD, .momentum = 0.9f,
                                  .weight_decay = 5e-4f};
    c.o = fer_optim_new(&spec, params, np);
    if (c.o == NULL) {
        fprintf(stderr, "nn-train-bench: %s\n", fer_error());
        return 1;
    }
    fer_model_set_training(c.m, 1);
    double t = median_step(budget, train_step, &c);
    fer_model_set_training(c.m, 0);
    double ti = median_step(budget, infer_step, &c);
    if (t < 0 || ti < 0) {
        fprintf(stderr, "nn-train-bench: %s\n", fer_error());
        return 1;
    }
    printf("train\t%.1f\ninfer\t%.1f\n", batch / t, batch / ti);
    fer_optim_free(c.o);
    fer_model_free(c.m);
    fer_arena_free(c.arena);
    fer_tensor_free(&c.x);
    fer_tensor_free(&c.logits);
    fer_tensor_free(&c.dlogits);
    free(c.target);
    return 0;
}
