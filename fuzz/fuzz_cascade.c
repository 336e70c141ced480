/* fuzz_cascade.c - libFuzzer target for the cascade XML reader.
 * Any input must either be refused with a message or give a model that a
 * detection pass can run without reading out of bounds. */
#include <stddef.h>
#include <stdint.h>

#include "cascade.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fer_cascade *c;
    if (fer_cascade_read_memory(data, size, "fuzz", &c) < 0) {
        if (fer_error()[0] == '\0')
            __builtin_trap(); /* every refusal must say why */
        return 0;
    }
    /* A small textured image: enough for the accepted models to be evaluated. */
    enum { W = 40, H = 36 };
    static uint8_t img[W * H];
    for (int i = 0; i < W * H; i++)
        img[i] = (uint8_t)((i * 37 + (i / W) * 91 + size) & 0xff);
    struct fer_cascade_params p = {1.3, 0, 0, 0, 0, 1};
    struct fer_rects r = {0};
    fer_cascade_detect(c, img, W, H, W, &p, 1, &r);
    fer_rects_free(&r);
    fer_cascade_free(c);
    return 0;
}
