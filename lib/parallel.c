/* parallel.c - a persistent pool of worker threads with a static split.
 *
 * One job at a time: the caller publishes (fn, ctx, n, parts), bumps the
 * generation, runs part 0 itself and waits until the workers have run
 * parts 1..parts-1. Workers sleep on a condition variable between jobs;
 * the engine calls a few dozen loops per training step, so a wake-up's
 * tens of microseconds are noise beside the work.
 */
#include "parallel.h"

#include "error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;      /* the fields below */
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;

static pthread_t workers[FER_PARALLEL_MAX];
static int nworkers;        /* started, excluding the caller */
static int quit;            /* workers leave when set */
static unsigned generation; /* bumped once per job */
static unsigned start_generation; /* generation when the workers were started */
static int pending;         /* parts of the current job not finished */

static fer_parallel_fn job_fn;
static void *job_ctx;
static long job_n;
static int job_parts;
static atomic_int thread_count = 1; /* nworkers + 1, readable without locks */

/* Set while a thread runs a part, so a nested loop runs serially. */
static _Thread_local int inside_part;

static void run_part(int part)
{
    long begin = job_n * part / job_parts, end = job_n * (part + 1) / job_parts;
    inside_part = 1;
    job_fn(job_ctx, begin, end);
    inside_part = 0;
}

static void *worker_main(void *arg)
{
    const int part = (int)(long)arg;
    pthread_mutex_lock(&lock);
    /* Not `generation`: a job may have been published before this thread
     * first ran, and it must not be taken as already seen. */
    unsigned seen = start_generation;
    for (;;) {
        while (generation == seen && !quit)
            pthread_cond_wait(&work_ready, &lock);
        if (quit)
            break;
        seen = generation;
        if (part >= job_parts)
            continue;
        pthread_mutex_unlock(&lock);
        run_part(part);
        pthread_mutex_lock(&lock);
        if (--pending == 0)
            pthread_cond_signal(&work_done);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void stop_workers(void)
{
    pthread_mutex_lock(&lock);
    quit = 1;
    pthread_cond_broadcast(&work_ready);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    nworkers = 0;
    quit = 0;
}

int fer_parallel_set_threads(int n)
{
    n = n < 1 ? 1 : n > FER_PARALLEL_MAX ? FER_PARALLEL_MAX : n;
    int rc = 0;
    pthread_mutex_lock(&call_lock);
    if (n - 1 != nworkers) {
        stop_workers();
        pthread_mutex_lock(&lock);
        start_generation = generation;
        pthread_mutex_unlock(&lock);
        /* A worker's part number is fixed for its life: worker i runs part i + 1. */
        while (nworkers < n - 1) {
            int err = pthread_create(&workers[nworkers], NULL, worker_main,
                                     (void *)(long)(nworkers + 1));
            if (err != 0) {
                rc = fer_fail("cannot start worker thread: %s", strerror(err));
                break;
            }
            nworkers++;
        }
        atomic_store(&thread_count, nworkers + 1);
    }
    pthread_mutex_unlock(&call_lock);
    return rc;
}

int fer_parallel_threads(void)
{
    /* Not under call_lock: a loop's fn may ask (fer_sgemm sizes its split
     * with it), and call_lock is held for the whole loop. */
    return atomic_load(&thread_count);
}

void fer_parallel_for(long n, fer_parallel_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (inside_part) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&call_lock);
    int parts = nworkers + 1;
    if (n < parts)
        parts = (int)n;
    if (parts == 1) {
        pthread_mutex_unlock(&call_lock);
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&lock);
    job_fn = fn;
    job_ctx = ctx;
    job_n = n;
    job_parts = parts;
    pending = parts - 1;
    generation++;
    pthread_cond_broadcast(&work_ready);
    pthread_mutex_unlock(&lock);

    run_part(0);

    pthread_mutex_lock(&lock);
    while (pending > 0)
        pthread_cond_wait(&work_done, &lock);
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&call_lock);
}
