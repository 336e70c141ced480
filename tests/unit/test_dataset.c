/* Importers on miniature trees laid out like the real datasets. The files
 * are placeholders (the importers list and name files, they do not decode
 * them), except FER2013's pixels. */
#include "check_helpers.h"

#include "dataset.h"
#include "dataset_impl.h"
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;

static void setup(void)
{
    root = fer_test_tmpdir();
    ck_assert_ptr_nonnull(root);
}

static void teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
    free(root);
}

static char *at(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return path;
}

/* mkdir -p ROOT/rel */
static void dir(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
            *p = c;
            if (c == '\0')
                break;
        }
    }
}

/* Write ROOT/rel (making its folders) with the given text. */
static void put(const char *rel, const char *text)
{
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", rel);
    char *slash = strrchr(parent, '/');
    if (slash != NULL) {
        *slash = '\0';
        dir(parent);
    }
    FILE *fp = fopen(at(rel), "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

static const char *or_dash(const char *s)
{
    return s == NULL ? "-" : s[0] == '\0' ? "''" : s;
}

/* All clips as lines "id kind subject label split path,path", paths made
 * relative to ROOT, NULLs as '-' and empty strings as ''. */
static char *dump(struct fer_dataset *d)
{
    static const char *const kinds[] = {"video", "sequence", "image", "pixels"};
    char *text;
    size_t size;
    FILE *out = open_memstream(&text, &size);
    const struct fer_clip *c;
    int rc;
    size_t prefix = strlen(root) + 1;
    while ((rc = fer_dataset_next(d, &c)) == 1) {
        fprintf(out, "%s %s %s %s %s ", c->id, kinds[c->kind], or_dash(c->subject),
                or_dash(c->label), or_dash(c->split));
        for (size_t i = 0; i < c->n_paths; i++) {
            ck_assert_int_eq(strncmp(c->paths[i], root, prefix - 1), 0);
            fprintf(out, "%s%s", i > 0 ? "," : "", c->paths[i] + prefix);
        }
        fputc('\n', out);
    }
    if (rc < 0)
        fprintf(out, "ERROR %s\n", fer_error());
    fclose(out);
    return text;
}

static void expect_dump(const char *kind, const struct fer_dataset_options *o, const char *want)
{
    struct fer_dataset *d = fer_dataset_open(kind, root, o);
    ck_assert_msg(d != NULL, "open: %s", fer_error());
    char *got = dump(d);
    ck_assert_str_eq(got, want);
    free(got);
    fer_dataset_close(d);
}

/* Opening must fail with a message containing `want` (after ROOT). */
static void expect_open_error(const char *kind, const struct fer_dataset_options *o,
                              const char *want)
{
    struct fer_dataset *d = fer_dataset_open(kind, root, o);
    ck_assert_msg(d == NULL, "%s opened", kind);
    ck_assert_msg(strstr(fer_error(), want) != NULL, "error '%s' lacks '%s'", fer_error(),
                  want);
}

/* Reading must stop with an error containing `want`. */
static void expect_next_error_with(const char *kind, const struct fer_dataset_options *o,
                                  const char *want)
{
    struct fer_dataset *d = fer_dataset_open(kind, root, o);
    ck_assert_msg(d != NULL, "open: %s", fer_error());
    char *got = dump(d);
    char *err = strstr(got, "ERROR ");
    ck_assert_msg(err != NULL, "no error in:\n%s", got);
    ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
    const struct fer_clip *c;
    fer_error_clear();
    ck_assert_int_eq(fer_dataset_next(d, &c), -1); /* again, same cause */
    ck_assert_msg(strstr(fer_error(), want) != NULL, "again: '%s'", fer_error());
    free(got);
    fer_dataset_close(d);
}

static void expect_next_error(const char *kind, const char *want)
{
    expect_next_error_with(kind, NULL, want);
}

/* --- dispatch and shared helpers ---------------------------------------- */

START_TEST(test_kinds)
{
    static const char *const want[] = {"ckplus", "afew", "rafdb", "folder", "fer2013"};
    size_t n = 0;
    while (fer_dataset_kinds[n] != NULL)
        n++;
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(fer_dataset_kinds[i], want[i]);
    expect_open_error("imagenet", NULL, "unknown dataset kind 'imagenet'");
    struct fer_dataset_options o = {.subject_regex = "(S[0-9]+)"};
    expect_open_error("afew", &o, "subject regex applies only to the folder dataset");
    fer_dataset_close(NULL);
}
END_TEST

START_TEST(test_natural_order)
{
    char *names[] = {strdup("f10.png"), strdup("f2.png"), strdup("f1.png"),
                     strdup("f01.png"), strdup("e9.png"), strdup("f2.jpg")};
    size_t n = sizeof names / sizeof names[0];
    fer_names_sort_natural(names, n);
    static const char *const want[] = {"e9.png", "f01.png", "f1.png",
                                       "f2.jpg", "f2.png",  "f10.png"};
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(names[i], want[i]);
        free(names[i]);
    }
    ck_assert_int_lt(fer_name_compare_natural("S005_001_00000009", "S005_001_00000010"), 0);
    ck_assert_int_lt(fer_name_compare_natural("a", "a1"), 0);
    ck_assert_int_eq(fer_name_compare_natural("x7", "x7"), 0);
}
END_TEST

START_TEST(test_ids)
{
    const char *parts[] = {"train", "Angry", "000046280.avi"};
    char *id = fer_id_make(parts, 3, 1);
    ck_assert_str_eq(id, "train_Angry_000046280");
    free(id);
    const char *odd[] = {"-x y", ".hidden/é.tar.gz"};
    id = fer_id_make(odd, 2, 1);
    ck_assert_str_eq(id, "_x_y__hidden___.tar");
    free(id);
    char *clash[] = {"a b", "a_b"};
    ck_assert_int_eq(fer_ids_check("D", clash, 2, 0, 1), -1);
    ck_assert_str_eq(fer_error(), "D: 'a b' and 'a_b' would give the same clip id 'a_b'");
    char *prefix[] = {"a", "a_b", "b"};
    ck_assert_int_eq(fer_ids_check("D", prefix, 3, 0, 1), 0);
    ck_assert_int_eq(fer_ids_check("D", prefix, 3, 0, 0), -1);
    char *ext[] = {"x.jpg", "x.png"};
    ck_assert_int_eq(fer_ids_check("D", ext, 2, 0, 1), 0);
    ck_assert_int_eq(fer_ids_check("D", ext, 2, 1, 1), -1);
}
END_TEST

/* --- CK+ ------------------------------------------------------------------ */

static void ckplus_tree(void)
{
    put("cohn-kanade-images/S005/001/S005_001_00000001.png", "png");
    put("cohn-kanade-images/S005/001/S005_001_00000002.png", "png");
    put("cohn-kanade-images/S005/001/S005_001_00000011.png", "png");
    put("cohn-kanade-images/S005/001/.DS_Store", "junk");
    put("cohn-kanade-images/S005/001/notes.txt", "junk");
    put("cohn-kanade-images/S010/002/S010_002_00000001.png", "png");
    put("cohn-kanade-images/S010/006/S010_006_00000002.png", "png");
    put("cohn-kanade-images/S010/006/S010_006_00000001.png", "png");
    put("cohn-kanade-images/.DS_Store", "junk");
    put("Emotion/S005/001/S005_001_00000011_emotion.txt", "   3.0000000e+00\n");
    put("Emotion/S010/006/S010_006_00000002_emotion.txt", "   5.0000000e+00");
    dir("Emotion/S010/002"); /* a sequence folder without an emotion file */
    put("Landmarks/S005/001/S005_001_00000001_landmarks.txt", "1 2\n");
}

START_TEST(test_ckplus)
{
    ckplus_tree();
    expect_dump("ckplus", NULL,
                "S005_001 sequence S005 disgust - "
                "cohn-kanade-images/S005/001/S005_001_00000001.png,"
                "cohn-kanade-images/S005/001/S005_001_00000002.png,"
                "cohn-kanade-images/S005/001/S005_001_00000011.png\n"
                "S010_002 sequence S010 '' - cohn-kanade-images/S010/002/S010_002_00000001.png\n"
                "S010_006 sequence S010 happiness - "
                "cohn-kanade-images/S010/006/S010_006_00000001.png,"
                "cohn-kanade-images/S010/006/S010_006_00000002.png\n");
}
END_TEST

START_TEST(test_ckplus_natural_frame_order)
{
    put("cohn-kanade-images/S001/001/frame10.png", "");
    put("cohn-kanade-images/S001/001/frame9.png", "");
    put("cohn-kanade-images/S001/001/frame100.PNG", "");
    expect_dump("ckplus", NULL,
                "S001_001 sequence S001 - - cohn-kanade-images/S001/001/frame9.png,"
                "cohn-kanade-images/S001/001/frame10.png,"
                "cohn-kanade-images/S001/001/frame100.PNG\n");
}
END_TEST

START_TEST(test_ckplus_without_emotion_dir)
{
    /* Images only (the labels come as a separate archive): labels unknown. */
    put("cohn-kanade-images/S005/001/S005_001_00000001.png", "png");
    put("cohn-kanade-images/S005/002/S005_002_00000001.png", "png");
    expect_dump("ckplus", NULL,
                "S005_001 sequence S005 - - cohn-kanade-images/S005/001/S005_001_00000001.png\n"
                "S005_002 sequence S005 - - cohn-kanade-images/S005/002/S005_002_00000001.png\n");
}
END_TEST

START_TEST(test_ckplus_errors)
{
    expect_open_error("ckplus", NULL, "/cohn-kanade-images: no such directory");
    dir("cohn-kanade-images");
    expect_open_error("ckplus", NULL, "no subject directories");
    put("cohn-kanade-images/S005/001/S005_001_00000001.png", "png");
    put("Emotion/S005/001/S005_001_00000001_emotion.txt", "happy\n");
    expect_next_error("ckplus", "S005_001_00000001_emotion.txt: no emotion code");
    put("Emotion/S005/001/S005_001_00000001_emotion.txt", "   8.0000000e+00\n");
    expect_next_error("ckplus", "emotion code 8 is not a whole number 0..7");
    put("Emotion/S005/001/S005_001_00000001_emotion.txt", "   2.5\n");
    expect_next_error("ckplus", "emotion code 2.5 is not");
    put("Emotion/S005/001/S005_001_00000001_emotion.txt", "1 2\n");
    expect_next_error("ckplus", "unexpected text after the emotion code");
    put("Emotion/S005/001/S005_001_00000001_emotion.txt", "");
    expect_next_error("ckplus", "no emotion code");
    put("Emotion/S005/001/S005_001_00000001_emotion.txt", "1\n");
    put("Emotion/S005/001/S005_001_00000002_emotion.txt", "2\n");
    expect_next_error("ckplus", "Emotion/S005/001: two emotion files");
    ck_assert_int_eq(remove(at("Emotion/S005/001/S005_001_00000002_emotion.txt")), 0);
    ck_assert_int_eq(chmod(at("Emotion/S005/001/S005_001_00000001_emotion.txt"), 0), 0);
    if (geteuid() != 0) /* root reads anything */
        expect_next_error("ckplus", "S005_001_00000001_emotion.txt: Permission denied");
    ck_assert_int_eq(chmod(at("Emotion/S005/001/S005_001_00000001_emotion.txt"), 0644), 0);
    dir("cohn-kanade-images/S005/002");
    put("cohn-kanade-images/S005/002/readme.txt", "no frames here");
    expect_next_error("ckplus", "cohn-kanade-images/S005/002: no image files in the sequence");
}
END_TEST

/* --- AFEW ----------------------------------------------------------------- */

START_TEST(test_afew)
{
    put("Train/Angry/000046280.avi", "avi");
    put("Train/Angry/000149120.avi", "avi");
    put("Train/Happy/002326280.avi", "avi");
    put("Train/Happy/Thumbs.db", "junk");
    put("Train/Bored/011603980.avi", "avi"); /* not an AFEW class */
    put("Train/Bored/011603981.avi", "avi");
    dir("Train/Fear"); /* empty */
    put("Val/Sad/000406560.avi", "avi");
    put("Val/Surprise/000524887.avi", "avi");
    struct fer_dataset *d = fer_dataset_open("afew", root, NULL);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(fer_dataset_unmapped(d), "");
    char *got = dump(d);
    ck_assert_str_eq(got, "train_Angry_000046280 video - anger train Train/Angry/000046280.avi\n"
                          "train_Angry_000149120 video - anger train Train/Angry/000149120.avi\n"
                          "train_Happy_002326280 video - happiness train "
                          "Train/Happy/002326280.avi\n"
                          "val_Sad_000406560 video - sadness val Val/Sad/000406560.avi\n"
                          "val_Surprise_000524887 video - surprise val "
                          "Val/Surprise/000524887.avi\n");
    ck_assert_str_eq(fer_dataset_unmapped(d), "Bored (2)");
    free(got);
    fer_dataset_close(d);
}
END_TEST

START_TEST(test_afew_errors)
{
    put("Test/000001.avi", "avi");
    expect_open_error("afew", NULL, ": no Train/ or Val/ directory");
    dir("Val");
    expect_open_error("afew", NULL, ": no emotion folders under Train/ or Val/");
    dir("Val/Bored");
    expect_open_error("afew", NULL, ": no class folder has an expression name (found Bored)");
    put("Val/Happy/a.avi", "avi");
    put("Val/Happy/a.mp4", "mp4");
    expect_next_error("afew", "Val/Happy: 'a.avi' and 'a.mp4' would give the same clip id 'a'");
}
END_TEST

/* --- RAF-DB --------------------------------------------------------------- */

static const char raf_list[] = "train_00001.jpg 5\n"
                               "train_00002.jpg 1\n"
                               "test_0001.jpg 4\r\n"
                               "test_0002.jpg 7\n";

static void rafdb_images(const char *which)
{
    static const char *const names[] = {"train_00001", "train_00002", "test_0001", "test_0002",
                                        "train_09999"}; /* the last is not listed */
    char rel[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(which, "aligned") == 0)
            snprintf(rel, sizeof rel, "basic/Image/aligned/%s_aligned.jpg", names[i]);
        else
            snprintf(rel, sizeof rel, "basic/Image/original/%s.jpg", names[i]);
        put(rel, "jpg");
    }
}

START_TEST(test_rafdb)
{
    put("basic/EmoLabel/list_patition_label.txt", raf_list);
    rafdb_images("original");
    expect_dump("rafdb", NULL,
                "test_0001 image - happiness test basic/Image/original/test_0001.jpg\n"
                "test_0002 image - neutral test basic/Image/original/test_0002.jpg\n"
                "train_00001 image - sadness train basic/Image/original/train_00001.jpg\n"
                "train_00002 image - surprise train basic/Image/original/train_00002.jpg\n");
    rafdb_images("aligned"); /* preferred once present */
    expect_dump("rafdb", NULL,
                "test_0001 image - happiness test basic/Image/aligned/test_0001_aligned.jpg\n"
                "test_0002 image - neutral test basic/Image/aligned/test_0002_aligned.jpg\n"
                "train_00001 image - sadness train "
                "basic/Image/aligned/train_00001_aligned.jpg\n"
                "train_00002 image - surprise train "
                "basic/Image/aligned/train_00002_aligned.jpg\n");
}
END_TEST

START_TEST(test_rafdb_errors)
{
    expect_open_error("rafdb", NULL, "/basic: no such directory");
    rafdb_images("aligned");
    expect_open_error("rafdb", NULL,
                      "basic/EmoLabel/list_patition_label.txt: No such file or directory");
    put("basic/EmoLabel/list_patition_label.txt", "train_00001.jpg 5\ntrain_00003.jpg 2\n");
    expect_open_error("rafdb", NULL,
                      "basic/Image/aligned/train_00003_aligned.jpg: missing (listed on line 2");
    put("basic/EmoLabel/list_patition_label.txt", "train_00001.jpg 5\ntrain_00002.jpg 8\n");
    expect_open_error("rafdb", NULL, "list_patition_label.txt: line 2: label code '8' is not 1..7");
    put("basic/EmoLabel/list_patition_label.txt", "train_00001.jpg\n");
    expect_open_error("rafdb", NULL, "line 1: no label code after 'train_00001.jpg'");
    put("basic/EmoLabel/list_patition_label.txt", "val_00001.jpg 3\n");
    expect_open_error("rafdb", NULL, "line 1: 'val_00001.jpg' is not an image name starting");
    put("basic/EmoLabel/list_patition_label.txt", "train_00001.jpg 3\n\ntrain_00001.jpg 3\n");
    expect_open_error("rafdb", NULL,
                      "line 3: 'train_00001.jpg' is listed again (first on line 1)");
    put("basic/EmoLabel/list_patition_label.txt", "\n");
    expect_open_error("rafdb", NULL, "list_patition_label.txt: no entries");
}
END_TEST

/* --- folder --------------------------------------------------------------- */

START_TEST(test_folder)
{
    put("happy/img_2.png", "png");
    put("happy/img_10.JPG", "jpg");
    put("happy/desktop.ini", "junk");
    put("Sad/s1.jpeg", "jpg");
    dir("fear"); /* empty */
    put("boredom/b1.png", "png"); /* unknown class */
    put("boredom/b2.png", "png");
    put("boredom/b3.png", "png");
    put("7/x.png", "png"); /* numbered classes are not guessed */
    put("loose.png", "png");  /* not in a class folder */
    struct fer_dataset *d = fer_dataset_open("folder", root, NULL);
    ck_assert_ptr_nonnull(d);
    char *got = dump(d);
    ck_assert_str_eq(got, "Sad_s1 image - sadness - Sad/s1.jpeg\n"
                          "happy_img_10 image - happiness - happy/img_10.JPG\n"
                          "happy_img_2 image - happiness - happy/img_2.png\n");
    ck_assert_str_eq(fer_dataset_unmapped(d), "7 (1), boredom (3)");
    free(got);
    fer_dataset_close(d);
}
END_TEST

START_TEST(test_folder_subject_regex)
{
    put("angry/S010_004_00000019.png", "png");
    put("surprised/S011_001_00000016.png", "png");
    struct fer_dataset_options o = {.subject_regex = "^(S[0-9]+)_"};
    expect_dump("folder", &o,
                "angry_S010_004_00000019 image S010 anger - angry/S010_004_00000019.png\n"
                "surprised_S011_001_00000016 image S011 surprise - "
                "surprised/S011_001_00000016.png\n");
    put("angry/KA.AN1.39.png", "png");
    expect_next_error_with("folder", &o,
                           "/angry/KA.AN1.39.png: file name does not match the "
                           "subject regex '^(S[0-9]+)_'");
    o.subject_regex = "S[0-9]+";
    expect_open_error("folder", &o, "subject regex 'S[0-9]+' has no capture group");
    o.subject_regex = "(S[0-9]+";
    expect_open_error("folder", &o, "subject regex '(S[0-9]+': ");
    o.subject_regex = "^(x*)";
    expect_next_error_with("folder", &o, "captured an empty subject");
}
END_TEST

START_TEST(test_folder_split_level)
{
    put("train/happy/1.png", "png");
    put("train/neutral/2.png", "png");
    put("test/happy/3.jpg", "jpg");
    put("validation/angry/4.png", "png");
    dir("validation/sad");
    expect_dump("folder", NULL,
                "test_happy_3 image - happiness test test/happy/3.jpg\n"
                "train_happy_1 image - happiness train train/happy/1.png\n"
                "train_neutral_2 image - neutral train train/neutral/2.png\n"
                "val_angry_4 image - anger val validation/angry/4.png\n");
}
END_TEST

START_TEST(test_folder_errors)
{
    expect_open_error("folder", NULL, ": no class folders");
    put("loose.png", "png");
    expect_open_error("folder", NULL, ": no class folders");
    dir("train/happy");
    dir("sad");
    expect_open_error("folder", NULL, ": mixes split folders (train) with class folders (sad)");
    ck_assert_int_eq(remove(at("sad")), 0);
    dir("val/happy");
    dir("valid/sad");
    expect_open_error("folder", NULL, "folders val and valid are both the val split");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/val' '%s/valid'", root, root);
    ck_assert_int_eq(system(cmd), 0);
    put("train/happy/a.png", "png");
    put("train/happy/a.jpg", "jpg");
    expect_next_error("folder", "train/happy: 'a.jpg' and 'a.png' would give the same clip id");
    struct fer_dataset *d = fer_dataset_open("folder", "/nonexistent/fer", NULL);
    ck_assert_ptr_null(d);
    ck_assert_str_eq(fer_error(), "/nonexistent/fer: not a directory");
}
END_TEST

START_TEST(test_folder_no_known_class)
{
    /* Probably the wrong root (here CK+'s Emotion/): say so, not 0 clips. */
    static const char *const names[] = {"S005", "S010", "S011", "S014", "S022"};
    for (size_t i = 0; i < 5; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s/001/x.txt", names[i]);
        put(rel, "3");
    }
    expect_open_error("folder", NULL,
                      ": no class folder has an expression name "
                      "(found S005, S010, S011, S014, ...)");
}
END_TEST

START_TEST(test_folder_ambiguous_class_names)
{
    put("happy/x_1.png", "png");
    put("happy_x/1.png", "png");
    expect_open_error("folder", NULL, "'happy' and 'happy_x' would make ambiguous clip ids");
}
END_TEST

/* --- FER2013 -------------------------------------------------------------- */

/* A row of 2304 pixel values: value i is (seed + i) % 256. */
static void append_pixels(FILE *fp, int seed, int count)
{
    for (int i = 0; i < count; i++)
        fprintf(fp, "%s%d", i > 0 ? " " : "", (seed + i) % 256);
}

static void fer2013_file(const char *rel, const char *header, const char *const *rows,
                         size_t n_rows)
{
    put(rel, "");
    FILE *fp = fopen(at(rel), "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "%s\n", header);
    for (size_t r = 0; r < n_rows; r++) {
        /* rows[r] is "emotion,%,Usage" with % standing for the pixels, or
         * "emotion,%N,Usage" for N values. */
        const char *pct = strchr(rows[r], '%');
        fwrite(rows[r], 1, (size_t)(pct - rows[r]), fp);
        char *end;
        long count = strtol(pct + 1, &end, 10);
        append_pixels(fp, (int)r, end == pct + 1 ? 2304 : (int)count);
        fprintf(fp, "%s\n", end);
    }
    ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(test_fer2013)
{
    static const char *const rows[] = {"0,%,Training", "3,%,PublicTest", "6,\"%\",PrivateTest"};
    fer2013_file("fer2013.csv", "emotion,pixels,Usage", rows, 3);
    /* ROOT may be the file or its folder. */
    struct fer_dataset *d = fer_dataset_open("fer2013", at("fer2013.csv"), NULL);
    ck_assert_msg(d != NULL, "%s", fer_error());
    static const char *const want[][3] = {{"fer2013_000000", "anger", "train"},
                                          {"fer2013_000001", "happiness", "val"},
                                          {"fer2013_000002", "neutral", "test"}};
    const struct fer_clip *c;
    for (int r = 0; r < 3; r++) {
        ck_assert_int_eq(fer_dataset_next(d, &c), 1);
        ck_assert_int_eq(c->kind, FER_CLIP_PIXELS);
        ck_assert_str_eq(c->id, want[r][0]);
        ck_assert_str_eq(c->label, want[r][1]);
        ck_assert_str_eq(c->split, want[r][2]);
        ck_assert_ptr_null(c->subject);
        ck_assert_uint_eq(c->n_paths, 0);
        ck_assert_int_eq(c->pixels.width, 48);
        ck_assert_int_eq(c->pixels.height, 48);
        ck_assert_int_eq(c->pixels.channels, 1);
        ck_assert_uint_eq(c->pixels.stride, 48);
        for (int i = 0; i < 2304; i++)
            ck_assert_int_eq(c->pixels.data[i], (r + i) % 256);
    }
    ck_assert_int_eq(fer_dataset_next(d, &c), 0);
    ck_assert_str_eq(fer_dataset_unmapped(d), "");
    fer_dataset_close(d);
    d = fer_dataset_open("fer2013", root, NULL);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(fer_dataset_next(d, &c), 1);
    fer_dataset_close(d);
}
END_TEST

START_TEST(test_fer2013_other_headers)
{
    /* Kaggle's icml_face_data.csv and the challenge's test.csv. */
    static const char *const icml[] = {"2, PrivateTest, %"};
    fer2013_file("fer2013.csv", "emotion, Usage, pixels\r", icml, 1);
    expect_dump("fer2013", NULL, "fer2013_000000 pixels - fear test \n");
    static const char *const test[] = {"%"};
    fer2013_file("fer2013.csv", "pixels", test, 1);
    expect_dump("fer2013", NULL, "fer2013_000000 pixels - - - \n");
}
END_TEST

START_TEST(test_fer2013_bad_rows)
{
    static const struct {
        const char *row, *error;
    } cases[] = {
        {"0,%2303,Training", "fer2013.csv: line 3: 2303 pixel values, expected 2304"},
        {"0,%2305,Training", "fer2013.csv: line 3: more than 2304 pixel values"},
        {"0,%,Testing", "line 3: Usage 'Testing' is not Training, PublicTest or PrivateTest"},
        {"7,%,Training", "line 3: emotion '7' is not 0..6"},
        {",%,Training", "line 3: emotion '' is not 0..6"},
        {"0,%,Training,extra", "line 3: 4 fields, the header has 3"},
        {"0,%0,Training", "line 3: 0 pixel values, expected 2304"},
        {"0,1 2 -3 %2301,Training", "line 3: pixel 3 is not a number 0..255 (near '-3')"},
        {"0,1 2 300 %2301,Training", "line 3: pixel 3 is not a number 0..255 (near '300')"},
        {"0,1 2x %2302,Training", "line 3: pixel 2 is not a number 0..255 (near '2x')"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *rows[] = {"1,%,Training", cases[i].row};
        fer2013_file("fer2013.csv", "emotion,pixels,Usage", rows, 2);
        struct fer_dataset *d = fer_dataset_open("fer2013", root, NULL);
        ck_assert_ptr_nonnull(d);
        const struct fer_clip *c;
        ck_assert_int_eq(fer_dataset_next(d, &c), 1);
        ck_assert_int_eq(fer_dataset_next(d, &c), -1);
        ck_assert_msg(strstr(fer_error(), cases[i].error) != NULL, "case %zu: '%s' lacks '%s'",
                      i, fer_error(), cases[i].error);
        fer_dataset_close(d);
    }
}
END_TEST

START_TEST(test_fer2013_bad_files)
{
    expect_open_error("fer2013", NULL, "/fer2013.csv: No such file or directory");
    put("fer2013.csv", "");
    expect_open_error("fer2013", NULL, "fer2013.csv: empty file");
    put("fer2013.csv", "emotion,Usage\n0,Training\n");
    expect_open_error("fer2013", NULL, "fer2013.csv: line 1: no pixels column");
    put("fer2013.csv", "pixels,Pixels\n");
    expect_open_error("fer2013", NULL, "line 1: column 'Pixels' appears twice");
    /* A line with no end must not be read whole into memory. */
    FILE *fp = fopen(at("fer2013.csv"), "w");
    fputs("emotion,pixels,Usage\n0,", fp);
    for (int i = 0; i < 100000; i++)
        fputs("1 ", fp);
    fclose(fp);
    expect_next_error("fer2013", "fer2013.csv: line 2: longer than");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dataset");
    struct {
        const char *name;
        const TTest *tests[8];
    } cases[] = {
        {"dispatch", {test_kinds, test_natural_order, test_ids}},
        {"ckplus",
         {test_ckplus, test_ckplus_natural_frame_order, test_ckplus_without_emotion_dir,
          test_ckplus_errors}},
        {"afew", {test_afew, test_afew_errors}},
        {"rafdb", {test_rafdb, test_rafdb_errors}},
        {"folder",
         {test_folder, test_folder_subject_regex, test_folder_split_level, test_folder_errors,
          test_folder_ambiguous_class_names, test_folder_no_known_class}},
        {"fer2013",
         {test_fer2013, test_fer2013_other_headers, test_fer2013_bad_rows,
          test_fer2013_bad_files}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        for (size_t j = 0; j < 8 && cases[i].tests[j] != NULL; j++)
            tcase_add_test(tc, cases[i].tests[j]);
        suite_add_tcase(s, tc);
    }
    return fer_run_suite(s);
}
