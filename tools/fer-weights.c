/* fer-weights - inspect, check and rewrite safetensors weight files.
 *
 *   fer-weights list FILE        tensors as TSV: name, dtype, shape, elements
 *   fer-weights meta FILE        __metadata__ as TSV: key, value
 *   fer-weights check FILE...    validate; silent on success
 *   fer-weights copy -o OUT FILE read and write back in fer-tools' form
 *
 * The format and the rules the reader enforces: man 5 fer-weights.
 */
#include "cli.h"
#include "error.h"
#include "weights.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 'o', OPT_META = 'm', OPT_QUIET = 'q' };

static const struct fer_option options[] = {
    {"output", OPT_OUTPUT, "FILE", "copy: write to FILE (atomically)"},
    {"meta", OPT_META, "KEY=VALUE", "copy: set a __metadata__ entry (repeatable;\n"
                                    "an empty VALUE removes the key)"},
    {"quiet", OPT_QUIET, NULL, "check: no summary line per file"},
    {NULL, 0, NULL, NULL},
};

static const struct fer_cli cli = {
    "fer-weights",
    "list|meta|check|copy [OPTION]... FILE...",
    "List, validate or rewrite safetensors weight files (man 5 fer-weights).",
    options,
    "Commands:\n"
    "  list FILE      one TSV row per tensor: name, dtype, shape (comma-separated), elements\n"
    "  meta FILE      one TSV row per __metadata__ entry: key, value\n"
    "  check FILE...  validate every file; one line per file: name, tensors, elements\n"
    "  copy -o OUT FILE  rewrite FILE as fer-tools writes it (F32, sorted by name)\n"
    "Exit status: 0 if all files are valid, 1 if one is not, 2 on bad usage.",
};

/* TSV cannot hold TAB, CR or LF in a field: write them (and the backslash
 * that escapes them) as C-style escapes, so that no name breaks a row. */
static void put_field(const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\t': fputs("\\t", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        default: putchar(*s);
        }
    }
}

static void list(const struct fer_weights *w)
{
    puts("name\tdtype\tshape\telements");
    for (size_t i = 0; i < w->n_tensors; i++) {
        const struct fer_weights_tensor *t = &w->tensors[i];
        put_field(t->name);
        printf("\t%s\t", fer_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++)
            printf("%s%" PRId64, d ? "," : "", t->shape[d]);
        printf("\t%zu\n", t->count);
    }
}

static void meta(const struct fer_weights *w)
{
    puts("key\tvalue");
    for (size_t i = 0; i < w->n_meta; i++) {
        put_field(w->meta[i].key);
        putchar('\t');
        put_field(w->meta[i].value);
        putchar('\n');
    }
}

static void summary(const char *path, const struct fer_weights *w)
{
    size_t elements = 0;
    for (size_t i = 0; i < w->n_tensors; i++)
        elements += w->tensors[i].count;
    put_field(path);
    printf("\t%zu tensors\t%zu elements\n", w->n_tensors, elements);
}

/* Apply KEY=VALUE edits to the metadata; an empty value removes the key. */
static void edit_meta(struct fer_weights *w, char **edits, int n)
{
    for (int i = 0; i < n; i++) {
        char *eq = strchr(edits[i], '='); /* checked when parsing options */
        *eq = '\0';
        const char *key = edits[i], *value = eq + 1;
        if (*value != '\0') {
            if (fer_weights_set_meta(w, key, value) != 0)
                fer_die_error(NULL);
            continue;
        }
        for (size_t k = 0; k < w->n_meta; k++)
            if (strcmp(w->meta[k].key, key) == 0) {
                free(w->meta[k].key);
                free(w->meta[k].value);
                w->meta[k] = w->meta[--w->n_meta];
                break;
            }
    }
}

int main(int argc, char **argv)
{
    fer_cli_init(&cli);
    const char *output = NULL;
    int quiet = 0, n_edits = 0;
    char **edits = calloc((size_t)argc, sizeof *edits);
    if (edits == NULL)
        fer_die(NULL, "out of memory");
    int key;
    while ((key = fer_cli_next(argc, argv)) != -1) {
        switch (key) {
        case OPT_OUTPUT: output = optarg; break;
        case OPT_META:
            if (strchr(optarg, '=') == NULL || optarg[0] == '=')
                fer_usage_error("--meta: '%s' is not KEY=VALUE", optarg);
            edits[n_edits++] = optarg;
            break;
        case OPT_QUIET: quiet = 1; break;
        }
    }
    if (optind >= argc)
        fer_usage_error("no command (list, meta, check or copy)");
    static const char *const commands[] = {"list", "meta", "check", "copy", NULL};
    int command = fer_cli_choice("command", argv[optind++], commands);
    int n_files = argc - optind;
    if (n_files < 1)
        fer_usage_error("%s: no FILE given", commands[command]);
    if (command != 2 && n_files != 1)
        fer_usage_error("%s takes one FILE", commands[command]);
    if (command == 3 && output == NULL)
        fer_usage_error("copy needs -o OUT");
    if (command != 3 && (output != NULL || n_edits > 0))
        fer_usage_error("-o and --meta are for copy only");

    int status = FER_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        struct fer_weights w;
        if (fer_weights_read(argv[i], &w) != 0) {
            if (command != 2)
                fer_die_error(argv[i]);
            fer_warn(argv[i], "%s", fer_error()); /* check goes on with the next file */
            status = FER_EXIT_FAILURE;
            continue;
        }
        switch (command) {
        case 0: list(&w); break;
        case 1: meta(&w); break;
        case 2:
            if (!quiet)
                summary(argv[i], &w);
            break;
        case 3:
            edit_meta(&w, edits, n_edits);
            if (fer_weights_write(output, &w) != 0)
                fer_die_error(output);
            break;
        }
        fer_weights_free(&w);
    }
    free(edits);
    if (fflush(stdout) != 0 || ferror(stdout))
        fer_die("stdout", "write error");
    return status;
}
