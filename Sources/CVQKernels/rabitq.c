// RaBitQ kernels (see cvq_rabitq.h). Each kernel is one `static inline` body, instantiated three
// times: portable, AVX2 (+FMA, BMI2, POPCNT) and AVX-512 (F/BW/VL/DQ + VPOPCNTDQ), the latter two
// through `__attribute__((target(...)))`, so the compiler vectorizes the same source for each ISA.
// The results do not depend on the level: the inner products are integer sums, and the double sums
// keep 8 fixed lanes (coordinate i in lane i mod 8) that vectorization preserves. No FMA contraction.
#pragma clang fp contract(off)

#include "cvq_rabitq.h"
#include "cvq_kernels.h"

#include <math.h>
#include <string.h>

#define CVQ_BODY static inline __attribute__((always_inline))

#if defined(__x86_64__) || defined(__i386__)
#define CVQ_X86 1
#define CVQ_TARGET_AVX2 __attribute__((target("avx2,fma,bmi2,popcnt")))
#define CVQ_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vpopcntdq,avx2,fma,bmi2,popcnt")))
#include <immintrin.h>
#else
#define CVQ_X86 0
#endif

CVQ_BODY uint64_t cvq_load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/// The `n` (< 8, may be 0) bytes at `p` as the low bytes of a zero-extended word.
CVQ_BODY uint64_t cvq_load_partial(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

CVQ_BODY double cvq_combine8(const double lane[8]) {
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

// MARK: - Sign plane × query bit planes

CVQ_BODY void sign_dot_body(const uint8_t *codes, size_t stride, size_t count, size_t bytes,
                            const uint8_t *planes, int planeCount, int64_t *dot, int64_t *pop) {
  const size_t words = bytes / 8, rest = bytes % 8;
  for (size_t k = 0; k < count; k++) {
    const uint8_t *c = codes + k * stride;
    const uint64_t tail = cvq_load_partial(c + 8 * words, rest);
    uint64_t ones = (uint64_t)__builtin_popcountll(tail);
    for (size_t w = 0; w < words; w++) ones += (uint64_t)__builtin_popcountll(cvq_load64(c + 8 * w));
    int64_t sum = 0;
    for (int j = 0; j < planeCount; j++) {
      const uint8_t *q = planes + (size_t)j * bytes;
      uint64_t s = (uint64_t)__builtin_popcountll(tail & cvq_load_partial(q + 8 * words, rest));
      for (size_t w = 0; w < words; w++)
        s += (uint64_t)__builtin_popcountll(cvq_load64(c + 8 * w) & cvq_load64(q + 8 * w));
      sum += (int64_t)(s << j);
    }
    dot[k] = sum;
    pop[k] = (int64_t)ones;
  }
}

// MARK: - Extended code × integer query

/// Field l (0…7) of a group of 8 `bits`-bit fields packed LSB first in `w`.
CVQ_BODY uint32_t cvq_field(uint64_t w, int l, int bits) {
  return (uint32_t)((w >> (l * bits)) & ((1u << bits) - 1));
}

CVQ_BODY void ex_dot_body(const uint8_t *codes, size_t stride, size_t offset, size_t count, size_t dim,
                          const int bits, const uint16_t *query, int64_t *dot, int64_t *sum) {
  const size_t groups = dim / 8, exBytes = (dim * (size_t)bits + 7) / 8;
  // Groups whose 8-byte load stays inside this code's ex plane.
  size_t fast = groups;
  while (fast > 0 && (fast - 1) * (size_t)bits + 8 > exBytes) fast--;
  for (size_t k = 0; k < count; k++) {
    const uint8_t *e = codes + k * stride + offset;
    int64_t d = 0, s = 0;
    for (size_t g = 0; g < fast; g++) {
      const uint64_t w = cvq_load64(e + g * (size_t)bits);
      const uint16_t *q = query + 8 * g;
      for (int l = 0; l < 8; l++) {
        const uint32_t v = cvq_field(w, l, bits);
        d += (int64_t)(v * (uint32_t)q[l]);
        s += v;
      }
    }
    for (size_t g = fast; g < groups; g++) {
      const uint64_t w = cvq_load_partial(e + g * (size_t)bits, (size_t)bits);
      const uint16_t *q = query + 8 * g;
      for (int l = 0; l < 8; l++) {
        const uint32_t v = cvq_field(w, l, bits);
        d += (int64_t)(v * (uint32_t)q[l]);
        s += v;
      }
    }
    const size_t left = dim - 8 * groups;
    if (left > 0) {
      const uint64_t w = cvq_load_partial(e + groups * (size_t)bits, exBytes - groups * (size_t)bits);
      const uint16_t *q = query + 8 * groups;
      for (size_t l = 0; l < left; l++) {
        const uint32_t v = cvq_field(w, (int)l, bits);
        d += (int64_t)(v * (uint32_t)q[l]);
        s += v;
      }
    }
    dot[k] = d;
    sum[k] = s;
  }
}

/// `ex_dot_body` with `bits` a compile-time constant in every case, so each width gets its own code.
CVQ_BODY void ex_dot_switch(const uint8_t *codes, size_t stride, size_t offset, size_t count, size_t dim,
                            int bits, const uint16_t *query, int64_t *dot, int64_t *sum) {
  switch (bits) {
  case 1: ex_dot_body(codes, stride, offset, count, dim, 1, query, dot, sum); break;
  case 2: ex_dot_body(codes, stride, offset, count, dim, 2, query, dot, sum); break;
  case 3: ex_dot_body(codes, stride, offset, count, dim, 3, query, dot, sum); break;
  case 4: ex_dot_body(codes, stride, offset, count, dim, 4, query, dot, sum); break;
  case 5: ex_dot_body(codes, stride, offset, count, dim, 5, query, dot, sum); break;
  case 6: ex_dot_body(codes, stride, offset, count, dim, 6, query, dot, sum); break;
  case 7: ex_dot_body(codes, stride, offset, count, dim, 7, query, dot, sum); break;
  default: ex_dot_body(codes, stride, offset, count, dim, 8, query, dot, sum); break;
  }
}

// MARK: - Encoder passes

CVQ_BODY float magnitudes_body(const float *x, size_t n, float *a, int32_t *A) {
  // Non-negative floats order like their bit patterns: an integer max, exact in any lane order.
  uint32_t largest = 0;
  for (size_t i = 0; i < n; i++) {
    const float m = fabsf(x[i]);
    a[i] = m;
    uint32_t b;
    memcpy(&b, &m, 4);
    largest = b > largest ? b : largest;
  }
  float amax;
  memcpy(&amax, &largest, 4);
  if (amax == 0.0f) {
    for (size_t i = 0; i < n; i++) A[i] = 0;
    return 0.0f;
  }
  const double scale = 4194304.0 / (double)amax;
  for (size_t i = 0; i < n; i++) A[i] = (int32_t)((double)a[i] * scale);
  return amax;
}

CVQ_BODY int32_t cvq_level_of(float t, float a, float Kf) {
  float p = t * a;
  if (p > Kf) p = Kf;
  return (int32_t)p;
}

CVQ_BODY void rescale_eval_body(const float *a, const int32_t *A, size_t n, float t, int32_t K, int64_t out[3]) {
  const float Kf = (float)K;
  int64_t N = 0, S = 0, C = 0;
  for (size_t i = 0; i < n; i++) {
    const int32_t k = cvq_level_of(t, a[i], Kf);
    const int32_t m = 2 * k + 1;
    N += (int64_t)m * (int64_t)A[i];
    S += (int64_t)(m * m);
    C += k;
  }
  out[0] = N;
  out[1] = S;
  out[2] = C;
}

CVQ_BODY size_t changed_body(const float *a, size_t n, float ta, float tb, int32_t K, int32_t *index, size_t capacity) {
  const float Kf = (float)K;
  size_t c = 0;
  for (size_t i = 0; i < n; i++) {
    if (cvq_level_of(ta, a[i], Kf) != cvq_level_of(tb, a[i], Kf)) {
      if (c < capacity) index[c] = (int32_t)i;
      c++;
    }
  }
  return c;
}

CVQ_BODY void quantize_body(const float *x, size_t n, float t, int exBits, uint8_t *signs, uint8_t *ex, double out[4]) {
  const int32_t K = (1 << exBits) - 1;
  const float Kf = (float)K;
  double ip[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sq[8] = {0, 0, 0, 0, 0, 0, 0, 0}, ab[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t squares = 0;
  uint64_t pending = 0;
  int filled = 0;
  size_t position = 0;
  uint32_t signByte = 0;
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    const float m = fabsf(v);
    const int32_t k = cvq_level_of(t, m, Kf);
    const uint32_t s = v > 0.0f ? 1u : 0u;
    signByte |= s << (i & 7);
    if ((i & 7) == 7) {
      signs[i >> 3] = (uint8_t)signByte;
      signByte = 0;
    }
    const double dm = (double)m;
    ip[i & 7] += ((double)k + 0.5) * dm;
    sq[i & 7] += (double)v * (double)v;
    ab[i & 7] += dm;
    squares += (int64_t)(2 * k + 1) * (int64_t)(2 * k + 1);
    if (exBits > 0) {
      const uint32_t e = s ? (uint32_t)k : (uint32_t)(K - k);
      pending |= (uint64_t)e << filled;
      filled += exBits;
      while (filled >= 8) {
        ex[position++] = (uint8_t)pending;
        pending >>= 8;
        filled -= 8;
      }
    }
  }
  if (n & 7) signs[n >> 3] = (uint8_t)signByte;
  if (exBits > 0 && filled > 0) ex[position] = (uint8_t)pending;
  out[0] = cvq_combine8(ip);
  out[1] = (double)squares / 4.0;
  out[2] = cvq_combine8(sq);
  out[3] = cvq_combine8(ab);
}

// MARK: - Instantiation per level and dispatch

#define CVQ_INSTANTIATE(SUFFIX, ATTR)                                                                   \
  ATTR static void sign_dot_##SUFFIX(const uint8_t *codes, size_t stride, size_t count, size_t bytes,  \
                                     const uint8_t *planes, int planeCount, int64_t *dot, int64_t *pop) { \
    sign_dot_body(codes, stride, count, bytes, planes, planeCount, dot, pop);                           \
  }                                                                                                     \
  ATTR static void ex_dot_##SUFFIX(const uint8_t *codes, size_t stride, size_t offset, size_t count,     \
                                   size_t dim, int bits, const uint16_t *query, int64_t *dot,           \
                                   int64_t *sum) {                                                      \
    ex_dot_switch(codes, stride, offset, count, dim, bits, query, dot, sum);                            \
  }                                                                                                     \
  ATTR static float magnitudes_##SUFFIX(const float *x, size_t n, float *a, int32_t *A) {               \
    return magnitudes_body(x, n, a, A);                                                                 \
  }                                                                                                     \
  ATTR static void rescale_eval_##SUFFIX(const float *a, const int32_t *A, size_t n, float t, int32_t K,  \
                                         int64_t out[3]) {                                              \
    rescale_eval_body(a, A, n, t, K, out);                                                              \
  }                                                                                                     \
  ATTR static size_t changed_##SUFFIX(const float *a, size_t n, float ta, float tb, int32_t K,            \
                                      int32_t *index, size_t capacity) {                                \
    return changed_body(a, n, ta, tb, K, index, capacity);                                              \
  }                                                                                                     \
  ATTR static void quantize_##SUFFIX(const float *x, size_t n, float t, int exBits, uint8_t *signs,       \
                                     uint8_t *ex, double out[4]) {                                      \
    quantize_body(x, n, t, exBits, signs, ex, out);                                                     \
  }

CVQ_INSTANTIATE(portable, )
#if CVQ_X86
CVQ_INSTANTIATE(avx2, CVQ_TARGET_AVX2)
CVQ_INSTANTIATE(avx512, CVQ_TARGET_AVX512)
#define CVQ_DISPATCH(NAME, ...)                                     \
  switch (cvq_kernel_level()) {                                     \
  case CVQ_LEVEL_AVX512: return NAME##_avx512(__VA_ARGS__);         \
  case CVQ_LEVEL_AVX2: return NAME##_avx2(__VA_ARGS__);             \
  default: return NAME##_portable(__VA_ARGS__);                     \
  }
#define CVQ_DISPATCH_VOID(NAME, ...)                                \
  switch (cvq_kernel_level()) {                                     \
  case CVQ_LEVEL_AVX512: NAME##_avx512(__VA_ARGS__); return;        \
  case CVQ_LEVEL_AVX2: NAME##_avx2(__VA_ARGS__); return;            \
  default: NAME##_portable(__VA_ARGS__); return;                    \
  }
#else
#define CVQ_DISPATCH(NAME, ...) return NAME##_portable(__VA_ARGS__);
#define CVQ_DISPATCH_VOID(NAME, ...) NAME##_portable(__VA_ARGS__);
#endif

void cvq_rabitq_sign_dot(const uint8_t *codes, size_t stride, size_t count, size_t bytes,
                         const uint8_t *planes, int planeCount, int64_t *dot, int64_t *pop) {
  CVQ_DISPATCH_VOID(sign_dot, codes, stride, count, bytes, planes, planeCount, dot, pop)
}

void cvq_rabitq_ex_dot(const uint8_t *codes, size_t stride, size_t offset, size_t count, size_t dim,
                       int bits, const uint16_t *query, int64_t *dot, int64_t *sum) {
  CVQ_DISPATCH_VOID(ex_dot, codes, stride, offset, count, dim, bits, query, dot, sum)
}

float cvq_rabitq_magnitudes(const float *x, size_t n, float *a, int32_t *A) {
  CVQ_DISPATCH(magnitudes, x, n, a, A)
}

void cvq_rabitq_rescale_eval(const float *a, const int32_t *A, size_t n, float t, int32_t K, int64_t out[3]) {
  CVQ_DISPATCH_VOID(rescale_eval, a, A, n, t, K, out)
}

size_t cvq_rabitq_changed(const float *a, size_t n, float ta, float tb, int32_t K, int32_t *index, size_t capacity) {
  CVQ_DISPATCH(changed, a, n, ta, tb, K, index, capacity)
}

void cvq_rabitq_quantize(const float *x, size_t n, float t, int exBits, uint8_t *signs, uint8_t *ex,
                         double out[4]) {
  CVQ_DISPATCH_VOID(quantize, x, n, t, exBits, signs, ex, out)
}
