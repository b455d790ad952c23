// Adaptive stochastic quantization (ASQ) kernel: one layer of the exact DP (research/asq-ipaware.md §2.3).
//
// The layer finds, for every row j, the leftmost minimum over columns k of
//   V(k, j) = (shifted[k] + y[k]·(−b[j])) + y[j]·b[k]
// (each cell rounded in exactly that order, no FMA) by the divide-and-conquer monotone row-minima
// search that `ASQLayerReference` (Swift, in VQKernels) specifies step by step. Every kernel level
// (portable, AVX2; AVX-512 machines run the AVX2 code) scans the same cells and keeps the same
// leftmost minimum, so all levels are bit-identical to the reference.
#ifndef CVQ_ASQ_H
#define CVQ_ASQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The search's block sizes (shared with the Swift reference): a block of rows [r0, r1] with columns
/// [c0, c1] is solved row by row when r1 − r0 < CVQ_ASQ_SMALL_ROWS and c1 − c0 < CVQ_ASQ_SMALL_COLUMNS.
enum { CVQ_ASQ_SMALL_ROWS = 16, CVQ_ASQ_SMALL_COLUMNS = 96 };

/// One DP layer over `n` rows (n < 2^32).
///
/// Inputs: `shifted`, `y`, `b` (n doubles each); `lower` (n column lower bounds, or NULL for none):
/// row j scans no column below lower[j] (the previous layer's argmins). `e` (n doubles).
/// Outputs: `argmins[j]` = the leftmost minimizing column of row j, and `out[j]` = (m_j + (−e[j])),
/// where m_j is the row minimum; when `shift_out` is nonzero, out[j] = (m_j + (−e[j])) + e[j] instead
/// (the next layer's `shifted`). `out` must not alias `shifted`.
void cvq_asq_layer(const double *shifted, const double *y, const double *b, const double *e, size_t n,
                   const uint32_t *lower, uint32_t *argmins, double *out, int shift_out);

#ifdef __cplusplus
}
#endif
#endif
