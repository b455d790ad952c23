/// Unbiased stochastic rounding onto a level set, with the level indices packed at ⌈log2 s⌉ bits.
///
/// Paper: the rounding of QSGD (Alistarh et al., NeurIPS 2017) and QUIVER (Ben Basat et al., NeurIPS
/// 2024) on arbitrary levels; research/asq-ipaware.md §2.1.
///
/// Algorithm (levels q_0 ≤ … ≤ q_{s−1} covering [min x, max x], a seeded generator):
/// 1. for x_i, binary search the smallest u with q_u ≥ x_i (at most 8 steps for s ≤ 256);
/// 2. if q_u = x_i the index is u (no randomness spent on values that sit on a level);
/// 3. else a = q_{u−1} < x_i < b = q_u: index u with probability p = (x_i − a)/(b − a), else u − 1;
/// 4. pack index i at bit i·⌈log2 s⌉, LSB first (the layout every packed code in swift-vq uses);
/// 5. decode: x̂_i = q[index_i].
///
/// Guarantee: E[x̂_i] = x_i and Var x̂_i = (x_i − a)(b − x_i) up to the 2^-53 resolution of the uniform
/// draw; coordinates are rounded independently, so E‖x̂ − x‖² = Σ_i (x_i − a_i)(b_i − x_i).
public enum ASQRounding {
  /// Index bits for `s` levels: ⌈log2 s⌉, at least 1.
  public static func indexBits(levels s: Int) -> Int {
    var bits = 1
    while (1 << bits) < s { bits += 1 }
    return bits
  }

  /// The smallest index u with q[u] ≥ v (the last index if none).
  @inline(__always)
  static func upperLevelIndex(of v: Double, in q: UnsafeBufferPointer<Double>) -> Int {
    var lo = 0, hi = q.count - 1
    while lo < hi {
      let mid = (lo + hi) >> 1
      if q[mid] >= v { hi = mid } else { lo = mid + 1 }
    }
    return lo
  }

  /// Rounds `x` onto `levels` (sorted, covering x) and packs the indices at `bits` bits into `code`
  /// (`CodeLayout.packedBytes(count: x.count, bits: bits)` bytes, overwritten).
  public static func roundAndPack(
    _ x: UnsafeBufferPointer<Float>, levels: UnsafeBufferPointer<Double>, bits: Int,
    generator: inout SeededGenerator, into code: UnsafeMutablePointer<UInt8>
  ) {
    let bytes = CodeLayout.packedBytes(count: x.count, bits: bits)
    code.update(repeating: 0, count: bytes)
    var accumulator: UInt64 = 0, filled = 0, written = 0
    for i in 0..<x.count {
      let index = roundIndex(Double(x[i]), levels: levels, generator: &generator)
      accumulator |= UInt64(index) << UInt64(filled)
      filled += bits
      while filled >= 8 {
        code[written] = UInt8(truncatingIfNeeded: accumulator)
        accumulator >>= 8
        filled -= 8
        written += 1
      }
    }
    if filled > 0 { code[written] = UInt8(truncatingIfNeeded: accumulator) }
  }

  /// The rounded level index of one value.
  @inline(__always)
  public static func roundIndex(_ v: Double, levels q: UnsafeBufferPointer<Double>, generator: inout SeededGenerator) -> Int {
    let upper = upperLevelIndex(of: v, in: q)
    let b = q[upper]
    guard b != v, upper > 0 else { return upper }
    let a = q[upper - 1]
    let p = (v - a) / (b - a)
    return generator.nextUniform() < p ? upper : upper - 1
  }

  /// Rounded values of `x` (one draw), for tests and the CLI.
  public static func rounded(_ x: [Float], levels: [Double], generator: inout SeededGenerator) -> [Double] {
    levels.withUnsafeBufferPointer { q in x.map { q[roundIndex(Double($0), levels: q, generator: &generator)] } }
  }
}
