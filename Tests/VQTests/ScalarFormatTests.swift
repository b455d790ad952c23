import Testing
import VQ
import VQTestSupport

/// Bit-exact pins of the scalar codecs on hand-checked values, exhaustive round trips, and agreement
/// with an independent brute-force nearest-value reference (and with the platform's `Float16`).
@Suite struct ScalarFormatTests {
  // MARK: binary16

  @Test func float16Pins() {
    let pins: [(Float, UInt16)] = [
      (1, 0x3C00), (-2, 0xC000), (0, 0x0000), (-0.0, 0x8000),
      (65504, 0x7BFF),                      // largest finite
      (65519, 0x7BFF),                      // below the midpoint to 2^16: RNE down
      (65520, 0x7BFF), (1e6, 0x7BFF),       // would be Inf in IEEE: saturates
      (-1e6, 0xFBFF), (.infinity, 0x7BFF), (-.infinity, 0xFBFF),
      (0x1p-24, 0x0001),                    // smallest subnormal
      (0x1p-25, 0x0000),                    // half of it: tie, to even (0)
      (-0x1p-25, 0x8000),                   // negative tie keeps the sign of zero
      (0x1.8p-25, 0x0001),                  // above the tie
      (0x3p-25, 0x0002),                    // 1.5 × smallest: tie between 1 and 2, to even
      (0x1p-14, 0x0400),                    // smallest normal
      (0x3FFp-24, 0x03FF),                  // largest subnormal
      (0x7FFp-25, 0x0400),                  // 1023.5 × 2^-24: tie, to even (the smallest normal)
      (1 + 0x1p-11, 0x3C00),                // tie, to even (down)
      (1 + 0x3p-11, 0x3C02),                // tie, to even (up)
      (1 + 0x1p-11 + 0x1p-20, 0x3C01),      // just above the tie
      (0x1p-26, 0x0000),
    ]
    for (x, bits) in pins {
      #expect(ScalarCodecs.float16Bits(x) == bits, "fp16(\(x))")
    }
    #expect(ScalarCodecs.float16Bits(.nan) & 0x7C00 == 0x7C00 && ScalarCodecs.float16Bits(.nan) & 0x3FF != 0)
    #expect(ScalarCodecs.float(float16Bits: 0x7BFF) == 65504)
    #expect(ScalarCodecs.float(float16Bits: 0x0001) == 0x1p-24)
    #expect(ScalarCodecs.float(float16Bits: 0x7C00) == .infinity)
    #expect(ScalarCodecs.float(float16Bits: 0x7E00).isNaN)
    #expect(ScalarCodecs.float(float16Bits: 0x8000).bitPattern == (-Float.zero).bitPattern)
  }

  /// Every non-NaN binary16 pattern decodes and re-encodes to itself (±infinity re-encode to ±max,
  /// by design); the branch-free decoder agrees with the exact one on every finite pattern.
  @Test func float16RoundTripsEveryPattern() {
    var failures = 0
    for h in 0...UInt16.max {
      let v = ScalarCodecs.float(float16Bits: h)
      if v.isNaN { continue }
      if v.isInfinite {
        if ScalarCodecs.float16Bits(v) != (h & 0x8000) | 0x7BFF { failures += 1 }
        continue
      }
      if ScalarCodecs.float16Bits(v) != h { failures += 1 }
      if ScalarCodecs.finiteFloat(float16Bits: h).bitPattern != v.bitPattern { failures += 1 }
    }
    #expect(failures == 0)
  }

  #if !(os(macOS) && arch(x86_64))
  /// Against the platform's IEEE conversion (`Float16`), which differs only where it overflows to Inf.
  @Test func float16MatchesThePlatformConversion() {
    var g = SeededGenerator(seed: 16)
    var failures = 0
    for i in 0..<200_000 {
      // Random bit patterns over the whole binary16 range and just beyond, plus exact midpoints.
      let x: Float
      if i % 2 == 0 {  // exponents 2^-27 ... 2^18: subnormal, normal and overflowing binary16
        let r = g.next()
        let exponent = UInt32(100 + r % 46)
        x = Float(bitPattern: UInt32(truncatingIfNeeded: r >> 32) & 0x807F_FFFF | exponent << 23)
      } else {
        let h = UInt16(truncatingIfNeeded: g.next()) & 0x7BFE
        let a = ScalarCodecs.float(float16Bits: h), b = ScalarCodecs.float(float16Bits: h + 1)
        x = (a + b) / 2
      }
      let platform = Float16(x)
      let expected: UInt16 = platform.isInfinite ? (platform.bitPattern & 0x8000) | 0x7BFF : platform.bitPattern
      if ScalarCodecs.float16Bits(x) != expected { failures += 1 }
    }
    #expect(failures == 0)
  }
  #endif

  // MARK: bfloat16

  @Test func bfloat16Pins() {
    let pins: [(Float, UInt16)] = [
      (1, 0x3F80), (-0.0, 0x8000), (0, 0x0000),
      (1 + 0x1p-8, 0x3F80),                  // tie, to even (down)
      (1 + 0x3p-8, 0x3F82),                  // tie, to even (up)
      (1 + 0x1p-8 + 0x1p-20, 0x3F81),
      (Float.greatestFiniteMagnitude, 0x7F7F), // rounds up to Inf in IEEE terms: saturates
      (0x1.FEp127, 0x7F7F),                  // largest finite bfloat16
      (-Float.infinity, 0xFF7F),
      (0x1p-133, 0x0001),                    // smallest bfloat16 subnormal
      (0x1p-149, 0x0000),                    // binary32's smallest subnormal: below half of it
      (0x1p-134, 0x0000),                    // exactly half: tie, to even
      (0x3p-134, 0x0002),                    // 1.5 × smallest: tie, to even (up)
    ]
    for (x, bits) in pins {
      #expect(ScalarCodecs.bfloat16Bits(x) == bits, "bf16(\(x))")
    }
    #expect(ScalarCodecs.float(bfloat16Bits: 0x7F7F) == 0x1.FEp127)
    #expect(ScalarCodecs.float(bfloat16Bits: 0x0001) == 0x1p-133)
    #expect(ScalarCodecs.float(bfloat16Bits: ScalarCodecs.bfloat16Bits(.nan)).isNaN)
  }

  @Test func bfloat16RoundTripsEveryPattern() {
    var failures = 0
    for h in 0...UInt16.max {
      let v = ScalarCodecs.float(bfloat16Bits: h)
      if v.isNaN { continue }
      let expected = v.isInfinite ? (h & 0x8000) | 0x7F7F : h
      if ScalarCodecs.bfloat16Bits(v) != expected { failures += 1 }
    }
    #expect(failures == 0)
  }

  // MARK: 8-bit and 4-bit formats

  @Test func e4m3Pins() {
    let f = MiniFloat.e4m3
    let pins: [(Float, UInt16)] = [
      (448, 0x7E),                  // largest finite, S.1111.110
      (464, 0x7E), (500, 0x7E),     // beyond: saturate (464 is the tie with the NaN slot 480)
      (1e9, 0x7E), (-500, 0xFE), (.infinity, 0x7E),
      (0x1p-9, 0x01),               // smallest subnormal
      (0x1p-10, 0x00),              // half of it: tie to even
      (0x1.8p-10, 0x01),
      (0x3p-10, 0x02),              // tie between 1 and 2 (× 2^-9): to even
      (0x7p-9, 0x07),               // largest subnormal
      (0x1p-6, 0x08),               // smallest normal
      (1, 0x38), (1 + 1.0 / 16, 0x38), (1 + 3.0 / 16, 0x3A), (-1.125, 0xB9),
      (-0.0, 0x80), (0, 0x00), (240, 0x77), (256, 0x78),
    ]
    for (x, code) in pins { #expect(f.encode(x) == code, "E4M3(\(x))") }
    #expect(f.encode(.nan) & 0x7F == 0x7F)
    #expect(f.largestFinite == 448)
    #expect(f.smallestSubnormal == 0x1p-9)
    #expect(f.decode(0x7F).isNaN && f.decode(0xFF).isNaN)
    #expect(f.decode(0x7E) == 448 && f.decode(0xFE) == -448)
    let finite = f.values.filter { !$0.isNaN }
    #expect(finite.count == 254)
    #expect(Set(finite).count == 253)  // ±0 are one value
  }

  @Test func e5m2Pins() {
    let f = MiniFloat.e5m2
    let pins: [(Float, UInt16)] = [
      (57344, 0x7B),                // largest finite, S.11110.11
      (61440, 0x7B),                // the tie with infinity: saturates
      (1e6, 0x7B), (-1e6, 0xFB), (.infinity, 0x7B),
      (0x1p-16, 0x01),              // smallest subnormal
      (0x1p-17, 0x00),              // tie to even
      (0x3p-17, 0x02),
      (0x3p-16, 0x03),              // largest subnormal
      (0x1p-14, 0x04),              // smallest normal
      (1, 0x3C), (1.125, 0x3C), (1.375, 0x3E), (-0.0, 0x80),
    ]
    for (x, code) in pins { #expect(f.encode(x) == code, "E5M2(\(x))") }
    #expect(f.largestFinite == 57344)
    #expect(f.decode(0x7C) == .infinity && f.decode(0xFC) == -.infinity)
    #expect(f.decode(0x7D).isNaN && f.decode(0x7E).isNaN && f.decode(0x7F).isNaN)
  }

  @Test func e2m1Pins() {
    #expect(ScalarCodecs.e2m1Values == [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6])
    let pins: [(Float, UInt8)] = [
      (0.25, 0), (0.75, 2), (1.25, 2), (1.75, 4), (2.5, 4), (3.5, 6), (5, 6),  // every tie, to even
      (0.2500001, 1), (0.7499999, 1), (2.5000002, 5), (4.9999995, 6), (5.0000005, 7),
      (6, 7), (7.9, 7), (100, 7), (.infinity, 7),      // saturation at 6
      (0.5, 1), (-0.0, 8), (-0.1, 8), (-6, 15), (-2.75, 13),
    ]
    for (x, code) in pins {
      #expect(ScalarCodecs.e2m1Bits(x) == code, "E2M1(\(x))")
      #expect(MiniFloat.e2m1.encode(x) == UInt16(code), "generic E2M1(\(x))")
    }
  }

  /// decode then encode gives the same bits, for every non-NaN code of the small formats (E5M2's
  /// infinities saturate to ±max by design).
  @Test(arguments: [MiniFloat.e4m3, .e5m2, .e2m1])
  func smallFormatsRoundTripEveryCode(format: MiniFloat) {
    for code in 0..<UInt16(1 << format.bitWidth) {
      let v = format.decode(code)
      if v.isNaN { continue }
      let expected = v.isInfinite ? (code & format.signBit) | format.maxFiniteCode : code
      #expect(format.encode(v) == expected, "\(format) code \(code)")
    }
    if format == .e2m1 {
      for code in UInt8(0)..<16 { #expect(ScalarCodecs.e2m1Bits(format.decode(UInt16(code))) == code) }
    }
  }

  /// The bit-manipulating encoder against an independent brute-force one (nearest of all values
  /// listed from the format's definition in Double; ties to the code with an even last bit; saturating),
  /// on random floats of every scale and on every midpoint between neighbours and its two neighbours.
  @Test(arguments: [MiniFloat.e4m3, .e5m2, .e2m1, .binary16])
  func encoderMatchesBruteForceNearest(format: MiniFloat) {
    let reference = BruteForceMiniFloat(format)
    var inputs: [Float] = []
    let magnitudes = reference.magnitudes
    for k in 1..<magnitudes.count {
      let mid = Float((magnitudes[k - 1].value + magnitudes[k].value) / 2)
      inputs += [mid, mid.nextUp, mid.nextDown, -mid, Float(magnitudes[k].value)]
    }
    var g = SeededGenerator(seed: 8)
    let top = Float(magnitudes.last!.value)
    for _ in 0..<20_000 {
      inputs.append(Float(g.nextGaussian()) * top * Float(g.nextUniform()) * Float(g.nextUniform()))
      inputs.append(Float(bitPattern: UInt32(truncatingIfNeeded: g.next())))  // any scale (non-finite skipped)
    }
    var failures = 0
    for x in inputs where x.isFinite {
      if format.encode(x) != reference.encode(x) { failures += 1 }
      if format == .e2m1, UInt16(ScalarCodecs.e2m1Bits(x)) != reference.encode(x) { failures += 1 }
    }
    #expect(failures == 0, "\(format): \(failures) of \(inputs.count) differ")
  }

  // MARK: E8M0 and exact floor(log2)

  @Test func e8m0AndFloorLog2() {
    #expect(ScalarCodecs.float(e8m0Bits: 127) == 1)
    #expect(ScalarCodecs.float(e8m0Bits: 254) == 0x1p127)
    #expect(ScalarCodecs.float(e8m0Bits: 1) == 0x1p-126)
    #expect(ScalarCodecs.float(e8m0Bits: 0) == 0x1p-127)
    #expect(ScalarCodecs.float(e8m0Bits: 255).isNaN)
    for k in -149...127 {
      let p = Float(sign: .plus, exponent: k, significand: 1)
      #expect(ScalarCodecs.floorLog2(p) == k)
      if k < 127 { #expect(ScalarCodecs.floorLog2(Float(sign: .plus, exponent: k + 1, significand: 1).nextDown) == k) }
    }
    #expect(ScalarCodecs.floorLog2(.greatestFiniteMagnitude) == 127)
    #expect(ScalarCodecs.floorLog2(7.9) == 2 && ScalarCodecs.floorLog2(0.3) == -2 && ScalarCodecs.floorLog2(6) == 2)
  }
}

/// A slow reference for a small float format, built only from the definition: list every
/// non-negative finite value (m·2^(1−bias−M) for exponent field 0, (2^M + m)·2^(e−bias−M) otherwise,
/// excluding the format's NaN/Inf slots) in Double, then take the nearest.
struct BruteForceMiniFloat {
  let format: MiniFloat
  /// (value, magnitude code), ascending.
  let magnitudes: [(value: Double, code: UInt16)]

  init(_ format: MiniFloat) {
    self.format = format
    var list: [(Double, UInt16)] = []
    let m = format.mantissaBits
    for e in 0..<(1 << format.exponentBits) {
      for f in 0..<(1 << m) {
        let code = UInt16(e << m | f)
        if code > format.maxFiniteCode { continue }
        let value = e == 0
          ? Double(f) * Double.pow2(1 - format.bias - m)
          : Double((1 << m) + f) * Double.pow2(e - format.bias - m)
        list.append((value, code))
      }
    }
    magnitudes = list
  }

  func encode(_ x: Float) -> UInt16 {
    let sign: UInt16 = x.sign == .minus ? format.signBit : 0
    return sign | nearest(Double(Swift.abs(x))).code
  }

  /// The listed value nearest to `a` ≥ 0 (ties to the even code), saturating at the largest.
  func nearest(_ a: Double) -> (value: Double, code: UInt16) {
    if a >= magnitudes.last!.value { return magnitudes.last! }
    // The first listed value ≥ a (binary search), then the nearer of it and its predecessor.
    var lo = 0, hi = magnitudes.count - 1
    while lo < hi {
      let mid = (lo + hi) / 2
      if magnitudes[mid].value < a { lo = mid + 1 } else { hi = mid }
    }
    guard lo > 0 else { return magnitudes[0] }
    let above = magnitudes[lo], below = magnitudes[lo - 1]
    let da = above.value - a, db = a - below.value
    return da < db ? above : db < da ? below : (above.code & 1 == 0 ? above : below)
  }

  /// The nearest value to `x` with its sign.
  func round(_ x: Double) -> Double {
    let v = nearest(Swift.abs(x)).value
    return x < 0 ? -v : v
  }
}

extension Double {
  fileprivate static func pow2(_ k: Int) -> Double { Double(sign: .plus, exponent: k, significand: 1) }
}
