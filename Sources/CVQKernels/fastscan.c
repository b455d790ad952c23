// FastScan kernels (see cvq_fastscan.h): a portable body and an AVX2 body (vpshufb look-ups, 16-bit
// accumulators), dispatched at run time. Integer sums: every level returns the same numbers.
#include "kernel_levels.h"
#include "cvq_fastscan.h"
#include "cvq_kernels.h"

/// Pairs of sub-quantizers summed in 16-bit lanes before a flush: each half-lane adds at most 255 per pair,
/// so after 128 pairs a lane holds ≤ 32,640 and the two halves together ≤ 65,280 < 2^16.
#define CVQ_FASTSCAN_FLUSH 128

/// The byte (0…15, within a half) holding vector slot `s` (0…15) of a half: the inverse of slot(j).
static inline size_t cvq_fastscan_byte_of_slot(size_t s) { return s < 8 ? 2 * s : 2 * (s - 8) + 1; }

static void fastscan_portable(const uint8_t *blocks, size_t blockCount, size_t pairCount, const uint8_t *luts,
                              uint32_t *out) {
  for (size_t b = 0; b < blockCount; b++) {
    const uint8_t *block = blocks + b * pairCount * 32;
    for (size_t v = 0; v < 32; v++) {
      const size_t j = cvq_fastscan_byte_of_slot(v & 15);
      const int shift = v < 16 ? 0 : 4;
      uint32_t sum = 0;
      for (size_t p = 0; p < pairCount; p++) {
        const uint8_t *group = block + 32 * p, *lut = luts + 32 * p;
        sum += lut[(group[j] >> shift) & 15];
        sum += lut[16 + ((group[16 + j] >> shift) & 15)];
      }
      out[32 * b + v] = sum;
    }
  }
}

#if CVQ_X86
#define CVQ_FASTSCAN_BODY static inline __attribute__((always_inline, target("avx2,fma,bmi2")))

/// Adds the two halves of 16-bit lanes (vectors t of each half) as 32-bit sums into `total`.
CVQ_FASTSCAN_BODY __m256i cvq_fold_halves(__m256i total, __m256i lanes) {
  const __m256i lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(lanes));
  const __m256i hi = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(lanes, 1));
  return _mm256_add_epi32(total, _mm256_add_epi32(lo, hi));
}

/// Pairs summed in 16-bit lanes before a flush with 7-bit tables: each half-lane adds at most 127 per pair,
/// so after 512 pairs a lane's true sum is ≤ 65,024 < 2^16.
#define CVQ_FASTSCAN_FLUSH_NARROW 512

/// Pair p's look-ups: the tables indexed by the low nibbles of its 32 bytes (vectors 0…15) and by the
/// high nibbles (vectors 16…31).
CVQ_FASTSCAN_BODY void cvq_fastscan_pair(const uint8_t *block, const uint8_t *luts, size_t p, __m256i *lowHits,
                                         __m256i *highHits) {
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i codes = _mm256_loadu_si256((const __m256i *)(block + 32 * p));
  const __m256i lut = _mm256_loadu_si256((const __m256i *)(luts + 32 * p));
  *lowHits = _mm256_shuffle_epi8(lut, _mm256_and_si256(codes, low));
  *highHits = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(codes, 4), low));
}

/// One block. Per pair: the low nibbles of the 32 bytes index the tables for vectors 0…15, the high
/// nibbles for 16…31; a look-up gives 32 bytes, added as 16-bit lanes (`even`, which also carries the odd
/// byte shifted up by 8) and shifted down by 8 (`odd`, the odd bytes alone). At a flush the even bytes'
/// sums are `even − (odd << 8)` (mod 2^16, exact because each is < 2^16). With `narrow` (7-bit tables; a
/// constant once inlined) the look-ups of two pairs first add as bytes (≤ 254, no carry) and go into the
/// 16-bit accumulators once, an odd last pair alone, and the flush comes every 512 pairs.
CVQ_FASTSCAN_BODY void fastscan_block_avx2(const uint8_t *block, size_t pairCount, const uint8_t *luts,
                                           uint32_t *out, const int narrow) {
  const __m256i zero = _mm256_setzero_si256();
  const size_t flush = narrow ? CVQ_FASTSCAN_FLUSH_NARROW : CVQ_FASTSCAN_FLUSH, step = narrow ? 2 : 1;
  __m256i total[4] = {zero, zero, zero, zero};
  size_t p = 0;
  while (p < pairCount) {
    const size_t end = pairCount - p > flush ? p + flush : pairCount;
    __m256i evenLow = zero, oddLow = zero, evenHigh = zero, oddHigh = zero;
    for (; p < end; p += step) {
      __m256i lowHits, highHits;
      cvq_fastscan_pair(block, luts, p, &lowHits, &highHits);
      if (narrow && p + 1 < end) {
        __m256i nextLow, nextHigh;
        cvq_fastscan_pair(block, luts, p + 1, &nextLow, &nextHigh);
        lowHits = _mm256_add_epi8(lowHits, nextLow);
        highHits = _mm256_add_epi8(highHits, nextHigh);
      }
      evenLow = _mm256_add_epi16(evenLow, lowHits);
      oddLow = _mm256_add_epi16(oddLow, _mm256_srli_epi16(lowHits, 8));
      evenHigh = _mm256_add_epi16(evenHigh, highHits);
      oddHigh = _mm256_add_epi16(oddHigh, _mm256_srli_epi16(highHits, 8));
    }
    if (p > end) p = end;   // a narrow window of odd length ends one past `end`
    evenLow = _mm256_sub_epi16(evenLow, _mm256_slli_epi16(oddLow, 8));
    evenHigh = _mm256_sub_epi16(evenHigh, _mm256_slli_epi16(oddHigh, 8));
    total[0] = cvq_fold_halves(total[0], evenLow);
    total[1] = cvq_fold_halves(total[1], oddLow);
    total[2] = cvq_fold_halves(total[2], evenHigh);
    total[3] = cvq_fold_halves(total[3], oddHigh);
  }
  for (int q = 0; q < 4; q++) _mm256_storeu_si256((__m256i *)(out + 8 * q), total[q]);
}

/// Every block; `narrow` picks the 7-bit-table body (each branch inlines the block with a constant).
#define CVQ_FASTSCAN_BLOCKS                                                                                 \
  for (size_t b = 0; b < blockCount; b++) {                                                                \
    if (narrow) fastscan_block_avx2(blocks + b * pairCount * 32, pairCount, luts, out + 32 * b, 1);        \
    else fastscan_block_avx2(blocks + b * pairCount * 32, pairCount, luts, out + 32 * b, 0);               \
  }

CVQ_TARGET_AVX2 static void fastscan_avx2(const uint8_t *blocks, size_t blockCount, size_t pairCount,
                                          const uint8_t *luts, uint32_t *out, int narrow) {
  CVQ_FASTSCAN_BLOCKS
}

CVQ_TARGET_AVX512 static void fastscan_avx512(const uint8_t *blocks, size_t blockCount, size_t pairCount,
                                              const uint8_t *luts, uint32_t *out, int narrow) {
  CVQ_FASTSCAN_BLOCKS
}
#endif

#define CVQ_AFFINE_BODY                                                                          \
  if (adds)                                                                                      \
    for (size_t k = 0; k < n; k++) out[k] = (scale[k] * (step * (float)(int32_t)sums[k] + offset) + add) + adds[k]; \
  else                                                                                           \
    for (size_t k = 0; k < n; k++) out[k] = scale[k] * (step * (float)(int32_t)sums[k] + offset) + add;

static void affine_portable(const uint32_t *sums, size_t n, const float *scale, float step, float offset, float add,
                            const float *adds, float *out) {
  CVQ_AFFINE_BODY
}

#if CVQ_X86
CVQ_TARGET_AVX2 static void affine_avx2(const uint32_t *sums, size_t n, const float *scale, float step, float offset,
                                        float add, const float *adds, float *out) {
  CVQ_AFFINE_BODY
}
#endif

void cvq_fastscan_affine(const uint32_t *sums, size_t n, const float *scale, float step, float offset, float add,
                         const float *adds, float *out) {
#if CVQ_X86
  if (cvq_kernel_level() >= CVQ_LEVEL_AVX2) {
    affine_avx2(sums, n, scale, step, offset, add, adds, out);
    return;
  }
#endif
  affine_portable(sums, n, scale, step, offset, add, adds, out);
}

/// Both entry points: the sums are exact, so the portable level serves 7-bit tables unchanged.
static void cvq_fastscan_dispatch(const uint8_t *blocks, size_t blockCount, size_t pairCount, const uint8_t *luts,
                                  uint32_t *out, int narrow) {
#if CVQ_X86
  switch (cvq_kernel_level()) {
  case CVQ_LEVEL_AVX512: fastscan_avx512(blocks, blockCount, pairCount, luts, out, narrow); return;
  case CVQ_LEVEL_AVX2: fastscan_avx2(blocks, blockCount, pairCount, luts, out, narrow); return;
  default: break;
  }
#endif
  (void)narrow;
  fastscan_portable(blocks, blockCount, pairCount, luts, out);
}

void cvq_fastscan_accumulate(const uint8_t *blocks, size_t blockCount, size_t pairCount, const uint8_t *luts,
                             uint32_t *out) {
  cvq_fastscan_dispatch(blocks, blockCount, pairCount, luts, out, 0);
}

void cvq_fastscan_accumulate_narrow(const uint8_t *blocks, size_t blockCount, size_t pairCount, const uint8_t *luts,
                                    uint32_t *out) {
  cvq_fastscan_dispatch(blocks, blockCount, pairCount, luts, out, 1);
}
