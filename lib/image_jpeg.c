/* image_jpeg.c - JPEG through libjpeg(-turbo), errors turned into fer_fail.
 *
 * libjpeg's default error manager prints and ends the process; ours formats the
 * message and longjmps back into the function driving the codec. libjpeg
 * also treats damaged entropy-coded data as a mere warning and goes on,
 * filling the rest of the picture with grey: a cut-off download would then
 * pass for a valid image. We therefore turn every warning that means "these
 * pixels are wrong" into an error and ignore only the harmless ones.
 */
#include "image_codec.h"

#include "error.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* libjpeg-turbo's own tools stop at 500 scans: more is only ever seen in
 * files crafted to make a progressive decode take minutes.
 *
 * Default quality 90: on a 360x288 frame of franck.mp4 ffmpeg's default
 * mjpeg output (equivalent to -q:v 3 there) is 12.2 kB with luma PSNR
 * 45.7 dB, -q:v 2 is 16.1 kB / 47.8 dB; libjpeg quality 85 gives 11.6 kB /
 * 46.5 dB, 90 gives 14.5 kB / 48.2 dB. 90 is thus at least as good as what
 * people get from ffmpeg with -q:v 2, the usual "high quality" advice, for
 * fewer bytes; the face detector and the networks work on luma. */
enum { MAX_SCANS = 500, DEFAULT_QUALITY = 90 };

struct jpeg_ctx {
    struct jpeg_error_mgr err; /* first, so the error manager finds the ctx */
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    union {
        struct jpeg_decompress_struct d;
        struct jpeg_compress_struct c;
    } u;
    char msg[JMSG_LENGTH_MAX + 32];
    struct fer_image im;
    uint8_t *cmyk_row;
};

static void fail_jump(j_common_ptr cinfo)
{
    struct jpeg_ctx *c = (struct jpeg_ctx *)cinfo->err;
    switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
        snprintf(c->msg, sizeof c->msg, "truncated JPEG");
        break;
    case JERR_NO_BACKING_STORE:
    case JERR_OUT_OF_MEMORY:
        snprintf(c->msg, sizeof c->msg, "JPEG: out of memory (image too large?)");
        break;
    default: {
        char text[JMSG_LENGTH_MAX];
        cinfo->err->format_message(cinfo, text);
        snprintf(c->msg, sizeof c->msg, "JPEG: %s", text);
    }
    }
    longjmp(c->jump, 1);
}

static void on_error_exit(j_common_ptr cinfo)
{
    fail_jump(cinfo);
}

static void on_message(j_common_ptr cinfo, int level)
{
    if (level >= 0) /* trace messages */
        return;
    switch (cinfo->err->msg_code) {
    case JWRN_EXTRANEOUS_DATA: /* junk between markers: common, pixels intact */
    case JWRN_ADOBE_XFORM:
    case JWRN_BOGUS_ICC:
    case JWRN_JFIF_MAJOR:
    case JWRN_TOO_MUCH_DATA:
        return;
    default:
        fail_jump(cinfo);
    }
}

static void on_output(j_common_ptr cinfo)
{
    (void)cinfo;
}

static void on_progress(j_common_ptr cinfo)
{
    if (!cinfo->is_decompressor)
        return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > MAX_SCANS) {
        struct jpeg_ctx *c = (struct jpeg_ctx *)cinfo->err;
        snprintf(c->msg, sizeof c->msg, "JPEG: more than %d scans", MAX_SCANS);
        longjmp(c->jump, 1);
    }
}

static void init_errors(struct jpeg_ctx *c, j_common_ptr cinfo)
{
    cinfo->err = jpeg_std_error(&c->err);
    c->err.error_exit = on_error_exit;
    c->err.emit_message = on_message;
    c->err.output_message = on_output;
}

/* Adobe CMYK (the usual kind, written by Photoshop) stores inverted ink,
 * so 255 means no ink; a plain CMYK file stores ink amounts. */
static void cmyk_to_rgb(const uint8_t *in, uint8_t *out, int width, int inverted)
{
    for (int x = 0; x < width; x++, in += 4, out += 3) {
        unsigned k = inverted ? in[3] : 255u - in[3];
        for (int i = 0; i < 3; i++) {
            unsigned v = inverted ? in[i] : 255u - in[i];
            out[i] = (uint8_t)((v * k + 127) / 255);
        }
    }
}

/* Runs under setjmp: every error of libjpeg lands back here as -1. */
static int decode(struct jpeg_ctx *c, const uint8_t *data, size_t size)
{
    j_decompress_ptr d = &c->u.d;
    if (setjmp(c->jump))
        return -1;
    init_errors(c, (j_common_ptr)d);
    jpeg_create_decompress(d);
    c->progress.progress_monitor = on_progress;
    d->progress = &c->progress;
    jpeg_mem_src(d, data, (unsigned long)size);
    jpeg_read_header(d, TRUE);
    if (fer_image_check_size("JPEG", d->image_width, d->image_height) != 0)
        return -1;
    /* Bound what libjpeg may allocate (a progressive file keeps all its
     * coefficients: 2 bytes per sample) so that a small file declaring a
     * large image fails cleanly instead of exhausting memory. */
    d->mem->max_memory_to_use =
        (long)(8 * (size_t)d->image_width * d->image_height + (64 << 20));

    int cmyk = d->jpeg_color_space == JCS_CMYK || d->jpeg_color_space == JCS_YCCK;
    int channels = d->jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    d->out_color_space = cmyk ? JCS_CMYK : channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(d);
    if (d->output_components != (cmyk ? 4 : channels)) {
        snprintf(c->msg, sizeof c->msg, "JPEG: unexpected %d components", d->output_components);
        return -1;
    }
    if (fer_image_alloc(&c->im, (int)d->output_width, (int)d->output_height, channels) != 0)
        return -1;
    if (cmyk && (c->cmyk_row = malloc(4 * (size_t)d->output_width)) == NULL) {
        snprintf(c->msg, sizeof c->msg, "JPEG: out of memory");
        return -1;
    }
    while (d->output_scanline < d->output_height) {
        uint8_t *row = c->im.data + (size_t)d->output_scanline * c->im.stride;
        JSAMPROW target = cmyk ? c->cmyk_row : row;
        if (jpeg_read_scanlines(d, &target, 1) != 1) {
            snprintf(c->msg, sizeof c->msg, "truncated JPEG");
            return -1;
        }
        if (cmyk)
            cmyk_to_rgb(c->cmyk_row, row, c->im.width, d->saw_Adobe_marker);
    }
    jpeg_finish_decompress(d);
    return 0;
}

int fer_jpeg_decode(const uint8_t *data, size_t size, struct fer_image *im)
{
    struct jpeg_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return fer_fail("JPEG: out of memory");
    int rc = decode(c, data, size);
    jpeg_destroy_decompress(&c->u.d);
    free(c->cmyk_row);
    if (rc != 0) {
        fer_image_free(&c->im);
        if (c->msg[0] != '\0')
            fer_fail("%s", c->msg);
    } else {
        *im = c->im;
    }
    free(c);
    return rc;
}

static int encode(struct jpeg_ctx *c, FILE *fp, const struct fer_image *im, int quality)
{
    j_compress_ptr e = &c->u.c;
    if (setjmp(c->jump))
        return -1;
    init_errors(c, (j_common_ptr)e);
    jpeg_create_compress(e);
    jpeg_stdio_dest(e, fp);
    e->image_width = (JDIMENSION)im->width;
    e->image_height = (JDIMENSION)im->height;
    e->input_components = im->channels;
    e->in_color_space = im->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    /* libjpeg's defaults: baseline, 4:2:0 chroma, the IJG tables scaled by
     * quality, as ffmpeg's mjpeg encoder (yuvj420p) and most cameras do.
     * Frames from 4:2:0 video have no finer chroma to keep anyway. */
    jpeg_set_defaults(e);
    jpeg_set_quality(e, quality < 0 ? DEFAULT_QUALITY : quality, TRUE);
    jpeg_start_compress(e, TRUE);
    while (e->next_scanline < e->image_height) {
        /* libjpeg does not write through the row pointer; its API is just
         * older than const. */
        JSAMPROW row = (JSAMPROW)(im->data + (size_t)e->next_scanline * im->stride);
        jpeg_write_scanlines(e, &row, 1);
    }
    jpeg_finish_compress(e);
    return 0;
}

int fer_jpeg_encode(FILE *fp, const struct fer_image *im, int quality)
{
    struct jpeg_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return fer_fail("JPEG: out of memory");
    int rc = encode(c, fp, im, quality);
    jpeg_destroy_compress(&c->u.c);
    if (rc != 0)
        fer_fail("%s", c->msg);
    free(c);
    return rc;
}
