/* fer-facetrack - find faces, keep one identity per track, write crops.
 *
 * Reads a frames manifest (fer-extract), writes a faces manifest: one row
 * per face per frame with its track id, box and normalized crop. Each clip
 * is done in two passes: detect in every frame (keeping only boxes), track
 * the whole clip, then read each frame again to cut the crops of the kept
 * tracks. See man fer-facetrack.
 */
#include "cli.h"
#include "detect.h"
#include "error.h"
#include "face_clips.h"
#include "face_crop.h"
#include "image.h"
#include "manifest.h"
#include "progress.h"
#include "tracker.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_CASCADE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

enum {
    OPT_CASCADE = FER_OPT_LONG, OPT_SCALE_FACTOR, OPT_MIN_NEIGHBORS, OPT_MIN_SIZE, OPT_MAX_SIZE,
    OPT_MASK, OPT_MIN_IOU, OPT_MAX_GAP, OPT_MIN_TRACK, OPT_SMOOTH, OPT_KEEP_EMPTY, OPT_SIZE,
    OPT_MARGIN, OPT_WIDEN, OPT_BORDER, OPT_GREY, OPT_FORMAT, OPT_QUALITY, OPT_OVERLAP,
};

static const struct fer_option options[] = {
    {"output", 'o', "DIR", "write crops under DIR (required; created if missing)"},
    {"cascade", OPT_CASCADE, "FILE", "OpenCV cascade XML, Haar or LBP (default:\n" DEFAULT_CASCADE ")"},
    {"scale-factor", OPT_SCALE_FACTOR, "F", "detector pyramid step (default 1.1)"},
    {"min-neighbors", OPT_MIN_NEIGHBORS, "N", "hits a face needs beyond the first (default 3)"},
    {"min-size", OPT_MIN_SIZE, "WxH", "smallest face, e.g. 30x30 (default 30x30)"},
    {"max-size", OPT_MAX_SIZE, "WxH", "largest face (default: no limit)"},
    {"mask", OPT_MASK, "X,Y,W,H", "ignore faces centred in this area (screen overlays);\nrepeatable"},
    {"overlap", OPT_OVERLAP, "R", "in one frame, drop a face whose box lies more than R\n"
                                  "inside a surer one (default 0.5; 1: keep all)"},
    {"min-iou", OPT_MIN_IOU, "R", "least overlap to continue a track (default 0.3)"},
    {"max-gap", OPT_MAX_GAP, "N", "frames a track may miss before it ends (default 10)"},
    {"min-track", OPT_MIN_TRACK, "N", "drop tracks of fewer faces (default 5)"},
    {"smooth", OPT_SMOOTH, "R", "average boxes over 2R+1 frames of a track (default 0: off)"},
    {"keep-empty", OPT_KEEP_EMPTY, NULL, "write a row with empty face columns for frames\nwithout a face"},
    {"size", OPT_SIZE, "N", "crop side in pixels (default 64)"},
    {"margin", OPT_MARGIN, "F", "extra border on each side, fraction of the side (default 0)"},
    {"widen", OPT_WIDEN, "F", "widen the box by F times its width first (default 0.31, RMFER)"},
    {"border", OPT_BORDER, "MODE", "pad (repeat edge pixels, default) or clip (shift inside)"},
    {"grey", OPT_GREY, NULL, "grey crops (default: RGB)"},
    {"format", OPT_FORMAT, "FMT", "png (default) or jpg"},
    {"quality", OPT_QUALITY, "Q", "JPEG quality 1-100 (default 95)"},
    {"threads", 'j', "N", "detection threads (default 1)"},
    {"quiet", 'q', NULL, "no progress line"},
    {NULL, 0, NULL, NULL},
};

static const struct fer_cli cli = {
    .name = "fer-facetrack",
    .synopsis = "-o DIR [OPTION]... [FRAMES.tsv]",
    .summary = "Detect faces in frames, track each person, write normalized face crops.",
    .options = options,
    .epilog = "Reads standard input when no file is given; writes the faces manifest to\n"
              "standard output. See man fer-facetrack.",
};

enum { MAX_MASKS = 32 };

struct settings {
    const char *out_dir, *cascade;
    struct fer_detect_params detect;
    struct fer_track_params track;
    struct fer_crop_params crop;
    struct fer_rect masks[MAX_MASKS];
    int n_masks, keep_empty, quality, quiet;
    double overlap;
    enum fer_image_format format;
};

struct clip_state {
    char ***rows;      /* the clip's input rows */
    size_t n_rows, cap_rows;
    struct fer_detection *dets;
    size_t n_dets, cap_dets;
};

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * size);
    if (q == NULL)
        fer_die(NULL, "out of memory");
    *cap = n;
    return q;
}

static void parse_mask(const char *text, struct fer_rect *r)
{
    double v[4];
    char tail;
    if (sscanf(text, "%lf,%lf,%lf,%lf%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4 ||
        v[2] <= 0 || v[3] <= 0)
        fer_usage_error("--mask: '%s' is not X,Y,W,H with W, H > 0", text);
    *r = (struct fer_rect){v[0], v[1], v[2], v[3]};
}

static void parse_options(int argc, char **argv, struct settings *s)
{
    static const char *const borders[] = {"pad", "clip", NULL};
    static const char *const formats[] = {"png", "jpg", NULL};
    memset(s, 0, sizeof *s);
    s->cascade = DEFAULT_CASCADE;
    fer_detect_params_default(&s->detect);
    s->track = (struct fer_track_params){.min_iou = 0.3, .max_gap = 10, .min_length = 5};
    s->crop = (struct fer_crop_params){.size = 64, .channels = 3, .widen = 0.31};
    s->quality = 95;
    s->overlap = 0.5;
    int c;
    while ((c = fer_cli_next(argc, argv)) != -1) {
        switch (c) {
        case 'o': s->out_dir = optarg; break;
        case OPT_CASCADE: s->cascade = optarg; break;
        case OPT_SCALE_FACTOR:
            s->detect.scale_factor = fer_cli_double("--scale-factor", optarg, 1.001, 4);
            break;
        case OPT_MIN_NEIGHBORS:
            s->detect.min_neighbors = (int)fer_cli_long("--min-neighbors", optarg, 0, 1000);
            break;
        case OPT_MIN_SIZE:
            fer_cli_size("--min-size", optarg, 100000, &s->detect.min_w, &s->detect.min_h);
            break;
        case OPT_MAX_SIZE:
            fer_cli_size("--max-size", optarg, 100000, &s->detect.max_w, &s->detect.max_h);
            break;
        case OPT_MASK:
            if (s->n_masks == MAX_MASKS)
                fer_usage_error("--mask: at most %d areas", MAX_MASKS);
            parse_mask(optarg, &s->masks[s->n_masks++]);
            break;
        case OPT_OVERLAP: s->overlap = fer_cli_double("--overlap", optarg, 0, 1); break;
        case OPT_MIN_IOU: s->track.min_iou = fer_cli_double("--min-iou", optarg, 0, 1); break;
        case OPT_MAX_GAP: s->track.max_gap = fer_cli_long("--max-gap", optarg, 0, 1000000); break;
        case OPT_MIN_TRACK: s->track.min_length = fer_cli_long("--min-track", optarg, 1, 1000000); break;
        case OPT_SMOOTH: s->track.smooth = (int)fer_cli_long("--smooth", optarg, 0, 100); break;
        case OPT_KEEP_EMPTY: s->keep_empty = 1; break;
        case OPT_SIZE: s->crop.size = (int)fer_cli_long("--size", optarg, 8, 4096); break;
        case OPT_MARGIN: s->crop.margin = fer_cli_double("--margin", optarg, 0, 2); break;
        case OPT_WIDEN: s->crop.widen = fer_cli_double("--widen", optarg, 0, 2); break;
        case OPT_BORDER: s->crop.border = fer_cli_choice("--border", optarg, borders); break;
        case OPT_GREY: s->crop.channels = 1; break;
        case OPT_FORMAT:
            s->format = fer_cli_choice("--format", optarg, formats) ? FER_IMAGE_JPEG : FER_IMAGE_PNG;
            break;
        case OPT_QUALITY: s->quality = (int)fer_cli_long("--quality", optarg, 1, 100); break;
        case 'j': s->detect.threads = (int)fer_cli_long("--threads", optarg, 1, 256); break;
        case 'q': s->quiet = 1; break;
        default: fer_usage_error("unhandled option");
        }
    }
    if (s->out_dir == NULL)
        fer_usage_error("-o DIR: where to write the face crops is required");
    if (optind + 1 < argc)
        fer_usage_error("one frames manifest at most (got %d)", argc - optind);
}

static int masked(const struct settings *s, const struct fer_box *b)
{
    double cx = b->x + b->w / 2.0, cy = b->y + b->h / 2.0;
    for (int i = 0; i < s->n_masks; i++) {
        const struct fer_rect *m = &s->masks[i];
        if (cx >= m->x && cx < m->x + m->w && cy >= m->y && cy < m->y + m->h)
            return 1;
    }
    return 0;
}

static void make_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        fer_die(dir, "cannot create crop directory: %s", strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        fer_die(dir, "not a directory");
}

/* A clip id made safe as one path component. */
static void safe_name(const char *id, char *out, size_t size)
{
    size_t i = 0;
    for (; id[i] && i + 1 < size; i++)
        out[i] = (id[i] == '/' || id[i] == '\\' || (i == 0 && id[i] == '.')) ? '_' : id[i];
    out[i] = '\0';
    if (i == 0)
        snprintf(out, size, "_");
}

struct run {
    const struct settings *s;
    struct fer_manifest *in;
    struct fer_manifest_writer *out;
    struct fer_manifest_layout layout;
    struct fer_detector *detector;
    int col_clip, col_path, col_frame;
    struct fer_progress progress;
    uint64_t frames_done, faces;
};

static void read_frame(const struct run *r, char **row, struct fer_image *im, int channels)
{
    char path[PATH_MAX];
    if (fer_manifest_resolve(r->in, row[r->col_path], path, sizeof path) != 0 ||
        fer_image_read(path, im, channels) != 0)
        fer_die_error(row[r->col_path][0] ? path : fer_manifest_name(r->in));
}

/* Fraction of a's area that lies inside b. */
static double inside(const struct fer_box *a, const struct fer_box *b)
{
    int x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
    int x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
    int y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;
    if (x1 <= x0 || y1 <= y0 || a->w <= 0 || a->h <= 0)
        return 0;
    return (double)(x1 - x0) * (y1 - y0) / ((double)a->w * a->h);
}

/* A cascade often reports one face twice, a tight box and a larger one
 * around it; OpenCV's grouping keeps both. Two boxes on one face would be
 * two "people" to the tracker, so keep the surer box (more hits; the larger
 * on a tie) of any pair where one lies mostly inside the other. */
static int suppressed(const struct settings *s, const struct fer_boxes *boxes, size_t i)
{
    const struct fer_box *a = &boxes->v[i];
    for (size_t j = 0; j < boxes->n; j++) {
        const struct fer_box *b = &boxes->v[j];
        if (j == i)
            continue;
        int b_surer = b->score > a->score ||
                      (b->score == a->score && ((long)b->w * b->h > (long)a->w * a->h ||
                                                ((long)b->w * b->h == (long)a->w * a->h && j < i)));
        if (b_surer && (inside(a, b) > s->overlap || inside(b, a) > s->overlap))
            return 1;
    }
    return 0;
}

/* Pass 1: detect in every frame of the clip. */
static void detect_clip(struct run *r, struct clip_state *c)
{
    struct fer_boxes boxes = {0};
    for (size_t i = 0; i < c->n_rows; i++) {
        struct fer_image grey = {0};
        read_frame(r, c->rows[i], &grey, 1);
        if (fer_detector_detect(r->detector, &grey, &r->s->detect, &boxes) != 0)
            fer_die_error(c->rows[i][r->col_path]);
        fer_image_free(&grey);
        for (size_t b = 0; b < boxes.n; b++) {
            if (masked(r->s, &boxes.v[b]) || (r->s->overlap < 1 && suppressed(r->s, &boxes, b)))
                continue;
            c->dets = grow(c->dets, &c->cap_dets, c->n_dets + 1, sizeof *c->dets);
            const struct fer_box *x = &boxes.v[b];
            c->dets[c->n_dets++] = (struct fer_detection){
                (long)i, {x->x, x->y, x->w, x->h}, x->score, 0};
        }
        fer_progress_update(&r->progress, ++r->frames_done);
    }
    fer_boxes_free(&boxes);
}

static int by_frame_then_track(const void *a, const void *b)
{
    const struct fer_detection *x = a, *y = b;
    if (x->frame != y->frame)
        return (x->frame > y->frame) - (x->frame < y->frame);
    return (x->track > y->track) - (x->track < y->track);
}

static void write_row(struct run *r, char **in, const char *const *values)
{
    if (fer_manifest_write(r->out, fer_manifest_layout_row(&r->layout, in, values)) != 0)
        fer_die_error("stdout");
}

/* Pass 2: cut and write the crops of kept tracks, and the rows. */
static void write_clip(struct run *r, struct clip_state *c)
{
    const struct settings *s = r->s;
    qsort(c->dets, c->n_dets, sizeof *c->dets, by_frame_then_track);
    char clip_dir[PATH_MAX], name[256];
    safe_name(c->rows[0][r->col_clip], name, sizeof name);
    snprintf(clip_dir, sizeof clip_dir, "%s/%s", s->out_dir, name);
    int dir_made = 0;
    size_t d = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        struct fer_image frame = {0};
        int wrote = 0;
        for (; d < c->n_dets && c->dets[d].frame == (long)i; d++) {
            const struct fer_detection *det = &c->dets[d];
            if (det->track == 0)
                continue;
            if (frame.data == NULL)
                read_frame(r, c->rows[i], &frame, 0);
            if (!dir_made) {
                make_dir(clip_dir);
                dir_made = 1;
            }
            struct fer_rect region = fer_crop_region(&det->box, frame.width, frame.height, &s->crop);
            struct fer_image crop = {0};
            if (fer_crop_face(&frame, &region, &s->crop, &crop) != 0)
                fer_die_error(c->rows[i][r->col_path]);
            /* Stable names that sort: t<track>_<frame number, 6 digits>. */
            char path[PATH_MAX + 64];
            long frame_no = (long)i + 1;
            if (r->col_frame >= 0) {
                char *end;
                long v = strtol(c->rows[i][r->col_frame], &end, 10);
                if (end != c->rows[i][r->col_frame] && *end == '\0' && v >= 0)
                    frame_no = v;
            }
            snprintf(path, sizeof path, "%s/t%d_%06ld.%s", clip_dir, det->track, frame_no,
                     fer_image_format_extension(s->format));
            if (fer_image_write(path, &crop, s->format, s->format == FER_IMAGE_JPEG ? s->quality : -1) != 0)
                fer_die_error(path);
            fer_image_free(&crop);
            char track[16], x[32], y[32], w[32], h[32], score[32];
            snprintf(track, sizeof track, "%d", det->track);
            snprintf(x, sizeof x, "%.0f", det->box.x);
            snprintf(y, sizeof y, "%.0f", det->box.y);
            snprintf(w, sizeof w, "%.0f", det->box.w);
            snprintf(h, sizeof h, "%.0f", det->box.h);
            snprintf(score, sizeof score, "%g", det->score);
            const char *values[] = {track, x, y, w, h, score, path};
            write_row(r, c->rows[i], values);
            wrote = 1;
            r->faces++;
        }
        fer_image_free(&frame);
        if (!wrote && s->keep_empty) {
            const char *empty[] = {"", "", "", "", "", "", ""};
            write_row(r, c->rows[i], empty);
        }
    }
}

static void finish_clip(struct run *r, struct clip_state *c)
{
    if (c->n_rows == 0)
        return;
    detect_clip(r, c);
    if (fer_track_clip(c->dets, c->n_dets, &r->s->track) < 0)
        fer_die_error(c->rows[0][r->col_clip]);
    write_clip(r, c);
    for (size_t i = 0; i < c->n_rows; i++)
        free(c->rows[i]);
    c->n_rows = 0;
    c->n_dets = 0;
}

int main(int argc, char **argv)
{
    fer_cli_init(&cli);
    struct settings s;
    parse_options(argc, argv, &s);
    struct run r = {.s = &s};
    const char *input = optind < argc ? argv[optind] : "-";
    r.in = fer_manifest_open(input);
    if (r.in == NULL)
        fer_die_error(strcmp(input, "-") == 0 ? "stdin" : input);
    const char *name = fer_manifest_name(r.in);
    if ((r.col_clip = fer_manifest_require(r.in, "clip")) < 0 ||
        (r.col_path = fer_manifest_require(r.in, "path")) < 0)
        fer_die(name, "%s: not a frames manifest (make one with fer-extract)", fer_error());
    r.col_frame = fer_manifest_find(r.in, "frame");
    r.detector = fer_detector_open_cascade(s.cascade);
    if (r.detector == NULL)
        fer_die_error(NULL);
    make_dir(s.out_dir);

    static const char *const extra[] = {"track", "x", "y", "w", "h", "score", "crop"};
    if (fer_manifest_layout_init(&r.layout, fer_manifest_header(r.in), fer_manifest_columns(r.in),
                                 extra, sizeof extra / sizeof extra[0]) != 0)
        fer_die_error(NULL);
    r.out = fer_manifest_writer_new(stdout, r.layout.columns, r.layout.n_out);
    if (r.out == NULL)
        fer_die_error("stdout");

    fer_progress_begin(&r.progress, "fer-facetrack frames", 0, s.quiet);
    struct clip_state c = {0};
    char **fields;
    int status;
    while ((status = fer_manifest_next(r.in, &fields)) == 1) {
        if (c.n_rows > 0 && strcmp(fields[r.col_clip], c.rows[0][r.col_clip]) != 0)
            finish_clip(&r, &c);
        c.rows = grow(c.rows, &c.cap_rows, c.n_rows + 1, sizeof *c.rows);
        if ((c.rows[c.n_rows] = fer_row_copy(fields, fer_manifest_columns(r.in))) == NULL)
            fer_die(NULL, "out of memory");
        c.n_rows++;
    }
    if (status < 0)
        fer_die_error(name);
    finish_clip(&r, &c);
    fer_progress_end(&r.progress);
    if (fer_manifest_writer_close(r.out) != 0)
        fer_die_error("stdout");
    free(c.rows);
    free(c.dets);
    fer_manifest_layout_free(&r.layout);
    fer_detector_free(r.detector);
    fer_manifest_close(r.in);
    return FER_EXIT_OK;
}
