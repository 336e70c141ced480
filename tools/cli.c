#include "cli.h"

#include "atomic.h"
#include "error.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { KEY_HELP = 'h', KEY_VERSION = FER_OPT_LONG - 1, MAX_OPTIONS = 96 };

static const struct fer_cli *program;
static struct option long_options[MAX_OPTIONS + 3];
static char short_options[3 * MAX_OPTIONS + 8];

static void on_signal(int sig)
{
    fer_atomic_abort_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void build_getopt_tables(const struct fer_option *opts)
{
    size_t n = 0, s = 0;
    short_options[s++] = ':'; /* report a missing argument as ':' */
    for (const struct fer_option *o = opts; o->name != NULL && n < MAX_OPTIONS; o++, n++) {
        long_options[n] = (struct option){o->name, o->arg ? required_argument : no_argument,
                                          NULL, o->key};
        if (o->key > 0 && o->key < FER_OPT_LONG - 1) {
            short_options[s++] = (char)o->key;
            if (o->arg)
                short_options[s++] = ':';
        }
    }
    long_options[n++] = (struct option){"help", no_argument, NULL, KEY_HELP};
    long_options[n++] = (struct option){"version", no_argument, NULL, KEY_VERSION};
    long_options[n] = (struct option){0};
    short_options[s++] = 'h';
    short_options[s] = '\0';
}

void fer_cli_init(const struct fer_cli *cli)
{
    program = cli;
    build_getopt_tables(cli->options);
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        signal(signals[i], on_signal);
}

const char *fer_cli_program(void)
{
    return program ? program->name : "fer";
}

static void print_help(void)
{
    printf("Usage: %s %s\n%s\n\nOptions:\n", program->name, program->synopsis,
           program->summary);
    for (const struct fer_option *o = program->options; o->name != NULL; o++) {
        char left[64];
        int shortkey = o->key > 0 && o->key < FER_OPT_LONG - 1;
        snprintf(left, sizeof left, "%c%c%s--%s%s%s", shortkey ? '-' : ' ',
                 shortkey ? o->key : ' ', shortkey ? ", " : "  ", o->name,
                 o->arg ? "=" : "", o->arg ? o->arg : "");
        printf("  %-26s ", left);
        for (const char *h = o->help; *h; h++) {
            putchar(*h);
            if (*h == '\n')
                printf("  %-26s ", "");
        }
        putchar('\n');
    }
    printf("  %-26s %s\n  %-26s %s\n", "-h, --help", "show this help and exit",
           "    --version", "show the version and exit");
    if (program->epilog)
        printf("\n%s\n", program->epilog);
}

static const char *option_name(int key, char *buf, size_t n)
{
    for (const struct option *o = long_options; o->name != NULL; o++)
        if (o->val == key) {
            snprintf(buf, n, "--%s", o->name);
            return buf;
        }
    snprintf(buf, n, "-%c", key);
    return buf;
}

int fer_cli_next(int argc, char **argv)
{
    opterr = 0;
    int previous = optind;
    int key = getopt_long(argc, argv, short_options, long_options, NULL);
    char name[64];
    switch (key) {
    case KEY_HELP:
        print_help();
        exit(FER_EXIT_OK);
    case KEY_VERSION:
        printf("%s (fer-tools) %s\n", program->name, FER_VERSION);
        exit(FER_EXIT_OK);
    case ':':
        fer_usage_error("%s: missing argument",
                        optopt ? option_name(optopt, name, sizeof name) : argv[optind - 1]);
    case '?':
        if (optopt)
            fer_usage_error("-%c: unknown option", optopt);
        fer_usage_error("%s: unknown option", argv[optind - 1 > previous ? optind - 1 : previous]);
    default:
        return key;
    }
}

static void vreport(const char *file, const char *fmt, va_list ap)
{
    char message[2048];
    vsnprintf(message, sizeof message, fmt, ap);
    /* One line, always: a cause from a library may carry a newline. */
    for (char *p = message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (file)
        fprintf(stderr, "%s: %s: %s\n", fer_cli_program(), file, message);
    else
        fprintf(stderr, "%s: %s\n", fer_cli_program(), message);
}

void fer_die(const char *file, const char *fmt, ...)
{
    fer_atomic_abort_all();
    va_list ap;
    va_start(ap, fmt);
    vreport(file, fmt, ap);
    va_end(ap);
    exit(FER_EXIT_FAILURE);
}

void fer_die_error(const char *file)
{
    const char *cause = fer_error();
    fer_die(file, "%s", cause[0] ? cause : "failed");
}

void fer_usage_error(const char *fmt, ...)
{
    fer_atomic_abort_all();
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s (see --help)\n", fer_cli_program(), message);
    exit(FER_EXIT_USAGE);
}

void fer_warn(const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(file, fmt, ap);
    va_end(ap);
}

long fer_cli_long(const char *option, const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        fer_usage_error("%s: '%s' is not an integer", option, text);
    if (v < min || v > max)
        fer_usage_error("%s: %ld is out of range %ld..%ld", option, v, min, max);
    return v;
}

double fer_cli_double(const char *option, const char *text, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v))
        fer_usage_error("%s: '%s' is not a number", option, text);
    if (v < min || v > max)
        fer_usage_error("%s: %g is out of range %g..%g", option, v, min, max);
    return v;
}

void fer_cli_size(const char *option, const char *text, int max, int *width, int *height)
{
    char *end;
    errno = 0;
    long w = strtol(text, &end, 10);
    if (end == text || (*end != 'x' && *end != 'X'))
        fer_usage_error("%s: '%s' is not WIDTHxHEIGHT", option, text);
    const char *rest = end + 1;
    long h = strtol(rest, &end, 10);
    if (end == rest || *end != '\0' || errno == ERANGE)
        fer_usage_error("%s: '%s' is not WIDTHxHEIGHT", option, text);
    if (w < 1 || h < 1 || w > max || h > max)
        fer_usage_error("%s: '%s': sides must be 1..%d", option, text, max);
    *width = (int)w;
    *height = (int)h;
}

int fer_cli_choice(const char *option, const char *text, const char *const *words)
{
    char list[512] = "";
    for (int i = 0; words[i] != NULL; i++) {
        if (strcmp(text, words[i]) == 0)
            return i;
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", words[i]);
    }
    fer_usage_error("%s: '%s' is not one of %s", option, text, list);
}
