/// The bit-exact scalar codecs under every product format: IEEE binary16 and bfloat16, the OCP 8-bit
/// floats E4M3 and E5M2, the 4-bit E2M1 element of FP4/MXFP4/NVFP4, and the E8M0 power-of-two scale.
///
/// Sources: IEEE 754-2019 (binary16); the bfloat16 convention (binary32 with the low 16 bits rounded
/// away); OCP "8-bit Floating Point Specification (OFP8)" rev. 1.0 (E4M3: bias 7, no infinity, NaN =
/// S.1111.111, max 448; E5M2: bias 15, IEEE-like, max 57344); OCP "Microscaling Formats (MX)" v1.0
/// (E2M1: bias 1, values {0, 0.5, 1, 1.5, 2, 3, 4, 6}; E8M0: 2^(e − 127), 0xFF = NaN).
///
/// Every encoder rounds to nearest, ties to even, from the exact binary32 value (one rounding), keeps
/// subnormals and the sign of zero, and **saturates**: a finite value beyond the largest finite code
/// becomes ±max, never ±infinity. An infinity in a code would turn every inner product and distance of
/// that vector into ±Inf or NaN: a silently wrong answer for the whole vector, where saturation bounds
/// the damage to the one coordinate. (The quantizers reject non-finite input before encoding; a NaN
/// given to a codec directly becomes the format's NaN; E2M1 has none, see `e2m1Bits`.)
public enum ScalarCodecs {
  // MARK: binary16

  /// binary16 bits nearest to `x` (RNE); finite values beyond ±65504 (and ±infinity) saturate to ±65504.
  @inline(__always)
  public static func float16Bits(_ x: Float) -> UInt16 { MiniFloat.binary16.encode(x) }

  /// The exact binary32 value of binary16 bits `h` (subnormals, ±infinity and NaN included).
  @inline(__always)
  public static func float(float16Bits h: UInt16) -> Float { MiniFloat.binary16.decode(h) }

  /// The value of binary16 bits `h` that encode a *finite* number, branch-free (it vectorizes): the
  /// magnitude bits moved into binary32 position and multiplied by 2^112, which is exact for normals and
  /// subnormals alike. The product formats only ever store finite codes, so they decode with this.
  @inline(__always)
  public static func finiteFloat(float16Bits h: UInt16) -> Float {
    let magnitude = Float(bitPattern: UInt32(h & 0x7FFF) << 13) * 0x1p112
    return Float(bitPattern: magnitude.bitPattern | (UInt32(h & 0x8000) << 16))
  }

  // MARK: bfloat16

  /// bfloat16 bits nearest to `x` (RNE on the low 16 bits of binary32). Values that would round up to
  /// infinity (|x| ≥ 2^128·(1 − 2^-9)) and ±infinity saturate to ±0x1.FEp127; NaN stays a quiet NaN.
  @inline(__always)
  public static func bfloat16Bits(_ x: Float) -> UInt16 {
    let b = x.bitPattern
    let sign = UInt16(truncatingIfNeeded: b >> 16) & 0x8000
    if b & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: b >> 16) | 0x0040 }
    let rounded = UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    if rounded & 0x7FFF >= 0x7F80 { return sign | 0x7F7F }
    return rounded
  }

  /// The exact binary32 value of bfloat16 bits `h`.
  @inline(__always)
  public static func float(bfloat16Bits h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

  // MARK: E8M0

  /// The value 2^(e − 127) of an E8M0 scale byte; 0xFF is NaN, 0x00 is 2^-127 (a binary32 subnormal).
  @inline(__always)
  public static func float(e8m0Bits e: UInt8) -> Float {
    if e == 0xFF { return .nan }
    if e == 0 { return Float(bitPattern: 0x0040_0000) }
    return Float(bitPattern: UInt32(e) << 23)
  }

  /// ⌊log2 x⌋ for finite x > 0, read exactly from the exponent bits (subnormals through the leading
  /// zeros of the mantissa), never through `log2`, whose rounding can cross an integer.
  @inline(__always)
  public static func floorLog2(_ x: Float) -> Int {
    let b = x.bitPattern & 0x7FFF_FFFF
    let biased = Int(b >> 23)
    if biased > 0 { return biased - 127 }
    return (31 - b.leadingZeroBitCount) - 149
  }

  /// 2^k as a Float, exact for k in −149...127.
  @inline(__always)
  static func powerOfTwo(_ k: Int) -> Float {
    if k >= -126 { return Float(bitPattern: UInt32(k + 127) << 23) }
    return Float(bitPattern: UInt32(1) << UInt32(k + 149))
  }

  // MARK: E2M1

  /// The 16 E2M1 values by code (S.EE.M): 0, 0.5, 1, 1.5, 2, 3, 4, 6, then the same negated.
  public static let e2m1Values: [Float] = (0..<16).map { MiniFloat.e2m1.decode(UInt16($0)) }

  /// E2M1 code of `x` (RNE, saturating at ±6), branch-free so that loops over it vectorize: the count
  /// of RNE decision points the magnitude passes, compared as binary32 magnitude bits (whose order is
  /// the numbers' order): `(t − m) >> 31` is 1 exactly when m > t. At a tie the comparison is strict
  /// toward an odd neighbour and inclusive toward an even one: 0.25 → 0, 0.75 → 1, 1.25 → 1,
  /// 1.75 → 2, 2.5 → 2, 3.5 → 4, 5 → 4. Equal to `MiniFloat.e2m1.encode` on every non-NaN input (the
  /// tests check it); a NaN, which the quantizers reject before encoding, gives ±6.
  @inline(__always)
  public static func e2m1Bits(_ x: Float) -> UInt8 {
    let m = x.bitPattern & 0x7FFF_FFFF
    var c = (0x3E80_0000 &- m) >> 31       // > 0.25
    c &+= (0x3F3F_FFFF &- m) >> 31         // ≥ 0.75
    c &+= (0x3FA0_0000 &- m) >> 31         // > 1.25
    c &+= (0x3FDF_FFFF &- m) >> 31         // ≥ 1.75
    c &+= (0x4020_0000 &- m) >> 31         // > 2.5
    c &+= (0x405F_FFFF &- m) >> 31         // ≥ 3.5
    c &+= (0x40A0_0000 &- m) >> 31         // > 5
    return UInt8(truncatingIfNeeded: c | (x.bitPattern >> 28) & 0x8)
  }
}

/// A small binary floating-point format S.E…E.M…M (IEEE-style: biased exponent, implicit leading 1 for
/// normals, subnormals at exponent 0) with round-to-nearest-even, saturating conversion from binary32.
///
/// The four instances are the formats this package stores; `decode` follows each one's rule for the
/// all-ones exponent (E4M3: only S.1111.111 is NaN, the rest are numbers; E5M2 and binary16: infinity
/// and NaNs; E2M1: all numbers).
public struct MiniFloat: Sendable, Hashable, CustomStringConvertible {
  public let name: String
  public let exponentBits: Int
  public let mantissaBits: Int
  public let bias: Int
  /// The largest finite magnitude's code (sign clear).
  public let maxFiniteCode: UInt16
  /// The infinity code (sign clear), if the format has one.
  public let infinityCode: UInt16?
  /// The canonical (quiet) NaN code (sign clear), if the format has NaNs.
  public let nanCode: UInt16?

  public static let binary16 = MiniFloat(
    name: "binary16", exponentBits: 5, mantissaBits: 10, bias: 15, maxFiniteCode: 0x7BFF,
    infinityCode: 0x7C00, nanCode: 0x7E00)
  public static let e4m3 = MiniFloat(
    name: "E4M3", exponentBits: 4, mantissaBits: 3, bias: 7, maxFiniteCode: 0x7E, infinityCode: nil, nanCode: 0x7F)
  public static let e5m2 = MiniFloat(
    name: "E5M2", exponentBits: 5, mantissaBits: 2, bias: 15, maxFiniteCode: 0x7B, infinityCode: 0x7C, nanCode: 0x7E)
  public static let e2m1 = MiniFloat(
    name: "E2M1", exponentBits: 2, mantissaBits: 1, bias: 1, maxFiniteCode: 0x7, infinityCode: nil, nanCode: nil)

  public var description: String { name }
  /// Bits per code, sign included.
  public var bitWidth: Int { 1 + exponentBits + mantissaBits }
  public var signBit: UInt16 { 1 << UInt16(exponentBits + mantissaBits) }
  /// Unbiased exponent of the smallest normal.
  public var minNormalExponent: Int { 1 - bias }
  public var largestFinite: Float { decode(maxFiniteCode) }
  public var smallestSubnormal: Float { decode(1) }

  /// The code nearest to `x` (RNE), saturating at ±largestFinite (also for ±infinity).
  @inline(__always)
  public func encode(_ x: Float) -> UInt16 {
    let b = x.bitPattern
    let sign: UInt16 = b >> 31 != 0 ? signBit : 0
    let magnitude = b & 0x7FFF_FFFF
    if magnitude > 0x7F80_0000 { return nanCode.map { sign | $0 } ?? sign }
    if magnitude >= 0x7F80_0000 { return sign | maxFiniteCode }
    let exponent = Int(magnitude >> 23) - 127
    if exponent >= minNormalExponent {
      // A normal of this format (or beyond its range): rebias the exponent in place and round the
      // mantissa bits away; a carry out of the mantissa correctly bumps the exponent.
      let shift = UInt32(23 - mantissaBits)
      let rebased = magnitude - (UInt32(127 - bias) << 23)
      var code = rebased >> shift
      let rest = rebased & ((1 << shift) - 1)
      let half: UInt32 = 1 << (shift - 1)
      if rest > half || (rest == half && code & 1 == 1) { code += 1 }
      return sign | UInt16(Swift.min(code, UInt32(maxFiniteCode)))
    }
    // Subnormal (or zero): the integer nearest to |x| / 2^(minNormalExponent − mantissaBits); the
    // scaling by a power of two is exact. 2^mantissaBits (from just below the smallest normal) is the
    // code of the smallest normal, as it should be.
    let scaled = Float(bitPattern: magnitude) * ScalarCodecs.powerOfTwo(mantissaBits - minNormalExponent)
    return sign | UInt16(scaled.rounded(.toNearestOrEven))
  }

  /// The exact binary32 value of `code` (bits above `bitWidth` are ignored).
  public func decode(_ code: UInt16) -> Float {
    let c = UInt16(truncatingIfNeeded: UInt32(code) & ((1 << UInt32(bitWidth)) - 1))
    let negative = c & signBit != 0
    let magnitudeCode = c & (signBit - 1)
    let value: Float
    if let nanCode, magnitudeCode == nanCode || (magnitudeCode > maxFiniteCode && magnitudeCode != infinityCode) {
      return .nan
    } else if let infinityCode, magnitudeCode == infinityCode {
      value = .infinity
    } else {
      let exponentField = Int(magnitudeCode >> UInt16(mantissaBits))
      let mantissa = Float(magnitudeCode & ((1 << UInt16(mantissaBits)) - 1))
      if exponentField == 0 {
        value = mantissa * ScalarCodecs.powerOfTwo(minNormalExponent - mantissaBits)
      } else {
        value = (ScalarCodecs.powerOfTwo(mantissaBits) + mantissa)
          * ScalarCodecs.powerOfTwo(exponentField - bias - mantissaBits)
      }
    }
    return negative ? -value : value
  }

  /// The value of every code, indexed by code (2^bitWidth entries; for lookup tables of 8-bit formats).
  public var values: [Float] { (0..<(1 << bitWidth)).map { decode(UInt16($0)) } }
}
