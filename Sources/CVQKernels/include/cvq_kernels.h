// CVQKernels: the ISA-specific hot loops of swift-vq.
//
// Every kernel exists at three levels, compiled from the same source with different
// `__attribute__((target(...)))` sections: portable (any CPU, also ARM), AVX2+FMA, AVX-512
// (F/BW/VL/DQ + VPOPCNTDQ). One dispatch table is chosen at first use from the CPU
// (`__builtin_cpu_supports`), or forced with the environment variable
// VQ_KERNEL_LEVEL=portable|avx2|avx512. All levels give bit-identical results: no FMA
// contraction, the same operation order in every level.
#ifndef CVQ_KERNELS_H
#define CVQ_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  CVQ_LEVEL_PORTABLE = 0,
  CVQ_LEVEL_AVX2 = 1,
  CVQ_LEVEL_AVX512 = 2,
} cvq_level;

/// The level in use (chosen at first call from the CPU and VQ_KERNEL_LEVEL).
cvq_level cvq_kernel_level(void);
/// The best level this CPU supports.
cvq_level cvq_best_supported_level(void);
/// Forces `level`; returns 0 on success, -1 if the CPU does not support it (level unchanged).
int cvq_set_kernel_level(cvq_level level);

/// The level `forced` (a VQ_KERNEL_LEVEL value) asks for, given the best supported level: "portable",
/// "avx2" or "avx512", lowered to `best` if higher; `best` for NULL, "" or an unknown word.
cvq_level cvq_level_from_string(const char *forced, cvq_level best);

// MARK: - Randomized Hadamard (specification: HadamardReference in VQKernels)

/// y = scale · H D_R ⋯ H D_1 · pad(x): x has `input_count` ≤ n = rows·p floats, y has n (y may equal x).
/// H is H_p (rows = 1) or H12 ⊗ H_p (rows = 12), p a power of two; `signs` holds rounds·n bits, round r
/// at bits [r·n, (r+1)·n) (bit set → coordinate negated).
void cvq_rht_forward(const float *x, size_t input_count, float *y, size_t rows, size_t p,
                     const uint64_t *signs, size_t rounds, float scale);

/// x = the first `output_count` ≤ n coordinates of scale · D_1 Hᵀ ⋯ D_R Hᵀ · y. `work` holds n floats
/// (it may equal x when output_count = n, or be NULL: then x or the stack is used when possible).
void cvq_rht_inverse(const float *y, float *x, size_t output_count, size_t rows, size_t p,
                     const uint64_t *signs, size_t rounds, float scale, float *work);

// MARK: - Scalar quantize + pack (specification: PackReference in VQKernels)

/// q_i = clamp(rint(x_i·scale + offset), 0, max_index) (two roundings, ties to even), packed at `bits`
/// (1…8) bits, code i at bits [i·bits, (i+1)·bits) LSB first; writes ⌈n·bits/8⌉ bytes. max_index < 2^bits.
void cvq_quantize_uniform_pack(const float *x, size_t n, float scale, float offset, uint32_t max_index, int bits,
                               uint8_t *out);

/// q_i = #{ j : thresholds[j] < x_i·scale } (threshold_count < 2^bits; thresholds ascending: the kernel may
/// binary-search them), packed as above.
void cvq_quantize_thresholds_pack(const float *x, size_t n, float scale, const float *thresholds,
                                  size_t threshold_count, int bits, uint8_t *out);

/// y_i = table[code_i] · scale; `table` has 2^bits entries.
void cvq_unpack_dequantize(const uint8_t *codes, size_t n, int bits, const float *table, float scale, float *y);

/// Σ_i q[i] · table[code_i] in a fixed order: 32 running sums s[i mod 32] (product, then sum, in order of
/// i), then s[l] += s[l + w] for w = 16, 8, 4, 2, 1; returns s[0].
float cvq_unpack_dot(const uint8_t *codes, size_t n, int bits, const float *table, const float *q);

#ifdef __cplusplus
}
#endif
#endif
