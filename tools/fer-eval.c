/* fer-eval - run a trained classifier on a manifest and score it.
 *
 * The model's metadata says how to feed it (input shape, channels,
 * normalization) and what its outputs mean (classes), so the test images
 * go through exactly the preprocessing fer-finetune used, without
 * augmentation. Labels, when the manifest has them, are compared with the
 * predictions; without labels fer-eval only predicts ("run on my video").
 */
#include "classifier.h"
#include "nn.h"
#include "cli.h"
#include "error.h"
#include "examples.h"
#include "image.h"
#include "labels.h"
#include "loader.h"
#include "manifest.h"
#include "atomic.h"
#include "metrics.h"
#include "plot.h"
#include "timeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_PREDICTIONS = FER_OPT_LONG,
    OPT_CONFUSION,
    OPT_CONFUSION_PNG,
    OPT_TIMELINE_PNG,
    OPT_BATCH
};

/* Panels of --timeline-png: as many as fer-plot timeline draws by default;
 * fer-plot timeline --max draws more from the predictions TSV. */
enum { TIMELINE_TRACKS = 6, TIMELINE_WIDTH = 720 };

static const struct fer_option options[] = {
    {"model", 'm', "FILE", "the classifier (fer-finetune's output; required)"},
    {"output", 'o', "FILE", "write the metrics TSV here instead of stdout"},
    {"predictions", OPT_PREDICTIONS, "FILE", "one row per input: its columns, the predicted\n"
                                             "label and prob_<class> per class ('-': stdout)"},
    {"confusion", OPT_CONFUSION, "FILE", "the confusion matrix as TSV (rows true)"},
    {"confusion-png", OPT_CONFUSION_PNG, "FILE", "the confusion matrix as a PNG heat-map"},
    {"timeline-png", OPT_TIMELINE_PNG, "FILE", "expression probabilities over time as a PNG,\n"
                                               "one panel per (clip, track); frame models only"},
    {"batch", OPT_BATCH, "N", "images per forward pass (default 64)"},
    {"threads", 'j', "N", "threads for OpenBLAS and the engine's own loops\n"
                             "(default: OpenBLAS's choice, the CPUs online)"},
    {"quiet", 'q', NULL, "no summary on stderr"},
    {NULL, 0, NULL, NULL},
};

static const struct fer_cli cli = {
    .name = "fer-eval",
    .synopsis = "-m MODEL [OPTION]... [TEST.tsv]",
    .summary = "Predict the expression of every face crop of a manifest and score the\n"
               "predictions against its labels.",
    .options = options,
    .epilog = "Without TEST.tsv, or with -, the manifest is read from standard input.\n"
              "The metrics TSV has the header 'metric value' (man 5 fer-metrics).",
};

struct settings {
    const char *model, *output, *predictions, *confusion, *confusion_png, *timeline_png, *input;
    int batch, threads, quiet;
};

static void parse_options(int argc, char **argv, struct settings *s)
{
    *s = (struct settings){.batch = 64};
    int c;
    while ((c = fer_cli_next(argc, argv)) != -1) {
        switch (c) {
        case 'm': s->model = optarg; break;
        case 'o': s->output = optarg; break;
        case OPT_PREDICTIONS: s->predictions = optarg; break;
        case OPT_CONFUSION: s->confusion = optarg; break;
        case OPT_CONFUSION_PNG: s->confusion_png = optarg; break;
        case OPT_TIMELINE_PNG: s->timeline_png = optarg; break;
        case OPT_BATCH: s->batch = (int)fer_cli_long("--batch", optarg, 1, 4096); break;
        case 'j': s->threads = (int)fer_cli_long("-j", optarg, 1, 256); break;
        case 'q': s->quiet = 1; break;
        }
    }
    if (s->model == NULL)
        fer_usage_error("-m MODEL is required");
    if (optind + 1 < argc)
        fer_usage_error("one test manifest at most (got %d)", argc - optind);
    s->input = optind < argc ? argv[optind] : "-";
}

static struct fer_classifier *load_model(const char *path, struct fer_preprocess *pre)
{
    static struct fer_weights w; /* static: reachable if we die */
    fer_weights_init(&w);
    if (fer_weights_read(path, &w) < 0)
        fer_die_error(path);
    if (fer_preprocess_get_meta(&w, pre) < 0)
        fer_die(path, "not a fer-finetune model: %s", fer_error());
    if (pre->task[0] != '\0' && strcmp(pre->task, "expression") != 0)
        fer_die(path, "a %s pretext model, not an expression classifier", pre->task);
    const char *head = pre->head[0] ? pre->head : "linear";
    static struct fer_classifier *c;
    c = fer_classifier_new(pre->arch, pre->channels, head, pre->n_classes, 0);
    if (c == NULL)
        fer_die_error(path);
    if (fer_classifier_import(c, &w) < 0)
        fer_die(path, "not a %s %s classifier of %d classes: %s", pre->arch, head,
                pre->n_classes, fer_error());
    fer_classifier_set_training(c, 0);
    fer_weights_free(&w);
    return c;
}

/* The class index of each example, -1 for unlabelled rows; dies on a label
 * the model does not know. */
static int *map_labels(const struct fer_examples *e, const struct fer_example_groups *g,
                       const struct fer_preprocess *pre, size_t *labelled)
{
    int *t = malloc((g->n ? g->n : 1) * sizeof *t);
    if (t == NULL)
        fer_die(NULL, "out of memory");
    char list[FER_CLASSES_MAX * (FER_CLASS_NAME_MAX + 1)] = "";
    for (int k = 0; k < pre->n_classes; k++)
        strcat(strcat(list, k ? "," : ""), pre->classes[k]);
    *labelled = 0;
    for (size_t i = 0; i < g->n; i++) {
        t[i] = -1;
        if (g->labels[i] < 0)
            continue;
        const char *name = fer_label_name(g->labels[i]);
        t[i] = fer_preprocess_class(pre, name);
        if (t[i] < 0)
            fer_die(e->name, "line %zu: label '%s' is not a class of the model (%s)",
                    e->lines[g->rows[g->start[i]]], name, list);
        (*labelled)++;
    }
    return t;
}

struct predictions {
    FILE *fp;
    struct fer_atomic atomic;
    struct fer_manifest_layout layout;
    struct fer_manifest_writer *w;
    char **extra;      /* "predicted", "prob_<class>"... */
    char (*values)[32];
};

static void predictions_open(struct predictions *p, const char *path,
                             const struct fer_examples *e, const struct fer_preprocess *pre,
                             int clips)
{
    int n = pre->n_classes + 1;
    p->extra = calloc((size_t)n, sizeof *p->extra);
    p->values = calloc((size_t)n, sizeof *p->values);
    if (p->extra == NULL || p->values == NULL)
        fer_die(NULL, "out of memory");
    p->extra[0] = strdup("predicted");
    for (int k = 0; k < pre->n_classes; k++) {
        char name[64];
        snprintf(name, sizeof name, "prob_%s", pre->classes[k]);
        p->extra[k + 1] = strdup(name);
    }
    if (strcmp(path, "-") == 0) {
        p->fp = stdout;
    } else {
        if (fer_atomic_open(&p->atomic, path) < 0)
            fer_die_error(path);
        p->fp = p->atomic.fp;
    }
    /* Clips: one row per clip, named by its clip and label. */
    static const char *const clip_columns[] = {"clip", "label"};
    const char *const *in = clips ? clip_columns : (const char *const *)e->header;
    size_t n_in = clips ? 2 : e->n_columns;
    if (fer_manifest_layout_init(&p->layout, in, n_in, (const char *const *)p->extra,
                                 (size_t)n) < 0 ||
        (p->w = fer_manifest_writer_new(p->fp, p->layout.columns, p->layout.n_out)) == NULL)
        fer_die_error(path);
}

/* Rows from *next up to (not including) `end` that have no face (frame
 * models only: their rows are written in manifest order): written with an
 * empty prediction, so the predictions keep one row per input frame. */
static void predictions_skip_to(struct predictions *p, const struct fer_examples *e,
                                size_t end, size_t *next, int n_classes, const char *path)
{
    const char *vals[FER_CLASSES_MAX + 1];
    for (int k = 0; k <= n_classes; k++)
        vals[k] = "";
    for (; *next < end; (*next)++)
        if (e->paths[*next] == NULL &&
            fer_manifest_write(p->w, fer_manifest_layout_row(&p->layout, e->rows[*next],
                                                             vals)) < 0)
            fer_die_error(path);
}

int main(int argc, char **argv)
{
    fer_cli_init(&cli);
    struct settings s;
    parse_options(argc, argv, &s);
    if (fer_nn_set_threads(s.threads) < 0)
        fer_die_error(NULL);
    struct fer_preprocess pre;
    struct fer_classifier *c = load_model(s.model, &pre);
    int clips = strcmp(pre.head, "fan") == 0, frames = clips ? pre.seq_len : 1;
    /* Checked before reading the input, which may be a pipe. */
    if (clips && s.timeline_png != NULL)
        fer_usage_error("--timeline-png: %s is a clip (fan) model: it predicts once per clip, "
                        "so there is no expression over time to draw",
                        s.model);
    struct fer_examples e;
    if (fer_examples_read(s.input, s.predictions != NULL || s.timeline_png != NULL, &e) < 0)
        fer_die_error(strcmp(s.input, "-") == 0 ? "stdin" : s.input);
    struct fer_example_groups g;
    if (fer_examples_group(&e, !clips, &g) < 0)
        fer_die_error(e.name);
    size_t labelled;
    int *truth = map_labels(&e, &g, &pre, &labelled);
    int scoring = labelled > 0;
    if (!scoring && s.predictions == NULL && s.timeline_png == NULL)
        fer_die(e.name, "no labelled rows: nothing to score (use --predictions to predict)");
    if (scoring && s.predictions && strcmp(s.predictions, "-") == 0 && s.output == NULL)
        fer_usage_error("--predictions - and the metrics would share stdout: add -o FILE");
    if (!scoring && (s.confusion || s.confusion_png || s.output))
        fer_die(e.name, "no labels: no metrics or confusion matrix to write");

    struct fer_confusion conf;
    const char *names[FER_CLASSES_MAX];
    for (int k = 0; k < pre.n_classes; k++)
        names[k] = pre.classes[k];
    if (fer_confusion_init(&conf, pre.n_classes, names) < 0)
        fer_die_error(s.model);
    struct predictions p = {0};
    if (s.predictions != NULL)
        predictions_open(&p, s.predictions, &e, &pre, clips);
    static struct fer_timeline *timeline; /* static: reachable if we die */
    if (s.timeline_png != NULL &&
        (timeline = fer_timeline_new((const char *const *)e.header, e.n_columns, names,
                                     pre.n_classes, TIMELINE_TRACKS)) == NULL)
        fer_die(e.name, "--timeline-png: %s", fer_error());

    struct fer_loader_spec ls = {.channels = pre.channels, .height = pre.height,
                                 .width = pre.width, .inputs = frames, .batch = s.batch,
                                 .prefetch = 1};
    int *targets = malloc((g.n ? g.n : 1) * sizeof *targets);
    const char **paths = malloc((g.n ? g.n : 1) * (size_t)frames * sizeof *paths);
    size_t pick[256];
    struct fer_loader *loader = fer_loader_new(&ls);
    struct fer_arena *arena = fer_arena_new(0);
    if (targets == NULL || paths == NULL || loader == NULL || arena == NULL)
        fer_die_error(NULL);
    for (size_t i = 0; i < g.n; i++) {
        targets[i] = truth[i] < 0 ? 0 : truth[i];
        /* The middle frame of each segment: what fer-finetune validates on. */
        fer_examples_sample(g.start[i + 1] - g.start[i], frames, NULL, pick);
        for (int t = 0; t < frames; t++)
            paths[i * (size_t)frames + (size_t)t] = e.paths[g.rows[g.start[i] + pick[t]]];
    }
    if (fer_loader_start(loader, g.n, paths, targets, NULL, 0, 0) < 0)
        fer_die_error(e.name);
    free(paths);
    struct fer_batch b;
    int rc, K = pre.n_classes;
    size_t done = 0, next_row = 0;
    while ((rc = fer_loader_next(loader, &b)) == 1) {
        struct fer_tensor logits;
        fer_arena_reset(arena);
        if (fer_tensor_arena(&logits, arena, 2, (int[]){b.count, K}) < 0 ||
            fer_classifier_forward(c, &b.x, frames, &logits, arena) < 0)
            fer_die_error(s.model);
        for (int i = 0; i < b.count; i++, done++) {
            const float *z = logits.data + (size_t)i * K;
            int best = 0;
            for (int k = 1; k < K; k++)
                if (z[k] > z[best])
                    best = k;
            if (truth[done] >= 0 && fer_confusion_add(&conf, truth[done], best) < 0)
                fer_die_error(NULL);
            if (p.w == NULL && timeline == NULL)
                continue;
            double sum = 0, prob[FER_CLASSES_MAX];
            for (int k = 0; k < K; k++)
                sum += exp((double)z[k] - z[best]);
            for (int k = 0; k < K; k++)
                prob[k] = exp((double)z[k] - z[best]) / sum;
            size_t row = g.rows[g.start[done]];
            if (timeline != NULL &&
                fer_timeline_add(timeline, (const char *const *)e.rows[row], prob) < 0)
                fer_die(e.name, "line %zu: %s", e.lines[row], fer_error());
            if (p.w == NULL)
                continue;
            snprintf(p.values[0], sizeof p.values[0], "%s", pre.classes[best]);
            for (int k = 0; k < K; k++)
                snprintf(p.values[k + 1], sizeof p.values[0], "%.6f", prob[k]);
            const char *vals[FER_CLASSES_MAX + 1];
            for (int k = 0; k <= K; k++)
                vals[k] = p.values[k];
            char *clip_fields[2] = {clips ? e.clips[row] : NULL,
                                    (char *)(truth[done] >= 0 ? pre.classes[truth[done]] : "")};
            char *const *in = clips ? clip_fields : e.rows[row];
            if (!clips)
                predictions_skip_to(&p, &e, row, &next_row, K, s.predictions);
            next_row = row + 1;
            if (fer_manifest_write(p.w, fer_manifest_layout_row(&p.layout, in, vals)) < 0)
                fer_die_error(s.predictions);
        }
    }
    if (rc < 0)
        fer_die_error(e.name);
    if (p.w != NULL && !clips)
        predictions_skip_to(&p, &e, e.n, &next_row, K, s.predictions);
    if (timeline != NULL) {
        struct fer_image im;
        if (fer_timeline_plot(timeline, s.model, TIMELINE_WIDTH, &im) < 0)
            fer_die(e.name, "--timeline-png: %s", fer_error());
        if (fer_image_write(s.timeline_png, &im, FER_IMAGE_PNG, -1) < 0)
            fer_die_error(s.timeline_png);
        fer_image_free(&im);
        if (fer_timeline_dropped(timeline) > 0)
            fer_warn(s.timeline_png,
                     "only the first %d tracks drawn, %zu rows of later ones left out "
                     "(fer-plot timeline --max draws more from --predictions)",
                     TIMELINE_TRACKS, fer_timeline_dropped(timeline));
        fer_timeline_free(timeline);
    }

    if (scoring) {
        FILE *out = stdout;
        struct fer_atomic a = {0};
        if (s.output != NULL) {
            if (fer_atomic_open(&a, s.output) < 0)
                fer_die_error(s.output);
            out = a.fp;
        }
        if (fer_metrics_write_tsv(out, &conf) < 0)
            fer_die_error(s.output ? s.output : "stdout");
        if (s.output != NULL && fer_atomic_commit(&a, 0) < 0)
            fer_die_error(s.output);
        if (s.confusion != NULL) {
            struct fer_atomic ca = {0};
            if (fer_atomic_open(&ca, s.confusion) < 0 || fer_confusion_write_tsv(ca.fp, &conf) < 0 ||
                fer_atomic_commit(&ca, 0) < 0)
                fer_die_error(s.confusion);
        }
        if (s.confusion_png != NULL) {
            struct fer_image im;
            if (fer_plot_confusion(&conf, s.model, &im) < 0 ||
                fer_image_write(s.confusion_png, &im, FER_IMAGE_PNG, -1) < 0)
                fer_die_error(s.confusion_png);
            fer_image_free(&im);
        }
    }
    if (p.w != NULL) {
        if (fer_manifest_writer_close(p.w) < 0)
            fer_die_error(s.predictions);
        if (p.fp != stdout && fer_atomic_commit(&p.atomic, 0) < 0)
            fer_die_error(s.predictions);
        else if (p.fp == stdout && fflush(stdout) != 0)
            fer_die(s.predictions, "write error");
        fer_manifest_layout_free(&p.layout);
        for (int k = 0; k <= K; k++)
            free(p.extra[k]);
        free(p.extra);
        free(p.values);
    }
    if (!s.quiet && scoring) {
        struct fer_metrics m;
        if (fer_metrics_compute(&conf, &m) == 0)
            fprintf(stderr, "%s: %zu %s, %zu labelled: accuracy %.4f, average accuracy %.4f\n",
                    cli.name, g.n, clips ? "clips" : "images", labelled, m.overall_accuracy,
                    m.average_accuracy);
    }
    fer_confusion_free(&conf);
    fer_loader_free(loader);
    fer_arena_free(arena);
    free(targets);
    free(truth);
    fer_example_groups_free(&g);
    fer_examples_free(&e);
    fer_classifier_free(c);
    return FER_EXIT_OK;
}
