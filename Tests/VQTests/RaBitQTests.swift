import Foundation
import Testing
import VQ
import VQTestSupport

/// RaBitQ against research/rotation.md §7 (items 13–17 and 26) and its own contract.
///
/// Monte-Carlo inputs: x uniform on the sphere and y = a·x + √(1−a²)·w with w uniform on the sphere
/// orthogonal to x. Such pairs are rotation-invariant in law, so any fixed rotation of them behaves
/// exactly like a Haar rotation (the padded case, 960 → 1024, relies on the three Hadamard rounds).
/// Every statistical assertion states its sample size n and uses 3 standard errors of that sample.
@Suite struct RaBitQTests {
  // MARK: Helpers

  /// n unit vectors x and n queries y with ⟨x_i, y_i⟩ = a.
  static func pairs(count n: Int, dimension d: Int, a: Double, seed: UInt64) -> (x: VectorBatch, y: VectorBatch) {
    var g = SeededGenerator(seed: seed)
    var xs = [Float](repeating: 0, count: n * d), ys = xs
    let c = (1 - a * a).squareRoot()
    var u = [Double](repeating: 0, count: d), w = u
    for i in 0..<n {
      var nu = 0.0
      for j in 0..<d { u[j] = g.nextGaussian(); nu += u[j] * u[j] }
      nu = nu.squareRoot()
      for j in 0..<d { u[j] /= nu }
      var dot = 0.0
      for j in 0..<d { w[j] = g.nextGaussian(); dot += w[j] * u[j] }
      var nw = 0.0
      for j in 0..<d { w[j] -= dot * u[j]; nw += w[j] * w[j] }
      nw = nw.squareRoot()
      for j in 0..<d {
        xs[i * d + j] = Float(u[j])
        ys[i * d + j] = Float(a * u[j] + c * w[j] / nw)
      }
    }
    return (try! VectorBatch(dimension: d, values: xs), try! VectorBatch(dimension: d, values: ys))
  }

  /// Estimate (and bounds) of ⟨x_i, y_i⟩ for every pair, and the exact value.
  static func pairEstimates(_ q: RaBitQ, _ x: VectorBatch, _ y: VectorBatch, stage: RaBitQ.Stage = .full) throws
    -> (estimate: [Double], lower: [Double], upper: [Double], exact: [Double], cosines: [Float])
  {
    let codes = try q.encode(x)
    var est = [Double](), lo = [Double](), hi = [Double](), exact = [Double]()
    var e: Float = 0, l: Float = 0, h: Float = 0
    for i in 0..<x.count {
      let prepared = try q.prepare(query: y[row: i])
      withUnsafeMutablePointer(to: &e) { ep in
        withUnsafeMutablePointer(to: &l) { lp in
          withUnsafeMutablePointer(to: &h) { hp in
            q.estimateWithBounds(prepared, codes: codes, range: i..<(i + 1), stage: stage,
                                 estimates: .init(start: ep, count: 1), lower: .init(start: lp, count: 1),
                                 upper: .init(start: hp, count: 1))
          }
        }
      }
      est.append(Double(e)); lo.append(Double(l)); hi.append(Double(h))
      exact.append(x.withRow(i) { xv in y.withRow(i) { DotProduct.dotDouble(xv, $0) } })
    }
    return (est, lo, hi, exact, q.cosines(codes, stage: stage))
  }

  /// E⟨ō, o⟩ of the 1-bit code for a uniform direction in D dimensions (rotation.md §3.2).
  static func expectedOneBitCosine(_ D: Int) -> Double {
    let d = Double(D)
    return (d / Double.pi).squareRoot() * 2 * exp(lgamma(d / 2) - lgamma((d - 1) / 2)) / (d - 1)
  }

  /// Sample variance and its standard error (√((m4 − s⁴)/n), m4 the fourth central moment).
  static func varianceWithError(_ v: [Double]) -> (variance: Double, standardError: Double) {
    let n = Double(v.count)
    let mean = v.reduce(0, +) / n
    var m2 = 0.0, m4 = 0.0
    for x in v {
      let c = (x - mean) * (x - mean)
      m2 += c
      m4 += c * c
    }
    m2 /= n - 1
    m4 /= n
    return (m2, ((m4 - m2 * m2) / n).squareRoot())
  }

  // MARK: Spec and layout (§7 item 26)

  /// FAISS 1.15 at d = 128: `RaBitQ` 24 B, `RaBitQ4` 84 B per vector (peers.md §1.3). Ours: 1-bit is
  /// the same 16 + 2 floats; 4-bit is 16 + 48 code bytes + 4 floats = 80 B: FAISS also stores the sign
  /// stage's error factor (4 B), which we derive from `norm` and `signRescale` since the sign code's
  /// norm is the constant √D/2.
  @Test func codeSizesAtDimension128() throws {
    let one = try RaBitQ("rabitq:bits=1", dimension: 128), four = try RaBitQ("rabitq:bits=4", dimension: 128)
    #expect(one.layout.bytesPerVector == 24)
    #expect(one.layout.sideFields == ["norm", "rescale"])
    #expect(four.layout.bytesPerVector == 80)
    #expect(four.layout.bytesPerCode == 64)
    #expect(four.layout.sideFields == ["norm", "signRescale", "rescale", "cosine"])
    // Padding: 960 pads to 1024 coordinates, whose bits are all stored.
    #expect(try RaBitQ("rabitq:bits=1", dimension: 960).layout.bytesPerCode == 128)
    #expect(try RaBitQ("rabitq:bits=3", dimension: 384).layout.bytesPerCode == 48 + 96)
  }

  @Test func specKeysAndDefaults() throws {
    let s = try QuantizerSpec("rabitq:bits=4")
    #expect(s.description == "rabitq:bits=4")
    #expect(try QuantizerSpec("rabitq:bits=2,query-bits=8,eps=2.5,centre=mean").description
            == "rabitq:bits=2,query-bits=8,eps=2.5,centre=mean")
    for (bits, qb) in [(1, 4), (2, 5), (4, 7), (5, 8), (9, 12)] {
      #expect(try RaBitQ("rabitq:bits=\(bits)", dimension: 16).queryBits == qb, "auto query bits at B = \(bits)")
    }
    for bad in ["rabitq:bits=0", "rabitq:bits=10", "rabitq:bits=2,query-bits=0", "rabitq:bits=2,query-bits=13",
                "rabitq:bits=1,eps=-1", "rabitq:bits=1,centre=median", "rabitq:bits=1,rotation=fft"] {
      #expect(throws: VQError.self, "\(bad)") { try QuantizerSpec(bad) }
    }
    do { _ = try QuantizerSpec("rabitq:bits=10") } catch let e as VQError {
      #expect(e.description.contains("bits=10") && e.description.contains("1...9"))
    }
  }

  @Test func inputErrorsAreThrownNotTrapped() throws {
    let q = try RaBitQ("rabitq:bits=2", dimension: 8)
    let wrong = TestData.gaussian(count: 2, dimension: 9, seed: 1)
    #expect(throws: VQError.self) { try q.encode(wrong) }
    var bad = TestData.gaussian(count: 3, dimension: 8, seed: 1).values
    bad[13] = .nan
    do { _ = try q.encode(try VectorBatch(dimension: 8, values: bad)) } catch let e as VQError {
      #expect(e == .nonFinite(source: "input", row: 1, column: 5, value: .nan) || e.description.contains("row 1, column 5"))
    }
    #expect(throws: VQError.self) { try q.prepare(query: [Float](repeating: 1, count: 7)) }
    #expect(throws: VQError.self) { try q.prepare(query: [1, 2, 3, .infinity, 5, 6, 7, 8]) }
    let other = try RaBitQ("rabitq:bits=3", dimension: 8)
    let codes = try other.encode(TestData.gaussian(count: 2, dimension: 8, seed: 2))
    #expect(throws: VQError.self) { try q.decode(codes) }
    let unfitted = try RaBitQ("rabitq:bits=1,centre=mean", dimension: 8)
    #expect(throws: VQError.self) { try unfitted.encode(TestData.gaussian(count: 2, dimension: 8, seed: 2)) }
  }

  /// A zero vector has a zero code factor: its estimate is exactly ⟨centre, q⟩ = 0 and it decodes to 0.
  @Test func zeroVectorsEstimateZero() throws {
    for bits in [1, 3] {
      let q = try RaBitQ("rabitq:bits=\(bits)", dimension: 20)
      var values = TestData.gaussian(count: 3, dimension: 20, seed: 4).values
      for j in 20..<40 { values[j] = 0 }
      let x = try VectorBatch(dimension: 20, values: values)
      let codes = try q.encode(x)
      let est = q.estimateInnerProducts(try q.prepare(query: x[row: 0]), codes: codes)
      #expect(est[1] == 0)
      #expect(try q.decode(codes)[row: 1].allSatisfy { $0 == 0 })
    }
  }

  // MARK: The estimator is what the code says

  /// The integer kernels give rescale·⟨x̄, q̃⟩ + ⟨c, q⟩ + ⟨r, c⟩ with x̄ the code (as decoded before
  /// scaling), q̃ = lo + Δ·u the quantized centred query and ⟨r, c⟩ the stored `centreDot`: checked against that sum in Double, for every B, with a
  /// centre, padding (d = 100 → 128) and rotation=none at a dimension that is not a multiple of 8.
  @Test(arguments: ["rotation=hadamard", "rotation=none"])
  func kernelEstimateMatchesTheDefinition(rotation: String) throws {
    let d = rotation == "rotation=none" ? 45 : 100
    let x = TestData.gaussian(count: 40, dimension: d, seed: 9)
    let query = TestData.gaussian(count: 1, dimension: d, seed: 10)[row: 0]
    for bits in 1...9 {
      var q = try RaBitQ("rabitq:bits=\(bits),centre=mean,\(rotation)", dimension: d)
      try q.fit(x)
      let codes = try q.encode(x)
      let prepared = try q.prepare(query: query)
      let est = q.estimateInnerProducts(prepared, codes: codes)
      let D = q.paddedDimension, signBytes = q.signBytes
      let lo = Double(prepared.factors[0]), step = Double(prepared.factors[1])
      let planeBytes = (q.queryBits * signBytes + 7) / 8 * 8
      let u = (0..<D).map { i in Double(UInt16(prepared.quantized[planeBytes + 2 * i]) | UInt16(prepared.quantized[planeBytes + 2 * i + 1]) << 8) }
      let rescale = codes.side("rescale"), centreDots = codes.side("centreDot")
      let K = (1 << (bits - 1)) - 1
      for i in 0..<x.count {
        let code = codes.code(i)
        var inner = 0.0
        for j in 0..<D {
          let positive = (code[j >> 3] >> UInt8(j & 7)) & 1 == 1
          var level = 0
          if bits > 1 {
            var e = 0
            for b in 0..<(bits - 1) where (code[signBytes + (j * (bits - 1) + b) >> 3] >> UInt8((j * (bits - 1) + b) & 7)) & 1 == 1 { e |= 1 << b }
            level = positive ? e : K - e
          }
          inner += (positive ? 1 : -1) * (Double(level) + 0.5) * (lo + step * u[j])
        }
        let direct = Double(rescale[i]) * inner + Double(prepared.factors[5]) + Double(centreDots[i])
        #expect(abs(Double(est[i]) - direct) <= 2e-5 * max(1, abs(direct)), "bits \(bits) row \(i): \(est[i]) vs \(direct)")
      }
    }
  }

  /// With a centre only ⟨o − c, q − c⟩ is estimated; ⟨c, q⟩ and ⟨o − c, c⟩ are exact. So the centre
  /// itself as the query is estimated exactly (⟨o, c⟩ to float rounding) for every code and every B,
  /// in both the bit-plane scan and FastScan, and `centreDot` is ⟨o − c, c⟩. An estimator that
  /// rotated q instead of q − c would miss by the code's noise, ~‖o − c‖·‖c‖/√D (≈ 0.1 here).
  @Test func centredQueriesEstimateTheCentreExactly() throws {
    let d = 96
    var values = TestData.gaussian(count: 64, dimension: d, seed: 31).values
    for i in 0..<values.count { values[i] = 0.5 * values[i] + (i % d < 8 ? 2 : 0.25) }   // a strong mean
    let x = try VectorBatch(dimension: d, values: values)
    for bits in [1, 2, 3] {
      var q = try RaBitQ("rabitq:bits=\(bits),centre=mean", dimension: d)
      try q.fit(x)
      let centre = try #require(q.centre)
      let codes = try q.encode(x)
      #expect(codes.layout.sideFields.last == RaBitQ.Field.centreDot)
      let prepared = try q.prepare(query: centre)
      let est = q.estimateInnerProducts(prepared, codes: codes)
      let fast = q.makeFastScanCodes(codes)
      var fastEst = [Float](repeating: 0, count: 32 * fast.blockCount)
      fastEst.withUnsafeMutableBufferPointer {
        q.estimateInnerProductsFastScan(q.prepareFastScan(prepared), codes: fast, blockRange: 0..<fast.blockCount, into: $0)
      }
      let centreDots = codes.side(RaBitQ.Field.centreDot)
      for i in 0..<x.count {
        let row = x[row: i]
        var exact = 0.0, residualDot = 0.0
        for j in 0..<d {
          exact += Double(row[j]) * Double(centre[j])
          residualDot += Double(row[j] - centre[j]) * Double(centre[j])
        }
        #expect(abs(Double(centreDots[i]) - residualDot) <= 1e-5 * max(1, abs(residualDot)))
        #expect(abs(Double(est[i]) - exact) <= 1e-5 * max(1, abs(exact)), "bits \(bits) row \(i): \(est[i]) vs \(exact)")
        #expect(abs(Double(fastEst[i]) - exact) <= 1e-5 * max(1, abs(exact)), "FastScan bits \(bits) row \(i)")
      }
    }
  }

  /// The biased reconstruction has normalized error exactly 1 − γ² (rotation.md §1), vector by vector.
  @Test func decodeIsTheMSEOptimalProjection() throws {
    let x = TestData.gaussian(count: 50, dimension: 96, seed: 12)
    for bits in [1, 2, 5, 9] {
      let q = try RaBitQ("rabitq:bits=\(bits)", dimension: 96)
      let codes = try q.encode(x)
      let back = try q.decode(codes), cos = q.cosines(codes)
      for i in 0..<x.count {
        let a = x[row: i], b = back[row: i]
        var e = 0.0, s = 0.0
        for j in 0..<96 { e += Double(a[j] - b[j]) * Double(a[j] - b[j]); s += Double(a[j]) * Double(a[j]) }
        let g = Double(cos[i])
        #expect(abs(e / s - (1 - g * g)) <= 1e-5, "bits \(bits) row \(i)")
      }
    }
  }

  // MARK: rotation.md §7 items 13–17

  /// Item 13: E⟨ō, o⟩ of the 1-bit code, against the closed form √(D/π)·2Γ(D/2)/((D−1)Γ((D−1)/2)):
  /// 0.79944 (D = 128), 0.79808 (D = 1024: 960 padded; the note's 0.79809 is D = 960), 0.79801 (1536).
  @Test(arguments: [(128, 20_000), (960, 4_000), (1536, 4_000)])
  func item13OneBitCosine(d: Int, n: Int) throws {
    let q = try RaBitQ("rabitq:bits=1", dimension: d)
    let x = TestData.unitSphere(count: n, dimension: d, seed: UInt64(d) + 130)
    let stats = RunningStatistics(q.cosines(try q.encode(x)))
    let expected = Self.expectedOneBitCosine(q.paddedDimension)
    // n = 20,000 (D = 128; SE ≈ 0.0004) or 4,000 (SE ≈ 0.0003): within 3 SE of the closed form.
    print("item 13 D=\(q.paddedDimension): E<ō,o> = \(stats.mean) ± \(stats.standardError) (closed form \(expected), n = \(n))")
    #expect(abs(stats.mean - expected) <= 3 * stats.standardError, "mean \(stats.mean) ± \(stats.standardError) vs \(expected)")
  }

  /// Item 14: D·Var of the 1-bit estimator at a = 0.5 ≈ (π/2 − 1)(1 − a²) = 0.428; the note's MC gives
  /// 0.436 (D = 128), 0.441 (960), 0.422 (1536). Query bits 12, so the query's rounding adds < 0.1 %
  /// (the note's MC used the float query). Also unbiasedness: the mean error is within 3 SE of 0.
  @Test(arguments: [(128, 0.436, 20_000), (960, 0.441, 8_000), (1536, 0.422, 8_000)])
  func item14OneBitVariance(d: Int, noteValue: Double, n: Int) throws {
    let q = try RaBitQ("rabitq:bits=1,query-bits=12", dimension: d)
    let (x, y) = Self.pairs(count: n, dimension: d, a: 0.5, seed: UInt64(d) + 140)
    let r = try Self.pairEstimates(q, x, y)
    let errors = zip(r.estimate, r.exact).map { $0 - $1 }
    let D = Double(q.paddedDimension)
    let (v, se) = Self.varianceWithError(errors)
    let mean = RunningStatistics(errors)
    // The D-exact prediction from the measured cosines: (1 − a²)·E[(1 − γ²)/γ²]/(D − 1).
    let predicted = 0.75 * r.cosines.map { g in Double(1 - g * g) / Double(g * g) }.reduce(0, +) / Double(n) * D / (D - 1)
    print("item 14 D=\(Int(D)): D·Var = \(D * v) ± \(D * se) (note \(noteValue), theory 0.428, from γ \(predicted)); bias \(mean.mean) ± \(mean.standardError), n = \(n)")
    // n pairs: SE of D·Var ≈ 1 % of it; the note's own MC error is of the same order, so the note value
    // gets 3 SE of both (taken equal).
    #expect(abs(D * v - noteValue) <= 3 * (2.0).squareRoot() * D * se, "D·Var \(D * v) ± \(D * se) vs note \(noteValue)")
    #expect(abs(D * v - predicted) <= 3 * D * se, "D·Var \(D * v) vs (1−a²)E[(1−γ²)/γ²]·D/(D−1) = \(predicted)")
    #expect(abs(mean.mean) <= 3 * mean.standardError, "bias \(mean.mean) ± \(mean.standardError)")
  }

  /// Unbiasedness of the full estimator at B = 1, 2, 4 with the default query bits (4, 5, 7, randomized
  /// rounding): n = 20,000 pairs at D = 128, a = 0.5; mean error within 3 SE of 0.
  @Test(arguments: [1, 2, 4])
  func estimatorIsUnbiased(bits: Int) throws {
    let q = try RaBitQ("rabitq:bits=\(bits)", dimension: 128)
    let (x, y) = Self.pairs(count: 20_000, dimension: 128, a: 0.5, seed: UInt64(bits) + 150)
    let r = try Self.pairEstimates(q, x, y)
    let mean = RunningStatistics(zip(r.estimate, r.exact).map { $0 - $1 })
    print("unbiased B=\(bits): mean error \(mean.mean) ± \(mean.standardError) (n = 20000)")
    #expect(abs(mean.mean) <= 3 * mean.standardError, "bias \(mean.mean) ± \(mean.standardError)")
  }

  /// Item 15: the error bound at ε0 = 1.9, D = 768 fails 5.8 % / 2.9 % / 0 % of pairs at
  /// a = 0 / 0.5 / 0.9. Theory for these pairs: P(|N(0,1)| > ε0/√(1−a²)) = 5.74 %, 2.82 %, 0.0013 %.
  /// n = 20,000 pairs per a (the note's n); binomial SE √(p(1−p)/n) ≈ 0.16 %, 0.12 %, 0.003 %.
  @Test(arguments: [0.0, 0.5, 0.9])
  func item15BoundCoverage(a: Double) throws {
    let n = 20_000
    let q = try RaBitQ("rabitq:bits=1,query-bits=12", dimension: 768)
    let (x, y) = Self.pairs(count: n, dimension: 768, a: a, seed: UInt64(a * 10) + 160)
    let r = try Self.pairEstimates(q, x, y)
    var failures = 0
    for i in 0..<n where r.exact[i] < r.lower[i] || r.exact[i] > r.upper[i] { failures += 1 }
    let rate = Double(failures) / Double(n)
    let p = erfc(1.9 / (2 * (1 - a * a)).squareRoot())
    let se = (p * (1 - p) / Double(n)).squareRoot()
    print("item 15 a=\(a): bound fails \(rate) (theory \(p), note \([0.0: 0.058, 0.5: 0.029, 0.9: 0.0][a]!)), n = \(n)")
    #expect(abs(rate - p) <= 3 * se + 1 / Double(n), "failure rate \(rate) vs \(p) ± \(se)")
  }

  /// Item 16: ⟨ō, o⟩ of extended RaBitQ at d = 768, B = 1…6: 0.7980, 0.9391, 0.9814, 0.9944, 0.9984,
  /// 0.9996 (the note ported the library's search, 400 vectors). n = 1,000 here; tolerance 3 SE of the
  /// difference (the note's SE taken as our sd/√400) plus half a unit of the note's last digit.
  @Test(arguments: zip(1...6, [0.7980, 0.9391, 0.9814, 0.9944, 0.9984, 0.9996]))
  func item16ExtendedCosine(bits: Int, noteValue: Double) throws {
    let n = 1_000
    let q = try RaBitQ("rabitq:bits=\(bits)", dimension: 768)
    let stats = RunningStatistics(q.cosines(try q.encode(TestData.unitSphere(count: n, dimension: 768, seed: 160 + UInt64(bits)))))
    let sd = stats.standardError * Double(n).squareRoot()
    let tolerance = 3 * (stats.standardError * stats.standardError + sd * sd / 400).squareRoot() + 0.00005
    print("item 16 B=\(bits): <ō,o> = \(stats.mean) ± \(stats.standardError) (note \(noteValue), n = \(n))")
    #expect(abs(stats.mean - noteValue) <= tolerance, "\(stats.mean) vs \(noteValue) (tolerance \(tolerance))")
  }

  /// Item 17: the biased NMSE 1 − γ² at d = 768, B = 2…4: 0.1182, 0.0369, 0.0112 (measured here from
  /// decoded vectors, n = 1,000; tolerance as in item 16).
  @Test(arguments: zip(2...4, [0.1182, 0.0369, 0.0112]))
  func item17BiasedNMSE(bits: Int, noteValue: Double) throws {
    let n = 1_000
    let q = try RaBitQ("rabitq:bits=\(bits)", dimension: 768)
    let x = TestData.unitSphere(count: n, dimension: 768, seed: 170 + UInt64(bits))
    let back = try q.decode(try q.encode(x))
    var stats = RunningStatistics()
    for i in 0..<n {
      let a = x[row: i], b = back[row: i]
      var e = 0.0
      for j in 0..<768 { e += Double(a[j] - b[j]) * Double(a[j] - b[j]) }
      stats.add(e)
    }
    let sd = stats.standardError * Double(n).squareRoot()
    let tolerance = 3 * (stats.standardError * stats.standardError + sd * sd / 400).squareRoot() + 0.00005
    print("item 17 B=\(bits): nmse \(stats.mean) ± \(stats.standardError) (note \(noteValue), n = \(n))")
    #expect(abs(stats.mean - noteValue) <= tolerance, "\(stats.mean) vs \(noteValue) (tolerance \(tolerance))")
  }

  // MARK: Bounds

  /// `bound=none` (B = 1) drops ‖r‖ and nothing else: 4 bytes less per vector (56 at d = 384 with a
  /// centre: FAISS IndexRaBitQ's 48 + 8), the same estimates bit for bit (bit-plane and FastScan), bounds
  /// (−∞, ∞), cosines NaN, and the unbiased decode: the same direction as the MSE decode, 1/γ² as long.
  /// From 2 bits on the spec is refused (the index screens with the sign stage's bound there).
  @Test func boundNoneDropsOnlyTheNorm() throws {
    let d = 384
    let x = TestData.gaussian(count: 100, dimension: d, seed: 21)
    let query = TestData.gaussian(count: 1, dimension: d, seed: 22)[row: 0]
    for centre in ["none", "mean"] {
      var kept = try RaBitQ("rabitq:bits=1,centre=\(centre)", dimension: d)
      var dropped = try RaBitQ("rabitq:bits=1,centre=\(centre),bound=none", dimension: d)
      try kept.fit(x)
      try dropped.fit(x)
      #expect(!dropped.storesNorm && kept.storesNorm)
      let a = try kept.encode(x), b = try dropped.encode(x)
      #expect(b.layout.bytesPerVector == a.layout.bytesPerVector - 4)
      #expect(b.layout.bytesPerVector == (centre == "mean" ? 56 : 52))
      #expect(!b.layout.sideFields.contains(RaBitQ.Field.norm))
      let pa = try kept.prepare(query: query), pb = try dropped.prepare(query: query)
      #expect(kept.estimateInnerProducts(pa, codes: a).map(\.bitPattern) == dropped.estimateInnerProducts(pb, codes: b).map(\.bitPattern))
      let fastA = kept.makeFastScanCodes(a), fastB = dropped.makeFastScanCodes(b)
      var ea = [Float](repeating: 0, count: 32 * fastA.blockCount), eb = ea
      ea.withUnsafeMutableBufferPointer {
        kept.estimateInnerProductsFastScan(kept.prepareFastScan(pa), codes: fastA, blockRange: 0..<fastA.blockCount, into: $0)
      }
      eb.withUnsafeMutableBufferPointer {
        dropped.estimateInnerProductsFastScan(dropped.prepareFastScan(pb), codes: fastB, blockRange: 0..<fastB.blockCount, into: $0)
      }
      #expect(ea.map(\.bitPattern) == eb.map(\.bitPattern))
      let bounds = dropped.estimateWithBounds(pb, codes: b)
      #expect(bounds.lower.allSatisfy { $0 == -.infinity } && bounds.upper.allSatisfy { $0 == .infinity })
      #expect(dropped.cosines(b).allSatisfy { $0.isNaN })
      let c = kept.centre ?? [Float](repeating: 0, count: d)
      let mse = try kept.decode(a), unbiased = try dropped.decode(b)
      let gammas = kept.cosines(a)
      for i in 0..<x.count {
        var dot = 0.0, mm = 0.0, uu = 0.0
        for j in 0..<d {
          let m = Double(mse[row: i][j] - c[j]), u = Double(unbiased[row: i][j] - c[j])
          dot += m * u; mm += m * m; uu += u * u
        }
        let gamma = Double(gammas[i])
        #expect(dot / (mm * uu).squareRoot() > 1 - 1e-5, "row \(i): decodes point different ways")
        #expect(abs((uu / mm).squareRoot() * gamma * gamma - 1) < 1e-4, "row \(i): unbiased/MSE length ≠ 1/γ²")
      }
    }
    #expect(throws: VQError.self) { try RaBitQ("rabitq:bits=2,bound=none", dimension: d) }
  }

  /// Estimates of a row list (out of order, with repeats, more rows than one scan chunk) are the
  /// estimates of those rows from the whole buffer, bit for bit: the gathered chunk runs the same kernels
  /// on the same bytes and side values.
  @Test(arguments: ["rabitq:bits=1", "rabitq:bits=2,centre=mean", "rabitq:bits=3", "rabitq:bits=5,centre=mean"])
  func rowListEstimatesAreTheRangeEstimates(spec: String) throws {
    let d = 100
    let x = TestData.gaussian(count: 300, dimension: d, seed: 8)
    var q = try RaBitQ(spec, dimension: d)
    try q.fit(x)
    let codes = try q.encode(x)
    let prepared = try q.prepare(query: TestData.gaussian(count: 1, dimension: d, seed: 9)[row: 0])
    let all = q.estimateInnerProducts(prepared, codes: codes)
    var g = SeededGenerator(seed: 10)
    let rows = (0..<700).map { _ in Int(g.next() % 300) }
    var picked = [Float](repeating: .nan, count: rows.count)
    rows.withUnsafeBufferPointer { r in
      picked.withUnsafeMutableBufferPointer { q.estimateInnerProducts(prepared, codes: codes, rows: r, into: $0) }
    }
    #expect(picked.map(\.bitPattern) == rows.map { all[$0].bitPattern }, "\(spec)")
  }

  /// The sign stage of a B ≥ 2 code is the 1-bit estimator: its cosine is RaBitQ's 1-bit ⟨ō, o⟩ and its
  /// bound is wider than the full code's; for B = 1 the two stages are the same.
  @Test func stagesAgree() throws {
    let x = TestData.unitSphere(count: 300, dimension: 256, seed: 21)
    let query = TestData.unitSphere(count: 1, dimension: 256, seed: 22)[row: 0]
    let one = try RaBitQ("rabitq:bits=1", dimension: 256), three = try RaBitQ("rabitq:bits=3", dimension: 256)
    let c1 = try one.encode(x), c3 = try three.encode(x)
    #expect(one.cosines(c1) == one.cosines(c1, stage: .sign))
    let signCos = three.cosines(c3, stage: .sign), oneCos = one.cosines(c1)
    for i in 0..<x.count { #expect(abs(signCos[i] - oneCos[i]) <= 1e-6) }
    let p3 = try three.prepare(query: query)
    let full = three.estimateWithBounds(p3, codes: c3), sign = three.estimateWithBounds(p3, codes: c3, stage: .sign)
    for i in 0..<x.count {
      #expect(full.upper[i] - full.lower[i] < sign.upper[i] - sign.lower[i])
      #expect(full.lower[i] <= full.estimates[i] && full.estimates[i] <= full.upper[i])
    }
  }
}
