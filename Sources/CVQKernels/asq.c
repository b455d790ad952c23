// One layer of the exact ASQ dynamic program (see cvq_asq.h): divide-and-conquer leftmost row minima of
// V(k, j) = (shifted[k] + y[k]·(−b[j])) + y[j]·b[k].
//
// The search is the one `ASQLayerReference` (Swift) specifies: solve the middle row of a block of rows
// over its column window, recurse on the upper rows with the columns up to that row's argmin and on the
// lower rows with the columns from it; blocks of fewer than ASQ_SMALL_ROWS rows whose window is narrower
// than ASQ_SMALL_COLUMNS are solved row by row, each row starting at the previous row's argmin. Every
// row's window is also cut below at `lower[row]` (the previous layer's argmin) and above at the row
// itself. Only the scan of one row's window differs between levels: scalar (portable) or four columns
// per AVX2 register with two accumulators. The minimum of a fixed set of cells and its leftmost column
// do not depend on the scan order (strict `<` per lane; lanes merged by value, then by column), and
// every cell is rounded the same way (no FMA contraction), so every level returns the reference's bits.
#include "kernel_levels.h"
#include "cvq_kernels.h"
#include "cvq_asq.h"

#define ASQ_SMALL_ROWS CVQ_ASQ_SMALL_ROWS
#define ASQ_SMALL_COLUMNS CVQ_ASQ_SMALL_COLUMNS
/// Windows shorter than this are scanned scalar at every level.
#define ASQ_VECTOR_MINIMUM 16

typedef struct {
  const double *shifted, *y, *b, *e;
  const uint32_t *lower;
  uint32_t *argmins;
  double *out;
  int shift_out;
} asq_layer;

typedef struct {
  double value;
  size_t column;
} asq_minimum;

static inline __attribute__((always_inline)) asq_minimum asq_scan_scalar(const asq_layer *L, size_t j, size_t first,
                                                                         size_t last) {
  const double aj = -L->b[j], yj = L->y[j];
  const double *s = L->shifted, *y = L->y, *b = L->b;
  double best = (s[first] + y[first] * aj) + yj * b[first];
  size_t arg = first;
  for (size_t k = first + 1; k <= last; k++) {
    double v = (s[k] + y[k] * aj) + yj * b[k];
    if (v < best) {
      best = v;
      arg = k;
    }
  }
  asq_minimum m = {best, arg};
  return m;
}

static inline __attribute__((always_inline)) void asq_store(const asq_layer *L, size_t j, asq_minimum m) {
  L->argmins[j] = (uint32_t)m.column;
  double d = m.value + -L->e[j];
  L->out[j] = L->shift_out ? d + L->e[j] : d;
}

/// The divide-and-conquer search, stamped out per level with its row scan.
#define ASQ_SOLVER(SUFFIX, ATTR, SCAN)                                                                          \
  ATTR static void asq_solve_##SUFFIX(const asq_layer *L, size_t rowLow, size_t rowHigh, size_t columnLow,       \
                                      size_t columnHigh) {                                                       \
    /* The lower half is a loop (tail call), the upper half recursion: depth ≤ log2(n). */                      \
    while (rowLow <= rowHigh) {                                                                                  \
      if (rowHigh - rowLow < ASQ_SMALL_ROWS && columnHigh - columnLow < ASQ_SMALL_COLUMNS) {                     \
        size_t start = columnLow;                                                                                \
        for (size_t row = rowLow; row <= rowHigh; row++) {                                                       \
          size_t first = start;                                                                                  \
          if (L->lower && L->lower[row] > first) first = L->lower[row];                                          \
          size_t last = columnHigh < row ? columnHigh : row;                                                     \
          asq_minimum m = SCAN(L, row, first < last ? first : last, last);                                       \
          asq_store(L, row, m);                                                                                  \
          start = m.column;                                                                                      \
        }                                                                                                        \
        return;                                                                                                  \
      }                                                                                                          \
      size_t mid = (rowLow + rowHigh) >> 1;                                                                      \
      size_t last = columnHigh < mid ? columnHigh : mid;                                                         \
      size_t first = columnLow;                                                                                  \
      if (L->lower && L->lower[mid] > first) first = L->lower[mid];                                              \
      asq_minimum m = SCAN(L, mid, first < last ? first : last, last);                                           \
      asq_store(L, mid, m);                                                                                      \
      if (rowLow < mid) asq_solve_##SUFFIX(L, rowLow, mid - 1, columnLow, m.column);                             \
      rowLow = mid + 1;                                                                                          \
      columnLow = m.column;                                                                                      \
    }                                                                                                            \
  }

ASQ_SOLVER(portable, CVQ_TARGET_PORTABLE, asq_scan_scalar)

#if CVQ_X86
/// Four columns per register, two registers per step (columns k…k+3 and k+4…k+7): per lane a strict `<`
/// keeps the lane's leftmost minimum; column numbers ride along as doubles (exact below 2^53). Lanes start
/// at the first cell, so a row whose cells are all NaN returns that cell as the scalar scan does.
CVQ_TARGET_AVX2 static inline __attribute__((always_inline)) asq_minimum asq_scan_avx2(const asq_layer *L, size_t j,
                                                                                       size_t first, size_t last) {
  if (last - first + 1 < ASQ_VECTOR_MINIMUM) return asq_scan_scalar(L, j, first, last);
  const double aj = -L->b[j], yj = L->y[j];
  const double *s = L->shifted, *y = L->y, *b = L->b;
  const __m256d vaj = _mm256_set1_pd(aj), vyj = _mm256_set1_pd(yj);
  const double firstValue = (s[first] + y[first] * aj) + yj * b[first];
  __m256d best0 = _mm256_set1_pd(firstValue), best1 = best0;
  __m256d column0 = _mm256_set1_pd((double)first), column1 = column0;
  __m256d k0 = _mm256_setr_pd((double)first, (double)(first + 1), (double)(first + 2), (double)(first + 3));
  const __m256d four = _mm256_set1_pd(4.0), eight = _mm256_set1_pd(8.0);
  __m256d k1 = _mm256_add_pd(k0, four);
  size_t k = first;
  for (; k + 8 <= last + 1; k += 8) {
    __m256d v0 = _mm256_add_pd(_mm256_add_pd(_mm256_loadu_pd(s + k), _mm256_mul_pd(_mm256_loadu_pd(y + k), vaj)),
                               _mm256_mul_pd(vyj, _mm256_loadu_pd(b + k)));
    __m256d v1 =
        _mm256_add_pd(_mm256_add_pd(_mm256_loadu_pd(s + k + 4), _mm256_mul_pd(_mm256_loadu_pd(y + k + 4), vaj)),
                      _mm256_mul_pd(vyj, _mm256_loadu_pd(b + k + 4)));
    __m256d better0 = _mm256_cmp_pd(v0, best0, _CMP_LT_OQ), better1 = _mm256_cmp_pd(v1, best1, _CMP_LT_OQ);
    best0 = _mm256_blendv_pd(best0, v0, better0);
    column0 = _mm256_blendv_pd(column0, k0, better0);
    best1 = _mm256_blendv_pd(best1, v1, better1);
    column1 = _mm256_blendv_pd(column1, k1, better1);
    k0 = _mm256_add_pd(k0, eight);
    k1 = _mm256_add_pd(k1, eight);
  }
  double values[8], columns[8];
  _mm256_storeu_pd(values, best0);
  _mm256_storeu_pd(values + 4, best1);
  _mm256_storeu_pd(columns, column0);
  _mm256_storeu_pd(columns + 4, column1);
  double best = values[0];
  size_t arg = (size_t)columns[0];
  for (int lane = 1; lane < 8; lane++) {
    size_t c = (size_t)columns[lane];
    if (values[lane] < best || (values[lane] == best && c < arg)) {
      best = values[lane];
      arg = c;
    }
  }
  for (; k <= last; k++) {
    double v = (s[k] + y[k] * aj) + yj * b[k];
    if (v < best) {
      best = v;
      arg = k;
    }
  }
  asq_minimum m = {best, arg};
  return m;
}

ASQ_SOLVER(avx2, CVQ_TARGET_AVX2, asq_scan_avx2)
#endif

void cvq_asq_layer(const double *shifted, const double *y, const double *b, const double *e, size_t n,
                   const uint32_t *lower, uint32_t *argmins, double *out, int shift_out) {
  if (n == 0) return;
  asq_layer L = {shifted, y, b, e, lower, argmins, out, shift_out};
#if CVQ_X86
  if (cvq_kernel_level() >= CVQ_LEVEL_AVX2) {
    asq_solve_avx2(&L, 0, n - 1, 0, n - 1);
    return;
  }
#endif
  asq_solve_portable(&L, 0, n - 1, 0, n - 1);
}
