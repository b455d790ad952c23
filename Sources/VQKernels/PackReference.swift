/// Scalar Swift references for the scalar-quantize-and-pack kernels (the specification the C levels
/// match bit for bit).
///
/// Packing: code i occupies bits [i·b, (i+1)·b) of the output, least significant bit first (for b = 4:
/// low nibble = even index; for b = 8: one byte per code). The output has ⌈n·b/8⌉ bytes, all written
/// (unused high bits of the last byte are 0). Arithmetic: `x·scale` then `+ offset` as two separately
/// rounded Float operations (never fused), round half to even, then clamp to [0, maxIndex].
public enum PackReference {
  /// `q_i = clamp(rint(x_i·scale + offset), 0, maxIndex)`, packed at `bits` bits (NaN gives 0).
  public static func quantizeUniformPack(
    _ x: UnsafePointer<Float>, count n: Int, scale: Float, offset: Float, maxIndex: UInt32, bits: Int,
    into out: UnsafeMutablePointer<UInt8>
  ) {
    var writer = BitWriter(out, bytes: (n * bits + 7) / 8)
    for i in 0..<n {
      let product = x[i] * scale
      let v = (product + offset).rounded(.toNearestOrEven)
      // `!(v > 0)` also sends NaN to 0 (a trap on user data would be worse than any code).
      let q: UInt32 = !(v > 0) ? 0 : (v >= Float(maxIndex) ? maxIndex : UInt32(v))
      writer.append(q, bits: bits)
    }
  }

  /// `q_i = #{ j : thresholds[j] < x_i·scale }` (thresholds ascending), packed at `bits` bits.
  public static func quantizeThresholdsPack(
    _ x: UnsafePointer<Float>, count n: Int, scale: Float, thresholds: UnsafePointer<Float>, thresholdCount: Int,
    bits: Int, into out: UnsafeMutablePointer<UInt8>
  ) {
    var writer = BitWriter(out, bytes: (n * bits + 7) / 8)
    for i in 0..<n {
      let v = x[i] * scale
      var q: UInt32 = 0
      for j in 0..<thresholdCount where thresholds[j] < v { q += 1 }
      writer.append(q, bits: bits)
    }
  }

  /// The `n` codes of `bits` bits each, one per byte.
  public static func unpack(_ codes: UnsafePointer<UInt8>, count n: Int, bits: Int, into out: UnsafeMutablePointer<UInt8>) {
    for i in 0..<n { out[i] = UInt8(truncatingIfNeeded: code(codes, i, bits: bits)) }
  }

  /// `y_i = table[q_i] · scale`.
  public static func unpackDequantize(
    _ codes: UnsafePointer<UInt8>, count n: Int, bits: Int, table: UnsafePointer<Float>, scale: Float,
    into y: UnsafeMutablePointer<Float>
  ) {
    for i in 0..<n { y[i] = table[Int(code(codes, i, bits: bits))] * scale }
  }

  /// Lanes of the fixed summation order of `unpackDot`.
  public static let dotLanes = 32

  /// `Σ_i q[i] · table[code_i]` in a fixed order that every kernel level reproduces bit for bit:
  /// 32 running sums `s[i mod 32]`, each updated in order of i by `s = s + (q[i] · table[code_i])` (the
  /// product rounded, then the sum rounded; the sums start at +0), then the pairwise tree
  /// `s[l] = s[l] + s[l + w]` for w = 16, 8, 4, 2, 1 (l < w); the result is s[0].
  public static func unpackDot(
    _ codes: UnsafePointer<UInt8>, count n: Int, bits: Int, table: UnsafePointer<Float>, query q: UnsafePointer<Float>
  ) -> Float {
    var s = [Float](repeating: 0, count: dotLanes)
    for i in 0..<n {
      let product = q[i] * table[Int(code(codes, i, bits: bits))]
      s[i % dotLanes] = s[i % dotLanes] + product
    }
    var w = dotLanes / 2
    while w >= 1 {
      for l in 0..<w { s[l] = s[l] + s[l + w] }
      w /= 2
    }
    return s[0]
  }

  /// Code `i` of a packed stream.
  @inline(__always)
  public static func code(_ codes: UnsafePointer<UInt8>, _ i: Int, bits: Int) -> UInt32 {
    let bit = i * bits
    var word: UInt32 = 0
    let firstByte = bit >> 3
    let span = ((bit & 7) + bits + 7) >> 3
    for k in 0..<span { word |= UInt32(codes[firstByte + k]) << (8 * UInt32(k)) }
    return (word >> UInt32(bit & 7)) & ((1 << UInt32(bits)) - 1)
  }

  struct BitWriter {
    let out: UnsafeMutablePointer<UInt8>
    var accumulator: UInt64 = 0
    var filled = 0
    var position = 0
    let bytes: Int

    init(_ out: UnsafeMutablePointer<UInt8>, bytes: Int) {
      self.out = out
      self.bytes = bytes
      out.initialize(repeating: 0, count: bytes)
    }

    @inline(__always)
    mutating func append(_ q: UInt32, bits: Int) {
      accumulator |= UInt64(q) << UInt64(filled)
      filled += bits
      while filled >= 8 {
        out[position] = UInt8(truncatingIfNeeded: accumulator)
        position += 1
        accumulator >>= 8
        filled -= 8
      }
      if filled > 0 { out[position] = UInt8(truncatingIfNeeded: accumulator) }
    }
  }
}
