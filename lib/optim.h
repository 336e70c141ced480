/* optim.h - optimizers, learning-rate schedules and gradient clipping, with
 * PyTorch 1.13's exact update rules so that a training step matches
 * torch.optim on the same gradients.
 *
 * An optimizer updates a list of parameters; each parameter is a value
 * tensor and its gradient tensor (same shape, contiguous), owned by the
 * layers: the optimizer keeps pointers and owns only its state buffers
 * (momentum; Adam's first and second moments).
 */
#ifndef FER_OPTIM_H
#define FER_OPTIM_H

#include <stdint.h>

#include "tensor.h"

struct fer_param {
    const char *name;         /* for messages and checkpoints; not copied */
    struct fer_tensor *value; /* updated in place */
    struct fer_tensor *grad;  /* read only */
    int no_decay;             /* 1: weight decay skips it (biases, BN) */
};

enum fer_optim_kind { FER_OPTIM_SGD, FER_OPTIM_ADAMW };

struct fer_optim_spec {
    enum fer_optim_kind kind;
    float weight_decay; /* SGD: L2 added to the gradient; AdamW: decoupled */
    /* SGD (torch.optim.SGD): */
    float momentum, dampening;
    int nesterov; /* needs momentum > 0 and dampening 0, as PyTorch */
    /* AdamW (torch.optim.AdamW, amsgrad off): */
    float beta1, beta2, eps;
};

struct fer_optim;

/* A new optimizer for n parameters (state zeroed, step 0). The parameter
 * array is copied; the tensors are not. NULL with fer_error set on a bad
 * spec or a parameter whose gradient shape differs. */
struct fer_optim *fer_optim_new(const struct fer_optim_spec *spec,
                                const struct fer_param *params, int n);
void fer_optim_free(struct fer_optim *o);

/* One update of every parameter with learning rate lr:
 *  SGD:   g = grad + wd * p; buf = g on the first step, else
 *         momentum * buf + (1 - dampening) * g; g = nesterov ? g + momentum
 *         * buf : buf (momentum > 0); p -= lr * g.
 *  AdamW: p *= 1 - lr * wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 *         p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 * Gradients are left as they are (zero them before the next backward). */
int fer_optim_step(struct fer_optim *o, float lr);

/* Steps taken so far. */
int64_t fer_optim_steps(const struct fer_optim *o);
/* State buffer k (0: SGD momentum or Adam m; 1: Adam v) of parameter i, for
 * checkpoints; NULL when the optimizer has no such buffer. */
struct fer_tensor *fer_optim_state(struct fer_optim *o, int i, int k);
/* Restore the step count (from a checkpoint, with the state buffers). */
void fer_optim_set_steps(struct fer_optim *o, int64_t steps);

/* torch.nn.utils.clip_grad_norm_ (L2): the total norm of all gradients;
 * when it exceeds max_norm, every gradient is scaled by
 * max_norm / (norm + 1e-6). Returns the norm before clipping. */
double fer_clip_grad_norm(const struct fer_param *params, int n, double max_norm);

/* Learning rate at a step (or epoch: the unit is the caller's):
 * optional linear warm-up from base * warmup_start to base over `warmup`
 * steps, then the schedule counted from the end of the warm-up:
 *  constant: base
 *  step:     base * gamma ^ floor(t / step_size)        (StepLR)
 *  cosine:   min + (base - min) (1 + cos(pi t / total)) / 2 for t <= total,
 *            then min                           (CosineAnnealingLR closed form)
 */
enum fer_lr_kind { FER_LR_CONSTANT, FER_LR_STEP, FER_LR_COSINE };
struct fer_lr_schedule {
    enum fer_lr_kind kind;
    double base;
    int step_size;   /* step */
    double gamma;    /* step */
    int total;       /* cosine: steps after warm-up */
    double min;      /* cosine */
    int warmup;      /* 0: none */
    double warmup_start; /* factor at step 0 of the warm-up */
};
double fer_lr_at(const struct fer_lr_schedule *s, int t);

#endif
