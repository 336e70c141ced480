#include "frame_writer.h"

#include "error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE, SLOT_FAILED };

struct slot {
    struct fer_frame_job job;
    enum slot_state state;
    char error[512]; /* the worker's fer_error() when FAILED */
    int read_failed; /* the failure was reading job.source */
};

struct fer_frame_writer {
    struct fer_frame_writer_options opt;
    fer_frame_done_fn done;
    void *user;
    /* Ring of slots: jobs are reported from `head`, queued at `head +
     * count`, and taken by workers from `next_run`. */
    struct slot *slots;
    size_t cap, head, count, next_run;
    pthread_t *workers;
    int n_workers;
    pthread_mutex_t lock;
    pthread_cond_t work_ready; /* a job was queued, or stop */
    pthread_cond_t job_done;   /* a job finished */
    int stop;
    int failed;
    char failed_source[4096];
    int has_failed_source;
};

static void job_clear(struct fer_frame_job *job)
{
    fer_image_free(&job->image);
    free(job->source);
    free(job->path);
    memset(job, 0, sizeof *job);
}

static int replace(struct fer_image *image, struct fer_image *next)
{
    fer_image_free(image);
    *image = *next;
    return 0;
}

int fer_frame_writer_transform(const struct fer_frame_writer_options *opt,
                               struct fer_image *image)
{
    struct fer_image tmp = {0};
    if (opt->grey && image->channels != 1) {
        if (fer_image_to_grey(image, &tmp) != 0)
            return -1;
        replace(image, &tmp);
    }
    int w = image->width, h = image->height;
    if (opt->width > 0 && opt->height > 0) {
        w = opt->width;
        h = opt->height;
    } else if (opt->max_side > 0 && (w > opt->max_side || h > opt->max_side)) {
        /* Keep the aspect: the longer side becomes max_side, the other is
         * rounded to the nearest pixel (at least 1). */
        if (w >= h) {
            h = (int)(((int64_t)h * opt->max_side + w / 2) / w);
            w = opt->max_side;
        } else {
            w = (int)(((int64_t)w * opt->max_side + h / 2) / h);
            h = opt->max_side;
        }
        if (w < 1)
            w = 1;
        if (h < 1)
            h = 1;
    }
    if (w != image->width || h != image->height) {
        if (fer_image_resize(image, &tmp, w, h) != 0)
            return -1;
        replace(image, &tmp);
    }
    return 0;
}

/* Read (when needed), transform and write one job. On failure, returns -1
 * with fer_error() set and *read_failed telling whether reading failed. */
static int run_job(const struct fer_frame_writer_options *opt, struct fer_frame_job *job,
                   int *read_failed)
{
    *read_failed = 0;
    if (job->image.data == NULL) {
        if (fer_image_read(job->source, &job->image, opt->grey ? 1 : 0) != 0) {
            *read_failed = 1;
            return -1;
        }
    }
    if (fer_frame_writer_transform(opt, &job->image) != 0)
        return -1;
    job->width = job->image.width;
    job->height = job->image.height;
    int rc = fer_image_write(job->path, &job->image, opt->format, opt->quality);
    /* The pixels are no longer needed; free them now so that finished jobs
     * waiting to be reported hold no memory. */
    fer_image_free(&job->image);
    return rc;
}

/* Blame the input for a read failure, the output for anything after. */
static void set_failed_file(struct fer_frame_writer *w, int read_failed,
                            const struct fer_frame_job *job)
{
    const char *file = read_failed ? job->source : job->path;
    w->has_failed_source = file != NULL;
    if (file != NULL)
        snprintf(w->failed_source, sizeof w->failed_source, "%s", file);
}

static void *worker_main(void *arg)
{
    struct fer_frame_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->stop && w->next_run == w->head + w->count)
            pthread_cond_wait(&w->work_ready, &w->lock);
        if (w->stop)
            break;
        struct slot *s = &w->slots[w->next_run % w->cap];
        w->next_run++;
        s->state = SLOT_RUNNING;
        pthread_mutex_unlock(&w->lock);
        int read_failed;
        int rc = run_job(&w->opt, &s->job, &read_failed);
        pthread_mutex_lock(&w->lock);
        if (rc != 0) {
            snprintf(s->error, sizeof s->error, "%s", fer_error());
            s->read_failed = read_failed;
            s->state = SLOT_FAILED;
        } else {
            s->state = SLOT_DONE;
        }
        pthread_cond_broadcast(&w->job_done);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct fer_frame_writer *fer_frame_writer_new(const struct fer_frame_writer_options *options,
                                              fer_frame_done_fn done, void *user)
{
    struct fer_frame_writer *w = calloc(1, sizeof *w);
    if (w == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    w->opt = *options;
    w->done = done;
    w->user = user;
    w->n_workers = options->threads > 1 ? options->threads : 0;
    w->cap = w->n_workers > 0 ? 2 * (size_t)w->n_workers : 1;
    w->slots = calloc(w->cap, sizeof *w->slots);
    w->workers = calloc(w->n_workers > 0 ? (size_t)w->n_workers : 1, sizeof *w->workers);
    if (w->slots == NULL || w->workers == NULL) {
        free(w->slots);
        free(w->workers);
        free(w);
        fer_fail("out of memory");
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work_ready, NULL);
    pthread_cond_init(&w->job_done, NULL);
    for (int i = 0; i < w->n_workers; i++) {
        if (pthread_create(&w->workers[i], NULL, worker_main, w) != 0) {
            w->n_workers = i;
            fer_frame_writer_free(w);
            fer_fail("cannot start encoder threads");
            return NULL;
        }
    }
    return w;
}

/* Report the oldest job once it is finished (lock held on entry and exit;
 * `done` runs unlocked). wait: block until it is finished. Returns 1 when a
 * job was reported, 0 when there is none (or it is still running and !wait),
 * -1 on failure. */
static int report_oldest(struct fer_frame_writer *w, int wait)
{
    if (w->count == 0)
        return 0;
    struct slot *s = &w->slots[w->head % w->cap];
    while (s->state != SLOT_DONE && s->state != SLOT_FAILED) {
        if (!wait)
            return 0;
        pthread_cond_wait(&w->job_done, &w->lock);
    }
    if (s->state == SLOT_FAILED) {
        w->failed = 1;
        set_failed_file(w, s->read_failed, &s->job);
        return fer_fail("%s", s->error);
    }
    pthread_mutex_unlock(&w->lock);
    int rc = w->done ? w->done(w->user, &s->job) : 0;
    pthread_mutex_lock(&w->lock);
    if (rc != 0) {
        w->failed = 1;
        w->has_failed_source = 0;
        /* The file exists but its row was not written: remove it. */
        unlink(s->job.path);
        job_clear(&s->job);
        s->state = SLOT_FREE;
        w->head++;
        w->count--;
        return -1;
    }
    job_clear(&s->job);
    s->state = SLOT_FREE;
    w->head++;
    w->count--;
    return 1;
}

static int fill_job(struct fer_frame_job *job, struct fer_image *image, const char *source,
                    const char *path, int64_t frame, double seconds)
{
    memset(job, 0, sizeof *job);
    job->path = strdup(path);
    job->source = source ? strdup(source) : NULL;
    if (job->path == NULL || (source != NULL && job->source == NULL)) {
        job_clear(job);
        return fer_fail("out of memory");
    }
    if (image != NULL) {
        job->image = *image;
        memset(image, 0, sizeof *image);
    }
    job->frame = frame;
    job->seconds = seconds;
    return 0;
}

int fer_frame_writer_submit(struct fer_frame_writer *w, struct fer_image *image,
                            const char *source, const char *path, int64_t frame,
                            double seconds)
{
    if (w->failed)
        return fer_fail("frame writer already failed");
    w->has_failed_source = 0;
    if (w->n_workers == 0) {
        struct fer_frame_job job;
        if (fill_job(&job, image, source, path, frame, seconds) != 0)
            return -1;
        int read_failed;
        int rc = run_job(&w->opt, &job, &read_failed);
        if (rc != 0) {
            w->failed = 1;
            set_failed_file(w, read_failed, &job);
        } else if (w->done && w->done(w->user, &job) != 0) {
            w->failed = 1;
            unlink(job.path);
            rc = -1;
        }
        job_clear(&job);
        return rc;
    }
    pthread_mutex_lock(&w->lock);
    int rc = 0;
    /* Report what is finished; block only while the ring is full. */
    while (rc >= 0 && w->count > 0) {
        rc = report_oldest(w, w->count == w->cap);
        if (rc == 0)
            break;
    }
    if (rc < 0) {
        pthread_mutex_unlock(&w->lock);
        return -1;
    }
    struct slot *s = &w->slots[(w->head + w->count) % w->cap];
    if (fill_job(&s->job, image, source, path, frame, seconds) != 0) {
        pthread_mutex_unlock(&w->lock);
        w->failed = 1;
        return -1;
    }
    s->state = SLOT_QUEUED;
    w->count++;
    pthread_cond_signal(&w->work_ready);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

int fer_frame_writer_flush(struct fer_frame_writer *w)
{
    if (w->failed)
        return fer_fail("frame writer already failed");
    if (w->n_workers == 0)
        return 0;
    pthread_mutex_lock(&w->lock);
    int rc = 0;
    while (w->count > 0 && (rc = report_oldest(w, 1)) > 0)
        ;
    pthread_mutex_unlock(&w->lock);
    return rc < 0 ? -1 : 0;
}

void fer_frame_writer_abort(struct fer_frame_writer *w)
{
    if (w->n_workers == 0)
        return;
    pthread_mutex_lock(&w->lock);
    /* Queued jobs are withdrawn: workers only take slots below head+count. */
    size_t end = w->head + w->count;
    size_t ran = w->next_run;
    for (size_t i = ran; i < end; i++)
        job_clear(&w->slots[i % w->cap].job), w->slots[i % w->cap].state = SLOT_FREE;
    w->count = ran - w->head;
    /* Wait for the running ones, then remove what they wrote. */
    for (size_t i = w->head; i < ran; i++) {
        struct slot *s = &w->slots[i % w->cap];
        while (s->state == SLOT_RUNNING)
            pthread_cond_wait(&w->job_done, &w->lock);
        if (s->state == SLOT_DONE)
            unlink(s->job.path);
        job_clear(&s->job);
        s->state = SLOT_FREE;
    }
    w->head = w->next_run = ran;
    w->count = 0;
    pthread_mutex_unlock(&w->lock);
}

const char *fer_frame_writer_failed_file(const struct fer_frame_writer *w)
{
    return w->has_failed_source ? w->failed_source : NULL;
}

void fer_frame_writer_free(struct fer_frame_writer *w)
{
    if (w == NULL)
        return;
    fer_frame_writer_abort(w);
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_broadcast(&w->work_ready);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->n_workers; i++)
        pthread_join(w->workers[i], NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->work_ready);
    pthread_cond_destroy(&w->job_done);
    for (size_t i = 0; i < w->cap; i++)
        job_clear(&w->slots[i].job);
    free(w->slots);
    free(w->workers);
    free(w);
}
