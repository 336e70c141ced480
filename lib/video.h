/* video.h - decode a video file into frames with their true timestamps.
 *
 * Any container and codec that FFmpeg's libavformat and libavcodec read.
 * Only the first ("best") video stream is decoded; other streams are
 * skipped without decoding. Frames come out in presentation order, each
 * with its presentation time in seconds computed as best_effort_timestamp
 * x stream time_base - never as index / frame rate, so variable-frame-rate
 * input keeps its real timing. The frames are exactly those `ffprobe
 * -show_frames` lists for the stream (including the ones the decoder
 * flushes at the end).
 *
 * A decoded frame is a reference to the decoder's buffer (struct
 * fer_video_frame): the caller may hold a few at once - e.g. the previous
 * one while deciding whether to keep it - and converts only the ones it
 * keeps to RGB (fer_video_frame_convert). Memory stays flat however long
 * the video is.
 *
 * Conversion to RGB24 uses libswscale with the flags of the ffmpeg command
 * line tool (SWS_BICUBIC, and the frame's colour matrix and range), so the
 * pixels equal `ffmpeg -i FILE -f rawvideo -pix_fmt rgb24 -` byte for byte
 * (tests/tools/test-extract-video.sh checks this). A change of size or
 * pixel format in mid-stream is followed: the scaler is rebuilt for the new
 * geometry and each frame reports its own width and height.
 *
 * Rotation: as the ffmpeg tool does by default (autorotate), a stream
 * whose display matrix turns it by 90, 180 or 270 degrees (phones store
 * portrait video sideways with such a matrix) is turned upright by
 * fer_video_frame_convert, and every frame reports its upright width and
 * height. Other angles are not applied (ffmpeg would rotate by them and
 * fill the corners black); fer_video_rotation tells the caller.
 *
 * Errors (fer_error()) carry FFmpeg's own message (av_err2str), e.g.
 * "Invalid data found when processing input", "no video stream".
 */
#ifndef FER_VIDEO_H
#define FER_VIDEO_H

#include "image.h"

#include <stdint.h>

struct fer_video;
struct AVFrame;

struct fer_video_frame {
    int64_t index;        /* 0-based position in decoding output order */
    int64_t pts;          /* in time-base units; INT64_MIN if the stream has none */
    double seconds;       /* pts x time base; NAN when pts is INT64_MIN */
    int64_t duration;     /* time-base units until the next frame, as the container
                             says; 0 if unknown */
    int width, height;
    struct AVFrame *av;   /* owned reference; NULL when empty */
};

/* Open PATH and prepare the decoder of its best video stream. threads: the
 * decoder's thread count (frame and slice threading); 0 lets FFmpeg choose,
 * 1 decodes in the calling thread. Returns NULL with fer_error() set. */
struct fer_video *fer_video_open(const char *path, int threads);

/* Decode the next frame into *frame, releasing what *frame held before.
 * Returns 1 for a frame, 0 at the end of the stream (after the decoder has
 * been flushed), -1 with fer_error() set on a read or decode error (a
 * truncated or corrupt file). */
int fer_video_next(struct fer_video *v, struct fer_video_frame *frame);

/* Convert a frame to 8-bit RGB (channels 3). dst is (re)allocated to the
 * frame's size when it is not already that size. Returns 0, or -1 with
 * fer_error() set. */
int fer_video_frame_convert(struct fer_video *v, const struct fer_video_frame *frame,
                            struct fer_image *dst);

/* Move the reference from src to dst (dst's old one is released); src is
 * left empty. */
void fer_video_frame_move(struct fer_video_frame *dst, struct fer_video_frame *src);

/* Release the frame's reference; safe on an empty (zeroed) frame. */
void fer_video_frame_release(struct fer_video_frame *frame);

/* Stream facts: time base (num/den), the container's frame count (0 when it
 * does not say) and duration in seconds (0 when unknown). */
void fer_video_time_base(const struct fer_video *v, int *num, int *den);
int64_t fer_video_frame_count(const struct fer_video *v);
double fer_video_duration(const struct fer_video *v);

/* The clockwise turn the stream's display matrix asks for, in degrees in
 * [0, 360) (0 without a matrix), and the one applied: 0, 90, 180 or 270.
 * fer_video_set_autorotate(v, 0) turns frames no more (ffmpeg
 * -noautorotate); 1 turns them again. Call it before the first
 * fer_video_next: a frame's width and height are fixed when it is
 * decoded. */
double fer_video_rotation(const struct fer_video *v);
int fer_video_turn(const struct fer_video *v);
void fer_video_set_autorotate(struct fer_video *v, int on);

/* Close the file and free everything. Safe on NULL. */
void fer_video_close(struct fer_video *v);

#endif
