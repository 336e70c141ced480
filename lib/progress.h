/* progress.h - a progress line on stderr, only when stderr is a terminal.
 *
 * Pipelines and logs stay clean: when stderr is a file or a pipe, or the
 * user asked for quiet, nothing is drawn. Redraws are limited to ten a
 * second so that a fast loop does not spend its time printing.
 */
#ifndef FER_PROGRESS_H
#define FER_PROGRESS_H

#include <stdint.h>

struct fer_progress {
    const char *label;
    uint64_t total; /* 0 when unknown: a counter is shown instead of a bar */
    uint64_t done;
    double start, last_draw;
    int enabled;
};

void fer_progress_begin(struct fer_progress *p, const char *label, uint64_t total, int quiet);
/* Set the amount done so far (not an increment). */
void fer_progress_update(struct fer_progress *p, uint64_t done);
/* Draw the final state and end the line. */
void fer_progress_end(struct fer_progress *p);

/* Seconds on a monotonic clock, for timing loops and logs. */
double fer_now(void);

#endif
