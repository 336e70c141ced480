#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double fer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void draw(const struct fer_progress *p, double now)
{
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    if (p->total > 0) {
        enum { WIDTH = 30 };
        double frac = (double)p->done / (double)p->total;
        if (frac > 1)
            frac = 1;
        char bar[WIDTH + 1];
        int filled = (int)(frac * WIDTH);
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[WIDTH] = '\0';
        double eta = rate > 0 ? (double)(p->total - (p->done < p->total ? p->done : p->total)) / rate : 0;
        fprintf(stderr, "\r%s [%s] %3.0f%% %llu/%llu %.1f/s eta %.0fs \033[K", p->label, bar,
                100 * frac, (unsigned long long)p->done, (unsigned long long)p->total, rate, eta);
    } else {
        fprintf(stderr, "\r%s %llu %.1f/s %.0fs \033[K", p->label, (unsigned long long)p->done,
                rate, elapsed);
    }
    fflush(stderr);
}

void fer_progress_begin(struct fer_progress *p, const char *label, uint64_t total, int quiet)
{
    p->label = label;
    p->total = total;
    p->done = 0;
    p->start = fer_now();
    p->last_draw = 0;
    p->enabled = !quiet && isatty(STDERR_FILENO);
}

void fer_progress_update(struct fer_progress *p, uint64_t done)
{
    p->done = done;
    if (!p->enabled)
        return;
    double now = fer_now();
    if (now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    draw(p, now);
}

void fer_progress_end(struct fer_progress *p)
{
    if (!p->enabled)
        return;
    draw(p, fer_now());
    fputc('\n', stderr);
    p->enabled = 0;
}
