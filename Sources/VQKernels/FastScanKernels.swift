import CVQKernels

/// The FastScan kernel at the current `KernelLevel` (C, `cvq_fastscan.h`); `FastScanReference` is the
/// scalar specification it matches exactly (integer sums).
extension Kernels {
  /// For each of `blockCount` blocks (`pairCount · 32` bytes each, the layout of `FastScanReference`) and
  /// each of its 32 vectors v: `out[32·b + v] = Σ_m luts[m][code_m(v)]` over the `2·pairCount`
  /// sub-quantizers. `luts` holds `pairCount · 32` bytes (pair p: the 16 entries of sub-quantizer 2p,
  /// then the 16 of 2p+1). `out` receives `32 · blockCount` sums.
  public static func fastScanAccumulate(
    blocks: UnsafePointer<UInt8>, blockCount: Int, pairCount: Int, luts: UnsafePointer<UInt8>,
    into out: UnsafeMutablePointer<UInt32>
  ) {
    precondition(blockCount >= 0 && pairCount >= 0)
    cvq_fastscan_accumulate(blocks, blockCount, pairCount, luts, out)
  }

  /// `fastScanAccumulate` for tables whose entries are all ≤ 127 (the caller's guarantee): the same sums,
  /// with the look-ups of two pairs added as bytes before they are widened (about 18 % fewer vector
  /// operations per pair in the AVX2 body).
  public static func fastScanAccumulateNarrow(
    blocks: UnsafePointer<UInt8>, blockCount: Int, pairCount: Int, luts: UnsafePointer<UInt8>,
    into out: UnsafeMutablePointer<UInt32>
  ) {
    precondition(blockCount >= 0 && pairCount >= 0)
    cvq_fastscan_accumulate_narrow(blocks, blockCount, pairCount, luts, out)
  }
}

extension Kernels {
  /// `out[k] = scale[k] · (step · Float(sums[k]) + offset) + add (+ adds[k])` for k < count, each operation
  /// rounded on its own (`FastScanReference.affine`); sums below 2^24. Turns FastScan sums into estimates;
  /// `adds` is an optional per-vector term (RaBitQ's ⟨o − c, c⟩).
  public static func fastScanAffine(
    _ sums: UnsafePointer<UInt32>, count: Int, scale: UnsafePointer<Float>, step: Float, offset: Float, add: Float,
    adds: UnsafePointer<Float>? = nil, into out: UnsafeMutablePointer<Float>
  ) {
    precondition(count >= 0)
    cvq_fastscan_affine(sums, count, scale, step, offset, add, adds, out)
  }
}

/// The FastScan block layout and the scalar specification of `Kernels.fastScanAccumulate`.
///
/// A block holds 32 vectors and, per pair of sub-quantizers (2p, 2p+1), 32 bytes: byte `16·h + j` (h = 0
/// for sub-quantizer 2p, 1 for 2p+1) holds in its low nibble the 4-bit sub-code of vector `slot(j)` and in
/// its high nibble that of vector `slot(j) + 16`, with `slot(j) = j/2 + 8·(j mod 2)`. A 16-bit lane then
/// carries vectors t and t + 8, so the kernel's even/odd split of 16-bit accumulators gives vectors in
/// order (the interleaving FAISS's 4-bit FastScan uses, derived here from that requirement).
public enum FastScanReference {
  /// Vectors per block.
  public static let blockSize = 32
  /// Bytes per pair of sub-quantizers in a block (and per pair of look-up tables).
  public static let bytesPerPair = 32

  /// The byte (0…15) of a half that holds vector slot `s` (0…15): the inverse of `slot(j)`.
  @inline(__always)
  public static func byte(ofSlot s: Int) -> Int { s < 8 ? 2 * s : 2 * (s - 8) + 1 }

  /// Where sub-code `m` of vector `v` (0…31) of a block lives: the byte offset in the block and whether it
  /// is the high nibble.
  @inline(__always)
  public static func position(vector v: Int, subcode m: Int) -> (byte: Int, high: Bool) {
    (bytesPerPair * (m >> 1) + 16 * (m & 1) + byte(ofSlot: v & 15), v >= 16)
  }

  /// `out[k] = scale[k] · (step · Float(sums[k]) + offset) + add`, each operation rounded on its own.
  public static func affine(
    _ sums: UnsafePointer<UInt32>, count: Int, scale: UnsafePointer<Float>, step: Float, offset: Float, add: Float,
    adds: UnsafePointer<Float>? = nil, into out: UnsafeMutablePointer<Float>
  ) {
    for k in 0..<count {
      let value = step * Float(sums[k])
      let estimate = scale[k] * (value + offset) + add
      out[k] = adds.map { estimate + $0[k] } ?? estimate
    }
  }

  /// `out[32·b + v] = Σ_m luts[16·m + code_m(v)]`, in plain loops.
  public static func accumulate(
    blocks: UnsafePointer<UInt8>, blockCount: Int, pairCount: Int, luts: UnsafePointer<UInt8>,
    into out: UnsafeMutablePointer<UInt32>
  ) {
    for b in 0..<blockCount {
      let block = blocks + b * pairCount * bytesPerPair
      for v in 0..<blockSize {
        var sum: UInt32 = 0
        for m in 0..<(2 * pairCount) {
          let (byte, high) = position(vector: v, subcode: m)
          let code = high ? block[byte] >> 4 : block[byte] & 15
          sum += UInt32(luts[16 * m + Int(code)])
        }
        out[blockSize * b + v] = sum
      }
    }
  }
}
