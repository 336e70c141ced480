/* dataset.h - the on-disk layouts fer-extract reads, as a stream of clips.
 *
 * A clip is what fer-extract turns into rows of one `clip` id: a video file,
 * an ordered sequence of image files (a CK+ sequence), a single image file,
 * or an image held in memory (a FER2013 CSV row). Importers walk their tree
 * in a sorted, deterministic order (names in strcmp order, frames of a
 * sequence in natural order: 2 before 10) and stream one clip at a time, so
 * memory stays flat however large the dataset is. Names starting with '.'
 * (.DS_Store, macOS ._ files) are never read.
 *
 * Layouts (man/datasets.txt has the full rules; man fer-extract, DATASETS):
 *   ckplus   ROOT/cohn-kanade-images/S005/001/S005_001_00000001.png ...
 *            ROOT/Emotion/S005/001/S005_001_00000011_emotion.txt (0..7)
 *            One SEQUENCE clip per sequence folder, id "S005_001", subject
 *            "S005"; label from the emotion file, "" when the sequence has
 *            none, NULL for all when ROOT/Emotion is absent (not an error:
 *            CK+ ships its labels as a separate archive). Non-image files
 *            in a sequence are ignored; a sequence without images, an
 *            unreadable emotion file or two of them are errors. split NULL.
 *   afew     ROOT/Train/<Emotion>/<id>.avi, ROOT/Val/<Emotion>/<id>.avi
 *            VIDEO clips, id "train_Angry_000046280", split train or val,
 *            label from the folder, subject NULL. One of Train and Val may
 *            be missing, not both; no folder with an emotion name is an
 *            error (the wrong root, most likely).
 *   rafdb    ROOT/basic/EmoLabel/list_patition_label.txt ("train_00001.jpg 5",
 *            codes 1..7), ROOT/basic/Image/aligned/train_00001_aligned.jpg
 *            or, without aligned/, ROOT/basic/Image/original/train_00001.jpg.
 *            IMAGE clips in name order, id "train_00001", split train/test
 *            from the name, subject NULL. A missing label file, a bad line, a
 *            duplicate or a listed image that is missing fail at open.
 *   folder   ROOT/<class>/<image> or ROOT/{train,val,test}/<class>/<image>
 *            (png, jpg, jpeg). IMAGE clips, id "<class>_<stem>" or
 *            "<split>_<class>_<stem>"; label from fer_label_from_name; split
 *            from the split folder or NULL; subject from the subject regex
 *            or NULL. Folders with unknown names are skipped and reported by
 *            fer_dataset_unmapped; an empty class folder gives no clips; no
 *            class folder at all, or none with a known name, is an error.
 *   fer2013  ROOT is fer2013.csv (or a directory holding it): header
 *            emotion,pixels,Usage, each row 2304 values 0..255. PIXELS clips
 *            (48x48 grey), id "fer2013_000000" (the 0-based row number),
 *            split train/val/test from Training/PublicTest/PrivateTest.
 *
 * Clip ids are unique within a dataset and safe in a file name: bytes
 * outside [A-Za-z0-9._-] become '_', extensions are dropped; names that
 * would give the same id are an error naming both.
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

/* Everything in a clip is owned by the dataset and valid until the next
 * fer_dataset_next or fer_dataset_close; copy what you keep. */
struct fer_clip {
    enum fer_clip_kind kind;
    char *id;      /* unique within the dataset, usable in a file name */
    char **paths;  /* n_paths entries, ROOT joined with the file's path */
    size_t n_paths;
    struct fer_image pixels; /* FER_CLIP_PIXELS only; do not free */
    const char *subject; /* NULL when unknown */
    const char *label;   /* canonical name (labels.h), "" = unlabelled, NULL = unknown */
    const char *split;   /* "train", "val", "test", NULL = unknown */
};

struct fer_dataset_options {
    const char *subject_regex; /* folder only: POSIX extended regex matched
                                  against the file name (with extension);
                                  group 1 is the subject. A name it does not
                                  match is an error. */
};

struct fer_dataset;

/* kind: one of fer_dataset_kinds. options may be NULL. Checks the layout's
 * required files and directories up front: a missing label file or image
 * directory is an error here, naming the path; so are an unknown kind, a
 * bad regex, or a subject regex given to another kind than folder. Returns
 * NULL with fer_error() set. */
struct fer_dataset *fer_dataset_open(const char *kind, const char *root,
                                     const struct fer_dataset_options *options);

/* Next clip: 1 with *clip valid until the next call, 0 at the end, -1 with
 * fer_error() set (naming the file and, for text files, the line). After an
 * error, further calls fail again with the same message. */
int fer_dataset_next(struct fer_dataset *d, const struct fer_clip **clip);

/* Class folder names met so far that could not be mapped to a canonical
 * label (folder and afew), as "name (count)" entries in the order met,
 * joined by ", ", count being the clips skipped; "" when none. Codes out of
 * a dataset's range (CK+, RAF-DB, FER2013) are errors instead: they mean a
 * damaged label file. The tool reports this as a warning at the end. The
 * string is valid until the next call or fer_dataset_close. */
const char *fer_dataset_unmapped(const struct fer_dataset *d);

/* Frees everything; NULL is fine. */
void fer_dataset_close(struct fer_dataset *d);

/* The names fer_dataset_open accepts, NULL-terminated:
 * "ckplus", "afew", "rafdb", "folder", "fer2013". */
extern const char *const fer_dataset_kinds[];

#endif
