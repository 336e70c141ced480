/* cascade_model.h - the in-memory cascade shared by cascade.c (reader) and
 * cascade_detect.c (evaluation). Private to libfer: tools use cascade.h.
 *
 * The layout follows the file: stages own consecutive trees, trees own
 * consecutive nodes and node_count + 1 leaves. A child index > 0 names an
 * internal node of the same tree, <= 0 names leaf -index. The reader has
 * checked every index and every rectangle against the window.
 */
#ifndef FER_CASCADE_MODEL_H
#define FER_CASCADE_MODEL_H

#include <stdint.h>

#include "cascade.h"

struct fer_cascade_stage {
    int first_tree, ntrees;
    float threshold; /* file value minus 1e-5, as OpenCV reads it */
};

struct fer_cascade_tree {
    int first_node, node_count, first_leaf;
};

struct fer_cascade_node {
    int left, right, feature;
    float threshold; /* Haar only; LBP nodes use subsets */
};

/* A depth-1 tree, the common case, evaluated without the tree walk. */
struct fer_cascade_stump {
    int feature;
    float threshold, left, right;
};

struct fer_haar_rect {
    int x, y, w, h;
    float weight;
};

struct fer_haar_feature {
    int tilted, nrects;
    struct fer_haar_rect r[3];
};

struct fer_lbp_feature {
    int x, y, w, h; /* one block of the 3x3 grid */
};

struct fer_cascade {
    int lbp;
    int win_w, win_h;
    int ncategories, subset_size; /* LBP: 256 categories, 8 ints per node */
    int nstages, ntrees, nnodes, nleaves, nfeatures;
    int max_nodes_per_tree, has_tilted;
    struct fer_cascade_stage *stages;
    struct fer_cascade_tree *trees;
    struct fer_cascade_node *nodes;
    int32_t *subsets; /* nnodes * subset_size */
    float *leaves;
    struct fer_cascade_stump *stumps; /* one per tree when max_nodes_per_tree == 1 */
    struct fer_haar_feature *haar;
    struct fer_lbp_feature *lbpf;
};

#endif
