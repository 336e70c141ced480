/* Unit tests of the cascade reader, the scan and the grouping. The
 * agreement with OpenCV on real frames is tests/tools/test-detect-opencv.sh;
 * here: the error paths, the grouping rules on hand-made hits, and the
 * properties a detector must keep (thread count, flat images). */
#include "check_helpers.h"

#include "cascade.h"
#include "detect.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *fixture(const char *name)
{
    static char path[4096];
    const char *root = getenv("FER_ROOT");
    snprintf(path, sizeof path, "%s/tests/fixtures/detect/%s", root ? root : ".", name);
    return path;
}

/* Read a cascade from text; expect failure with `want` in the message. */
static void expect_refused(const char *xml, const char *want)
{
    struct fer_cascade *c = (struct fer_cascade *)1;
    fer_error_clear();
    ck_assert_int_eq(fer_cascade_read_memory(xml, strlen(xml), "t.xml", &c), -1);
    ck_assert_ptr_null(c);
    if (strstr(fer_error(), want) == NULL)
        ck_abort_msg("message '%s' lacks '%s'", fer_error(), want);
    ck_assert_msg(strncmp(fer_error(), "t.xml: ", 7) == 0, "no file name: %s", fer_error());
}

/* A valid 6x6 Haar cascade with `stage`, `feature` spliced in. */
static char *haar(const char *stage, const char *feature)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "<opencv_storage><cascade><stageType>BOOST</stageType>"
             "<featureType>HAAR</featureType><height>6</height><width>6</width>"
             "<featureParams><maxCatCount>0</maxCatCount></featureParams>\n"
             "<stages><_><stageThreshold>-1</stageThreshold><weakClassifiers>\n"
             "%s</weakClassifiers></_></stages>\n<features>%s</features></cascade>"
             "</opencv_storage>",
             stage, feature);
    return buf;
}

#define STUMP "<_><internalNodes>0 -1 0 0.5</internalNodes><leafValues>-1 1</leafValues></_>"
#define FEAT "<_><rects><_>0 0 6 6 -1.</_><_>0 0 3 6 2.</_></rects></_>"

START_TEST(test_reads_fixtures_and_debian_cascades)
{
    struct fer_cascade *c;
    int w, h;
    ck_assert_int_eq(fer_cascade_read(fixture("tiny_haar.xml"), &c), 0);
    fer_cascade_window(c, &w, &h);
    ck_assert_int_eq(w, 6);
    ck_assert_int_eq(fer_cascade_is_lbp(c), 0);
    fer_cascade_free(c);
    ck_assert_int_eq(fer_cascade_read(fixture("tiny_lbp.xml"), &c), 0);
    ck_assert_int_eq(fer_cascade_is_lbp(c), 1);
    fer_cascade_free(c);
    const char *debian = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
    FILE *f = fopen(debian, "r");
    if (f != NULL) { /* opencv-data installed */
        fclose(f);
        ck_assert_int_eq(fer_cascade_read(debian, &c), 0);
        fer_cascade_window(c, &w, &h);
        ck_assert_int_eq(w, 24);
        ck_assert_int_eq(h, 24);
        fer_cascade_free(c);
    }
    ck_assert_int_eq(fer_cascade_read("/nonexistent/x.xml", &c), -1);
    ck_assert_str_eq(fer_error(), "/nonexistent/x.xml: No such file or directory");
}
END_TEST

START_TEST(test_refuses_bad_xml)
{
    expect_refused("", "no XML element");
    expect_refused("<a><b></a>", "line 1: closing tag does not match");
    expect_refused("<a>\n<b>\n", "line 3: unexpected end of file");
    expect_refused("<a>x &amp; y</a>", "entity references");
    expect_refused("<a></a><b></b>", "more than one root");
    expect_refused("<!DOCTYPE a><a/>", "DOCTYPE");
    expect_refused("<a x=1></a>", "quoted attribute");
    expect_refused("<a>\n<!-- open", "line 2: unterminated comment");
    expect_refused("<a>1<b/>2</a>", "text split");
    char deep[2 * 70 * 4 + 1] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "<a>");
    expect_refused(deep, "nested too deeply");
}
END_TEST

START_TEST(test_refuses_bad_models)
{
    expect_refused("<opencv_storage><haarcascade_frontalface_alt "
                   "type_id=\"opencv-haar-classifier\"></haarcascade_frontalface_alt>"
                   "</opencv_storage>",
                   "old-style");
    char *ok = haar(STUMP, FEAT);
    struct fer_cascade *c;
    ck_assert_int_eq(fer_cascade_read_memory(ok, strlen(ok), "t.xml", &c), 0);
    fer_cascade_free(c);
    expect_refused(haar(STUMP, ""), "no features");
    expect_refused(haar("<_><internalNodes>0 -1 1 0.5</internalNodes>"
                        "<leafValues>-1 1</leafValues></_>",
                        FEAT),
                   "line 3: feature index 1 out of range");
    expect_refused(haar("<_><internalNodes>0 -1 0 0.5</internalNodes>"
                        "<leafValues>-1 1 2</leafValues></_>",
                        FEAT),
                   "needs 2 leafValues, not 3");
    expect_refused(haar("<_><internalNodes>0 -1 0</internalNodes>"
                        "<leafValues>-1 1</leafValues></_>",
                        FEAT),
                   "multiple of 4");
    expect_refused(haar("<_><internalNodes>0 -3 0 0.5</internalNodes>"
                        "<leafValues>-1 1</leafValues></_>",
                        FEAT),
                   "child index -3 out of range");
    expect_refused(haar("<_><internalNodes>0 1 0 0.5 1 -2 0 1</internalNodes>"
                        "<leafValues>-1 1 2</leafValues></_>",
                        FEAT),
                   "child index 1 out of range"); /* a loop: node 1 -> node 1 */
    expect_refused(haar("<_><internalNodes>0 -1 0 1e999</internalNodes>"
                        "<leafValues>-1 1</leafValues></_>",
                        FEAT),
                   "not a finite number");
    expect_refused(haar("<_><internalNodes>0 -1 x 0.5</internalNodes>"
                        "<leafValues>-1 1</leafValues></_>",
                        FEAT),
                   "'x' is not an integer");
    expect_refused(haar(STUMP, "<_><rects><_>0 0 7 6 -1.</_></rects></_>"),
                   "outside the 6x6 window");
    expect_refused(haar(STUMP, "<_><rects><_>0 0 2 2 -1.</_></rects><tilted>1</tilted></_>"),
                   "outside the 6x6 window"); /* tilted: x - h < 0 */
    expect_refused(haar(STUMP, "<_><rects><_>0 0 1 1 1</_><_>0 0 1 1 1</_><_>0 0 1 1 1</_>"
                               "<_>0 0 1 1 1</_></rects></_>"),
                   "at most 3 rectangles");
    expect_refused(haar(STUMP, "<_><rects><_>0 0 1 1</_></rects></_>"), "too few numbers");
}
END_TEST

/* Trees of several nodes (haarcascade_frontalface_alt2 has them) load. */
START_TEST(test_two_node_tree_loads)
{
    char *t = haar("<_><internalNodes>0 1 0 0.5 -1 -2 0 0.25</internalNodes>"
                   "<leafValues>-1 1 2</leafValues></_>",
                   FEAT);
    struct fer_cascade *c;
    ck_assert_int_eq(fer_cascade_read_memory(t, strlen(t), "t.xml", &c), 0);
    fer_cascade_free(c);
}
END_TEST

static struct fer_rects rects_of(const int (*v)[4], size_t n)
{
    struct fer_rects r = {0};
    for (size_t i = 0; i < n; i++)
        fer_rects_push(&r, (struct fer_rect){v[i][0], v[i][1], v[i][2], v[i][3], 1});
    return r;
}

START_TEST(test_group_rules)
{
    /* Four similar hits and one far away: one box, their rounded mean. */
    const int hits[][4] = {{10, 10, 40, 40}, {11, 10, 40, 40}, {12, 11, 44, 44},
                           {10, 12, 40, 40}, {200, 200, 40, 40}};
    struct fer_rects r = rects_of(hits, 5);
    ck_assert_int_eq(fer_rects_group(&r, 3, 0.2, 640, 480), 0);
    ck_assert_uint_eq(r.n, 1);
    /* x: 43/4 = 10.75 -> 11; y 43/4 -> 11; w 164/4 = 41 */
    ck_assert_int_eq(r.v[0].x, 11);
    ck_assert_int_eq(r.v[0].y, 11);
    ck_assert_int_eq(r.v[0].w, 41);
    ck_assert_int_eq(r.v[0].n, 4);
    fer_rects_free(&r);
    /* More than min_neighbors hits are needed. */
    r = rects_of(hits, 5);
    ck_assert_int_eq(fer_rects_group(&r, 4, 0.2, 640, 480), 0);
    ck_assert_uint_eq(r.n, 0);
    fer_rects_free(&r);
    /* A weak class inside a strong one goes; min_neighbors 0 only clips. */
    const int nest[][4] = {{0, 0, 100, 100}, {0, 0, 100, 100}, {1, 1, 100, 100},
                           {0, 1, 100, 100}, {1, 0, 100, 100}, {30, 30, 30, 30},
                           {30, 30, 30, 30}, {-5, 470, 20, 20}};
    r = rects_of(nest, 8);
    ck_assert_int_eq(fer_rects_group(&r, 1, 0.2, 640, 480), 0);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_int_eq(r.v[0].n, 5);
    fer_rects_free(&r);
    r = rects_of(nest, 8);
    ck_assert_int_eq(fer_rects_group(&r, 0, 0.2, 640, 480), 0);
    ck_assert_uint_eq(r.n, 8);
    ck_assert_int_eq(r.v[7].x, 0);
    ck_assert_int_eq(r.v[7].w, 15);
    ck_assert_int_eq(r.v[7].h, 10);
    fer_rects_free(&r);
}
END_TEST

static uint8_t *noise_image(int w, int h)
{
    uint8_t *img = malloc((size_t)w * (size_t)h);
    uint32_t s = 12345;
    for (int i = 0; i < w * h; i++) {
        s = s * 1103515245u + 12345u;
        img[i] = (uint8_t)(s >> 24);
    }
    return img;
}

START_TEST(test_scan_is_thread_independent)
{
    struct fer_cascade *c;
    ck_assert_int_eq(fer_cascade_read(fixture("tiny_haar.xml"), &c), 0);
    uint8_t *img = noise_image(97, 83);
    struct fer_cascade_params p = {1.1, 0, 0, 0, 0, 1};
    struct fer_rects a = {0}, b = {0};
    ck_assert_int_eq(fer_cascade_scan(c, img, 97, 83, 97, &p, &a), 0);
    ck_assert_uint_gt(a.n, 100);
    p.threads = 4;
    ck_assert_int_eq(fer_cascade_scan(c, img, 97, 83, 97, &p, &b), 0);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert_int_eq(memcmp(a.v, b.v, a.n * sizeof *a.v), 0);
    /* A flat image has no variance: every Haar window is rejected. */
    memset(img, 77, 97 * 83);
    a.n = 0;
    ck_assert_int_eq(fer_cascade_scan(c, img, 97, 83, 97, &p, &a), 0);
    ck_assert_uint_eq(a.n, 0);
    /* An image smaller than the window: nothing, and no error. */
    ck_assert_int_eq(fer_cascade_scan(c, img, 5, 5, 97, &p, &a), 0);
    ck_assert_uint_eq(a.n, 0);
    p.scale_factor = 1.0;
    ck_assert_int_eq(fer_cascade_scan(c, img, 97, 83, 97, &p, &a), -1);
    ck_assert_str_eq(fer_error(), "scale factor must be greater than 1");
    fer_rects_free(&a);
    fer_rects_free(&b);
    free(img);
    fer_cascade_free(c);
}
END_TEST

START_TEST(test_detector_interface)
{
    struct fer_detector *d = fer_detector_open_cascade(fixture("tiny_lbp.xml"));
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->ops->name, "cascade");
    struct fer_detect_params p;
    fer_detect_params_default(&p);
    ck_assert_int_eq(p.min_neighbors, 3);
    p.min_w = p.min_h = 0;
    uint8_t *px = noise_image(64, 48);
    struct fer_image grey = {64, 48, 1, 64, px};
    struct fer_boxes boxes = {0};
    ck_assert_int_eq(fer_detector_detect(d, &grey, &p, &boxes), 0);
    for (size_t i = 0; i < boxes.n; i++) {
        ck_assert_int_ge(boxes.v[i].x, 0);
        ck_assert_int_le(boxes.v[i].x + boxes.v[i].w, 64);
        ck_assert(boxes.v[i].score > 3.f);
    }
    struct fer_image rgb = {64, 16, 3, 192, px};
    ck_assert_int_eq(fer_detector_detect(d, &rgb, &p, &boxes), -1);
    ck_assert_str_eq(fer_error(), "detector needs a grey image");
    fer_boxes_free(&boxes);
    fer_detector_free(d);
    free(px);
    ck_assert_ptr_null(fer_detector_open_cascade(fixture("missing.xml")));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cascade");
    TCase *tc = tcase_create("cascade");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_reads_fixtures_and_debian_cascades);
    tcase_add_test(tc, test_refuses_bad_xml);
    tcase_add_test(tc, test_refuses_bad_models);
    tcase_add_test(tc, test_two_node_tree_loads);
    tcase_add_test(tc, test_group_rules);
    tcase_add_test(tc, test_scan_is_thread_independent);
    tcase_add_test(tc, test_detector_interface);
    suite_add_tcase(s, tc);
    return fer_run_suite(s);
}
