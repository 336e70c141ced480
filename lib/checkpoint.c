/* checkpoint.c - training state in a safetensors file (checkpoint.h). */
#include "checkpoint.h"

#include "atomic.h"
#include "error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tensor_add(struct fer_weights *w, const char *name, const struct fer_tensor *t)
{
    int64_t shape[FER_TENSOR_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++)
        shape[d] = t->shape[d];
    if (!fer_tensor_is_contiguous(t))
        return fer_fail("tensor '%s' is not contiguous", name);
    return fer_weights_add(w, name, t->ndim, shape, t->data) != NULL ? 0 : -1;
}

int fer_model_export(struct fer_model *m, struct fer_weights *w, const char *prefix)
{
    const struct fer_model_tensor *list;
    int n = fer_model_tensors(m, &list);
    char name[160];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, list[i].name);
        if (list[i].value == NULL) {
            float v = (float)*list[i].count;
            struct fer_weights_tensor *t = fer_weights_add(w, name, 0, NULL, &v);
            if (t == NULL)
                return -1;
            t->dtype = FER_DTYPE_I64;
        } else if (tensor_add(w, name, list[i].value) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Collects mismatch messages: the first few in full, the rest counted. */
struct diffs {
    char text[1024];
    int count;
};

static void diffs_add(struct diffs *d, const char *msg)
{
    if (d->count++ < 4) {
        size_t len = strlen(d->text);
        snprintf(d->text + len, sizeof d->text - len, "%s%s", len > 0 ? "; " : "", msg);
    }
}

static int diffs_fail(const struct diffs *d)
{
    if (d->count == 1)
        return fer_fail("%s", d->text);
    if (d->count <= 4)
        return fer_fail("%d tensors differ: %s", d->count, d->text);
    return fer_fail("%d tensors differ: %s; and %d more", d->count, d->text, d->count - 4);
}

/* The tensor named name with t's shape (ndim 0 for a scalar), or NULL with
 * the reason added to d. */
static const struct fer_weights_tensor *expect(const struct fer_weights *w, const char *name,
                                               const struct fer_tensor *t, struct diffs *d)
{
    int64_t shape[FER_TENSOR_MAX_DIMS];
    int ndim = t != NULL ? t->ndim : 0;
    for (int k = 0; k < ndim; k++)
        shape[k] = t->shape[k];
    const struct fer_weights_tensor *wt = fer_weights_expect(w, name, ndim, shape);
    if (wt == NULL)
        diffs_add(d, fer_error());
    return wt;
}

int fer_model_import(struct fer_model *m, const struct fer_weights *w, const char *prefix)
{
    const struct fer_model_tensor *list;
    int n = fer_model_tensors(m, &list);
    char name[160];
    struct diffs d = {.count = 0};
    d.text[0] = '\0';
    for (int pass = 0; pass < 2; pass++) { /* check everything, then copy */
        for (int i = 0; i < n; i++) {
            snprintf(name, sizeof name, "%s%s", prefix, list[i].name);
            const struct fer_weights_tensor *wt = expect(w, name, list[i].value, &d);
            if (pass == 0 || wt == NULL)
                continue;
            if (list[i].value == NULL)
                *list[i].count = (int64_t)wt->data[0];
            else
                memcpy(list[i].value->data, wt->data, wt->count * sizeof(float));
        }
        if (d.count > 0)
            return diffs_fail(&d);
    }
    return 0;
}

int fer_params_export(const struct fer_param *params, int n, struct fer_weights *w)
{
    for (int i = 0; i < n; i++)
        if (tensor_add(w, params[i].name, params[i].value) < 0)
            return -1;
    return 0;
}

int fer_params_import(const struct fer_param *params, int n, const struct fer_weights *w)
{
    struct diffs d = {.count = 0};
    d.text[0] = '\0';
    for (int i = 0; i < n; i++)
        expect(w, params[i].name, params[i].value, &d);
    if (d.count > 0)
        return diffs_fail(&d);
    for (int i = 0; i < n; i++) {
        const struct fer_weights_tensor *wt = fer_weights_find(w, params[i].name);
        memcpy(params[i].value->data, wt->data, wt->count * sizeof(float));
    }
    return 0;
}

enum { MAX_STATE = 2 }; /* buffers per parameter (Adam: m and v) */

int fer_optim_export(struct fer_optim *o, int n, struct fer_weights *w)
{
    char name[64];
    for (int i = 0; i < n; i++)
        for (int k = 0; k < MAX_STATE; k++) {
            struct fer_tensor *t = fer_optim_state(o, i, k);
            snprintf(name, sizeof name, "optim.%d.%d", i, k);
            if (t != NULL && tensor_add(w, name, t) < 0)
                return -1;
        }
    snprintf(name, sizeof name, "%" PRId64, fer_optim_steps(o));
    return fer_weights_set_meta(w, "optim_steps", name);
}

static int meta_i64(const struct fer_weights *w, const char *key, int64_t *out)
{
    const char *v = fer_weights_get_meta(w, key);
    if (v == NULL)
        return fer_fail("no metadata '%s' (not a checkpoint?)", key);
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || errno != 0 || x < 0)
        return fer_fail("metadata '%s' is not a count: '%s'", key, v);
    *out = x;
    return 0;
}

int fer_optim_import(struct fer_optim *o, int n, const struct fer_weights *w)
{
    char name[64];
    int64_t steps;
    if (meta_i64(w, "optim_steps", &steps) < 0)
        return -1;
    struct diffs d = {.count = 0};
    d.text[0] = '\0';
    for (int i = 0; i < n; i++)
        for (int k = 0; k < MAX_STATE; k++) {
            struct fer_tensor *t = fer_optim_state(o, i, k);
            snprintf(name, sizeof name, "optim.%d.%d", i, k);
            if (t != NULL)
                expect(w, name, t, &d);
            else if (fer_weights_find(w, name) != NULL)
                diffs_add(&d, "optimizer state of another kind of optimizer");
        }
    snprintf(name, sizeof name, "optim.%d.0", n);
    if (fer_weights_find(w, name) != NULL)
        diffs_add(&d, "optimizer state for more parameters than the model has");
    if (d.count > 0)
        return diffs_fail(&d);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < MAX_STATE; k++) {
            struct fer_tensor *t = fer_optim_state(o, i, k);
            snprintf(name, sizeof name, "optim.%d.%d", i, k);
            if (t != NULL) {
                const struct fer_weights_tensor *wt = fer_weights_find(w, name);
                memcpy(t->data, wt->data, wt->count * sizeof(float));
            }
        }
    fer_optim_set_steps(o, steps);
    return 0;
}

int fer_checkpoint_set_position(struct fer_weights *w, const struct fer_train_position *p)
{
    char v[64];
    snprintf(v, sizeof v, "%" PRId64, p->step);
    if (fer_weights_set_meta(w, "step", v) < 0)
        return -1;
    snprintf(v, sizeof v, "%d", p->epoch);
    if (fer_weights_set_meta(w, "epoch", v) < 0)
        return -1;
    snprintf(v, sizeof v, "%" PRId64, p->batch);
    if (fer_weights_set_meta(w, "epoch_batch", v) < 0)
        return -1;
    snprintf(v, sizeof v, "%" PRIu64, p->seed);
    if (fer_weights_set_meta(w, "seed", v) < 0)
        return -1;
    snprintf(v, sizeof v, "%.17g", p->seconds);
    return fer_weights_set_meta(w, "seconds", v);
}

int fer_checkpoint_get_position(const struct fer_weights *w, struct fer_train_position *p)
{
    int64_t epoch;
    if (meta_i64(w, "step", &p->step) < 0 || meta_i64(w, "epoch", &epoch) < 0 ||
        meta_i64(w, "epoch_batch", &p->batch) < 0)
        return -1;
    if (epoch > 1000000000)
        return fer_fail("metadata 'epoch' out of range");
    p->epoch = (int)epoch;
    const char *v = fer_weights_get_meta(w, "seed");
    char *end;
    errno = 0;
    if (v == NULL || (p->seed = strtoull(v, &end, 10), end == v || *end != '\0' || errno != 0))
        return fer_fail("metadata 'seed' missing or malformed");
    v = fer_weights_get_meta(w, "seconds");
    if (v == NULL || (p->seconds = strtod(v, &end), end == v || *end != '\0'))
        return fer_fail("metadata 'seconds' missing or malformed");
    return 0;
}

int fer_checkpoint_set_rng(struct fer_weights *w, const char *key, const struct fer_rng *r)
{
    char v[4 * 16 + 1];
    for (int i = 0; i < 4; i++)
        snprintf(v + 16 * i, 17, "%016" PRIx64, r->s[i]);
    return fer_weights_set_meta(w, key, v);
}

int fer_checkpoint_get_rng(const struct fer_weights *w, const char *key, struct fer_rng *r)
{
    const char *v = fer_weights_get_meta(w, key);
    if (v == NULL || strlen(v) != 64)
        return fer_fail("metadata '%s' missing or not 64 hex digits", key);
    for (int i = 0; i < 4; i++) {
        uint64_t x = 0;
        for (int j = 0; j < 16; j++) {
            char c = v[16 * i + j];
            int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (digit < 0)
                return fer_fail("metadata '%s' is not 64 hex digits", key);
            x = x << 4 | (uint64_t)digit;
        }
        r->s[i] = x;
    }
    return 0;
}

int fer_checkpoint_write(const char *path, const struct fer_weights *w)
{
    void *data;
    size_t size;
    if (fer_weights_write_memory(w, &data, &size) < 0)
        return -1;
    struct fer_atomic a = {0};
    int rc = fer_atomic_open(&a, path);
    if (rc == 0 && fwrite(data, 1, size, a.fp) != size) {
        rc = fer_fail_errno("cannot write '%s'", path);
        fer_atomic_abort(&a);
    } else if (rc == 0) {
        rc = fer_atomic_commit(&a, FER_ATOMIC_SYNC);
    }
    free(data);
    return rc;
}
