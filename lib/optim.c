#include "optim.h"

#include "error.h"
#include "nn_parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fer_optim {
    struct fer_optim_spec spec;
    int n;
    int64_t steps;
    struct fer_param *params;
    struct fer_tensor *state; /* n * 2: buffer k of parameter i at 2i + k */
};

static int check_spec(const struct fer_optim_spec *s)
{
    if (!(s->weight_decay >= 0))
        return fer_fail("optimizer: negative weight decay");
    if (s->kind == FER_OPTIM_SGD) {
        if (!(s->momentum >= 0) || !(s->dampening >= 0 && s->dampening <= 1))
            return fer_fail("sgd: bad momentum or dampening");
        if (s->nesterov && (s->momentum <= 0 || s->dampening != 0))
            return fer_fail("sgd: Nesterov momentum requires a momentum and zero dampening");
        return 0;
    }
    if (s->kind == FER_OPTIM_ADAMW) {
        if (!(s->beta1 >= 0 && s->beta1 < 1) || !(s->beta2 >= 0 && s->beta2 < 1) ||
            !(s->eps >= 0))
            return fer_fail("adamw: betas must be in [0, 1) and eps >= 0");
        return 0;
    }
    return fer_fail("optimizer: unknown kind %d", (int)s->kind);
}

struct fer_optim *fer_optim_new(const struct fer_optim_spec *spec,
                                const struct fer_param *params, int n)
{
    if (check_spec(spec) < 0)
        return NULL;
    if (n < 0)
        return fer_fail("optimizer: negative parameter count"), NULL;
    for (int i = 0; i < n; i++) {
        const struct fer_param *p = &params[i];
        if (p->value == NULL || p->grad == NULL || p->value->data == NULL ||
            p->grad->data == NULL || !fer_tensor_same_shape(p->value, p->grad) ||
            !fer_tensor_is_contiguous(p->value) || !fer_tensor_is_contiguous(p->grad))
            return fer_fail("optimizer: parameter %s has no matching gradient",
                            p->name ? p->name : "?"), NULL;
    }
    struct fer_optim *o = calloc(1, sizeof *o);
    if (o == NULL)
        return fer_fail("out of memory"), NULL;
    o->spec = *spec;
    o->n = n;
    o->params = calloc(n ? n : 1, sizeof *o->params);
    o->state = calloc(n ? 2 * n : 1, sizeof *o->state);
    if (o->params == NULL || o->state == NULL)
        goto fail;
    memcpy(o->params, params, n * sizeof *params);
    int buffers = spec->kind == FER_OPTIM_ADAMW ? 2 : spec->momentum > 0 ? 1 : 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < buffers; k++)
            if (fer_tensor_alloc(&o->state[2 * i + k], params[i].value->ndim,
                                 params[i].value->shape) < 0)
                goto fail;
    return o;
fail:
    fer_optim_free(o);
    fer_fail("out of memory");
    return NULL;
}

void fer_optim_free(struct fer_optim *o)
{
    if (o == NULL)
        return;
    if (o->state)
        for (int i = 0; i < 2 * o->n; i++)
            fer_tensor_free(&o->state[i]);
    free(o->state);
    free(o->params);
    free(o);
}

int64_t fer_optim_steps(const struct fer_optim *o)
{
    return o->steps;
}

void fer_optim_set_steps(struct fer_optim *o, int64_t steps)
{
    o->steps = steps;
}

struct fer_tensor *fer_optim_state(struct fer_optim *o, int i, int k)
{
    if (i < 0 || i >= o->n || k < 0 || k > 1 || o->state[2 * i + k].data == NULL)
        return NULL;
    return &o->state[2 * i + k];
}

/* The options are tested once per call, outside the loops: with them
 * inside, GCC kept a branch per element and did not vectorise. */
static void sgd_update(const struct fer_optim_spec *s, float lr, int first, float wd,
                       float *restrict p, const float *restrict g, float *restrict buf,
                       size_t n)
{
    const float mom = s->momentum, damp = 1 - s->dampening;
    if (buf == NULL) {
        for (size_t k = 0; k < n; k++)
            p[k] -= lr * (g[k] + wd * p[k]);
    } else if (first) {
        for (size_t k = 0; k < n; k++) {
            float d = g[k] + wd * p[k];
            buf[k] = d;
            p[k] -= lr * (s->nesterov ? d + mom * d : d);
        }
    } else if (s->nesterov) {
        for (size_t k = 0; k < n; k++) {
            float d = g[k] + wd * p[k];
            buf[k] = mom * buf[k] + damp * d;
            p[k] -= lr * (d + mom * buf[k]);
        }
    } else {
        for (size_t k = 0; k < n; k++) {
            buf[k] = mom * buf[k] + damp * (g[k] + wd * p[k]);
            p[k] -= lr * buf[k];
        }
    }
}

static void adamw_update(const struct fer_optim_spec *s, float lr, int64_t t, float wd,
                         float *p, const float *g, float *m, float *v, size_t n)
{
    const float b1 = s->beta1, b2 = s->beta2;
    const double bc1 = 1 - pow(b1, (double)t), bc2 = 1 - pow(b2, (double)t);
    const float step = (float)(lr / bc1), sqrt_bc2 = (float)sqrt(bc2);
    const float decay = 1 - lr * wd;
    for (size_t k = 0; k < n; k++) {
        p[k] *= decay;
        m[k] = b1 * m[k] + (1 - b1) * g[k];
        v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
        p[k] -= step * m[k] / (sqrtf(v[k]) / sqrt_bc2 + s->eps);
    }
}

/* One parameter's update over element ranges, split over the threads:
 * every element is updated on its own, so the split changes no bit. */
struct update_job {
    const struct fer_optim *o;
    float lr, wd;
    float *p, *m, *v;
    const float *g;
};

static void update_range(void *ctx, long b, long e)
{
    const struct update_job *j = ctx;
    const struct fer_optim *o = j->o;
    size_t n = (size_t)(e - b);
    if (o->spec.kind == FER_OPTIM_SGD)
        sgd_update(&o->spec, j->lr, o->steps == 1, j->wd, j->p + b, j->g + b,
                   j->m ? j->m + b : NULL, n);
    else
        adamw_update(&o->spec, j->lr, o->steps, j->wd, j->p + b, j->g + b, j->m + b,
                     j->v + b, n);
}

int fer_optim_step(struct fer_optim *o, float lr)
{
    if (!(lr >= 0))
        return fer_fail("optimizer: learning rate %g", lr);
    o->steps++;
    for (int i = 0; i < o->n; i++) {
        const struct fer_param *pa = &o->params[i];
        struct update_job j = {o, lr, pa->no_decay ? 0 : o->spec.weight_decay,
                               pa->value->data, o->state[2 * i].data,
                               o->state[2 * i + 1].data, pa->grad->data};
        fer_nn_parallel_elements(fer_tensor_numel(pa->value), 4, update_range, &j);
    }
    return 0;
}

double fer_clip_grad_norm(const struct fer_param *params, int n, double max_norm)
{
    double sq = 0;
    for (int i = 0; i < n; i++) {
        const struct fer_tensor *g = params[i].grad;
        size_t m = fer_tensor_numel(g);
        for (size_t k = 0; k < m; k++)
            sq += (double)g->data[k] * g->data[k];
    }
    double norm = sqrt(sq);
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1)
        for (int i = 0; i < n; i++) {
            struct fer_tensor *g = params[i].grad;
            size_t m = fer_tensor_numel(g);
            for (size_t k = 0; k < m; k++)
                g->data[k] = (float)(g->data[k] * coef);
        }
    return norm;
}

double fer_lr_at(const struct fer_lr_schedule *s, int t)
{
    if (t < s->warmup) {
        double f = s->warmup_start + (1 - s->warmup_start) * t / s->warmup;
        return s->base * f;
    }
    t -= s->warmup;
    switch (s->kind) {
    case FER_LR_STEP:
        return s->base * pow(s->gamma, s->step_size > 0 ? t / s->step_size : 0);
    case FER_LR_COSINE:
        if (s->total <= 0 || t >= s->total)
            return s->min;
        return s->min + (s->base - s->min) * (1 + cos(M_PI * t / s->total)) / 2;
    case FER_LR_CONSTANT:
    default:
        return s->base;
    }
}
