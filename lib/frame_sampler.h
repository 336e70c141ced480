/* frame_sampler.h - which decoded frames fer-extract keeps.
 *
 * Three filters, applied in this order to the frames of one clip:
 *
 *  1. time window: a frame is in when start <= pts < end (seconds). The
 *     first frame at or past `end` ends the clip.
 *  2. rate (-r FPS): the frames ffmpeg's fps filter (`-vf fps=FPS`, its
 *     defaults: round=near, eof_action=round) would emit. Each frame's pts is
 *     rounded to the nearest tick of a 1/FPS grid (ties away from zero); the
 *     grid starts at the first frame of the window; each tick takes the
 *     latest frame whose rounded pts is at or before it; frames that no tick
 *     takes are dropped. When the input is slower than FPS, ffmpeg repeats a
 *     frame on several ticks; we keep it once (an identical image with the
 *     same timestamp is no new training data), so the kept frames are the
 *     distinct frames ffmpeg emits.
 *  3. every N (--every N): of the frames left, the 1st, (N+1)th, ...
 *
 * Deciding whether a frame is taken by a tick needs the next frame's pts
 * (or the end of the stream), so the caller holds one frame back: it
 * pushes each new frame and learns whether the frame held before it is
 * kept. Timestamps are integers in the stream's time base, so the rounding
 * is exact (no floating point).
 */
#ifndef FER_FRAME_SAMPLER_H
#define FER_FRAME_SAMPLER_H

#include <stdint.h>

struct fer_frame_sampler {
    /* settings (fer_frame_sampler_init) */
    int64_t rate_num, rate_den; /* 0/0: no rate filter */
    int64_t tb_num, tb_den;     /* stream time base */
    double start, end;          /* seconds; end = INFINITY for none */
    int64_t every;              /* >= 1 */
    /* state */
    int started;       /* a frame of the window was seen: next_tick is set */
    int holding;       /* a frame is held back */
    int64_t held_tick; /* its pts rounded to the rate grid */
    int64_t next_tick; /* first tick not yet given to a frame */
    int64_t passed;    /* frames that passed window and rate */
    int ended;
};

enum {
    FER_SAMPLER_KEEP_HELD = 1, /* output the frame held back so far */
    FER_SAMPLER_HOLD = 2,      /* hold the new frame back (replacing the old one) */
    FER_SAMPLER_STOP = 4,      /* the new frame is past the window: stop decoding */
};

/* rate_num/rate_den frames per second (both 0: keep every frame of the
 * window); tb_num/tb_den the stream time base; every >= 1. */
void fer_frame_sampler_init(struct fer_frame_sampler *s, int64_t rate_num, int64_t rate_den,
                            int64_t tb_num, int64_t tb_den, double start, double end,
                            int64_t every);

/* Offer the next decoded frame, its pts in time-base units. Returns a set of
 * FER_SAMPLER_* flags: first act on KEEP_HELD (about the frame held before),
 * then HOLD or STOP (about this one). After STOP, nothing is held. */
int fer_frame_sampler_push(struct fer_frame_sampler *s, int64_t pts);

/* The stream ended; end_pts is the pts of the end of the last frame (last
 * pts + its duration; the last pts if the duration is unknown). Returns 1
 * if the held frame is to be output. */
int fer_frame_sampler_finish(struct fer_frame_sampler *s, int64_t end_pts);

#endif
