// Scalar quantize + pack kernels at every level, and their dispatch (see pack_body.h).
#include "kernel_levels.h"
#include "cvq_kernels.h"

/// Codes per chunk: a multiple of 32 (and so of 8), small enough for the stack.
#define CVQ_CHUNK 256

#define CVQ_LEVEL portable
#define CVQ_TARGET CVQ_TARGET_PORTABLE
#define CVQ_WIDE 8
#include "pack_body.h"
#undef CVQ_LEVEL
#undef CVQ_TARGET
#undef CVQ_WIDE

#if CVQ_X86
#define CVQ_LEVEL avx2
#define CVQ_TARGET CVQ_TARGET_AVX2
#define CVQ_WIDE 8
#include "pack_body.h"
#undef CVQ_LEVEL
#undef CVQ_TARGET
#undef CVQ_WIDE

#define CVQ_LEVEL avx512
#define CVQ_TARGET CVQ_TARGET_AVX512
#define CVQ_WIDE 16
#include "pack_body.h"
#undef CVQ_LEVEL
#undef CVQ_TARGET
#undef CVQ_WIDE
#define CVQ_DISPATCH(call, ...)                                      \
  switch (cvq_kernel_level()) {                                      \
  case CVQ_LEVEL_AVX512: return call##_avx512(__VA_ARGS__);          \
  case CVQ_LEVEL_AVX2: return call##_avx2(__VA_ARGS__);              \
  default: return call##_portable(__VA_ARGS__);                      \
  }
#else
#define CVQ_DISPATCH(call, ...) return call##_portable(__VA_ARGS__);
#endif

void cvq_quantize_uniform_pack(const float *x, size_t n, float scale, float offset, uint32_t max_index, int bits,
                               uint8_t *out) {
  CVQ_DISPATCH(cvq_quantize_uniform_pack, x, n, scale, offset, max_index, bits, out)
}

void cvq_quantize_thresholds_pack(const float *x, size_t n, float scale, const float *thresholds,
                                  size_t threshold_count, int bits, uint8_t *out) {
  CVQ_DISPATCH(cvq_quantize_thresholds_pack, x, n, scale, thresholds, threshold_count, bits, out)
}

void cvq_unpack_dequantize(const uint8_t *codes, size_t n, int bits, const float *table, float scale, float *y) {
  CVQ_DISPATCH(cvq_unpack_dequantize, codes, n, bits, table, scale, y)
}

float cvq_unpack_dot(const uint8_t *codes, size_t n, int bits, const float *table, const float *q) {
  CVQ_DISPATCH(cvq_unpack_dot, codes, n, bits, table, q)
}
