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
  // Blocks of 2048: Σ(2k+1)² ≤ 2048·511² and Σk fit 32-bit lanes within a block; (2k+1)·A_i < 2^31.
  for (size_t start = 0; start < n; start += 2048) {
    const size_t end = n - start < 2048 ? n : start + 2048;
    int32_t squares = 0, levels = 0;
    for (size_t i = start; i < end; i++) {
      const int32_t k = cvq_level_of(t, a[i], Kf);
      const int32_t m = 2 * k + 1;
      N += (int64_t)(m * A[i]);
      squares += m * m;
      levels += k;
    }
    S += squares;
    C += levels;
  }
  out[0] = N;
  out[1] = S;
  out[2] = C;
}

/// Appends the events of coordinate i (levels from+1 … to).
CVQ_BODY size_t cvq_emit(const float *a, const int32_t *A, size_t i, float ta, float tb, float Kf,
                         cvq_rabitq_event *events, size_t c, size_t capacity) {
  const int32_t from = cvq_level_of(ta, a[i], Kf), to = cvq_level_of(tb, a[i], Kf);
  for (int32_t m = from + 1; m <= to; m++) {
    if (c < capacity) {
      events[c].t = (float)m / a[i];
      events[c].numerator = 2 * A[i];
      events[c].squares = 8 * m;
    }
    c++;
  }
  return c;
}

CVQ_BODY size_t events_body(const float *a, const int32_t *A, size_t n, float ta, float tb, int32_t K,
                            cvq_rabitq_event *events, size_t capacity) {
  const float Kf = (float)K;
  size_t c = 0;
  for (size_t i = 0; i < n; i++) {
    if (cvq_level_of(ta, a[i], Kf) != cvq_level_of(tb, a[i], Kf)) c = cvq_emit(a, A, i, ta, tb, Kf, events, c, capacity);
  }
  return c;
}

#if CVQ_X86
/// The same, with the level comparison of 8 coordinates as one vector compare and a mask (few
/// coordinates change, so the scalar loop above spends its time on the tests).
__attribute__((target("avx2,fma,bmi2,popcnt"))) CVQ_BODY size_t events_body_avx2(
    const float *a, const int32_t *A, size_t n, float ta, float tb, int32_t K, cvq_rabitq_event *events,
    size_t capacity) {
  const float Kf = (float)K;
  const __m256 vta = _mm256_set1_ps(ta), vtb = _mm256_set1_ps(tb), vK = _mm256_set1_ps(Kf);
  size_t c = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(a + i);
    // min(p, K) as `p > K ? K : p`: p is never NaN, so minps with K second picks the same value.
    const __m256i la = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_mul_ps(vta, x), vK));
    const __m256i lb = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_mul_ps(vtb, x), vK));
    unsigned mask = ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(la, lb))) & 0xFFu;
    while (mask != 0) {
      const unsigned l = (unsigned)__builtin_ctz(mask);
      mask &= mask - 1;
      c = cvq_emit(a, A, i + l, ta, tb, Kf, events, c, capacity);
    }
  }
  for (; i < n; i++) {
    if (cvq_level_of(ta, a[i], Kf) != cvq_level_of(tb, a[i], Kf)) c = cvq_emit(a, A, i, ta, tb, Kf, events, c, capacity);
  }
  return c;
}
#endif

/// Packs 8 fields of `bits` bits (values < 2^bits) LSB first into `bits` bytes.
CVQ_BODY void cvq_pack8(const uint8_t *v, int bits, uint8_t *out) {
  uint64_t w = 0;
  for (int l = 0; l < 8; l++) w |= (uint64_t)v[l] << (l * bits);
  for (int b = 0; b < bits; b++) out[b] = (uint8_t)(w >> (8 * b));
}

CVQ_BODY void quantize_body(const float *x, size_t n, float t, const int exBits, uint8_t *signs, uint8_t *ex,
                            double out[4]) {
  const int32_t K = (1 << exBits) - 1;
  const float Kf = (float)K;
  double ip[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sq[8] = {0, 0, 0, 0, 0, 0, 0, 0}, ab[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t squares = 0;
  size_t i = 0;
  // Blocks of 8 coordinates: lane l of every sum takes coordinate i + l; one sign byte and (with
  // extended bits) exBits ex bytes per block.
  for (; i + 8 <= n; i += 8) {
    uint8_t e[8];
    uint32_t signByte = 0;
    int32_t blockSquares = 0;
    for (int l = 0; l < 8; l++) {
      const float v = x[i + l];
      const float m = fabsf(v);
      const int32_t k = cvq_level_of(t, m, Kf);
      const uint32_t s = v > 0.0f ? 1u : 0u;
      signByte |= s << l;
      const double dm = (double)m;
      ip[l] += ((double)k + 0.5) * dm;
      sq[l] += (double)v * (double)v;
      ab[l] += dm;
      blockSquares += (2 * k + 1) * (2 * k + 1);
      e[l] = (uint8_t)(s ? k : K - k);
    }
    squares += blockSquares;
    signs[i >> 3] = (uint8_t)signByte;
    if (exBits > 0) cvq_pack8(e, exBits, ex + (i >> 3) * (size_t)exBits);
  }
  if (i < n) {
    uint8_t e[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    uint32_t signByte = 0;
    for (int l = 0; i + (size_t)l < n; l++) {
      const float v = x[i + l];
      const float m = fabsf(v);
      const int32_t k = cvq_level_of(t, m, Kf);
      const uint32_t s = v > 0.0f ? 1u : 0u;
      signByte |= s << l;
      const double dm = (double)m;
      ip[l] += ((double)k + 0.5) * dm;
      sq[l] += (double)v * (double)v;
      ab[l] += dm;
      squares += (int64_t)(2 * k + 1) * (2 * k + 1);
      e[l] = (uint8_t)(s ? k : K - k);
    }
    signs[i >> 3] = (uint8_t)signByte;
    if (exBits > 0) {
      uint8_t packed[8];
      cvq_pack8(e, exBits, packed);
      const size_t bytes = ((n - i) * (size_t)exBits + 7) / 8;
      for (size_t b = 0; b < bytes; b++) ex[(i >> 3) * (size_t)exBits + b] = packed[b];
    }
  }
  out[0] = cvq_combine8(ip);
  out[1] = (double)squares / 4.0;
  out[2] = cvq_combine8(sq);
  out[3] = cvq_combine8(ab);
}

/// `quantize_body` with `exBits` a compile-time constant in every case.
CVQ_BODY void quantize_switch(const float *x, size_t n, float t, int exBits, uint8_t *signs, uint8_t *ex,
                              double out[4]) {
  switch (exBits) {
  case 0: quantize_body(x, n, t, 0, signs, ex, out); break;
  case 1: quantize_body(x, n, t, 1, signs, ex, out); break;
  case 2: quantize_body(x, n, t, 2, signs, ex, out); break;
  case 3: quantize_body(x, n, t, 3, signs, ex, out); break;
  case 4: quantize_body(x, n, t, 4, signs, ex, out); break;
  case 5: quantize_body(x, n, t, 5, signs, ex, out); break;
  case 6: quantize_body(x, n, t, 6, signs, ex, out); break;
  case 7: quantize_body(x, n, t, 7, signs, ex, out); break;
  default: quantize_body(x, n, t, 8, signs, ex, out); break;
  }
}

// MARK: - Hand-written AVX2 inner products
//
// AVX2 has no vector popcount: the generic body's `__builtin_popcountll` runs one word at a time. Here
// 32 bytes at a time with the nibble-table popcount (`vpshufb`); the planes of a group of four are
// weighted (count << j, at most 8·15 = 120 per byte) before one `vpsadbw`, so a plane costs an AND,
// the table lookups and an add. The extended kernel unpacks 8 fields with one `pdep` and multiplies 16
// of them by the query with one `vpmaddwd`. Integer sums: the results are the generic body's exactly.
// (The AVX-512 level keeps the generic body, which the compiler vectorizes with VPOPCNTQ.)
#if CVQ_X86
/// Plane chunks the paired AVX2 kernel splits on its stack (64 bytes each: 24 KB).
#define CVQ_SPLIT_CAPACITY 384
#define CVQ_AVX2_BODY static inline __attribute__((always_inline, target("avx2,fma,bmi2,popcnt")))

CVQ_AVX2_BODY __m256i cvq_popcount_bytes(__m256i x) {
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(x, low), hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
  return _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
}

CVQ_AVX2_BODY uint64_t cvq_sum_u64x4(__m256i v) {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
}

CVQ_AVX2_BODY void sign_dot_avx2_body(const uint8_t *codes, size_t stride, size_t count, size_t bytes,
                                      const uint8_t *planes, const int planeCount, int64_t *dot, int64_t *pop) {
  const size_t chunks = bytes / 32, words = (bytes - 32 * chunks) / 8, rest = bytes % 8;
  const size_t wordStart = 32 * chunks, restStart = wordStart + 8 * words;
  const int groups = (planeCount + 3) / 4;
  const __m256i zero = _mm256_setzero_si256();
  for (size_t k = 0; k < count; k++) {
    const uint8_t *c = codes + k * stride;
    __m256i ones = zero, acc[3] = {zero, zero, zero};
    __m256i ones8 = zero, acc8[3] = {zero, zero, zero};
    // Byte counters hold at most 255: a group's weighted count adds ≤ 8·(2^planes − 1) per chunk.
    const size_t weightedMax = 8u * ((1u << (planeCount < 4 ? planeCount : 4)) - 1u);
    const size_t flushEvery = 255u / weightedMax;
    for (size_t ch = 0; ch < chunks; ch++) {
      const __m256i x = _mm256_loadu_si256((const __m256i *)(c + 32 * ch));
      ones8 = _mm256_add_epi8(ones8, cvq_popcount_bytes(x));
      for (int g = 0; g < groups; g++) {
        for (int j = 4 * g; j < planeCount && j < 4 * g + 4; j++) {
          const __m256i q = _mm256_loadu_si256((const __m256i *)(planes + (size_t)j * bytes + 32 * ch));
          const __m256i counts = cvq_popcount_bytes(_mm256_and_si256(x, q));
          acc8[g] = _mm256_add_epi8(acc8[g], _mm256_sll_epi16(counts, _mm_cvtsi32_si128(j - 4 * g)));
        }
      }
      if ((ch + 1) % flushEvery == 0 || ch + 1 == chunks) {
        ones = _mm256_add_epi64(ones, _mm256_sad_epu8(ones8, zero));
        ones8 = zero;
        for (int g = 0; g < groups; g++) {
          acc[g] = _mm256_add_epi64(acc[g], _mm256_sad_epu8(acc8[g], zero));
          acc8[g] = zero;
        }
      }
    }
    uint64_t p = cvq_sum_u64x4(ones);
    int64_t sum = 0;
    for (int g = 0; g < groups; g++) sum += (int64_t)(cvq_sum_u64x4(acc[g]) << (4 * g));
    const uint64_t tail = cvq_load_partial(c + restStart, rest);
    p += (uint64_t)__builtin_popcountll(tail);
    for (size_t w = 0; w < words; w++) p += (uint64_t)__builtin_popcountll(cvq_load64(c + wordStart + 8 * w));
    for (int j = 0; j < planeCount; j++) {
      const uint8_t *q = planes + (size_t)j * bytes;
      uint64_t s = (uint64_t)__builtin_popcountll(tail & cvq_load_partial(q + restStart, rest));
      for (size_t w = 0; w < words; w++)
        s += (uint64_t)__builtin_popcountll(cvq_load64(c + wordStart + 8 * w) & cvq_load64(q + wordStart + 8 * w));
      sum += (int64_t)(s << j);
    }
    dot[k] = sum;
    pop[k] = (int64_t)p;
  }
}

CVQ_AVX2_BODY void ex_dot_avx2_body(const uint8_t *codes, size_t stride, size_t offset, size_t count, size_t dim,
                                    const int bits, const uint16_t *query, int64_t *dot, int64_t *sum) {
  const uint64_t spread = 0x0101010101010101ull * ((1ull << bits) - 1);
  const size_t exBytes = (dim * (size_t)bits + 7) / 8;
  // Pairs of 8-field groups whose two 8-byte loads stay inside the code's ex plane.
  size_t fast = dim / 16;
  while (fast > 0 && (2 * fast - 1) * (size_t)bits + 8 > exBytes) fast--;
  const __m256i zero = _mm256_setzero_si256();
  for (size_t k = 0; k < count; k++) {
    const uint8_t *e = codes + k * stride + offset;
    int64_t d = 0, s = 0;
    size_t g = 0;
    while (g < fast) {
      // At most 64 pairs per block: each int32 lane then holds ≤ 64·2·255·32767 < 2^31.
      const size_t end = fast - g > 64 ? g + 64 : fast;
      __m256i products = zero;
      __m128i fields = _mm_setzero_si128();
      for (; g < end; g++) {
        const uint64_t w0 = _pdep_u64(cvq_load64(e + (2 * g) * (size_t)bits), spread);
        const uint64_t w1 = _pdep_u64(cvq_load64(e + (2 * g + 1) * (size_t)bits), spread);
        const __m128i v = _mm_set_epi64x((long long)w1, (long long)w0);
        fields = _mm_add_epi64(fields, _mm_sad_epu8(v, _mm_setzero_si128()));
        const __m256i q = _mm256_loadu_si256((const __m256i *)(query + 16 * g));
        products = _mm256_add_epi32(products, _mm256_madd_epi16(_mm256_cvtepu8_epi16(v), q));
      }
      const __m256i wide = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(products)),
                                            _mm256_cvtepi32_epi64(_mm256_extracti128_si256(products, 1)));
      d += (int64_t)cvq_sum_u64x4(wide);
      s += _mm_cvtsi128_si64(fields) + _mm_extract_epi64(fields, 1);
    }
    // Pairs whose 8-byte loads would cross the end of the plane: the same with partial loads.
    for (; g < dim / 16; g++) {
      const size_t at0 = (2 * g) * (size_t)bits, at1 = (2 * g + 1) * (size_t)bits;
      const uint64_t w0 = _pdep_u64(cvq_load_partial(e + at0, (size_t)bits), spread);
      const uint64_t w1 = _pdep_u64(cvq_load_partial(e + at1, (size_t)bits), spread);
      const __m128i v = _mm_set_epi64x((long long)w1, (long long)w0);
      const __m256i q = _mm256_loadu_si256((const __m256i *)(query + 16 * g));
      const __m256i p = _mm256_madd_epi16(_mm256_cvtepu8_epi16(v), q);
      const __m256i wide = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(p)),
                                            _mm256_cvtepi32_epi64(_mm256_extracti128_si256(p, 1)));
      d += (int64_t)cvq_sum_u64x4(wide);
      const __m128i f = _mm_sad_epu8(v, _mm_setzero_si128());
      s += _mm_cvtsi128_si64(f) + _mm_extract_epi64(f, 1);
    }
    // The last dim mod 16 fields one by one (as the generic body).
    for (size_t i = 16 * (dim / 16); i < dim; i++) {
      const size_t bit = i * (size_t)bits;
      const size_t byte = bit >> 3, span = ((bit & 7) + (size_t)bits + 7) >> 3;
      uint32_t word = 0;
      for (size_t b = 0; b < span; b++) word |= (uint32_t)e[byte + b] << (8 * b);
      const uint32_t v = (word >> (bit & 7)) & ((1u << bits) - 1);
      d += (int64_t)(v * (uint32_t)query[i]);
      s += v;
    }
    dot[k] = d;
    sum[k] = s;
  }
}

/// The rescale objective, 8 coordinates per step: (2k+1)·A_i < 2^31 is one `vpmulld`, split into its
/// even and odd lanes for the 64-bit sum; (2k+1)² and k in 32-bit lanes per block of 2048.
CVQ_AVX2_BODY void rescale_eval_avx2_body(const float *a, const int32_t *A, size_t n, float t, int32_t K,
                                          int64_t out[3]) {
  const float Kf = (float)K;
  const __m256 vt = _mm256_set1_ps(t), vK = _mm256_set1_ps(Kf);
  const __m256i one = _mm256_set1_epi32(1), low32 = _mm256_set1_epi64x(0xFFFFFFFFll);
  int64_t N = 0, S = 0, C = 0;
  size_t i = 0;
  while (i + 8 <= n) {
    const size_t end = n - i >= 2048 ? i + 2048 : i + (n - i) / 8 * 8;
    __m256i num = _mm256_setzero_si256(), sq = _mm256_setzero_si256(), lev = _mm256_setzero_si256();
    for (; i < end; i += 8) {
      const __m256i k = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_mul_ps(vt, _mm256_loadu_ps(a + i)), vK));
      const __m256i m = _mm256_add_epi32(_mm256_add_epi32(k, k), one);
      const __m256i prod = _mm256_mullo_epi32(m, _mm256_loadu_si256((const __m256i *)(A + i)));
      num = _mm256_add_epi64(num, _mm256_add_epi64(_mm256_and_si256(prod, low32), _mm256_srli_epi64(prod, 32)));
      sq = _mm256_add_epi32(sq, _mm256_mullo_epi32(m, m));
      lev = _mm256_add_epi32(lev, k);
    }
    N += (int64_t)cvq_sum_u64x4(num);
    const __m256i wideSq = _mm256_add_epi64(_mm256_cvtepu32_epi64(_mm256_castsi256_si128(sq)),
                                            _mm256_cvtepu32_epi64(_mm256_extracti128_si256(sq, 1)));
    const __m256i wideLev = _mm256_add_epi64(_mm256_cvtepu32_epi64(_mm256_castsi256_si128(lev)),
                                             _mm256_cvtepu32_epi64(_mm256_extracti128_si256(lev, 1)));
    S += (int64_t)cvq_sum_u64x4(wideSq);
    C += (int64_t)cvq_sum_u64x4(wideLev);
  }
  for (; i < n; i++) {
    const int32_t k = cvq_level_of(t, a[i], Kf);
    const int32_t m = 2 * k + 1;
    N += (int64_t)(m * A[i]);
    S += (int64_t)(m * m);
    C += k;
  }
  out[0] = N;
  out[1] = S;
  out[2] = C;
}

/// Two codes per pass: the 16-byte chunk c of code k fills the low lane of a 256-bit register and that of
/// code k+1 the high lane, so one register op serves two codes (at d = 128 a whole code is one lane).
/// The query planes are split once per call into low and high nibbles, broadcast to both lanes
/// (`split`: plane j, chunk c at [2·(j·chunks + c)], low nibbles first); the code's nibbles are split once
/// per chunk and ANDed with every plane's. Plane j of group g = j/4 looks up popcount << (j − 4g) (≤ 32,
/// so a group adds ≤ 2·4·15 = 120 per byte and chunk), summed in byte counters flushed by `vpsadbw`
/// before they can pass 255. The chunk-aligned part of each code goes through here; the last
/// `bytes mod 16` bytes through the scalar words of the generic body.
CVQ_AVX2_BODY void sign_dot_pairs_avx2_body(const uint8_t *codes, size_t stride, size_t pairs, size_t chunks,
                                            const __m256i *split, const int planeCount, int64_t *dot,
                                            int64_t *pop) {
  const int groups = (planeCount + 3) / 4;
  const __m256i zero = _mm256_setzero_si256(), low = _mm256_set1_epi8(0x0f);
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  __m256i tables[4];
  for (int w = 0; w < 4; w++) tables[w] = _mm256_sll_epi16(table, _mm_cvtsi32_si128(w));
  const size_t weightedMax = 8u * ((1u << (planeCount < 4 ? planeCount : 4)) - 1u);
  const size_t flushEvery = 255u / weightedMax;
  for (size_t pr = 0; pr < pairs; pr++) {
    const uint8_t *c0 = codes + 2 * pr * stride, *c1 = c0 + stride;
    __m256i acc[3] = {zero, zero, zero}, acc8[3] = {zero, zero, zero};
    size_t sinceFlush = 0;
    __m256i ones = zero, ones8 = zero;
    for (size_t ch = 0; ch < chunks; ch++) {
      const __m256i x = _mm256_loadu2_m128i((const __m128i *)(c1 + 16 * ch), (const __m128i *)(c0 + 16 * ch));
      const __m256i xl = _mm256_and_si256(x, low), xh = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
      // The code's own popcount from the nibbles already split (≤ 8 per byte and chunk). Scalar POPCNT
      // here was turned by clang into an xmm table sequence per word: 1.4–1.7× slower at d ≥ 384.
      ones8 = _mm256_add_epi8(ones8, _mm256_add_epi8(_mm256_shuffle_epi8(table, xl), _mm256_shuffle_epi8(table, xh)));
      for (int j = 0; j < planeCount; j++) {
        const __m256i *q = split + 2 * ((size_t)j * chunks + ch);
        const __m256i t = tables[j & 3];
        const __m256i l = _mm256_shuffle_epi8(t, _mm256_and_si256(xl, _mm256_load_si256(q)));
        const __m256i h = _mm256_shuffle_epi8(t, _mm256_and_si256(xh, _mm256_load_si256(q + 1)));
        acc8[j >> 2] = _mm256_add_epi8(acc8[j >> 2], _mm256_add_epi8(l, h));
      }
      if (++sinceFlush == flushEvery || ch + 1 == chunks) {
        sinceFlush = 0;
        ones = _mm256_add_epi64(ones, _mm256_sad_epu8(ones8, zero));
        ones8 = zero;
        for (int g = 0; g < groups; g++) {
          acc[g] = _mm256_add_epi64(acc[g], _mm256_sad_epu8(acc8[g], zero));
          acc8[g] = zero;
        }
      }
    }
    // Lanes 0 + 1 belong to code k, lanes 2 + 3 to code k+1.
    __m256i total = zero;
    for (int g = 0; g < groups; g++) total = _mm256_add_epi64(total, _mm256_slli_epi64(acc[g], 4 * g));
    total = _mm256_add_epi64(total, _mm256_shuffle_epi32(total, 0x4E));
    dot[2 * pr] = _mm256_extract_epi64(total, 0);
    dot[2 * pr + 1] = _mm256_extract_epi64(total, 2);
    ones = _mm256_add_epi64(ones, _mm256_shuffle_epi32(ones, 0x4E));
    pop[2 * pr] = _mm256_extract_epi64(ones, 0);
    pop[2 * pr + 1] = _mm256_extract_epi64(ones, 2);
  }
}

/// The paired kernel for the chunk-aligned part, then the tail bytes and an odd last code.
CVQ_AVX2_BODY void sign_dot_paired_avx2(const uint8_t *codes, size_t stride, size_t count, size_t bytes,
                                        const uint8_t *planes, const int planeCount, int64_t *dot, int64_t *pop) {
  const size_t chunks = bytes / 16;
  __m256i split[2 * CVQ_SPLIT_CAPACITY];
  const __m256i low = _mm256_set1_epi8(0x0f);
  for (int j = 0; j < planeCount; j++) {
    for (size_t ch = 0; ch < chunks; ch++) {
      const __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(planes + (size_t)j * bytes + 16 * ch)));
      split[2 * ((size_t)j * chunks + ch)] = _mm256_and_si256(q, low);
      split[2 * ((size_t)j * chunks + ch) + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
    }
  }
  const size_t pairs = count / 2;
  sign_dot_pairs_avx2_body(codes, stride, pairs, chunks, split, planeCount, dot, pop);
  const size_t start = 16 * chunks, words = (bytes - start) / 8, rest = (bytes - start) % 8;
  if (start < bytes) {
    for (size_t k = 0; k < 2 * pairs; k++) {
      const uint8_t *c = codes + k * stride + start;
      const uint64_t tail = cvq_load_partial(c + 8 * words, rest);
      uint64_t ones = (uint64_t)__builtin_popcountll(tail);
      for (size_t w = 0; w < words; w++) ones += (uint64_t)__builtin_popcountll(cvq_load64(c + 8 * w));
      int64_t sum = 0;
      for (int j = 0; j < planeCount; j++) {
        const uint8_t *q = planes + (size_t)j * bytes + start;
        uint64_t s = (uint64_t)__builtin_popcountll(tail & cvq_load_partial(q + 8 * words, rest));
        for (size_t w = 0; w < words; w++)
          s += (uint64_t)__builtin_popcountll(cvq_load64(c + 8 * w) & cvq_load64(q + 8 * w));
        sum += (int64_t)(s << j);
      }
      dot[k] += sum;
      pop[k] += (int64_t)ones;
    }
  }
  if (count % 2 == 1)
    sign_dot_avx2_body(codes + (count - 1) * stride, stride, 1, bytes, planes, planeCount, dot + count - 1,
                       pop + count - 1);
}

/// The 1-bit code (exBits = 0: sign plane and sums only), 8 coordinates per step. With K = 0 the body's
/// level `p > 0 ? 0 : p` (p = t·|x_i|, truncated) is 0 unless p is NaN or negative; then every term of the
/// body's Σ (k+½)·|x_i| is ½·|x_i| exactly, and halving commutes with every rounded add, so its 8 lanes are
/// exactly half of Σ|x_i|'s, and Σ (2k+1)² = n. This path keeps the sign byte (one `vmovmskps`) and the two
/// double sums Σ x_i², Σ |x_i| in lane l = i mod 8 (two 4-double registers each: the body's products and
/// adds in the body's order), and returns 0 — leaving the work to the body — if any p was NaN or negative.
CVQ_AVX2_BODY int quantize_signs_avx2_body(const float *x, size_t n, float t, uint8_t *signs, double out[4]) {
  const __m256 vt = _mm256_set1_ps(t), zero = _mm256_setzero_ps();
  const __m256 magnitudeMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256d sq0 = _mm256_setzero_pd(), sq1 = sq0, ab0 = sq0, ab1 = sq0;
  __m256 unusual = zero;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 m = _mm256_and_ps(v, magnitudeMask);
    unusual = _mm256_or_ps(unusual, _mm256_cmp_ps(_mm256_mul_ps(vt, m), zero, _CMP_NGE_UQ));
    signs[i >> 3] = (uint8_t)_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_GT_OQ));
    const __m256d m0 = _mm256_cvtps_pd(_mm256_castps256_ps128(m)), m1 = _mm256_cvtps_pd(_mm256_extractf128_ps(m, 1));
    const __m256d v0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), v1 = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    sq0 = _mm256_add_pd(sq0, _mm256_mul_pd(v0, v0));
    sq1 = _mm256_add_pd(sq1, _mm256_mul_pd(v1, v1));
    ab0 = _mm256_add_pd(ab0, m0);
    ab1 = _mm256_add_pd(ab1, m1);
  }
  if (_mm256_movemask_ps(unusual) != 0) return 0;
  double ip[8], sq[8], ab[8];
  _mm256_storeu_pd(sq, sq0);
  _mm256_storeu_pd(sq + 4, sq1);
  _mm256_storeu_pd(ab, ab0);
  _mm256_storeu_pd(ab + 4, ab1);
  if (i < n) {
    uint32_t signByte = 0;
    for (int l = 0; i + (size_t)l < n; l++) {
      const float v = x[i + l];
      const float m = fabsf(v);
      const float p = t * m;
      if (!(p >= 0.0f)) return 0;
      signByte |= (v > 0.0f ? 1u : 0u) << l;
      sq[l] += (double)v * (double)v;
      ab[l] += (double)m;
    }
    signs[i >> 3] = (uint8_t)signByte;
  }
  for (int l = 0; l < 8; l++) ip[l] = 0.5 * ab[l];
  out[0] = cvq_combine8(ip);
  out[1] = (double)n / 4.0;
  out[2] = cvq_combine8(sq);
  out[3] = cvq_combine8(ab);
  return 1;
}

CVQ_TARGET_AVX2 static int quantize_signs_avx2(const float *x, size_t n, float t, uint8_t *signs, double out[4]) {
  return quantize_signs_avx2_body(x, n, t, signs, out);
}

static void sign_dot_avx2(const uint8_t *codes, size_t stride, size_t count, size_t bytes, const uint8_t *planes,
                          int planeCount, int64_t *dot, int64_t *pop) __attribute__((target("avx2,fma,bmi2,popcnt")));
static void sign_dot_avx2(const uint8_t *codes, size_t stride, size_t count, size_t bytes, const uint8_t *planes,
                          int planeCount, int64_t *dot, int64_t *pop) {
  // The paired kernel needs two codes and room for the split planes on the stack.
  const int paired = count >= 2 && bytes >= 16 && (size_t)planeCount * (bytes / 16) <= CVQ_SPLIT_CAPACITY;
  switch (planeCount) {
#define CVQ_PLANES(P) case P:                                                                        \
    if (paired) sign_dot_paired_avx2(codes, stride, count, bytes, planes, P, dot, pop);                   \
    else sign_dot_avx2_body(codes, stride, count, bytes, planes, P, dot, pop);                            \
    return;
  CVQ_PLANES(1) CVQ_PLANES(2) CVQ_PLANES(3) CVQ_PLANES(4) CVQ_PLANES(5) CVQ_PLANES(6)
  CVQ_PLANES(7) CVQ_PLANES(8) CVQ_PLANES(9) CVQ_PLANES(10) CVQ_PLANES(11) CVQ_PLANES(12)
#undef CVQ_PLANES
  default: sign_dot_body(codes, stride, count, bytes, planes, planeCount, dot, pop); return;
  }
}

static void ex_dot_avx2(const uint8_t *codes, size_t stride, size_t offset, size_t count, size_t dim, int bits,
                        const uint16_t *query, int64_t *dot, int64_t *sum) __attribute__((target("avx2,fma,bmi2,popcnt")));
static void ex_dot_avx2(const uint8_t *codes, size_t stride, size_t offset, size_t count, size_t dim, int bits,
                        const uint16_t *query, int64_t *dot, int64_t *sum) {
  switch (bits) {
#define CVQ_BITS(B) case B: ex_dot_avx2_body(codes, stride, offset, count, dim, B, query, dot, sum); return;
  CVQ_BITS(1) CVQ_BITS(2) CVQ_BITS(3) CVQ_BITS(4) CVQ_BITS(5) CVQ_BITS(6) CVQ_BITS(7)
#undef CVQ_BITS
  default: ex_dot_avx2_body(codes, stride, offset, count, dim, 8, query, dot, sum); return;
  }
}
#endif

// MARK: - Instantiation per level and dispatch

#define CVQ_INSTANTIATE_DOTS(SUFFIX, ATTR)                                                              \
  ATTR static void sign_dot_##SUFFIX(const uint8_t *codes, size_t stride, size_t count, size_t bytes,  \
                                     const uint8_t *planes, int planeCount, int64_t *dot, int64_t *pop) { \
    sign_dot_body(codes, stride, count, bytes, planes, planeCount, dot, pop);                           \
  }                                                                                                     \
  ATTR static void ex_dot_##SUFFIX(const uint8_t *codes, size_t stride, size_t offset, size_t count,     \
                                   size_t dim, int bits, const uint16_t *query, int64_t *dot,           \
                                   int64_t *sum) {                                                      \
    ex_dot_switch(codes, stride, offset, count, dim, bits, query, dot, sum);                            \
  }

#define CVQ_INSTANTIATE(SUFFIX, ATTR)                                                                   \
  ATTR static float magnitudes_##SUFFIX(const float *x, size_t n, float *a, int32_t *A) {               \
    return magnitudes_body(x, n, a, A);                                                                 \
  }                                                                                                     \
  ATTR static void rescale_eval_##SUFFIX(const float *a, const int32_t *A, size_t n, float t, int32_t K,  \
                                         int64_t out[3]) {                                              \
    rescale_eval_body(a, A, n, t, K, out);                                                              \
  }                                                                                                     \
  ATTR static void quantize_##SUFFIX(const float *x, size_t n, float t, int exBits, uint8_t *signs,       \
                                     uint8_t *ex, double out[4]) {                                      \
    quantize_switch(x, n, t, exBits, signs, ex, out);                                                   \
  }

CVQ_INSTANTIATE(portable, )
CVQ_INSTANTIATE_DOTS(portable, )
static size_t events_portable(const float *a, const int32_t *A, size_t n, float ta, float tb, int32_t K,
                              cvq_rabitq_event *events, size_t capacity) {
  return events_body(a, A, n, ta, tb, K, events, capacity);
}
#if CVQ_X86
CVQ_INSTANTIATE(avx2, CVQ_TARGET_AVX2)
CVQ_TARGET_AVX2 static void rescale_eval_avx2_fast(const float *a, const int32_t *A, size_t n, float t, int32_t K,
                                                   int64_t out[3]) {
  rescale_eval_avx2_body(a, A, n, t, K, out);
}
CVQ_INSTANTIATE(avx512, CVQ_TARGET_AVX512)
CVQ_INSTANTIATE_DOTS(avx512, CVQ_TARGET_AVX512)
// The event listing uses AVX2 intrinsics at both vector levels (the AVX-512 build compiles the same
// body with its wider feature set).
CVQ_TARGET_AVX2 static size_t events_avx2(const float *a, const int32_t *A, size_t n, float ta, float tb,
                                          int32_t K, cvq_rabitq_event *events, size_t capacity) {
  return events_body_avx2(a, A, n, ta, tb, K, events, capacity);
}
CVQ_TARGET_AVX512 static size_t events_avx512(const float *a, const int32_t *A, size_t n, float ta, float tb,
                                              int32_t K, cvq_rabitq_event *events, size_t capacity) {
  return events_body_avx2(a, A, n, ta, tb, K, events, capacity);
}
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
#if CVQ_X86
  if (cvq_kernel_level() == CVQ_LEVEL_AVX2) {
    rescale_eval_avx2_fast(a, A, n, t, K, out);
    return;
  }
#endif
  CVQ_DISPATCH_VOID(rescale_eval, a, A, n, t, K, out)
}

size_t cvq_rabitq_events(const float *a, const int32_t *A, size_t n, float ta, float tb, int32_t K,
                         cvq_rabitq_event *events, size_t capacity) {
  CVQ_DISPATCH(events, a, A, n, ta, tb, K, events, capacity)
}

void cvq_rabitq_quantize(const float *x, size_t n, float t, int exBits, uint8_t *signs, uint8_t *ex,
                         double out[4]) {
#if CVQ_X86
  if (exBits == 0 && cvq_kernel_level() >= CVQ_LEVEL_AVX2 && quantize_signs_avx2(x, n, t, signs, out)) return;
#endif
  CVQ_DISPATCH_VOID(quantize, x, n, t, exBits, signs, ex, out)
}

// MARK: - Sign-stage estimates (integers → floats)

/// The narrowing to int32 is exact under the header's bound, so the conversion rounds as (float)int64 would,
/// and it vectorizes (AVX2 has no int64 → float conversion).
#define CVQ_SIGN_ESTIMATES_BODY                                                                          \
  for (size_t k = 0; k < n; k++) {                                                                      \
    const float inner = (step * (float)(int32_t)dot[k] + lo * (float)(int32_t)pop[k]) - offset;        \
    out[k] = scale[k] * inner + add;                                                                    \
  }

static void sign_estimates_portable(const int64_t *dot, const int64_t *pop, size_t n, const float *scale, float step,
                                    float lo, float offset, float add, float *out) {
  CVQ_SIGN_ESTIMATES_BODY
}

#if CVQ_X86
CVQ_TARGET_AVX2 static void sign_estimates_avx2(const int64_t *dot, const int64_t *pop, size_t n, const float *scale,
                                                float step, float lo, float offset, float add, float *out) {
  CVQ_SIGN_ESTIMATES_BODY
}
#endif

void cvq_rabitq_sign_estimates(const int64_t *dot, const int64_t *pop, size_t n, const float *scale, float step,
                               float lo, float offset, float add, float *out) {
#if CVQ_X86
  if (cvq_kernel_level() >= CVQ_LEVEL_AVX2) {
    sign_estimates_avx2(dot, pop, n, scale, step, lo, offset, add, out);
    return;
  }
#endif
  sign_estimates_portable(dot, pop, n, scale, step, lo, offset, add, out);
}
