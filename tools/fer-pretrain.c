/* fer-pretrain - self-supervised pretraining of a backbone on a pretext
 * manifest (fer-shuffle-seq): rotation, middle-frame prediction or
 * contrastive (NT-Xent with hard negatives and RMFER filtering). See man
 * fer-pretrain.
 */
#include "checkpoint.h"
#include "classifier.h"
#include "nn.h"
#include "cli.h"
#include "contrastive.h"
#include "error.h"
#include "image.h"
#include "loader.h"
#include "manifest.h"
#include "model.h"
#include "nn_loss.h"
#include "optim.h"
#include "pretext.h"
#include "pretext_head.h"
#include "progress.h"
#include "rng.h"
#include "train_log.h"
#include "weights.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


enum task { TASK_MIDDLE, TASK_ROTATION, TASK_CONTRASTIVE };
static const char *const task_names[] = {"middle", "rotation", "contrastive", NULL};
static const char *const head_names[] = {"relational", "concat", NULL};
static const char *const optim_names[] = {"adamw", "sgd", NULL};
static const char *const augment_names[] = {"none", "shared", NULL};
/* In the order of enum fer_pair_features. */
static const char *const pair_names[] = {"abs", "abs+square", "abs+product", "relative", NULL};

enum {
    OPT_TASK = FER_OPT_LONG, OPT_ARCH, OPT_HEAD, OPT_HIDDEN, OPT_VAL, OPT_EPOCHS, OPT_BATCH,
    OPT_LR, OPT_OPTIMIZER, OPT_WD, OPT_SIZE, OPT_CHANNELS, OPT_SEED, OPT_LOG, OPT_MAX_ARR,
    OPT_CKPT_EVERY, OPT_CKPT, OPT_RESUME, OPT_TEMPERATURE, OPT_EMBEDDING, OPT_GAMMA,
    OPT_HARD_NEGATIVES, OPT_AUGMENT, OPT_SELECT, OPT_PAIR_FEATURES, OPT_DROPOUT,
};

static const struct fer_option options[] = {
    {"task", OPT_TASK, "TASK", "middle, rotation or contrastive (must match the manifest)"},
    {"arch", OPT_ARCH, "ARCH", "backbone: cnn-s (default) or resnet18"},
    {"head", OPT_HEAD, "HEAD", "middle: relational (default) or concat (the paper's)"},
    {"hidden", OPT_HIDDEN, "H", "relational head: hidden width (default 64; 0: linear);\n"
                                "contrastive: projection's hidden width (default 64)"},
    {"pair-features", OPT_PAIR_FEATURES, "WHAT", "relational head: what it reads of two frames:\n"
                                                 "abs (|f_p - f_q|, default), abs+square (and\n"
                                                 "(f_p - f_q)^2), abs+product (and f_p * f_q) or\n"
                                                 "relative (|f_p - f_q| over the window's mean)"},
    {"dropout", OPT_DROPOUT, "P", "relational head: dropout on what it reads of two frames,\n"
                                  "in training (default 0: none)"},
    {"embedding", OPT_EMBEDDING, "P", "contrastive: projection width (default 32, at most 64)"},
    {"temperature", OPT_TEMPERATURE, "T", "contrastive: NT-Xent temperature (default 0.1)"},
    {"gamma", OPT_GAMMA, "G", "contrastive: keep the G most similar positive pairs and the G\n"
                              "least similar hard negatives of each batch, as fractions\n"
                              "(RMFER's filtering; default 0.1, 1: keep all)"},
    {"hard-negatives", OPT_HARD_NEGATIVES, "K", "contrastive: use at most K of each example's hard\n"
                                                "negatives (input3..; default: all)"},
    {"augment", OPT_AUGMENT, "HOW", "middle: shared (default: one random change for all\n"
                                    "frames of a window) or none"},
    {"select", OPT_SELECT, "FRACTION", "middle: keep the epoch that scores best on the last\n"
                                       "FRACTION of each clip's training windows (default 0: off)"},
    {"val", OPT_VAL, "FILE", "held-out examples (default: the manifest's split=val rows)"},
    {"epochs", OPT_EPOCHS, "N", "passes over the training examples (default 10)"},
    {"batch", OPT_BATCH, "N", "examples per step (default 32)"},
    {"lr", OPT_LR, "RATE", "learning rate (default 0.001 for adamw, 0.01 for sgd)"},
    {"optimizer", OPT_OPTIMIZER, "NAME", "adamw (default) or sgd (momentum 0.9)"},
    {"weight-decay", OPT_WD, "W", "weight decay (default 0.0001)"},
    {"size", OPT_SIZE, "PX", "input side in pixels (default: the first crop's width)"},
    {"channels", OPT_CHANNELS, "C", "input channels, 1 (default) or 3"},
    {"max-arrangements", OPT_MAX_ARR, "N", "middle: score at most N arrangements of a held-out\n"
                                            "window, spread evenly (default 5040: all for n <= 7)"},
    {"seed", OPT_SEED, "N", "random seed (default 1)"},
    {"threads", 'j', "N", "threads for OpenBLAS and the engine's own loops\n"
                             "(default 1)"},
    {"checkpoint-every", OPT_CKPT_EVERY, "STEPS", "write a checkpoint every STEPS optimizer steps\n"
                                                  "and at the end of every epoch (default 0: never)"},
    {"checkpoint", OPT_CKPT, "FILE", "the checkpoint file (default: OUTPUT.ckpt)"},
    {"resume", OPT_RESUME, NULL, "continue from the checkpoint (same options and data)"},
    {"log", OPT_LOG, "FILE", "write a training log (TSV: epoch step loss accuracy lr seconds)"},
    {"output", 'o', "FILE", "the weight file to write (required)"},
    {"quiet", 'q', NULL, "no progress line and no summary"},
    {NULL, 0, NULL, NULL},
};

static const struct fer_cli cli = {
    .name = "fer-pretrain",
    .synopsis = "--task TASK -o BACKBONE.safetensors [OPTION]... PRETEXT.tsv",
    .summary = "Pretrain a backbone on a self-supervised pretext task.",
    .options = options,
    .epilog = "See man fer-pretrain.",
};

struct settings {
    enum task task;
    const char *arch, *val, *output, *log, *input;
    char checkpoint[PATH_MAX];
    long checkpoint_every;
    int resume;
    enum fer_head_kind head;
    enum fer_pair_features pairs;
    int embedding, hard_negatives;
    double temperature, gamma;
    int hidden, epochs, batch, size, channels, threads, quiet, sgd;
    int shared_augment; /* middle: augment a window's frames alike */
    long max_arrangements;
    double lr, weight_decay, select, dropout;
    uint64_t seed;
    char options[2048];
};

/* One example as the manifest gives it: n crop paths and a target. For the
 * middle task, one per window: frames[(n-1)/2] is the middle frame, the
 * others in the manifest's order (their temporal order does not matter:
 * g(X, k) shuffles them, and evaluation enumerates every order). */
struct example {
    char **paths;
    int target;
    long window;
    uint64_t clip;      /* hash of the clip column (0 without one) */
    long first, last;   /* first_frame, last_frame (-1 without them) */
};

struct set {
    struct example *ex;
    size_t n, cap;
};

struct data {
    int n; /* frames per example (contrastive: 2 + hard-negative slots) */
    int negatives; /* contrastive: hard-negative slots used per example */
    struct set train, val, select; /* select: --select, taken from train */
};

static void set_add(struct set *s, struct example e)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->ex = realloc(s->ex, s->cap * sizeof *s->ex);
        if (s->ex == NULL)
            fer_die(NULL, "out of memory");
    }
    s->ex[s->n++] = e;
}

static int set_has_window(const struct set *s, long window)
{
    /* Rows of one window are adjacent in fer-shuffle-seq's output. */
    return s->n > 0 && s->ex[s->n - 1].window == window;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        fer_die(NULL, "out of memory");
    return p;
}

static uint64_t clip_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Read a pretext manifest's rows into train and val (val_only: every row
 * goes to val). Checks the task, n, targets, and that every crop exists. */
static void read_manifest(const struct settings *s, const char *path, int val_only,
                          struct data *d)
{
    struct fer_manifest *m = fer_manifest_open(path);
    if (m == NULL)
        fer_die_error(path);
    const char *name = fer_manifest_name(m);
    static const char *const need[] = {"task", "n", "target", "split", "window"};
    int cols[5];
    for (int i = 0; i < 5; i++)
        if ((cols[i] = fer_manifest_require(m, need[i])) < 0)
            fer_die(name, "%s (not a pretext manifest from fer-shuffle-seq?)", fer_error());
    int c_task = cols[0], c_n = cols[1], c_target = cols[2], c_split = cols[3], c_window = cols[4];
    int c_clip = fer_manifest_find(m, "clip"), c_first = fer_manifest_find(m, "first_frame"),
        c_last = fer_manifest_find(m, "last_frame");
    char **f;
    int rc, c_inputs[FER_PRETEXT_MAX_N];
    while ((rc = fer_manifest_next(m, &f)) == 1) {
        size_t line = fer_manifest_line(m);
        if (strcmp(f[c_task], task_names[s->task]) != 0)
            fer_die(name, "line %zu: a '%s' example, but --task is %s", line, f[c_task],
                    task_names[s->task]);
        char *end;
        long n = strtol(f[c_n], &end, 10);
        static const char *const need_n[] = {"an odd number 3..15", "1", "2..15"};
        if (*end || n < 1 || n > FER_PRETEXT_MAX_N || (s->task == TASK_ROTATION && n != 1) ||
            (s->task == TASK_MIDDLE && (n < 3 || n % 2 == 0)) ||
            (s->task == TASK_CONTRASTIVE && n < 2))
            fer_die(name, "line %zu: n = '%s' (%s needs %s)", line, f[c_n], task_names[s->task],
                    need_n[s->task]);
        if (d->n == 0) {
            d->n = (int)n;
            d->negatives = s->task != TASK_CONTRASTIVE ? 0
                           : s->hard_negatives < 0 || s->hard_negatives > d->n - 2
                               ? d->n - 2
                               : s->hard_negatives;
            for (int i = 0; i < d->n; i++) {
                char col[16];
                snprintf(col, sizeof col, "input%d", i + 1);
                if ((c_inputs[i] = fer_manifest_require(m, col)) < 0)
                    fer_die_error(name);
            }
        } else if (n != d->n) {
            fer_die(name, "line %zu: n = %ld after rows with n = %d", line, n, d->n);
        }
        long target = strtol(f[c_target], &end, 10);
        int classes = s->task == TASK_ROTATION ? 4 : d->n;
        if (s->task == TASK_CONTRASTIVE) {
            target = 0; /* the pair is the target: input1 and input2 */
        } else if (*end || f[c_target][0] == '\0' || target < 0 || target >= classes)
            fer_die(name, "line %zu: target '%s' is not in 0..%d", line, f[c_target], classes - 1);
        long window = strtol(f[c_window], &end, 10);
        if (*end || f[c_window][0] == '\0')
            fer_die(name, "line %zu: window '%s' is not a number", line, f[c_window]);
        struct set *dst = val_only || strcmp(f[c_split], "val") == 0 ? &d->val : &d->train;
        if (!val_only && strcmp(f[c_split], "val") != 0 && strcmp(f[c_split], "train") != 0)
            fer_die(name, "line %zu: split '%s' is neither train nor val", line, f[c_split]);
        /* --val replaces the manifest's own held-out rows: the figure is
         * then over exactly that file. */
        if (!val_only && s->val != NULL && dst == &d->val)
            continue;
        if (s->task == TASK_MIDDLE && set_has_window(dst, window))
            continue;
        struct example e = {calloc((size_t)d->n, sizeof(char *)), (int)target, window,
                            c_clip < 0 ? 0 : clip_hash(f[c_clip]),
                            c_first < 0 ? -1 : strtol(f[c_first], NULL, 10),
                            c_last < 0 ? -1 : strtol(f[c_last], NULL, 10)};
        if (e.paths == NULL)
            fer_die(NULL, "out of memory");
        int mid = (d->n - 1) / 2;
        for (int i = 0, o = 0; i < d->n; i++) {
            /* Contrastive: a track with too few far faces leaves hard
             * negatives empty; anchor and positive must be there. */
            if (s->task == TASK_CONTRASTIVE && i >= 2 + d->negatives)
                break;
            if (s->task == TASK_CONTRASTIVE && i >= 2 && f[c_inputs[i]][0] == '\0')
                continue;
            if (f[c_inputs[i]][0] == '\0')
                fer_die(name, "line %zu: input%d is empty", line, i + 1);
            char resolved[PATH_MAX];
            if (fer_manifest_resolve(m, f[c_inputs[i]], resolved, sizeof resolved) != 0)
                fer_die(name, "line %zu: path too long", line);
            if (access(resolved, R_OK) != 0)
                fer_die(resolved, "cannot read crop: %s", strerror(errno));
            int slot = i;
            if (s->task == TASK_MIDDLE && i == target) {
                slot = mid;
            } else if (s->task == TASK_MIDDLE) {
                if (o == mid)
                    o++;
                slot = o++;
            }
            e.paths[slot] = xstrdup(resolved);
        }
        set_add(dst, e);
    }
    if (rc < 0)
        fer_die_error(name);
    fer_manifest_close(m);
}

static void free_example(struct example *e, int n)
{
    for (int j = 0; j < n; j++)
        free(e->paths[j]);
    free(e->paths);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* --select: in each clip, the training windows starting in the last
 * fraction of its (training) frame range become the selection set, as
 * fer-shuffle-seq --split-by time cuts; windows straddling the cut are
 * dropped so that no frame is both trained on and used to select. */
static void split_select(struct data *d, double fraction)
{
    struct set *tr = &d->train;
    long *firsts = malloc((tr->n + 1) * sizeof *firsts);
    char *fate = calloc(tr->n + 1, 1); /* 0 train, 1 select, 2 dropped */
    if (firsts == NULL || fate == NULL)
        fer_die(NULL, "out of memory");
    for (size_t i = 0; i < tr->n; i++) {
        if (fate[i] != 0 || tr->ex[i].first < 0)
            continue;
        size_t m = 0;
        for (size_t j = i; j < tr->n; j++)
            if (tr->ex[j].clip == tr->ex[i].clip)
                firsts[m++] = tr->ex[j].first;
        qsort(firsts, m, sizeof *firsts, cmp_long);
        size_t k = (size_t)((1 - fraction) * (double)m);
        long cut = firsts[k < m ? k : m - 1];
        uint64_t clip = tr->ex[i].clip;
        for (size_t j = i; j < tr->n; j++)
            if (tr->ex[j].clip == clip)
                fate[j] = tr->ex[j].first >= cut ? 1 : tr->ex[j].last >= cut ? 2 : 3;
    }
    size_t kept = 0;
    for (size_t i = 0; i < tr->n; i++) {
        if (fate[i] == 1)
            set_add(&d->select, tr->ex[i]);
        else if (fate[i] == 2)
            free_example(&tr->ex[i], d->n);
        else
            tr->ex[kept++] = tr->ex[i];
    }
    tr->n = kept;
    free(firsts);
    free(fate);
}

static void free_set(struct set *s, int n)
{
    for (size_t i = 0; i < s->n; i++)
        free_example(&s->ex[i], n);
    free(s->ex);
}

/* ---- training ---- */

struct trainer {
    const struct settings *s;
    struct data *d;
    struct fer_model *model;
    struct fer_pretext_head head;
    struct fer_optim *optim;
    struct fer_param *params;
    int n_params;
    struct fer_loader *loader, *eval_loader;
    struct fer_arena *arena;
    struct fer_train_log *log;
    struct fer_rng rng; /* seeded per epoch: (seed, epoch) */
    struct fer_train_position pos;
    /* Running sums of the current epoch (kept in checkpoints so that a
     * resumed run logs the same row as an uninterrupted one). */
    double loss_sum;
    int64_t correct, seen;
    double start; /* fer_now() at (re)start, minus seconds already done */
    /* --select: the weights of the epoch that scored best on d->select. */
    struct fer_weights best;
    double best_accuracy;
    int best_epoch;
};

/* Paths, targets and quarter turns of one training pass. */
struct pass {
    size_t n;
    const char **paths;
    int *targets, *quarters;
    unsigned char *present; /* contrastive: n x K, the hard-negative slots that hold a crop */
};

static void pass_alloc(struct pass *p, size_t n, int inputs)
{
    p->n = n;
    p->paths = calloc(n * (size_t)inputs + 1, sizeof *p->paths);
    p->targets = calloc(n + 1, sizeof *p->targets);
    p->quarters = calloc(n + 1, sizeof *p->quarters);
    p->present = calloc(n * (size_t)inputs + 1, 1);
    if (!p->paths || !p->targets || !p->quarters || !p->present)
        fer_die(NULL, "out of memory");
}

static void pass_free(struct pass *p)
{
    free(p->paths);
    free(p->targets);
    free(p->quarters);
    free(p->present);
}

/* Rotation: the rows as given, shuffled. Middle: every window shown at
 * every position k once, with the other frames in a fresh random order
 * (g(X, k)), shuffled. */
static void pass_build(struct trainer *t, struct pass *p)
{
    const struct set *tr = &t->d->train;
    int n = t->d->n;
    if (t->s->task == TASK_CONTRASTIVE) {
        size_t *idx = malloc((tr->n + 1) * sizeof *idx);
        for (size_t i = 0; i < tr->n; i++)
            idx[i] = i;
        fer_rng_shuffle(&t->rng, idx, tr->n, sizeof *idx);
        /* Anchor, positive, K hard-negative slots; an empty slot shows the
         * anchor again (the loader needs a crop) and is marked absent, so
         * the loss ignores it. */
        int K = t->d->negatives, R = 2 + K;
        pass_alloc(p, tr->n, R);
        for (size_t i = 0; i < tr->n; i++) {
            char **e = tr->ex[idx[i]].paths;
            for (int j = 0; j < R; j++)
                p->paths[i * (size_t)R + (size_t)j] = e[j] ? e[j] : e[0];
            for (int k = 0; k < K; k++)
                p->present[i * (size_t)K + (size_t)k] = e[2 + k] != NULL;
        }
        free(idx);
        return;
    }
    if (t->s->task == TASK_ROTATION) {
        size_t *idx = malloc((tr->n + 1) * sizeof *idx);
        for (size_t i = 0; i < tr->n; i++)
            idx[i] = i;
        fer_rng_shuffle(&t->rng, idx, tr->n, sizeof *idx);
        pass_alloc(p, tr->n, 1);
        for (size_t i = 0; i < tr->n; i++) {
            p->paths[i] = tr->ex[idx[i]].paths[0];
            p->targets[i] = p->quarters[i] = tr->ex[idx[i]].target;
        }
        free(idx);
        return;
    }
    size_t count = tr->n * (size_t)n;
    size_t *idx = malloc((count + 1) * sizeof *idx);
    for (size_t i = 0; i < count; i++)
        idx[i] = i;
    fer_rng_shuffle(&t->rng, idx, count, sizeof *idx);
    pass_alloc(p, count, n);
    for (size_t i = 0; i < count; i++) {
        const struct example *e = &tr->ex[idx[i] / (size_t)n];
        int k = (int)(idx[i] % (size_t)n), order[FER_PRETEXT_MAX_N];
        fer_pretext_arrange(&t->rng, n, k, order);
        for (int j = 0; j < n; j++)
            p->paths[i * (size_t)n + (size_t)j] = e->paths[order[j]];
        p->targets[i] = k;
    }
    free(idx);
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

static double middle_accuracy(struct trainer *t, const struct set *v, double *pixel);

/* --select: the current weights (model and head) into t->best. */
static void keep_best(struct trainer *t, double accuracy, int epoch)
{
    fer_weights_free(&t->best);
    fer_weights_init(&t->best);
    const struct fer_param *hp;
    int nh = fer_pretext_head_params(&t->head, &hp);
    if (fer_model_export(t->model, &t->best, "") != 0 || fer_params_export(hp, nh, &t->best) != 0)
        fer_die_error(NULL);
    t->best_accuracy = accuracy;
    t->best_epoch = epoch;
}

/* Tensors of src into dst, each name with prefix added (add = 1) or
 * removed (add = 0; tensors without it are skipped). */
static int copy_tensors(struct fer_weights *dst, const struct fer_weights *src,
                        const char *prefix, int add)
{
    size_t len = strlen(prefix);
    for (size_t i = 0; i < src->n_tensors; i++) {
        const struct fer_weights_tensor *x = &src->tensors[i];
        char name[256];
        if (add)
            snprintf(name, sizeof name, "%s%s", prefix, x->name);
        else if (strncmp(x->name, prefix, len) == 0)
            snprintf(name, sizeof name, "%s", x->name + len);
        else
            continue;
        struct fer_weights_tensor *y = fer_weights_add(dst, name, x->ndim, x->shape, x->data);
        if (y == NULL)
            return -1;
        y->dtype = x->dtype;
    }
    return 0;
}

static void set_grads_zero(struct trainer *t)
{
    fer_model_zero_grad(t->model);
    fer_pretext_head_zero_grad(&t->head);
}

static void write_checkpoint(struct trainer *t)
{
    struct fer_weights w;
    fer_weights_init(&w);
    char buf[64];
    t->pos.seconds = fer_now() - t->start;
    int rc = fer_model_export(t->model, &w, "");
    const struct fer_param *hp;
    int nh = fer_pretext_head_params(&t->head, &hp);
    if (rc == 0)
        rc = fer_params_export(hp, nh, &w);
    if (rc == 0)
        rc = fer_optim_export(t->optim, t->n_params, &w);
    if (rc == 0)
        rc = fer_checkpoint_set_position(&w, &t->pos);
    snprintf(buf, sizeof buf, "%.17g", t->loss_sum);
    if (rc == 0)
        rc = fer_weights_set_meta(&w, "epoch_loss_sum", buf);
    snprintf(buf, sizeof buf, "%lld %lld", (long long)t->correct, (long long)t->seen);
    if (rc == 0)
        rc = fer_weights_set_meta(&w, "epoch_correct_seen", buf);
    if (rc == 0)
        rc = fer_weights_set_meta(&w, "options", t->s->options);
    if (rc == 0 && t->best_epoch > 0) {
        snprintf(buf, sizeof buf, "%d %.17g", t->best_epoch, t->best_accuracy);
        rc = fer_weights_set_meta(&w, "best_epoch_accuracy", buf);
        if (rc == 0)
            rc = copy_tensors(&w, &t->best, "best.", 1);
    }
    if (rc != 0 || fer_checkpoint_write(t->s->checkpoint, &w) != 0)
        fer_die_error(t->s->checkpoint);
    fer_weights_free(&w);
}

static void read_checkpoint(struct trainer *t)
{
    const char *path = t->s->checkpoint;
    struct fer_weights w;
    fer_weights_init(&w);
    if (fer_weights_read(path, &w) != 0)
        fer_die_error(path);
    const struct fer_param *hp;
    int nh = fer_pretext_head_params(&t->head, &hp);
    const char *sums = fer_weights_get_meta(&w, "epoch_loss_sum");
    const char *cs = fer_weights_get_meta(&w, "epoch_correct_seen");
    long long correct, seen;
    if (fer_model_import(t->model, &w, "") != 0 || fer_params_import(hp, nh, &w) != 0 ||
        fer_optim_import(t->optim, t->n_params, &w) != 0 ||
        fer_checkpoint_get_position(&w, &t->pos) != 0)
        fer_die(path, "not a checkpoint of this run: %s", fer_error());
    if (sums == NULL || cs == NULL || sscanf(cs, "%lld %lld", &correct, &seen) != 2)
        fer_die(path, "not a checkpoint of fer-pretrain (no epoch sums)");
    if (t->pos.seed != t->s->seed)
        fer_die(path, "written with --seed %llu, this run has --seed %llu",
                (unsigned long long)t->pos.seed, (unsigned long long)t->s->seed);
    const char *best = fer_weights_get_meta(&w, "best_epoch_accuracy");
    if (best != NULL) {
        if (sscanf(best, "%d %lf", &t->best_epoch, &t->best_accuracy) != 2 ||
            copy_tensors(&t->best, &w, "best.", 0) != 0)
            fer_die(path, "bad best_epoch_accuracy: %s", fer_error());
    }
    t->loss_sum = strtod(sums, NULL);
    t->correct = correct;
    t->seen = seen;
    t->start = fer_now() - t->pos.seconds;
    fer_weights_free(&w);
}

/* Contrastive: NT-Xent with hard negatives and RMFER's filtering
 * (contrastive.h) on rows anchor, positive, K hard negatives per example;
 * the other tasks are classifications. */
static int pretext_loss(struct trainer *t, const struct pass *p, const struct fer_batch *b,
                        const struct fer_tensor *logits, double *loss, struct fer_tensor *dlogits)
{
    if (t->s->task != TASK_CONTRASTIVE)
        return fer_cross_entropy_loss(logits, b->target, NULL, 0, loss, dlogits);
    int K = t->d->negatives;
    unsigned char *present = malloc((size_t)b->count * (size_t)K + 1);
    if (present == NULL)
        return fer_fail("out of memory");
    for (int i = 0; i < b->count; i++)
        memcpy(present + (size_t)i * K, p->present + b->index[i] * (size_t)K, (size_t)K);
    struct fer_contrastive_spec spec = {b->count, K, present, (float)t->s->temperature,
                                        t->s->gamma};
    int rc = fer_contrastive_loss(logits, &spec, loss, dlogits, NULL, NULL, t->arena);
    free(present);
    return rc;
}

static double cosine(const float *a, const float *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < d; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / (sqrt(aa * bb) + 1e-12);
}

/* Of the anchor and positive rows (2 of every R), those whose most
 * similar other anchor or positive row (cosine) is their partner; hard
 * negatives are left out, so the figure means the same with or without
 * them. */
static int64_t pairs_found(const float *z, int examples, int R, int d)
{
    int64_t found = 0;
    for (int i = 0; i < 2 * examples; i++) {
        int best = -1;
        double best_s = -2;
        const float *zi = z + ((size_t)(i / 2) * R + (size_t)(i % 2)) * d;
        for (int j = 0; j < 2 * examples; j++) {
            const float *zj = z + ((size_t)(j / 2) * R + (size_t)(j % 2)) * d;
            double c = j == i ? -3 : cosine(zi, zj, d);
            if (c > best_s) {
                best_s = c;
                best = j;
            }
        }
        found += best == (i ^ 1);
    }
    return found;
}

/* One epoch from batch t->pos.batch on (0 unless resumed mid-epoch). */
static void train_epoch(struct trainer *t, struct fer_progress *prog)
{
    const struct settings *s = t->s;
    int epoch = t->pos.epoch;
    /* Everything random in epoch e comes from (seed, e): the order, the
     * arrangements, the loader's augmentation (stream e). */
    fer_rng_seed_stream(&t->rng, s->seed, (uint64_t)epoch);
    struct pass p;
    pass_build(t, &p);
    /* Middle: never a change per frame, it would add differences between
     * frames that the task must read as motion; --augment shared gives all
     * frames of an example the same change (the loader's shared_augment).
     * Contrastive: augmented views, as SimCLR. */
    if (fer_loader_start(t->loader, p.n, p.paths, p.targets,
                         s->task == TASK_ROTATION ? p.quarters : NULL,
                         s->task != TASK_MIDDLE || s->shared_augment, (uint64_t)epoch) != 0)
        fer_die_error(s->input);
    struct fer_batch b;
    int rc;
    int64_t batch = 0;
    fer_model_set_training(t->model, 1);
    while ((rc = fer_loader_next(t->loader, &b)) == 1) {
        if (batch++ < t->pos.batch)
            continue; /* done before the checkpoint we resumed from */
        fer_arena_reset(t->arena);
        set_grads_zero(t);
        /* The head's dropout masks follow from (seed, step), so a resumed
         * run draws the same ones. */
        fer_pretext_head_set_training(&t->head, 1,
                                      (uint64_t)s->seed * 0x9e3779b97f4a7c15ULL ^
                                          ((uint64_t)t->pos.step + 1) * 0xd1b54a32d192ed03ULL);
        struct fer_tensor feat, logits, dlogits, dfeat;
        int rows = b.x.shape[0], D = fer_model_features(t->model);
        double loss;
        if (fer_tensor_arena(&feat, t->arena, 2, (int[]){rows, D}) != 0 ||
            fer_model_forward(t->model, &b.x, &feat, t->arena) != 0 ||
            fer_pretext_head_forward(&t->head, &feat, &logits, t->arena) != 0 ||
            fer_tensor_arena(&dlogits, t->arena, 2, logits.shape) != 0 ||
            pretext_loss(t, &p, &b, &logits, &loss, &dlogits) != 0)
            fer_die_error(s->input);
        /* Scored before backward, which may reuse the arena's memory. */
        if (s->task == TASK_CONTRASTIVE)
            t->correct += pairs_found(logits.data, b.count, 2 + t->d->negatives, logits.shape[1]);
        else
            for (int i = 0; i < b.count; i++)
                t->correct += argmax(logits.data + (size_t)i * (size_t)logits.shape[1],
                                     logits.shape[1]) == b.target[i];
        if (fer_tensor_arena(&dfeat, t->arena, 2, feat.shape) != 0 ||
            fer_pretext_head_backward(&t->head, &feat, &dlogits, &dfeat, t->arena) != 0 ||
            fer_model_backward(t->model, &dfeat, NULL, t->arena) != 0 ||
            fer_optim_step(t->optim, (float)s->lr) != 0)
            fer_die_error(s->input);
        if (!isfinite(loss))
            fer_die(s->input, "epoch %d step %lld: the loss is not finite (lower --lr?)",
                    epoch + 1, (long long)t->pos.step + 1);
        /* Contrastive scores two rows per example; the loss is weighted
         * alike, so the log shows the mean loss. */
        int scored = s->task == TASK_CONTRASTIVE ? 2 * b.count : b.count;
        t->seen += scored;
        t->loss_sum += loss * scored;
        t->pos.step++;
        t->pos.batch = batch;
        fer_progress_update(prog, (uint64_t)t->pos.step);
        if (s->checkpoint_every > 0 && t->pos.step % s->checkpoint_every == 0)
            write_checkpoint(t);
    }
    if (rc < 0)
        fer_die_error(s->input);
    double selected = NAN;
    if (s->select > 0) {
        selected = middle_accuracy(t, &t->d->select, NULL);
        if (t->best_epoch == 0 || selected > t->best_accuracy)
            keep_best(t, selected, epoch + 1);
    }
    if (t->log &&
        fer_train_log_write(t->log, epoch + 1, t->pos.step, t->seen ? t->loss_sum / t->seen : NAN,
                            t->seen ? (double)t->correct / t->seen : NAN, s->lr,
                            fer_now() - t->start, s->select > 0 ? &selected : NULL) != 0)
        fer_die_error(s->log);
    t->pos.epoch = epoch + 1;
    t->pos.batch = 0;
    t->loss_sum = 0;
    t->correct = t->seen = 0;
    if (s->checkpoint_every > 0)
        write_checkpoint(t);
    pass_free(&p);
}

/* ---- evaluation ---- */

static double rotation_accuracy(struct trainer *t)
{
    const struct set *v = &t->d->val;
    struct pass p;
    pass_alloc(&p, v->n, 1);
    for (size_t i = 0; i < v->n; i++) {
        p.paths[i] = v->ex[i].paths[0];
        p.targets[i] = p.quarters[i] = v->ex[i].target;
    }
    if (fer_loader_start(t->eval_loader, p.n, p.paths, p.targets, p.quarters, 0, 0) != 0)
        fer_die_error(t->s->input);
    fer_model_set_training(t->model, 0);
    fer_pretext_head_set_training(&t->head, 0, 0);
    struct fer_batch b;
    long correct = 0;
    int rc;
    while ((rc = fer_loader_next(t->eval_loader, &b)) == 1) {
        fer_arena_reset(t->arena);
        struct fer_tensor feat, logits;
        if (fer_tensor_arena(&feat, t->arena, 2,
                             (int[]){b.x.shape[0], fer_model_features(t->model)}) != 0 ||
            fer_model_forward(t->model, &b.x, &feat, t->arena) != 0 ||
            fer_pretext_head_forward(&t->head, &feat, &logits, t->arena) != 0)
            fer_die_error(t->s->input);
        for (int i = 0; i < b.count; i++)
            correct += argmax(logits.data + (size_t)i * 4, 4) == b.target[i];
    }
    if (rc < 0)
        fer_die_error(t->s->input);
    pass_free(&p);
    return v->n ? (double)correct / (double)v->n : NAN;
}

/* Training-free rule: the middle frame is the one with the smallest summed
 * mean absolute pixel difference to the others. 1 when it finds it. */
static int pixel_rule_right(const struct example *e, int n, int channels)
{
    struct fer_image im[FER_PRETEXT_MAX_N] = {{0}};
    for (int i = 0; i < n; i++)
        if (fer_image_read(e->paths[i], &im[i], channels) != 0)
            fer_die_error(e->paths[i]);
    double sum[FER_PRETEXT_MAX_N] = {0};
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double dist = fer_pretext_motion(&im[i], &im[j]);
            if (dist < 0)
                fer_die_error(e->paths[j]);
            sum[i] += dist;
            sum[j] += dist;
        }
    int best = 0;
    for (int i = 1; i < n; i++)
        if (sum[i] < sum[best])
            best = i;
    for (int i = 0; i < n; i++)
        fer_image_free(&im[i]);
    return best == (n - 1) / 2;
}

/* Middle: features of each held-out window's frames once, then the head on
 * every arrangement (n positions x (n-1)! orders of the others). */
static double middle_accuracy(struct trainer *t, const struct set *v, double *pixel)
{
    int n = t->d->n, D = fer_model_features(t->model);
    struct pass p;
    pass_alloc(&p, v->n, n);
    for (size_t i = 0; i < v->n; i++)
        for (int j = 0; j < n; j++)
            p.paths[i * (size_t)n + (size_t)j] = v->ex[i].paths[j];
    if (fer_loader_start(t->eval_loader, p.n, p.paths, p.targets, NULL, 0, 0) != 0)
        fer_die_error(t->s->input);
    fer_model_set_training(t->model, 0);
    fer_pretext_head_set_training(&t->head, 0, 0);
    uint64_t total = fer_pretext_arrangements(n), per_k = total / (uint64_t)n;
    uint64_t used = total, step = 1;
    if ((uint64_t)t->s->max_arrangements < total) {
        step = (total + (uint64_t)t->s->max_arrangements - 1) / (uint64_t)t->s->max_arrangements;
        used = (total + step - 1) / step;
    }
    enum { CHUNK = 256 };
    double right = 0, scored = 0;
    long pixel_right = 0;
    struct fer_batch b;
    int rc;
    while ((rc = fer_loader_next(t->eval_loader, &b)) == 1) {
        fer_arena_reset(t->arena);
        struct fer_tensor feat;
        if (fer_tensor_arena(&feat, t->arena, 2, (int[]){b.x.shape[0], D}) != 0 ||
            fer_model_forward(t->model, &b.x, &feat, t->arena) != 0)
            fer_die_error(t->s->input);
        struct fer_arena_mark mark = fer_arena_mark(t->arena);
        for (int w = 0; w < b.count; w++) {
            const float *fw = feat.data + (size_t)w * (size_t)n * (size_t)D;
            for (uint64_t a0 = 0; a0 < used; a0 += CHUNK) {
                int m = (int)(used - a0 < CHUNK ? used - a0 : CHUNK);
                struct fer_tensor x, logits;
                if (fer_tensor_arena(&x, t->arena, 2, (int[]){m * n, D}) != 0)
                    fer_die_error(NULL);
                int target[CHUNK];
                for (int i = 0; i < m; i++) {
                    uint64_t a = (a0 + (uint64_t)i) * step;
                    int order[FER_PRETEXT_MAX_N];
                    fer_pretext_arrangement(n, a, order);
                    target[i] = (int)(a / per_k);
                    for (int j = 0; j < n; j++)
                        memcpy(x.data + ((size_t)i * n + j) * (size_t)D,
                               fw + (size_t)order[j] * (size_t)D, (size_t)D * sizeof(float));
                }
                if (fer_pretext_head_forward(&t->head, &x, &logits, t->arena) != 0)
                    fer_die_error(NULL);
                for (int i = 0; i < m; i++)
                    right += argmax(logits.data + (size_t)i * (size_t)n, n) == target[i];
                scored += m;
                fer_arena_release(t->arena, mark);
            }
            if (pixel)
                pixel_right += pixel_rule_right(&v->ex[b.index[w]], n, t->s->channels);
        }
    }
    if (rc < 0)
        fer_die_error(t->s->input);
    pass_free(&p);
    if (pixel)
        *pixel = v->n ? (double)pixel_right / (double)v->n : NAN;
    return scored > 0 ? right / scored : NAN;
}

/* Mean absolute grey-level difference of two crops (read each time: the
 * held-out set is small). */
static double pixel_distance(const struct fer_image *a, const struct fer_image *b)
{
    double d = fer_pretext_motion(a, b);
    if (d < 0)
        fer_die_error(NULL);
    return d;
}

/* Contrastive: for every held-out anchor, the nearest held-out positive
 * by cosine of the backbone's features; right when it is its own positive
 * (the same track, about a second away). The pixel rule does the same with
 * the mean absolute grey-level difference. */
static double contrastive_accuracy(struct trainer *t, double *pixel)
{
    const struct set *v = &t->d->val;
    int D = fer_model_features(t->model);
    size_t n = v->n;
    struct pass p;
    pass_alloc(&p, n, 2);
    for (size_t i = 0; i < n; i++) {
        p.paths[2 * i] = v->ex[i].paths[0];
        p.paths[2 * i + 1] = v->ex[i].paths[1];
    }
    float *feat = malloc(n * 2 * (size_t)D * sizeof *feat + 1);
    struct fer_image *im = calloc(2 * n + 1, sizeof *im);
    if (feat == NULL || im == NULL)
        fer_die(NULL, "out of memory");
    if (fer_loader_start(t->eval_loader, n, p.paths, p.targets, NULL, 0, 0) != 0)
        fer_die_error(t->s->input);
    fer_model_set_training(t->model, 0);
    fer_pretext_head_set_training(&t->head, 0, 0);
    struct fer_batch b;
    int rc;
    while ((rc = fer_loader_next(t->eval_loader, &b)) == 1) {
        fer_arena_reset(t->arena);
        struct fer_tensor f;
        if (fer_tensor_arena(&f, t->arena, 2, (int[]){b.x.shape[0], D}) != 0 ||
            fer_model_forward(t->model, &b.x, &f, t->arena) != 0)
            fer_die_error(t->s->input);
        for (int i = 0; i < b.count; i++)
            memcpy(feat + b.index[i] * 2 * (size_t)D, f.data + (size_t)i * 2 * D,
                   2 * (size_t)D * sizeof *feat);
    }
    if (rc < 0)
        fer_die_error(t->s->input);
    for (size_t i = 0; i < 2 * n; i++)
        if (fer_image_read(p.paths[i], &im[i], 1) != 0)
            fer_die_error(p.paths[i]);
    long right = 0, pixel_right = 0;
    for (size_t i = 0; i < n; i++) {
        size_t best = 0, best_px = 0;
        double best_c = -2, best_d = INFINITY;
        for (size_t j = 0; j < n; j++) {
            double c = cosine(feat + 2 * i * D, feat + (2 * j + 1) * D, D);
            double d = pixel_distance(&im[2 * i], &im[2 * j + 1]);
            if (c > best_c) {
                best_c = c;
                best = j;
            }
            if (d < best_d) {
                best_d = d;
                best_px = j;
            }
        }
        right += best == i;
        pixel_right += best_px == i;
    }
    for (size_t i = 0; i < 2 * n; i++)
        fer_image_free(&im[i]);
    free(im);
    free(feat);
    pass_free(&p);
    *pixel = n ? (double)pixel_right / (double)n : NAN;
    return n ? (double)right / (double)n : NAN;
}

/* ---- output ---- */

static void set_meta(struct fer_weights *w, const char *key, const char *value)
{
    if (fer_weights_set_meta(w, key, value) != 0)
        fer_die_error(NULL);
}

static void write_output(struct trainer *t, double accuracy, double pixel, double chance)
{
    const struct settings *s = t->s;
    struct fer_weights w;
    fer_weights_init(&w);
    const struct fer_param *hp;
    int nh = fer_pretext_head_params(&t->head, &hp);
    if (fer_model_export(t->model, &w, "") != 0 || fer_params_export(hp, nh, &w) != 0)
        fer_die_error(s->output);
    struct fer_preprocess pre = {.channels = s->channels, .height = s->size, .width = s->size,
                                 .seq_len = t->d->n};
    snprintf(pre.arch, sizeof pre.arch, "%s", s->arch);
    snprintf(pre.task, sizeof pre.task, "%s", task_names[s->task]);
    snprintf(pre.head, sizeof pre.head, "%s",
             s->task == TASK_ROTATION      ? "linear"
             : s->task == TASK_CONTRASTIVE ? "projection"
                                           : head_names[s->head == FER_HEAD_CONCAT]);
    char buf[256] = "";
    int classes = fer_pretext_head_outputs(&t->head);
    for (int i = 0; i < classes; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%d", i ? "," : "", i);
    if (fer_preprocess_set_classes(&pre, buf) != 0 || fer_preprocess_set_meta(&pre, &w) != 0)
        fer_die_error(s->output);
    set_meta(&w, "tool", "fer-pretrain");
    set_meta(&w, "version", FER_VERSION);
    set_meta(&w, "options", s->options);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)s->seed);
    set_meta(&w, "seed", buf);
    snprintf(buf, sizeof buf, "%.4f", accuracy);
    set_meta(&w, "pretext_accuracy", buf);
    snprintf(buf, sizeof buf, "%.4f", chance);
    set_meta(&w, "chance", buf);
    if (s->task != TASK_ROTATION) {
        snprintf(buf, sizeof buf, "%.4f", pixel);
        set_meta(&w, "pixel_baseline", buf);
    }
    if (t->best_epoch > 0) {
        snprintf(buf, sizeof buf, "%d", t->best_epoch);
        set_meta(&w, "selected_epoch", buf);
        snprintf(buf, sizeof buf, "%.4f", t->best_accuracy);
        set_meta(&w, "select_accuracy", buf);
    }
    if (fer_weights_write(s->output, &w) != 0)
        fer_die_error(s->output);
    fer_weights_free(&w);
}

/* ---- setup ---- */

static void parse(int argc, char **argv, struct settings *s)
{
    *s = (struct settings){.task = -1, .arch = "cnn-s", .head = FER_HEAD_RELATIONAL,
                           .hidden = 64, .embedding = 32, .temperature = 0.1, .gamma = 0.1,
                           .hard_negatives = -1, .epochs = 10, .batch = 32, .lr = -1,
                           .weight_decay = 1e-4, .channels = 1, .threads = 1, .seed = 1,
                           .max_arrangements = 5040, .shared_augment = -1};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--resume") == 0)
            continue; /* a resumed run makes the same file */
        size_t used = strlen(s->options);
        snprintf(s->options + used, sizeof s->options - used, "%s%s", used ? " " : "", argv[i]);
    }
    int key;
    while ((key = fer_cli_next(argc, argv)) != -1) {
        switch (key) {
        case OPT_TASK: s->task = fer_cli_choice("--task", optarg, task_names); break;
        case OPT_ARCH: s->arch = optarg; break;
        case OPT_HEAD:
            s->head = fer_cli_choice("--head", optarg, head_names) ? FER_HEAD_CONCAT
                                                                   : FER_HEAD_RELATIONAL;
            break;
        case OPT_EMBEDDING: s->embedding = (int)fer_cli_long("--embedding", optarg, 1, 64); break;
        case OPT_TEMPERATURE:
            s->temperature = fer_cli_double("--temperature", optarg, 1e-3, 100);
            break;
        case OPT_GAMMA:
            s->gamma = fer_cli_double("--gamma", optarg, 0, 1);
            if (!(s->gamma > 0))
                fer_usage_error("--gamma must be above 0");
            break;
        case OPT_HARD_NEGATIVES:
            s->hard_negatives = (int)fer_cli_long("--hard-negatives", optarg, 0, FER_PRETEXT_MAX_N);
            break;
        case OPT_SELECT: s->select = fer_cli_double("--select", optarg, 0, 0.9); break;
        case OPT_PAIR_FEATURES:
            s->pairs = (enum fer_pair_features)fer_cli_choice("--pair-features", optarg, pair_names);
            break;
        case OPT_AUGMENT: s->shared_augment = fer_cli_choice("--augment", optarg, augment_names); break;
        case OPT_HIDDEN: s->hidden = (int)fer_cli_long("--hidden", optarg, 0, 4096); break;
        case OPT_VAL: s->val = optarg; break;
        case OPT_EPOCHS: s->epochs = (int)fer_cli_long("--epochs", optarg, 0, 1000000); break;
        case OPT_BATCH: s->batch = (int)fer_cli_long("--batch", optarg, 1, 65536); break;
        case OPT_LR: s->lr = fer_cli_double("--lr", optarg, 0, 100); break;
        case OPT_OPTIMIZER: s->sgd = fer_cli_choice("--optimizer", optarg, optim_names); break;
        case OPT_DROPOUT: s->dropout = fer_cli_double("--dropout", optarg, 0, 0.95); break;
        case OPT_WD: s->weight_decay = fer_cli_double("--weight-decay", optarg, 0, 10); break;
        case OPT_SIZE: s->size = (int)fer_cli_long("--size", optarg, 8, 1024); break;
        case OPT_CHANNELS: s->channels = (int)fer_cli_long("--channels", optarg, 1, 3); break;
        case OPT_MAX_ARR:
            s->max_arrangements = fer_cli_long("--max-arrangements", optarg, 1, 100000000);
            break;
        case OPT_SEED: s->seed = (uint64_t)fer_cli_long("--seed", optarg, 0, LONG_MAX); break;
        case 'j': s->threads = (int)fer_cli_long("--threads", optarg, 1, 256); break;
        case OPT_LOG: s->log = optarg; break;
        case OPT_CKPT_EVERY:
            s->checkpoint_every = fer_cli_long("--checkpoint-every", optarg, 0, LONG_MAX);
            break;
        case OPT_CKPT: snprintf(s->checkpoint, sizeof s->checkpoint, "%s", optarg); break;
        case OPT_RESUME: s->resume = 1; break;
        case 'o': s->output = optarg; break;
        case 'q': s->quiet = 1; break;
        }
    }
    if ((int)s->task < 0)
        fer_usage_error("--task is required");
    if (s->task == TASK_CONTRASTIVE && s->hidden < 1)
        fer_usage_error("--hidden must be at least 1 for the projection head");
    if (s->select > 0 && s->task != TASK_MIDDLE)
        fer_usage_error("--select is for --task middle");
    if (s->shared_augment == 1 && s->task != TASK_MIDDLE)
        fer_usage_error("--augment is for --task middle (the others always augment)");
    /* Measured (man page NOTES): the shared change is what lets the model
     * beat the pixel rule on a person it never saw. */
    if (s->shared_augment < 0)
        s->shared_augment = s->task == TASK_MIDDLE;
    if (s->pairs != FER_PAIR_ABS && (s->task != TASK_MIDDLE || s->head != FER_HEAD_RELATIONAL))
        fer_usage_error("--pair-features is for --task middle with the relational head");
    if (s->dropout > 0 && (s->task != TASK_MIDDLE || s->head != FER_HEAD_RELATIONAL))
        fer_usage_error("--dropout is for --task middle with the relational head");
    if (s->channels == 2)
        fer_usage_error("--channels must be 1 or 3");
    if (s->output == NULL)
        fer_usage_error("-o FILE is required");
    if (optind != argc - 1)
        fer_usage_error("expected one pretext manifest");
    s->input = argv[optind];
    if (s->checkpoint[0] == '\0' &&
        snprintf(s->checkpoint, sizeof s->checkpoint, "%s.ckpt", s->output) >= PATH_MAX)
        fer_usage_error("-o %s: name too long", s->output);
    if (s->lr < 0)
        s->lr = s->sgd ? 0.01 : 0.001;
}

int main(int argc, char **argv)
{
    fer_cli_init(&cli);
    struct settings s;
    parse(argc, argv, &s);
    if (fer_nn_set_threads(s.threads) < 0)
        fer_die_error(NULL);

    /* Everything is checked before the first step: the manifest, every
     * crop's existence, the first crop's decoding. */
    struct data d = {0};
    read_manifest(&s, s.input, 0, &d);
    if (s.val)
        read_manifest(&s, s.val, 1, &d);
    if (d.train.n == 0)
        fer_die(s.input, "no training examples (split=train rows)");
    if (d.val.n == 0)
        fer_die(s.val ? s.val : s.input, "no held-out examples (split=val rows, or --val FILE)");
    if (s.select > 0) {
        split_select(&d, s.select);
        if (d.select.n == 0 || d.train.n == 0)
            fer_die(s.input, "--select %g leaves %zu training and %zu selection windows "
                    "(it needs the columns clip, first_frame, last_frame)", s.select, d.train.n,
                    d.select.n);
    }
    struct fer_image first = {0};
    if (fer_image_read(d.train.ex[0].paths[0], &first, 0) != 0)
        fer_die_error(d.train.ex[0].paths[0]);
    if (s.size == 0)
        s.size = first.width;
    fer_image_free(&first);

    struct trainer t = {.s = &s, .d = &d};
    t.model = fer_model_new(s.arch, s.channels, 0, s.seed);
    if (t.model == NULL)
        fer_usage_error("--arch %s: %s", s.arch, fer_error());
    enum fer_head_kind kind = s.task == TASK_ROTATION      ? FER_HEAD_LINEAR
                              : s.task == TASK_CONTRASTIVE ? FER_HEAD_PROJECTION
                                                           : s.head;
    uint64_t head_seed = s.seed ^ 0x9e3779b97f4a7c15ULL;
    if ((kind == FER_HEAD_RELATIONAL
             ? fer_pretext_head_init_relational(&t.head, fer_model_features(t.model), d.n,
                                                s.hidden, s.pairs, head_seed)
             : fer_pretext_head_init(&t.head, kind, fer_model_features(t.model), d.n,
                                     s.task == TASK_CONTRASTIVE ? s.embedding : 4, s.hidden,
                                     head_seed)) != 0 ||
        (s.dropout > 0 && fer_pretext_head_set_dropout(&t.head, (float)s.dropout) != 0))
        fer_die_error(NULL);
    const struct fer_param *mp, *hp;
    int nm = fer_model_params(t.model, &mp), nh = fer_pretext_head_params(&t.head, &hp);
    t.params = malloc((size_t)(nm + nh) * sizeof *t.params);
    if (t.params == NULL)
        fer_die(NULL, "out of memory");
    memcpy(t.params, mp, (size_t)nm * sizeof *mp);
    memcpy(t.params + nm, hp, (size_t)nh * sizeof *hp);
    t.n_params = nm + nh;
    struct fer_optim_spec spec = {.kind = s.sgd ? FER_OPTIM_SGD : FER_OPTIM_ADAMW,
                                  .weight_decay = (float)s.weight_decay, .momentum = 0.9f,
                                  .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    if ((t.optim = fer_optim_new(&spec, t.params, t.n_params)) == NULL)
        fer_die_error(NULL);
    /* Contrastive trains on anchor, positive and hard negatives, and
     * evaluates on anchors and positives. */
    struct fer_loader_spec ls = {.channels = s.channels, .height = s.size, .width = s.size,
                                 .inputs = s.task == TASK_CONTRASTIVE ? 2 + d.negatives : d.n,
                                 .batch = s.batch, .cache = 1, .prefetch = 1, .seed = s.seed};
    fer_augment_default(&ls.augment);
    ls.shared_augment = s.task == TASK_MIDDLE;
    t.loader = fer_loader_new(&ls);
    ls.batch = s.task == TASK_MIDDLE ? 16 : 64;
    if (s.task == TASK_CONTRASTIVE)
        ls.inputs = 2;
    t.eval_loader = fer_loader_new(&ls);
    t.arena = fer_arena_new(0);
    if (!t.loader || !t.eval_loader || !t.arena)
        fer_die_error(NULL);
    t.pos.seed = s.seed;
    t.start = fer_now();
    if (s.resume)
        read_checkpoint(&t);
    static const char *const select_column[] = {"select_accuracy"};
    if (s.log && (t.log = fer_train_log_open(s.log, select_column, s.select > 0,
                                             s.resume ? t.pos.step : -1)) == NULL)
        fer_die_error(s.log);

    size_t per_epoch = s.task == TASK_MIDDLE ? d.train.n * (size_t)d.n : d.train.n;
    uint64_t steps = (uint64_t)s.epochs * ((per_epoch + (size_t)s.batch - 1) / (size_t)s.batch);
    struct fer_progress prog;
    fer_progress_begin(&prog, "fer-pretrain", steps, s.quiet);
    while (t.pos.epoch < s.epochs)
        train_epoch(&t, &prog);
    fer_progress_end(&prog);
    if (t.best_epoch > 0) {
        const struct fer_param *bp;
        int nb = fer_pretext_head_params(&t.head, &bp);
        if (fer_model_import(t.model, &t.best, "") != 0 || fer_params_import(bp, nb, &t.best) != 0)
            fer_die_error(NULL);
    }

    double pixel = NAN, acc, chance;
    switch (s.task) {
    case TASK_ROTATION:
        acc = rotation_accuracy(&t);
        chance = 0.25;
        break;
    case TASK_MIDDLE:
        acc = middle_accuracy(&t, &d.val, &pixel);
        chance = 1.0 / d.n;
        break;
    default:
        acc = contrastive_accuracy(&t, &pixel);
        chance = 1.0 / (double)d.val.n;
        break;
    }
    write_output(&t, acc, pixel, chance);
    if (fer_train_log_close(t.log) != 0)
        fer_die_error(s.log);
    if (!s.quiet) {
        fprintf(stderr, "fer-pretrain: %s, %zu training %s, %zu held out: accuracy %.4f, chance %.4f",
                task_names[s.task], d.train.n, s.task == TASK_MIDDLE ? "windows" : "examples",
                d.val.n, acc, chance);
        if (s.task != TASK_ROTATION)
            fprintf(stderr, ", pixel baseline %.4f", pixel);
        if (t.best_epoch > 0)
            fprintf(stderr, "; epoch %d of %d kept (%.4f on %zu selection windows)",
                    t.best_epoch, s.epochs, t.best_accuracy, d.select.n);
        fprintf(stderr, "\n");
    }
    printf("pretext_accuracy\t%.4f\nchance\t%.4f\n", acc, chance);
    if (s.task != TASK_ROTATION)
        printf("pixel_baseline\t%.4f\n", pixel);

    fer_loader_free(t.loader);
    fer_loader_free(t.eval_loader);
    fer_arena_free(t.arena);
    fer_optim_free(t.optim);
    free(t.params);
    fer_pretext_head_free(&t.head);
    fer_model_free(t.model);
    free_set(&d.train, d.n);
    free_set(&d.val, d.n);
    free_set(&d.select, d.n);
    fer_weights_free(&t.best);
    return 0;
}
