/* fer-folds - subject-independent k-fold cross-validation splits.
 *
 * Reads a manifest with a subject column, gives every subject one fold in
 * 0..K-1, and writes the manifest with a `fold` column appended (or only the
 * train or test rows of one fold). All rows are read before anything is
 * written: the assignment needs every subject, and a bad row must not leave
 * half a manifest behind. See man fer-folds.
 *
 * Algorithm: the distinct subjects are sorted by name (so the row order of
 * the input does not matter), shuffled with the seed (fer_rng, portable),
 * then taken in that order and each given to the fold with the smallest
 * weight so far (rows or distinct clips; lowest fold number on ties). Every
 * fold ends within one subject's weight of every other, and a subject is in
 * exactly one fold by construction.
 */
#include "atomic.h"
#include "cli.h"
#include "error.h"
#include "manifest.h"
#include "rng.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_SEED = FER_OPT_LONG, OPT_FOLD, OPT_PART, OPT_BALANCE, OPT_SUBJECT_FROM };

static const struct fer_option options[] = {
    {"folds", 'k', "K", "number of folds, 2..1000 (default 10)"},
    {"seed", OPT_SEED, "N", "random seed of the subject shuffle (default 1)"},
    {"balance", OPT_BALANCE, "WHAT", "balance folds by rows (default) or clips"},
    {"subject-from", OPT_SUBJECT_FROM, "COLUMN",
     "take subjects from COLUMN instead of 'subject'\n"
     "(e.g. clip, when each clip is a different person)"},
    {"fold", OPT_FOLD, "I", "write only rows of fold I's split (needs --part)"},
    {"part", OPT_PART, "PART", "with --fold: test (rows in fold I) or train (all others)"},
    {"output", 'o', "FILE", "write the manifest to FILE (default: standard output)"},
    {"quiet", 'q', NULL, "no summary line on standard error"},
    {NULL, 0, NULL, NULL},
};

static const struct fer_cli cli = {
    .name = "fer-folds",
    .synopsis = "[OPTION]... [MANIFEST.tsv]",
    .summary = "Assign subjects to k cross-validation folds; no subject is in two folds.",
    .options = options,
    .epilog = "Reads standard input when no file is given. See man fer-folds.",
};

struct settings {
    int k, fold, quiet;
    enum { PART_ALL, PART_TRAIN, PART_TEST } part;
    enum { BALANCE_ROWS, BALANCE_CLIPS } balance;
    uint64_t seed;
    const char *subject_column, *output;
};

struct row {
    char *buf;      /* the fields, each NUL-terminated, one after another */
    int subject;    /* index into the sorted subject list */
};

struct subject {
    const char *name; /* points into a row's buffer */
    uint64_t weight;
    int fold;
};

struct table {
    struct row *rows;
    size_t n_rows, cap;
    struct subject *subjects;
    size_t n_subjects;
    size_t n_columns;
};

static void parse_options(int argc, char **argv, struct settings *s)
{
    *s = (struct settings){.k = 10, .fold = -1, .seed = 1, .subject_column = "subject"};
    static const char *const parts[] = {"train", "test", NULL};
    static const char *const balances[] = {"rows", "clips", NULL};
    int c;
    while ((c = fer_cli_next(argc, argv)) != -1) {
        switch (c) {
        case 'k':
            s->k = (int)fer_cli_long("--folds", optarg, 2, 1000);
            break;
        case OPT_SEED:
            s->seed = (uint64_t)fer_cli_long("--seed", optarg, 0, INT64_MAX);
            break;
        case OPT_BALANCE:
            s->balance = fer_cli_choice("--balance", optarg, balances) ? BALANCE_CLIPS
                                                                       : BALANCE_ROWS;
            break;
        case OPT_SUBJECT_FROM:
            s->subject_column = optarg;
            break;
        case OPT_FOLD:
            s->fold = (int)fer_cli_long("--fold", optarg, 0, 999);
            break;
        case OPT_PART:
            s->part = fer_cli_choice("--part", optarg, parts) ? PART_TEST : PART_TRAIN;
            break;
        case 'o':
            s->output = optarg;
            break;
        case 'q':
            s->quiet = 1;
            break;
        }
    }
    if (optind < argc - 1)
        fer_usage_error("more than one input manifest");
    if ((s->fold >= 0) != (s->part != PART_ALL))
        fer_usage_error("--fold and --part go together");
    if (s->fold >= s->k)
        fer_usage_error("--fold %d: folds are numbered 0..%d", s->fold, s->k - 1);
}

static const char *field(const struct row *r, size_t col)
{
    const char *p = r->buf;
    for (size_t i = 0; i < col; i++)
        p += strlen(p) + 1;
    return p;
}

static void store_row(struct table *t, char **fields)
{
    size_t len = 0;
    for (size_t i = 0; i < t->n_columns; i++)
        len += strlen(fields[i]) + 1;
    if (t->n_rows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->rows = realloc(t->rows, t->cap * sizeof *t->rows);
    }
    char *buf = malloc(len);
    if (t->rows == NULL || buf == NULL)
        fer_die(NULL, "out of memory");
    char *p = buf;
    for (size_t i = 0; i < t->n_columns; i++) {
        size_t n = strlen(fields[i]) + 1;
        memcpy(p, fields[i], n);
        p += n;
    }
    t->rows[t->n_rows++] = (struct row){.buf = buf, .subject = -1};
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct subject *)a)->name, ((const struct subject *)b)->name);
}

static int cmp_clip(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(*x, *y);
}

/* The distinct subjects, sorted, and each row's index into them. */
static void index_subjects(struct table *t, int col)
{
    struct subject *all = malloc(t->n_rows * sizeof *all);
    if (all == NULL)
        fer_die(NULL, "out of memory");
    for (size_t i = 0; i < t->n_rows; i++)
        all[i] = (struct subject){.name = field(&t->rows[i], (size_t)col)};
    qsort(all, t->n_rows, sizeof *all, cmp_name);
    size_t n = 0;
    for (size_t i = 0; i < t->n_rows; i++)
        if (n == 0 || strcmp(all[n - 1].name, all[i].name) != 0)
            all[n++] = all[i];
    t->subjects = all;
    t->n_subjects = n;
    for (size_t i = 0; i < t->n_rows; i++) {
        struct subject key = {.name = field(&t->rows[i], (size_t)col)};
        struct subject *s = bsearch(&key, all, n, sizeof *all, cmp_name);
        t->rows[i].subject = (int)(s - all);
    }
}

/* Weight of each subject: its rows, or its distinct clips. */
static void weigh_subjects(struct table *t, const struct settings *s, int col_clip)
{
    if (s->balance == BALANCE_ROWS) {
        for (size_t i = 0; i < t->n_rows; i++)
            t->subjects[t->rows[i].subject].weight++;
        return;
    }
    /* (subject index, clip) pairs, sorted, counted once each. */
    const char **keys = malloc(t->n_rows * sizeof *keys);
    if (keys == NULL)
        fer_die(NULL, "out of memory");
    for (size_t i = 0; i < t->n_rows; i++) {
        /* "subject-index TAB clip" as one string, so one sort finds the
         * distinct pairs. */
        const char *clip = field(&t->rows[i], (size_t)col_clip);
        size_t n = (size_t)snprintf(NULL, 0, "%08d\t%s", t->rows[i].subject, clip) + 1;
        char *k = malloc(n);
        if (k == NULL)
            fer_die(NULL, "out of memory");
        snprintf(k, n, "%08d\t%s", t->rows[i].subject, clip);
        keys[i] = k;
    }
    qsort(keys, t->n_rows, sizeof *keys, cmp_clip);
    for (size_t i = 0; i < t->n_rows; i++)
        if (i == 0 || strcmp(keys[i - 1], keys[i]) != 0)
            t->subjects[atoi(keys[i])].weight++;
    for (size_t i = 0; i < t->n_rows; i++)
        free((char *)keys[i]);
    free(keys);
}

static void assign_folds(struct table *t, const struct settings *s, uint64_t *fold_weight)
{
    size_t n = t->n_subjects;
    size_t *order = malloc(n * sizeof *order);
    if (order == NULL)
        fer_die(NULL, "out of memory");
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    struct fer_rng rng;
    fer_rng_seed(&rng, s->seed);
    fer_rng_shuffle(&rng, order, n, sizeof *order);
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int f = 1; f < s->k; f++)
            if (fold_weight[f] < fold_weight[best])
                best = f;
        t->subjects[order[i]].fold = best;
        fold_weight[best] += t->subjects[order[i]].weight;
    }
    free(order);
}

static void write_rows(const struct table *t, const struct settings *s, struct fer_manifest *in)
{
    struct fer_atomic atomic = {0};
    FILE *fp = stdout;
    const char *out_name = s->output ? s->output : "stdout";
    if (s->output) {
        if (fer_atomic_open(&atomic, s->output) != 0)
            fer_die_error(s->output);
        fp = atomic.fp;
    }
    static const char *const extra[] = {"fold"};
    struct fer_manifest_layout layout;
    if (fer_manifest_layout_init(&layout, fer_manifest_header(in), t->n_columns, extra, 1) != 0)
        fer_die_error(NULL);
    struct fer_manifest_writer *w = fer_manifest_writer_new(fp, layout.columns, layout.n_out);
    char **fields = malloc(t->n_columns * sizeof *fields);
    if (w == NULL || fields == NULL)
        fer_die_error(out_name);
    for (size_t i = 0; i < t->n_rows; i++) {
        int fold = t->subjects[t->rows[i].subject].fold;
        if ((s->part == PART_TEST && fold != s->fold) || (s->part == PART_TRAIN && fold == s->fold))
            continue;
        char *p = t->rows[i].buf;
        for (size_t c = 0; c < t->n_columns; c++) {
            fields[c] = p;
            p += strlen(p) + 1;
        }
        char num[16];
        snprintf(num, sizeof num, "%d", fold);
        const char *ex[] = {num};
        if (fer_manifest_write(w, fer_manifest_layout_row(&layout, fields, ex)) != 0)
            fer_die_error(out_name);
    }
    if (fer_manifest_writer_close(w) != 0)
        fer_die_error(out_name);
    if (s->output && fer_atomic_commit(&atomic, 0) != 0)
        fer_die_error(s->output);
    free(fields);
    fer_manifest_layout_free(&layout);
}

/* A manifest that already has its folds (written once by us, shared by
 * every method of a comparison): select by that column, streaming, so that
 * filtering rows out of the folds file never moves a subject. */
static void select_part(const struct settings *s, struct fer_manifest *in, int col_fold)
{
    const char *name = fer_manifest_name(in), *out_name = s->output ? s->output : "stdout";
    struct fer_atomic atomic = {0};
    FILE *fp = stdout;
    if (s->output) {
        if (fer_atomic_open(&atomic, s->output) != 0)
            fer_die_error(s->output);
        fp = atomic.fp;
    }
    struct fer_manifest_writer *w =
        fer_manifest_writer_new(fp, fer_manifest_header(in), fer_manifest_columns(in));
    if (w == NULL)
        fer_die_error(out_name);
    char **f;
    int rc;
    size_t kept = 0, rows = 0;
    while ((rc = fer_manifest_next(in, &f)) == 1) {
        char *end;
        long fold = strtol(f[col_fold], &end, 10);
        if (f[col_fold][0] < '0' || f[col_fold][0] > '9' || *end != '\0' || fold >= s->k)
            fer_die(name, "line %zu: fold '%s' is not a number in 0..%d", fer_manifest_line(in),
                    f[col_fold], s->k - 1);
        rows++;
        if ((fold == s->fold) != (s->part == PART_TEST))
            continue;
        if (fer_manifest_write(w, (const char *const *)f) != 0)
            fer_die_error(out_name);
        kept++;
    }
    if (rc < 0)
        fer_die_error(name);
    if (fer_manifest_writer_close(w) != 0)
        fer_die_error(out_name);
    if (s->output && fer_atomic_commit(&atomic, 0) != 0)
        fer_die_error(s->output);
    if (!s->quiet)
        fprintf(stderr, "%s: %zu of %zu rows, by the input's fold column\n", cli.name, kept, rows);
}

int main(int argc, char **argv)
{
    fer_cli_init(&cli);
    struct settings s;
    parse_options(argc, argv, &s);
    const char *input = optind < argc ? argv[optind] : "-";
    struct fer_manifest *in = fer_manifest_open(input);
    if (in == NULL)
        fer_die_error(strcmp(input, "-") == 0 ? "stdin" : input);
    const char *name = fer_manifest_name(in);
    int col_fold = fer_manifest_find(in, "fold");
    if (s.part != PART_ALL && col_fold >= 0) {
        select_part(&s, in, col_fold);
        fer_manifest_close(in);
        return FER_EXIT_OK;
    }
    int col = fer_manifest_find(in, s.subject_column);
    if (col < 0)
        fer_die(name, "no '%s' column: cross-validation needs one subject id per row%s",
                s.subject_column,
                strcmp(s.subject_column, "subject") == 0
                    ? " (give it at extraction, or --subject-from COLUMN)"
                    : "");
    int col_clip = -1;
    if (s.balance == BALANCE_CLIPS && (col_clip = fer_manifest_require(in, "clip")) < 0)
        fer_die(name, "--balance clips: %s", fer_error());

    struct table t = {.n_columns = fer_manifest_columns(in)};
    char **fields;
    int rc;
    while ((rc = fer_manifest_next(in, &fields)) == 1) {
        if (fields[col][0] == '\0')
            fer_die(name, "line %zu: empty '%s'", fer_manifest_line(in), s.subject_column);
        store_row(&t, fields);
    }
    if (rc < 0)
        fer_die_error(name);
    if (t.n_rows == 0)
        fer_die(name, "no rows");
    index_subjects(&t, col);
    if (t.n_subjects < (size_t)s.k)
        fer_die(name, "%d folds but only %zu subjects: every fold needs a subject", s.k,
                t.n_subjects);
    weigh_subjects(&t, &s, col_clip);
    uint64_t *fold_weight = calloc((size_t)s.k, sizeof *fold_weight);
    if (fold_weight == NULL)
        fer_die(NULL, "out of memory");
    assign_folds(&t, &s, fold_weight);
    write_rows(&t, &s, in);
    if (!s.quiet) {
        uint64_t lo = UINT64_MAX, hi = 0;
        for (int f = 0; f < s.k; f++) {
            lo = fold_weight[f] < lo ? fold_weight[f] : lo;
            hi = fold_weight[f] > hi ? fold_weight[f] : hi;
        }
        fprintf(stderr, "%s: %zu rows, %zu subjects in %d folds of %llu..%llu %s\n", cli.name,
                t.n_rows, t.n_subjects, s.k, (unsigned long long)lo, (unsigned long long)hi,
                s.balance == BALANCE_ROWS ? "rows" : "clips");
    }
    for (size_t i = 0; i < t.n_rows; i++)
        free(t.rows[i].buf);
    free(t.rows);
    free(t.subjects);
    free(fold_weight);
    fer_manifest_close(in);
    return FER_EXIT_OK;
}
