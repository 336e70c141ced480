/* fuzz_png.c - fer_image_read_memory on arbitrary bytes (PNG and JPEG, the
 * codec chosen by magic), then the transforms on whatever decoded. */
#include "error.h"
#include "image.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A megapixel is enough to reach every code path; the full limit
     * would only make the fuzzer spend its time in huge allocations. */
    fer_image_set_max_pixels(1 << 20);
    struct fer_image im;
    if (fer_image_read_memory(data, size, &im, 0) != 0) {
        /* Every failure must say why. */
        if (fer_error()[0] == '\0')
            __builtin_trap();
        return 0;
    }
    if (im.width <= 0 || im.height <= 0 || (im.channels != 1 && im.channels != 3))
        __builtin_trap();
    struct fer_image grey, rgb, small;
    if (fer_image_to_grey(&im, &grey) == 0)
        fer_image_free(&grey);
    if (fer_image_to_rgb(&im, &rgb) == 0)
        fer_image_free(&rgb);
    if ((size_t)im.width * (size_t)im.height <= (1 << 16) &&
        fer_image_resize(&im, &small, 1 + im.width / 3, 1 + 2 * im.height) == 0)
        fer_image_free(&small);
    fer_image_free(&im);
    return 0;
}
