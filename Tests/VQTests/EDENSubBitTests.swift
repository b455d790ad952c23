import RealModule
import Testing
import VQ
import VQTestSupport

/// EDEN below one bit per coordinate (`eden:bits=p`, 0 < p < 1; `EDENSubBit`) against research/rotation.md
/// §2.2 and §7 item 12, with the finite-k formulas derived in EDENSubBit.swift's header.
///
/// Monte Carlo uses uniform random unit vectors x: Πx is then uniform on the sphere whatever the rotation
/// is, so one seeded quantizer (rotation and sample) reproduces Haar statistics exactly and the per-vector
/// errors are i.i.d. Every tolerance is 3 standard errors computed from the sample (sizes stated next to
/// each assertion).
@Suite struct EDENSubBitTests {
  // MARK: Spec and layout

  @Test func specRoundTripAndLayout() throws {
    for (text, canonical) in [("eden:bits=0.5", "eden:bits=0.5"), ("EDEN:bits=.25", "eden:bits=0.25"),
                              ("eden:bits=0.125,scale=biased,seed=7", "eden:bits=0.125,scale=biased,seed=7"),
                              ("eden:bits=5e-1,codebook=beta", "eden:bits=0.5,codebook=beta")] {
      let spec = try QuantizerSpec(text)
      #expect(spec.description == canonical)
      #expect(try QuantizerSpec(spec.description) == spec)
      #expect(try QuantizerSpec(spec.description).description == canonical)
    }
    // Whole widths keep their canonical form and their quantizer.
    #expect(try QuantizerSpec("eden:bits=4").description == "eden:bits=4")
    #expect(try QuantizerRegistry.standard.makeQuantizer("eden:bits=1", dimension: 384) is EDEN)

    // 384 = 12·32 needs no padding: p = ½ keeps 192 coordinates (24 bytes), p = ¼ keeps 96 (12 bytes).
    let half = try #require(try QuantizerRegistry.standard.makeQuantizer("eden:bits=0.5", dimension: 384) as? EDENSubBit)
    #expect(half.spec.description == "eden:bits=0.5")
    #expect(half.keptCount == 192 && half.codedDimension == 384)
    #expect(half.layout == CodeLayout(bytesPerCode: 24, sideFields: ["scale"]))
    let quarter = try #require(try QuantizerRegistry.standard.makeQuantizer("eden:bits=0.25", dimension: 384) as? EDENSubBit)
    #expect(quarter.layout == CodeLayout(bytesPerCode: 12, sideFields: ["scale"]))
    // No padding of k: 0.3·128 → 38 coordinates, 5 bytes; a tiny p keeps one coordinate.
    let odd = try EDENSubBit(spec: QuantizerSpec("eden:bits=0.3"), dimension: 100)
    #expect(odd.keptCount == 38 && odd.layout.bytesPerCode == 5)
    #expect(try EDENSubBit(spec: QuantizerSpec("eden:bits=0.0001"), dimension: 100).keptCount == 1)
    // The kept positions are distinct, ascending, inside 0..<n.
    #expect(odd.keptPositions == odd.keptPositions.sorted() && Set(odd.keptPositions).count == 38)
    #expect(odd.keptPositions.allSatisfy { (0..<128).contains($0) })
    // Building the whole-width type from a sub-bit spec is an error, not a trap.
    #expect(throws: VQError.self) { try EDEN(spec: QuantizerSpec("eden:bits=0.5"), dimension: 8) }
  }

  /// Out-of-range and fractional-above-one widths are refused with the key, the value and the allowed
  /// values in the message.
  @Test(arguments: ["0", "-1", "1.5", "2.5", "9", "1.0", "0.0", "nan", "inf", "half"])
  func badWidthsNameTheKeyAndRange(_ value: String) {
    do {
      _ = try QuantizerSpec("eden:bits=\(value)")
      Issue.record("eden:bits=\(value) was accepted")
    } catch let error as VQError {
      let text = error.description
      #expect(text.contains("bits=\(value)"), "\(text)")
      #expect(text.contains("allowed: 0<x<1 or 1...8"), "\(text)")
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  // MARK: Estimates, determinism

  /// The estimate from codes equals ⟨q, decode(code)⟩, padded (100 → 128) and unpadded (256, 384 = 12·32)
  /// dimensions, both scales, both codebooks, every rotation kind.
  @Test(arguments: ["eden:bits=0.5", "eden:bits=0.25,scale=biased", "eden:bits=0.125,codebook=beta",
                    "eden:bits=0.3,rotation=haar", "eden:bits=0.5,rotation=none", "eden:bits=0.75,rounds=1"])
  func estimateEqualsInnerProductWithDecoded(_ text: String) throws {
    for d in [100, 256, 384] {
      try checkEstimateMatchesDecode(QuantizerRegistry.standard.makeQuantizer(text, dimension: d), dimension: d)
    }
  }

  /// Codes and decoded values are a bit-exact function of the spec: two quantizers built from the same
  /// spec give the same bytes and the same decoded bits; another seed gives other codes; the sample
  /// itself is pinned (stored indexes depend on it); a zero vector decodes to 0 and estimates 0.
  @Test func determinismAndZeroVector() throws {
    let x = TestData.gaussian(count: 20, dimension: 200, seed: 1)
    for text in ["eden:bits=0.5", "eden:bits=0.25,scale=biased"] {
      let a = try QuantizerRegistry.standard.makeQuantizer(text, dimension: 200)
      let b = try QuantizerRegistry.standard.makeQuantizer(text, dimension: 200)
      let codes = try a.encode(x)
      #expect(codes == (try b.encode(x)))
      #expect(try a.decode(codes).values.map(\.bitPattern) == b.decode(codes).values.map(\.bitPattern))
      let other = try QuantizerRegistry.standard.makeQuantizer(text + ",seed=43", dimension: 200)
      #expect(codes != (try other.encode(x)))
      let zero = try a.encode(VectorBatch(dimension: 200, count: 2))
      #expect(try a.decode(zero).values.allSatisfy { $0 == 0 })
      #expect(a.estimateInnerProducts(try a.prepare(query: x[row: 0]), codes: zero) == [0, 0])
    }
    // Pinned sample: n = 16, k = 4, seed 42.
    let sample = try EDENSubBit(spec: QuantizerSpec("eden:bits=0.25"), dimension: 16).keptPositions
    #expect(sample == Self.pinnedSample)
  }

  static let pinnedSample = [4, 10, 11, 13]

  /// NaN in a row is refused with its row and column; the output buffer is left as it was.
  @Test func rejectsNonFiniteInput() throws {
    let q = try QuantizerRegistry.standard.makeQuantizer("eden:bits=0.5", dimension: 8)
    var bad = TestData.gaussian(count: 3, dimension: 8, seed: 1)
    var codes = try q.encode(bad)
    let before = codes
    bad.withUnsafeMutableBufferPointer { $0[1 * 8 + 3] = .nan }
    #expect(throws: VQError.self) { try q.encode(bad, into: &codes) }
    do { try q.encode(bad, into: &codes) } catch let error as VQError {
      #expect(error.description.contains("row 1, column 3"), "\(error)")
    }
    #expect(codes == before)
  }

  // MARK: Statistics

  /// vNMSE of the unbiased scale against the exact finite-k value (n/k)(1 + v₁(k)) − 1, with 1-bit
  /// EDEN's v₁(k) = π/2 − 1 − 0.452/k (delta method; checked against 2·10⁵ Gaussian draws per k to
  /// ±2·10⁻⁴), and the biased scale against its exact NMSE 1 − (1 + (k−1)·2/π)/n. d = n = 1024 (no
  /// padding); the asymptotic π/(2p) − 1 differs from the finite-k value by 0.452·n/k² = 0.0018 (p = ½)
  /// and 0.0071 (p = ¼).
  @Test(arguments: [0.5, 0.25])
  func normalizedMSE(_ p: Double) throws {
    let d = 1024, count = 4000
    let x = TestData.unitSphere(count: count, dimension: d, seed: 2024)
    let k = Double(EDENSubBit.keptCount(fraction: p, of: d)), n = Double(d)
    let unbiasedPrediction = EDENSubBit.predictedNMSE(kept: Int(k), of: d, unbiased: true)
    // The header's formula, written out: (n/k)(π/2 − 0.452/k) − 1.
    #expect(abs(unbiasedPrediction - ((n / k) * (Double.pi / 2 - 0.4518 / k) - 1)) < 1e-6)
    let q = try EDENSubBit(spec: QuantizerSpec("eden:bits=\(p)"), dimension: d)
    let errors = RunningStatistics(MonteCarlo.squaredErrors(x, try q.decode(q.encode(x))))
    MonteCarlo.log("eden:bits=\(p) d=\(d) k=\(Int(k)): vNMSE \(errors.mean) ± \(errors.standardError) (finite-k \(unbiasedPrediction), π/(2p)−1 = \(Double.pi / (2 * p) - 1))")
    // 4000 unit vectors: SE ≈ 0.0033 (p = ½) and 0.0058 (p = ¼) (per-vector spread 0.21 and 0.37).
    #expect(abs(errors.mean - unbiasedPrediction) <= 3 * errors.standardError,
            "p=\(p): vNMSE \(errors.mean) ± \(errors.standardError), predicted \(unbiasedPrediction) (π/(2p)−1 = \(Double.pi / (2 * p) - 1))")
    // The asymptote π/(2p) − 1 of the research note, within 3 SE plus the finite-k term.
    #expect(abs(errors.mean - (Double.pi / (2 * p) - 1)) <= 3 * errors.standardError + 0.452 * n / (k * k))

    let biased = try EDENSubBit(spec: QuantizerSpec("eden:bits=\(p),scale=biased"), dimension: d)
    let biasedErrors = RunningStatistics(MonteCarlo.squaredErrors(x, try biased.decode(biased.encode(x))))
    let biasedPrediction = EDENSubBit.predictedNMSE(kept: Int(k), of: d, unbiased: false)
    #expect(abs(biasedPrediction - (1 - (1 + (k - 1) * 2 / Double.pi) / n)) < 1e-12)
    MonteCarlo.log("eden:bits=\(p),scale=biased d=\(d): NMSE \(biasedErrors.mean) ± \(biasedErrors.standardError) (exact \(biasedPrediction))")
    // 4000 unit vectors: SE ≈ 0.0004 (per-vector spread ≈ 0.025).
    #expect(abs(biasedErrors.mean - biasedPrediction) <= 3 * biasedErrors.standardError,
            "p=\(p) biased: NMSE \(biasedErrors.mean) ± \(biasedErrors.standardError), predicted \(biasedPrediction)")
  }

  /// Unbiasedness over the quantizer's randomness: for fixed (non-uniform) x and y, the mean estimate of
  /// ⟨y, x⟩ over 3000 seeds (rotation and sample both change) is within 3 SE of the truth, for a dense
  /// Gaussian pair and a sparse pair (3 Hadamard rounds), at p = ½ and ¼. d = 64.
  @Test(arguments: [0.5, 0.25])
  func unbiasedOverSeeds(_ p: Double) throws {
    let d = 64, seeds = 3000
    let dense = TestData.gaussian(count: 2, dimension: d, seed: 77)
    var sparseValues = [Float](repeating: 0, count: 2 * d)
    sparseValues[0] = 1; sparseValues[5] = 2; sparseValues[d + 0] = 0.5; sparseValues[d + 5] = -1; sparseValues[d + 9] = 3
    let sparse = try VectorBatch(dimension: d, values: sparseValues)
    for (name, pair) in [("dense", dense), ("sparse", sparse)] {
      let x = try VectorBatch(rows: [pair[row: 0]]), y = pair[row: 1]
      let truth = zip(pair[row: 0], y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
      var stats = RunningStatistics()
      for seed in 0..<seeds {
        let q = try EDENSubBit(spec: QuantizerSpec("eden:bits=\(p),seed=\(seed)"), dimension: d)
        stats.add(Double(q.estimateInnerProducts(try q.prepare(query: y), codes: try q.encode(x))[0]))
      }
      MonteCarlo.log("eden:bits=\(p) \(name) pair over \(seeds) seeds: mean \(stats.mean) ± \(stats.standardError), truth \(truth)")
      // 3000 seeds: SE ≈ sd/55 with sd ≈ √(vNMSE/63)·‖x‖‖y‖ (≈ 0.18–0.29·‖x‖‖y‖).
      #expect(abs(stats.mean - truth) <= 3 * stats.standardError,
              "p=\(p) \(name): mean \(stats.mean) ± \(stats.standardError), truth \(truth)")
    }
  }
}
