import Testing
import VQ
import VQTestSupport

/// Every product format against an independent slow reference written here from the definitions
/// (in Double, nearest values by brute force from `BruteForceMiniFloat`, scales from `Double.exponent`),
/// on Gaussian data: the reconstructions agree element by element (apart from the rare rounding tie
/// that Float and Double arithmetic resolve differently) and the NMSE agrees to float rounding.
@Suite struct ProductFormatReferenceTests {
  static let specs = [
    "fp16", "bf16", "fp8-e4m3", "fp8-e5m2",
    "int:bits=1", "int:bits=2", "int:bits=3", "int:bits=4", "int:bits=5", "int:bits=6", "int:bits=7", "int:bits=8",
    "fp4", "mxfp4", "nvfp4", "sign",
  ]

  /// d = 100 exercises every tail: 100 = 3·32 + 4 (mxfp4), 6·16 + 4 (nvfp4), 12·8 + 4 (packed bits).
  @Test(arguments: specs)
  func reconstructionMatchesSlowReference(spec: String) throws {
    let d = 100, count = 300
    // N(0,1) coordinates, some vectors scaled far up or down (scale handling), one sparse vector.
    var x = TestData.gaussian(count: count, dimension: d, seed: 2024)
    x.withUnsafeMutableBufferPointer { v in
      for j in 0..<d { v[j] *= 1e-30; v[d + j] *= 3e4; v[2 * d + j] = j == 7 ? -2 : 0 }
    }
    let q = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: d)
    let decoded = try q.decode(try q.encode(x))
    var mismatches = 0
    var nmseFormat = 0.0, nmseReference = 0.0
    for r in 0..<count {
      let row = x[row: r]
      let reference = SlowProductFormat.reconstruct(spec: spec, row.map(Double.init))
      let got = decoded[row: r]
      let amax = row.map { Swift.abs(Double($0)) }.max()!
      var err = 0.0, errRef = 0.0, norm = 0.0
      for j in 0..<d {
        let a = Double(row[j])
        norm += a * a
        err += (Double(got[j]) - a) * (Double(got[j]) - a)
        errRef += (reference[j] - a) * (reference[j] - a)
        if Swift.abs(Double(got[j]) - reference[j]) > 1e-6 * amax { mismatches += 1 }
      }
      nmseFormat += err / norm / Double(count)
      nmseReference += errRef / norm / Double(count)
    }
    // Ties resolved differently by Float (x·(1/s)) and Double (x/s) arithmetic: expected ≈ 0 of 30 000.
    #expect(mismatches <= 3, "\(spec): \(mismatches) of \(count * d) coordinates differ")
    #expect(Swift.abs(nmseFormat - nmseReference) <= 1e-4 * nmseReference + 1e-12,
            "\(spec): nmse \(nmseFormat) vs reference \(nmseReference)")
  }
}

/// Product formats written directly from their definitions, one vector at a time, in Double.
enum SlowProductFormat {
  static let e4m3 = BruteForceMiniFloat(.e4m3)
  static let e5m2 = BruteForceMiniFloat(.e5m2)
  static let e2m1 = BruteForceMiniFloat(.e2m1)
  static let binary16 = BruteForceMiniFloat(.binary16)

  static func reconstruct(spec: String, _ x: [Double]) -> [Double] {
    let amax = x.map { Swift.abs($0) }.max() ?? 0
    switch spec {
    case "fp16": return x.map { binary16.round($0) }
    case "bf16": return x.map(bfloat16)
    case "fp8-e4m3": return scaled(x, amax: amax, top: 448) { e4m3.round($0) }
    case "fp8-e5m2": return scaled(x, amax: amax, top: 57344) { e5m2.round($0) }
    case "fp4": return scaled(x, amax: amax, top: 6) { e2m1.round($0) }
    case "sign":
      let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
      return x.map { ($0 >= 0 ? 1 : -1) * norm / Double(x.count).squareRoot() }
    case "mxfp4": return mxfp4(x)
    case "nvfp4": return nvfp4(x)
    default:
      let bits = Int(spec.split(separator: "=").last!)!
      if bits == 1 {
        let s = x.reduce(0) { $0 + Swift.abs($1) } / Double(x.count)
        return x.map { $0 >= 0 ? s : -s }
      }
      let levels = Double((1 << (bits - 1)) - 1)
      return scaled(x, amax: amax, top: levels) { Swift.min(Swift.max($0.rounded(.toNearestOrEven), -levels), levels) }
    }
  }

  /// s · round(x/s) with s = amax/top.
  static func scaled(_ x: [Double], amax: Double, top: Double, _ round: (Double) -> Double) -> [Double] {
    guard amax > 0 else { return x.map { _ in 0 } }
    let s = amax / top
    return x.map { s * round($0 / s) }
  }

  /// bfloat16: 8 significant bits, round to nearest even, saturating at the largest finite value.
  static func bfloat16(_ x: Double) -> Double {
    guard x != 0 else { return 0 }
    let ulp = Double(sign: .plus, exponent: Swift.max(Swift.abs(x).exponent, -126) - 7, significand: 1)
    let v = (Swift.abs(x) / ulp).rounded(.toNearestOrEven) * ulp
    return (x < 0 ? -1 : 1) * Swift.min(v, Double(Float(0x1.FEp127)))
  }

  /// OCP MX: blocks of 32, X = 2^(⌊log2 amax⌋ − 2), E2M1 of x/X clamped at ±6.
  static func mxfp4(_ x: [Double]) -> [Double] {
    var out = [Double](repeating: 0, count: x.count)
    for start in stride(from: 0, to: x.count, by: 32) {
      let block = start..<Swift.min(start + 32, x.count)
      let amax = block.map { Swift.abs(x[$0]) }.max()!
      guard amax > 0 else { continue }
      let scale = Double(sign: .plus, exponent: Swift.max(amax.exponent - 2, -127), significand: 1)
      for j in block { out[j] = scale * e2m1.round(x[j] / scale) }
    }
    return out
  }

  /// NVFP4: g = amax/(6·448); per 16-block s = E4M3(amax_b/6/g); E2M1 of x/(s·g).
  static func nvfp4(_ x: [Double]) -> [Double] {
    var out = [Double](repeating: 0, count: x.count)
    let amax = x.map { Swift.abs($0) }.max()!
    guard amax > 0 else { return out }
    let g = amax / (6 * 448)
    for start in stride(from: 0, to: x.count, by: 16) {
      let block = start..<Swift.min(start + 16, x.count)
      let blockMax = block.map { Swift.abs(x[$0]) }.max()!
      let s = e4m3.round(blockMax / 6 / g)
      guard s > 0 else { continue }
      for j in block { out[j] = s * g * e2m1.round(x[j] / (s * g)) }
    }
    return out
  }
}
