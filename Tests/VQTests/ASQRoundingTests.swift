import Testing
import VQ
import VQTestSupport

@Suite("ASQ stochastic rounding and the asq/qsgd quantizers")
struct ASQRoundingTests {
  @Test("unbiased: mean of n = 10 000 roundings within 3 SE of x (pooled z over 64 coordinates), each within 4.5 SE; E‖Q(x) − x‖² within 3 SE of the sum of variances")
  func unbiased() throws {
    let x = ASQTestData.vector("lognormal", count: 64, seed: 41).map { Float($0) }
    let levels = try ASQ.exactLevels(x, levels: 4).levels
    let n = 10_000
    var sums = [Double](repeating: 0, count: x.count)
    var squaredErrors = RunningStatistics()
    for r in 0..<n {
      var g = SeededGenerator(seed: 1000 + UInt64(r))
      let y = ASQRounding.rounded(x, levels: levels, generator: &g)
      var e2 = 0.0
      for i in 0..<x.count {
        sums[i] += y[i]
        e2 += (y[i] - Double(x[i])) * (y[i] - Double(x[i]))
        #expect(levels.contains(y[i]))
      }
      squaredErrors.add(e2)
    }
    var pooled = 0.0, worst = 0.0
    for i in 0..<x.count {
      let v = Double(x[i])
      let upper = levels.firstIndex { $0 >= v }!
      let variance = upper == 0 ? 0 : (v - levels[upper - 1]) * (levels[upper] - v)
      let mean = sums[i] / Double(n)
      guard variance > 0 else { #expect(mean == v); continue }
      let standardError = (variance / Double(n)).squareRoot()  // SE of the mean of n = 10 000 draws
      let z = (mean - v) / standardError
      pooled += z
      worst = Swift.max(worst, Swift.abs(z))
    }
    // Σ z_i / √64 ~ N(0, 1) for independent coordinates: within 3 (SE of the pooled statistic is 1).
    #expect(Swift.abs(pooled / 8) <= 3, "pooled z = \(pooled / 8)")
    // Max of 64 |z|: 4.5 SE keeps the family-wise false-alarm rate below 0.05 %.
    #expect(worst <= 4.5, "worst |z| = \(worst)")
    let sumOfVariances = ASQObjective.sumOfVariances(x, levels: levels)
    // n = 10 000 draws of ‖Q(x) − x‖²; SE from the sample.
    #expect(Swift.abs(squaredErrors.mean - sumOfVariances) <= 3 * squaredErrors.standardError,
            "\(squaredErrors.mean) vs \(sumOfVariances) ± \(squaredErrors.standardError)")
  }

  @Test("asq and qsgd are registered; spec keys, layout (⌈log2 s⌉ bits + s Float levels), bad specs refused")
  func registration() throws {
    let q = try QuantizerRegistry.standard.makeQuantizer("asq:levels=16,approx=1000", dimension: 384)
    #expect(q.layout == CodeLayout(bytesPerCode: 192, sideFields: (0..<16).map { "level\($0)" }))
    #expect(q.layout.bytesPerVector == 256)
    let five = try QuantizerRegistry.standard.makeQuantizer("asq:levels=5", dimension: 10)
    #expect(five.layout.bytesPerCode == 4)  // 10 × 3 bits = 30 bits
    #expect(QuantizerRegistry.standard.method(named: "qsgd") != nil)
    #expect(throws: VQError.self) { try QuantizerRegistry.standard.makeQuantizer("asq:levels=1", dimension: 8) }
    #expect(throws: VQError.self) { try QuantizerRegistry.standard.makeQuantizer("asq:levels=4,approx=1", dimension: 8) }
    #expect(throws: VQError.self) { try QuantizerRegistry.standard.makeQuantizer("asq:levels=4,polish=2", dimension: 8) }
  }

  @Test("encode/decode: every decoded value is one of the two levels around x, codes reproducible, estimates == ⟨q, decoded⟩",
        arguments: ["asq:levels=16", "asq:levels=7,approx=500,polish=2", "qsgd:levels=4", "asq:levels=256", "asq:levels=2"])
  func roundTrip(_ text: String) throws {
    let d = 100
    let x = TestData.gaussian(count: 12, dimension: d, seed: 51)
    let q = try QuantizerRegistry.standard.makeQuantizer(text, dimension: d)
    let codes = try q.encode(x)
    #expect(try q.encode(x) == codes)
    let decoded = try q.decode(codes)
    let s = q.layout.sideFields.count
    for i in 0..<x.count {
      let levels = (0..<s).map { Double(codes.side("level\($0)")[i]) }
      #expect(zip(levels, levels.dropFirst()).allSatisfy { $0 <= $1 })
      let row = x[row: i], out = decoded[row: i]
      #expect(levels.first == Double(row.min()!) && levels.last == Double(row.max()!))
      for j in 0..<d {
        let v = Double(row[j]), y = Double(out[j])
        let upper = levels.firstIndex { $0 >= v }!
        let allowed = upper == 0 || levels[upper] == v ? [levels[upper]] : [levels[upper - 1], levels[upper]]
        #expect(allowed.contains(y), "\(text) row \(i) column \(j): \(y) not in \(allowed)")
      }
    }
    let query = TestData.gaussian(count: 1, dimension: d, seed: 52)[row: 0]
    let estimates = q.estimateInnerProducts(try q.prepare(query: query), codes: codes)
    for i in 0..<x.count {
      let exact = zip(query, decoded[row: i]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
      #expect(Swift.abs(Double(estimates[i]) - exact) <= 1e-4 * Swift.max(1, Swift.abs(exact)))
    }
  }

  @Test("qsgd uses the uniform grid; asq's sum of variances ≤ qsgd's on every vector (d = 256, s = 8)")
  func asqBeatsUniform() throws {
    let x = TestData.gaussian(count: 8, dimension: 256, seed: 61)
    let asq = try QuantizerRegistry.standard.makeQuantizer("asq:levels=8", dimension: 256) as! ASQQuantizer
    let qsgd = try QuantizerRegistry.standard.makeQuantizer("qsgd:levels=8", dimension: 256) as! ASQQuantizer
    for i in 0..<x.count {
      try x.withRow(i) { row in
        let adaptive = try asq.levels(for: row), uniform = try qsgd.levels(for: row)
        let lo = uniform[0], step = (uniform[7] - uniform[0]) / 7
        for (l, v) in uniform.enumerated() { #expect(Swift.abs(v - (lo + Double(l) * step)) <= 1e-6 * Swift.max(1, Swift.abs(v))) }
        #expect(ASQObjective.sumOfVariances(row, levels: adaptive) <= ASQObjective.sumOfVariances(row, levels: uniform))
      }
    }
  }
}
