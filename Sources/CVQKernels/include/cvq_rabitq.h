// RaBitQ kernels (research/rotation.md §3): the 1-bit code × bit-plane query popcount inner product,
// the extended-code × integer query inner product, and the passes of the encoder's rescale search.
//
// Every function runs at the level `cvq_kernel_level()` names (portable, AVX2, AVX-512 VPOPCNTDQ); the
// three levels are one C body compiled under three target attributes, and their results are
// bit-identical: the inner products are exact integers, and the floating-point sums use a fixed
// 8-lane order with no FMA contraction. `RaBitQReference` (Swift) is the specification of each.
//
// Bit conventions: coordinate i of a 1-bit plane is bit (i & 7) of byte (i >> 3); a b-bit field i
// occupies bits [i·b, (i+1)·b) of its plane, least significant bit first (as `PackReference`).
#ifndef CVQ_RABITQ_H
#define CVQ_RABITQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Sign plane × query bit planes, for `count` codes.
///
/// Code k's sign plane is the `bytes` bytes at `codes + k·stride`. `planes` holds `planeCount` query
/// bit planes of `bytes` bytes each, plane j first at `planes + j·bytes` (plane j = bit j of every
/// quantized query coordinate). Writes `dot[k] = Σ_j 2^j · popcount(code_k AND plane_j)` (= Σ_i b_i·u_i)
/// and `pop[k] = popcount(code_k)`.
void cvq_rabitq_sign_dot(const uint8_t *codes, size_t stride, size_t count, size_t bytes,
                         const uint8_t *planes, int planeCount, int64_t *dot, int64_t *pop);

/// Extended code × integer query, for `count` codes.
///
/// Code k's ex plane starts at `codes + k·stride + offset` and holds `dim` fields of `bits` bits
/// (1…8). `query` holds `dim` values below 2^15. Writes `dot[k] = Σ_i e_i·query_i` and
/// `sum[k] = Σ_i e_i`.
void cvq_rabitq_ex_dot(const uint8_t *codes, size_t stride, size_t offset, size_t count, size_t dim,
                       int bits, const uint16_t *query, int64_t *dot, int64_t *sum);

/// Magnitudes for the rescale search: `a_i = |x_i|`; returns `max a_i`; and the fixed-point
/// magnitudes `A_i = (int32)(a_i · (2^22 / max))` (all 0 when max is 0).
float cvq_rabitq_magnitudes(const float *x, size_t n, float *a, int32_t *A);

/// One evaluation of the rescale objective at `t`: with `k_i = (int32)min(t·a_i, K)`, writes
/// `out[0] = Σ (2k_i+1)·A_i`, `out[1] = Σ (2k_i+1)²`, `out[2] = Σ k_i`. Needs `(2K+1)·2^22 < 2^31`
/// (K ≤ 255).
void cvq_rabitq_rescale_eval(const float *a, const int32_t *A, size_t n, float t, int32_t K, int64_t out[3]);

/// A breakpoint of the rescale search: at `t = m / a_i` coordinate i moves up to level m, adding
/// `numerator = 2·A_i` to Σ (2k+1)·A and `squares = 8·m` to Σ (2k+1)².
typedef struct {
  float t;
  int32_t numerator;
  int32_t squares;
} cvq_rabitq_event;

/// The breakpoints between `ta` and `tb`: for each coordinate i (ascending) whose level
/// `(int32)min(t·a_i, K)` is `from` at ta and `to` at tb, the events m = from+1 … to (ascending), with
/// `t = (float)m / a_i`. Writes at most `capacity`; returns how many there are (possibly more).
size_t cvq_rabitq_events(const float *a, const int32_t *A, size_t n, float ta, float tb, int32_t K,
                         cvq_rabitq_event *events, size_t capacity);

/// The final code of one rotated vector `x` (n coordinates) at rescale `t` with `exBits` extra bits
/// (0…8; K = 2^exBits − 1): `k_i = (int32)min(t·|x_i|, K)`, sign `s_i = x_i > 0`.
/// Writes the sign plane (⌈n/8⌉ bytes) and, if exBits > 0, the ex plane (⌈n·exBits/8⌉ bytes) with
/// `e_i = s_i ? k_i : K − k_i`; unused high bits are 0. Writes, each summed in 8 fixed lanes
/// (lane i mod 8, lanes combined as ((0+1)+(2+3))+((4+5)+(6+7))) in double:
/// `out[0] = Σ (k_i + ½)·|x_i|`, `out[1] = Σ (k_i + ½)²` (exact), `out[2] = Σ x_i²`, `out[3] = Σ |x_i|`.
void cvq_rabitq_quantize(const float *x, size_t n, float t, int exBits, uint8_t *signs, uint8_t *ex,
                         double out[4]);

/// The sign stage's estimates from `cvq_rabitq_sign_dot`'s integers: for k < n,
/// `out[k] = scale[k] · (((step · (float)dot[k]) + (lo · (float)pop[k])) − offset) + add`, each operation
/// rounded on its own. Needs |dot[k]|, |pop[k]| < 2^31 (true for D ≤ 2^16 and ≤ 12 query planes).
void cvq_rabitq_sign_estimates(const int64_t *dot, const int64_t *pop, size_t n, const float *scale, float step,
                               float lo, float offset, float add, float *out);

#ifdef __cplusplus
}
#endif
#endif
