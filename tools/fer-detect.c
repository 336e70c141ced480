/* fer-detect - find faces in still images with an OpenCV cascade; print
 * one TSV row per face. The same detector fer-facetrack uses, exposed on
 * its own for checking it against OpenCV and for quick looks. Colour
 * images are turned grey exactly as cv2.cvtColor does (image.h). */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "cli.h"
#include "detect.h"
#include "error.h"
#include "image.h"

#define DEFAULT_CASCADE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

enum {
    OPT_CASCADE = 'c',
    OPT_OUTPUT = 'o',
    OPT_THREADS = 'j',
    OPT_SCALE = FER_OPT_LONG,
    OPT_NEIGHBORS,
    OPT_MIN_SIZE,
    OPT_MAX_SIZE,
};

static const struct fer_option options[] = {
    {"cascade", OPT_CASCADE, "FILE", "OpenCV cascade XML (Haar or LBP)\n(default: " DEFAULT_CASCADE ")"},
    {"scale-factor", OPT_SCALE, "F", "pyramid step, > 1 (default 1.1)"},
    {"min-neighbors", OPT_NEIGHBORS, "N", "keep boxes of more than N raw hits (default 3;\n0 prints the raw hits)"},
    {"min-size", OPT_MIN_SIZE, "WxH", "smallest face (default 30x30)"},
    {"max-size", OPT_MAX_SIZE, "WxH", "largest face (default: no limit)"},
    {"threads", OPT_THREADS, "N", "worker threads (default 1)"},
    {"output", OPT_OUTPUT, "FILE", "write the table here (default: standard output)"},
    {NULL, 0, NULL, NULL},
};

static const struct fer_cli cli = {
    "fer-detect", "[OPTION]... IMAGE...",
    "Detect faces in PNG, JPEG or PGM (P5) images with a Viola-Jones cascade;\n"
    "print path, x, y, w, h, score as TSV.",
    options,
    "The boxes are those of OpenCV's CascadeClassifier.detectMultiScale with the\n"
    "same cascade and options. See fer-detect(1).",
};

/* Read a binary PGM (P5, maxval 255). Bounds-checked; errors name the cause. */
static int read_pgm(const char *path, struct fer_image *im)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fer_fail_errno("cannot open");
    int rc = -1, field[3], c = 0;
    char magic[2];
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || magic[1] != '5') {
        fer_fail("not a binary PGM (P5) file");
        goto end;
    }
    for (int i = 0; i < 3; i++) {
        c = fgetc(f);
        for (;;) { /* whitespace and comments */
            if (c == '#')
                while (c != '\n' && c != EOF)
                    c = fgetc(f);
            else if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                c = fgetc(f);
            else
                break;
        }
        long v = 0;
        int digits = 0;
        while (c >= '0' && c <= '9' && v <= 1000000) {
            v = v * 10 + (c - '0');
            digits++;
            c = fgetc(f);
        }
        if (digits == 0 || v > 1000000) {
            fer_fail("bad PGM header");
            goto end;
        }
        field[i] = (int)v;
    }
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        fer_fail("bad PGM header");
        goto end;
    }
    if (field[2] != 255) {
        fer_fail("PGM maxval %d unsupported (need 255)", field[2]);
        goto end;
    }
    if (field[0] < 1 || field[1] < 1 || field[0] > FER_IMAGE_MAX_SIDE ||
        field[1] > FER_IMAGE_MAX_SIDE || (long long)field[0] * field[1] > FER_IMAGE_MAX_PIXELS) {
        fer_fail("PGM size %dx%d out of range", field[0], field[1]);
        goto end;
    }
    im->width = field[0];
    im->height = field[1];
    im->channels = 1;
    im->stride = (size_t)field[0];
    im->data = malloc((size_t)field[0] * (size_t)field[1]);
    if (im->data == NULL) {
        fer_fail("out of memory");
        goto end;
    }
    if (fread(im->data, 1, (size_t)field[0] * (size_t)field[1], f) !=
        (size_t)field[0] * (size_t)field[1]) {
        free(im->data);
        im->data = NULL;
        fer_fail("truncated PGM file");
        goto end;
    }
    rc = 0;
end:
    fclose(f);
    return rc;
}

/* PNG and JPEG through the image module (grey as OpenCV's cvtColor makes
 * it); binary PGM here, the format the agreement test feeds us. */
static int read_grey(const char *path, struct fer_image *im)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fer_fail_errno("cannot open");
    char magic[2] = {0};
    size_t got = fread(magic, 1, 2, f);
    fclose(f);
    if (got == 2 && magic[0] == 'P' && magic[1] >= '1' && magic[1] <= '6')
        return read_pgm(path, im);
    return fer_image_read(path, im, 1);
}

int main(int argc, char **argv)
{
    fer_cli_init(&cli);
    const char *cascade = DEFAULT_CASCADE, *output = NULL;
    struct fer_detect_params p;
    fer_detect_params_default(&p);
    int key;
    while ((key = fer_cli_next(argc, argv)) != -1) {
        switch (key) {
        case OPT_CASCADE: cascade = optarg; break;
        case OPT_OUTPUT: output = optarg; break;
        case OPT_SCALE: p.scale_factor = fer_cli_double("--scale-factor", optarg, 1.0001, 100); break;
        case OPT_NEIGHBORS: p.min_neighbors = (int)fer_cli_long("--min-neighbors", optarg, 0, 1000000); break;
        case OPT_MIN_SIZE: fer_cli_size("--min-size", optarg, 1 << 20, &p.min_w, &p.min_h); break;
        case OPT_MAX_SIZE: fer_cli_size("--max-size", optarg, 1 << 20, &p.max_w, &p.max_h); break;
        case OPT_THREADS: p.threads = (int)fer_cli_long("--threads", optarg, 1, 64); break;
        }
    }
    if (optind >= argc)
        fer_usage_error("no input image");

    struct fer_detector *det = fer_detector_open_cascade(cascade);
    if (det == NULL)
        fer_die_error(NULL); /* the message names the file */
    /* Collect the whole table first: a bad image leaves no partial output. */
    char *table = NULL;
    size_t table_len = 0;
    FILE *mem = open_memstream(&table, &table_len);
    if (mem == NULL)
        fer_die(NULL, "out of memory");
    fprintf(mem, "path\tx\ty\tw\th\tscore\n");
    struct fer_boxes boxes = {0};
    for (int i = optind; i < argc; i++) {
        struct fer_image im = {0};
        if (read_grey(argv[i], &im) < 0 || fer_detector_detect(det, &im, &p, &boxes) < 0)
            fer_die_error(argv[i]);
        for (size_t k = 0; k < boxes.n; k++)
            fprintf(mem, "%s\t%d\t%d\t%d\t%d\t%g\n", argv[i], boxes.v[k].x, boxes.v[k].y,
                    boxes.v[k].w, boxes.v[k].h, (double)boxes.v[k].score);
        fer_image_free(&im);
    }
    if (fclose(mem) != 0)
        fer_die(NULL, "out of memory");
    if (output != NULL) {
        struct fer_atomic a = {0};
        if (fer_atomic_open(&a, output) < 0)
            fer_die_error(output);
        fwrite(table, 1, table_len, a.fp);
        if (fer_atomic_commit(&a, 0) < 0)
            fer_die_error(output);
    } else if (fwrite(table, 1, table_len, stdout) != table_len || fflush(stdout) != 0) {
        fer_die(NULL, "write error on standard output");
    }
    free(table);
    fer_boxes_free(&boxes);
    fer_detector_free(det);
    return FER_EXIT_OK;
}
