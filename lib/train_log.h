/* train_log.h - the training log of fer-pretrain and fer-finetune.
 *
 * A TSV file with the header
 *   epoch step loss accuracy lr seconds [extra columns...]
 * and one row per logged point, written line by line and flushed, so a
 * plot or `tail -f` sees every row as soon as it is logged and a killed run
 * leaves every completed row behind. `step` counts optimizer steps from the
 * start of the run and increases from row to row; `seconds` is the
 * training time so far (the caller's clock, continued across --resume).
 * Numbers are written with %.6g; a NaN value (e.g. a validation loss on a
 * row without validation) is written as an empty field.
 *
 * --resume: the log is reopened in append mode after the rows with a step
 * beyond the checkpoint's step are cut off (they belong to the part of the
 * killed run that the resumed run repeats), so the resumed log equals the
 * log of an uninterrupted run except for the seconds column.
 */
#ifndef FER_TRAIN_LOG_H
#define FER_TRAIN_LOG_H

#include <stdint.h>

struct fer_train_log;

/* Open the log at path with n_extra extra column names (copied) after the
 * six standard ones. resume_step < 0: create or truncate the file and write
 * the header. resume_step >= 0: an existing file must have exactly this
 * header; its rows with step > resume_step (and an incomplete last line)
 * are removed and new rows are appended; a missing file is created.
 * Returns the log, or NULL with fer_error() set ("cannot open 'run.tsv':
 * ...", "log 'run.tsv' has columns ..., expected ..."). */
struct fer_train_log *fer_train_log_open(const char *path, const char *const *extra,
                                         int n_extra, int64_t resume_step);

/* Append one row and flush it. extra: n_extra values (NULL: all empty).
 * Returns 0, or -1 with fer_error() set (a write error such as a full disk). */
int fer_train_log_write(struct fer_train_log *l, int epoch, int64_t step, double loss,
                        double accuracy, double lr, double seconds, const double *extra);

/* Close the file and free l (NULL is fine). Returns 0, or -1 with fer_error()
 * set when the final close reports a write error. */
int fer_train_log_close(struct fer_train_log *l);

#endif
