import CVQKernels

/// The Swift face of the kernels. Each function runs the C kernel at the current `KernelLevel`; the
/// scalar Swift reference of each sits in `…Reference` and the tests compare them bit for bit.
public enum Kernels {
  /// `y = scale · H D_R ⋯ H D_1 · pad(x)` (see `HadamardReference.forward`).
  public static func randomizedHadamard(
    _ x: UnsafePointer<Float>, inputCount: Int, into y: UnsafeMutablePointer<Float>,
    size: HadamardSize, signs: UnsafePointer<UInt64>, rounds: Int, scale: Float
  ) {
    HadamardReference.forward(x, inputCount: inputCount, into: y, size: size, signs: signs, rounds: rounds, scale: scale)
  }

  /// `x = first outputCount coordinates of scale · D_1 Hᵀ ⋯ D_R Hᵀ · y`; `work` holds n floats.
  public static func randomizedHadamardInverse(
    _ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, outputCount: Int,
    size: HadamardSize, signs: UnsafePointer<UInt64>, rounds: Int, scale: Float, work: UnsafeMutablePointer<Float>
  ) {
    HadamardReference.inverse(y, into: x, outputCount: outputCount, size: size, signs: signs, rounds: rounds, scale: scale, work: work)
  }
}

extension Kernels {
  /// `q_i = clamp(rint(x_i·scale + offset), 0, maxIndex)`, packed at `bits` bits (`PackReference`).
  public static func quantizeUniformPack(
    _ x: UnsafePointer<Float>, count: Int, scale: Float, offset: Float, maxIndex: UInt32, bits: Int,
    into out: UnsafeMutablePointer<UInt8>
  ) {
    PackReference.quantizeUniformPack(x, count: count, scale: scale, offset: offset, maxIndex: maxIndex, bits: bits, into: out)
  }

  /// `q_i = #{ j : thresholds[j] < x_i·scale }`, packed at `bits` bits (`PackReference`).
  public static func quantizeThresholdsPack(
    _ x: UnsafePointer<Float>, count: Int, scale: Float, thresholds: UnsafePointer<Float>, thresholdCount: Int,
    bits: Int, into out: UnsafeMutablePointer<UInt8>
  ) {
    PackReference.quantizeThresholdsPack(
      x, count: count, scale: scale, thresholds: thresholds, thresholdCount: thresholdCount, bits: bits, into: out)
  }

  /// `y_i = table[q_i] · scale` (`PackReference`).
  public static func unpackDequantize(
    _ codes: UnsafePointer<UInt8>, count: Int, bits: Int, table: UnsafePointer<Float>, scale: Float,
    into y: UnsafeMutablePointer<Float>
  ) {
    PackReference.unpackDequantize(codes, count: count, bits: bits, table: table, scale: scale, into: y)
  }
}
