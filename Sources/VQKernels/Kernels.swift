import CVQKernels

/// The Swift face of the kernels. Each function runs the C kernel (Sources/CVQKernels) at the current
/// `KernelLevel`; its scalar Swift reference (`HadamardReference`, `PackReference`) is the specification,
/// and the tests compare every level with it bit for bit.
public enum Kernels {
  /// `y = scale · H D_R ⋯ H D_1 · pad(x)` (see `HadamardReference.forward`).
  ///
  /// - Parameters:
  ///   - x: `inputCount ≤ size.n` floats; the rest of the input is taken as zero.
  ///   - y: `size.n` floats (may be the same memory as `x` when `inputCount == size.n`).
  ///   - signs: `rounds × size.n` bits, round r at bits [r·n, (r+1)·n); a set bit negates.
  ///   - scale: multiplied in once, after the last round (`n^(−rounds/2)` makes the map orthogonal).
  /// The input read is fused into the first round (copy, sign flip, zero padding in one pass).
  public static func randomizedHadamard(
    _ x: UnsafePointer<Float>, inputCount: Int, into y: UnsafeMutablePointer<Float>,
    size: HadamardSize, signs: UnsafePointer<UInt64>, rounds: Int, scale: Float
  ) {
    precondition(inputCount >= 0 && inputCount <= size.n && rounds >= 0)
    cvq_rht_forward(x, inputCount, y, size.rows, size.p, signs, rounds, scale)
  }

  /// `x = first outputCount coordinates of scale · D_1 Hᵀ ⋯ D_R Hᵀ · y` (see `HadamardReference.inverse`).
  ///
  /// `work` holds `size.n` floats; it may be `x` itself when `outputCount == size.n`. With `nil` the
  /// kernel uses `x` (when `outputCount == size.n`) or its own stack scratch (n ≤ 16384), so a caller
  /// that passes `nil` never allocates for common sizes.
  public static func randomizedHadamardInverse(
    _ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, outputCount: Int,
    size: HadamardSize, signs: UnsafePointer<UInt64>, rounds: Int, scale: Float,
    work: UnsafeMutablePointer<Float>? = nil
  ) {
    precondition(outputCount >= 0 && outputCount <= size.n && rounds >= 0)
    cvq_rht_inverse(y, x, outputCount, size.rows, size.p, signs, rounds, scale, work)
  }
}

extension Kernels {
  /// `q_i = clamp(rint(x_i·scale + offset), 0, maxIndex)` (two roundings, ties to even; NaN → 0),
  /// packed at `bits` bits into `⌈count·bits/8⌉` bytes of `out` (`PackReference.quantizeUniformPack`).
  public static func quantizeUniformPack(
    _ x: UnsafePointer<Float>, count: Int, scale: Float, offset: Float, maxIndex: UInt32, bits: Int,
    into out: UnsafeMutablePointer<UInt8>
  ) {
    precondition((1...8).contains(bits) && maxIndex < (1 << UInt32(bits)) && count >= 0)
    cvq_quantize_uniform_pack(x, count, scale, offset, maxIndex, Int32(bits), out)
  }

  /// `q_i = #{ j : thresholds[j] < x_i·scale }` (thresholds ascending, fewer than 2^bits), packed at
  /// `bits` bits (`PackReference.quantizeThresholdsPack`). Up to 15 thresholds are counted one by one,
  /// longer lists by binary search (padded with +∞), and at 4 bits the AVX2 level binary-searches even
  /// 15 in registers: which is why they must ascend.
  public static func quantizeThresholdsPack(
    _ x: UnsafePointer<Float>, count: Int, scale: Float, thresholds: UnsafePointer<Float>, thresholdCount: Int,
    bits: Int, into out: UnsafeMutablePointer<UInt8>
  ) {
    precondition((1...8).contains(bits) && thresholdCount >= 0 && thresholdCount < (1 << bits) && count >= 0)
    // The kernel binary-searches long lists, which counts correctly only on an ascending list.
    for j in stride(from: 1, to: thresholdCount, by: 1) {
      precondition(thresholds[j - 1] <= thresholds[j], "thresholds must ascend (index \(j))")
    }
    cvq_quantize_thresholds_pack(x, count, scale, thresholds, thresholdCount, Int32(bits), out)
  }

  /// `y_i = table[q_i] · scale` for the `count` codes of `bits` bits; `table` has 2^bits entries
  /// (`PackReference.unpackDequantize`).
  public static func unpackDequantize(
    _ codes: UnsafePointer<UInt8>, count: Int, bits: Int, table: UnsafePointer<Float>, scale: Float,
    into y: UnsafeMutablePointer<Float>
  ) {
    precondition((1...8).contains(bits) && count >= 0)
    cvq_unpack_dequantize(codes, count, Int32(bits), table, scale, y)
  }

  /// `Σ_i query[i] · table[q_i]` over the `count` codes of `bits` bits, summed in the fixed order of
  /// `PackReference.unpackDot` (32 running sums, then a pairwise tree), so every level and every machine
  /// gives the same bits. `table` has 2^bits entries. The inner-product estimate from b-bit codes.
  public static func unpackDot(
    _ codes: UnsafePointer<UInt8>, count: Int, bits: Int, table: UnsafePointer<Float>, query: UnsafePointer<Float>
  ) -> Float {
    precondition((1...8).contains(bits) && count >= 0)
    return cvq_unpack_dot(codes, count, Int32(bits), table, query)
  }
}
