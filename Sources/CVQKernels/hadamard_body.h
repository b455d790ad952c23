// Randomized Hadamard transform: one body, included by hadamard.c once per level (kernel_levels.h).
//
// The specification is HadamardReference (Sources/VQKernels/HadamardReference.swift). Every output is
// produced by the same IEEE operations in the same order as there: the butterflies of an FWHT stage
// are independent, so fusing several stages into one pass over memory, or doing the low stages inside
// a register, changes only *when* each (a + b, a − b) is computed, never its operands. `a − b` is
// sometimes computed as fma(b, −1, a): the product is exact, so the single rounding gives the same
// bits as the subtraction (and the FMA pipes share the work with the add pipes).
//
// Passes per round and row of p floats: (1) read the source (the input on round 0: copy, sign flip by
// XOR of the sign bit, zero padding) and do stages h = 1 … min(p, 64)/2 in blocks of 64 floats held in
// registers; (2) the remaining stages, three or four per pass (radix 8 / 16 across registers);
// (3) for n = 12·p, the H12 pass across the 12 rows. The final scale multiply rides on the last pass.

#define F(name) CVQ_CONCAT(name, CVQ_LEVEL)
#define FN static inline __attribute__((always_inline)) CVQ_TARGET
#if CVQ_WIDE == 16
#define VF cvq_f32x16
#else
#define VF cvq_f32x8
#endif
#define VW CVQ_WIDE
#define VSUB(a, b) ((a) - (b))
/// Four wide stages: one radix-16 pass when 32 vector registers hold it (AVX-512), else 2 + 2.
#if CVQ_WIDE == 16
#define CVQ_RADIX4_SPLIT 4
#else
#define CVQ_RADIX4_SPLIT 2
#endif

// Unaligned vector load and store (macros: vector-typed arguments would change the ABI at the portable level).
#define HLOAD(p) ({ VF v_; memcpy(&v_, (p), sizeof v_); v_; })
#define HSTORE(p, v) do { VF v_ = (v); memcpy((p), &v_, sizeof v_); } while (0)

/// `count` (≤ 64) sign bits starting at bit `bit` of the stream, bit k of the result = bit `bit + k`.
FN uint64_t F(bits_at)(const uint64_t *signs, size_t bit, unsigned count) {
  size_t word = bit >> 6;
  unsigned shift = (unsigned)(bit & 63);
  uint64_t v = signs[word] >> shift;
  if (shift != 0 && shift + count > 64) v |= signs[word + 1] << (64 - shift);
  return v;
}

FN float F(flip)(float v, uint64_t bit) {
  uint32_t u;
  memcpy(&u, &v, 4);
  u ^= (uint32_t)(bit & 1) << 31;
  memcpy(&v, &u, 4);
  return v;
}

// MARK: first pass, generic (portable level; every level for p < 8)

/// Block of `count` (≤ 64) floats: dst[i] = ±(i < valid ? src[i] : 0), then stages h = 1 … count/2.
FN void F(first_block_generic)(const float *src, size_t valid, float *dst, size_t count,
                               const uint64_t *signs, size_t bit, int scaled, float scale) {
  float b[64];
  uint64_t bits = signs ? F(bits_at)(signs, bit, (unsigned)count) : 0;
  for (size_t i = 0; i < count; i++) b[i] = F(flip)(i < valid ? src[i] : 0.0f, bits >> i);
  for (size_t h = 1; h < count; h *= 2) {
    for (size_t i = 0; i < count; i += 2 * h) {
      for (size_t j = i; j < i + h; j++) {
        float a = b[j], c = b[j + h];
        b[j] = a + c;
        b[j + h] = a - c;
      }
    }
  }
  if (scaled) for (size_t i = 0; i < count; i++) b[i] = b[i] * scale;
  memcpy(dst, b, count * sizeof(float));
}

#if CVQ_AVX2_INTRINSICS
// MARK: first pass, AVX2 (stages h = 1, 2, 4 inside one ymm; h = 8, 16, 32 across up to 8 ymm)

/// Stages h = 1, 2, 4 of the FWHT of 8 floats: v·(±1) + partner, the product exact.
FN __m256 F(fwht8)(__m256 v) {
  v = _mm256_fmadd_ps(v, _mm256_setr_ps(1, -1, 1, -1, 1, -1, 1, -1), _mm256_permute_ps(v, 0xB1));
  v = _mm256_fmadd_ps(v, _mm256_setr_ps(1, 1, -1, -1, 1, 1, -1, -1), _mm256_permute_ps(v, 0x4E));
  v = _mm256_fmadd_ps(v, _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1), _mm256_permute2f128_ps(v, v, 0x01));
  return v;
}

/// One block of 8·V floats (V = 1, 2, 4, 8), all of them present in src: sign flip by the block's bits
/// (bit k of `bits` for float k), stages h = 1 … 4V, optional scale, store.
FN void F(first_block_avx2)(const float *src, float *dst, uint64_t bits, const int flip, const int V,
                            const int scaled, float scale) {
  __m256 r[8];
  CVQ_UNROLL for (int k = 0; k < V; k++) {
    __m256 v = _mm256_loadu_ps(src + 8 * k);
    if (flip) {
      const float *mask = (const float *)cvq_sign_masks[(bits >> (8 * k)) & 0xFF];
      v = _mm256_xor_ps(v, _mm256_load_ps(mask));
    }
    r[k] = F(fwht8)(v);
  }
  CVQ_UNROLL for (int s = 1; s < V; s <<= 1) {
    CVQ_UNROLL for (int k = 0; k < V; k++) {
      if (k & s) continue;
      __m256 a = r[k], b = r[k + s];
      r[k] = _mm256_add_ps(a, b);
      r[k + s] = _mm256_sub_ps(a, b);
    }
  }
  if (scaled) {
    __m256 sv = _mm256_set1_ps(scale);
    CVQ_UNROLL for (int k = 0; k < V; k++) r[k] = _mm256_mul_ps(r[k], sv);
  }
  CVQ_UNROLL for (int k = 0; k < V; k++) _mm256_storeu_ps(dst + 8 * k, r[k]);
}

/// The first pass over one row with blocks of 8·V floats.
FN void F(first_pass_avx2)(const float *src, size_t valid, float *dst, size_t p, const uint64_t *signs, size_t bit,
                           const int V, int scaled, float scale) {
  const size_t block = (size_t)(8 * V);
  for (size_t b = 0; b < p; b += block) {
    const float *from = src + b;
    float padded[64];
    if (valid < b + block) {   // a block with padding: copy what there is, zero the rest
      size_t have = valid > b ? valid - b : 0;
      for (size_t i = 0; i < block; i++) padded[i] = i < have ? from[i] : 0.0f;
      from = padded;
    }
    if (signs) {
      uint64_t bits = F(bits_at)(signs, bit + b, (unsigned)block);
      if (scaled) F(first_block_avx2)(from, dst + b, bits, 1, V, 1, scale);
      else F(first_block_avx2)(from, dst + b, bits, 1, V, 0, scale);
    } else {
      if (scaled) F(first_block_avx2)(from, dst + b, 0, 0, V, 1, scale);
      else F(first_block_avx2)(from, dst + b, 0, 0, V, 0, scale);
    }
  }
}
#endif

// MARK: wide stages (h ≥ 64): radix 2^m across registers, vectorized along j

/// Stages h, 2h, …, 2^(m−1)·h on the row `y` of p floats; element k of a butterfly group sits at j + k·h.
FN void F(wide_pass)(float *y, size_t p, size_t h, const int m, int scaled, float scale) {
  const int R = 1 << m;
  for (size_t block = 0; block < p; block += (size_t)R * h) {
    for (size_t j = block; j < block + h; j += VW) {
      VF a[16];
      CVQ_UNROLL for (int k = 0; k < R; k++) a[k] = HLOAD(y + j + (size_t)k * h);
      CVQ_UNROLL for (int s = 1; s < R; s <<= 1) {
        CVQ_UNROLL for (int k = 0; k < R; k++) {
          if (k & s) continue;
          VF u = a[k], v = a[k + s];
          a[k] = u + v;
          a[k + s] = VSUB(u, v);
        }
      }
      if (scaled) CVQ_UNROLL for (int k = 0; k < R; k++) a[k] = a[k] * scale;
      CVQ_UNROLL for (int k = 0; k < R; k++) HSTORE(y + j + (size_t)k * h, a[k]);
    }
  }
}

FN void F(wide_pass_m)(float *y, size_t p, size_t h, int m, int scaled, float scale) {
  switch (m) {
  case 1: F(wide_pass)(y, p, h, 1, scaled, scale); break;
  case 2: F(wide_pass)(y, p, h, 2, scaled, scale); break;
  case 3: F(wide_pass)(y, p, h, 3, scaled, scale); break;
  default: F(wide_pass)(y, p, h, 4, scaled, scale); break;
  }
}

/// FWHT of one row: reads `valid` floats of src (the rest is zero), flips signs from bit `bit` on
/// (none if signs is NULL), writes dst; multiplies by scale at the end if `scaled`.
FN void F(fwht_row)(const float *src, size_t valid, float *dst, size_t p, const uint64_t *signs, size_t bit,
                    int scaled, float scale) {
  size_t block = p < 64 ? p : 64;
  int first_scaled = scaled && p <= 64;
#if CVQ_AVX2_INTRINSICS
  if (p >= 8) {
    switch (block) {
    case 8: F(first_pass_avx2)(src, valid, dst, p, signs, bit, 1, first_scaled, scale); break;
    case 16: F(first_pass_avx2)(src, valid, dst, p, signs, bit, 2, first_scaled, scale); break;
    case 32: F(first_pass_avx2)(src, valid, dst, p, signs, bit, 4, first_scaled, scale); break;
    default: F(first_pass_avx2)(src, valid, dst, p, signs, bit, 8, first_scaled, scale); break;
    }
  } else
#endif
  {
    for (size_t b = 0; b < p; b += block) {
      size_t v = valid > b ? valid - b : 0;
      F(first_block_generic)(src + b, v, dst + b, block, signs, bit + b, first_scaled, scale);
    }
  }
  // Remaining stages h = 64 … p/2: m = log2(p/64) of them, three (or four) per pass.
  int m = 0;
  for (size_t q = block; q < p; q *= 2) m++;
  size_t h = block;
  while (m > 0) {
    int take = m == 4 ? CVQ_RADIX4_SPLIT : (m >= 3 ? 3 : m);
    m -= take;
    F(wide_pass_m)(dst, p, h, take, scaled && m == 0, scale);
    h <<= take;
  }
}

// MARK: H12 across the 12 rows (n = 12·p)

#define CVQ_H12_FORWARD(OUT) \
  OUT(0, x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11); \
  OUT(1, -x0 + x1 + x2 - x3 + x4 + x5 + x6 - x7 - x8 - x9 + x10 - x11); \
  OUT(2, -x0 - x1 + x2 + x3 - x4 + x5 + x6 + x7 - x8 - x9 - x10 + x11); \
  OUT(3, -x0 + x1 - x2 + x3 + x4 - x5 + x6 + x7 + x8 - x9 - x10 - x11); \
  OUT(4, -x0 - x1 + x2 - x3 + x4 + x5 - x6 + x7 + x8 + x9 - x10 - x11); \
  OUT(5, -x0 - x1 - x2 + x3 - x4 + x5 + x6 - x7 + x8 + x9 + x10 - x11); \
  OUT(6, -x0 - x1 - x2 - x3 + x4 - x5 + x6 + x7 - x8 + x9 + x10 + x11); \
  OUT(7, -x0 + x1 - x2 - x3 - x4 + x5 - x6 + x7 + x8 - x9 + x10 + x11); \
  OUT(8, -x0 + x1 + x2 - x3 - x4 - x5 + x6 - x7 + x8 + x9 - x10 + x11); \
  OUT(9, -x0 + x1 + x2 + x3 - x4 - x5 - x6 + x7 - x8 + x9 + x10 - x11); \
  OUT(10, -x0 - x1 + x2 + x3 + x4 - x5 - x6 - x7 + x8 - x9 + x10 + x11); \
  OUT(11, -x0 + x1 - x2 + x3 + x4 + x5 - x6 - x7 - x8 + x9 - x10 + x11);

#define CVQ_H12_TRANSPOSED(OUT) \
  OUT(0, x0 - x1 - x2 - x3 - x4 - x5 - x6 - x7 - x8 - x9 - x10 - x11); \
  OUT(1, x0 + x1 - x2 + x3 - x4 - x5 - x6 + x7 + x8 + x9 - x10 + x11); \
  OUT(2, x0 + x1 + x2 - x3 + x4 - x5 - x6 - x7 + x8 + x9 + x10 - x11); \
  OUT(3, x0 - x1 + x2 + x3 - x4 + x5 - x6 - x7 - x8 + x9 + x10 + x11); \
  OUT(4, x0 + x1 - x2 + x3 + x4 - x5 + x6 - x7 - x8 - x9 + x10 + x11); \
  OUT(5, x0 + x1 + x2 - x3 + x4 + x5 - x6 + x7 - x8 - x9 - x10 + x11); \
  OUT(6, x0 + x1 + x2 + x3 - x4 + x5 + x6 - x7 + x8 - x9 - x10 - x11); \
  OUT(7, x0 - x1 + x2 + x3 + x4 - x5 + x6 + x7 - x8 + x9 - x10 - x11); \
  OUT(8, x0 - x1 - x2 + x3 + x4 + x5 - x6 + x7 + x8 - x9 + x10 - x11); \
  OUT(9, x0 - x1 - x2 - x3 + x4 + x5 + x6 - x7 + x8 + x9 - x10 + x11); \
  OUT(10, x0 + x1 - x2 - x3 - x4 + x5 + x6 + x7 - x8 + x9 + x10 - x11); \
  OUT(11, x0 - x1 + x2 - x3 - x4 - x5 + x6 + x7 + x8 - x9 + x10 + x11);

/// out[r] = Σ_k ±x[k] (H12 row r, or column r if transposed), summed left to right, for every column.
FN void F(h12_pass)(float *y, size_t p, int transposed, int scaled, float scale) {
  size_t c = 0;
#define CVQ_LOAD_ROWS(T, LOAD) \
  T x0 = LOAD(0), x1 = LOAD(1), x2 = LOAD(2), x3 = LOAD(3), x4 = LOAD(4), x5 = LOAD(5), \
    x6 = LOAD(6), x7 = LOAD(7), x8 = LOAD(8), x9 = LOAD(9), x10 = LOAD(10), x11 = LOAD(11);
#define CVQ_VLOAD(k) HLOAD(y + (k) * p + c)
#define CVQ_VOUT(r, e) do { VF o = e; if (scaled) o = o * scale; HSTORE(y + (r) * p + c, o); } while (0)
#define CVQ_SLOAD(k) y[(k) * p + c]
#define CVQ_SOUT(r, e) do { float o = e; if (scaled) o = o * scale; y[(r) * p + c] = o; } while (0)
  for (; c + VW <= p; c += VW) {
    CVQ_LOAD_ROWS(VF, CVQ_VLOAD)
    if (transposed) { CVQ_H12_TRANSPOSED(CVQ_VOUT) } else { CVQ_H12_FORWARD(CVQ_VOUT) }
  }
  for (; c < p; c++) {
    CVQ_LOAD_ROWS(float, CVQ_SLOAD)
    if (transposed) { CVQ_H12_TRANSPOSED(CVQ_SOUT) } else { CVQ_H12_FORWARD(CVQ_SOUT) }
  }
#undef CVQ_LOAD_ROWS
#undef CVQ_VLOAD
#undef CVQ_VOUT
#undef CVQ_SLOAD
#undef CVQ_SOUT
}

/// One unnormalized Hadamard transform of order rows·p with the sign flip fused into its read.
FN void F(transform)(const float *src, size_t valid, float *dst, size_t rows, size_t p, const uint64_t *signs,
                     size_t bit, int transposed, int scaled, float scale) {
  for (size_t r = 0; r < rows; r++) {
    size_t offset = r * p;
    size_t v = valid > offset ? valid - offset : 0;
    if (v > p) v = p;
    F(fwht_row)(src + offset, v, dst + offset, p, signs, bit + offset, scaled && rows == 1, scale);
  }
  if (rows == 12) F(h12_pass)(dst, p, transposed, scaled, scale);
}

CVQ_TARGET void F(cvq_rht_forward)(const float *x, size_t input_count, float *y, size_t rows, size_t p,
                                   const uint64_t *signs, size_t rounds, float scale) {
  size_t n = rows * p;
  for (size_t r = 0; r < rounds; r++) {
    F(transform)(r == 0 ? x : y, r == 0 ? input_count : n, y, rows, p, signs, r * n, 0, r + 1 == rounds, scale);
  }
}

CVQ_TARGET void F(cvq_rht_inverse)(const float *y, float *x, size_t output_count, size_t rows, size_t p,
                                   const uint64_t *signs, size_t rounds, float scale, float *work) {
  size_t n = rows * p;
  for (size_t s = 0; s < rounds; s++) {
    size_t r = rounds - 1 - s;
    // Round r: Hᵀ, then D_r. D_{r+1} (the previous step's flip) is fused into this read.
    F(transform)(s == 0 ? y : work, n, work, rows, p, s == 0 ? NULL : signs, (r + 1) * n, 1, 0, scale);
  }
  // D_1 and the scale, fused into the output write (32 floats per word of sign bits: vectorizable).
  size_t i = 0;
  for (; i + 32 <= output_count; i += 32) {
    uint32_t bits = (uint32_t)F(bits_at)(signs, i, 32);
    uint32_t u[32];
    memcpy(u, work + i, sizeof u);
    for (int k = 0; k < 32; k++) u[k] ^= ((bits >> k) & 1u) << 31;
    float v[32];
    memcpy(v, u, sizeof v);
    for (int k = 0; k < 32; k++) x[i + (size_t)k] = v[k] * scale;
  }
  if (i < output_count) {
    size_t count = output_count - i;
    uint64_t bits = F(bits_at)(signs, i, (unsigned)count);
    for (size_t k = 0; k < count; k++) x[i + k] = F(flip)(work[i + k], bits >> k) * scale;
  }
}

#undef F
#undef FN
#undef VF
#undef VW
#undef HLOAD
#undef VSUB
#undef CVQ_RADIX4_SPLIT
#undef HSTORE
