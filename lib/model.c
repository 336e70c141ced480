#include "model.h"

#include "error.h"
#include "nn_activation.h"
#include "nn_batchnorm.h"
#include "nn_conv.h"
#include "nn_linear.h"
#include "nn_misc.h"
#include "nn_parallel.h"
#include "nn_pool.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The network is a list of nodes in execution (topological) order. Value 0
 * is the input; node i writes value i + 1 and reads earlier values. */
enum op { OP_CONV, OP_BN, OP_RELU, OP_MAXPOOL, OP_GAP, OP_LINEAR, OP_ADD };

struct node {
    enum op op;
    int in, in2;   /* value indices; in2 for OP_ADD */
    int in_place;  /* OP_RELU over its input's memory */
    int fused;     /* OP_BN: also applies the ReLU that follows (forward) */
    int pooled;    /* OP_BN, fused: the ReLU's output feeds only the max
                      pool two nodes on (see fused_pool) */
    int summed;    /* OP_BN not fused, and OP_ADD: the batch norm's output
                      feeds only the sum, which an in-place ReLU follows; the
                      three run as one at the sum (check_summed) */
    char name[48]; /* module path, e.g. "layer1.0.conv1" */
    void *layer;   /* fer_conv2d, fer_batchnorm, fer_linear or fer_pool2d */
};

struct fer_model {
    char arch[16];
    int in_channels, classes, features;
    int n, cap;
    struct node *nodes;
    struct fer_tensor *values, *grads; /* n + 1 each, arena memory */
    int forwarded;
    struct fer_model_tensor *tensors;
    int n_tensors, cap_tensors;
    struct fer_param *params;
    int n_params;
};

static int push_node(struct fer_model *m, enum op op, int in, int in2, const char *name,
                     void *layer)
{
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 32;
        struct node *p = realloc(m->nodes, cap * sizeof *p);
        if (p == NULL) {
            free(layer);
            return fer_fail("out of memory");
        }
        m->nodes = p;
        m->cap = cap;
    }
    struct node *nd = &m->nodes[m->n];
    memset(nd, 0, sizeof *nd);
    nd->op = op;
    nd->in = in;
    nd->in2 = in2;
    nd->layer = layer;
    snprintf(nd->name, sizeof nd->name, "%s", name ? name : "");
    return ++m->n; /* the value this node writes */
}

static int add_conv(struct fer_model *m, int in, const char *name, int cin, int cout,
                    int k, int stride, int pad)
{
    if (in < 0)
        return -1;
    struct fer_conv2d *c = malloc(sizeof *c);
    struct fer_conv2d_spec s = {cin, cout, k, k, stride, stride, pad, pad, 1, 1, 1, 0};
    if (c == NULL || fer_conv2d_init(c, &s) < 0) {
        free(c);
        return -1;
    }
    return push_node(m, OP_CONV, in, -1, name, c);
}

static int add_bn(struct fer_model *m, int in, const char *name, int channels)
{
    if (in < 0)
        return -1;
    struct fer_batchnorm *b = malloc(sizeof *b);
    if (b == NULL || fer_batchnorm_init(b, channels, 1e-5f, 0.1f) < 0) {
        free(b);
        return -1;
    }
    return push_node(m, OP_BN, in, -1, name, b);
}

static int add_relu(struct fer_model *m, int in)
{
    if (in < 0)
        return -1;
    /* In place over a batch-norm or sum output: their backward does not
     * read their output, so ReLU may overwrite it. */
    int v = push_node(m, OP_RELU, in, -1, NULL, NULL);
    if (v > 0 && in > 0) {
        enum op prev = m->nodes[in - 1].op;
        m->nodes[v - 1].in_place = prev == OP_BN || prev == OP_ADD;
        /* A batch norm feeding only this ReLU rectifies its own output. */
        m->nodes[in - 1].fused = prev == OP_BN;
    }
    return v;
}

static int add_maxpool(struct fer_model *m, int in, int k, int stride, int pad)
{
    if (in < 0)
        return -1;
    struct fer_pool2d *p = malloc(sizeof *p);
    if (p == NULL)
        return fer_fail("out of memory");
    *p = (struct fer_pool2d){.kernel = k, .stride = stride, .pad = pad,
                             .count_include_pad = 1};
    int v = push_node(m, OP_MAXPOOL, in, -1, NULL, p);
    /* bn -> relu (in place) -> this pool, in consecutive nodes: the
     * batch norm may take over the pool's backward (fused_pool). */
    const int pool = v - 1, bn = pool - 2;
    if (v > 0 && bn >= 0 && m->nodes[bn].op == OP_BN && m->nodes[bn].fused &&
        m->nodes[bn + 1].op == OP_RELU && m->nodes[bn + 1].in_place && in == bn + 2)
        m->nodes[bn].pooled = 1;
    return v;
}

/* The pool's backward can be left to the batch norm only if nothing else
 * reads the rectified output (its gradient would then have other parts). */
static void check_pooled(struct fer_model *m)
{
    for (int i = 0; i < m->n; i++) {
        if (!m->nodes[i].pooled)
            continue;
        int readers = 0;
        for (int k = 0; k < m->n; k++)
            readers += (m->nodes[k].in == i + 2) + (m->nodes[k].in2 == i + 2);
        m->nodes[i].pooled = readers == 1;
    }
}

/* A residual sum whose first input is a batch norm's output read by
 * nothing else, followed by an in-place ReLU (ResNet's bn2 + identity):
 * the forward runs fer_batchnorm_add_relu_forward at the sum and never
 * writes the batch norm's output; the backward needs only its input. */
static void check_summed(struct fer_model *m)
{
    for (int k = 0; k + 1 < m->n; k++) {
        struct node *add = &m->nodes[k];
        if (add->op != OP_ADD || add->in < 1)
            continue;
        struct node *bn = &m->nodes[add->in - 1], *relu = &m->nodes[k + 1];
        if (bn->op != OP_BN || bn->fused || relu->op != OP_RELU || !relu->in_place ||
            relu->in != k + 1 || add->in2 == add->in)
            continue;
        int readers = 0;
        for (int i = 0; i < m->n; i++)
            readers += (m->nodes[i].in == add->in) + (m->nodes[i].in2 == add->in);
        if (readers == 1)
            bn->summed = add->summed = 1;
    }
}

/* For batch norm node i: the index of the 2x2 max pool it fuses with its
 * ReLU into one forward (fer_batchnorm_relu_maxpool_forward) and one
 * backward (fer_batchnorm_relu_maxpool_backward), or -1 when it has none
 * or the current shapes do not allow it. */
static int fused_pool(const struct fer_model *m, int i)
{
    const struct node *nd = &m->nodes[i];
    if (nd->op != OP_BN || !nd->pooled)
        return -1;
    return fer_batchnorm_maxpool_fusable(m->nodes[i + 2].layer, &m->values[i + 1]) ? i + 2
                                                                                    : -1;
}

static int add_linear(struct fer_model *m, int in, const char *name, int fin, int fout)
{
    if (in < 0)
        return -1;
    struct fer_linear *l = malloc(sizeof *l);
    if (l == NULL || fer_linear_init(l, fin, fout, 1) < 0) {
        free(l);
        return -1;
    }
    return push_node(m, OP_LINEAR, in, -1, name, l);
}

static int add_sum(struct fer_model *m, int a, int b)
{
    if (a < 0 || b < 0)
        return -1;
    return push_node(m, OP_ADD, a, b, NULL, NULL);
}

/* conv-bn-relu-maxpool stages of cnn-s, indices as nn.Sequential's. */
static int build_cnn_s(struct fer_model *m)
{
    static const int widths[4] = {32, 64, 128, 256};
    int v = 0, cin = m->in_channels, idx = 0;
    char name[48];
    for (int s = 0; s < 4; s++) {
        snprintf(name, sizeof name, "features.%d", idx);
        v = add_conv(m, v, name, cin, widths[s], 3, 1, 1);
        snprintf(name, sizeof name, "features.%d", idx + 1);
        v = add_bn(m, v, name, widths[s]);
        v = add_relu(m, v);
        idx += 3;
        if (s < 3) {
            v = add_maxpool(m, v, 2, 2, 0);
            idx++;
        }
        cin = widths[s];
    }
    m->features = 256;
    return v;
}

/* torchvision's BasicBlock: conv3x3-bn-relu-conv3x3-bn, plus the input
 * (through a 1x1 conv + bn "downsample" when the shape changes), relu. */
static int basic_block(struct fer_model *m, int in, const char *prefix, int cin,
                       int planes, int stride)
{
    char name[48];
    snprintf(name, sizeof name, "%s.conv1", prefix);
    int v = add_conv(m, in, name, cin, planes, 3, stride, 1);
    snprintf(name, sizeof name, "%s.bn1", prefix);
    v = add_bn(m, v, name, planes);
    v = add_relu(m, v);
    snprintf(name, sizeof name, "%s.conv2", prefix);
    v = add_conv(m, v, name, planes, planes, 3, 1, 1);
    snprintf(name, sizeof name, "%s.bn2", prefix);
    v = add_bn(m, v, name, planes);
    int skip = in;
    if (stride != 1 || cin != planes) {
        snprintf(name, sizeof name, "%s.downsample.0", prefix);
        skip = add_conv(m, in, name, cin, planes, 1, stride, 0);
        snprintf(name, sizeof name, "%s.downsample.1", prefix);
        skip = add_bn(m, skip, name, planes);
    }
    return add_relu(m, add_sum(m, v, skip));
}

static int build_resnet18(struct fer_model *m)
{
    int v = add_conv(m, 0, "conv1", m->in_channels, 64, 7, 2, 3);
    v = add_bn(m, v, "bn1", 64);
    v = add_relu(m, v);
    v = add_maxpool(m, v, 3, 2, 1);
    static const int planes[4] = {64, 128, 256, 512};
    int cin = 64;
    for (int l = 0; l < 4; l++)
        for (int b = 0; b < 2; b++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "layer%d.%d", l + 1, b);
            v = basic_block(m, v, prefix, cin, planes[l], b == 0 && l > 0 ? 2 : 1);
            cin = planes[l];
        }
    m->features = 512;
    return v;
}

static int push_tensor(struct fer_model *m, const char *module, const char *field,
                       struct fer_tensor *value, struct fer_tensor *grad, int64_t *count,
                       int no_decay)
{
    if (m->n_tensors == m->cap_tensors) {
        int cap = m->cap_tensors ? 2 * m->cap_tensors : 64;
        struct fer_model_tensor *p = realloc(m->tensors, cap * sizeof *p);
        if (p == NULL)
            return fer_fail("out of memory");
        m->tensors = p;
        m->cap_tensors = cap;
    }
    struct fer_model_tensor *t = &m->tensors[m->n_tensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s.%s", module, field);
    t->value = value;
    t->grad = grad;
    t->count = count;
    t->no_decay = no_decay;
    return 0;
}

/* The state_dict listing: module order is node order, which follows the
 * order torchvision registers its modules. */
static int list_tensors(struct fer_model *m)
{
    for (int i = 0; i < m->n; i++) {
        struct node *nd = &m->nodes[i];
        int rc = 0;
        if (nd->op == OP_CONV) {
            struct fer_conv2d *c = nd->layer;
            rc = push_tensor(m, nd->name, "weight", &c->weight, &c->weight_grad, NULL, 0);
        } else if (nd->op == OP_BN) {
            struct fer_batchnorm *b = nd->layer;
            rc = push_tensor(m, nd->name, "weight", &b->weight, &b->weight_grad, NULL, 1) |
                 push_tensor(m, nd->name, "bias", &b->bias, &b->bias_grad, NULL, 1) |
                 push_tensor(m, nd->name, "running_mean", &b->running_mean, NULL, NULL, 1) |
                 push_tensor(m, nd->name, "running_var", &b->running_var, NULL, NULL, 1) |
                 push_tensor(m, nd->name, "num_batches_tracked", NULL, NULL,
                             &b->num_batches_tracked, 1);
        } else if (nd->op == OP_LINEAR) {
            struct fer_linear *l = nd->layer;
            rc = push_tensor(m, nd->name, "weight", &l->weight, &l->weight_grad, NULL, 0) |
                 push_tensor(m, nd->name, "bias", &l->bias, &l->bias_grad, NULL, 1);
        }
        if (rc < 0)
            return -1;
    }
    int n = 0;
    for (int i = 0; i < m->n_tensors; i++)
        n += m->tensors[i].grad != NULL;
    m->params = calloc(n ? n : 1, sizeof *m->params);
    if (m->params == NULL)
        return fer_fail("out of memory");
    for (int i = 0; i < m->n_tensors; i++) {
        struct fer_model_tensor *t = &m->tensors[i];
        if (t->grad)
            m->params[m->n_params++] =
                (struct fer_param){t->name, t->value, t->grad, t->no_decay};
    }
    return 0;
}

struct fer_model *fer_model_new(const char *arch, int in_channels, int classes,
                                uint64_t seed)
{
    if (in_channels < 1 || classes < 0)
        return fer_fail("model: bad channel or class count"), NULL;
    struct fer_model *m = calloc(1, sizeof *m);
    if (m == NULL)
        return fer_fail("out of memory"), NULL;
    m->in_channels = in_channels;
    m->classes = classes;
    int v;
    if (strcmp(arch, "cnn-s") == 0)
        v = build_cnn_s(m);
    else if (strcmp(arch, "resnet18") == 0)
        v = build_resnet18(m);
    else {
        fer_model_free(m);
        return fer_fail("model: unknown architecture '%s' (cnn-s, resnet18)", arch), NULL;
    }
    snprintf(m->arch, sizeof m->arch, "%s", arch);
    if (v >= 0)
        v = push_node(m, OP_GAP, v, -1, NULL, NULL);
    if (v >= 0 && classes > 0)
        v = add_linear(m, v, "fc", m->features, classes);
    if (v < 0 || list_tensors(m) < 0) {
        fer_model_free(m);
        return NULL;
    }
    check_pooled(m);
    check_summed(m);
    m->values = calloc(m->n + 1, sizeof *m->values);
    m->grads = calloc(m->n + 1, sizeof *m->grads);
    if (m->values == NULL || m->grads == NULL) {
        fer_model_free(m);
        return fer_fail("out of memory"), NULL;
    }
    fer_model_init(m, seed);
    return m;
}

void fer_model_free(struct fer_model *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < m->n; i++) {
        struct node *nd = &m->nodes[i];
        if (nd->op == OP_CONV)
            fer_conv2d_free(nd->layer);
        else if (nd->op == OP_BN)
            fer_batchnorm_free(nd->layer);
        else if (nd->op == OP_LINEAR)
            fer_linear_free(nd->layer);
        free(nd->layer);
    }
    free(m->nodes);
    free(m->values);
    free(m->grads);
    free(m->tensors);
    free(m->params);
    free(m);
}

void fer_model_init(struct fer_model *m, uint64_t seed)
{
    struct fer_rng r;
    fer_rng_seed(&r, seed);
    for (int i = 0; i < m->n; i++) {
        struct node *nd = &m->nodes[i];
        if (nd->op == OP_CONV) {
            /* kaiming_normal_(mode="fan_out", nonlinearity="relu") */
            struct fer_conv2d *c = nd->layer;
            double fan_out = (double)c->spec.out_channels * c->spec.kernel_h * c->spec.kernel_w;
            double std = sqrt(2.0 / fan_out);
            size_t n = fer_tensor_numel(&c->weight);
            for (size_t k = 0; k < n; k++)
                c->weight.data[k] = (float)(std * fer_rng_normal(&r));
        } else if (nd->op == OP_BN) {
            struct fer_batchnorm *b = nd->layer;
            fer_tensor_fill(&b->weight, 1);
            fer_tensor_fill(&b->bias, 0);
            fer_tensor_fill(&b->running_mean, 0);
            fer_tensor_fill(&b->running_var, 1);
            b->num_batches_tracked = 0;
        } else if (nd->op == OP_LINEAR) {
            /* nn.Linear's default: both uniform in +-1/sqrt(fan_in). */
            struct fer_linear *l = nd->layer;
            double bound = 1.0 / sqrt((double)l->in_features);
            size_t n = fer_tensor_numel(&l->weight);
            for (size_t k = 0; k < n; k++)
                l->weight.data[k] = (float)(bound * (2 * fer_rng_uniform(&r) - 1));
            for (int k = 0; k < l->out_features; k++)
                l->bias.data[k] = (float)(bound * (2 * fer_rng_uniform(&r) - 1));
        }
    }
}

const char *fer_model_arch(const struct fer_model *m)
{
    return m->arch;
}

int fer_model_in_channels(const struct fer_model *m)
{
    return m->in_channels;
}

int fer_model_classes(const struct fer_model *m)
{
    return m->classes;
}

int fer_model_features(const struct fer_model *m)
{
    return m->features;
}

void fer_model_set_training(struct fer_model *m, int training)
{
    for (int i = 0; i < m->n; i++)
        if (m->nodes[i].op == OP_BN)
            ((struct fer_batchnorm *)m->nodes[i].layer)->training = training;
}

/* Element ranges of dst and src, for the threads: set_range copies src
 * (NULL: zeroes), add_range adds it. */
struct floats_job {
    float *dst;
    const float *src;
};

static void set_range(void *ctx, long begin, long end)
{
    const struct floats_job *j = ctx;
    if (j->src)
        memcpy(j->dst + begin, j->src + begin, sizeof(float) * (end - begin));
    else
        memset(j->dst + begin, 0, sizeof(float) * (end - begin));
}

static void set_floats(float *dst, const float *src, size_t n)
{
    struct floats_job j = {dst, src};
    fer_nn_parallel_elements(n, src ? 2 : 1, set_range, &j);
}

void fer_model_zero_grad(struct fer_model *m)
{
    for (int i = 0; i < m->n_params; i++)
        set_floats(m->params[i].grad->data, NULL, fer_tensor_numel(m->params[i].grad));
}

int fer_model_tensors(struct fer_model *m, const struct fer_model_tensor **list)
{
    *list = m->tensors;
    return m->n_tensors;
}

int fer_model_params(struct fer_model *m, const struct fer_param **params)
{
    *params = m->params;
    return m->n_params;
}

/* The output shape of node nd for input value x, or -1. */
static int out_shape(const struct node *nd, const struct fer_tensor *x, int *ndim,
                     int shape[4])
{
    *ndim = x->ndim;
    memcpy(shape, x->shape, sizeof x->shape);
    int oh, ow;
    switch (nd->op) {
    case OP_CONV: {
        const struct fer_conv2d *c = nd->layer;
        if (fer_conv2d_output_size(c, x->shape[2], x->shape[3], &oh, &ow) < 0)
            return -1;
        shape[1] = c->spec.out_channels, shape[2] = oh, shape[3] = ow;
        return 0;
    }
    case OP_MAXPOOL:
        if (fer_pool2d_output_size(nd->layer, x->shape[2], x->shape[3], &oh, &ow) < 0)
            return -1;
        shape[2] = oh, shape[3] = ow;
        return 0;
    case OP_GAP:
        *ndim = 2;
        shape[2] = shape[3] = 1;
        return 0;
    case OP_LINEAR:
        *ndim = 2;
        shape[2] = shape[3] = 1;
        shape[1] = ((const struct fer_linear *)nd->layer)->out_features;
        return 0;
    default:
        return 0;
    }
}

static int node_forward(struct node *nd, const struct fer_tensor *x,
                        const struct fer_tensor *x2, struct fer_tensor *y,
                        struct fer_arena *a)
{
    switch (nd->op) {
    case OP_CONV:
        return fer_conv2d_forward(nd->layer, x, y, a);
    case OP_BN:
        return (nd->fused ? fer_batchnorm_relu_forward : fer_batchnorm_forward)(nd->layer,
                                                                               x, y);
    case OP_RELU:
        return fer_relu_forward(x, y);
    case OP_MAXPOOL:
        return fer_maxpool2d_forward(nd->layer, x, y);
    case OP_GAP:
        return fer_global_avgpool_forward(x, y);
    case OP_LINEAR:
        return fer_linear_forward(nd->layer, x, y);
    case OP_ADD:
        return fer_add_forward(x, x2, y);
    }
    return fer_fail("model: bad node");
}

int fer_model_forward(struct fer_model *m, const struct fer_tensor *x,
                      struct fer_tensor *out, struct fer_arena *a)
{
    m->forwarded = 0;
    if (x->ndim != 4 || x->shape[1] != m->in_channels)
        return fer_fail("%s: input must be N x %d x H x W", m->arch, m->in_channels);
    m->values[0] = *x;
    for (int i = 0; i < m->n; i++) {
        struct node *nd = &m->nodes[i];
        const struct fer_tensor *in = &m->values[nd->in];
        struct fer_tensor *y = &m->values[i + 1];
        int ndim, shape[4];
        if (out_shape(nd, in, &ndim, shape) < 0)
            return fer_fail_context("%s: %s", m->arch, nd->name[0] ? nd->name : "layer");
        if ((nd->op == OP_BN && nd->summed) ||
            (nd->op == OP_BN && nd->pooled &&
             fer_batchnorm_maxpool_fusable(m->nodes[i + 2].layer, in))) {
            /* Batch norm, ReLU and the pool run as one at the pool's node
             * (or batch norm, sum and ReLU at the sum's): the batch norm's
             * output is only a shape (no memory), as the backward does not
             * read it or rebuilds it from the input. */
            *y = *in;
            y->data = NULL;
            y->owns = 0;
            continue;
        }
        if (i == m->n - 1) {
            if (!(out->ndim == ndim && memcmp(out->shape, shape, sizeof shape) == 0))
                return fer_fail("%s: output must be %d x %d", m->arch, shape[0], shape[1]);
            *y = *out;
            y->owns = 0;
        } else if (nd->in_place) {
            *y = *in;
        } else if (fer_tensor_arena(y, a, ndim, shape) < 0) {
            return fer_fail_context("%s", m->arch);
        }
        if (nd->op == OP_RELU && nd->in_place &&
            (m->nodes[nd->in - 1].fused || m->nodes[nd->in - 1].summed))
            continue; /* done by the batch norm before it, or at the sum */
        if (nd->op == OP_ADD && nd->summed) {
            const struct node *bn = &m->nodes[nd->in - 1];
            if (fer_batchnorm_add_relu_forward(bn->layer, &m->values[bn->in],
                                               &m->values[nd->in2], y) < 0)
                return fer_fail_context("%s: %s", m->arch, bn->name);
            continue;
        }
        if (nd->op == OP_MAXPOOL && i >= 2 && fused_pool(m, i - 2) == i) {
            const struct node *bn = &m->nodes[i - 2];
            if (fer_batchnorm_relu_maxpool_forward(bn->layer, &m->values[bn->in], nd->layer,
                                                   y) < 0)
                return fer_fail_context("%s: %s", m->arch, bn->name);
            continue;
        }
        if (node_forward(nd, in, nd->op == OP_ADD ? &m->values[nd->in2] : NULL, y, a) < 0)
            return fer_fail_context("%s", m->arch);
    }
    m->forwarded = 1;
    return 0;
}

/* Where the gradient for value v goes: its own tensor the first time (or
 * the caller's dx for the input), else a temporary to be added. */
static struct fer_tensor *grad_target(struct fer_model *m, int v, struct fer_arena *a,
                                      struct fer_tensor *tmp, int *accumulate)
{
    *accumulate = m->grads[v].data != NULL;
    struct fer_tensor *t = *accumulate ? tmp : &m->grads[v];
    if (fer_tensor_arena(t, a, m->values[v].ndim, m->values[v].shape) < 0)
        return NULL;
    return t;
}

static void add_range(void *ctx, long begin, long end)
{
    const struct floats_job *j = ctx;
    for (long k = begin; k < end; k++)
        j->dst[k] += j->src[k];
}

static void grad_add(struct fer_tensor *dst, const struct fer_tensor *src)
{
    struct floats_job j = {dst->data, src->data};
    fer_nn_parallel_elements(fer_tensor_numel(dst), 3, add_range, &j);
}

int fer_model_backward(struct fer_model *m, const struct fer_tensor *dout,
                       struct fer_tensor *dx, struct fer_arena *a)
{
    if (!m->forwarded)
        return fer_fail("%s: backward without a forward", m->arch);
    const int last = m->n;
    if (!fer_tensor_same_shape(dout, &m->values[last]))
        return fer_fail("%s: output gradient has the wrong shape", m->arch);
    if (dx && !fer_tensor_same_shape(dx, &m->values[0]))
        return fer_fail("%s: input gradient has the wrong shape", m->arch);
    for (int v = 0; v <= last; v++)
        memset(&m->grads[v], 0, sizeof m->grads[v]);
    m->grads[last] = *dout;
    m->grads[last].owns = 0;
    for (int i = m->n - 1; i >= 0; i--) {
        struct node *nd = &m->nodes[i];
        const int out = i + 1;
        struct fer_tensor *g = &m->grads[out];
        if (nd->op == OP_MAXPOOL && i >= 2 && fused_pool(m, i - 2) == i)
            continue; /* done by the batch norm two nodes back */
        /* A batch norm that fuses the pool starts from the pool's gradient. */
        const int pool = fused_pool(m, i);
        if (pool >= 0)
            g = &m->grads[pool + 1];
        if (g->data == NULL)
            continue; /* value not used by anything downstream */
        if (nd->op == OP_ADD) {
            /* Both inputs get g: the first takes g's memory (no one reads
             * g again), the second a copy. */
            for (int k = 0; k < 2; k++) {
                int v = k ? nd->in2 : nd->in;
                if (m->grads[v].data && m->grads[v].data != g->data) {
                    grad_add(&m->grads[v], g);
                } else if (k == 0 && out != last) {
                    m->grads[v] = *g;
                } else {
                    if (fer_tensor_arena(&m->grads[v], a, g->ndim, g->shape) < 0)
                        return fer_fail_context("%s", m->arch);
                    set_floats(m->grads[v].data, g->data, fer_tensor_numel(g));
                }
            }
            continue;
        }
        const int v = nd->in;
        int accumulate = 0;
        struct fer_tensor tmp, *t = NULL;
        if (v == 0 && dx == NULL) {
            t = NULL; /* no input gradient wanted */
        } else if (v == 0 && m->grads[0].data == NULL) {
            m->grads[0] = *dx;
            m->grads[0].owns = 0;
            t = &m->grads[0];
        } else if (nd->op == OP_RELU && m->grads[v].data == NULL && out != last) {
            m->grads[v] = *g; /* ReLU's backward runs in place */
            t = &m->grads[v];
        } else if ((t = grad_target(m, v, a, &tmp, &accumulate)) == NULL) {
            return fer_fail_context("%s", m->arch);
        }
        const struct fer_tensor *x = &m->values[v];
        int rc = 0;
        switch (nd->op) {
        case OP_CONV:
            rc = fer_conv2d_backward(nd->layer, x, g, t, a);
            break;
        case OP_BN:
            /* A fused batch norm masks g by its rectified output itself. */
            if (pool >= 0)
                rc = fer_batchnorm_relu_maxpool_backward(
                    nd->layer, x, m->values[out].data ? &m->values[out] : NULL,
                    m->nodes[pool].layer, g, t);
            else if (nd->fused)
                rc = fer_batchnorm_relu_backward(nd->layer, x, &m->values[out], g, t);
            else
                rc = fer_batchnorm_backward(nd->layer, x, g, t);
            break;
        case OP_RELU:
            /* In place over a fused batch norm's gradient: left to it (its
             * mask is the same; applying it twice would change nothing). */
            if (t && !(v > 0 && t->data == g->data && m->nodes[v - 1].fused))
                rc = fer_relu_backward(&m->values[out], g, t);
            break;
        case OP_MAXPOOL:
            rc = t ? fer_maxpool2d_backward(nd->layer, x, g, t) : 0;
            break;
        case OP_GAP:
            rc = t ? fer_global_avgpool_backward(g, t) : 0;
            break;
        case OP_LINEAR:
            rc = fer_linear_backward(nd->layer, x, g, t);
            break;
        case OP_ADD:
            break;
        }
        if (rc < 0)
            return fer_fail_context("%s: %s", m->arch, nd->name[0] ? nd->name : "layer");
        if (accumulate)
            grad_add(&m->grads[v], t);
    }
    return 0;
}
