import Testing
@testable import VQ
import VQTestSupport

/// The best-scale oracle (research/geometry.md §1.2) against brute force and the §1.5 table.
@Suite struct GeometryBestScaleTests {
  /// Every codeword of {0, ±levels}^d (except 0): the largest cosine with u, in Double.
  func bruteForce(_ u: [Float], levels: [Double]) -> Double {
    let alphabet = [0.0] + levels + levels.map { -$0 }
    let d = u.count, k = alphabet.count
    var total = 1
    for _ in 0..<d { total *= k }
    var best = 0.0, norm = 0.0
    for v in u { norm += Double(v) * Double(v) }
    for code in 1..<total {
      var rest = code, dot = 0.0, squares = 0.0
      for i in 0..<d {
        let a = alphabet[rest % k]
        rest /= k
        dot += Double(u[i]) * a
        squares += a * a
      }
      if squares > 0 { best = Swift.max(best, dot / squares.squareRoot()) }
    }
    return norm > 0 ? best / norm.squareRoot() : 0
  }

  @Test func oracleEqualsBruteForceForSmallDimensions() {
    let alphabets = [BestScaleOracle.integerLevels(bits: 4), BestScaleOracle.e2m1Levels, BestScaleOracle.integerLevels(bits: 2)]
    for d in 1...4 {
      let x = TestData.gaussian(count: 12, dimension: d, seed: UInt64(40 + d))
      for r in 0..<x.count {
        var u = x[row: r]
        if r == 0 { u[0] = 0 }  // a zero coordinate
        if r == 1 && d > 1 { u[1] = u[0] }  // equal magnitudes: simultaneous events
        for levels in alphabets {
          let oracle = BestScaleOracle.bestCosine(u, levels: levels), brute = bruteForce(u, levels: levels)
          #expect(Swift.abs(oracle - brute) <= 1e-12, "d \(d), row \(r): oracle \(oracle), brute force \(brute)")
        }
      }
    }
    #expect(BestScaleOracle.bestCosine([0, 0, 0], levels: [1]) == 0)
  }

  /// geometry.md §1.5 best-scale rows at d = 8 and 32 (note: 2,000 samples, relative s.e. ≤ 0.5 %, 0.8 %
  /// for ternary). Here N = 4,000 uniform unit vectors; the tolerance is 3 combined standard errors.
  @Test func lossesReproduceTheNote() throws {
    let cases: [(label: String, levels: [Double], note: [Int: Double], noteRelativeSE: Double)] = [
      ("INT2 (ternary)", BestScaleOracle.integerLevels(bits: 2), [8: 0.0723, 32: 0.0933], 0.008),
      ("INT3", BestScaleOracle.integerLevels(bits: 3), [8: 0.01127, 32: 0.01907], 0.005),
      ("INT4", BestScaleOracle.integerLevels(bits: 4), [8: 0.002048, 32: 0.004108], 0.005),
      ("E2M1", BestScaleOracle.e2m1Levels, [8: 0.002116, 32: 0.003922], 0.005),
    ]
    for d in [8, 32] {
      let x = TestData.unitSphere(count: 4000, dimension: d, seed: 77)
      for c in cases {
        let s = BestScaleOracle.measure(x, levels: c.levels)
        let note = c.note[d]!
        let se = (s.standardError * s.standardError + (c.noteRelativeSE * note) * (c.noteRelativeSE * note)).squareRoot()
        #expect(Swift.abs(s.cosineLoss - note) <= 3 * se,
                "\(c.label) d \(d): \(s.cosineLoss) ± \(s.standardError), note \(note)")
      }
    }
  }

  /// The oracle is at least as good as absmax rounding (one particular scale) on the same vectors.
  @Test func oracleBeatsAbsmax() throws {
    let d = 32
    let x = TestData.unitSphere(count: 200, dimension: d, seed: 5)
    let absmax = try DirectionMeasures.cosines(try QuantizerRegistry.standard.makeQuantizer("int:bits=4", dimension: d), x)
    for r in 0..<x.count {
      #expect(BestScaleOracle.bestCosine(x[row: r], levels: BestScaleOracle.integerLevels(bits: 4)) >= absmax[r] - 1e-6)
    }
  }
}
