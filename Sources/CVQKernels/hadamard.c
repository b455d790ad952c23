// Randomized Hadamard forward and inverse at every level, and their dispatch (see hadamard_body.h).
#include "kernel_levels.h"
#include "cvq_kernels.h"
#include <stdlib.h>

/// cvq_sign_masks[b][k] = bit k of b moved to the sign bit: one load turns 8 sign bits into an XOR mask.
#define CVQ_M(b, k) ((((b) >> (k)) & 1u) << 31)
#define CVQ_ROW(b) {CVQ_M(b, 0), CVQ_M(b, 1), CVQ_M(b, 2), CVQ_M(b, 3), CVQ_M(b, 4), CVQ_M(b, 5), CVQ_M(b, 6), CVQ_M(b, 7)}
#define CVQ_R4(b) CVQ_ROW(b), CVQ_ROW(b + 1), CVQ_ROW(b + 2), CVQ_ROW(b + 3)
#define CVQ_R16(b) CVQ_R4(b), CVQ_R4(b + 4), CVQ_R4(b + 8), CVQ_R4(b + 12)
#define CVQ_R64(b) CVQ_R16(b), CVQ_R16(b + 16), CVQ_R16(b + 32), CVQ_R16(b + 48)
_Alignas(32) static const uint32_t cvq_sign_masks[256][8] = {CVQ_R64(0u), CVQ_R64(64u), CVQ_R64(128u), CVQ_R64(192u)};
#undef CVQ_M
#undef CVQ_ROW
#undef CVQ_R4
#undef CVQ_R16
#undef CVQ_R64

#define CVQ_LEVEL portable
#define CVQ_TARGET CVQ_TARGET_PORTABLE
#define CVQ_AVX2_INTRINSICS 0
#define CVQ_WIDE 8
#include "hadamard_body.h"
#undef CVQ_LEVEL
#undef CVQ_TARGET
#undef CVQ_AVX2_INTRINSICS
#undef CVQ_WIDE

#if CVQ_X86
#define CVQ_LEVEL avx2
#define CVQ_TARGET CVQ_TARGET_AVX2
#define CVQ_AVX2_INTRINSICS 1
#define CVQ_WIDE 8
#include "hadamard_body.h"
#undef CVQ_LEVEL
#undef CVQ_TARGET
#undef CVQ_AVX2_INTRINSICS
#undef CVQ_WIDE

// AVX-512: the same AVX2 in-register stages (ymm), the wide passes on 16-lane vectors (zmm).
#define CVQ_LEVEL avx512
#define CVQ_TARGET CVQ_TARGET_AVX512
#define CVQ_AVX2_INTRINSICS 1
#define CVQ_WIDE 16
#include "hadamard_body.h"
#undef CVQ_LEVEL
#undef CVQ_TARGET
#undef CVQ_AVX2_INTRINSICS
#undef CVQ_WIDE
#endif

void cvq_rht_forward(const float *x, size_t input_count, float *y, size_t rows, size_t p,
                     const uint64_t *signs, size_t rounds, float scale) {
#if CVQ_X86
  switch (cvq_kernel_level()) {
  case CVQ_LEVEL_AVX512: cvq_rht_forward_avx512(x, input_count, y, rows, p, signs, rounds, scale); return;
  case CVQ_LEVEL_AVX2: cvq_rht_forward_avx2(x, input_count, y, rows, p, signs, rounds, scale); return;
  default: break;
  }
#endif
  cvq_rht_forward_portable(x, input_count, y, rows, p, signs, rounds, scale);
}

static void cvq_rht_inverse_level(const float *y, float *x, size_t output_count, size_t rows, size_t p,
                                  const uint64_t *signs, size_t rounds, float scale, float *work) {
#if CVQ_X86
  switch (cvq_kernel_level()) {
  case CVQ_LEVEL_AVX512: cvq_rht_inverse_avx512(y, x, output_count, rows, p, signs, rounds, scale, work); return;
  case CVQ_LEVEL_AVX2: cvq_rht_inverse_avx2(y, x, output_count, rows, p, signs, rounds, scale, work); return;
  default: break;
  }
#endif
  cvq_rht_inverse_portable(y, x, output_count, rows, p, signs, rounds, scale, work);
}

/// Scratch for the inverse when the caller gives none and the output is shorter than n (64 KB of stack).
enum { CVQ_STACK_WORK = 16384 };

__attribute__((noinline))
static void cvq_rht_inverse_stack(const float *y, float *x, size_t output_count, size_t rows, size_t p,
                                  const uint64_t *signs, size_t rounds, float scale) {
  float work[CVQ_STACK_WORK];
  cvq_rht_inverse_level(y, x, output_count, rows, p, signs, rounds, scale, work);
}

void cvq_rht_inverse(const float *y, float *x, size_t output_count, size_t rows, size_t p,
                     const uint64_t *signs, size_t rounds, float scale, float *work) {
  size_t n = rows * p;
  if (work != NULL || output_count >= n) {
    cvq_rht_inverse_level(y, x, output_count, rows, p, signs, rounds, scale, work != NULL ? work : x);
  } else if (n <= CVQ_STACK_WORK) {
    cvq_rht_inverse_stack(y, x, output_count, rows, p, signs, rounds, scale);
  } else {
    float *heap = (float *)malloc(n * sizeof(float));
    if (heap == NULL) abort();   // out of memory: nothing sensible to return
    cvq_rht_inverse_level(y, x, output_count, rows, p, signs, rounds, scale, heap);
    free(heap);
  }
}
