// Scalar quantize + bit pack, unpack + dequantize, unpack + dot: one body, included by pack.c once per
// level (kernel_levels.h). The specification is PackReference (Sources/VQKernels/PackReference.swift).
//
// Every kernel works on chunks of CVQ_CHUNK codes (a multiple of 8, so a chunk starts on a byte
// boundary at every bit width): codes are computed one per byte in a vectorizable loop, then packed
// (or unpacked) with one formula per bit width.

#define F(name) CVQ_CONCAT(name, CVQ_LEVEL)
#define FN static inline __attribute__((always_inline)) CVQ_TARGET
#if CVQ_WIDE == 16
#define VF cvq_f32x16
#define VI cvq_i32x16
#else
#define VF cvq_f32x8
#define VI cvq_i32x8
#endif
#define VW CVQ_WIDE

/// Packs `count` codes (one per byte, c zero-padded to a multiple of 8) at `bits` bits into `bytes` bytes.
FN void F(pack)(const uint8_t *c, size_t count, int bits, uint8_t *out, size_t bytes) {
  size_t groups = (count + 7) / 8;
  switch (bits) {
  case 8:
    memcpy(out, c, bytes);
    return;
  case 4:
    for (size_t j = 0; j < bytes; j++) out[j] = (uint8_t)(c[2 * j] | (c[2 * j + 1] << 4));
    return;
  case 2:
    for (size_t j = 0; j < bytes; j++)
      out[j] = (uint8_t)(c[4 * j] | (c[4 * j + 1] << 2) | (c[4 * j + 2] << 4) | (c[4 * j + 3] << 6));
    return;
  case 1:
    for (size_t j = 0; j < bytes; j++) {
      const uint8_t *g = c + 8 * j;
      out[j] = (uint8_t)(g[0] | (g[1] << 1) | (g[2] << 2) | (g[3] << 3) | (g[4] << 4) | (g[5] << 5) | (g[6] << 6) |
                         (g[7] << 7));
    }
    return;
  default:
    for (size_t g = 0; g < groups; g++) {
      uint64_t word = 0;
      for (int k = 0; k < 8; k++) word |= (uint64_t)c[8 * g + k] << (k * bits);
      size_t first = g * (size_t)bits;
      size_t n = first + (size_t)bits <= bytes ? (size_t)bits : bytes - first;
      for (size_t t = 0; t < n; t++) out[first + t] = (uint8_t)(word >> (8 * t));
    }
    return;
  }
}

/// Unpacks `count` codes of `bits` bits from `bytes` bytes into c (one per byte; c has room for
/// count rounded up to a multiple of 8).
FN void F(unpack)(const uint8_t *in, size_t count, int bits, size_t bytes, uint8_t *c) {
  size_t groups = (count + 7) / 8;
  switch (bits) {
  case 8:
    memcpy(c, in, count);
    return;
  case 4:
    for (size_t j = 0; j < bytes; j++) {
      c[2 * j] = in[j] & 15;
      c[2 * j + 1] = in[j] >> 4;
    }
    return;
  case 2:
    for (size_t j = 0; j < bytes; j++) {
      c[4 * j] = in[j] & 3;
      c[4 * j + 1] = (in[j] >> 2) & 3;
      c[4 * j + 2] = (in[j] >> 4) & 3;
      c[4 * j + 3] = in[j] >> 6;
    }
    return;
  case 1:
    for (size_t j = 0; j < bytes; j++)
      for (int k = 0; k < 8; k++) c[8 * j + k] = (in[j] >> k) & 1;
    return;
  default: {
    uint64_t mask = ((uint64_t)1 << bits) - 1;
    for (size_t g = 0; g < groups; g++) {
      size_t first = g * (size_t)bits;
      size_t n = first + (size_t)bits <= bytes ? (size_t)bits : bytes - first;
      uint64_t word = 0;
      for (size_t t = 0; t < n; t++) word |= (uint64_t)in[first + t] << (8 * t);
      for (int k = 0; k < 8; k++) c[8 * g + k] = (uint8_t)((word >> (k * bits)) & mask);
    }
    return;
  }
  }
}

/// Bytes of packed data for codes [start, start + count) when start is a multiple of 8.
FN size_t F(packed_bytes)(size_t count, int bits) { return (count * (size_t)bits + 7) / 8; }

CVQ_TARGET void F(cvq_quantize_uniform_pack)(const float *x, size_t n, float scale, float offset, uint32_t max_index,
                                             int bits, uint8_t *out) {
  uint8_t c[CVQ_CHUNK + 8];
  const float top = (float)max_index, above = (float)max_index + 1.0f;
  const float magic = 12582912.0f;   // 1.5·2^23: adding and subtracting it rounds |v| < 2^22 half to even
  for (size_t start = 0; start < n; start += CVQ_CHUNK) {
    size_t count = n - start < CVQ_CHUNK ? n - start : CVQ_CHUNK;
    const float *xs = x + start;
    for (size_t k = 0; k < count; k++) {
      float v = xs[k] * scale;
      v = v + offset;
      // Clamping to [−1, max + 1] first does not change rint(v) clamped to [0, max]; NaN → −1 → 0.
      v = v > -1.0f ? v : -1.0f;
      v = v < above ? v : above;
      v = (v + magic) - magic;
      v = v > 0.0f ? v : 0.0f;
      v = v < top ? v : top;
      c[k] = (uint8_t)(int32_t)v;
    }
    for (size_t k = count; k < ((count + 7) & ~(size_t)7); k++) c[k] = 0;
    F(pack)(c, count, bits, out + start / 8 * (size_t)bits, F(packed_bytes)(count, bits));
  }
}

CVQ_TARGET void F(cvq_quantize_thresholds_pack)(const float *x, size_t n, float scale, const float *thresholds,
                                                size_t threshold_count, int bits, uint8_t *out) {
  uint8_t c[CVQ_CHUNK + 8];
  if (threshold_count >= 16) {
    // Many thresholds: binary search over the ascending list padded with +∞ to 2^bits − 1 entries
    // (+∞ < v is false for every v, so the count of thresholds below v is unchanged).
    float padded[256];
    size_t entries = ((size_t)1 << bits) - 1;
    for (size_t j = 0; j < entries; j++) padded[j] = j < threshold_count ? thresholds[j] : __builtin_inff();
    for (size_t start = 0; start < n; start += CVQ_CHUNK) {
      size_t count = n - start < CVQ_CHUNK ? n - start : CVQ_CHUNK;
      const float *xs = x + start;
      float v[CVQ_CHUNK];
      uint32_t index[CVQ_CHUNK];
      for (size_t k = 0; k < count; k++) {
        v[k] = xs[k] * scale;
        index[k] = 0;
      }
      for (uint32_t step = (uint32_t)1 << (bits - 1); step >= 1; step >>= 1)
        for (size_t k = 0; k < count; k++) index[k] += padded[index[k] + step - 1] < v[k] ? step : 0;
      for (size_t k = 0; k < count; k++) c[k] = (uint8_t)index[k];
      for (size_t t = count; t < ((count + 7) & ~(size_t)7); t++) c[t] = 0;
      F(pack)(c, count, bits, out + start / 8 * (size_t)bits, F(packed_bytes)(count, bits));
    }
    return;
  }
  for (size_t start = 0; start < n; start += CVQ_CHUNK) {
    size_t count = n - start < CVQ_CHUNK ? n - start : CVQ_CHUNK;
    const float *xs = x + start;
    size_t k = 0;
    for (; k + VW <= count; k += VW) {
      VF v;
      memcpy(&v, xs + k, sizeof v);
      v = v * scale;
      VI q = {0};
      for (size_t j = 0; j < threshold_count; j++) {
        VF t = v;
        for (int l = 0; l < VW; l++) t[l] = thresholds[j];   // broadcast
        q -= (VI)(t < v);                                      // a true comparison lane is −1
      }
      for (int l = 0; l < VW; l++) c[k + (size_t)l] = (uint8_t)q[l];
    }
    for (; k < count; k++) {
      float v = xs[k] * scale;
      uint32_t q = 0;
      for (size_t j = 0; j < threshold_count; j++) q += thresholds[j] < v;
      c[k] = (uint8_t)q;
    }
    for (size_t t = count; t < ((count + 7) & ~(size_t)7); t++) c[t] = 0;
    F(pack)(c, count, bits, out + start / 8 * (size_t)bits, F(packed_bytes)(count, bits));
  }
}

CVQ_TARGET void F(cvq_unpack_dequantize)(const uint8_t *codes, size_t n, int bits, const float *table, float scale,
                                         float *y) {
  uint8_t c[CVQ_CHUNK + 8];
  float scaled[256];
  size_t entries = (size_t)1 << bits;
  for (size_t j = 0; j < entries; j++) scaled[j] = table[j] * scale;   // the same product per code
  for (size_t start = 0; start < n; start += CVQ_CHUNK) {
    size_t count = n - start < CVQ_CHUNK ? n - start : CVQ_CHUNK;
    F(unpack)(codes + start / 8 * (size_t)bits, count, bits, F(packed_bytes)(count, bits), c);
    float *ys = y + start;
    for (size_t k = 0; k < count; k++) ys[k] = scaled[c[k]];
  }
}

/// Σ_i q[i]·table[code_i]: 32 running sums over i mod 32 (in order of i, product then sum, each
/// rounded), then the tree s[l] += s[l + w] for w = 16, 8, 4, 2, 1; the result is s[0].
CVQ_TARGET float F(cvq_unpack_dot)(const uint8_t *codes, size_t n, int bits, const float *table, const float *q) {
  uint8_t c[CVQ_CHUNK + 8];
  float values[CVQ_CHUNK];
  cvq_f32x16 lo = {0}, hi = {0};   // sums of lanes 0…15 and 16…31
  for (size_t start = 0; start < n; start += CVQ_CHUNK) {
    size_t count = n - start < CVQ_CHUNK ? n - start : CVQ_CHUNK;
    F(unpack)(codes + start / 8 * (size_t)bits, count, bits, F(packed_bytes)(count, bits), c);
    for (size_t k = 0; k < count; k++) values[k] = table[c[k]];
    for (size_t k = count; k < CVQ_CHUNK; k++) values[k] = 0.0f;
    const float *qs = q + start;
    size_t k = 0;
    for (; k + 32 <= count; k += 32) {
      cvq_f32x16 q0, q1, t0, t1;
      memcpy(&q0, qs + k, sizeof q0);
      memcpy(&q1, qs + k + 16, sizeof q1);
      memcpy(&t0, values + k, sizeof t0);
      memcpy(&t1, values + k + 16, sizeof t1);
      lo = lo + q0 * t0;
      hi = hi + q1 * t1;
    }
    // Tail (< 32 codes, only in the last chunk): lane k mod 32, in order.
    for (; k < count; k++) {
      float product = qs[k] * values[k];
      if (k % 32 < 16) lo[k % 16] = lo[k % 16] + product; else hi[k % 16] = hi[k % 16] + product;
    }
  }
  cvq_f32x16 s = lo + hi;   // w = 16
  float r[16];
  memcpy(r, &s, sizeof r);
  for (int w = 8; w >= 1; w /= 2)
    for (int l = 0; l < w; l++) r[l] = r[l] + r[l + w];
  return r[0];
}

#undef F
#undef FN
#undef VF
#undef VI
#undef VW
