/* dataset.h - the on-disk layouts fer-extract reads, as a stream of clips.
 *
 * A clip is what fer-extract turns into rows of one `clip` id: a video file,
 * an ordered sequence of image files (a CK+ sequence, a folder of frames),
 * a single image file, or an image held in memory (a FER2013 CSV row).
 * Importers walk their tree in a sorted, deterministic order and stream one
 * clip at a time, so memory stays flat however large the dataset is.
 *
 * Layouts (man fer-extract, DATASETS):
 *   ckplus   ROOT/cohn-kanade-images/Sxxx/yyy/*.png (one clip per sequence),
 *            labels from ROOT/Emotion/Sxxx/yyy/*_emotion.txt (0..7); a
 *            sequence without an emotion file gets an empty label.
 *   afew     ROOT/{Train,Val}/<Emotion>/*.avi (split and label from the path)
 *   rafdb    ROOT/basic/Image/{aligned,original}/*.jpg and
 *            ROOT/basic/EmoLabel/list_patition_label.txt (codes 1..7;
 *            split from the name: train_* / test_*); aligned preferred.
 *   folder   ROOT/<class>/<images> (ImageFolder); an optional regex with one
 *            capture group takes a subject id from each file name.
 *   fer2013  the fer2013.csv file (emotion,pixels,Usage) -> 48x48 grey
 *            images in memory; split from Usage (Training, PublicTest,
 *            PrivateTest).
 */
#ifndef FER_DATASET_H
#define FER_DATASET_H

#include "image.h"

#include <stddef.h>

enum fer_clip_kind {
    FER_CLIP_VIDEO,    /* paths[0] is a video file */
    FER_CLIP_SEQUENCE, /* paths[0..n-1] are the frames, in order */
    FER_CLIP_IMAGE,    /* paths[0] is one image */
    FER_CLIP_PIXELS,   /* `pixels` holds the one image; no path */
};

struct fer_clip {
    enum fer_clip_kind kind;
    char *id;      /* unique within the dataset, usable in a file name */
    char **paths;  /* n_paths entries */
    size_t n_paths;
    struct fer_image pixels; /* FER_CLIP_PIXELS only */
    const char *subject; /* NULL when unknown */
    const char *label;   /* canonical name (labels.h), "" = unlabelled, NULL = unknown */
    const char *split;   /* "train", "val", "test", NULL = unknown */
};

struct fer_dataset_options {
    const char *subject_regex; /* folder: POSIX extended regex, group 1 = subject */
};

struct fer_dataset;

/* kind: "ckplus", "afew", "rafdb", "folder", "fer2013". Checks the layout's
 * required files and directories up front: a missing label file or image
 * directory is an error here, naming the path. Returns NULL with fer_error()
 * set. */
struct fer_dataset *fer_dataset_open(const char *kind, const char *root,
                                     const struct fer_dataset_options *options);

/* Next clip: 1 with *clip valid until the next call, 0 at the end, -1 with
 * fer_error() set (naming the file and, for text files, the line). */
int fer_dataset_next(struct fer_dataset *d, const struct fer_clip **clip);

/* Class names or codes met so far that could not be mapped to a canonical
 * label, as "name (count)" entries joined by ", "; "" when none. Their clips
 * were skipped. The tool reports this as a warning at the end. */
const char *fer_dataset_unmapped(const struct fer_dataset *d);

void fer_dataset_close(struct fer_dataset *d);

/* The names fer_dataset_open accepts, NULL-terminated. */
extern const char *const fer_dataset_kinds[];

#endif
