/* cli.h - what every fer-* program shares: options, help, errors, exit codes.
 *
 * It lives with the tools, not in libfer, because it prints (help on
 * stdout, errors on stderr) and calls exit(); everything in lib/ returns
 * errors instead and leaves both to the program.
 *
 * One option table drives both getopt_long and --help, so the two cannot
 * drift apart. -h/--help and --version are added to every table.
 */
#ifndef FER_CLI_H
#define FER_CLI_H

#include <getopt.h> /* optarg, optind for fer_cli_next callers */
#include <stddef.h>

enum {
    FER_EXIT_OK = 0,      /* success */
    FER_EXIT_FAILURE = 1, /* bad data or a runtime failure */
    FER_EXIT_USAGE = 2,   /* bad options or arguments */
};

/* Keys for long-only options start here (above any char). */
enum { FER_OPT_LONG = 256 };

struct fer_option {
    const char *name; /* long name without dashes */
    int key;          /* short option letter, or FER_OPT_LONG + n */
    const char *arg;  /* argument name shown in help; NULL if it takes none */
    const char *help; /* one line; "\n" starts an indented continuation */
};

struct fer_cli {
    const char *name;     /* program name, e.g. "fer-extract" */
    const char *synopsis; /* after the name, e.g. "[OPTION]... INPUT..." */
    const char *summary;  /* one sentence: what the program does */
    const struct fer_option *options; /* ends with an entry whose name is NULL */
    const char *epilog;   /* printed after the options, may be NULL */
};

/* Remember the program and install signal handlers that remove unfinished
 * atomic outputs (atomic.h) on SIGINT, SIGTERM, SIGHUP and SIGPIPE. */
void fer_cli_init(const struct fer_cli *cli);

/* getopt_long over the table. Returns the option key, or -1 when the options
 * are done (optind is then the first operand). Handles --help and --version
 * (prints, exits 0) and unknown options or missing arguments (one line on
 * stderr, exits 2). The argument is in optarg. */
int fer_cli_next(int argc, char **argv);

/* The program name given to fer_cli_init. */
const char *fer_cli_program(void);

/* Print "prog: file: message" and exit 1, after removing unfinished atomic
 * outputs. file may be NULL. */
_Noreturn void fer_die(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* fer_die with the library's last error (error.h) as the message. */
_Noreturn void fer_die_error(const char *file);

/* Print "prog: message (see --help)" and exit 2. */
_Noreturn void fer_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Print "prog: file: message" as a warning; the program goes on. */
void fer_warn(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Option-argument parsers: on a malformed or out-of-range value they call
 * fer_usage_error naming the option. */
long fer_cli_long(const char *option, const char *text, long min, long max);
double fer_cli_double(const char *option, const char *text, double min, double max);
/* "WxH", e.g. "640x480"; both in 1..max. */
void fer_cli_size(const char *option, const char *text, int max, int *width, int *height);
/* One of a NULL-terminated list of words; returns its index. */
int fer_cli_choice(const char *option, const char *text, const char *const *words);

#endif
