/* frame_writer.h - write frames as image files on a pool of threads, in order.
 *
 * Encoding (PNG above all) costs more than decoding a video frame, so the
 * decode loop hands each kept frame to a small pool of worker threads that
 * read (for image inputs), convert (grey), resize and write it (image.h,
 * atomically). Results are reported back in submission order, whatever
 * order the workers finish in, so the manifest is the same for any thread
 * count. At most 2 x threads frames are in flight, so memory stays flat.
 *
 * With threads <= 1 there is no pool: each job runs inside submit, in the
 * calling thread.
 */
#ifndef FER_FRAME_WRITER_H
#define FER_FRAME_WRITER_H

#include "image.h"

#include <stdint.h>

struct fer_frame_job {
    /* The source: `image` (its data taken over by submit) or, when
     * image.data is NULL, the file `source` read by the worker. */
    struct fer_image image;
    char *source;    /* owned copy; NULL with an image */
    char *path;      /* output file, owned copy */
    /* What the caller wants back in `done` (not interpreted). */
    int64_t frame;
    double seconds;
    /* Filled by the worker: the written image's size. */
    int width, height;
};

struct fer_frame_writer_options {
    int threads;
    enum fer_image_format format;
    int quality;               /* as fer_image_write */
    int grey;                  /* write 1-channel images */
    int width, height;         /* > 0: resize to exactly this */
    int max_side;              /* > 0: shrink so the longer side is at most this */
};

/* Called in the submitting thread for each finished job, in submission
 * order. Returns 0, or -1 with fer_error() set to stop everything. */
typedef int (*fer_frame_done_fn)(void *user, const struct fer_frame_job *job);

struct fer_frame_writer;

/* Returns NULL with fer_error() set (threads cannot be started). */
struct fer_frame_writer *fer_frame_writer_new(const struct fer_frame_writer_options *options,
                                              fer_frame_done_fn done, void *user);

/* Queue a frame: `image` (its data is taken; image->data is NULL after) or,
 * if image is NULL, the image file `source`; written to `path`. May block
 * while the queue is full, and calls `done` for the jobs finished by then.
 * Returns 0, or -1 with fer_error() set when a job failed or `done` failed;
 * the writer is then failed: call fer_frame_writer_abort. */
int fer_frame_writer_submit(struct fer_frame_writer *w, struct fer_image *image,
                            const char *source, const char *path, int64_t frame,
                            double seconds);

/* Wait for every queued job and report them. Returns 0 or -1 as submit. */
int fer_frame_writer_flush(struct fer_frame_writer *w);

/* After a failure: wait for running jobs, drop the queued ones, and remove
 * the files of jobs that were written but not yet reported through `done`,
 * so that nothing unreported is left on disk. */
void fer_frame_writer_abort(struct fer_frame_writer *w);

/* The file to name in the message for the last failed job: its source when
 * reading failed, its output path when converting or writing failed; NULL
 * when no job failed. Valid until the next submit. */
const char *fer_frame_writer_failed_file(const struct fer_frame_writer *w);

/* Stop the threads and free. Jobs still queued are dropped as by abort. */
void fer_frame_writer_free(struct fer_frame_writer *w);

/* The transform a job goes through, exposed for reuse and tests: grey,
 * then resize, as the options say. src may be replaced by the result. */
int fer_frame_writer_transform(const struct fer_frame_writer_options *options,
                               struct fer_image *image);

#endif
