/* Fuzz the safetensors reader: any bytes must be read or refused with a
 * message, never crash or leak; whatever is accepted must write back and
 * read again to the same tensors (the writer's output is itself valid). */
#include "error.h"
#include "weights.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int same(const struct fer_weights *a, const struct fer_weights *b)
{
    if (a->n_tensors != b->n_tensors || a->n_meta != b->n_meta)
        return 0;
    for (size_t i = 0; i < a->n_tensors; i++) {
        const struct fer_weights_tensor *x = &a->tensors[i];
        const struct fer_weights_tensor *y = fer_weights_find(b, x->name);
        if (y == NULL || x->ndim != y->ndim || x->count != y->count ||
            memcmp(x->shape, y->shape, sizeof x->shape) != 0 ||
            (x->count && memcmp(x->data, y->data, x->count * sizeof *x->data) != 0))
            return 0;
    }
    for (size_t i = 0; i < a->n_meta; i++) {
        const char *v = fer_weights_get_meta(b, a->meta[i].key);
        if (v == NULL || strcmp(v, a->meta[i].value) != 0)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fer_weights w, again;
    fer_error_clear();
    if (fer_weights_read_memory(data, size, &w) != 0) {
        if (fer_error()[0] == '\0')
            abort(); /* every refusal says why */
        return 0;
    }
    void *out;
    size_t out_size;
    if (fer_weights_write_memory(&w, &out, &out_size) != 0)
        abort();
    if (fer_weights_read_memory(out, out_size, &again) != 0 || !same(&w, &again))
        abort();
    fer_weights_free(&again);
    fer_weights_free(&w);
    free(out);
    return 0;
}
