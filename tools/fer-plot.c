/* fer-plot - PNG charts of fer-tools' TSV outputs.
 *
 *   fer-plot curve LOG.tsv -o curve.png       training curves
 *   fer-plot confusion CONFUSION.tsv -o cm.png
 *   fer-plot sheet FACES.tsv -o sheet.png     contact sheet of face crops
 *   fer-plot timeline PREDICTIONS.tsv -o t->png  expression over time per track
 *
 * The drawing is lib/plot; this file reads the TSVs. See man fer-plot.
 */
#include "cli.h"
#include "error.h"
#include "image.h"
#include "manifest.h"
#include "metrics.h"
#include "plot.h"
#include "timeline.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_X = FER_OPT_LONG, OPT_Y, OPT_MAX, OPT_TITLE, OPT_COLUMNS, OPT_TILE, OPT_WIDTH };

static const struct fer_option options[] = {
    {"output", 'o', "FILE", "write the PNG to FILE (required)"},
    {"title", OPT_TITLE, "TEXT", "a title over the chart"},
    {"x", OPT_X, "COLUMN", "curve: the x column (default step, else epoch)"},
    {"y", OPT_Y, "COLUMNS", "curve: comma-separated y columns, one panel each; a\n"
                            "val_NAME column joins NAME's panel (default loss,accuracy)"},
    {"max", OPT_MAX, "N", "sheet: at most N faces, spread evenly (default 48);\n"
                          "timeline: at most N tracks (default 6)"},
    {"columns", OPT_COLUMNS, "N", "sheet: faces per row (default 8)"},
    {"tile", OPT_TILE, "PX", "sheet: face size in pixels (default 96)"},
    {"width", OPT_WIDTH, "PX", "curve, timeline: chart width (default 720)"},
    {NULL, 0, NULL, NULL},
};

static const struct fer_cli cli = {
    .name = "fer-plot",
    .synopsis = "curve|confusion|sheet|timeline [OPTION]... FILE.tsv -o FILE.png",
    .summary = "Draw training curves, confusion matrices, contact sheets and timelines as PNG.",
    .options = options,
    .epilog = "FILE.tsv may be - for standard input. See man fer-plot.",
};

struct settings {
    const char *output, *title, *x, *y, *input;
    long max;
    int max_given, columns, tile, width;
};

/* A whole TSV in memory: charts need every row before the axes are known. */
struct table {
    struct fer_manifest *in;
    const char *name;
    size_t n_cols, n_rows, cap;
    char **cells; /* n_rows * n_cols owned strings */
};

/* Buffers stay reachable from here until exit, so that a fer_die deep in
 * a chart (a bad number on line 900) is not reported as a leak by
 * LeakSanitizer; they are freed normally on success. */
static void *live[64];

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (p == NULL)
        fer_die(NULL, "out of memory");
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i] == NULL) {
            live[i] = p;
            break;
        }
    return p;
}

static void xfree(void *p)
{
    for (size_t i = 0; p && i < sizeof live / sizeof live[0]; i++)
        if (live[i] == p)
            live[i] = NULL;
    free(p);
}

static struct table table; /* the one input, reachable for the same reason */

static void table_read(struct table *t, const char *path)
{
    t->in = fer_manifest_open(path);
    if (t->in == NULL)
        fer_die_error(strcmp(path, "-") == 0 ? "stdin" : path);
    t->name = fer_manifest_name(t->in);
    t->n_cols = fer_manifest_columns(t->in);
    char **f;
    int rc;
    while ((rc = fer_manifest_next(t->in, &f)) == 1) {
        if (t->n_rows == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 256;
            t->cells = realloc(t->cells, t->cap * t->n_cols * sizeof *t->cells);
            if (t->cells == NULL)
                fer_die(NULL, "out of memory");
        }
        for (size_t c = 0; c < t->n_cols; c++)
            if ((t->cells[t->n_rows * t->n_cols + c] = strdup(f[c])) == NULL)
                fer_die(NULL, "out of memory");
        t->n_rows++;
    }
    if (rc < 0)
        fer_die_error(t->name);
    if (t->n_rows == 0)
        fer_die(t->name, "no rows to plot");
}

static const char *cell(const struct table *t, size_t row, int col)
{
    return t->cells[row * t->n_cols + (size_t)col];
}

static int column(const struct table *t, const char *name)
{
    int c = fer_manifest_require(t->in, name);
    if (c < 0)
        fer_die_error(t->name);
    return c;
}

/* A number, or NaN for an empty field (a gap in the curve). */
static double number(const struct table *t, size_t row, int col)
{
    const char *s = cell(t, row, col);
    if (s[0] == '\0')
        return NAN;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE)
        fer_die(t->name, "line %zu: column '%s': not a number: '%s'", row + 2,
                fer_manifest_header(t->in)[col], s);
    return v;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    fer_manifest_close(t->in);
}

static void save(const struct settings *s, struct fer_image *im)
{
    int rc = fer_image_write(s->output, im, FER_IMAGE_PNG, -1);
    fer_image_free(im);
    if (rc != 0)
        fer_die_error(s->output);
}

enum { PANEL_H = 260, MAX_PANELS = 16 };



static double *column_values(const struct table *t, int col)
{
    double *v = xcalloc(t->n_rows, sizeof *v);
    for (size_t i = 0; i < t->n_rows; i++)
        v[i] = number(t, i, col);
    return v;
}

static void plot_curve(const struct settings *s)
{
    struct table *t = &table;
    table_read(t, s->input);
    const char *xname = s->x ? s->x : fer_manifest_find(t->in, "step") >= 0 ? "step" : "epoch";
    double *x = column_values(t, column(t, xname));
    const char *spec = s->y ? s->y : "loss,accuracy";
    char *ys = xcalloc(strlen(spec) + 1, 1), *save_ptr = NULL;
    memcpy(ys, spec, strlen(spec));
    const char *names[MAX_PANELS];
    int n = 0;
    for (char *tok = strtok_r(ys, ",", &save_ptr); tok; tok = strtok_r(NULL, ",", &save_ptr)) {
        if (n == MAX_PANELS)
            fer_usage_error("--y: at most %d columns", MAX_PANELS);
        names[n++] = tok;
    }
    if (n == 0)
        fer_usage_error("--y: no column named");
    struct fer_image im;
    if (fer_plot_canvas(&im, s->width, n * PANEL_H + (s->title ? 24 : 0), 0xffffff) != 0)
        fer_die_error(NULL);
    int top = 0;
    if (s->title) {
        fer_plot_text(&im, 12, 6, s->title, 2, 0x202020);
        top = 24;
    }
    for (int p = 0; p < n; p++) {
        /* NAME, and val_NAME beside it when the log has both. */
        char val[256];
        snprintf(val, sizeof val, "val_%s", names[p]);
        int cols[2] = {column(t, names[p]), fer_manifest_find(t->in, val)};
        struct fer_plot_series series[2];
        double *y[2] = {NULL, NULL}, *xs[2] = {NULL, NULL};
        int k = 0;
        for (int j = 0; j < 2; j++) {
            if (cols[j] < 0)
                continue;
            /* Rows where this column is empty are left out, not gaps: a
             * validation loss logged once an epoch is still one line. */
            y[j] = column_values(t, cols[j]);
            xs[j] = xcalloc(t->n_rows, sizeof *xs[j]);
            size_t m = 0;
            for (size_t i = 0; i < t->n_rows; i++)
                if (isfinite(x[i]) && isfinite(y[j][i])) {
                    xs[j][m] = x[i];
                    y[j][m++] = y[j][i];
                }
            series[k++] = (struct fer_plot_series){j ? val : names[p], xs[j], y[j], m,
                                                   fer_plot_color(2 * p + j)};
        }
        struct fer_plot_axes axes = {names[p], p == n - 1 ? xname : NULL, NAN, NAN,
                                     FER_PLOT_LEGEND_INSIDE};
        if (fer_plot_curves(&im, 0, top + p * PANEL_H, s->width, PANEL_H, series, (size_t)k,
                            &axes) != 0)
            fer_die(t->name, "column '%s': %s", names[p], fer_error());
        for (int j = 0; j < 2; j++) {
            xfree(y[j]);
            xfree(xs[j]);
        }
    }
    save(s, &im);
    xfree(ys);
    xfree(x);
    table_free(t);
}

static void plot_confusion(const struct settings *s)
{
    static struct fer_confusion c; /* static: reachable if we die */
    if (fer_confusion_read_tsv(s->input, &c) != 0)
        fer_die_error(strcmp(s->input, "-") == 0 ? "stdin" : s->input);
    struct fer_image im;
    if (fer_plot_confusion(&c, s->title, &im) != 0)
        fer_die_error(s->input);
    save(s, &im);
    fer_confusion_free(&c);
}

static void plot_sheet(const struct settings *s)
{
    struct table *t = &table;
    table_read(t, s->input);
    int col_crop = column(t, "crop");
    int col_track = fer_manifest_find(t->in, "track"), col_frame = fer_manifest_find(t->in, "frame");
    int col_clip = fer_manifest_find(t->in, "clip");
    size_t *rows = xcalloc(t->n_rows, sizeof *rows), n_faces = 0;
    for (size_t i = 0; i < t->n_rows; i++)
        if (cell(t, i, col_crop)[0] != '\0') /* frames without a face */
            rows[n_faces++] = i;
    if (n_faces == 0)
        fer_die(t->name, "no face crops (every 'crop' field is empty)");
    size_t max = (size_t)(s->max_given ? s->max : 48);
    size_t n = n_faces < max ? n_faces : max;
    struct fer_image *tiles = xcalloc(n, sizeof *tiles);
    char **caps = xcalloc(n, sizeof *caps);
    for (size_t k = 0; k < n; k++) {
        /* Evenly over the whole file, so a long video shows its course. */
        size_t i = rows[k * n_faces / n];
        char path[PATH_MAX];
        if (fer_manifest_resolve(t->in, cell(t, i, col_crop), path, sizeof path) != 0)
            fer_die(t->name, "line %zu: path too long", i + 2);
        if (fer_image_read(path, &tiles[k], 0) != 0)
            fer_die(path, "%s", fer_error());
        char cap[160];
        if (col_track >= 0 && col_frame >= 0)
            snprintf(cap, sizeof cap, "t%s f%s", cell(t, i, col_track), cell(t, i, col_frame));
        else
            snprintf(cap, sizeof cap, "%s", col_clip >= 0 ? cell(t, i, col_clip) : "");
        caps[k] = strdup(cap);
    }
    struct fer_image im;
    if (fer_plot_sheet(tiles, (const char *const *)caps, n, s->columns, s->tile, &im) != 0)
        fer_die_error(NULL);
    save(s, &im);
    for (size_t k = 0; k < n; k++) {
        fer_image_free(&tiles[k]);
        free(caps[k]);
    }
    xfree(tiles);
    xfree(caps);
    xfree(rows);
    table_free(t);
}

/* Timeline: one panel per (clip, track) in order of first appearance, one
 * line per prob_<class> column (the grouping is lib/timeline, shared with
 * fer-eval --timeline-png). */
static void plot_timeline(const struct settings *s)
{
    struct table *t = &table;
    table_read(t, s->input);
    const char *const *h = fer_manifest_header(t->in);
    int prob[FER_METRICS_MAX_CLASSES], n_prob = 0;
    const char *classes[FER_METRICS_MAX_CLASSES];
    for (size_t c = 0; c < t->n_cols && n_prob < FER_METRICS_MAX_CLASSES; c++)
        if (strncmp(h[c], "prob_", 5) == 0 && h[c][5] != '\0') {
            classes[n_prob] = h[c] + 5;
            prob[n_prob++] = (int)c;
        }
    if (n_prob == 0)
        fer_die(t->name, "no prob_<class> columns (write them with fer-eval --predictions)");
    static struct fer_timeline *tl; /* static: reachable if we die */
    tl = fer_timeline_new(h, t->n_cols, classes, n_prob, (size_t)(s->max_given ? s->max : 6));
    if (tl == NULL)
        fer_die_error(t->name);
    double probs[FER_METRICS_MAX_CLASSES];
    for (size_t i = 0; i < t->n_rows; i++) {
        const char *const *row = (const char *const *)&t->cells[i * t->n_cols];
        for (int c = 0; c < n_prob; c++)
            probs[c] = number(t, i, prob[c]); /* a row without a face: NaN, skipped */
        if (fer_timeline_add(tl, row, probs) < 0)
            fer_die(t->name, "line %zu: %s", i + 2, fer_error());
    }
    struct fer_image im;
    if (fer_timeline_plot(tl, s->title, s->width, &im) != 0)
        fer_die_error(t->name);
    save(s, &im);
    fer_timeline_free(tl);
    table_free(t);
}

int main(int argc, char **argv)
{
    fer_cli_init(&cli);
    struct settings s = {.columns = 8, .tile = 96, .width = 720};
    int c;
    while ((c = fer_cli_next(argc, argv)) != -1) {
        switch (c) {
        case 'o':
            s.output = optarg;
            break;
        case OPT_TITLE:
            s.title = optarg;
            break;
        case OPT_X:
            s.x = optarg;
            break;
        case OPT_Y:
            s.y = optarg;
            break;
        case OPT_MAX:
            s.max = fer_cli_long("--max", optarg, 1, 10000);
            s.max_given = 1;
            break;
        case OPT_COLUMNS:
            s.columns = (int)fer_cli_long("--columns", optarg, 1, 100);
            break;
        case OPT_TILE:
            s.tile = (int)fer_cli_long("--tile", optarg, 16, 512);
            break;
        case OPT_WIDTH:
            s.width = (int)fer_cli_long("--width", optarg, 320, 8000);
            break;
        }
    }
    if (argc - optind != 2)
        fer_usage_error("need a chart type and one input file");
    if (s.output == NULL)
        fer_usage_error("no output: give -o FILE.png");
    static const char *const kinds[] = {"curve", "confusion", "sheet", "timeline", NULL};
    int kind = fer_cli_choice("chart type", argv[optind], kinds);
    s.input = argv[optind + 1];
    switch (kind) {
    case 0:
        plot_curve(&s);
        break;
    case 1:
        plot_confusion(&s);
        break;
    case 2:
        plot_sheet(&s);
        break;
    default:
        plot_timeline(&s);
        break;
    }
    return FER_EXIT_OK;
}
