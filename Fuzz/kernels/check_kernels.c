// Every C kernel of CVQKernels under AddressSanitizer and UndefinedBehaviorSanitizer, at every level this
// CPU supports, on exact-size heap buffers (so a vector loop that reads or writes one byte past a tail
// is caught), over sizes around every lane and block boundary. Each level's output must be
// byte-identical to the portable level's (the kernels' contract). Built and run by Fuzz/check-kernels.sh.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvq_dot.h"
#include "cvq_fastscan.h"
#include "cvq_kernels.h"
#include "cvq_rabitq.h"

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}
static float next_float(void) { return (float)((double)(next_u64() >> 11) * 0x1.0p-53 * 2.0 - 1.0); }

static void *exact(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
  return p;
}
static float *floats(size_t n) {
  float *p = exact(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = next_float();
  return p;
}
static uint8_t *random_bytes(size_t n) {
  uint8_t *p = exact(n);
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)next_u64();
  return p;
}

static int failures = 0, checks = 0;
static cvq_level levels[3];
static int level_count = 0;
static const char *level_names[] = {"portable", "avx2", "avx512"};

// Runs `body` at every level into its own output buffer of `bytes` and compares with the portable one.
#define AT_EVERY_LEVEL(bytes, name, out, ...)                                                           \
  do {                                                                                                   \
    uint8_t *reference = NULL;                                                                           \
    for (int li = 0; li < level_count; li++) {                                                           \
      cvq_set_kernel_level(levels[li]);                                                                  \
      uint8_t *out = exact(bytes);                                                                       \
      memset(out, 0, bytes);                                                                             \
      __VA_ARGS__;                                                                                       \
      if (!reference) {                                                                                  \
        reference = out;                                                                                 \
      } else {                                                                                           \
        checks++;                                                                                        \
        if (memcmp(reference, out, bytes) != 0) {                                                        \
          failures++;                                                                                    \
          fprintf(stderr, "MISMATCH %s at %s vs portable\n", name, level_names[levels[li]]);            \
        }                                                                                                \
        free(out);                                                                                       \
      }                                                                                                  \
    }                                                                                                    \
    free(reference);                                                                                     \
  } while (0)

static const size_t sizes[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 383, 384, 385, 1000, 1024, 1536};
#define SIZE_COUNT (sizeof(sizes) / sizeof(sizes[0]))

static void check_hadamard(void) {
  const size_t rows_list[] = {1, 12};
  for (size_t ri = 0; ri < 2; ri++) {
    for (size_t p = 1; p <= 512; p *= 2) {
      size_t rows = rows_list[ri], n = rows * p;
      for (size_t rounds = 1; rounds <= 3; rounds++) {
        size_t words = (rounds * n + 63) / 64;
        uint64_t *signs = exact(words * sizeof(uint64_t));
        for (size_t i = 0; i < words; i++) signs[i] = next_u64();
        size_t input_count = n - (n > 3 ? next_u64() % 3 : 0);
        float *x = floats(input_count);
        char name[96];
        snprintf(name, sizeof name, "rht_forward rows=%zu p=%zu rounds=%zu in=%zu", rows, p, rounds, input_count);
        AT_EVERY_LEVEL(n * sizeof(float), name, out, cvq_rht_forward(x, input_count, (float *)out, rows, p, signs, rounds, 0.5f));
        float *y = floats(n);
        snprintf(name, sizeof name, "rht_inverse rows=%zu p=%zu rounds=%zu out=%zu", rows, p, rounds, input_count);
        AT_EVERY_LEVEL(input_count * sizeof(float), name, out, {
          float *work = exact(n * sizeof(float));
          cvq_rht_inverse(y, (float *)out, input_count, rows, p, signs, rounds, 0.5f, work);
          free(work);
        });
        // In place: y == x.
        snprintf(name, sizeof name, "rht_forward in place rows=%zu p=%zu rounds=%zu", rows, p, rounds);
        AT_EVERY_LEVEL(n * sizeof(float), name, out, {
          memcpy(out, y, n * sizeof(float));
          cvq_rht_forward((float *)out, n, (float *)out, rows, p, signs, rounds, 1.0f);
        });
        free(signs); free(x); free(y);
      }
    }
  }
}

static void check_pack(void) {
  for (size_t si = 0; si < SIZE_COUNT; si++) {
    size_t n = sizes[si];
    float *x = floats(n), *q = floats(n);
    for (int bits = 1; bits <= 8; bits++) {
      size_t bytes = (n * (size_t)bits + 7) / 8;
      uint32_t max_index = (1u << bits) - 1;
      char name[96];
      snprintf(name, sizeof name, "quantize_uniform_pack n=%zu bits=%d", n, bits);
      AT_EVERY_LEVEL(bytes, name, out, cvq_quantize_uniform_pack(x, n, 3.7f, (float)max_index / 2, max_index, bits, out));
      size_t tcount = max_index;
      float *thresholds = exact(tcount * sizeof(float) + 1);
      for (size_t j = 0; j < tcount; j++) thresholds[j] = -1.0f + 2.0f * (float)(j + 1) / (float)(tcount + 1);
      snprintf(name, sizeof name, "quantize_thresholds_pack n=%zu bits=%d", n, bits);
      AT_EVERY_LEVEL(bytes, name, out, cvq_quantize_thresholds_pack(x, n, 1.1f, thresholds, tcount, bits, out));
      uint8_t *codes = random_bytes(bytes);
      float *table = floats((size_t)1 << bits);
      snprintf(name, sizeof name, "unpack_dequantize n=%zu bits=%d", n, bits);
      AT_EVERY_LEVEL(n * sizeof(float), name, out, cvq_unpack_dequantize(codes, n, bits, table, 0.25f, (float *)out));
      snprintf(name, sizeof name, "unpack_dot n=%zu bits=%d", n, bits);
      AT_EVERY_LEVEL(sizeof(float), name, out, { float s = cvq_unpack_dot(codes, n, bits, table, q); memcpy(out, &s, sizeof s); });
      free(thresholds); free(codes); free(table);
    }
    free(x); free(q);
  }
}

static void check_dot(void) {
  for (size_t si = 0; si < SIZE_COUNT; si++) {
    size_t d = sizes[si], count = next_u64() % 10;
    float *x = floats(d), *rows = floats(count * d + 1);
    char name[96];
    snprintf(name, sizeof name, "dot_rows d=%zu count=%zu", d, count);
    AT_EVERY_LEVEL(count * sizeof(float) + 1, name, out, cvq_dot_rows(x, rows, count, d, (float *)out));
    free(x); free(rows);
  }
}

static void check_rabitq(void) {
  for (size_t si = 0; si < SIZE_COUNT; si++) {
    size_t dim = sizes[si], bytes = (dim + 7) / 8, count = 1 + next_u64() % 70;
    size_t stride = bytes + next_u64() % 5;
    uint8_t *codes = random_bytes(stride * (count - 1) + bytes);
    for (int planes_n = 1; planes_n <= 8; planes_n += 3) {
      uint8_t *planes = random_bytes(bytes * (size_t)planes_n);
      char name[96];
      snprintf(name, sizeof name, "rabitq_sign_dot dim=%zu count=%zu planes=%d", dim, count, planes_n);
      AT_EVERY_LEVEL(2 * count * sizeof(int64_t), name, out,
                     cvq_rabitq_sign_dot(codes, stride, count, bytes, planes, planes_n, (int64_t *)out, (int64_t *)out + count));
      free(planes);
    }
    for (int bits = 1; bits <= 8; bits++) {
      size_t ex_bytes = (dim * (size_t)bits + 7) / 8, offset = bytes, ex_stride = offset + ex_bytes;
      uint8_t *ex = random_bytes(ex_stride * count);
      uint16_t *query = exact(dim * sizeof(uint16_t));
      for (size_t i = 0; i < dim; i++) query[i] = (uint16_t)(next_u64() & 0x7FFF);
      char name[96];
      snprintf(name, sizeof name, "rabitq_ex_dot dim=%zu count=%zu bits=%d", dim, count, bits);
      AT_EVERY_LEVEL(2 * count * sizeof(int64_t), name, out,
                     cvq_rabitq_ex_dot(ex, ex_stride, offset, count, dim, bits, query, (int64_t *)out, (int64_t *)out + count));
      free(ex); free(query);
    }
    float *x = floats(dim);
    char name[96];
    snprintf(name, sizeof name, "rabitq_magnitudes dim=%zu", dim);
    AT_EVERY_LEVEL(dim * (sizeof(float) + sizeof(int32_t)) + sizeof(float), name, out, {
      float m = cvq_rabitq_magnitudes(x, dim, (float *)out, (int32_t *)(out + dim * sizeof(float)));
      memcpy(out + dim * (sizeof(float) + sizeof(int32_t)), &m, sizeof m);
    });
    float *a = exact(dim * sizeof(float));
    int32_t *A = exact(dim * sizeof(int32_t));
    cvq_set_kernel_level(CVQ_LEVEL_PORTABLE);
    cvq_rabitq_magnitudes(x, dim, a, A);
    for (int ex_bits = 0; ex_bits <= 8; ex_bits++) {
      int32_t K = (1 << ex_bits) - 1;
      float t = (float)K * 0.8f + 0.5f;
      snprintf(name, sizeof name, "rabitq_rescale_eval dim=%zu K=%d", dim, K);
      AT_EVERY_LEVEL(3 * sizeof(int64_t), name, out, cvq_rabitq_rescale_eval(a, A, dim, t, K, (int64_t *)out));
      size_t capacity = 4 * dim + 1;
      snprintf(name, sizeof name, "rabitq_events dim=%zu K=%d", dim, K);
      AT_EVERY_LEVEL(capacity * sizeof(cvq_rabitq_event) + sizeof(size_t), name, out, {
        size_t found = cvq_rabitq_events(a, A, dim, t * 0.5f, t, K, (cvq_rabitq_event *)out, capacity);
        memcpy(out + capacity * sizeof(cvq_rabitq_event), &found, sizeof found);
      });
      size_t ex_bytes = (dim * (size_t)ex_bits + 7) / 8;
      snprintf(name, sizeof name, "rabitq_quantize dim=%zu exBits=%d", dim, ex_bits);
      AT_EVERY_LEVEL(bytes + ex_bytes + 4 * sizeof(double), name, out, {
        uint8_t *signs = exact(bytes), *exp = ex_bits > 0 ? exact(ex_bytes) : NULL;
        double sums[4];
        cvq_rabitq_quantize(x, dim, t, ex_bits, signs, exp, sums);
        memcpy(out, signs, bytes);
        if (exp) memcpy(out + bytes, exp, ex_bytes);
        memcpy(out + bytes + ex_bytes, sums, sizeof sums);
        free(signs); free(exp);
      });
    }
    int64_t *dot = exact(count * sizeof(int64_t)), *pop = exact(count * sizeof(int64_t));
    for (size_t k = 0; k < count; k++) { dot[k] = (int64_t)(next_u64() % 100000); pop[k] = (int64_t)(next_u64() % 1000); }
    float *scale = floats(count);
    snprintf(name, sizeof name, "rabitq_sign_estimates count=%zu", count);
    AT_EVERY_LEVEL(count * sizeof(float), name, out, cvq_rabitq_sign_estimates(dot, pop, count, scale, 0.01f, -0.5f, 0.25f, 1.5f, (float *)out));
    free(codes); free(x); free(a); free(A); free(dot); free(pop); free(scale);
  }
}

static void check_fastscan(void) {
  const size_t pair_counts[] = {1, 2, 3, 16, 64, 127, 128, 129, 200, 511, 512, 513};
  for (size_t pi = 0; pi < sizeof pair_counts / sizeof pair_counts[0]; pi++) {
    size_t pairs = pair_counts[pi];
    for (size_t blocks = 1; blocks <= 3; blocks++) {
      uint8_t *codes = random_bytes(blocks * pairs * 32), *luts = random_bytes(pairs * 32);
      char name[96];
      snprintf(name, sizeof name, "fastscan_accumulate pairs=%zu blocks=%zu", pairs, blocks);
      AT_EVERY_LEVEL(blocks * 32 * sizeof(uint32_t), name, out, cvq_fastscan_accumulate(codes, blocks, pairs, luts, (uint32_t *)out));
      for (size_t i = 0; i < pairs * 32; i++) luts[i] &= 127;   // the narrow kernel's 7-bit tables
      snprintf(name, sizeof name, "fastscan_accumulate_narrow pairs=%zu blocks=%zu", pairs, blocks);
      AT_EVERY_LEVEL(blocks * 32 * sizeof(uint32_t), name, out, cvq_fastscan_accumulate_narrow(codes, blocks, pairs, luts, (uint32_t *)out));
      free(codes); free(luts);
    }
  }
  for (size_t si = 0; si < SIZE_COUNT; si++) {
    size_t n = sizes[si];
    uint32_t *sums = exact(n * sizeof(uint32_t));
    for (size_t k = 0; k < n; k++) sums[k] = (uint32_t)(next_u64() % (1u << 20));
    float *scale = floats(n);
    char name[96];
    snprintf(name, sizeof name, "fastscan_affine n=%zu", n);
    AT_EVERY_LEVEL(n * sizeof(float), name, out, cvq_fastscan_affine(sums, n, scale, 0.01f, -3.0f, 0.5f, NULL, (float *)out));
    float *adds = floats(n);
    snprintf(name, sizeof name, "fastscan_affine+adds n=%zu", n);
    AT_EVERY_LEVEL(n * sizeof(float), name, out, cvq_fastscan_affine(sums, n, scale, 0.01f, -3.0f, 0.5f, adds, (float *)out));
    free(sums); free(scale); free(adds);
  }
}

int main(void) {
  cvq_level best = cvq_best_supported_level();
  for (int l = CVQ_LEVEL_PORTABLE; l <= (int)best; l++) levels[level_count++] = (cvq_level)l;
  check_hadamard();
  check_pack();
  check_rabitq();
  check_dot();
  check_fastscan();
  printf("check-kernels: %d cross-level comparisons at levels", checks);
  for (int i = 0; i < level_count; i++) printf(" %s", level_names[levels[i]]);
  printf(" (portable is the reference): %d mismatches, no sanitizer report\n", failures);
  return failures ? 1 : 0;
}
