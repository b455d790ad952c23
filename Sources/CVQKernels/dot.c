// Dot products of one vector with many rows (see cvq_dot.h), at every level, and their dispatch.
//
// Every level computes the 16 lane sums of the specification with fused multiply-adds in order of j and
// reduces them by the same tree, so the results are identical: the AVX2 and AVX-512 levels keep lanes
// 0…7 and 8…15 in two 8-float registers per row (four rows per pass share the loads of x); the portable
// level runs the same lanes with `fmaf` (one instruction on ARM and on x86 with FMA; a library call on
// older x86, where only a forced VQ_KERNEL_LEVEL=portable lands).
#include "kernel_levels.h"
#include "cvq_dot.h"
#include "cvq_kernels.h"
#include <math.h>

/// The 16 lane sums of one row from j = `start` on (lane j mod 16), then the tree.
static inline __attribute__((always_inline)) float cvq_dot_finish(float s[16], const float *x, const float *row,
                                                                  size_t start, size_t d) {
  for (size_t j = start; j < d; j++) s[j & 15] = fmaf(x[j], row[j], s[j & 15]);
  for (int w = 8; w >= 1; w /= 2)
    for (int l = 0; l < w; l++) s[l] = s[l] + s[l + w];
  return s[0];
}

static void dot_rows_portable(const float *x, const float *rows, size_t count, size_t d, float *out) {
  for (size_t c = 0; c < count; c++) {
    float s[16] = {0};
    out[c] = cvq_dot_finish(s, x, rows + c * d, 0, d);
  }
}

#if CVQ_X86
#define CVQ_DOT_BODY static inline __attribute__((always_inline, target("avx2,fma")))

/// Rows [first, first + R) (R ≤ 4): lanes 0…7 and 8…15 of each row in two registers, whole steps of 16.
CVQ_DOT_BODY void cvq_dot_block_avx2(const float *x, const float *rows, size_t first, const int R, size_t d,
                                     float *out) {
  __m256 lo[4], hi[4];
  for (int r = 0; r < R; r++) lo[r] = hi[r] = _mm256_setzero_ps();
  const size_t whole = d & ~(size_t)15;
  for (size_t j = 0; j < whole; j += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
    for (int r = 0; r < R; r++) {
      const float *row = rows + (first + (size_t)r) * d + j;
      lo[r] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(row), lo[r]);
      hi[r] = _mm256_fmadd_ps(x1, _mm256_loadu_ps(row + 8), hi[r]);
    }
  }
  for (int r = 0; r < R; r++) {
    float s[16];
    _mm256_storeu_ps(s, lo[r]);
    _mm256_storeu_ps(s + 8, hi[r]);
    out[first + (size_t)r] = cvq_dot_finish(s, x, rows + (first + (size_t)r) * d, whole, d);
  }
}

CVQ_DOT_BODY void cvq_dot_rows_avx2_body(const float *x, const float *rows, size_t count, size_t d, float *out) {
  size_t c = 0;
  for (; c + 4 <= count; c += 4) cvq_dot_block_avx2(x, rows, c, 4, d, out);
  for (; c < count; c++) cvq_dot_block_avx2(x, rows, c, 1, d, out);
}

__attribute__((target("avx2,fma"))) static void dot_rows_avx2(const float *x, const float *rows, size_t count,
                                                              size_t d, float *out) {
  cvq_dot_rows_avx2_body(x, rows, count, d, out);
}

CVQ_TARGET_AVX512 static void dot_rows_avx512(const float *x, const float *rows, size_t count, size_t d, float *out) {
  cvq_dot_rows_avx2_body(x, rows, count, d, out);
}
#endif

void cvq_dot_rows(const float *x, const float *rows, size_t count, size_t d, float *out) {
#if CVQ_X86
  switch (cvq_kernel_level()) {
  case CVQ_LEVEL_AVX512: dot_rows_avx512(x, rows, count, d, out); return;
  case CVQ_LEVEL_AVX2: dot_rows_avx2(x, rows, count, d, out); return;
  default: break;
  }
#endif
  dot_rows_portable(x, rows, count, d, out);
}

void cvq_prefetch_rows(const void *base, size_t stride, const long *rows, size_t count, size_t bytes) {
  const char *start = (const char *)base;
  for (size_t i = 0; i < count; i++) {
    const char *row = start + (size_t)rows[i] * stride;
    for (size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(row + offset, 0, 2);
  }
}
