#include "nn.h"

#include "parallel.h"

#include <cblas-openblas.h>

int fer_nn_check4(const char *who, const char *what, const struct fer_tensor *t,
                  int n, int c, int h, int w)
{
    if (t == NULL || t->data == NULL)
        return fer_fail("%s: %s tensor missing", who, what);
    if (!fer_tensor_is_contiguous(t))
        return fer_fail("%s: %s tensor not contiguous", who, what);
    const int want[4] = {n, c, h, w};
    for (int i = 0; i < 4; i++)
        if (want[i] >= 0 && t->shape[i] != want[i])
            return fer_fail("%s: %s has %d in dimension %d, expected %d", who,
                            what, t->shape[i], i, want[i]);
    return 0;
}

int fer_nn_check_same(const char *who, const char *what,
                      const struct fer_tensor *t, const struct fer_tensor *like)
{
    if (t == NULL || t->data == NULL)
        return fer_fail("%s: %s tensor missing", who, what);
    if (!fer_tensor_is_contiguous(t))
        return fer_fail("%s: %s tensor not contiguous", who, what);
    if (!fer_tensor_same_shape(t, like))
        return fer_fail("%s: %s has the wrong shape", who, what);
    return 0;
}

int fer_nn_set_threads(int n)
{
    if (n > 0)
        openblas_set_num_threads(n);
    return fer_parallel_set_threads(openblas_get_num_threads());
}
