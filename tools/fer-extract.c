/* fer-extract - turn videos, images and dataset trees into frame images and
 * a frames manifest (man fer-extract). */
#include "atomic.h"
#include "cli.h"
#include "dataset.h"
#include "error.h"
#include "frame_sampler.h"
#include "frame_writer.h"
#include "image.h"
#include "manifest.h"
#include "progress.h"
#include "video.h"

#include <libavutil/parseutils.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    OPT_START = FER_OPT_LONG,
    OPT_END,
    OPT_EVERY,
    OPT_SIZE,
    OPT_MAX_SIDE,
    OPT_FORMAT,
    OPT_QUALITY,
    OPT_GREY,
    OPT_NO_AUTOROTATE,
    OPT_DATASET,
    OPT_SUBJECT_REGEX,
};

static const struct fer_option options[] = {
    {"output", 'o', "DIR", "write frames under DIR/CLIP/ (required)"},
    {"rate", 'r', "FPS", "keep the frames ffmpeg -vf fps=FPS keeps (by time, not index)"},
    {"start", OPT_START, "SEC", "skip frames before SEC seconds"},
    {"end", OPT_END, "SEC", "stop at SEC seconds (frames with pts < SEC are kept)"},
    {"every", OPT_EVERY, "N", "then keep every Nth frame (default 1)"},
    {"size", OPT_SIZE, "WxH", "resize every frame to exactly WxH"},
    {"max-side", OPT_MAX_SIDE, "N", "shrink so that the longer side is at most N,\naspect kept"},
    {"format", OPT_FORMAT, "FMT", "png (default) or jpg"},
    {"quality", OPT_QUALITY, "Q", "JPEG quality 1..100 (default 90), PNG zlib level 0..9"},
    {"grey", OPT_GREY, NULL, "write grey (1-channel) images"},
    {"no-autorotate", OPT_NO_AUTOROTATE, NULL, "keep frames as stored, not turned upright\nby the display matrix"},
    {"threads", 'j', "N", "decoder and encoder threads (default: CPUs online)"},
    {"dataset", OPT_DATASET, "KIND", "operands are dataset roots of KIND: ckplus, afew,\nrafdb, folder, fer2013"},
    {"subject-regex", OPT_SUBJECT_REGEX, "RE", "--dataset folder: group 1 of RE on a file name\nis the subject"},
    {"quiet", 'q', NULL, "no progress line"},
    {NULL, 0, NULL, NULL},
};

static const struct fer_cli cli = {
    "fer-extract",
    "[OPTION]... -o DIR INPUT...",
    "Extract frames from videos, images, image folders or dataset roots into DIR\n"
    "and write the frames manifest (TSV) to standard output.",
    options,
    "INPUT is a video file, a PNG or JPEG image, a directory of images (one clip,\n"
    "frames in name order), or with --dataset a dataset root. See man fer-extract.",
};

static const char *const columns[] = {"clip", "frame",   "pts",   "path", "width",
                                      "height", "subject", "label", "split"};
enum { N_COLUMNS = sizeof columns / sizeof columns[0] };

struct settings {
    const char *outdir;
    AVRational rate; /* 0/0: every frame */
    double start, end;
    long every;
    int threads, quiet, no_autorotate;
    const char *dataset, *subject_regex;
    struct fer_frame_writer_options writer;
};

/* What the run holds for the clip being written. Rows go to a temporary
 * file and reach stdout only when the whole clip is written, so a clip that
 * fails leaves no rows; its frames are then removed (`written`). */
struct clip_state {
    const char *input; /* name for messages */
    char id[512];
    char dir[4096];
    const char *subject, *label, *split;
    FILE *rows;
    int64_t *written;
    size_t n_written, cap_written;
    int made_dir;
};

static struct settings set;
static struct clip_state current; /* the clip being written; the writer reports into it */
static struct fer_frame_writer *writer;
static struct fer_progress progress;

/* ---- output paths and rows ---------------------------------------------- */

static int has_manifest_special(const char *s)
{
    return s != NULL && strpbrk(s, "\t\r\n") != NULL;
}

static void frame_path(const struct clip_state *c, int64_t frame, char *out, size_t n)
{
    snprintf(out, n, "%s/%06lld.%s", c->dir, (long long)frame,
             fer_image_format_extension(set.writer.format));
}

static int on_written(void *user, const struct fer_frame_job *job)
{
    struct clip_state *c = user;
    if (c->n_written == c->cap_written) {
        size_t cap = c->cap_written ? 2 * c->cap_written : 256;
        int64_t *p = realloc(c->written, cap * sizeof *p);
        if (p == NULL)
            return fer_fail("out of memory");
        c->written = p;
        c->cap_written = cap;
    }
    c->written[c->n_written++] = job->frame;
    char pts[64] = "";
    if (!isnan(job->seconds))
        snprintf(pts, sizeof pts, "%.6f", job->seconds);
    if (fprintf(c->rows, "%s\t%lld\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", c->id, (long long)job->frame,
                pts, job->path, job->width, job->height, c->subject ? c->subject : "",
                c->label ? c->label : "", c->split ? c->split : "") < 0)
        return fer_fail_errno("cannot write the manifest rows");
    return 0;
}

/* ---- clip lifecycle ----------------------------------------------------- */

static void clip_begin(struct clip_state *c, const char *input, const char *id,
                       const char *subject, const char *label, const char *split)
{
    memset(c, 0, sizeof *c);
    c->input = input;
    c->subject = subject;
    c->label = label;
    c->split = split;
    snprintf(c->id, sizeof c->id, "%s", id);
    if (c->id[0] == '\0' || strchr(c->id, '/') != NULL || strcmp(c->id, ".") == 0 ||
        strcmp(c->id, "..") == 0 || has_manifest_special(c->id))
        fer_die(input, "'%s' cannot be used as a clip name", id);
    if (has_manifest_special(subject) || has_manifest_special(label) ||
        has_manifest_special(split))
        fer_die(input, "subject, label or split contains a TAB or newline");
    int n = snprintf(c->dir, sizeof c->dir, "%s/%s", set.outdir, c->id);
    if (n < 0 || (size_t)n >= sizeof c->dir - 16 || has_manifest_special(c->dir))
        fer_die(input, "output path too long or not usable in a manifest");
    if (mkdir(c->dir, 0777) == 0)
        c->made_dir = 1;
    else if (errno != EEXIST)
        fer_die(set.outdir, "cannot create directory '%s': %s", c->dir, strerror(errno));
    c->rows = tmpfile();
    if (c->rows == NULL)
        fer_die(NULL, "cannot create a temporary file: %s", strerror(errno));
}

/* Undo the clip: what the writer has in flight, the frames written so far,
 * the directory if we made it. Then die with the message. */
static _Noreturn void clip_fail(struct clip_state *c, const char *file)
{
    char message[1024];
    snprintf(message, sizeof message, "%s", fer_error()[0] ? fer_error() : "failed");
    char blame[4096];
    snprintf(blame, sizeof blame, "%s", file ? file : c->input);
    if (writer != NULL) {
        const char *src = fer_frame_writer_failed_file(writer);
        if (src != NULL && file == NULL)
            snprintf(blame, sizeof blame, "%s", src);
        fer_frame_writer_abort(writer);
    }
    for (size_t i = 0; i < c->n_written; i++) {
        char path[4200];
        frame_path(c, c->written[i], path, sizeof path);
        unlink(path);
    }
    if (c->made_dir)
        rmdir(c->dir);
    fer_die(blame, "%s", message);
}

/* The header goes out with the first finished clip (or at the end of a
 * run that kept no frame), so a run that fails on its first input writes
 * nothing at all to stdout, not even a valid-looking empty manifest. */
static void write_header(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    struct fer_manifest_writer *header = fer_manifest_writer_new(stdout, columns, N_COLUMNS);
    if (header == NULL || fer_manifest_writer_close(header) != 0)
        fer_die_error("stdout");
}

static void clip_end(struct clip_state *c)
{
    if (fer_frame_writer_flush(writer) != 0)
        clip_fail(c, NULL);
    /* All frames are on disk: publish the rows. */
    write_header();
    rewind(c->rows);
    char buf[1 << 15];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, c->rows)) > 0)
        if (fwrite(buf, 1, n, stdout) != n)
            break;
    if (ferror(c->rows) || fflush(stdout) != 0 || ferror(stdout))
        fer_die("stdout", "cannot write the manifest: %s", strerror(errno));
    fclose(c->rows);
    free(c->written);
    memset(c, 0, sizeof *c);
}

static void submit(struct clip_state *c, struct fer_image *image, const char *source,
                   int64_t frame, double seconds)
{
    char path[4200];
    frame_path(c, frame, path, sizeof path);
    if (fer_frame_writer_submit(writer, image, source, path, frame, seconds) != 0)
        clip_fail(c, NULL);
}

/* ---- clips of each kind ------------------------------------------------- */

static void emit_video_frame(struct clip_state *c, struct fer_video *v,
                             const struct fer_video_frame *f)
{
    struct fer_image rgb = {0};
    if (fer_video_frame_convert(v, f, &rgb) != 0) {
        fer_image_free(&rgb);
        fer_video_close(v);
        clip_fail(c, NULL);
    }
    submit(c, &rgb, NULL, f->index, f->seconds);
}

static void extract_video(const char *path, const char *id, const char *subject,
                          const char *label, const char *split)
{
    struct fer_video *v = fer_video_open(path, set.threads);
    if (v == NULL)
        fer_die_error(path);
    fer_video_set_autorotate(v, !set.no_autorotate);
    if (!set.no_autorotate && fer_video_turn(v) == 0 && fer_video_rotation(v) >= 1.0 &&
        fer_video_rotation(v) <= 359.0)
        fer_warn(path, "the display matrix turns the picture %.0f degrees clockwise, "
                 "not a multiple of 90; frames are kept as stored", fer_video_rotation(v));
    struct clip_state *c = &current;
    clip_begin(c, path, id, subject, label, split);
    int tb_num, tb_den;
    fer_video_time_base(v, &tb_num, &tb_den);
    struct fer_frame_sampler s;
    fer_frame_sampler_init(&s, set.rate.num, set.rate.den, tb_num, tb_den, set.start, set.end,
                           set.every);
    int timed = set.rate.num > 0 || set.start > 0 || isfinite(set.end);
    fer_progress_begin(&progress, c->id, (uint64_t)fer_video_frame_count(v), set.quiet);
    struct fer_video_frame held = {0}, cur = {0};
    int64_t end_pts = 0;
    int r, stopped = 0;
    while ((r = fer_video_next(v, &cur)) == 1) {
        fer_progress_update(&progress, (uint64_t)cur.index + 1);
        int64_t pts = cur.pts;
        if (pts == INT64_MIN) {
            if (timed) {
                fer_fail("frame %lld has no timestamp (needed by -r, --start, --end)",
                         (long long)cur.index);
                r = -1;
                break;
            }
            pts = cur.index; /* order is all that matters without a time filter */
        }
        int flags = fer_frame_sampler_push(&s, pts);
        if (flags & FER_SAMPLER_KEEP_HELD)
            emit_video_frame(c, v, &held);
        if (flags & FER_SAMPLER_STOP) {
            stopped = 1;
            break;
        }
        if (flags & FER_SAMPLER_HOLD) {
            end_pts = pts + cur.duration;
            fer_video_frame_move(&held, &cur);
        }
    }
    if (r < 0) {
        fer_video_frame_release(&held);
        fer_video_frame_release(&cur);
        fer_video_close(v);
        fer_progress_end(&progress);
        clip_fail(c, NULL);
    }
    if (!stopped && fer_frame_sampler_finish(&s, end_pts))
        emit_video_frame(c, v, &held);
    fer_video_frame_release(&held);
    fer_video_frame_release(&cur);
    fer_video_close(v);
    fer_progress_end(&progress);
    clip_end(c);
}

/* Image sequences have no timestamps: -r, --start and --end do not apply,
 * --every does. */
static void extract_sequence(const char *input, char *const *paths, size_t n, const char *id,
                             const char *subject, const char *label, const char *split)
{
    struct clip_state *c = &current;
    clip_begin(c, input, id, subject, label, split);
    fer_progress_begin(&progress, c->id, n, set.quiet || n < 2);
    for (size_t i = 0; i < n; i++) {
        fer_progress_update(&progress, i + 1);
        if (i % (size_t)set.every == 0)
            submit(c, NULL, paths[i], (int64_t)i, NAN);
    }
    fer_progress_end(&progress);
    clip_end(c);
}

static void extract_pixels(const char *input, const struct fer_image *pixels, const char *id,
                           const char *subject, const char *label, const char *split)
{
    struct clip_state *c = &current;
    clip_begin(c, input, id, subject, label, split);
    struct fer_image copy;
    if (fer_image_alloc(&copy, pixels->width, pixels->height, pixels->channels) != 0)
        clip_fail(c, NULL);
    for (int y = 0; y < pixels->height; y++)
        memcpy(copy.data + (size_t)y * copy.stride, pixels->data + (size_t)y * pixels->stride,
               (size_t)pixels->width * (size_t)pixels->channels);
    submit(c, &copy, NULL, 0, NAN);
    clip_end(c);
}

/* ---- plain inputs ------------------------------------------------------- */

/* Clip names must be unique in a run; a repeated base name gets "-2", "-3". */
static char **used_ids;
static size_t n_used_ids;

static void unique_id(const char *base, char *out, size_t n)
{
    snprintf(out, n, "%s", base);
    for (int k = 2;; k++) {
        int clash = 0;
        for (size_t i = 0; i < n_used_ids && !clash; i++)
            clash = strcmp(used_ids[i], out) == 0;
        if (!clash)
            break;
        snprintf(out, n, "%s-%d", base, k);
    }
    char **p = realloc(used_ids, (n_used_ids + 1) * sizeof *p);
    if (p == NULL || (p[n_used_ids] = strdup(out)) == NULL)
        fer_die(NULL, "out of memory");
    used_ids = p;
    n_used_ids++;
}

/* The base name of a path without its extension (and trailing slashes). */
static void base_name(const char *path, int strip_ext, char *out, size_t n)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    size_t len = strlen(tmp);
    while (len > 1 && tmp[len - 1] == '/')
        tmp[--len] = '\0';
    const char *b = strrchr(tmp, '/');
    b = b ? b + 1 : tmp;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (strip_ext && dot != NULL && dot != out)
        *dot = '\0';
    if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0 || out[0] == '\0' ||
        strcmp(out, "/") == 0) {
        char *real = realpath(path, NULL);
        const char *rb = real ? strrchr(real, '/') : NULL;
        snprintf(out, n, "%s", rb && rb[1] ? rb + 1 : "root");
        free(real);
    }
}

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' && dot != NULL &&
           (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
            strcasecmp(dot, ".jpeg") == 0);
}

static int by_version(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

static void extract_directory(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        fer_die(dir, "%s", strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_image_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (p == NULL)
                fer_die(dir, "out of memory");
            names = p;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if ((names[n] = malloc(len)) == NULL)
            fer_die(dir, "out of memory");
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n == 0)
        fer_die(dir, "no PNG or JPEG images in the directory");
    /* Name order, with digit runs compared as numbers: frame2 < frame10. */
    qsort(names, n, sizeof *names, by_version);
    char base[256], id[512];
    base_name(dir, 0, base, sizeof base);
    unique_id(base, id, sizeof id);
    extract_sequence(dir, names, n, id, NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* PNG and JPEG are recognised by their first bytes; anything else goes to
 * libavformat, which has its own probing. */
static int sniff_image(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fer_die(path, "%s", strerror(errno));
    unsigned char magic[8] = {0};
    ssize_t got = read(fd, magic, sizeof magic);
    close(fd);
    if (got < 0)
        fer_die(path, "%s", strerror(errno));
    if (got == 0)
        fer_die(path, "empty file");
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (got == 8 && memcmp(magic, png, 8) == 0)
        return 1;
    return got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff;
}

static void extract_input(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fer_die(path, "%s", strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        extract_directory(path);
        return;
    }
    char base[256], id[512];
    base_name(path, 1, base, sizeof base);
    unique_id(base, id, sizeof id);
    if (sniff_image(path)) {
        char *const one[1] = {(char *)path};
        extract_sequence(path, one, 1, id, NULL, NULL, NULL);
    } else {
        extract_video(path, id, NULL, NULL, NULL);
    }
}

static void extract_dataset(const char *root)
{
    struct fer_dataset_options dopt = {set.subject_regex};
    struct fer_dataset *d = fer_dataset_open(set.dataset, root, &dopt);
    if (d == NULL)
        fer_die_error(root);
    const struct fer_clip *clip;
    int r;
    while ((r = fer_dataset_next(d, &clip)) == 1) {
        switch (clip->kind) {
        case FER_CLIP_VIDEO:
            extract_video(clip->paths[0], clip->id, clip->subject, clip->label, clip->split);
            break;
        case FER_CLIP_SEQUENCE:
        case FER_CLIP_IMAGE:
            extract_sequence(root, clip->paths, clip->n_paths, clip->id, clip->subject,
                             clip->label, clip->split);
            break;
        case FER_CLIP_PIXELS:
            extract_pixels(root, &clip->pixels, clip->id, clip->subject, clip->label,
                           clip->split);
            break;
        }
    }
    if (r < 0)
        fer_die_error(root);
    const char *unmapped = fer_dataset_unmapped(d);
    if (unmapped[0] != '\0' && !set.quiet)
        fer_warn(root, "skipped classes that map to no label: %s", unmapped);
    fer_dataset_close(d);
}

/* ---- options ------------------------------------------------------------ */

static void parse_options(int argc, char **argv)
{
    static const char *const formats[] = {"png", "jpg", "jpeg", NULL};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    set.threads = cpus < 1 ? 1 : cpus > 16 ? 16 : (int)cpus;
    set.every = 1;
    set.end = INFINITY;
    set.writer.format = FER_IMAGE_PNG;
    int quality_set = 0, size_set = 0;
    long quality = 0;
    int key;
    while ((key = fer_cli_next(argc, argv)) != -1) {
        switch (key) {
        case 'o': set.outdir = optarg; break;
        case 'r':
            if (av_parse_video_rate(&set.rate, optarg) < 0 || set.rate.num <= 0 ||
                set.rate.den <= 0)
                fer_usage_error("-r: '%s' is not a frame rate", optarg);
            break;
        case OPT_START: set.start = fer_cli_double("--start", optarg, 0, 1e9); break;
        case OPT_END: set.end = fer_cli_double("--end", optarg, 0, 1e9); break;
        case OPT_EVERY: set.every = fer_cli_long("--every", optarg, 1, 1000000000L); break;
        case OPT_SIZE:
            fer_cli_size("--size", optarg, FER_IMAGE_MAX_SIDE, &set.writer.width,
                         &set.writer.height);
            size_set = 1;
            break;
        case OPT_MAX_SIDE:
            set.writer.max_side = (int)fer_cli_long("--max-side", optarg, 1, FER_IMAGE_MAX_SIDE);
            break;
        case OPT_FORMAT:
            set.writer.format = fer_cli_choice("--format", optarg, formats) == 0
                                    ? FER_IMAGE_PNG
                                    : FER_IMAGE_JPEG;
            break;
        case OPT_QUALITY:
            quality = fer_cli_long("--quality", optarg, 0, 100);
            quality_set = 1;
            break;
        case OPT_GREY: set.writer.grey = 1; break;
        case OPT_NO_AUTOROTATE: set.no_autorotate = 1; break;
        case 'j': set.threads = (int)fer_cli_long("--threads", optarg, 1, 64); break;
        case OPT_DATASET:
            set.dataset = fer_dataset_kinds[fer_cli_choice("--dataset", optarg,
                                                           fer_dataset_kinds)];
            break;
        case OPT_SUBJECT_REGEX: set.subject_regex = optarg; break;
        case 'q': set.quiet = 1; break;
        default: fer_usage_error("unhandled option");
        }
    }
    if (set.outdir == NULL)
        fer_usage_error("-o DIR is required");
    if (optind >= argc)
        fer_usage_error("no input");
    if (set.end <= set.start)
        fer_usage_error("--end must be after --start");
    if (size_set && set.writer.max_side > 0)
        fer_usage_error("--size and --max-side exclude each other");
    if (set.subject_regex != NULL && (set.dataset == NULL || strcmp(set.dataset, "folder") != 0))
        fer_usage_error("--subject-regex needs --dataset folder");
    if (set.writer.format == FER_IMAGE_JPEG) {
        if (quality_set && quality < 1)
            fer_usage_error("--quality: JPEG quality is 1..100");
        set.writer.quality = quality_set ? (int)quality : 90;
    } else {
        if (quality_set && quality > 9)
            fer_usage_error("--quality: PNG level is 0..9");
        set.writer.quality = quality_set ? (int)quality : -1;
    }
    set.writer.threads = set.threads;
}

static void prepare_outdir(void)
{
    /* "frames/" and "frames" name the same directory; keep paths clean. */
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", set.outdir);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    set.outdir = dir;
    if (mkdir(set.outdir, 0777) != 0 && errno != EEXIST)
        fer_die(set.outdir, "cannot create directory: %s", strerror(errno));
    struct stat st;
    if (stat(set.outdir, &st) != 0 || !S_ISDIR(st.st_mode))
        fer_die(set.outdir, "not a directory");
    if (access(set.outdir, W_OK | X_OK) != 0)
        fer_die(set.outdir, "cannot write into directory: %s", strerror(errno));
    /* Manifests carry absolute paths: the one we print may be saved in
     * another directory or read through a pipe (fer-manifest(5)). */
    static char absolute[PATH_MAX];
    if (realpath(set.outdir, absolute) == NULL)
        fer_die(set.outdir, "%s", strerror(errno));
    set.outdir = absolute;
}

int main(int argc, char **argv)
{
    fer_cli_init(&cli);
    /* Past a file-size limit (ulimit -f) a write should fail with EFBIG and
     * be reported, not kill us with SIGXFSZ before temporaries are removed. */
    signal(SIGXFSZ, SIG_IGN);
    parse_options(argc, argv);
    prepare_outdir();

    writer = fer_frame_writer_new(&set.writer, on_written, &current);
    if (writer == NULL)
        fer_die_error(NULL);

    for (int i = optind; i < argc; i++) {
        if (set.dataset != NULL)
            extract_dataset(argv[i]);
        else
            extract_input(argv[i]);
    }

    fer_frame_writer_free(writer);
    write_header();
    for (size_t i = 0; i < n_used_ids; i++)
        free(used_ids[i]);
    free(used_ids);
    if (fclose(stdout) != 0)
        fer_die("stdout", "%s", strerror(errno));
    return FER_EXIT_OK;
}
