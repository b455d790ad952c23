// FastScan: 4-bit look-up-table scan over codes blocked 32 vectors at a time (André, Kermarrec, Le Scouarnec,
// "Cache locality is not enough: high-performance nearest neighbor search with product quantization fast
// scan", VLDB 2015; the AVX2 form of FAISS's IndexPQFastScan).
//
// Block layout (`FastScanCodes` in VQ builds it from flat codes): a block holds 32 vectors and `pairCount`
// groups of 32 bytes, one per pair of sub-quantizers (2p, 2p+1). In group p, byte j of half h (h = 0 for
// sub-quantizer 2p, h = 1 for 2p+1; byte 16·h + j) holds in its low nibble the sub-code of vector
// slot(j) and in its high nibble that of vector slot(j) + 16, where slot(j) = j/2 + 8·(j mod 2)
// (0, 8, 1, 9, …, 7, 15). With that order the two bytes of each 16-bit lane belong to vectors t and t + 8,
// so the even/odd split of 16-bit accumulators yields the vectors in order.
//
// Look-up tables: `luts` holds `pairCount` groups of 32 bytes, group p = the 16 entries of sub-quantizer
// 2p, then the 16 of 2p+1 (the half a `vpshufb` lane reads).
//
// Every level (portable, AVX2, AVX-512 — the last runs the AVX2 body under its own target attribute) gives
// the same integers: the sums are exact.
#ifndef CVQ_FASTSCAN_H
#define CVQ_FASTSCAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// For each of the `blockCount` blocks at `blocks` (`pairCount · 32` bytes each) and each of its 32 vectors v
/// (in order): `out[32·b + v] = Σ_m luts[m][code_m(v)]` over the 2·pairCount sub-quantizers. Sums are
/// accumulated in 16-bit lanes and flushed to 32 bits every 128 pairs, so no count of pairs overflows.
void cvq_fastscan_accumulate(const uint8_t *blocks, size_t blockCount, size_t pairCount, const uint8_t *luts,
                             uint32_t *out);

/// The same sums as `cvq_fastscan_accumulate` for tables whose entries are all ≤ 127 (7-bit tables): the
/// look-ups of two pairs add in 8-bit lanes (≤ 254) before they are widened, about 18 % fewer vector
/// operations per pair. Entries above 127 give wrong sums (the caller guarantees the bound).
void cvq_fastscan_accumulate_narrow(const uint8_t *blocks, size_t blockCount, size_t pairCount, const uint8_t *luts,
                                    uint32_t *out);

/// The affine map from FastScan sums to estimates: `out[k] = scale[k] · (step · (float)sums[k] + offset) + add`
/// for k < n, plus `adds[k]` when `adds` is not NULL (a per-vector term, e.g. RaBitQ's ⟨o − c, c⟩), each
/// operation rounded on its own (no fused multiply-add), so every level gives the same bits. Sums must be
/// below 2^24 (exact as floats).
void cvq_fastscan_affine(const uint32_t *sums, size_t n, const float *scale, float step, float offset, float add,
                         const float *adds, float *out);

#ifdef __cplusplus
}
#endif
#endif
