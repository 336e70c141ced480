/* classifier.h - a backbone (model.h) with a classification head, and the
 * preprocessing a weight file records so every tool feeds the model alike.
 *
 * Names: the backbone's tensors keep their state_dict names (model.h) and
 * the linear head is "fc.weight" (classes x features) and "fc.bias", so a
 * resnet18 classifier file is exactly a torchvision resnet18 state dict.
 *
 * Heads:
 *   "linear"  logits = fc(f) on one frame; for examples of T > 1 frames,
 *             f is the mean of the T frames' features.
 *   "fan"     frame attention over the T frames of a clip (nn_fan.h),
 *             tensors "fan.alpha.*" and "fan.beta.*", then fc on the 2F
 *             clip feature: logits = fc(FAN(f_1..f_T)).
 * Inter-sample attention (RMFER's IAL, nn_ial.h), linear head only: a
 *             training-time auxiliary branch on the same features f,
 *             tensors "ial.proj.0.*", "ial.proj.2.*", "ial.fc.*". It is in
 *             checkpoints (fer_classifier_export) but not in model files
 *             (fer_classifier_export_model): prediction uses fc alone.
 * Transfer: fer_classifier_load_backbone copies every backbone tensor from
 * a weight file (fer-pretrain's output, a torchvision state dict) and
 * ignores the rest (the pretext head, "fc.*"), checking names and shapes.
 */
#ifndef FER_CLASSIFIER_H
#define FER_CLASSIFIER_H

#include <stdint.h>

#include "arena.h"
#include "model.h"
#include "optim.h"
#include "tensor.h"
#include "weights.h"

enum { FER_CLASSES_MAX = 64, FER_CLASS_NAME_MAX = 32 };

/* What a weight file's metadata says about its input and output
 * (man 5 fer-weights). Normalization is fixed: (v / 255 - 0.5) / 0.5 with
 * grey replicated to 3 channels and RGB to grey by BT.601 (augment.h),
 * recorded as "normalize" = "0.5,0.5" and "channels" = "replicate-grey,
 * bt601-grey" so that a reader can refuse a file that expects otherwise. */
struct fer_preprocess {
    char arch[16];
    char head[16];  /* "linear" or "fan" (classifier), "" when absent */
    char task[16];  /* "expression", "middle", "rotation", "contrastive" */
    int channels, height, width;
    int seq_len;    /* frames per example */
    int n_classes;
    char classes[FER_CLASSES_MAX][FER_CLASS_NAME_MAX];
};

/* Set format, arch, head, task, input_shape (CxHxW), seq_len, classes
 * (comma-separated), normalize and channels. Returns 0 or -1. */
int fer_preprocess_set_meta(const struct fer_preprocess *p, struct fer_weights *w);
/* Read them back; -1 with fer_error() for a missing or malformed key or
 * a normalization this build does not apply. */
int fer_preprocess_get_meta(const struct fer_weights *w, struct fer_preprocess *p);
/* Parse "a,b,c" into p->classes; -1 on an empty name, a duplicate or too
 * many. */
int fer_preprocess_set_classes(struct fer_preprocess *p, const char *list);
/* The index of a class name (exact match), or -1. */
int fer_preprocess_class(const struct fer_preprocess *p, const char *name);

struct fer_classifier;

/* A backbone of arch with in_channels and a head ("linear" or "fan") for
 * classes outputs, initialised from seed (backbone: fer_model_init; head
 * layers: PyTorch's uniform +-1/sqrt(fan_in)). NULL with fer_error() set. */
struct fer_classifier *fer_classifier_new(const char *arch, int in_channels, const char *head,
                                          int classes, uint64_t seed);
void fer_classifier_free(struct fer_classifier *c);

struct fer_model *fer_classifier_backbone(struct fer_classifier *c);
int fer_classifier_classes(const struct fer_classifier *c);

/* Copy the backbone from w. If w's metadata names an arch, it must be this
 * one ("weights are for resnet18, the model is cnn-s"); then every backbone
 * tensor must be present with its shape (fer_model_import's message lists
 * what differs). Returns 0 or -1 with fer_error() set; c unchanged on error. */
int fer_classifier_load_backbone(struct fer_classifier *c, const struct fer_weights *w);

/* Add the IAL branch (nn_ial.h) with this softmax temperature, its layers
 * initialised as nn.Linear from the classifier's seed. Call it before
 * fer_classifier_params. -1 with fer_error() for a fan head, a second call
 * or temperature <= 0. */
int fer_classifier_enable_ial(struct fer_classifier *c, float temperature);

/* Every tensor of backbone and head, the IAL branch included (export: a
 * checkpoint), or load them all (import, checked first as
 * fer_model_import). export_model leaves out the training-only IAL branch:
 * what a model file for fer-eval holds. */
int fer_classifier_export(struct fer_classifier *c, struct fer_weights *w);
int fer_classifier_export_model(struct fer_classifier *c, struct fer_weights *w);
int fer_classifier_import(struct fer_classifier *c, const struct fer_weights *w);

/* freeze: 1 keeps the backbone fixed (a linear probe): its batch norm in
 * eval mode, no backbone gradient, only the head's parameters trainable.
 * Set it before fer_classifier_params. */
void fer_classifier_set_freeze(struct fer_classifier *c, int freeze);
/* training: batch norm uses batch statistics (unless frozen). */
void fer_classifier_set_training(struct fer_classifier *c, int training);

/* The trainable parameters (backbone then head, or the head only when
 * frozen), valid until the next call or fer_classifier_free. */
int fer_classifier_params(struct fer_classifier *c, const struct fer_param **params);
void fer_classifier_zero_grad(struct fer_classifier *c);

/* x: (N * frames) x C x H x W, example-major; logits: N x classes, caller
 * allocated. Activations stay in the arena for backward. */
int fer_classifier_forward(struct fer_classifier *c, const struct fer_tensor *x, int frames,
                           struct fer_tensor *logits, struct fer_arena *a);
/* Gradients of the last forward given d loss / d logits (accumulate). */
int fer_classifier_backward(struct fer_classifier *c, const struct fer_tensor *dlogits,
                            struct fer_arena *a);

/* After fer_classifier_forward, with IAL enabled: the IAL branch's logits
 * (N x classes, caller allocated) on the same features; needs N >= 2.
 * Activations stay in the arena. */
int fer_classifier_forward_ial(struct fer_classifier *c, struct fer_tensor *logits,
                               struct fer_arena *a);
/* Gradients of both heads given d loss / d logits and d loss / d IAL
 * logits (scale each by its loss weight first); the backbone gets their
 * sum. Needs fer_classifier_forward_ial since the last forward. */
int fer_classifier_backward_ial(struct fer_classifier *c, const struct fer_tensor *dlogits,
                                const struct fer_tensor *dial_logits, struct fer_arena *a);

#endif
