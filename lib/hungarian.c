#include "hungarian.h"

#include "error.h"

#include <math.h>
#include <stdlib.h>

/* Shortest augmenting paths with potentials (the Jonker-Volgenant form of
 * the Hungarian method) on an n x m matrix with n <= m; the caller
 * transposes when rows > cols. Arrays are 1-based, index 0 is the virtual
 * start column. */
static int assign(const double *cost, size_t n, size_t m, int transposed, size_t stride,
                  int *row_of_col_out)
{
    double *u = calloc(n + 1, sizeof *u), *v = calloc(m + 1, sizeof *v);
    double *min_to = malloc((m + 1) * sizeof *min_to);
    size_t *p = calloc(m + 1, sizeof *p), *way = calloc(m + 1, sizeof *way);
    char *used = malloc(m + 1);
    if (!u || !v || !min_to || !p || !way || !used) {
        free(u), free(v), free(min_to), free(p), free(way), free(used);
        return fer_fail("out of memory");
    }
#define COST(i, j) (transposed ? cost[(j) * stride + (i)] : cost[(i) * stride + (j)])
    for (size_t i = 1; i <= n; i++) {
        p[0] = i;
        size_t j0 = 0;
        for (size_t j = 0; j <= m; j++) {
            min_to[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            size_t i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= m; j++) {
                if (used[j])
                    continue;
                double c = COST(i0 - 1, j - 1) - u[i0] - v[j];
                if (c < min_to[j]) {
                    min_to[j] = c;
                    way[j] = j0;
                }
                if (min_to[j] < delta) {
                    delta = min_to[j];
                    j1 = j;
                }
            }
            for (size_t j = 0; j <= m; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_to[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0 != 0);
    }
#undef COST
    for (size_t j = 1; j <= m; j++)
        row_of_col_out[j - 1] = p[j] ? (int)p[j] - 1 : -1;
    free(u), free(v), free(min_to), free(p), free(way), free(used);
    return 0;
}

int fer_hungarian(const double *cost, size_t rows, size_t cols, int *match)
{
    for (size_t r = 0; r < rows; r++)
        match[r] = -1;
    if (rows == 0 || cols == 0)
        return 0;
    int transposed = rows > cols;
    size_t n = transposed ? cols : rows, m = transposed ? rows : cols;
    int *owner = malloc(m * sizeof *owner); /* owner[j] = the n-side index of m-side j */
    if (owner == NULL)
        return fer_fail("out of memory");
    if (assign(cost, n, m, transposed, cols, owner) != 0) {
        free(owner);
        return -1;
    }
    for (size_t j = 0; j < m; j++) {
        if (owner[j] < 0)
            continue;
        if (transposed)
            match[j] = owner[j];          /* m side is rows */
        else
            match[owner[j]] = (int)j;     /* n side is rows */
    }
    free(owner);
    return 0;
}
