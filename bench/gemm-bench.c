/* gemm-bench - GFLOP/s of fer_sgemm and OpenBLAS's cblas_sgemm on the
 * products the engine makes.
 *
 * Usage: gemm-bench [SECONDS_PER_ROW [NAME_SUBSTRING]]
 * Prints TSV rows "name<TAB>shape<TAB>ours<TAB>openblas<TAB>ratio" (GFLOP/s,
 * ratio > 1: fer_sgemm faster), best of repeated calls over SECONDS each.
 * Shapes: sgemm 1024^3, and the convolutions of scripts/bench-nn-shapes as
 * lib/nn_conv.c multiplies them (forward W cols: M = out channels,
 * N = images x positions, K = in channels x kernel; -wg: weight gradient
 * dY cols^T; -ig: input gradient), plus a linear layer. Threads:
 * OPENBLAS_NUM_THREADS, for both. NN_BENCH_CLOCK=cpu times in the thread's
 * CPU time (one thread only), which a loaded machine disturbs less.
 * OPENBLAS_CORETYPE changes OpenBLAS's column, not ours.
 */
#include "arena.h"
#include "gemm.h"
#include "nn.h"

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

static const struct shape {
    const char *name;
    int ta, tb, M, N, K;
    float beta;
} SHAPES[] = {
    {"sgemm-1024", 0, 0, 1024, 1024, 1024, 0},
    {"cnn64-1to32-fwd", 0, 0, 32, 4096, 9, 0},
    {"cnn64-1to32-wg", 0, 1, 32, 9, 4096, 1},
    {"cnn32-32to64-fwd", 0, 0, 64, 1024, 288, 0},
    {"cnn32-32to64-wg", 0, 1, 64, 288, 1024, 1},
    {"cnn32-32to64-ig", 0, 0, 32, 1024, 576, 0},
    {"cnn16-64to128-fwd", 0, 0, 128, 512, 576, 0},
    {"cnn16-64to128-wg", 0, 1, 128, 576, 512, 1},
    {"cnn16-64to128-ig", 0, 0, 64, 512, 1152, 0},
    {"cnn8-128to256-fwd", 0, 0, 256, 512, 1152, 0},
    {"cnn8-128to256-wg", 0, 1, 256, 1152, 512, 1},
    {"cnn8-128to256-ig", 0, 0, 128, 512, 2304, 0},
    {"r18stem-fwd", 0, 0, 64, 3136, 147, 0},
    {"r18stem-wg", 0, 1, 64, 147, 3136, 1},
    {"r18stem-ig", 1, 0, 147, 3136, 64, 0},
    {"r18-28px-fwd", 0, 0, 64, 784, 576, 0},
    {"r18-28px-wg", 0, 1, 64, 576, 784, 1},
    {"r18-14px-fwd", 0, 0, 128, 392, 1152, 0},
    {"r18-14px-wg", 0, 1, 128, 1152, 392, 1},
    {"r18-7px-fwd", 0, 0, 256, 490, 2304, 0},
    {"r18-7px-wg", 0, 1, 256, 2304, 490, 1},
    {"r18-4px-fwd", 0, 0, 512, 512, 4608, 0},
    {"r18-4px-wg", 0, 1, 512, 4608, 512, 1},
    {"r18-1x1s2-fwd", 0, 0, 128, 392, 64, 0},
    {"r18-1x1s2-wg", 0, 1, 128, 64, 392, 1},
    {"r18-1x1s2-ig", 1, 0, 64, 392, 128, 0},
    {"r18-1x1s1-fwd", 0, 0, 128, 196, 128, 0},
    {"r18-1x1s1-wg", 0, 1, 128, 128, 196, 1},
    {"r18-1x1s1-ig", 1, 0, 128, 196, 128, 0},
    {"linear-512to512-b64", 0, 1, 64, 512, 512, 0},
    {"linear-512to7-b64", 0, 1, 64, 7, 512, 0},
};

static double rate(const struct shape *s, int ours, const float *A, const float *B, float *C,
                   double budget)
{
    const int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    double best = 1e30, start = now();
    int calls = 0;
    do {
        double t0 = now();
        if (ours)
            fer_sgemm(s->ta ? FER_TRANS : FER_NO_TRANS, s->tb ? FER_TRANS : FER_NO_TRANS, s->M,
                      s->N, s->K, 1.0f, A, lda, B, ldb, s->beta, C, s->N);
        else
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                        s->tb ? CblasTrans : CblasNoTrans, s->M, s->N, s->K, 1.0f, A, lda, B,
                        ldb, s->beta, C, s->N);
        double dt = now() - t0;
        if (dt < best)
            best = dt;
        calls++;
    } while (now() - start < budget || calls < 3);
    return 2.0 * s->M * s->N * s->K / best * 1e-9;
}

int main(int argc, char **argv)
{
    const double budget = argc > 1 ? atof(argv[1]) : 0.3;
    const char *only = argc > 2 ? argv[2] : NULL;
    const char *clock_env = getenv("NN_BENCH_CLOCK");
    if (clock_env && strcmp(clock_env, "cpu") == 0)
        clock_id = CLOCK_THREAD_CPUTIME_ID;
    if (fer_nn_set_threads(openblas_get_num_threads()) < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], fer_error());
        return 1;
    }
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        const struct shape *s = &SHAPES[i];
        if (only && strstr(s->name, only) == NULL)
            continue;
        float *A = fer_aligned_alloc(sizeof(float) * s->M * s->K);
        float *B = fer_aligned_alloc(sizeof(float) * s->K * s->N);
        float *C = fer_aligned_alloc(sizeof(float) * s->M * s->N);
        if (A == NULL || B == NULL || C == NULL) {
            fprintf(stderr, "%s: out of memory\n", argv[0]);
            return 1;
        }
        for (long k = 0; k < (long)s->M * s->K; k++)
            A[k] = (float)(k % 7) - 3;
        for (long k = 0; k < (long)s->K * s->N; k++)
            B[k] = (float)(k % 5) - 2;
        memset(C, 0, sizeof(float) * s->M * s->N);
        const double ours = rate(s, 1, A, B, C, budget), peer = rate(s, 0, A, B, C, budget);
        printf("%s\t%s%s %dx%dx%d\t%.1f\t%.1f\t%.2f\n", s->name, s->ta ? "T" : "N",
               s->tb ? "T" : "N", s->M, s->N, s->K, ours, peer, ours / peer);
        fflush(stdout);
        fer_aligned_free(A);
        fer_aligned_free(B);
        fer_aligned_free(C);
    }
    return 0;
}
