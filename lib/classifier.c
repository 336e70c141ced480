/* classifier.c - backbone + head, preprocessing metadata (classifier.h). */
#include "classifier.h"

#include "checkpoint.h"
#include "error.h"
#include "nn_fan.h"
#include "nn_ial.h"
#include "nn_linear.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fer_classifier {
    struct fer_model *backbone;
    int features, classes, freeze, training;
    int fan_head;       /* 1: "fan", 0: "linear" */
    struct fer_fan fan; /* fan only */
    struct fer_linear fc;
    uint64_t seed;
    int ial_on;                 /* fer_classifier_enable_ial */
    struct fer_ial ial;
    struct fer_ial_acts ial_acts; /* the last fer_classifier_forward_ial */
    struct fer_param *params;
    int n_params;
    /* The last forward: frames per example, features (N*T x F, then the
     * N x F mean that fc saw), both arena memory. */
    int frames;
    struct fer_tensor feat, pooled;
};

/* nn.Linear's reset_parameters: kaiming_uniform(a = sqrt 5) is
 * uniform(+-1/sqrt(fan_in)), and so is the bias. */
static void linear_reset(struct fer_linear *l, struct fer_rng *rng)
{
    double bound = 1.0 / sqrt((double)l->in_features);
    for (size_t i = 0; i < fer_tensor_numel(&l->weight); i++)
        l->weight.data[i] = (float)((2 * fer_rng_uniform(rng) - 1) * bound);
    for (int i = 0; i < l->out_features; i++)
        l->bias.data[i] = (float)((2 * fer_rng_uniform(rng) - 1) * bound);
}

struct fer_classifier *fer_classifier_new(const char *arch, int in_channels, const char *head,
                                          int classes, uint64_t seed)
{
    if (strcmp(head, "linear") != 0 && strcmp(head, "fan") != 0) {
        fer_fail("unknown head '%s' (expected linear or fan)", head);
        return NULL;
    }
    if (classes < 1 || classes > FER_CLASSES_MAX) {
        fer_fail("%d classes (expected 1..%d)", classes, FER_CLASSES_MAX);
        return NULL;
    }
    struct fer_classifier *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fer_fail("out of memory");
        return NULL;
    }
    c->backbone = fer_model_new(arch, in_channels, 0, seed);
    if (c->backbone == NULL)
        goto fail;
    c->features = fer_model_features(c->backbone);
    c->classes = classes;
    c->seed = seed;
    c->fan_head = strcmp(head, "fan") == 0;
    int fc_in = c->fan_head ? 2 * c->features : c->features;
    if (fer_linear_init(&c->fc, fc_in, classes, 1) < 0 ||
        (c->fan_head && fer_fan_init(&c->fan, c->features) < 0))
        goto fail;
    struct fer_rng rng;
    fer_rng_seed_stream(&rng, seed, 0x6663); /* apart from the backbone's */
    linear_reset(&c->fc, &rng);
    if (c->fan_head) {
        linear_reset(&c->fan.alpha, &rng);
        linear_reset(&c->fan.beta, &rng);
    }
    return c;
fail:
    fer_classifier_free(c);
    return NULL;
}

void fer_classifier_free(struct fer_classifier *c)
{
    if (c == NULL)
        return;
    fer_model_free(c->backbone);
    fer_linear_free(&c->fc);
    if (c->fan_head)
        fer_fan_free(&c->fan);
    if (c->ial_on)
        fer_ial_free(&c->ial);
    free(c->params);
    free(c);
}

struct fer_model *fer_classifier_backbone(struct fer_classifier *c) { return c->backbone; }
int fer_classifier_classes(const struct fer_classifier *c) { return c->classes; }

int fer_classifier_load_backbone(struct fer_classifier *c, const struct fer_weights *w)
{
    const char *arch = fer_weights_get_meta(w, "arch");
    const char *ours = fer_model_arch(c->backbone);
    if (arch != NULL && strcmp(arch, ours) != 0)
        return fer_fail("weights are for %s, the model is %s", arch, ours);
    return fer_model_import(c->backbone, w, "");
}

int fer_classifier_enable_ial(struct fer_classifier *c, float temperature)
{
    if (c->fan_head)
        return fer_fail("inter-sample attention needs the linear head, not fan");
    if (c->ial_on)
        return fer_fail("inter-sample attention is already enabled");
    if (fer_ial_init(&c->ial, c->features, c->classes, temperature) < 0)
        return -1;
    struct fer_rng rng;
    fer_rng_seed_stream(&rng, c->seed, 0x69616c); /* "ial": apart from fc's */
    linear_reset(&c->ial.proj0, &rng);
    linear_reset(&c->ial.proj2, &rng);
    linear_reset(&c->ial.fc, &rng);
    c->ial_on = 1;
    return 0;
}

enum { HEAD_PARAMS_MAX = 12 };

/* The head's parameters in checkpoint order (the IAL branch last, so that
 * runs without it keep their order); biases skip weight decay.
 * with_aux = 0 leaves out the training-only IAL branch. */
static int head_params_of(struct fer_classifier *c, struct fer_param p[HEAD_PARAMS_MAX],
                          int with_aux)
{
    int n = 0;
    if (c->fan_head) {
        p[n++] = (struct fer_param){"fan.alpha.weight", &c->fan.alpha.weight,
                                    &c->fan.alpha.weight_grad, 0};
        p[n++] = (struct fer_param){"fan.alpha.bias", &c->fan.alpha.bias,
                                    &c->fan.alpha.bias_grad, 1};
        p[n++] = (struct fer_param){"fan.beta.weight", &c->fan.beta.weight,
                                    &c->fan.beta.weight_grad, 0};
        p[n++] = (struct fer_param){"fan.beta.bias", &c->fan.beta.bias,
                                    &c->fan.beta.bias_grad, 1};
    }
    p[n++] = (struct fer_param){"fc.weight", &c->fc.weight, &c->fc.weight_grad, 0};
    p[n++] = (struct fer_param){"fc.bias", &c->fc.bias, &c->fc.bias_grad, 1};
    if (c->ial_on && with_aux) {
        struct fer_ial *l = &c->ial;
        p[n++] = (struct fer_param){"ial.proj.0.weight", &l->proj0.weight, &l->proj0.weight_grad, 0};
        p[n++] = (struct fer_param){"ial.proj.0.bias", &l->proj0.bias, &l->proj0.bias_grad, 1};
        p[n++] = (struct fer_param){"ial.proj.2.weight", &l->proj2.weight, &l->proj2.weight_grad, 0};
        p[n++] = (struct fer_param){"ial.proj.2.bias", &l->proj2.bias, &l->proj2.bias_grad, 1};
        p[n++] = (struct fer_param){"ial.fc.weight", &l->fc.weight, &l->fc.weight_grad, 0};
        p[n++] = (struct fer_param){"ial.fc.bias", &l->fc.bias, &l->fc.bias_grad, 1};
    }
    return n;
}

static int head_params(struct fer_classifier *c, struct fer_param p[HEAD_PARAMS_MAX])
{
    return head_params_of(c, p, 1);
}

static int export_tensors(struct fer_classifier *c, struct fer_weights *w, int with_aux)
{
    struct fer_param head[HEAD_PARAMS_MAX];
    int n = head_params_of(c, head, with_aux);
    if (fer_model_export(c->backbone, w, "") < 0)
        return -1;
    return fer_params_export(head, n, w);
}

int fer_classifier_export(struct fer_classifier *c, struct fer_weights *w)
{
    return export_tensors(c, w, 1);
}

int fer_classifier_export_model(struct fer_classifier *c, struct fer_weights *w)
{
    return export_tensors(c, w, 0);
}

int fer_classifier_import(struct fer_classifier *c, const struct fer_weights *w)
{
    struct fer_param head[HEAD_PARAMS_MAX];
    int n = head_params(c, head);
    /* Check everything first, so that a failure leaves c unchanged; the
     * backbone's differences say most about what the file is. */
    if (fer_model_check(c->backbone, w, "") < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int64_t shape[2] = {head[i].value->shape[0],
                            head[i].value->ndim > 1 ? head[i].value->shape[1] : 0};
        if (fer_weights_expect(w, head[i].name, head[i].value->ndim, shape) == NULL)
            return -1;
    }
    if (fer_model_import(c->backbone, w, "") < 0)
        return -1;
    return fer_params_import(head, n, w);
}

void fer_classifier_set_freeze(struct fer_classifier *c, int freeze)
{
    c->freeze = freeze;
    fer_model_set_training(c->backbone, c->training && !freeze);
}

void fer_classifier_set_training(struct fer_classifier *c, int training)
{
    c->training = training;
    fer_model_set_training(c->backbone, training && !c->freeze);
}

int fer_classifier_params(struct fer_classifier *c, const struct fer_param **params)
{
    const struct fer_param *bp;
    int nb = c->freeze ? 0 : fer_model_params(c->backbone, &bp);
    struct fer_param *p = realloc(c->params, (size_t)(nb + HEAD_PARAMS_MAX) * sizeof *p);
    if (p == NULL)
        return fer_fail("out of memory");
    c->params = p;
    if (nb > 0)
        memcpy(p, bp, (size_t)nb * sizeof *p);
    c->n_params = nb + head_params(c, p + nb);
    *params = p;
    return c->n_params;
}

void fer_classifier_zero_grad(struct fer_classifier *c)
{
    fer_model_zero_grad(c->backbone);
    fer_linear_zero_grad(&c->fc);
    if (c->fan_head)
        fer_fan_zero_grad(&c->fan);
    if (c->ial_on)
        fer_ial_zero_grad(&c->ial);
}

int fer_classifier_forward(struct fer_classifier *c, const struct fer_tensor *x, int frames,
                           struct fer_tensor *logits, struct fer_arena *a)
{
    if (frames < 1 || x->ndim != 4 || x->shape[0] % frames != 0)
        return fer_fail("classifier: %d images do not split into examples of %d frames",
                        x->shape[0], frames);
    int total = x->shape[0], n = total / frames, f = c->features;
    if (fer_tensor_arena(&c->feat, a, 2, (int[]){total, f}) < 0 ||
        fer_model_forward(c->backbone, x, &c->feat, a) < 0)
        return -1;
    c->frames = frames;
    c->pooled = c->feat;
    memset(&c->ial_acts, 0, sizeof c->ial_acts); /* fer_classifier_forward_ial's */
    if (c->fan_head) {
        if (fer_tensor_arena(&c->pooled, a, 2, (int[]){n, 2 * f}) < 0 ||
            fer_fan_forward(&c->fan, &c->feat, frames, &c->pooled) < 0)
            return -1;
    } else if (frames > 1) {
        if (fer_tensor_arena(&c->pooled, a, 2, (int[]){n, f}) < 0)
            return -1;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < f; k++) {
                double s = 0;
                for (int t = 0; t < frames; t++)
                    s += c->feat.data[(size_t)(i * frames + t) * f + k];
                c->pooled.data[(size_t)i * f + k] = (float)(s / frames);
            }
    }
    return fer_linear_forward(&c->fc, &c->pooled, logits);
}

int fer_classifier_forward_ial(struct fer_classifier *c, struct fer_tensor *logits,
                               struct fer_arena *a)
{
    if (!c->ial_on)
        return fer_fail("classifier: inter-sample attention is not enabled");
    if (c->pooled.data == NULL)
        return fer_fail("classifier: inter-sample attention before a forward pass");
    return fer_ial_forward(&c->ial, &c->pooled, &c->ial_acts, logits, a);
}

/* dial: d loss / d IAL logits, or NULL for the main head alone. */
static int backward(struct fer_classifier *c, const struct fer_tensor *dlogits,
                    const struct fer_tensor *dial, struct fer_arena *a)
{
    struct fer_tensor dpooled, dfeat, dvia;
    int total = c->feat.shape[0], n = c->pooled.shape[0], f = c->features;
    if (c->freeze && !c->fan_head) {
        if (fer_linear_backward(&c->fc, &c->pooled, dlogits, NULL) < 0)
            return -1;
        return dial == NULL ? 0
                            : fer_ial_backward(&c->ial, &c->pooled, &c->ial_acts, dial, NULL, a);
    }
    if (fer_tensor_arena(&dpooled, a, 2, (int[]){n, c->pooled.shape[1]}) < 0 ||
        fer_linear_backward(&c->fc, &c->pooled, dlogits, &dpooled) < 0)
        return -1;
    if (dial != NULL) {
        /* Both heads read the same pooled features: their gradients add. */
        if (fer_tensor_arena(&dvia, a, 2, (int[]){n, f}) < 0 ||
            fer_ial_backward(&c->ial, &c->pooled, &c->ial_acts, dial, &dvia, a) < 0)
            return -1;
        for (size_t i = 0; i < (size_t)n * (size_t)f; i++)
            dpooled.data[i] += dvia.data[i];
    }
    dfeat = dpooled;
    if (c->fan_head) {
        if ((!c->freeze && fer_tensor_arena(&dfeat, a, 2, (int[]){total, f}) < 0) ||
            fer_fan_backward(&c->fan, &c->feat, c->frames, &dpooled, c->freeze ? NULL : &dfeat) < 0)
            return -1;
        if (c->freeze)
            return 0;
    } else if (c->frames > 1) {
        if (fer_tensor_arena(&dfeat, a, 2, (int[]){total, f}) < 0)
            return -1;
        for (int i = 0; i < total; i++)
            for (int k = 0; k < f; k++)
                dfeat.data[(size_t)i * f + k] =
                    dpooled.data[(size_t)(i / c->frames) * f + k] / (float)c->frames;
    }
    return fer_model_backward(c->backbone, &dfeat, NULL, a);
}

int fer_classifier_backward(struct fer_classifier *c, const struct fer_tensor *dlogits,
                            struct fer_arena *a)
{
    return backward(c, dlogits, NULL, a);
}

int fer_classifier_backward_ial(struct fer_classifier *c, const struct fer_tensor *dlogits,
                                const struct fer_tensor *dial_logits, struct fer_arena *a)
{
    if (!c->ial_on || c->ial_acts.v.data == NULL)
        return fer_fail("classifier: no inter-sample attention forward to go back through");
    return backward(c, dlogits, dial_logits, a);
}

/* Preprocessing metadata. */

static const char normalize_value[] = "0.5,0.5";
static const char channels_value[] = "replicate-grey,bt601-grey";

int fer_preprocess_set_meta(const struct fer_preprocess *p, struct fer_weights *w)
{
    char v[FER_CLASSES_MAX * (FER_CLASS_NAME_MAX + 1) + 1];
    snprintf(v, sizeof v, "%dx%dx%d", p->channels, p->height, p->width);
    if (fer_weights_set_meta(w, "format", "pt") < 0 ||
        fer_weights_set_meta(w, "arch", p->arch) < 0 ||
        fer_weights_set_meta(w, "input_shape", v) < 0 ||
        fer_weights_set_meta(w, "normalize", normalize_value) < 0 ||
        fer_weights_set_meta(w, "channels", channels_value) < 0 ||
        fer_weights_set_meta(w, "task", p->task) < 0)
        return -1;
    if (p->head[0] != '\0' && fer_weights_set_meta(w, "head", p->head) < 0)
        return -1;
    snprintf(v, sizeof v, "%d", p->seq_len);
    if (fer_weights_set_meta(w, "seq_len", v) < 0)
        return -1;
    v[0] = '\0';
    for (int i = 0; i < p->n_classes; i++) {
        if (i > 0)
            strcat(v, ",");
        strcat(v, p->classes[i]);
    }
    return fer_weights_set_meta(w, "classes", v);
}

int fer_preprocess_set_classes(struct fer_preprocess *p, const char *list)
{
    p->n_classes = 0;
    const char *s = list;
    for (;;) {
        size_t len = strcspn(s, ",");
        if (len == 0 || len >= FER_CLASS_NAME_MAX)
            return fer_fail("bad class list '%s'", list);
        if (p->n_classes == FER_CLASSES_MAX)
            return fer_fail("more than %d classes", FER_CLASSES_MAX);
        char *dst = p->classes[p->n_classes];
        memcpy(dst, s, len);
        dst[len] = '\0';
        if (fer_preprocess_class(p, dst) >= 0)
            return fer_fail("class '%s' listed twice", dst);
        p->n_classes++;
        if (s[len] == '\0')
            return 0;
        s += len + 1;
    }
}

int fer_preprocess_class(const struct fer_preprocess *p, const char *name)
{
    for (int i = 0; i < p->n_classes; i++)
        if (strcmp(p->classes[i], name) == 0)
            return i;
    return -1;
}

static int copy_meta(const struct fer_weights *w, const char *key, char *dst, size_t size,
                     int required)
{
    const char *v = fer_weights_get_meta(w, key);
    if (v == NULL) {
        dst[0] = '\0';
        return required ? fer_fail("no metadata '%s'", key) : 0;
    }
    if (strlen(v) >= size)
        return fer_fail("metadata '%s' too long", key);
    strcpy(dst, v);
    return 0;
}

int fer_preprocess_get_meta(const struct fer_weights *w, struct fer_preprocess *p)
{
    memset(p, 0, sizeof *p);
    if (copy_meta(w, "arch", p->arch, sizeof p->arch, 1) < 0 ||
        copy_meta(w, "task", p->task, sizeof p->task, 0) < 0 ||
        copy_meta(w, "head", p->head, sizeof p->head, 0) < 0)
        return -1;
    const char *v = fer_weights_get_meta(w, "input_shape");
    char end;
    if (v == NULL || sscanf(v, "%dx%dx%d%c", &p->channels, &p->height, &p->width, &end) != 3 ||
        (p->channels != 1 && p->channels != 3) || p->height < 1 || p->width < 1 ||
        p->height > 4096 || p->width > 4096)
        return fer_fail("metadata 'input_shape' missing or not CxHxW: '%s'", v ? v : "");
    v = fer_weights_get_meta(w, "normalize");
    if (v != NULL && strcmp(v, normalize_value) != 0)
        return fer_fail("metadata 'normalize' is '%s'; only '%s' is supported", v,
                        normalize_value);
    v = fer_weights_get_meta(w, "seq_len");
    p->seq_len = 1;
    if (v != NULL && (sscanf(v, "%d%c", &p->seq_len, &end) != 1 || p->seq_len < 1 ||
                      p->seq_len > 1000))
        return fer_fail("metadata 'seq_len' is not a count: '%s'", v);
    v = fer_weights_get_meta(w, "classes");
    if (v == NULL)
        return fer_fail("no metadata 'classes'");
    return fer_preprocess_set_classes(p, v);
}
