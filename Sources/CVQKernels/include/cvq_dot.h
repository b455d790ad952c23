// Dot products of one vector with many rows (IVF probing, k-means assignment). Specification:
// DotRowsReference in VQKernels; every level returns the same bits.
#ifndef CVQ_DOT_H
#define CVQ_DOT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[c] = Σ_j x[j]·rows[c·d + j] for c < count, in a fixed order: 16 running sums s[j mod 16], each
/// updated in order of j by one fused multiply-add (s = fma(x[j], row[j], s), a single rounding), then
/// s[l] += s[l + w] for w = 8, 4, 2, 1; out[c] = s[0].
void cvq_dot_rows(const float *x, const float *rows, size_t count, size_t d, float *out);

/// A hint, no result: asks the cache hierarchy for the first `bytes` bytes at base + row·stride for each
/// of `rows[0..<count]` (prefetch for reading into L2), so scattered rows about to be read (re-ranking's
/// original vectors) arrive in parallel instead of one memory latency after another.
void cvq_prefetch_rows(const void *base, size_t stride, const long *rows, size_t count, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif
