/* weights.h - named float tensors in safetensors files (man 5 fer-weights).
 *
 * The file layout is Hugging Face's safetensors: an 8-byte little-endian
 * header length N, N bytes of a JSON object mapping each tensor name to
 * {"dtype", "shape", "data_offsets"} plus an optional "__metadata__" object
 * of string values, then the tensors' bytes, little-endian, C order. A
 * PyTorch state dict saved with safetensors loads here, and files written
 * here load with safetensors.torch.load_file.
 *
 * In memory every tensor is float32 (the engine computes in float32 only):
 *   - F32 is read as is; F16 and BF16 are widened to float32, which is exact;
 *   - I64 and I32 (PyTorch's BatchNorm num_batches_tracked is an I64 scalar)
 *     are read as floats when every value converts exactly (|v| <= 2^24, or
 *     any integer a float holds), and refused otherwise;
 *   - any other dtype (F64, U8, BOOL, F8_*, ...) is refused, naming the
 *     tensor and the dtype.
 * The writer writes F32, except tensors whose dtype is I64 or I32, which are
 * written back in that dtype (their values must be integers in range), so a
 * PyTorch state dict survives a read/write round trip unchanged.
 *
 * Reading is strict and checks everything before it allocates tensor memory
 * or touches tensor data: header length against the file size and the 100 MB
 * limit, JSON syntax, unique names, the fields of every entry, shape against
 * byte size, and that the tensors' byte ranges tile the data area exactly
 * (no gap, no overlap, nothing left over), as the reference implementation
 * requires. Errors are one line without the file name (the tool adds it):
 *   "tensor 'conv1.weight': data_offsets [0, 100) do not match shape
 *    [64,3,7,7] of F32 (37632 bytes)"
 */
#ifndef FER_WEIGHTS_H
#define FER_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

enum fer_dtype {
    FER_DTYPE_F32,
    FER_DTYPE_F16,
    FER_DTYPE_BF16,
    FER_DTYPE_I64,
    FER_DTYPE_I32,
};

enum {
    FER_WEIGHTS_MAX_DIMS = 8,
    FER_WEIGHTS_MAX_HEADER = 100000000, /* bytes; the reference's limit */
    FER_WEIGHTS_MAX_VALUES = 4000000,   /* JSON values in a header (~300 MB of tree) */
};

struct fer_weights_tensor {
    char *name;           /* owned; UTF-8 without NUL bytes, never "__metadata__" */
    enum fer_dtype dtype; /* the file's dtype; F32 for tensors made in memory */
    int ndim;             /* 0 (a scalar) .. FER_WEIGHTS_MAX_DIMS */
    int64_t shape[FER_WEIGHTS_MAX_DIMS]; /* NCHW / OIHW as in PyTorch */
    size_t count;         /* product of the shape (1 for a scalar) */
    float *data;          /* owned, count floats (NULL when count is 0) */
};

struct fer_weights_meta {
    char *key, *value; /* owned, UTF-8 without NUL bytes */
};

/* A set of tensors and metadata. Zero-initialize it (or fer_weights_init)
 * before use, fer_weights_free when done. Tensors keep the order in which
 * they were added or, after reading, the order of their data in the file. */
struct fer_weights {
    struct fer_weights_tensor *tensors;
    size_t n_tensors, cap_tensors;
    struct fer_weights_meta *meta;
    size_t n_meta, cap_meta;
};

void fer_weights_init(struct fer_weights *w);
/* Free everything w owns and leave it empty (reusable). */
void fer_weights_free(struct fer_weights *w);

/* Add a float32 tensor named name (copied): a copy of data (count =
 * product of shape floats), or zeros when data is NULL. Set the returned
 * tensor's dtype to FER_DTYPE_I64 to have it written as integers. Returns
 * the new tensor (valid until the next add), or NULL with fer_error() set
 * when the name is "__metadata__" or repeats an existing name, or the shape
 * has a negative size, more than FER_WEIGHTS_MAX_DIMS dimensions or too
 * many elements. */
struct fer_weights_tensor *fer_weights_add(struct fer_weights *w, const char *name, int ndim,
                                           const int64_t *shape, const float *data);

/* The tensor with this name, or NULL. Linear in the number of tensors. */
const struct fer_weights_tensor *fer_weights_find(const struct fer_weights *w,
                                                  const char *name);

/* The tensor with this name and exactly this shape, for loading a model:
 * NULL with fer_error() set if there is none ("no tensor 'fc.bias'") or its
 * shape differs ("tensor 'fc.weight' has shape [8,512], the model expects
 * [7,512]"). */
const struct fer_weights_tensor *fer_weights_expect(const struct fer_weights *w,
                                                    const char *name, int ndim,
                                                    const int64_t *shape);

/* Set (add or replace) a metadata entry; copies both strings. Returns 0, or
 * -1 with fer_error() set (out of memory, invalid UTF-8). */
int fer_weights_set_meta(struct fer_weights *w, const char *key, const char *value);
/* The value of a metadata key, or NULL. */
const char *fer_weights_get_meta(const struct fer_weights *w, const char *key);

/* Read a whole file into w, which must be empty (initialized or freed).
 * Returns 0, or -1 with fer_error() set and w left empty. A file that is
 * not regular (a pipe) is read into memory first. */
int fer_weights_read(const char *path, struct fer_weights *w);
/* The same from a buffer holding a whole file (the fuzzer's entry point). */
int fer_weights_read_memory(const void *data, size_t size, struct fer_weights *w);

/* Write w to path atomically (atomic.h): tensors sorted by name (bytewise),
 * which is the reference writer's order when all tensors share one dtype;
 * metadata sorted by key; header padded with spaces to a multiple of 8 so
 * that the data starts 8-byte aligned. The same content always gives the
 * same bytes. Returns 0, or -1 with fer_error() set and no file created. */
int fer_weights_write(const char *path, const struct fer_weights *w);
/* The same into a malloc'ed buffer (*data, owned by the caller). */
int fer_weights_write_memory(const struct fer_weights *w, void **data, size_t *size);

/* "F32", "F16", "BF16", "I64", "I32". */
const char *fer_dtype_name(enum fer_dtype dtype);

#endif
