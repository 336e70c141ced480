/* fuzz_video.c - fer_video on arbitrary bytes: open (format probing), the
 * send/receive loop, frame references held across calls, and the RGB
 * conversion with its scaler rebuilds. FFmpeg itself is not instrumented;
 * what is under test is our handling of whatever it returns. */
#include "error.h"
#include "video.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libavformat reads files: hand it the bytes as an anonymous file. */
    int fd = memfd_create("fuzz-video", 0);
    if (fd < 0)
        return 0;
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct fer_video *v = fer_video_open(path, 1);
    if (v == NULL) {
        if (fer_error()[0] == '\0') /* every failure must say why */
            __builtin_trap();
        close(fd);
        return 0;
    }
    struct fer_video_frame f = {0}, held = {0};
    struct fer_image rgb = {0};
    int r;
    for (int n = 0; n < 40 && (r = fer_video_next(v, &f)) == 1; n++) {
        if (f.width <= 0 || f.height <= 0)
            __builtin_trap();
        if ((int64_t)f.width * f.height <= (1 << 20) && fer_video_frame_convert(v, &f, &rgb) == 0 &&
            (rgb.width != f.width || rgb.height != f.height || rgb.channels != 3))
            __builtin_trap();
        if (n % 3 == 0)
            fer_video_frame_move(&held, &f);
    }
    if ((int64_t)held.width * held.height <= (1 << 20) && held.av != NULL)
        fer_video_frame_convert(v, &held, &rgb);
    fer_image_free(&rgb);
    fer_video_frame_release(&f);
    fer_video_frame_release(&held);
    fer_video_close(v);
    close(fd);
    return 0;
}
