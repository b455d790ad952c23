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

#if CVQ_X86
/// After an AVX2 4-bit prefix coded `done` coordinates (whole steps of 32, so the rest starts
/// byte-aligned): moves `x`, `n` and `out` past them; returns whether nothing is left for the level's body.
static inline int cvq_skip_packed4_prefix(size_t done, const float **x, size_t *n, uint8_t **out) {
  *x += done;
  *n -= done;
  *out += done / 2;
  return *n == 0;
}
#endif

#if CVQ_X86
/// 4-bit uniform codes, 32 coordinates per step, for the prefix of whole steps; returns how many it coded.
/// The body's arithmetic in registers: x·scale, then + offset (two roundings, never fused), clamped to
/// [−1, max + 1] with `vmaxps(v, −1)` first (it returns −1 for a NaN v, as the body's compare does), rounded
/// half to even by `vroundps` (the body's magic-number add gives the same for |v| < 2^22), clamped to
/// [0, max] in integers, then packed to nibbles as `thresholds_pack4_avx2` does: the body's codes.
CVQ_TARGET_AVX2 static size_t uniform_pack4_avx2(const float *x, size_t n, float scale, float offset,
                                                 uint32_t max_index, uint8_t *out) {
  const __m256 s = _mm256_set1_ps(scale), o = _mm256_set1_ps(offset);
  const __m256 below = _mm256_set1_ps(-1.0f), above = _mm256_set1_ps((float)max_index + 1.0f);
  const __m256i zero = _mm256_setzero_si256(), top = _mm256_set1_epi32((int32_t)max_index);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i weights = _mm256_set1_epi16(0x1001);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i q[4];
    for (int r = 0; r < 4; r++) {
      __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * r), s), o);
      v = _mm256_min_ps(_mm256_max_ps(v, below), above);
      v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      q[r] = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvttps_epi32(v), zero), top);
    }
    const __m256i bytes = _mm256_permutevar8x32_epi32(
        _mm256_packus_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3])), order);
    const __m256i pairs = _mm256_maddubs_epi16(bytes, weights);
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(pairs, pairs), 0xD8);
    _mm_storeu_si128((__m128i *)(out + i / 2), _mm256_castsi256_si128(packed));
  }
  return i;
}
#endif

void cvq_quantize_uniform_pack(const float *x, size_t n, float scale, float offset, uint32_t max_index, int bits,
                               uint8_t *out) {
#if CVQ_X86
  if (bits == 4 && max_index <= 15 && cvq_kernel_level() >= CVQ_LEVEL_AVX2) {
    // Whole steps of 32 here, the rest by the level's body.
    const size_t done = uniform_pack4_avx2(x, n, scale, offset, max_index, out);
    if (cvq_skip_packed4_prefix(done, &x, &n, &out)) return;
  }
#endif
  CVQ_DISPATCH(cvq_quantize_uniform_pack, x, n, scale, offset, max_index, bits, out)
}

#if CVQ_X86
/// 4-bit codes from at most 15 thresholds, 32 coordinates per step, for the prefix of whole steps; returns
/// how many coordinates it coded. A branch-free binary search in registers: the ascending list padded with
/// +∞ to 16 entries is two 8-float tables (entries 0…7 and 8…15); the first compare, against entry 7, picks
/// the half of each lane, and three more steps look their threshold up with `vpermps` in both tables and
/// keep the lane's half (`vblendvps`): 4 compares per 8 lanes instead of 15. Counting below an ascending
/// list this way gives #{j : t_j < v} exactly, with the generic body's products and comparisons (NaN
/// compares false everywhere and codes 0), so the codes are the body's. The 32 counts are narrowed with two
/// packs and a lane-order permute, and pairs of codes become nibbles with one `vpmaddubsw`
/// (c_even + 16·c_odd).
CVQ_TARGET_AVX2 static size_t thresholds_pack4_avx2(const float *x, size_t n, float scale, const float *thresholds,
                                                    size_t threshold_count, uint8_t *out) {
  float padded[16];
  for (size_t j = 0; j < 16; j++) padded[j] = j < threshold_count ? thresholds[j] : __builtin_inff();
  const __m256 low = _mm256_loadu_ps(padded), high = _mm256_loadu_ps(padded + 8);
  const __m256 middle = _mm256_set1_ps(padded[7]);
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i weights = _mm256_set1_epi16(0x1001);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i q[4];
    for (int r = 0; r < 4; r++) {
      const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * r), s);
      const __m256 upper = _mm256_cmp_ps(middle, v, _CMP_LT_OQ);
      // Position within the lane's half (0…7), found in steps of 4, 2, 1.
      __m256i at = _mm256_setzero_si256();
      for (int step = 4; step >= 1; step >>= 1) {
        const __m256i probe = _mm256_add_epi32(at, _mm256_set1_epi32(step - 1));
        const __m256 t = _mm256_blendv_ps(_mm256_permutevar8x32_ps(low, probe), _mm256_permutevar8x32_ps(high, probe), upper);
        at = _mm256_add_epi32(at, _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(t, v, _CMP_LT_OQ)), _mm256_set1_epi32(step)));
      }
      q[r] = _mm256_add_epi32(at, _mm256_and_si256(_mm256_castps_si256(upper), _mm256_set1_epi32(8)));
    }
    const __m256i bytes = _mm256_permutevar8x32_epi32(
        _mm256_packus_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3])), order);
    const __m256i pairs = _mm256_maddubs_epi16(bytes, weights);
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(pairs, pairs), 0xD8);
    _mm_storeu_si128((__m128i *)(out + i / 2), _mm256_castsi256_si128(packed));
  }
  return i;
}

/// `thresholds_pack4_avx2` with the threshold count a constant (15 is the 4-bit codebook's).
CVQ_TARGET_AVX2 static size_t thresholds_pack4_avx2_fixed(const float *x, size_t n, float scale,
                                                          const float *thresholds, size_t threshold_count,
                                                          uint8_t *out) {
  if (threshold_count == 15) return thresholds_pack4_avx2(x, n, scale, thresholds, 15, out);
  return thresholds_pack4_avx2(x, n, scale, thresholds, threshold_count, out);
}
#endif

void cvq_quantize_thresholds_pack(const float *x, size_t n, float scale, const float *thresholds,
                                  size_t threshold_count, int bits, uint8_t *out) {
#if CVQ_X86
  if (bits == 4 && threshold_count <= 15 && cvq_kernel_level() >= CVQ_LEVEL_AVX2) {
    // Whole steps of 32 here, the rest by the level's body.
    const size_t done = thresholds_pack4_avx2_fixed(x, n, scale, thresholds, threshold_count, out);
    if (cvq_skip_packed4_prefix(done, &x, &n, &out)) return;
  }
#endif
  CVQ_DISPATCH(cvq_quantize_thresholds_pack, x, n, scale, thresholds, threshold_count, bits, out)
}

void cvq_unpack_dequantize(const uint8_t *codes, size_t n, int bits, const float *table, float scale, float *y) {
  CVQ_DISPATCH(cvq_unpack_dequantize, codes, n, bits, table, scale, y)
}

#if CVQ_X86
/// unpackDot at 4 bits, AVX2: 32 codes per step straight from the packed bytes (nibbles split and
/// interleaved back into code order), the table looked up with `vpermps` in its two 8-float halves, one
/// product and one add per lane into the 32 running sums s[i mod 32] (four registers); the tail and the
/// final tree exactly as the generic body (same products, same sums, same order: same bits).
CVQ_TARGET_AVX2 static float unpack_dot4_avx2(const uint8_t *codes, size_t n, const float *table, const float *q) {
  const __m256 low = _mm256_loadu_ps(table), high = _mm256_loadu_ps(table + 8);
  const __m128i nibble = _mm_set1_epi8(0x0f);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m128i b = _mm_loadu_si128((const __m128i *)(codes + i / 2));
    const __m128i even = _mm_and_si128(b, nibble), odd = _mm_and_si128(_mm_srli_epi16(b, 4), nibble);
    const __m128i first = _mm_unpacklo_epi8(even, odd), second = _mm_unpackhi_epi8(even, odd);
    const __m128i parts[4] = {first, _mm_srli_si128(first, 8), second, _mm_srli_si128(second, 8)};
    for (int r = 0; r < 4; r++) {
      const __m256i index = _mm256_cvtepu8_epi32(parts[r]);
      const __m256 value = _mm256_blendv_ps(_mm256_permutevar8x32_ps(low, index), _mm256_permutevar8x32_ps(high, index),
                                            _mm256_castsi256_ps(_mm256_slli_epi32(index, 28)));
      acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_loadu_ps(q + i + 8 * r), value));
    }
  }
  float s[32];
  for (int r = 0; r < 4; r++) _mm256_storeu_ps(s + 8 * r, acc[r]);
  for (; i < n; i++) {
    const unsigned code = (codes[i / 2] >> (4 * (i % 2))) & 15u;
    s[i % 32] = s[i % 32] + q[i] * table[code];
  }
  for (int l = 0; l < 16; l++) s[l] = s[l] + s[l + 16];
  for (int w = 8; w >= 1; w /= 2)
    for (int l = 0; l < w; l++) s[l] = s[l] + s[l + w];
  return s[0];
}
#endif

float cvq_unpack_dot(const uint8_t *codes, size_t n, int bits, const float *table, const float *q) {
#if CVQ_X86
  if (bits == 4 && cvq_kernel_level() >= CVQ_LEVEL_AVX2) return unpack_dot4_avx2(codes, n, table, q);
#endif
  CVQ_DISPATCH(cvq_unpack_dot, codes, n, bits, table, q)
}
