/* fuzz_dataset.c - the importers' text parsers on arbitrary bytes.
 *
 * The first byte picks the file the rest becomes: 0 fer2013.csv, 1 RAF-DB's
 * list_patition_label.txt, 2 a CK+ emotion file. The trees around them are
 * made once in a temporary directory. Every clip handed out must be well
 * formed, and every failure must come with a message. */
#include "dataset.h"
#include "error.h"
#include "labels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[] = "/tmp/fer-fuzz-dataset-XXXXXX";
static char path[3][512];

static void touch(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *fp = fopen(p, "w");
    if (fp == NULL)
        abort();
    fclose(fp);
}

static void make_dir(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    mkdir(p, 0755);
}

static void cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_dataset: could not remove %s\n", root);
}

static void setup(void)
{
    if (mkdtemp(root) == NULL)
        abort();
    atexit(cleanup);
    static const char *const dirs[] = {
        "rafdb", "rafdb/basic", "rafdb/basic/EmoLabel", "rafdb/basic/Image",
        "rafdb/basic/Image/original", "ckplus", "ckplus/cohn-kanade-images",
        "ckplus/cohn-kanade-images/S005", "ckplus/cohn-kanade-images/S005/001",
        "ckplus/Emotion", "ckplus/Emotion/S005", "ckplus/Emotion/S005/001",
    };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        make_dir(dirs[i]);
    touch("rafdb/basic/Image/original/train_00001.jpg");
    touch("rafdb/basic/Image/original/test_0001.jpg");
    touch("ckplus/cohn-kanade-images/S005/001/S005_001_00000001.png");
    snprintf(path[0], sizeof path[0], "%s/fer2013.csv", root);
    snprintf(path[1], sizeof path[1], "%s/rafdb/basic/EmoLabel/list_patition_label.txt", root);
    snprintf(path[2], sizeof path[2], "%s/ckplus/Emotion/S005/001/S005_001_00000001_emotion.txt",
             root);
}

static void check_clip(const struct fer_clip *c)
{
    if (c->id == NULL || c->id[0] == '\0' || strchr(c->id, '/') != NULL)
        __builtin_trap();
    if (c->label != NULL && c->label[0] != '\0' && fer_label_from_name(c->label) < 0)
        __builtin_trap();
    if (c->kind == FER_CLIP_PIXELS) {
        const struct fer_image *im = &c->pixels;
        if (im->width != 48 || im->height != 48 || im->channels != 1 || im->stride != 48)
            __builtin_trap();
        unsigned sum = 0;
        for (size_t i = 0; i < 48 * 48; i++)
            sum += im->data[i]; /* ASan sees every byte */
        (void)sum;
    } else if (c->n_paths == 0) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 1 || data[0] > 2)
        return 0;
    int which = data[0];
    FILE *fp = fopen(path[which], "wb");
    if (fp == NULL)
        abort();
    fwrite(data + 1, 1, size - 1, fp);
    fclose(fp);
    static const char *const kinds[] = {"fer2013", "rafdb", "ckplus"};
    char dir[512];
    snprintf(dir, sizeof dir, "%s%s", root, which == 0 ? "" : which == 1 ? "/rafdb" : "/ckplus");
    fer_error_clear();
    struct fer_dataset *d = fer_dataset_open(kinds[which], dir, NULL);
    if (d == NULL) {
        if (fer_error()[0] == '\0')
            __builtin_trap();
        return 0;
    }
    const struct fer_clip *c;
    int rc;
    while ((rc = fer_dataset_next(d, &c)) == 1)
        check_clip(c);
    if (rc < 0 && fer_error()[0] == '\0')
        __builtin_trap();
    fer_dataset_close(d);
    return 0;
}
