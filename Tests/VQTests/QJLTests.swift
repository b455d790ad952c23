import RealModule
import Testing
import VQ
import VQTestSupport

/// QJL alone against research/rotation.md §4.5 and §7 item 20.
@Suite struct QJLTests {
  @Test func specAndLayout() throws {
    let q = try QuantizerRegistry.standard.makeQuantizer("qjl", dimension: 100)
    #expect(q.spec.description == "qjl")
    #expect(q.layout == CodeLayout(bytesPerCode: 16, sideFields: ["norm"]))   // m = padded n = 128
    let wide = try QuantizerRegistry.standard.makeQuantizer("qjl:projections=300,qjl=gaussian", dimension: 100)
    #expect(wide.layout.bytesPerCode == 38)
    #expect(wide.spec.description == "qjl:projections=300,qjl=gaussian")
    #expect(throws: VQError.self) { try QuantizerSpec("qjl:projections=-1") }
    #expect(throws: VQError.self) { try QuantizerSpec("qjl:qjl=haar") }
  }

  /// The estimate equals ⟨q, decode(code)⟩ for m < n, m = n, m > n (three stacked Hadamard blocks) and
  /// Gaussian rows; a padded (100) and an unpadded (384) dimension.
  @Test(arguments: ["qjl", "qjl:projections=64", "qjl:projections=300", "qjl:qjl=gaussian", "qjl:projections=50,qjl=gaussian,seed=3"])
  func estimateEqualsInnerProductWithDecoded(_ text: String) throws {
    for d in [100, 384] {
      try checkEstimateMatchesDecode(QuantizerRegistry.standard.makeQuantizer(text, dimension: d), dimension: d)
    }
  }

  @Test func zeroVector() throws {
    let q = try QJL(spec: QuantizerSpec("qjl"), dimension: 20)
    let codes = try q.encode(VectorBatch(dimension: 20, count: 1))
    #expect(try q.decode(codes).values.allSatisfy { $0 == 0 })
    #expect(q.estimateInnerProducts(try q.prepare(query: [Float](repeating: 1, count: 20)), codes: codes) == [0])
  }

  /// Item 20 at d = 128, a = 0.6, unit vectors:
  /// - Gaussian rows: unbiased, d·Var = (π/2 − a²)·d/m exactly: 1.2108 at m = d (note: 1.21 theory,
  ///   1.186 MC), 2.4216 at m = d/2;
  /// - orthogonal rows (m = n = d, Haar theory): unbiased, d·Var = d·[a²(1 + (n−1)·2/π − n²μ²) +
  ///   (1 − a²)(1 − 2/π)]/(nμ)² with μ = E|z₁|: 0.3889 (note: 0.392 MC; DRIVE's (π/2−1)(1−a²) = 0.365).
  /// Sample: 100 seeds × 200 pairs per case; SE from the 100 per-seed means.
  @Test func varianceAndBias() throws {
    let d = 128, a = 0.6
    let (x, y) = MonteCarlo.correlatedPairs(count: 100 * 200, dimension: d, correlation: a, seed: 20)
    let mu = meanAbsoluteCoordinate(d), n = Double(d)
    let orthogonal = n * (a * a * (1 + (n - 1) * 2 / Double.pi - n * n * mu * mu) + (1 - a * a) * (1 - 2 / Double.pi)) / (n * mu * n * mu)
    let cases: [(spec: String, variance: Double, note: String)] = [
      ("qjl:qjl=gaussian", Double.pi / 2 - a * a, "1.21 (theory), 1.186 (MC)"),
      ("qjl:qjl=gaussian,projections=64", 2 * (Double.pi / 2 - a * a), "-"),
      ("qjl", orthogonal, "0.392 (MC)"),
    ]
    for c in cases {
      var bias = RunningStatistics(), variance = RunningStatistics()
      for seed in 0..<100 {
        let q = try QuantizerRegistry.standard.makeQuantizer(
          c.spec + (c.spec.contains(":") ? "," : ":") + "seed=\(seed)", dimension: d)
        let range = (seed * 200)..<((seed + 1) * 200)
        let errors = try MonteCarlo.pairErrors(q, x.slice(range), y.slice(range))
        bias.add(errors.reduce(0, +) / 200)
        variance.add(n * errors.reduce(0) { $0 + $1 * $1 } / 200)
      }
      #expect(abs(bias.mean) <= 3 * bias.standardError, "\(c.spec): bias \(bias.mean) ± \(bias.standardError)")
      #expect(abs(variance.mean - c.variance) <= 3 * variance.standardError,
              "\(c.spec): d·Var \(variance.mean) ± \(variance.standardError) vs \(c.variance)")
      MonteCarlo.log("item 20 \(c.spec) d=128 a=0.6: bias \(bias.mean) ± \(bias.standardError); d·Var \(variance.mean) ± \(variance.standardError) (theory \(c.variance), note \(c.note))")
    }
  }
}
