/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64: a small, fast generator whose stream
/// is the same on every machine. Every random choice in swift-vq (rotation signs, QJL projections,
/// stochastic rounding, test data) comes from one of these, seeded from the spec's `seed`.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  public init(seed: UInt64) {
    var sm = seed
    func splitMix(_ x: inout UInt64) -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
  }

  /// An independent stream for `purpose` (e.g. rotation round r, QJL), derived from `seed`.
  public init(seed: UInt64, stream: UInt64) {
    self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ stream)
  }

  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
    s2 ^= t
    s3 = (s3 << 45) | (s3 >> 19)
    return result
  }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Standard normal (Box–Muller; the second variate is discarded so the stream stays simple).
  public mutating func nextGaussian() -> Double {
    var u = nextUniform()
    while u == 0 { u = nextUniform() }
    let v = nextUniform()
    return (-2 * _log(u)).squareRoot() * _cos(2 * Double.pi * v)
  }
}

import RealModule
@inline(__always) private func _log(_ x: Double) -> Double { Double.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Double.cos(x) }
