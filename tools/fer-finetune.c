/* fer-finetune - train an expression classifier on labelled face crops.
 *
 * main reads like the recipe: read the manifests, build the classifier
 * (optionally from a pretrained backbone), then for each epoch shuffle,
 * train, validate, log and checkpoint; finally write the selected epoch's
 * weights with the metadata fer-eval needs. See man 1 fer-finetune.
 *
 * Reproducibility: all randomness of epoch e comes from (seed, e) (the
 * order from fer_rng_seed_stream, the augmentation from the loader's stream
 * e), so a run resumed from a checkpoint replays the epoch's order, skips
 * the batches already done and ends with the same bytes.
 */
#include "checkpoint.h"
#include "classifier.h"
#include "nn.h"
#include "cli.h"
#include "error.h"
#include "examples.h"
#include "labels.h"
#include "loader.h"
#include "nn_loss.h"
#include "progress.h"
#include "rng.h"
#include "train_log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_INIT = FER_OPT_LONG, OPT_ARCH, OPT_HEAD, OPT_IAL, OPT_VAL, OPT_FREEZE,
    OPT_CLASS_WEIGHTS, OPT_SMOOTHING, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_OPTIMIZER,
    OPT_SCHEDULE, OPT_WARMUP, OPT_WD, OPT_SIZE, OPT_CHANNELS, OPT_SEED, OPT_CKPT,
    OPT_CKPT_EVERY, OPT_RESUME, OPT_LOG, OPT_CLASSES, OPT_MOMENTUM, OPT_NO_AUGMENT,
    OPT_CLIP, OPT_FRAMES, OPT_IAL_TEMPERATURE, OPT_IAL_WEIGHT,
};

static const struct fer_option options[] = {
    {"output", 'o', "FILE", "write the trained model here (required)"},
    {"init", OPT_INIT, "FILE", "copy the backbone from this weight file (fer-pretrain)"},
    {"arch", OPT_ARCH, "ARCH", "cnn-s (default) or resnet18"},
    {"head", OPT_HEAD, "HEAD", "linear (default; single images) or fan (frame attention\n"
                               "over the clips of the `clip` column)"},
    {"frames", OPT_FRAMES, "N", "fan: frames per clip, one from each of N equal\n"
                                "segments (default 3)"},
    {"ial", OPT_IAL, NULL, "add RMFER's inter-sample attention loss (training only;\n"
                           "linear head)"},
    {"ial-temperature", OPT_IAL_TEMPERATURE, "T", "IAL softmax temperature (default 0.25)"},
    {"ial-weight", OPT_IAL_WEIGHT, "X", "IAL loss weight lambda1 (default 1)"},
    {"val", OPT_VAL, "FILE", "validation manifest: keep the epoch with the best accuracy"},
    {"freeze", OPT_FREEZE, NULL, "train the head only (linear probe)"},
    {"classes", OPT_CLASSES, "LIST", "class names in output order (default: the training\n"
                                     "labels in canonical order)"},
    {"class-weights", OPT_CLASS_WEIGHTS, "W", "none (default) or auto: weight classes by\n"
                                              "n / (K n_k)"},
    {"label-smoothing", OPT_SMOOTHING, "E", "label smoothing (default 0.1; 0 with class weights)"},
    {"epochs", OPT_EPOCHS, "N", "passes over the training set (default 30)"},
    {"batch", OPT_BATCH, "N", "examples per step (default 64)"},
    {"lr", OPT_LR, "X", "peak learning rate (default 0.01 sgd, 0.001 adamw)"},
    {"optimizer", OPT_OPTIMIZER, "NAME", "sgd (default; Nesterov momentum) or adamw"},
    {"momentum", OPT_MOMENTUM, "X", "SGD momentum (default 0.9)"},
    {"weight-decay", OPT_WD, "X", "default 5e-4 sgd, 0.05 adamw"},
    {"schedule", OPT_SCHEDULE, "NAME", "cosine (default) or step (x0.1 at 1/2 and 3/4)"},
    {"warmup", OPT_WARMUP, "N", "linear warm-up epochs (default 1)"},
    {"clip", OPT_CLIP, "X", "clip the gradient norm to X (default 0: off)"},
    {"no-augment", OPT_NO_AUGMENT, NULL, "train on the images as they are"},
    {"size", OPT_SIZE, "N", "input side in pixels (default: --init's, else 48 cnn-s,\n"
                            "112 resnet18)"},
    {"channels", OPT_CHANNELS, "N", "1 or 3 (default: --init's, else 1 cnn-s, 3 resnet18)"},
    {"seed", OPT_SEED, "N", "seed of initialisation, order and augmentation (default 1)"},
    {"threads", 'j', "N", "threads for OpenBLAS and the engine's own loops\n"
                             "(default: OpenBLAS's choice, the CPUs online)"},
    {"checkpoint", OPT_CKPT, "FILE", "checkpoint file (default OUTPUT.ckpt)"},
    {"checkpoint-every", OPT_CKPT_EVERY, "N", "also checkpoint every N steps (default 0:\n"
                                              "at the end of each epoch only)"},
    {"resume", OPT_RESUME, NULL, "continue from the checkpoint if there is one"},
    {"log", OPT_LOG, "FILE", "training log TSV, one row per epoch"},
    {"quiet", 'q', NULL, "no progress line and no summary"},
    {NULL, 0, NULL, NULL},
};

static const struct fer_cli cli = {
    .name = "fer-finetune",
    .synopsis = "[OPTION]... -o MODEL TRAIN.tsv",
    .summary = "Train an expression classifier on the labelled face crops of a manifest.",
    .options = options,
    .epilog = "The test set is never used: with --val the epoch of best validation\n"
              "accuracy is kept, else the last. See man 1 fer-finetune.",
};

struct settings {
    const char *output, *init, *arch, *head, *val, *train, *classes, *ckpt, *log;
    int freeze, class_weights, epochs, batch, optimizer, schedule, warmup, size, channels;
    int threads, ckpt_every, resume, quiet, augment, frames, ial;
    double smoothing, lr, wd, momentum, clip, ial_temperature, ial_weight;
    uint64_t seed;
    char options[4096]; /* as given, minus --resume: recorded in the output */
};

static void record_options(struct settings *s, int argc, char **argv)
{
    s->options[0] = '\0';
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--resume") == 0)
            continue;
        size_t len = strlen(s->options);
        snprintf(s->options + len, sizeof s->options - len, "%s%s", len ? " " : "", argv[i]);
    }
}

static void parse_options(int argc, char **argv, struct settings *s)
{
    static const char *const archs[] = {"cnn-s", "resnet18", NULL};
    static const char *const heads[] = {"linear", "fan", NULL};
    static const char *const optims[] = {"sgd", "adamw", NULL};
    static const char *const schedules[] = {"cosine", "step", NULL};
    static const char *const weights[] = {"none", "auto", NULL};
    *s = (struct settings){.arch = "cnn-s", .head = "linear", .smoothing = -1, .epochs = 30,
                           .batch = 64, .lr = -1, .wd = -1, .momentum = 0.9, .warmup = 1,
                           .seed = 1, .augment = 1, .frames = 3, .ial_temperature = -1,
                           .ial_weight = -1};
    record_options(s, argc, argv);
    int c;
    while ((c = fer_cli_next(argc, argv)) != -1) {
        switch (c) {
        case 'o': s->output = optarg; break;
        case OPT_INIT: s->init = optarg; break;
        case OPT_ARCH: s->arch = archs[fer_cli_choice("--arch", optarg, archs)]; break;
        case OPT_HEAD: s->head = heads[fer_cli_choice("--head", optarg, heads)]; break;
        case OPT_IAL: s->ial = 1; break;
        case OPT_IAL_TEMPERATURE:
            s->ial_temperature = fer_cli_double("--ial-temperature", optarg, 1e-3, 100);
            break;
        case OPT_IAL_WEIGHT: s->ial_weight = fer_cli_double("--ial-weight", optarg, 0, 1000); break;
        case OPT_VAL: s->val = optarg; break;
        case OPT_FREEZE: s->freeze = 1; break;
        case OPT_CLASSES: s->classes = optarg; break;
        case OPT_CLASS_WEIGHTS:
            s->class_weights = fer_cli_choice("--class-weights", optarg, weights);
            break;
        case OPT_SMOOTHING: s->smoothing = fer_cli_double("--label-smoothing", optarg, 0, 1); break;
        case OPT_EPOCHS: s->epochs = (int)fer_cli_long("--epochs", optarg, 1, 100000); break;
        case OPT_BATCH: s->batch = (int)fer_cli_long("--batch", optarg, 2, 4096); break;
        case OPT_LR: s->lr = fer_cli_double("--lr", optarg, 0, 100); break;
        case OPT_OPTIMIZER: s->optimizer = fer_cli_choice("--optimizer", optarg, optims); break;
        case OPT_MOMENTUM: s->momentum = fer_cli_double("--momentum", optarg, 0, 0.999); break;
        case OPT_WD: s->wd = fer_cli_double("--weight-decay", optarg, 0, 10); break;
        case OPT_SCHEDULE: s->schedule = fer_cli_choice("--schedule", optarg, schedules); break;
        case OPT_WARMUP: s->warmup = (int)fer_cli_long("--warmup", optarg, 0, 100000); break;
        case OPT_CLIP: s->clip = fer_cli_double("--clip", optarg, 0, 1e9); break;
        case OPT_NO_AUGMENT: s->augment = 0; break;
        case OPT_FRAMES: s->frames = (int)fer_cli_long("--frames", optarg, 1, 64); break;
        case OPT_SIZE: s->size = (int)fer_cli_long("--size", optarg, 8, 1024); break;
        case OPT_CHANNELS: s->channels = (int)fer_cli_long("--channels", optarg, 1, 3); break;
        case OPT_SEED:
            s->seed = (uint64_t)fer_cli_long("--seed", optarg, 0, 0x7fffffffffffffffL);
            break;
        case 'j': s->threads = (int)fer_cli_long("-j", optarg, 1, 256); break;
        case OPT_CKPT: s->ckpt = optarg; break;
        case OPT_CKPT_EVERY:
            s->ckpt_every = (int)fer_cli_long("--checkpoint-every", optarg, 0, 1000000000);
            break;
        case OPT_RESUME: s->resume = 1; break;
        case OPT_LOG: s->log = optarg; break;
        case 'q': s->quiet = 1; break;
        }
    }
    if (s->output == NULL)
        fer_usage_error("-o MODEL is required");
    if (optind + 1 != argc)
        fer_usage_error("one training manifest expected (got %d)", argc - optind);
    s->train = argv[optind];
    if (s->channels == 2)
        fer_usage_error("--channels: 1 or 3");
    if (!s->ial && (s->ial_temperature >= 0 || s->ial_weight >= 0))
        fer_usage_error("--ial-temperature and --ial-weight need --ial");
    if (s->ial && strcmp(s->head, "linear") != 0)
        fer_usage_error("--ial: inter-sample attention works with --head linear only");
    if (s->ial && s->freeze)
        fer_usage_error("--ial with --freeze: the IAL branch shares only the backbone, "
                        "which --freeze keeps fixed");
    /* RMFER's model code: scale (its temperature) 0.25; lambda1 = 1 weighs
     * both cross-entropies equally, as L = L_FER + lambda1 L_IAL reads. */
    if (s->ial_temperature < 0)
        s->ial_temperature = 0.25;
    if (s->ial_weight < 0)
        s->ial_weight = 1.0;
    /* PyTorch's weighted label smoothing gives every example e/K * w_k of
     * each class k, so under a 20:1 imbalance the rare class's weight pulls
     * every common-class example to about 50/50 (measured on the demo: all
     * test faces predicted as the rare class). Weights or smoothing, not
     * both, unless asked for. */
    if (s->smoothing < 0)
        s->smoothing = s->class_weights ? 0 : 0.1;
    if (s->lr < 0)
        s->lr = s->optimizer == 0 ? 0.01 : 0.001;
    if (s->wd < 0)
        s->wd = s->optimizer == 0 ? 5e-4 : 0.05;
}

/* A manifest's labelled examples: single rows, or clips for the fan head. */
struct set {
    struct fer_examples e;
    struct fer_example_groups g;
    size_t n;      /* labelled examples */
    size_t *group; /* their group indices */
    int *target;   /* their class indices */
};

/* Everything the run holds. */
struct run {
    struct settings *s;
    struct set train, val;
    int frames;                     /* images per example: 1, or --frames for fan */
    struct fer_preprocess pre;
    float class_weight[FER_CLASSES_MAX];
    struct fer_classifier *c;
    const struct fer_param *params;
    int n_params;
    struct fer_optim *optim;
    struct fer_loader *loader;
    struct fer_arena *arena;
    struct fer_lr_schedule sched;
    int steps_per_epoch;
    char ckpt_path[4096];
    /* Position and per-epoch sums, all in the checkpoint. */
    struct fer_train_position pos;
    double epoch_loss;
    int64_t epoch_correct, epoch_seen;
    double best_accuracy;
    int best_epoch;           /* 0-based; -1: none yet */
    struct fer_weights best;  /* the best epoch's classifier tensors */
};

/* Group the rows (clips for fan, else one row per example) and map the
 * labels to class indices; unlabelled examples are left out. */
static void set_build(const struct run *r, struct set *st, const char *file)
{
    if (fer_examples_group(&st->e, r->frames == 1, &st->g) < 0)
        fer_die_error(file);
    st->group = malloc((st->g.n ? st->g.n : 1) * sizeof *st->group);
    st->target = malloc((st->g.n ? st->g.n : 1) * sizeof *st->target);
    if (st->group == NULL || st->target == NULL)
        fer_die(NULL, "out of memory");
    st->n = 0;
    for (size_t i = 0; i < st->g.n; i++) {
        if (st->g.labels[i] < 0)
            continue;
        const char *name = fer_label_name(st->g.labels[i]);
        int c = fer_preprocess_class(&r->pre, name);
        if (c < 0)
            fer_die(st->e.name, "line %zu: label '%s' is not one of the classes (%s)",
                    st->e.lines[st->g.rows[st->g.start[i]]], name, r->s->classes);
        st->group[st->n] = i;
        st->target[st->n++] = c;
    }
}

static void set_free(struct set *st)
{
    free(st->group);
    free(st->target);
    fer_example_groups_free(&st->g);
    fer_examples_free(&st->e);
}

/* The image paths of examples order[0..n) (frames each): the segment
 * sampling of fer_examples_sample, random with rng, middle frames without. */
static void set_inputs(const struct run *r, const struct set *st, const size_t *order,
                       struct fer_rng *rng, const char **paths, int *targets)
{
    size_t pick[256];
    for (size_t i = 0; i < st->n; i++) {
        size_t k = order != NULL ? order[i] : i, g = st->group[k];
        size_t first = st->g.start[g], len = st->g.start[g + 1] - first;
        fer_examples_sample(len, r->frames, rng, pick);
        for (int t = 0; t < r->frames; t++)
            paths[i * (size_t)r->frames + (size_t)t] = st->e.paths[st->g.rows[first + pick[t]]];
        targets[i] = st->target[k];
    }
}

static void read_data(struct run *r)
{
    struct settings *s = r->s;
    if (fer_examples_read(s->train, 0, &r->train.e) < 0)
        fer_die_error(s->train);
    static char classes[FER_CLASSES_MAX * FER_CLASS_NAME_MAX];
    if (s->classes == NULL) {
        size_t counts[8];
        fer_examples_count(&r->train.e, counts);
        classes[0] = '\0';
        for (int k = 0; k < FER_LABEL_COUNT; k++)
            if (counts[k] > 0)
                strcat(strcat(classes, classes[0] ? "," : ""), fer_label_name(k));
        if (classes[0] == '\0')
            fer_die(s->train, "no labelled rows");
        s->classes = classes;
    } else {
        /* --classes takes synonyms too; store canonical names. */
        struct fer_preprocess tmp;
        if (fer_preprocess_set_classes(&tmp, s->classes) < 0)
            fer_usage_error("--classes: %s", fer_error());
        classes[0] = '\0';
        for (int i = 0; i < tmp.n_classes; i++) {
            int l = fer_label_from_name(tmp.classes[i]);
            if (l < 0)
                fer_usage_error("--classes: unknown label '%s'", tmp.classes[i]);
            strcat(strcat(classes, i ? "," : ""), fer_label_name(l));
        }
        s->classes = classes;
    }
    if (fer_preprocess_set_classes(&r->pre, s->classes) < 0)
        fer_usage_error("--classes: %s", fer_error());
    set_build(r, &r->train, s->train);
    if (r->train.n < 2)
        fer_die(s->train, "fewer than 2 labelled examples");
    if (s->val != NULL) {
        if (fer_examples_read(s->val, 0, &r->val.e) < 0)
            fer_die_error(s->val);
        set_build(r, &r->val, s->val);
        if (r->val.n == 0)
            fer_die(s->val, "no labelled examples");
    }
    size_t counts[FER_CLASSES_MAX] = {0};
    for (size_t i = 0; i < r->train.n; i++)
        counts[r->train.target[i]]++;
    for (int k = 0; k < r->pre.n_classes; k++) {
        /* "balanced" weights n / (K n_k); a class absent from training gets 1. */
        r->class_weight[k] = 1.0f;
        if (s->class_weights && counts[k] > 0)
            r->class_weight[k] = (float)((double)r->train.n / (r->pre.n_classes * (double)counts[k]));
    }
}

static void build_model(struct run *r)
{
    struct settings *s = r->s;
    static struct fer_weights init; /* static: reachable if we die */
    fer_weights_init(&init);
    struct fer_preprocess ipre;
    int have_ipre = 0;
    if (s->init != NULL) {
        if (fer_weights_read(s->init, &init) < 0)
            fer_die_error(s->init);
        const char *arch = fer_weights_get_meta(&init, "arch");
        if (arch != NULL && strcmp(arch, s->arch) != 0)
            fer_die(s->init, "weights are for %s, --arch is %s", arch, s->arch);
        have_ipre = fer_weights_get_meta(&init, "input_shape") != NULL &&
                    fer_preprocess_get_meta(&init, &ipre) == 0;
    }
    int resnet = strcmp(s->arch, "resnet18") == 0;
    if (s->channels == 0)
        s->channels = have_ipre ? ipre.channels : resnet ? 3 : 1;
    if (s->size == 0)
        s->size = have_ipre ? ipre.height : resnet ? 112 : 48;
    snprintf(r->pre.arch, sizeof r->pre.arch, "%s", s->arch);
    snprintf(r->pre.head, sizeof r->pre.head, "%s", s->head);
    snprintf(r->pre.task, sizeof r->pre.task, "expression");
    r->pre.channels = s->channels;
    r->pre.height = r->pre.width = s->size;
    r->pre.seq_len = r->frames;
    r->c = fer_classifier_new(s->arch, s->channels, s->head, r->pre.n_classes, s->seed);
    if (r->c == NULL)
        fer_die_error(NULL);
    if (s->init != NULL && fer_classifier_load_backbone(r->c, &init) < 0)
        fer_die(s->init, "not a %s backbone with %d input channels: %s", s->arch, s->channels,
                fer_error());
    fer_weights_free(&init);
    if (s->ial && fer_classifier_enable_ial(r->c, (float)s->ial_temperature) < 0)
        fer_die_error(NULL);
    fer_classifier_set_freeze(r->c, s->freeze);
    r->n_params = fer_classifier_params(r->c, &r->params);
    struct fer_optim_spec spec = {.weight_decay = (float)s->wd};
    if (s->optimizer == 0) {
        spec.kind = FER_OPTIM_SGD;
        spec.momentum = (float)s->momentum;
        spec.nesterov = s->momentum > 0;
    } else {
        spec.kind = FER_OPTIM_ADAMW;
        spec.beta1 = 0.9f, spec.beta2 = 0.999f, spec.eps = 1e-8f;
    }
    if (r->n_params < 0 || (r->optim = fer_optim_new(&spec, r->params, r->n_params)) == NULL)
        fer_die_error(NULL);

    /* Drop the last short batch: batch norm needs more than one example, and
     * equal batches keep the schedule simple. */
    r->steps_per_epoch = (int)(r->train.n / (size_t)s->batch);
    if (r->steps_per_epoch == 0)
        r->steps_per_epoch = 1;
    int total = s->epochs * r->steps_per_epoch;
    int warmup = s->warmup * r->steps_per_epoch;
    if (warmup >= total)
        warmup = 0;
    r->sched = (struct fer_lr_schedule){.base = s->lr, .warmup = warmup, .warmup_start = 0.01};
    if (s->schedule == 0) {
        r->sched.kind = FER_LR_COSINE;
        r->sched.total = total - warmup;
        r->sched.min = 0;
    } else {
        /* x0.1 at half and at three quarters of the run: two drops, as the
         * common multi-step recipes, expressed as StepLR over quarters. */
        r->sched.kind = FER_LR_STEP;
        r->sched.step_size = (total - warmup) / 2 > 0 ? (total - warmup) / 2 : 1;
        r->sched.gamma = 0.1;
    }

    struct fer_loader_spec ls = {.channels = s->channels, .height = s->size, .width = s->size,
                                 .inputs = r->frames, .batch = s->batch, .cache = 1, .prefetch = 1,
                                 .seed = s->seed};
    fer_augment_default(&ls.augment);
    if (!s->augment)
        ls.augment = (struct fer_augment){.scale_min = 1};
    if ((r->loader = fer_loader_new(&ls)) == NULL || (r->arena = fer_arena_new(0)) == NULL)
        fer_die_error(NULL);
}

static void set_meta_number(struct fer_weights *w, const char *key, double v)
{
    char text[64];
    snprintf(text, sizeof text, "%.17g", v);
    if (fer_weights_set_meta(w, key, text) < 0)
        fer_die_error(NULL);
}

static double get_meta_number(const struct fer_weights *w, const char *file, const char *key)
{
    const char *v = fer_weights_get_meta(w, key);
    char *end;
    double x = v != NULL ? strtod(v, &end) : 0;
    if (v == NULL || end == v || *end != '\0')
        fer_die(file, "not a fer-finetune checkpoint: metadata '%s' missing or malformed", key);
    return x;
}

static void checkpoint_save(struct run *r)
{
    struct fer_weights w;
    fer_weights_init(&w);
    if (fer_classifier_export(r->c, &w) < 0 || fer_optim_export(r->optim, r->n_params, &w) < 0 ||
        fer_checkpoint_set_position(&w, &r->pos) < 0 ||
        fer_preprocess_set_meta(&r->pre, &w) < 0 ||
        fer_weights_set_meta(&w, "options", r->s->options) < 0)
        fer_die_error(r->ckpt_path);
    set_meta_number(&w, "epoch_loss", r->epoch_loss);
    set_meta_number(&w, "epoch_correct", (double)r->epoch_correct);
    set_meta_number(&w, "epoch_seen", (double)r->epoch_seen);
    set_meta_number(&w, "best_accuracy", r->best_accuracy);
    set_meta_number(&w, "best_epoch", r->best_epoch);
    char name[200];
    for (size_t i = 0; i < r->best.n_tensors; i++) {
        const struct fer_weights_tensor *t = &r->best.tensors[i];
        snprintf(name, sizeof name, "best.%s", t->name);
        struct fer_weights_tensor *copy = fer_weights_add(&w, name, t->ndim, t->shape, t->data);
        if (copy == NULL)
            fer_die_error(r->ckpt_path);
        copy->dtype = t->dtype;
    }
    if (fer_checkpoint_write(r->ckpt_path, &w) < 0)
        fer_die_error(r->ckpt_path);
    fer_weights_free(&w);
}

/* 1: resumed from the checkpoint, 0: there was none. */
static int checkpoint_load(struct run *r)
{
    const char *path = r->ckpt_path;
    if (access(path, F_OK) != 0)
        return 0;
    struct fer_weights w;
    fer_weights_init(&w);
    if (fer_weights_read(path, &w) < 0)
        fer_die_error(path);
    const char *opts = fer_weights_get_meta(&w, "options");
    if (opts == NULL || strcmp(opts, r->s->options) != 0)
        fer_die(path, "checkpoint of another run (options '%s'); resume with the same options",
                opts ? opts : "");
    if (fer_classifier_import(r->c, &w) < 0 || fer_optim_import(r->optim, r->n_params, &w) < 0 ||
        fer_checkpoint_get_position(&w, &r->pos) < 0)
        fer_die_error(path);
    r->epoch_loss = get_meta_number(&w, path, "epoch_loss");
    r->epoch_correct = (int64_t)get_meta_number(&w, path, "epoch_correct");
    r->epoch_seen = (int64_t)get_meta_number(&w, path, "epoch_seen");
    r->best_accuracy = get_meta_number(&w, path, "best_accuracy");
    r->best_epoch = (int)get_meta_number(&w, path, "best_epoch");
    for (size_t i = 0; i < w.n_tensors; i++) {
        const struct fer_weights_tensor *t = &w.tensors[i];
        if (strncmp(t->name, "best.", 5) != 0)
            continue;
        struct fer_weights_tensor *copy =
            fer_weights_add(&r->best, t->name + 5, t->ndim, t->shape, t->data);
        if (copy == NULL)
            fer_die_error(path);
        copy->dtype = t->dtype;
    }
    fer_weights_free(&w);
    return 1;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* One optimizer step on a batch; adds to the epoch's sums. The loss is
 * L_FER, plus lambda1 L_IAL with --ial (both with the same class weights
 * and label smoothing). */
static void train_step(struct run *r, const struct fer_batch *b)
{
    struct fer_tensor logits, dlogits, ilogits, dilogits;
    int k = r->pre.n_classes;
    double loss, ial_loss;
    const float *cw = r->class_weight;
    const float smooth = (float)r->s->smoothing;
    fer_arena_reset(r->arena);
    fer_classifier_zero_grad(r->c);
    if (fer_tensor_arena(&logits, r->arena, 2, (int[]){b->count, k}) < 0 ||
        fer_tensor_arena(&dlogits, r->arena, 2, (int[]){b->count, k}) < 0 ||
        fer_classifier_forward(r->c, &b->x, r->frames, &logits, r->arena) < 0 ||
        fer_cross_entropy_loss(&logits, b->target, cw, smooth, &loss, &dlogits) < 0)
        fer_die_error(NULL);
    if (r->s->ial) {
        if (fer_tensor_arena(&ilogits, r->arena, 2, (int[]){b->count, k}) < 0 ||
            fer_tensor_arena(&dilogits, r->arena, 2, (int[]){b->count, k}) < 0 ||
            fer_classifier_forward_ial(r->c, &ilogits, r->arena) < 0 ||
            fer_cross_entropy_loss(&ilogits, b->target, cw, smooth, &ial_loss, &dilogits) < 0)
            fer_die_error(NULL);
        const float w = (float)r->s->ial_weight;
        for (size_t i = 0; i < fer_tensor_numel(&dilogits); i++)
            dilogits.data[i] *= w;
        loss += r->s->ial_weight * ial_loss;
        if (fer_classifier_backward_ial(r->c, &dlogits, &dilogits, r->arena) < 0)
            fer_die_error(NULL);
    } else if (fer_classifier_backward(r->c, &dlogits, r->arena) < 0) {
        fer_die_error(NULL);
    }
    if (!isfinite(loss))
        fer_die(NULL, "loss diverged at step %lld (lower --lr)", (long long)r->pos.step);
    if (r->s->clip > 0)
        fer_clip_grad_norm(r->params, r->n_params, r->s->clip);
    if (fer_optim_step(r->optim, (float)fer_lr_at(&r->sched, (int)r->pos.step)) < 0)
        fer_die_error(NULL);
    for (int i = 0; i < b->count; i++)
        r->epoch_correct += argmax(logits.data + (size_t)i * k, k) == b->target[i];
    r->epoch_loss += loss * b->count;
    r->epoch_seen += b->count;
    r->pos.step++;
}

/* Validation loss (plain cross-entropy) and accuracy. */
static void validate(struct run *r, double *loss_out, double *acc_out)
{
    const struct set *v = &r->val;
    const char **paths = malloc(v->n * (size_t)r->frames * sizeof *paths);
    int *targets = malloc(v->n * sizeof *targets);
    if (paths == NULL || targets == NULL)
        fer_die(NULL, "out of memory");
    set_inputs(r, v, NULL, NULL, paths, targets);
    fer_classifier_set_training(r->c, 0);
    if (fer_loader_start(r->loader, v->n, paths, targets, NULL, 0, 0) < 0)
        fer_die_error(r->s->val);
    free(paths);
    free(targets);
    struct fer_batch b;
    int rc, k = r->pre.n_classes;
    double loss_sum = 0;
    size_t correct = 0;
    while ((rc = fer_loader_next(r->loader, &b)) == 1) {
        struct fer_tensor logits;
        double loss;
        fer_arena_reset(r->arena);
        if (fer_tensor_arena(&logits, r->arena, 2, (int[]){b.count, k}) < 0 ||
            fer_classifier_forward(r->c, &b.x, r->frames, &logits, r->arena) < 0 ||
            fer_cross_entropy_loss(&logits, b.target, NULL, 0, &loss, NULL) < 0)
            fer_die_error(NULL);
        loss_sum += loss * b.count;
        for (int i = 0; i < b.count; i++)
            correct += argmax(logits.data + (size_t)i * k, k) == b.target[i];
    }
    if (rc < 0)
        fer_die_error(r->s->val);
    fer_classifier_set_training(r->c, 1);
    *loss_out = loss_sum / (double)v->n;
    *acc_out = (double)correct / (double)v->n;
}

static void keep_best(struct run *r)
{
    fer_weights_free(&r->best);
    /* The model file: backbone and main head, no training-only IAL branch. */
    if (fer_classifier_export_model(r->c, &r->best) < 0)
        fer_die_error(NULL);
}

static void write_output(struct run *r)
{
    struct settings *s = r->s;
    struct fer_weights w;
    fer_weights_init(&w);
    /* Without --val the last epoch is the model. */
    if (s->val == NULL)
        keep_best(r);
    for (size_t i = 0; i < r->best.n_tensors; i++) {
        const struct fer_weights_tensor *t = &r->best.tensors[i];
        struct fer_weights_tensor *copy = fer_weights_add(&w, t->name, t->ndim, t->shape, t->data);
        if (copy == NULL)
            fer_die_error(s->output);
        copy->dtype = t->dtype;
    }
    char v[64];
    if (fer_preprocess_set_meta(&r->pre, &w) < 0 ||
        fer_weights_set_meta(&w, "tool", cli.name) < 0 ||
        fer_weights_set_meta(&w, "version", FER_VERSION) < 0 ||
        fer_weights_set_meta(&w, "options", s->options) < 0)
        fer_die_error(s->output);
    snprintf(v, sizeof v, "%llu", (unsigned long long)s->seed);
    fer_weights_set_meta(&w, "seed", v);
    snprintf(v, sizeof v, "%d", s->val ? r->best_epoch + 1 : s->epochs);
    fer_weights_set_meta(&w, "epoch", v);
    if (s->val) {
        snprintf(v, sizeof v, "%.6g", r->best_accuracy);
        fer_weights_set_meta(&w, "val_accuracy", v);
    }
    if (fer_weights_write(s->output, &w) < 0)
        fer_die_error(s->output);
    fer_weights_free(&w);
}

int main(int argc, char **argv)
{
    fer_cli_init(&cli);
    struct settings s;
    parse_options(argc, argv, &s);
    if (fer_nn_set_threads(s.threads) < 0)
        fer_die_error(NULL);
    struct run r = {.s = &s, .best_epoch = -1, .best_accuracy = -1,
                    .frames = strcmp(s.head, "fan") == 0 ? s.frames : 1};
    fer_weights_init(&r.best);
    read_data(&r);
    build_model(&r);
    snprintf(r.ckpt_path, sizeof r.ckpt_path, "%s", s.ckpt ? s.ckpt : "");
    if (s.ckpt == NULL)
        snprintf(r.ckpt_path, sizeof r.ckpt_path, "%s.ckpt", s.output);
    r.pos = (struct fer_train_position){.seed = s.seed};
    int resumed = s.resume && checkpoint_load(&r);
    if (resumed && r.pos.seed != s.seed)
        fer_die(r.ckpt_path, "checkpoint has seed %llu, --seed is %llu",
                (unsigned long long)r.pos.seed, (unsigned long long)s.seed);

    static const char *const extra[] = {"val_loss", "val_accuracy"};
    struct fer_train_log *log = NULL;
    if (s.log != NULL &&
        (log = fer_train_log_open(s.log, extra, 2, resumed ? r.pos.step : -1)) == NULL)
        fer_die_error(NULL);

    size_t n = r.train.n;
    size_t *order = malloc(n * sizeof *order);
    const char **paths = malloc(n * (size_t)r.frames * sizeof *paths);
    int *targets = malloc(n * sizeof *targets);
    if (order == NULL || paths == NULL || targets == NULL)
        fer_die(NULL, "out of memory");
    double start = fer_now() - r.pos.seconds;
    fer_classifier_set_training(r.c, 1);
    for (int epoch = r.pos.epoch; epoch < s.epochs; epoch++) {
        struct fer_rng rng;
        fer_rng_seed_stream(&rng, s.seed, (uint64_t)epoch);
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        fer_rng_shuffle(&rng, order, n, sizeof *order);
        set_inputs(&r, &r.train, order, &rng, paths, targets);
        if (fer_loader_start(r.loader, n, paths, targets, NULL, s.augment, (uint64_t)epoch) < 0)
            fer_die_error(s.train);
        struct fer_progress prog;
        char label[64];
        snprintf(label, sizeof label, "epoch %d/%d", epoch + 1, s.epochs);
        fer_progress_begin(&prog, label, (uint64_t)r.steps_per_epoch, s.quiet);
        for (int b = 0; b < r.steps_per_epoch; b++) {
            struct fer_batch batch;
            int rc = fer_loader_next(r.loader, &batch);
            if (rc <= 0)
                fer_die(s.train, "%s", rc < 0 ? fer_error() : "loader ended early");
            if (b < r.pos.batch)
                continue; /* done before the checkpoint we resumed from */
            train_step(&r, &batch);
            r.pos.batch = b + 1;
            fer_progress_update(&prog, (uint64_t)b + 1);
            /* Mid-epoch checkpoints only: the epoch's last step is followed
             * by the end-of-epoch checkpoint, after validation and logging. */
            if (s.ckpt_every > 0 && r.pos.step % s.ckpt_every == 0 && b + 1 < r.steps_per_epoch) {
                r.pos.seconds = fer_now() - start;
                checkpoint_save(&r);
            }
        }
        fer_progress_end(&prog);
        double vloss = NAN, vacc = NAN;
        if (s.val != NULL) {
            validate(&r, &vloss, &vacc);
            if (vacc > r.best_accuracy) {
                r.best_accuracy = vacc;
                r.best_epoch = epoch;
                keep_best(&r);
            }
        }
        double seconds = fer_now() - start;
        double lr = fer_lr_at(&r.sched, (int)r.pos.step - 1);
        double tl = r.epoch_loss / (double)r.epoch_seen;
        double ta = (double)r.epoch_correct / (double)r.epoch_seen;
        double ex[2] = {vloss, vacc};
        if (log != NULL && fer_train_log_write(log, epoch + 1, r.pos.step, tl, ta, lr, seconds, ex) < 0)
            fer_die_error(s.log);
        if (!s.quiet && isatty(2)) {
            fprintf(stderr, "epoch %d: loss %.4f accuracy %.4f", epoch + 1, tl, ta);
            if (s.val != NULL)
                fprintf(stderr, ", validation loss %.4f accuracy %.4f", vloss, vacc);
            fputc('\n', stderr);
        }
        r.pos.epoch = epoch + 1;
        r.pos.batch = 0;
        r.epoch_loss = 0;
        r.epoch_correct = r.epoch_seen = 0;
        r.pos.seconds = seconds;
        checkpoint_save(&r);
    }
    write_output(&r);
    if (fer_train_log_close(log) < 0)
        fer_die_error(s.log);
    if (!s.quiet)
        fprintf(stderr, "%s: %zu examples, %d classes, %lld steps%s\n", cli.name, n,
                r.pre.n_classes, (long long)r.pos.step, s.val ? "; kept the best epoch" : "");
    free(order);
    free(paths);
    free(targets);
    set_free(&r.train);
    set_free(&r.val);
    fer_weights_free(&r.best);
    fer_loader_free(r.loader);
    fer_arena_free(r.arena);
    fer_optim_free(r.optim);
    fer_classifier_free(r.c);
    return FER_EXIT_OK;
}
