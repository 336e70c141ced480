/* fuzz_jpeg.c - the JPEG decoder on arbitrary bytes (no magic check in
 * front, so the fuzzer reaches libjpeg's own marker parsing), then encode
 * what decoded and check that it decodes again to the same size. */
#include "error.h"
#include "image.h"
#include "image_codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fer_image_set_max_pixels(1 << 20);
    struct fer_image im;
    if (fer_jpeg_decode(data, size, &im) != 0) {
        if (fer_error()[0] == '\0')
            __builtin_trap();
        return 0;
    }
    if ((size_t)im.width * (size_t)im.height <= (1 << 16)) {
        char *buf = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&buf, &len);
        if (fp == NULL)
            abort();
        int rc = fer_jpeg_encode(fp, &im, 75);
        fclose(fp);
        struct fer_image again;
        if (rc != 0 || fer_jpeg_decode((const uint8_t *)buf, len, &again) != 0)
            __builtin_trap();
        if (again.width != im.width || again.height != im.height ||
            again.channels != im.channels)
            __builtin_trap();
        fer_image_free(&again);
        free(buf);
    }
    fer_image_free(&im);
    return 0;
}
