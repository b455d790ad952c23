import Foundation
import Testing
import VQ
import VQData
import VQTestSupport
@testable import VQBench

@Suite struct EvaluationTests {
  static let d = 24
  static func base(_ n: Int = 300) -> VectorBatch { TestData.unitSphere(count: n, dimension: d, seed: 11) }
  static func queries(_ n: Int = 30) -> VectorBatch { TestData.unitSphere(count: n, dimension: d, seed: 12) }

  /// Exact inner products of the evaluation's (normalized) queries and base, in Double.
  static func exactProducts(_ e: Evaluation) -> [[Double]] {
    (0..<e.queries.count).map { q in
      let query = e.queries[row: q]
      return (0..<e.base.count).map { i in zip(query, e.base[row: i]).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
    }
  }

  @Test func identityGivesNoErrorAndPerfectRecall() throws {
    let e = try Evaluation(base: Self.base(), queries: Self.queries())
    let r = try e.run(QuantizerSpec("fp32"))
    #expect(r.spec == "fp32" && r.dimension == Self.d && r.count == 300)
    #expect(r.nmse == 0 && r.cosineLoss == 0 && r.angleP99Degrees == 0)
    #expect(r.recallAt10 == 1)
    #expect(r.recallAt10Rerank == RerankRecall(r1: 1, r2: 1, r4: 1, r10: 1))
    // Float scoring vs Double truth: |error| ≤ ~d·2⁻²⁴ per pair.
    #expect(abs(r.ipBias) < 1e-6)
    #expect(r.ipVarianceTimesDimension < 1e-10)
    #expect(r.bytesPerVector == 4 * Self.d && r.bitsPerCoordinate == 32)
  }

  @Test func scaledReconstructionGivesPredictedMetrics() throws {
    let e = try Evaluation(base: Self.base(), queries: Self.queries())
    let factor = 1.25
    let r = try e.run(TestQuantizers.spec("test-scale:factor=\(factor)"), registry: TestQuantizers.registry)
    let ip = Self.exactProducts(e).flatMap { $0 }
    let meanIP = ip.reduce(0, +) / Double(ip.count)
    let errors = ip.map { (factor - 1) * $0 }
    let meanError = errors.reduce(0, +) / Double(errors.count)
    let variance = errors.map { ($0 - meanError) * ($0 - meanError) }.reduce(0, +) / Double(errors.count - 1)
    // Deterministic predictions; slack for Float rounding of x̂ and of the estimates (~1e-7 relative).
    #expect(abs(r.nmse - (factor - 1) * (factor - 1)) < 1e-6)
    #expect(r.cosineLoss < 1e-12)
    #expect(r.angleP99Degrees < 1e-4)
    #expect(abs(r.ipBias - (factor - 1) * meanIP) < 1e-6)
    #expect(abs(r.ipVarianceTimesDimension - Double(Self.d) * variance) < 1e-4 * Double(Self.d) * variance)
    #expect(r.recallAt10 == 1)  // a positive scale keeps every ranking
  }

  @Test func shiftedReconstructionGivesPredictedMetrics() throws {
    let e = try Evaluation(base: Self.base(), queries: Self.queries())
    let spec = try TestQuantizers.spec("test-shift:size=0.2,seed=5")
    let r = try e.run(spec, registry: TestQuantizers.registry)
    let s = ShiftedCopy(spec: spec, dimension: Self.d).shift.map(Double.init)
    let dot = { (a: [Float], b: [Double]) in zip(a, b).reduce(0) { $0 + Double($1.0) * $1.1 } }
    // nmse = ‖s‖² for unit x; 1 − cos(x, x + s) = 1 − (1 + ⟨x, s⟩)/‖x + s‖.
    let losses = (0..<e.base.count).map { i -> Double in
      let xs = dot(e.base[row: i], s)
      return 1 - (1 + xs) / (1 + 2 * xs + 0.04).squareRoot()
    }
    #expect(abs(r.nmse - 0.04) < 1e-6)
    #expect(abs(r.cosineLoss - losses.reduce(0, +) / Double(losses.count)) < 1e-6)
    // The error ⟨q, s⟩ is the same for every base vector of a query.
    let perQuery = (0..<e.queries.count).map { dot(e.queries[row: $0], s) }
    let bias = perQuery.reduce(0, +) / Double(perQuery.count)
    let pairs = Double(perQuery.count * e.base.count)
    let variance = perQuery.map { ($0 - bias) * ($0 - bias) }.reduce(0, +) * Double(e.base.count) / (pairs - 1)
    #expect(abs(r.ipBias - bias) < 1e-6)
    #expect(abs(r.ipVarianceTimesDimension - Double(Self.d) * variance) < 1e-4 * Double(Self.d) * variance)
    // Clustered by base vector, every cluster has the same mean error: standard error 0 (up to rounding).
    #expect(r.ipBiasStandardError < 1e-7)
    #expect(r.recallAt10 == 1)
  }

  @Test func reversedRankingGivesZeroRecallUntilRerankingSeesEverything() throws {
    // 40 base vectors: the top r·10 by −⟨q, x⟩ are the bottom r·10; only r = 4 and 10 reach the true top 10.
    let e = try Evaluation(base: Self.base(40), queries: Self.queries())
    let r = try e.run(TestQuantizers.spec("test-negate"), registry: TestQuantizers.registry)
    #expect(r.recallAt10 == 0)
    #expect(r.recallAt10Rerank == RerankRecall(r1: 0, r2: 0, r4: 1, r10: 1))
    #expect(r.nmse == 0)
  }

  @Test func resultsDoNotDependOnTheRun() throws {
    let e = try Evaluation(base: Self.base(), queries: Self.queries())
    let spec = try TestQuantizers.spec("test-shift:size=0.3")
    let a = try e.run(spec, registry: TestQuantizers.registry)
    let b = try e.run(spec, registry: TestQuantizers.registry)
    #expect(a == b)
  }

  // MARK: Queries and ground truth

  @Test func holdsOutTheLastRowsByDefault() throws {
    let x = Self.base(300)
    let e = try Evaluation(base: x, normalize: false)
    // min(100, 300/10) = 30 held out: rows 270..<300.
    #expect(e.queryOrigin == .heldOutLast)
    #expect(e.queries == x.slice(270..<300))
    #expect(e.base == x.slice(0..<270))
    let big = try Evaluation(base: TestData.unitSphere(count: 2000, dimension: 4, seed: 3), normalize: false)
    #expect(big.queries.count == 100 && big.base.count == 1900)
  }

  @Test func seededHoldoutIsDeterministicAndDisjoint() throws {
    let rows = Evaluation.sample(30, of: 300, seed: 7)
    #expect(rows == Evaluation.sample(30, of: 300, seed: 7))
    #expect(rows != Evaluation.sample(30, of: 300, seed: 8))
    #expect(Set(rows).count == 30 && rows == rows.sorted() && rows.allSatisfy { (0..<300).contains($0) })
    let x = Self.base(300)
    let e = try Evaluation(base: x, normalize: false, holdoutSeed: 7)
    #expect(e.queryOrigin == .heldOutRandom(seed: 7))
    #expect(e.queries == x.gather(rows))
    #expect(e.base == x.gather((0..<300).filter { !rows.contains($0) }))
  }

  @Test func bruteForceNeighborsMatchAFullSort() throws {
    let e = try Evaluation(base: Self.base(), queries: Self.queries())
    for (q, products) in Self.exactProducts(e).enumerated() {
      let sorted = products.indices.sorted { products[$0] > products[$1] || (products[$0] == products[$1] && $0 < $1) }
      #expect(Array(e.trueNeighbors(ofQuery: q)) == Array(sorted.prefix(10)))
    }
  }

  @Test func rejectsBadGroundTruth() throws {
    let base = Self.base(50), queries = Self.queries(3)
    let good = IntMatrix(rows: 3, columns: 10, values: (0..<30).map { Int32($0 % 10) })
    _ = try Evaluation(base: base, queries: queries, groundTruth: good)
    var outOfRange = good
    outOfRange.values[14] = 50
    #expect(throws: VQError.outOfRange(
      "gt.ivecs: id 50 at row 1, column 4 is out of range 0..<50 (the number of base vectors)")) {
      try Evaluation(base: base, queries: queries, groundTruth: outOfRange, sources: .init(groundTruth: "gt.ivecs"))
    }
    var negative = good
    negative.values[0] = -1
    #expect(throws: VQError.self) { try Evaluation(base: base, queries: queries, groundTruth: negative) }
    let narrow = IntMatrix(rows: 3, columns: 9, values: [Int32](repeating: 1, count: 27))
    #expect(throws: VQError.self) { try Evaluation(base: base, queries: queries, groundTruth: narrow) }
    let short = IntMatrix(rows: 2, columns: 10, values: Array(good.values.prefix(20)))
    #expect(throws: VQError.self) { try Evaluation(base: base, queries: queries, groundTruth: short) }
    var repeated = good
    repeated.values[1] = repeated.values[0]
    #expect(throws: VQError.self) { try Evaluation(base: base, queries: queries, groundTruth: repeated) }
    // Held-out queries have no ground truth file.
    #expect(throws: VQError.self) { try Evaluation(base: base, groundTruth: good) }
  }

  @Test func rejectsBadVectors() throws {
    var withZero = Self.base(50)
    withZero.withUnsafeMutableBufferPointer { b in for j in 0..<Self.d { b[7 * Self.d + j] = 0 } }
    #expect(throws: VQError.zeroVector(source: "b.fvecs", row: 7)) {
      try Evaluation(base: withZero, sources: .init(base: "b.fvecs"))
    }
    #expect(throws: VQError.zeroVector(source: "b.fvecs", row: 7)) {
      try Evaluation(base: withZero, normalize: false, sources: .init(base: "b.fvecs"))
    }
    var withNaN = Self.base(50)
    withNaN.withUnsafeMutableBufferPointer { $0[3 * Self.d + 2] = .nan }
    #expect(throws: VQError.self) { try Evaluation(base: withNaN) }
    let other = TestData.unitSphere(count: 5, dimension: Self.d + 1, seed: 1)
    #expect(throws: VQError.self) { try Evaluation(base: Self.base(50), queries: other) }
    // Too few vectors: 15 rows hold out 1 query and keep 14; 10 rows hold out 1 and keep 9 (< 10).
    _ = try Evaluation(base: Self.base(15))
    #expect(throws: VQError.self) { try Evaluation(base: Self.base(10)) }
    #expect(throws: VQError.self) { try Evaluation(base: Self.base(9), queries: Self.queries(2)) }
  }

  // MARK: The embedded data

  @Test func fp32OnMiniLMSmallHasPerfectRecallAgainstTheShippedGroundTruth() throws {
    let data = try #require(EmbeddedData.miniLMSmall)
    let base = try VectorIO.readVectors(at: data.base.path)
    let queries = try VectorIO.readVectors(at: data.queries.path)
    let truth = try VectorIO.readIntVectors(at: data.groundTruth.path)
    let e = try Evaluation(base: base, queries: queries, groundTruth: truth)
    let r = try e.run(QuantizerSpec("fp32"))
    #expect(r.count == 2000 && r.dimension == 384)
    #expect(r.recallAt10 == 1)
    #expect(r.recallAt10Rerank == RerankRecall(r1: 1, r2: 1, r4: 1, r10: 1))
    #expect(r.nmse == 0)
    // The brute-force path finds the same neighbours as the shipped ground truth.
    let computed = try Evaluation(base: base, queries: queries)
    #expect(computed.trueNeighbors == e.trueNeighbors)
  }
}
