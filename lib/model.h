/* model.h - the networks fer-tools trains, built from the layers of nn_*.h
 * and named like their PyTorch counterparts so weight files interoperate.
 *
 * Architectures (input N x in_channels x H x W, any H, W the layers fit):
 *  "resnet18"  torchvision.models.resnet18: exactly its module names and
 *              shapes (conv1, bn1, layer1.0.conv1, ..., layer4.1.bn2,
 *              layer2.0.downsample.0/1, fc), with conv1 taking 1 or 3
 *              channels. 1.8 G multiply-adds per 224 px image (3.6
 *              GFLOP), 0.45 G at 112 px.
 *  "cnn-s"     a small CNN for 48-64 px grey faces, in PyTorch terms
 *                features = Sequential(
 *                  Conv2d(in, 32, 3, padding=1, bias=False), BatchNorm2d(32),
 *                  ReLU, MaxPool2d(2),                       # features.0..3
 *                  Conv2d(32, 64, 3, padding=1, bias=False), BatchNorm2d(64),
 *                  ReLU, MaxPool2d(2),                       # features.4..7
 *                  Conv2d(64, 128, 3, padding=1, bias=False), BatchNorm2d(128),
 *                  ReLU, MaxPool2d(2),                       # features.8..11
 *                  Conv2d(128, 256, 3, padding=1, bias=False), BatchNorm2d(256),
 *                  ReLU)                                     # features.12..14
 *                then global average pooling and fc = Linear(256, classes):
 *              58 M multiply-adds (0.116 GFLOP) per 64 x 64 image.
 * The backbone is everything before fc; its output (after global average
 * pooling) is N x fer_model_features(). A model made with classes = 0 has
 * no fc and returns those features: heads are then separate layers.
 *
 * Training: forward keeps the activations it needs in the arena, so
 * backward must follow with the arena not reset in between. Gradients of
 * parameters accumulate (nn.h); fer_model_zero_grad clears them.
 */
#ifndef FER_MODEL_H
#define FER_MODEL_H

#include <stdint.h>

#include "arena.h"
#include "optim.h"
#include "tensor.h"

struct fer_model;

/* NULL with fer_error set for an unknown architecture or bad counts.
 * Parameters start as PyTorch initialises them (fer_model_init). */
struct fer_model *fer_model_new(const char *arch, int in_channels, int classes,
                                uint64_t seed);
void fer_model_free(struct fer_model *m);

/* Re-initialise every parameter and buffer with torchvision's scheme:
 * convolutions kaiming-normal (fan_out, ReLU gain), batch norm weight 1,
 * bias 0, running mean 0, variance 1; fc uniform(+-1/sqrt(fan_in)) for
 * weight and bias. Same seed, same numbers (not PyTorch's stream). */
void fer_model_init(struct fer_model *m, uint64_t seed);

const char *fer_model_arch(const struct fer_model *m);
int fer_model_in_channels(const struct fer_model *m);
int fer_model_classes(const struct fer_model *m);
int fer_model_features(const struct fer_model *m);

/* 1: batch norm uses and updates batch statistics (PyTorch's train()). */
void fer_model_set_training(struct fer_model *m, int training);

/* x: N x in_channels x H x W; out: N x classes (N x features without fc). */
int fer_model_forward(struct fer_model *m, const struct fer_tensor *x,
                      struct fer_tensor *out, struct fer_arena *a);
/* The gradient of the last forward given d loss / d out; parameter
 * gradients accumulate; dx (NULL to skip) is overwritten. */
int fer_model_backward(struct fer_model *m, const struct fer_tensor *dout,
                       struct fer_tensor *dx, struct fer_arena *a);
void fer_model_zero_grad(struct fer_model *m);

/* Every tensor of the model in PyTorch's state_dict order and names:
 * parameters (grad set, no_decay for biases and batch-norm parameters)
 * and buffers (running_mean, running_var: grad NULL). num_batches_tracked
 * (int64 in PyTorch) appears with value NULL and count set. */
struct fer_model_tensor {
    char name[64];
    struct fer_tensor *value; /* NULL for num_batches_tracked */
    struct fer_tensor *grad;  /* NULL for buffers */
    int64_t *count;           /* num_batches_tracked only */
    int no_decay;
};
int fer_model_tensors(struct fer_model *m, const struct fer_model_tensor **list);

/* The trainable parameters for an optimizer (fer_optim_new); *params
 * points into the model and stays valid until fer_model_free. */
int fer_model_params(struct fer_model *m, const struct fer_param **params);

#endif
