/* cascade.c - read an OpenCV cascade XML file into a validated model.
 *
 * The meaning of the fields is OpenCV's (CascadeClassifierImpl::Data::read
 * and the Haar/LBP feature readers): stage thresholds lose 1e-5, thresholds
 * and leaves are stored as float, a tree's internalNodes hold
 * "left right feature threshold" (Haar) or "left right feature subset[8]"
 * (LBP). Unlike OpenCV we check every index and rectangle, so that the
 * evaluator can trust the model without further tests. */
#include "cascade.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cascade_model.h"
#include "cascade_xml.h"
#include "error.h"

/* A cursor over the whitespace-separated numbers of one element's text. */
struct nums {
    const struct fer_xml *x;
    const char *p, *end, *at;
};

static int nums_open(struct nums *n, const struct fer_xml *x, int node, const char *what)
{
    const struct fer_xml_node *e = &x->nodes[node];
    n->x = x;
    n->at = e->name;
    n->p = e->text;
    n->end = e->text ? e->text + e->text_len : NULL;
    if (e->first_child >= 0)
        return fer_fail("line %d: <%s> must hold numbers, not elements", fer_xml_line(x, e->name),
                        what);
    return 0;
}

static int nums_left(struct nums *n)
{
    if (n->p == NULL)
        return 0;
    while (n->p < n->end && (*n->p == ' ' || *n->p == '\t' || *n->p == '\n' || *n->p == '\r'))
        n->p++;
    return n->p < n->end;
}

/* Copy the next token into tok (NUL-terminated); error if none or too long. */
static int nums_token(struct nums *n, char *tok, size_t cap, const char *what)
{
    if (!nums_left(n))
        return fer_fail("line %d: too few numbers in %s", fer_xml_line(n->x, n->at), what);
    const char *s = n->p;
    while (n->p < n->end && !(*n->p == ' ' || *n->p == '\t' || *n->p == '\n' || *n->p == '\r'))
        n->p++;
    size_t len = (size_t)(n->p - s);
    if (len >= cap)
        return fer_fail("line %d: number too long in %s", fer_xml_line(n->x, s), what);
    memcpy(tok, s, len);
    tok[len] = '\0';
    n->at = s;
    return 0;
}

static int nums_int(struct nums *n, int *v, const char *what)
{
    char tok[64], *end;
    if (nums_token(n, tok, sizeof tok, what) < 0)
        return -1;
    errno = 0;
    long l = strtol(tok, &end, 10);
    if (end == tok || *end != '\0' || errno != 0 || l < INT_MIN || l > INT_MAX)
        return fer_fail("line %d: '%s' is not an integer in %s", fer_xml_line(n->x, n->at), tok,
                        what);
    *v = (int)l;
    return 0;
}

/* OpenCV reads reals as double and stores them as float. */
static int nums_float(struct nums *n, float *v, const char *what)
{
    char tok[64], *end;
    if (nums_token(n, tok, sizeof tok, what) < 0)
        return -1;
    errno = 0;
    double d = strtod(tok, &end);
    if (end == tok || *end != '\0' || !isfinite(d) || fabs(d) > 3e38)
        return fer_fail("line %d: '%s' is not a finite number in %s",
                        fer_xml_line(n->x, n->at), tok, what);
    *v = (float)d;
    return 0;
}

static int nums_end(struct nums *n, const char *what)
{
    if (nums_left(n))
        return fer_fail("line %d: too many numbers in %s", fer_xml_line(n->x, n->p), what);
    return 0;
}

/* Count the numbers of an element's text without parsing them. */
static int nums_count(const struct fer_xml *x, int node)
{
    struct nums n;
    if (nums_open(&n, x, node, "value") < 0)
        return -1;
    int count = 0;
    while (nums_left(&n)) {
        while (n.p < n.end && !(*n.p == ' ' || *n.p == '\t' || *n.p == '\n' || *n.p == '\r'))
            n.p++;
        count++;
    }
    return count;
}

static int need_child(const struct fer_xml *x, int parent, const char *name)
{
    int c = fer_xml_child(x, parent, name);
    if (c < 0)
        fer_fail("line %d: <%.*s> has no <%s>", fer_xml_line(x, x->nodes[parent].name),
                 (int)x->nodes[parent].name_len, x->nodes[parent].name, name);
    return c;
}

static int read_int_child(const struct fer_xml *x, int parent, const char *name, int *v)
{
    int c = need_child(x, parent, name);
    struct nums n;
    if (c < 0 || nums_open(&n, x, c, name) < 0 || nums_int(&n, v, name) < 0)
        return -1;
    return nums_end(&n, name);
}

static int text_is(const struct fer_xml *x, int node, const char *word)
{
    const struct fer_xml_node *e = &x->nodes[node];
    return e->text != NULL && e->text_len == strlen(word) && memcmp(e->text, word, e->text_len) == 0;
}

static int line_of(const struct fer_xml *x, int node)
{
    return fer_xml_line(x, x->nodes[node].name);
}

static void *alloc_array(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

/* Pass 1 sizes the arrays, pass 2 fills them. */
static int count_stages(const struct fer_cascade *c, const struct fer_xml *x, int stages,
                        int node_step, int *ntrees, int *nnodes, int *nleaves)
{
    long trees = 0, nodes = 0, leaves = 0;
    for (int s = x->nodes[stages].first_child; s >= 0; s = x->nodes[s].next_sibling) {
        int weak = need_child(x, s, "weakClassifiers");
        if (weak < 0)
            return -1;
        if (x->nodes[weak].first_child < 0)
            return fer_fail("line %d: a stage without weak classifiers", line_of(x, weak));
        for (int w = x->nodes[weak].first_child; w >= 0; w = x->nodes[w].next_sibling) {
            int in = need_child(x, w, "internalNodes");
            int lv = in < 0 ? -1 : need_child(x, w, "leafValues");
            if (lv < 0)
                return -1;
            int ni = nums_count(x, in), nl = nums_count(x, lv);
            if (ni < 0 || nl < 0)
                return -1;
            if (ni == 0 || ni % node_step != 0)
                return fer_fail("line %d: internalNodes must hold a multiple of %d numbers "
                                "for this feature type, not %d",
                                line_of(x, in), node_step, ni);
            if (nl != ni / node_step + 1)
                return fer_fail("line %d: a tree of %d nodes needs %d leafValues, not %d",
                                line_of(x, lv), ni / node_step, ni / node_step + 1, nl);
            trees++;
            nodes += ni / node_step;
            leaves += nl;
            if (trees > FER_CASCADE_MAX_NODES || nodes > FER_CASCADE_MAX_NODES)
                return fer_fail("line %d: too many weak classifiers", line_of(x, w));
        }
    }
    (void)c;
    *ntrees = (int)trees;
    *nnodes = (int)nodes;
    *nleaves = (int)leaves;
    return 0;
}

static int read_tree(struct fer_cascade *c, const struct fer_xml *x, int w, int *node_at,
                     int *leaf_at, int tree_index)
{
    int in = fer_xml_child(x, w, "internalNodes"), lv = fer_xml_child(x, w, "leafValues");
    int step = 3 + (c->subset_size > 0 ? c->subset_size : 1);
    int count = nums_count(x, in) / step;
    struct fer_cascade_tree *t = &c->trees[tree_index];
    t->first_node = *node_at;
    t->node_count = count;
    t->first_leaf = *leaf_at;
    struct nums n;
    if (nums_open(&n, x, in, "internalNodes") < 0)
        return -1;
    for (int k = 0; k < count; k++) {
        struct fer_cascade_node *nd = &c->nodes[*node_at];
        if (nums_int(&n, &nd->left, "internalNodes") < 0 ||
            nums_int(&n, &nd->right, "internalNodes") < 0 ||
            nums_int(&n, &nd->feature, "internalNodes") < 0)
            return -1;
        /* A child > 0 must come later in the tree, so that every walk ends;
         * a leaf -i must exist. */
        int kids[2] = {nd->left, nd->right};
        for (int j = 0; j < 2; j++)
            if ((kids[j] > 0 && (kids[j] <= k || kids[j] >= count)) ||
                (kids[j] <= 0 && -(long)kids[j] > count))
                return fer_fail("line %d: tree child index %d out of range",
                                fer_xml_line(x, n.at), kids[j]);
        if (nd->feature < 0 || nd->feature >= c->nfeatures)
            return fer_fail("line %d: feature index %d out of range (%d features)",
                            fer_xml_line(x, n.at), nd->feature, c->nfeatures);
        if (c->subset_size > 0) {
            for (int j = 0; j < c->subset_size; j++) {
                int v;
                if (nums_int(&n, &v, "internalNodes") < 0)
                    return -1;
                c->subsets[(size_t)*node_at * (size_t)c->subset_size + (size_t)j] = v;
            }
            nd->threshold = 0.f;
        } else if (nums_float(&n, &nd->threshold, "internalNodes") < 0) {
            return -1;
        }
        (*node_at)++;
    }
    if (nums_end(&n, "internalNodes") < 0 || nums_open(&n, x, lv, "leafValues") < 0)
        return -1;
    for (int k = 0; k <= count; k++)
        if (nums_float(&n, &c->leaves[(*leaf_at)++], "leafValues") < 0)
            return -1;
    return nums_end(&n, "leafValues");
}

static int read_stages(struct fer_cascade *c, const struct fer_xml *x, int stages)
{
    int node_step = 3 + (c->subset_size > 0 ? c->subset_size : 1);
    if (count_stages(c, x, stages, node_step, &c->ntrees, &c->nnodes, &c->nleaves) < 0)
        return -1;
    c->stages = alloc_array((size_t)c->nstages, sizeof *c->stages);
    c->trees = alloc_array((size_t)c->ntrees, sizeof *c->trees);
    c->nodes = alloc_array((size_t)c->nnodes, sizeof *c->nodes);
    c->leaves = alloc_array((size_t)c->nleaves, sizeof *c->leaves);
    c->subsets = alloc_array((size_t)c->nnodes * (size_t)(c->subset_size ? c->subset_size : 1),
                             sizeof *c->subsets);
    if (!c->stages || !c->trees || !c->nodes || !c->leaves || !c->subsets)
        return fer_fail("out of memory");
    int si = 0, ti = 0, node_at = 0, leaf_at = 0;
    for (int s = x->nodes[stages].first_child; s >= 0; s = x->nodes[s].next_sibling, si++) {
        struct fer_cascade_stage *st = &c->stages[si];
        int th = need_child(x, s, "stageThreshold");
        struct nums n;
        float v;
        if (th < 0 || nums_open(&n, x, th, "stageThreshold") < 0 ||
            nums_float(&n, &v, "stageThreshold") < 0 || nums_end(&n, "stageThreshold") < 0)
            return -1;
        st->threshold = v - 1e-5f; /* OpenCV's THRESHOLD_EPS */
        st->first_tree = ti;
        int weak = fer_xml_child(x, s, "weakClassifiers");
        for (int w = x->nodes[weak].first_child; w >= 0; w = x->nodes[w].next_sibling, ti++)
            if (read_tree(c, x, w, &node_at, &leaf_at, ti) < 0)
                return -1;
        st->ntrees = ti - st->first_tree;
    }
    c->max_nodes_per_tree = 0;
    for (int t = 0; t < c->ntrees; t++)
        if (c->trees[t].node_count > c->max_nodes_per_tree)
            c->max_nodes_per_tree = c->trees[t].node_count;
    if (c->max_nodes_per_tree == 1) {
        /* OpenCV's stump path takes leaf 0 below the threshold and leaf 1
         * above, whatever the node's child indices say. */
        c->stumps = alloc_array((size_t)c->ntrees, sizeof *c->stumps);
        if (c->stumps == NULL)
            return fer_fail("out of memory");
        for (int t = 0; t < c->ntrees; t++) {
            const struct fer_cascade_node *nd = &c->nodes[c->trees[t].first_node];
            c->stumps[t] = (struct fer_cascade_stump){nd->feature, nd->threshold,
                                                      c->leaves[2 * t], c->leaves[2 * t + 1]};
        }
    }
    return 0;
}

static int rect_inside(const struct fer_cascade *c, int x, int y, int w, int h, int tilted)
{
    if (w < 0 || h < 0 || x < 0 || y < 0 || x > c->win_w || y > c->win_h)
        return 0;
    if (tilted) /* corners (x,y) (x-h,y+h) (x+w,y+w) (x+w-h,y+w+h) */
        return x - h >= 0 && x + w <= c->win_w && y + w + h <= c->win_h;
    return x + w <= c->win_w && y + h <= c->win_h;
}

static int read_haar_feature(struct fer_cascade *c, const struct fer_xml *x, int node,
                             struct fer_haar_feature *f)
{
    int rects = need_child(x, node, "rects");
    if (rects < 0)
        return -1;
    int tilted = fer_xml_child(x, node, "tilted");
    f->tilted = 0;
    if (tilted >= 0) {
        struct nums n;
        if (nums_open(&n, x, tilted, "tilted") < 0 || nums_int(&n, &f->tilted, "tilted") < 0 ||
            nums_end(&n, "tilted") < 0)
            return -1;
        f->tilted = f->tilted != 0;
    }
    f->nrects = 0;
    for (int r = x->nodes[rects].first_child; r >= 0; r = x->nodes[r].next_sibling) {
        if (f->nrects == 3)
            return fer_fail("line %d: a Haar feature has at most 3 rectangles", line_of(x, r));
        struct fer_haar_rect *hr = &f->r[f->nrects++];
        struct nums n;
        if (nums_open(&n, x, r, "rects") < 0 || nums_int(&n, &hr->x, "rects") < 0 ||
            nums_int(&n, &hr->y, "rects") < 0 || nums_int(&n, &hr->w, "rects") < 0 ||
            nums_int(&n, &hr->h, "rects") < 0 || nums_float(&n, &hr->weight, "rects") < 0 ||
            nums_end(&n, "rects") < 0)
            return -1;
        if (!rect_inside(c, hr->x, hr->y, hr->w, hr->h, f->tilted))
            return fer_fail("line %d: rectangle %d %d %d %d lies outside the %dx%d window",
                            line_of(x, r), hr->x, hr->y, hr->w, hr->h, c->win_w, c->win_h);
    }
    if (f->nrects == 0)
        return fer_fail("line %d: a Haar feature without rectangles", line_of(x, rects));
    c->has_tilted |= f->tilted;
    return 0;
}

static int read_lbp_feature(struct fer_cascade *c, const struct fer_xml *x, int node,
                            struct fer_lbp_feature *f)
{
    int rect = need_child(x, node, "rect");
    struct nums n;
    if (rect < 0 || nums_open(&n, x, rect, "rect") < 0 || nums_int(&n, &f->x, "rect") < 0 ||
        nums_int(&n, &f->y, "rect") < 0 || nums_int(&n, &f->w, "rect") < 0 ||
        nums_int(&n, &f->h, "rect") < 0 || nums_end(&n, "rect") < 0)
        return -1;
    /* The feature is a 3x3 grid of such blocks. */
    if (f->x < 0 || f->y < 0 || f->w < 0 || f->h < 0 || f->w > c->win_w || f->h > c->win_h ||
        f->x + 3 * f->w > c->win_w || f->y + 3 * f->h > c->win_h)
        return fer_fail("line %d: LBP block %d %d %d %d does not fit the %dx%d window",
                        line_of(x, rect), f->x, f->y, f->w, f->h, c->win_w, c->win_h);
    return 0;
}

static int read_features(struct fer_cascade *c, const struct fer_xml *x, int root)
{
    int feats = need_child(x, root, "features");
    if (feats < 0)
        return -1;
    c->nfeatures = fer_xml_count(x, feats);
    if (c->nfeatures == 0)
        return fer_fail("line %d: no features", line_of(x, feats));
    if (c->nfeatures > FER_CASCADE_MAX_NODES)
        return fer_fail("line %d: too many features", line_of(x, feats));
    if (c->lbp)
        c->lbpf = alloc_array((size_t)c->nfeatures, sizeof *c->lbpf);
    else
        c->haar = alloc_array((size_t)c->nfeatures, sizeof *c->haar);
    if (c->lbpf == NULL && c->haar == NULL)
        return fer_fail("out of memory");
    int i = 0;
    for (int f = x->nodes[feats].first_child; f >= 0; f = x->nodes[f].next_sibling, i++) {
        int rc = c->lbp ? read_lbp_feature(c, x, f, &c->lbpf[i])
                        : read_haar_feature(c, x, f, &c->haar[i]);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int read_cascade(struct fer_cascade *c, const struct fer_xml *x)
{
    int root = 0;
    const struct fer_xml_node *top = &x->nodes[0];
    if (top->name_len == 14 && memcmp(top->name, "opencv_storage", 14) == 0) {
        root = top->first_child; /* FileStorage's first top-level node */
        if (root < 0)
            return fer_fail("line %d: <opencv_storage> is empty", line_of(x, 0));
    }
    const struct fer_xml_node *r = &x->nodes[root];
    if (r->type_id != NULL && r->type_id_len == 22 &&
        memcmp(r->type_id, "opencv-haar-classifier", 22) == 0)
        return fer_fail("line %d: old-style haartraining cascade; convert it with OpenCV's "
                        "traincascade format (not supported)",
                        line_of(x, root));
    int st = need_child(x, root, "stageType");
    if (st < 0)
        return -1;
    if (!text_is(x, st, "BOOST"))
        return fer_fail("line %d: stageType must be BOOST", line_of(x, st));
    int ft = need_child(x, root, "featureType");
    if (ft < 0)
        return -1;
    if (text_is(x, ft, "LBP"))
        c->lbp = 1;
    else if (!text_is(x, ft, "HAAR"))
        return fer_fail("line %d: featureType must be HAAR or LBP", line_of(x, ft));
    if (read_int_child(x, root, "width", &c->win_w) < 0 ||
        read_int_child(x, root, "height", &c->win_h) < 0)
        return -1;
    /* Haar needs the normalisation rectangle (1,1,w-2,h-2) to be non-empty. */
    int min_side = c->lbp ? 1 : 3;
    if (c->win_w < min_side || c->win_h < min_side || c->win_w > FER_CASCADE_MAX_WINDOW ||
        c->win_h > FER_CASCADE_MAX_WINDOW)
        return fer_fail("line %d: window %dx%d out of range", line_of(x, root), c->win_w,
                        c->win_h);
    int fp = need_child(x, root, "featureParams");
    if (fp < 0 || read_int_child(x, fp, "maxCatCount", &c->ncategories) < 0)
        return -1;
    if (c->lbp ? c->ncategories != 256 : c->ncategories != 0)
        return fer_fail("line %d: maxCatCount must be %d for %s features", line_of(x, fp),
                        c->lbp ? 256 : 0, c->lbp ? "LBP" : "HAAR");
    c->subset_size = (c->ncategories + 31) / 32;
    if (read_features(c, x, root) < 0)
        return -1;
    int stages = need_child(x, root, "stages");
    if (stages < 0)
        return -1;
    c->nstages = fer_xml_count(x, stages);
    if (c->nstages == 0)
        return fer_fail("line %d: no stages", line_of(x, stages));
    return read_stages(c, x, stages);
}

int fer_cascade_read_memory(const void *data, size_t size, const char *name,
                            struct fer_cascade **out)
{
    *out = NULL;
    if (size > FER_CASCADE_MAX_BYTES)
        return name ? fer_fail("%s: file too large for a cascade", name)
                    : fer_fail("file too large for a cascade");
    char *buf = malloc(size + 1);
    struct fer_cascade *c = calloc(1, sizeof *c);
    struct fer_xml x;
    memset(&x, 0, sizeof x);
    int rc = -1;
    if (buf == NULL || c == NULL) {
        fer_fail("out of memory");
        goto end;
    }
    if (size > 0)
        memcpy(buf, data, size);
    buf[size] = '\0';
    if (fer_xml_parse(&x, buf, size) < 0 || read_cascade(c, &x) < 0)
        goto end;
    *out = c;
    c = NULL;
    rc = 0;
end:
    if (rc < 0 && name != NULL)
        fer_fail_context("%s", name);
    fer_xml_free(&x);
    fer_cascade_free(c);
    free(buf);
    return rc;
}

int fer_cascade_read(const char *path, struct fer_cascade **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fer_fail_errno("%s", path);
    size_t cap = 1 << 16, size = 0;
    char *buf = malloc(cap);
    int rc = -1;
    if (buf == NULL) {
        fer_fail("out of memory");
        goto end;
    }
    for (;;) {
        if (size == cap) {
            if (cap > FER_CASCADE_MAX_BYTES) {
                fer_fail("%s: file too large for a cascade", path);
                goto end;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                fer_fail("out of memory");
                goto end;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + size, 1, cap - size, f);
        size += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fer_fail_errno("%s", path);
        goto end;
    }
    rc = fer_cascade_read_memory(buf, size, path, out);
end:
    free(buf);
    fclose(f);
    return rc;
}

void fer_cascade_free(struct fer_cascade *c)
{
    if (c == NULL)
        return;
    free(c->stages);
    free(c->trees);
    free(c->nodes);
    free(c->subsets);
    free(c->leaves);
    free(c->stumps);
    free(c->haar);
    free(c->lbpf);
    free(c);
}

void fer_cascade_window(const struct fer_cascade *c, int *width, int *height)
{
    *width = c->win_w;
    *height = c->win_h;
}

int fer_cascade_is_lbp(const struct fer_cascade *c)
{
    return c->lbp;
}
