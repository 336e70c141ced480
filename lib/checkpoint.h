/* checkpoint.h - training state in a safetensors file, for --resume.
 *
 * A checkpoint is an ordinary weight file (weights.h, man 5 fer-weights)
 * holding everything a run needs to continue as if it had never stopped:
 *   - every model tensor under its state_dict name (fer_model_export), with
 *     an optional prefix, batch-norm running statistics and
 *     num_batches_tracked included;
 *   - any other trainable tensors (a head, a projection) under their own
 *     names (fer_params_export);
 *   - the optimizer's state buffers as "optim.<param index>.<k>" (k as in
 *     fer_optim_state) and its step count as metadata "optim_steps";
 *   - the position in training as metadata (struct fer_train_position).
 *
 * Randomness contract (what makes a resumed run identical): a training tool
 * draws every random number of epoch e from generators seeded with
 * (seed, e) (fer_rng_seed_stream, the loader's stream), never from a
 * generator carried across epochs, and writes checkpoints only between
 * optimizer steps. The position (seed, epoch, batches done in it) is then
 * the whole random state: a resumed run rebuilds epoch e's order and
 * augmentation from (seed, e) and skips the batches already done. A tool
 * that does carry a generator stores it with fer_checkpoint_set_rng.
 */
#ifndef FER_CHECKPOINT_H
#define FER_CHECKPOINT_H

#include <stdint.h>

#include "model.h"
#include "optim.h"
#include "rng.h"
#include "weights.h"

/* Add every tensor of m to w as prefix + state_dict name (prefix "" for
 * none): parameters and running statistics as F32, num_batches_tracked as
 * an I64 scalar, as PyTorch saves them. Returns 0 or -1 with fer_error(). */
int fer_model_export(struct fer_model *m, struct fer_weights *w, const char *prefix);

/* Copy every tensor of m from w (names prefix + state_dict name), after
 * checking all of them: nothing is changed unless every tensor is present
 * with the model's shape. On a mismatch, -1 with fer_error() listing the
 * differences, e.g. "2 tensors differ: no tensor 'fc.bias'; tensor
 * 'conv1.weight' has shape [64,1,7,7], the model expects [64,3,7,7]" (at
 * most 4 listed, then "and N more"). Tensors of w the model lacks are
 * ignored (a pretext head, the optimizer state). */
int fer_model_import(struct fer_model *m, const struct fer_weights *w, const char *prefix);

/* The same for a list of parameters (a head): each value tensor under
 * params[i].name, which must be set. */
int fer_params_export(const struct fer_param *params, int n, struct fer_weights *w);
int fer_params_import(const struct fer_param *params, int n, const struct fer_weights *w);

/* The optimizer's buffers for its n parameters ("optim.<i>.<k>") and its step
 * count (metadata "optim_steps"). Import checks that every buffer the
 * optimizer has is present with the same shape, and fails if the file
 * holds buffers this optimizer does not have (another optimizer kind). */
int fer_optim_export(struct fer_optim *o, int n, struct fer_weights *w);
int fer_optim_import(struct fer_optim *o, int n, const struct fer_weights *w);

/* Where a run stands, at a step boundary. */
struct fer_train_position {
    int64_t step;  /* optimizer steps done since the start of the run */
    int epoch;     /* the epoch to continue (0-based) */
    int64_t batch; /* batches of that epoch already done (0: at its start) */
    uint64_t seed; /* the run's --seed */
    double seconds; /* training time so far, for the log */
};

/* As metadata "step", "epoch", "epoch_batch", "seed", "seconds" (decimal;
 * seconds round-trips exactly). get fails when a key is missing or
 * malformed. */
int fer_checkpoint_set_position(struct fer_weights *w, const struct fer_train_position *p);
int fer_checkpoint_get_position(const struct fer_weights *w, struct fer_train_position *p);

/* A generator's exact state as metadata (64 hex digits) under key. */
int fer_checkpoint_set_rng(struct fer_weights *w, const char *key, const struct fer_rng *r);
int fer_checkpoint_get_rng(const struct fer_weights *w, const char *key, struct fer_rng *r);

/* Write w to path atomically and durably (atomic.h with FER_ATOMIC_SYNC): a
 * kill or a power cut leaves either the previous checkpoint or the new one.
 * Returns 0, or -1 with fer_error() set. */
int fer_checkpoint_write(const char *path, const struct fer_weights *w);

#endif
