/// IEEE 754 binary16 ⇄ binary32 conversion on bit patterns.
///
/// Written by hand rather than through `Float16`, which does not exist on every platform swift-vq
/// builds on (Intel macOS). Widening is exact for every binary16 value (subnormals included, NaN
/// payloads kept); narrowing rounds to nearest, ties to even, overflowing to ±infinity, exactly as
/// IEEE 754 (and `Float16.init(_: Float)`) prescribes. The tests compare both directions against
/// `Float16` where it exists, exhaustively for widening.
enum HalfPrecision {
  /// The binary32 value of binary16 bits `h`; exact.
  @inline(__always)
  static func float(fromBits h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F {  // infinity or NaN: keep the payload
      return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent == 0 {  // zero or subnormal: mantissa · 2⁻²⁴, exact in binary32
      let magnitude = Float(mantissa) * 0x1p-24
      return Float(bitPattern: sign | magnitude.bitPattern)
    }
    // Normal: rebias the exponent (127 − 15 = 112) and widen the mantissa.
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
  }

  /// The binary16 bits nearest to `x` (ties to even; beyond ±65504 rounds to ±infinity).
  @inline(__always)
  static func bits(from x: Float) -> UInt16 {
    let b = x.bitPattern
    let sign = UInt16(truncatingIfNeeded: (b >> 16) & 0x8000)
    let magnitude = b & 0x7FFF_FFFF
    if magnitude >= 0x7F80_0000 {  // infinity or NaN (a NaN stays a quiet NaN, top payload bits kept)
      let nan: UInt16 = magnitude > 0x7F80_0000 ? 0x0200 | UInt16(truncatingIfNeeded: (magnitude >> 13) & 0x3FF) : 0
      return sign | 0x7C00 | nan
    }
    if magnitude >= 0x4780_0000 { return sign | 0x7C00 }  // ≥ 2¹⁶: beyond every finite binary16
    if magnitude >= 0x3880_0000 {  // ≥ 2⁻¹⁴: a normal binary16 (or overflow after rounding up)
      let shifted = (magnitude - 0x3800_0000) >> 13  // rebias by −112, drop 13 mantissa bits
      let rest = magnitude & 0x1FFF
      let roundUp = rest > 0x1000 || (rest == 0x1000 && shifted & 1 == 1)
      // A carry out of the mantissa correctly bumps the exponent (up to 0x7C00, infinity).
      return sign | UInt16(truncatingIfNeeded: shifted + (roundUp ? 1 : 0))
    }
    // Subnormal binary16 (or zero): the integer nearest to x · 2²⁴ (exact scaling), ties to even.
    // 1024 (from values just below 2⁻¹⁴) is the bit pattern of the smallest normal, as it should be.
    let scaled = (Float(bitPattern: magnitude) * 0x1p24).rounded(.toNearestOrEven)
    return sign | UInt16(scaled)
  }
}
