#include "video.h"

#include "error.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct fer_video {
    AVFormatContext *format;
    AVCodecContext *decoder;
    AVPacket *packet;
    int stream;
    AVRational time_base;
    int draining;  /* the demuxer is done; the decoder is being flushed */
    int finished;  /* the decoder said AVERROR_EOF */
    int64_t next_index;
    /* The scaler is rebuilt whenever the source geometry or colour
     * description changes (a mid-stream resolution switch). */
    struct SwsContext *sws;
    int sws_width, sws_height, sws_format, sws_space, sws_range;
    /* swscale's SIMD converters write whole vectors and may run past the
     * end of a row (a 360-pixel-wide frame corrupted the heap), so they
     * write into this padded buffer and rows are copied out. */
    uint8_t *rgb;
    int rgb_stride;
    /* The display matrix's turn, clockwise degrees in [0, 360), and the
     * multiple of 90 applied to every converted frame (0 when off). */
    double rotation;
    int turn;
};

/* FFmpeg prints its detailed reasons ("moov atom not found") through
 * av_log. A library must not print, so the log goes nowhere, but the last
 * error line of this thread is kept to explain a failure. */
static _Thread_local char last_log[256];

static void log_callback(void *avcl, int level, const char *fmt, va_list ap)
{
    (void)avcl;
    if (level > AV_LOG_ERROR)
        return;
    vsnprintf(last_log, sizeof last_log, fmt, ap);
    size_t n = strlen(last_log);
    while (n > 0 && (last_log[n - 1] == '\n' || last_log[n - 1] == ' '))
        last_log[--n] = '\0';
}

static void install_log(void)
{
    av_log_set_callback(log_callback);
}

/* "cause (detail from the log)" when the log has something to add. */
static int fail_av(const char *what, int err)
{
    char text[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, text, sizeof text);
    if (last_log[0] != '\0' && strstr(text, last_log) == NULL) {
        int r = fer_fail("%s%s%s (%s)", what, what[0] ? ": " : "", text, last_log);
        last_log[0] = '\0';
        return r;
    }
    return fer_fail("%s%s%s", what, what[0] ? ": " : "", text);
}

/* The clockwise turn the stream asks for, as the ffmpeg tool reads it
 * (fftools' get_rotation): the display matrix's counter-clockwise angle,
 * negated, rounded to a degree and brought into [0, 360). */
static double display_rotation(const AVStream *st)
{
    const uint8_t *matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (matrix == NULL)
        return 0;
    double theta = -round(av_display_rotation_get((const int32_t *)matrix));
    if (isnan(theta))
        return 0;
    return theta - 360 * floor(theta / 360 + 0.9 / 360);
}

void fer_video_set_autorotate(struct fer_video *v, int on)
{
    v->turn = 0;
    for (int t = 90; on && t < 360; t += 90)
        if (fabs(v->rotation - t) < 1.0)
            v->turn = t;
}

double fer_video_rotation(const struct fer_video *v)
{
    return v->rotation;
}

int fer_video_turn(const struct fer_video *v)
{
    return v->turn;
}

struct fer_video *fer_video_open(const char *path, int threads)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_log);
    last_log[0] = '\0';

    struct fer_video *v = calloc(1, sizeof *v);
    if (v == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    int err = avformat_open_input(&v->format, path, NULL, NULL);
    if (err < 0) {
        fail_av("", err);
        goto fail;
    }
    err = avformat_find_stream_info(v->format, NULL);
    if (err < 0) {
        fail_av("cannot read stream info", err);
        goto fail;
    }
    const AVCodec *codec = NULL;
    v->stream = av_find_best_stream(v->format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (v->stream == AVERROR_STREAM_NOT_FOUND) {
        fer_fail("no video stream");
        goto fail;
    }
    if (v->stream < 0 || codec == NULL) {
        fer_fail("no decoder for the video stream");
        goto fail;
    }
    for (unsigned i = 0; i < v->format->nb_streams; i++)
        if ((int)i != v->stream)
            v->format->streams[i]->discard = AVDISCARD_ALL;
    AVStream *st = v->format->streams[v->stream];
    v->time_base = st->time_base;
    v->rotation = display_rotation(st);
    fer_video_set_autorotate(v, 1);

    v->decoder = avcodec_alloc_context3(codec);
    v->packet = av_packet_alloc();
    if (v->decoder == NULL || v->packet == NULL) {
        fer_fail("out of memory");
        goto fail;
    }
    err = avcodec_parameters_to_context(v->decoder, st->codecpar);
    if (err < 0) {
        fail_av("decoder parameters", err);
        goto fail;
    }
    v->decoder->pkt_timebase = st->time_base;
    v->decoder->thread_count = threads < 0 ? 0 : threads;
    v->decoder->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    err = avcodec_open2(v->decoder, codec, NULL);
    if (err < 0) {
        fail_av("cannot open decoder", err);
        goto fail;
    }
    v->sws_format = -1;
    return v;
fail:
    fer_video_close(v);
    return NULL;
}

void fer_video_frame_release(struct fer_video_frame *frame)
{
    if (frame->av != NULL)
        av_frame_free(&frame->av);
    memset(frame, 0, sizeof *frame);
}

void fer_video_frame_move(struct fer_video_frame *dst, struct fer_video_frame *src)
{
    fer_video_frame_release(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

static void describe(struct fer_video *v, AVFrame *av, struct fer_video_frame *frame)
{
    frame->av = av;
    frame->index = v->next_index++;
    frame->pts = av->best_effort_timestamp == AV_NOPTS_VALUE ? INT64_MIN
                                                             : av->best_effort_timestamp;
    frame->seconds = frame->pts == INT64_MIN ? NAN : (double)frame->pts * av_q2d(v->time_base);
    frame->duration = av->pkt_duration > 0 ? av->pkt_duration : 0;
    const int sideways = v->turn == 90 || v->turn == 270;
    frame->width = sideways ? av->height : av->width;
    frame->height = sideways ? av->width : av->height;
}

/* The send-packet / receive-frame loop: ask for a frame; when the decoder
 * wants input (EAGAIN) feed it the next packet of our stream; when the
 * demuxer is done, send the flush packet (NULL) and keep receiving until
 * the decoder reports EOF, so that delayed frames are not lost. */
int fer_video_next(struct fer_video *v, struct fer_video_frame *frame)
{
    fer_video_frame_release(frame);
    if (v->finished)
        return 0;
    AVFrame *av = av_frame_alloc();
    if (av == NULL)
        return fer_fail("out of memory");
    for (;;) {
        int err = avcodec_receive_frame(v->decoder, av);
        if (err == 0) {
            describe(v, av, frame);
            return 1;
        }
        if (err == AVERROR_EOF) {
            v->finished = 1;
            av_frame_free(&av);
            return 0;
        }
        if (err != AVERROR(EAGAIN)) {
            av_frame_free(&av);
            return fail_av("decoding", err);
        }
        if (v->draining) { /* cannot happen: a flushing decoder never asks for input */
            av_frame_free(&av);
            return fer_fail("decoder asked for input after the flush");
        }
        err = av_read_frame(v->format, v->packet);
        if (err == AVERROR_EOF) {
            v->draining = 1;
            err = avcodec_send_packet(v->decoder, NULL);
        } else if (err < 0) {
            av_frame_free(&av);
            return fail_av("reading", err);
        } else if (v->packet->stream_index != v->stream) {
            av_packet_unref(v->packet);
            continue;
        } else {
            err = avcodec_send_packet(v->decoder, v->packet);
            av_packet_unref(v->packet);
        }
        if (err < 0 && err != AVERROR(EAGAIN)) {
            av_frame_free(&av);
            return fail_av("decoding", err);
        }
    }
}

/* The deprecated YUVJ formats mean "full range" in the format itself; the
 * ffmpeg tool maps them to their plain twin plus the full-range flag. */
static enum AVPixelFormat plain_format(enum AVPixelFormat f, int *full)
{
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

static int prepare_scaler(struct fer_video *v, const AVFrame *av)
{
    if (v->sws != NULL && av->width == v->sws_width && av->height == v->sws_height &&
        av->format == v->sws_format && (int)av->colorspace == v->sws_space &&
        (int)av->color_range == v->sws_range)
        return 0;
    sws_freeContext(v->sws);
    v->sws = NULL;
    int full = av->color_range == AVCOL_RANGE_JPEG;
    enum AVPixelFormat src = plain_format(av->format, &full);
    /* SWS_BICUBIC is what the ffmpeg tool gives its automatic scale filter
     * (fftools sets sws flags "bicubic"). At equal size only the format
     * conversion runs, and these flags select the same converter, so the
     * bytes match `ffmpeg -pix_fmt rgb24`. */
    v->sws = sws_getContext(av->width, av->height, src, av->width, av->height,
                            AV_PIX_FMT_RGB24, SWS_BICUBIC, NULL, NULL, NULL);
    if (v->sws == NULL)
        return fer_fail("cannot convert %s %dx%d to RGB",
                        av_get_pix_fmt_name(av->format) ? av_get_pix_fmt_name(av->format) : "?",
                        av->width, av->height);
    /* As vf_scale does: the matrix from the frame's colorspace (BT.601 when
     * unspecified), the input range from the frame, RGB out full range. */
    int space = av->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)av->colorspace;
    const int *table = sws_getCoefficients(space);
    sws_setColorspaceDetails(v->sws, table, full, table, 1, 0, 1 << 16, 1 << 16);
    av_freep(&v->rgb);
    v->rgb_stride = FFALIGN(av->width * 3, 64) + 64;
    v->rgb = av_malloc((size_t)v->rgb_stride * (size_t)(av->height + 1));
    if (v->rgb == NULL) {
        sws_freeContext(v->sws);
        v->sws = NULL;
        return fer_fail("out of memory");
    }
    v->sws_width = av->width;
    v->sws_height = av->height;
    v->sws_format = av->format;
    v->sws_space = av->colorspace;
    v->sws_range = av->color_range;
    return 0;
}

/* dst = the W x H RGB image src turned clockwise by turn degrees (a
 * multiple of 90). The ffmpeg tool turns the YUV planes before converting;
 * turning the RGB after gave its bytes exactly on H.264 4:2:0 (tested in
 * tests/tools/test-extract-video.sh at every turn), 4:2:2 and 4:4:4, and
 * costs one pass here. */
static void turn_copy(const uint8_t *src, int stride, int W, int H, int turn,
                      struct fer_image *dst)
{
    for (int r = 0; r < dst->height; r++) {
        uint8_t *out = dst->data + (size_t)r * dst->stride;
        if (turn == 0) {
            memcpy(out, src + (size_t)r * stride, (size_t)W * 3);
            continue;
        }
        for (int c = 0; c < dst->width; c++) {
            int sr, sc; /* the source pixel shown at (r, c) */
            if (turn == 90) {
                sr = H - 1 - c;
                sc = r;
            } else if (turn == 180) {
                sr = H - 1 - r;
                sc = W - 1 - c;
            } else {
                sr = c;
                sc = W - 1 - r;
            }
            memcpy(out + (size_t)c * 3, src + (size_t)sr * stride + (size_t)sc * 3, 3);
        }
    }
}

int fer_video_frame_convert(struct fer_video *v, const struct fer_video_frame *frame,
                            struct fer_image *dst)
{
    const AVFrame *av = frame->av;
    if (av == NULL)
        return fer_fail("no frame to convert");
    if (av->width <= 0 || av->height <= 0 || av->width > FER_IMAGE_MAX_SIDE ||
        av->height > FER_IMAGE_MAX_SIDE ||
        (int64_t)av->width * av->height > FER_IMAGE_MAX_PIXELS)
        return fer_fail("frame size %dx%d is out of range", av->width, av->height);
    if (prepare_scaler(v, av) != 0)
        return -1;
    const int sideways = v->turn == 90 || v->turn == 270;
    const int width = sideways ? av->height : av->width;
    const int height = sideways ? av->width : av->height;
    if (dst->data == NULL || dst->width != width || dst->height != height ||
        dst->channels != 3) {
        fer_image_free(dst);
        if (fer_image_alloc(dst, width, height, 3) != 0)
            return -1;
    }
    uint8_t *planes[4] = {v->rgb, NULL, NULL, NULL};
    int strides[4] = {v->rgb_stride, 0, 0, 0};
    int rows = sws_scale(v->sws, (const uint8_t *const *)av->data, av->linesize, 0, av->height,
                         planes, strides);
    if (rows != av->height)
        return fer_fail("pixel conversion failed");
    turn_copy(v->rgb, v->rgb_stride, av->width, av->height, v->turn, dst);
    return 0;
}

void fer_video_time_base(const struct fer_video *v, int *num, int *den)
{
    *num = v->time_base.num;
    *den = v->time_base.den;
}

int64_t fer_video_frame_count(const struct fer_video *v)
{
    int64_t n = v->format->streams[v->stream]->nb_frames;
    return n > 0 ? n : 0;
}

double fer_video_duration(const struct fer_video *v)
{
    const AVStream *st = v->format->streams[v->stream];
    if (st->duration > 0 && st->duration != AV_NOPTS_VALUE)
        return (double)st->duration * av_q2d(st->time_base);
    if (v->format->duration > 0 && v->format->duration != AV_NOPTS_VALUE)
        return (double)v->format->duration / AV_TIME_BASE;
    return 0;
}

void fer_video_close(struct fer_video *v)
{
    if (v == NULL)
        return;
    sws_freeContext(v->sws);
    av_freep(&v->rgb);
    av_packet_free(&v->packet);
    avcodec_free_context(&v->decoder);
    avformat_close_input(&v->format);
    free(v);
}
