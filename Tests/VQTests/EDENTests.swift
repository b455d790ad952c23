import RealModule
import Testing
import VQ
import VQTestSupport

/// EDEN/DRIVE against research/rotation.md §2 and §7 items 7–10 and the EDEN half of item 23.
///
/// Monte Carlo uses uniform random unit vectors x and one rotation: for such x, Πx is uniform on the
/// sphere whatever Π is, and a query q = a·x + √(1−a²)·v (v uniform ⊥ x) keeps the pair's law rotation
/// invariant, so one seeded rotation reproduces Haar-rotation statistics exactly. Every tolerance is
/// 3 standard errors computed from the sample (sizes stated next to each assertion); where the
/// reference value is itself the note's Monte-Carlo estimate, its own standard error (estimated from our
/// per-sample spread and its stated sample size) and half a unit of its last printed digit are added.
@Suite struct EDENTests {
  // MARK: Spec, layout, consistency

  @Test func specAndLayout() throws {
    let q = try QuantizerRegistry.standard.makeQuantizer("eden:bits=2", dimension: 100)
    #expect(q.spec.description == "eden:bits=2")
    #expect(q.layout == CodeLayout(bytesPerCode: 128 * 2 / 8, sideFields: ["scale"]))   // padded to 128
    let biased = try QuantizerSpec("eden:bits=3,scale=biased,rounds=1,seed=7")
    #expect(biased.description == "eden:bits=3,scale=biased,rounds=1,seed=7")
    #expect(try QuantizerSpec(biased.description) == biased)
    #expect(throws: VQError.self) { try QuantizerSpec("eden:bits=9") }
    #expect(throws: VQError.self) { try QuantizerSpec("eden:bits=2,scale=sideways") }
    // 384 = 12·32 needs no padding.
    #expect(try EDEN(spec: QuantizerSpec("eden:bits=4"), dimension: 384).layout.bytesPerCode == 192)
  }

  /// The estimate from codes equals ⟨q, decode(code)⟩ (both are S·⟨Πq, c⟩), for every width, both
  /// scales, padded (100 → 128) and unpadded (384 = 12·32) dimensions and every rotation kind.
  @Test(arguments: ["eden:bits=1", "eden:bits=2,scale=biased", "eden:bits=3,codebook=beta", "eden:bits=4",
                    "eden:bits=5,rotation=haar", "eden:bits=6,rotation=none", "eden:bits=7", "eden:bits=8,scale=biased"])
  func estimateEqualsInnerProductWithDecoded(_ text: String) throws {
    for d in [100, 384] {
      try checkEstimateMatchesDecode(QuantizerRegistry.standard.makeQuantizer(text, dimension: d), dimension: d)
    }
  }

  /// Codes are a deterministic function of the spec: the same seed gives the same bytes, another seed
  /// other bytes; a zero vector decodes to zero and estimates 0.
  @Test func determinismAndZeroVector() throws {
    let x = TestData.gaussian(count: 20, dimension: 200, seed: 1)
    let a = try EDEN(spec: QuantizerSpec("eden:bits=3"), dimension: 200)
    let b = try EDEN(spec: QuantizerSpec("eden:bits=3,seed=43"), dimension: 200)
    #expect(try a.encode(x) == a.encode(x))
    #expect(try a.encode(x) != b.encode(x))
    let zero = VectorBatch(dimension: 200, count: 2)
    for scale in ["unbiased", "biased"] {
      let q = try EDEN(spec: QuantizerSpec("eden:bits=2,scale=\(scale)"), dimension: 200)
      let codes = try q.encode(zero)
      #expect(try q.decode(codes).values.allSatisfy { $0 == 0 })
      #expect(q.estimateInnerProducts(try q.prepare(query: x[row: 0]), codes: codes) == [0, 0])
    }
  }

  /// Wrong dimension, NaN/±Inf (named by row and column) and norms beyond Float range are errors, for
  /// every method of this family; the output buffer is left as it was.
  @Test(arguments: ["eden:bits=2", "eden:bits=3,rotation=none", "turbo-mse:bits=3", "turbo-prod:bits=2", "qjl", "qjl:qjl=gaussian"])
  func rejectsBadInput(_ text: String) throws {
    let q = try QuantizerRegistry.standard.makeQuantizer(text, dimension: 8)
    #expect(throws: VQError.dimensionMismatch(expected: 8, got: 9, what: "input")) {
      try q.encode(TestData.gaussian(count: 2, dimension: 9, seed: 1))
    }
    let good = TestData.gaussian(count: 3, dimension: 8, seed: 1)
    let before = try q.encode(good)
    for (value, row, column) in [(Float.nan, 1, 3), (Float.infinity, 2, 0), (-Float.infinity, 0, 7)] {
      var bad = good
      bad.withUnsafeMutableBufferPointer { $0[row * 8 + column] = value }
      var codes = before
      do {
        try q.encode(bad, into: &codes)
        Issue.record("\(text): \(value) was accepted")
      } catch let error as VQError {
        #expect(error.description.contains("row \(row), column \(column)"), "\(text): \(error)")
      }
      #expect(codes == before, "\(text): the output changed on error")
    }
    var huge = good
    huge.withUnsafeMutableBufferPointer { $0[9] = 1e30 }
    #expect(throws: VQError.self) { try q.encode(huge) }
    let other = try Float32Format(spec: QuantizerSpec("fp32"), dimension: 8)
    #expect(throws: VQError.self) { try q.decode(other.encode(good)) }
  }

  // MARK: §7 items 7–9: normalized MSE

  /// Item 7: unbiased vNMSE at d = 1536 (note's MC: 0.5710, 0.1330, 0.0357, 0.0096; limit D_b/(1−D_b)).
  /// Item 8: at d = 128 (note's MC with 20k vectors: 0.567, 0.1305, 0.0347, 0.0092).
  /// Item 9: biased NMSE at d = 128 (0.3604, 0.1152, 0.0335, 0.0092).
  @Test(arguments: [
    NMSECase(spec: "unbiased", d: 1536, samples: 2000, noteSamples: 4000, values: ["0.5710", "0.1330", "0.0357", "0.0096"]),
    NMSECase(spec: "unbiased", d: 128, samples: 20000, noteSamples: 20000, values: ["0.567", "0.1305", "0.0347", "0.0092"]),
    NMSECase(spec: "biased", d: 128, samples: 20000, noteSamples: 20000, values: ["0.3604", "0.1152", "0.0335", "0.0092"]),
  ])
  func normalizedMSE(_ c: NMSECase) throws {
    let x = TestData.unitSphere(count: c.samples, dimension: c.d, seed: UInt64(c.d))
    for b in 1...4 {
      let q = try EDEN(spec: QuantizerSpec("eden:bits=\(b),scale=\(c.spec)"), dimension: c.d)
      let stats = RunningStatistics(MonteCarlo.squaredErrors(x, try q.decode(q.encode(x))))
      let printed = c.values[b - 1]
      let note = Double(printed)!
      // Sample: c.samples vectors (2000 at d=1536, 20000 at d=128); SE from their spread; the note's
      // own SE is ours·√(ours/theirs); plus half a unit of its last printed digit.
      let noteSE = stats.standardError * (Double(c.samples) / Double(c.noteSamples)).squareRoot()
      let tolerance = 3 * (stats.standardError * stats.standardError + noteSE * noteSE).squareRoot()
        + MonteCarlo.halfUnit(printed)
      #expect(abs(stats.mean - note) <= tolerance,
              "\(c.spec) d=\(c.d) b=\(b): \(stats.mean) ± \(stats.standardError) vs note \(note)")
      MonteCarlo.log("item \(c.spec == "biased" ? 9 : (c.d == 1536 ? 7 : 8)) eden \(c.spec) d=\(c.d) b=\(b): nmse \(stats.mean) ± \(stats.standardError) (note \(note), N=\(c.samples))")
    }
  }

  /// The large-d limits: unbiased vNMSE → D_b/(1−D_b), biased NMSE → D_b (Lloyd–Max N(0,1), exact),
  /// checked at d = 8192 where the finite-d corrections (O(1/d)) are below the sampling error.
  @Test func largeDimensionLimits() throws {
    let d = 8192
    let x = TestData.unitSphere(count: 400, dimension: d, seed: 99)
    for b in 1...4 {
      let db = try ScalarCodebook.gaussian(bits: b).distortion
      for (scale, limit) in [("unbiased", db / (1 - db)), ("biased", db)] {
        let q = try EDEN(spec: QuantizerSpec("eden:bits=\(b),scale=\(scale)"), dimension: d)
        let stats = RunningStatistics(MonteCarlo.squaredErrors(x, try q.decode(q.encode(x))))
        // Sample: 400 vectors; 3 SE plus the O(1/d) finite-d gap (≤ 1.5·limit/d, from items 7–8).
        #expect(abs(stats.mean - limit) <= 3 * stats.standardError + 1.5 * limit / Double(d),
                "\(scale) b=\(b): \(stats.mean) ± \(stats.standardError) vs \(limit)")
      }
    }
  }

  // MARK: §7 item 10: unbiasedness

  /// Item 10: at a = 0.8, d = 128, b = 1 the unbiased mean estimate is 0.8 (note: 0.7999 ± 0.0001 with
  /// 200k), the biased one 0.8·E[γ²] ≈ 0.511; unbiasedness also at b = 2…4.
  @Test func unbiasedAtCorrelationPointEight() throws {
    let d = 128, a = 0.8, count = 50_000
    let (x, y) = MonteCarlo.correlatedPairs(count: count, dimension: d, correlation: a, seed: 10)
    for b in 1...4 {
      let q = try EDEN(spec: QuantizerSpec("eden:bits=\(b)"), dimension: d)
      let estimates = try MonteCarlo.pairEstimates(q, x, y)
      let stats = RunningStatistics(estimates.map { $0 - a })
      // Sample: 50,000 pairs; SE ≈ 1.8e−4 at b = 1.
      #expect(abs(stats.mean) <= 3 * stats.standardError, "b=\(b): bias \(stats.mean) ± \(stats.standardError)")
      MonteCarlo.log("item 10 eden unbiased d=128 b=\(b) a=0.8: mean \(a + stats.mean) ± \(stats.standardError)")
    }
    // Biased scale: E[estimate | z] = a·γ², and ‖x̂ − x‖² = 1 − γ² for unit x, so
    // estimate − a·(1 − ‖x̂−x‖²) has mean 0 (a paired check of the shrink), and the mean is ≈ 0.511.
    let biased = try EDEN(spec: QuantizerSpec("eden:bits=1,scale=biased"), dimension: d)
    let estimates = try MonteCarlo.pairEstimates(biased, x, y)
    let errors = MonteCarlo.squaredErrors(x, try biased.decode(biased.encode(x)))
    let paired = RunningStatistics((0..<count).map { estimates[$0] - a * (1 - errors[$0]) })
    // Sample: 50,000 pairs.
    #expect(abs(paired.mean) <= 3 * paired.standardError, "biased shrink: \(paired.mean) ± \(paired.standardError)")
    let mean = RunningStatistics(estimates)
    // Note: "0.511"; precisely 0.8·E[γ²] = 0.8·(1 − 0.3604) = 0.51168 by item 9, itself an MC mean over
    // 20,000 vectors printed to 4 decimals. Sample: 50,000 pairs; 3 SE of ours combined with item 9's SE
    // (estimated from our per-vector spread at its 20,000), plus 0.8 × half a unit of "0.3604".
    let item9SE = 0.8 * RunningStatistics(errors).variance.squareRoot() / 20_000.0.squareRoot()
    let combined = (mean.standardError * mean.standardError + item9SE * item9SE).squareRoot()
    #expect(abs(mean.mean - 0.8 * (1 - 0.3604)) <= 3 * combined + 0.8 * 5e-5, "biased mean \(mean.mean)")
    MonteCarlo.log("item 10 eden biased d=128 b=1 a=0.8: mean \(mean.mean) ± \(mean.standardError) (note 0.511)")
  }

  // MARK: §7 item 23 (EDEN half): one Hadamard round on sparse input

  /// x = (0.8, 0.5, 0.33, 0, …)/‖·‖ at d = 256, q = e₁ (true ⟨q,x⟩ = 0.80044), 1 bit, unbiased scale.
  /// One round: Πx takes only the four values (±x₁ ± x₂ ± x₃)/16, each on 64 coordinates, whatever the
  /// signs, so the estimate is 1/(x₁+x₂+x₃) = 0.61316 for every seed (note: 0.6132, zero variance).
  /// Three rounds: unbiased over seeds (note: 0.8004, d·Var 0.205).
  @Test func oneRoundIsBiasedOnSparseInputThreeRoundsAreNot() throws {
    let d = 256
    var x = [Float](repeating: 0, count: d)
    let norm = (0.8 * 0.8 + 0.5 * 0.5 + 0.33 * 0.33).squareRoot()
    x[0] = Float(0.8 / norm); x[1] = Float(0.5 / norm); x[2] = Float(0.33 / norm)
    let truth = Double(x[0])
    var e1 = [Float](repeating: 0, count: d)
    e1[0] = 1
    let batch = try VectorBatch(rows: [x])
    let deterministic = 1 / (Double(x[0]) + Double(x[1]) + Double(x[2]))
    for seed in 0..<50 {
      let q = try EDEN(spec: QuantizerSpec("eden:bits=1,rounds=1,seed=\(seed)"), dimension: d)
      let estimate = q.estimateInnerProducts(try q.prepare(query: e1), codes: try q.encode(batch))[0]
      #expect(abs(Double(estimate) - deterministic) <= 1e-5, "seed \(seed): \(estimate)")
    }
    #expect(abs(deterministic - 0.6132) <= 0.00005)
    // Three rounds: 20,000 seeds (one rotation each); SE ≈ √(0.205/256/20000) ≈ 2e−4.
    var stats = RunningStatistics()
    for seed in 0..<20_000 {
      let q = try EDEN(spec: QuantizerSpec("eden:bits=1,rounds=3,seed=\(seed)"), dimension: d)
      stats.add(Double(q.estimateInnerProducts(try q.prepare(query: e1), codes: try q.encode(batch))[0]))
    }
    #expect(abs(stats.mean - truth) <= 3 * stats.standardError, "3 rounds: \(stats.mean) ± \(stats.standardError)")
    MonteCarlo.log("item 23 eden 3-sparse d=256 b=1: rounds=1 \(deterministic) (all seeds); rounds=3 mean \(stats.mean) ± \(stats.standardError), d·Var \(Double(d) * stats.variance) (note 0.8004, 0.205)")
  }
}

struct NMSECase: Sendable, CustomTestStringConvertible {
  var spec: String
  var d: Int
  var samples: Int
  var noteSamples: Int
  /// The note's values as printed (the number of decimals sets the rounding allowance).
  var values: [String]
  var testDescription: String { "\(spec) d=\(d)" }
}

/// Monte-Carlo helpers shared by the EDEN, TurboQuant and QJL suites.
enum MonteCarlo {
  /// Pairs (x_i, q_i) of unit vectors with ⟨x_i, q_i⟩ = a: x uniform, q = a·x + √(1−a²)·v with v uniform
  /// on the unit sphere of x^⊥ (so the pair's law is invariant under every rotation).
  static func correlatedPairs(count: Int, dimension d: Int, correlation a: Double, seed: UInt64) -> (VectorBatch, VectorBatch) {
    var g = SeededGenerator(seed: seed)
    var xs = [Float](), qs = [Float]()
    xs.reserveCapacity(count * d); qs.reserveCapacity(count * d)
    for _ in 0..<count {
      var x = (0..<d).map { _ in g.nextGaussian() }
      let nx = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
      x = x.map { $0 / nx }
      var v = (0..<d).map { _ in g.nextGaussian() }
      let along = zip(v, x).reduce(0) { $0 + $1.0 * $1.1 }
      v = zip(v, x).map { $0 - along * $1 }
      let nv = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      let b = (1 - a * a).squareRoot()
      xs += x.map { Float($0) }
      qs += zip(x, v).map { Float(a * $0 + b * $1 / nv) }
    }
    return (try! VectorBatch(dimension: d, values: xs), try! VectorBatch(dimension: d, values: qs))
  }

  /// The estimate of ⟨q_i, x_i⟩ for every pair, from codes and a prepared query.
  static func pairEstimates(_ quantizer: some VectorQuantizer, _ x: VectorBatch, _ q: VectorBatch) throws -> [Double] {
    let codes = try quantizer.encode(x)
    var out = [Double](repeating: 0, count: x.count)
    var one: [Float] = [0]
    for i in 0..<x.count {
      let prepared = try q.withRow(i) { try quantizer.prepare(query: $0) }
      one.withUnsafeMutableBufferPointer { quantizer.estimateInnerProducts(prepared, codes: codes, range: i..<(i + 1), into: $0) }
      out[i] = Double(one[0])
    }
    return out
  }

  /// The estimate minus the true inner product for every pair (x_i, q_i), with the true value in Double.
  static func pairErrors(_ quantizer: some VectorQuantizer, _ x: VectorBatch, _ q: VectorBatch) throws -> [Double] {
    let estimates = try pairEstimates(quantizer, x, q)
    return (0..<x.count).map { i in
      estimates[i] - x.withRow(i) { a in q.withRow(i) { b in DotProduct.dotDouble(a, b) } }
    }
  }

  /// ‖x̂_i − x_i‖²/‖x_i‖² per row, in Double.
  static func squaredErrors(_ x: VectorBatch, _ xhat: VectorBatch) -> [Double] {
    (0..<x.count).map { i in
      x.withRow(i) { a in
        xhat.withRow(i) { b in
          var e = 0.0, n = 0.0
          for j in 0..<a.count {
            e += (Double(b[j]) - Double(a[j])) * (Double(b[j]) - Double(a[j]))
            n += Double(a[j]) * Double(a[j])
          }
          return e / n
        }
      }
    }
  }

  /// Half a unit in the last digit of a value as the note prints it ("0.5710" → 5e−5, "0.567" → 5e−4).
  static func halfUnit(_ printed: String) -> Double {
    guard let dot = printed.firstIndex(of: ".") else { return 0.5 }
    return 0.5 * Double.pow(10, Double(-(printed.distance(from: dot, to: printed.endIndex) - 1)))
  }

  static func log(_ line: String) {
    print("[MC] " + line)
  }
}

/// ⟨q, decode(code)⟩ equals the estimate from codes, to Float rounding, for 8 random queries × 16 codes.
func checkEstimateMatchesDecode(_ q: any VectorQuantizer, dimension d: Int) throws {
  let x = TestData.gaussian(count: 16, dimension: d, seed: 3)
  let queries = TestData.gaussian(count: 8, dimension: d, seed: 4)
  let codes = try q.encode(x)
  let decoded = try q.decode(codes)
  for k in 0..<queries.count {
    let estimates = q.estimateInnerProducts(try q.prepare(query: queries[row: k]), codes: codes)
    for i in 0..<x.count {
      let exact = decoded.withRow(i) { a in queries.withRow(k) { b in DotProduct.dotDouble(a, b) } }
      let scale = (x.norms()[i] * queries.norms()[k])
      #expect(abs(Double(estimates[i]) - exact) <= 2e-4 * Double(scale), "\(q.spec) d=\(d) query \(k) code \(i)")
    }
  }
}
