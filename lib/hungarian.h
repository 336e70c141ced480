/* hungarian.h - optimal assignment (minimum total cost).
 *
 * Used by the tracker to match a frame's faces to the open tracks: a greedy
 * match can steal a face from the track it belongs to when two faces are
 * close; the optimal assignment cannot.
 */
#ifndef FER_HUNGARIAN_H
#define FER_HUNGARIAN_H

#include <stddef.h>

/* cost: rows x cols, row-major, finite. Fills match[r] with the column
 * assigned to row r, or -1 when rows > cols leaves it unassigned; every
 * column is used at most once and the total cost is minimal.
 * O(n^2 m) time for n = min(rows, cols), m = max. Returns 0, or -1 with
 * fer_error() set when out of memory. */
int fer_hungarian(const double *cost, size_t rows, size_t cols, int *match);

#endif
