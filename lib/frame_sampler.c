#include "frame_sampler.h"

#include <libavutil/mathematics.h>

void fer_frame_sampler_init(struct fer_frame_sampler *s, int64_t rate_num, int64_t rate_den,
                            int64_t tb_num, int64_t tb_den, double start, double end,
                            int64_t every)
{
    *s = (struct fer_frame_sampler){0};
    s->rate_num = rate_num;
    s->rate_den = rate_den;
    s->tb_num = tb_num;
    s->tb_den = tb_den;
    s->start = start;
    s->end = end;
    s->every = every < 1 ? 1 : every;
}

static int rate_on(const struct fer_frame_sampler *s)
{
    return s->rate_num > 0 && s->rate_den > 0;
}

/* The fps filter's av_rescale_q_rnd(pts, time_base, 1/rate, AV_ROUND_NEAR_INF). */
static int64_t tick_of(const struct fer_frame_sampler *s, int64_t pts)
{
    return av_rescale_rnd(pts, s->tb_num * s->rate_num, s->tb_den * s->rate_den,
                          AV_ROUND_NEAR_INF);
}

static double seconds_of(const struct fer_frame_sampler *s, int64_t pts)
{
    return (double)pts * (double)s->tb_num / (double)s->tb_den;
}

/* The held frame's fate now that the next tick-rounded time `until` is
 * known: the fps filter gives it every tick in [next_tick, until). */
static int release_held(struct fer_frame_sampler *s, int have_until, int64_t until)
{
    if (!s->holding)
        return 0;
    s->holding = 0;
    int taken = 1;
    if (rate_on(s)) {
        taken = have_until && until > s->next_tick;
        if (taken)
            s->next_tick = until;
    }
    if (!taken)
        return 0;
    return s->passed++ % s->every == 0;
}

int fer_frame_sampler_push(struct fer_frame_sampler *s, int64_t pts)
{
    if (s->ended)
        return FER_SAMPLER_STOP;
    double t = seconds_of(s, pts);
    if (t < s->start)
        return 0;
    int64_t tick = rate_on(s) ? tick_of(s, pts) : 0;
    int flags = 0;
    if (t >= s->end) {
        s->ended = 1;
        if (release_held(s, 1, tick))
            flags |= FER_SAMPLER_KEEP_HELD;
        return flags | FER_SAMPLER_STOP;
    }
    if (!s->started) { /* the grid starts at the first frame of the window */
        s->started = 1;
        s->next_tick = tick;
    }
    if (release_held(s, 1, tick))
        flags |= FER_SAMPLER_KEEP_HELD;
    s->holding = 1;
    s->held_tick = tick;
    return flags | FER_SAMPLER_HOLD;
}

int fer_frame_sampler_finish(struct fer_frame_sampler *s, int64_t end_pts)
{
    if (s->ended)
        return 0;
    s->ended = 1;
    return release_held(s, 1, rate_on(s) ? tick_of(s, end_pts) : 0);
}
