import VQ

/// One data set made ready for measuring quantizers (DESIGN.md §6): validated and (by default)
/// L2-normalized base vectors, queries, and the true top-10 of every query.
///
/// - Queries: given, or held out from the base. Held out: the last `min(100, count/10)` base vectors
///   become the queries and are removed from the base; with a `holdoutSeed`, that many rows are drawn
///   uniformly without replacement by `SeededGenerator(seed:)` instead (kept in row order). The base keeps
///   its remaining rows in file order, so base ids are positions in the reduced base.
/// - True neighbours: the first 10 ids of each ground-truth row when given (checked: one row per query,
///   at least 10 ids, every id within the base, no repeats among the first 10), else computed exactly:
///   inner products in Double, ties broken by the smaller id, as the shipped ground truth is.
/// - Every input is checked for non-finite values and zero vectors (a zero vector has no direction and
///   no relative error), with the file name and row in the error.
public struct Evaluation: Sendable {
  /// Names used in error messages and in the text report (file paths, in the CLI).
  public struct Sources: Sendable {
    public var base: String
    public var queries: String
    public var groundTruth: String
    public init(base: String = "base", queries: String = "queries", groundTruth: String = "ground truth") {
      self.base = base
      self.queries = queries
      self.groundTruth = groundTruth
    }
  }

  /// Where the queries came from.
  public enum QueryOrigin: Sendable, Equatable {
    case given
    case heldOutLast
    case heldOutRandom(seed: UInt64)
  }

  /// Number of true neighbours recall is measured against.
  public static let k = 10
  /// Re-ranking depths r: the top r·10 candidates by estimate are re-ranked with exact inner products.
  public static let rerankDepths = [1, 2, 4, 10]
  /// Fixed number of work chunks: independent of the core count, so every machine gets the same numbers.
  static let chunkCount = 8

  public let base: VectorBatch
  public let queries: VectorBatch
  /// The true top-10 ids of each query (row-major, `queries.count × 10`), best first.
  public let trueNeighbors: [Int]
  public let isNormalized: Bool
  public let queryOrigin: QueryOrigin
  public let groundTruthGiven: Bool
  public let sources: Sources
  /// Exact inner products of every (query, base) pair, row-major by query, kept when they fit in
  /// `exactProductCacheLimit` values (every quantizer run needs them; computing them dominates a run).
  private let cachedExactProducts: [Double]?
  static let exactProductCacheLimit = 1 << 24

  public var dimension: Int { base.dimension }
  /// Worker threads for the per-query loops (results do not depend on it: the work is split into a
  /// fixed number of chunks reduced in order).
  public var threads: Int = BenchOptions.defaultThreads

  /// Prepares `base` (and `queries`, or held-out queries) for evaluation.
  ///
  /// - Parameters:
  ///   - groundTruth: true neighbour ids per query (only with `queries`: held-out queries have none).
  ///   - normalize: scale every base vector and query to unit length (the default setting of DESIGN.md §6).
  ///   - holdoutSeed: draw held-out queries at random with this seed instead of taking the last rows.
  public init(
    base: VectorBatch, queries: VectorBatch? = nil, groundTruth: IntMatrix? = nil, normalize: Bool = true,
    holdoutSeed: UInt64? = nil, sources: Sources = Sources()
  ) throws {
    guard base.count > 0 else { throw VQError.invalidArgument("\(sources.base): no vectors") }
    try base.validateFinite(source: sources.base)
    let preparedBase = try Self.prepare(base, normalize: normalize, source: sources.base)

    var reducedBase = preparedBase
    let preparedQueries: VectorBatch
    let origin: QueryOrigin
    if let queries {
      guard queries.dimension == base.dimension else {
        throw VQError.dimensionMismatch(
          expected: base.dimension, got: queries.dimension,
          what: "\(sources.queries) (the base \(sources.base) has dimension \(base.dimension))")
      }
      guard queries.count > 0 else { throw VQError.invalidArgument("\(sources.queries): no vectors") }
      try queries.validateFinite(source: sources.queries)
      preparedQueries = try Self.prepare(queries, normalize: normalize, source: sources.queries)
      origin = .given
    } else {
      if groundTruth != nil {
        throw VQError.invalidArgument(
          "\(sources.groundTruth): ground truth needs the queries it was computed for (give the queries file)")
      }
      let held = min(100, base.count / 10)
      guard held > 0 else {
        throw VQError.invalidArgument(
          "\(sources.base): \(base.count) vectors are too few to hold out queries (need at least \(Self.k + 1); or give queries)")
      }
      let queryRows: [Int]
      if let seed = holdoutSeed {
        queryRows = Self.sample(held, of: base.count, seed: seed)
        origin = .heldOutRandom(seed: seed)
      } else {
        queryRows = Array((base.count - held)..<base.count)
        origin = .heldOutLast
      }
      var isQuery = [Bool](repeating: false, count: base.count)
      for r in queryRows { isQuery[r] = true }
      preparedQueries = preparedBase.gather(queryRows)
      reducedBase = preparedBase.gather((0..<base.count).filter { !isQuery[$0] })
    }
    guard reducedBase.count >= Self.k else {
      throw VQError.invalidArgument(
        "\(sources.base): \(reducedBase.count) base vectors are too few for recall@\(Self.k) (need at least \(Self.k))")
    }

    let givenNeighbors = try groundTruth.map {
      try Self.validatedNeighbors($0, queryCount: preparedQueries.count, baseCount: reducedBase.count, sources: sources)
    }
    let cache = preparedQueries.count * reducedBase.count <= Self.exactProductCacheLimit
      ? try Self.allExactProducts(base: reducedBase, queries: preparedQueries) : nil
    trueNeighbors = try givenNeighbors ?? Self.exactNeighbors(base: reducedBase, queries: preparedQueries, cache: cache)
    cachedExactProducts = cache
    self.base = reducedBase
    self.queries = preparedQueries
    self.isNormalized = normalize
    self.queryOrigin = origin
    self.groundTruthGiven = groundTruth != nil
    self.sources = sources
  }

  /// The true top-10 of query `q`, best first.
  public func trueNeighbors(ofQuery q: Int) -> ArraySlice<Int> {
    trueNeighbors[(q * Self.k)..<((q + 1) * Self.k)]
  }

  // MARK: Running one quantizer

  /// Builds the quantizer `spec` names, fits it on the base, encodes, decodes, and measures every metric.
  public func run(_ spec: QuantizerSpec, registry: QuantizerRegistry = .standard) throws -> EvaluationResult {
    try measure(spec, registry: registry, timing: false).result
  }

  /// Every experiment on the embedding set for one spec: reconstruction, inner products, their tail,
  /// recall before and after re-ranking, and (with `timing`) single-thread encode and scan speed.
  public func measure(
    _ spec: QuantizerSpec, registry: QuantizerRegistry = .standard, timing: Bool = true
  ) throws -> Measurement {
    var quantizer = try registry.makeQuantizer(spec, dimension: dimension)
    try quantizer.fit(base)
    let encodeStart = ContinuousClock.now
    let codes = try quantizer.encode(base)
    let encodeSeconds = (ContinuousClock.now - encodeStart).seconds
    let decoded = try quantizer.decode(codes)
    let reconstruction = try ReconstructionError.measure(original: base, reconstructed: decoded)
    let estimator = quantizer
    let tailStride = TailErrorSample.stride(pairs: queries.count * base.count)
    let searched = try Parallel.mapChunks(count: queries.count, chunks: Self.chunkCount, threads: threads) { range in
      try measureQueries(range, quantizer: estimator, codes: codes, tailStride: tailStride)
    }
    var innerProducts = InnerProductErrorAccumulator(baseCount: base.count)
    var recall = RecallAccumulator()
    var tail = TailErrorSample()
    var moments = PairMoments()
    var workingDimension = dimension
    var rangeSquaredSum = 0.0
    for part in searched {
      rangeSquaredSum += part.queryRangeSquaredSum
      innerProducts.merge(part.innerProducts)
      recall.merge(part.recall)
      tail.merge(part.tail)
      moments.merge(part.moments)
      workingDimension = part.workingDimension
    }
    let ip = innerProducts.result(dimension: dimension)
    let layout = quantizer.layout
    let result = EvaluationResult(
      spec: spec.description, dimension: dimension, count: base.count,
      nmse: reconstruction.nmse, cosineLoss: reconstruction.cosineLoss,
      angleP99Degrees: reconstruction.angleP99Degrees,
      ipBias: ip.bias, ipBiasStandardError: ip.biasStandardError, ipVarianceTimesDimension: ip.varianceTimesDimension,
      recallAt10: recall.recallAt10,
      recallAt10Rerank: recall.rerank,
      bytesPerVector: layout.bytesPerVector,
      bitsPerCoordinate: layout.bitsPerCoordinate(dimension: dimension))
    let speed = timing
      ? try SpeedExperiment.measure(quantizer: quantizer, codes: codes, queries: queries, encodeSeconds: encodeSeconds)
      : nil
    return Measurement(
      result: result, tail: tail.result(dimension: dimension), speed: speed, workingDimension: workingDimension,
      pairs: moments, queryRangeSquared: rangeSquaredSum / Double(queries.count))
  }

  /// What one chunk of queries contributes.
  private struct QueryChunkOutcome {
    var innerProducts: InnerProductErrorAccumulator
    var recall = RecallAccumulator()
    var tail = TailErrorSample()
    var moments = PairMoments()
    var workingDimension = 0
    var queryRangeSquaredSum = 0.0
  }

  private func measureQueries(
    _ range: Range<Int>, quantizer: any VectorQuantizer, codes: CodeBuffer, tailStride: Int
  ) throws -> QueryChunkOutcome {
    let n = base.count
    var outcome = QueryChunkOutcome(innerProducts: InnerProductErrorAccumulator(baseCount: n))
    outcome.workingDimension = dimension
    var estimated = [Float](repeating: 0, count: n)
    var exact = [Double](repeating: 0, count: n)
    let deepest = min(n, Self.k * Self.rerankDepths.max()!)
    for qi in range {
      let prepared = try queries.withRow(qi) { try quantizer.prepare(query: $0) }
      outcome.workingDimension = max(dimension, prepared.transformed.count)
      if let lo = prepared.transformed.min(), let hi = prepared.transformed.max() {
        outcome.queryRangeSquaredSum += Double(hi - lo) * Double(hi - lo)
      }
      estimated.withUnsafeMutableBufferPointer { out in
        quantizer.estimateInnerProducts(prepared, codes: codes, range: 0..<n, into: out)
      }
      exact.withUnsafeMutableBufferPointer { out in
        Self.exactProducts(query: qi, queries: queries, base: base, cache: cachedExactProducts, into: out)
      }
      estimated.withUnsafeBufferPointer { est in
        exact.withUnsafeBufferPointer { ex in
          outcome.innerProducts.add(estimated: est, exact: ex)
          outcome.moments.add(ex)
          if qi % tailStride == 0 { outcome.tail.add(estimated: est, exact: ex) }
        }
      }
      let truth = trueNeighbors(ofQuery: qi)
      let ranked = TopK.largest(estimated, k: deepest)
      exact.withUnsafeBufferPointer { ex in outcome.recall.add(ranked: ranked, exact: ex, truth: truth) }
    }
    return outcome
  }

  // MARK: Preparation

  private static func prepare(_ x: VectorBatch, normalize: Bool, source: String) throws -> VectorBatch {
    if normalize { return try x.normalized(source: source) }
    try x.validateNonZero(source: source)
    return x
  }

  /// `m` distinct rows of `0..<n` drawn uniformly (partial Fisher–Yates), in increasing order.
  static func sample(_ m: Int, of n: Int, seed: UInt64) -> [Int] {
    var generator = SeededGenerator(seed: seed)
    var rows = Array(0..<n)
    for i in 0..<m {
      // Uniform in i..<n by the multiply-high method: the same on every platform.
      let j = i + Int(generator.next().multipliedFullWidth(by: UInt64(n - i)).high)
      rows.swapAt(i, j)
    }
    return rows[0..<m].sorted()
  }

  private static func validatedNeighbors(
    _ truth: IntMatrix, queryCount: Int, baseCount: Int, sources: Sources
  ) throws -> [Int] {
    let name = sources.groundTruth
    guard truth.rows == queryCount else {
      throw VQError.invalidArgument(
        "\(name): \(truth.rows) rows of ground truth for \(queryCount) queries (\(sources.queries)); need one row per query")
    }
    guard truth.columns >= Self.k else {
      throw VQError.invalidArgument("\(name): \(truth.columns) ids per query; recall@\(Self.k) needs at least \(Self.k)")
    }
    var neighbors: [Int] = []
    neighbors.reserveCapacity(queryCount * Self.k)
    for r in 0..<truth.rows {
      let row = truth[row: r]
      for (c, id) in row.enumerated() where id < 0 || Int(id) >= baseCount {
        throw VQError.outOfRange(
          "\(name): id \(id) at row \(r), column \(c) is out of range 0..<\(baseCount) (the number of base vectors)")
      }
      let top = row.prefix(Self.k).map { Int($0) }
      if Set(top).count != top.count {
        throw VQError.corrupt(path: name, detail: "row \(r) repeats an id among its first \(Self.k) neighbours")
      }
      neighbors.append(contentsOf: top)
    }
    return neighbors
  }

  private static func exactNeighbors(base: VectorBatch, queries: VectorBatch, cache: [Double]?) throws -> [Int] {
    let n = base.count
    let parts = try Parallel.mapChunks(count: queries.count, chunks: chunkCount, threads: Parallel.availableCores) { range -> [Int] in
      var exact = [Double](repeating: 0, count: n)
      var ids: [Int] = []
      for qi in range {
        exact.withUnsafeMutableBufferPointer { out in
          exactProducts(query: qi, queries: queries, base: base, cache: cache, into: out)
        }
        ids.append(contentsOf: TopK.largest(exact, k: k))
      }
      return ids
    }
    return parts.flatMap { $0 }
  }

  /// Every (query, base) inner product, row-major by query.
  private static func allExactProducts(base: VectorBatch, queries: VectorBatch) throws -> [Double] {
    let n = base.count
    let parts = try Parallel.mapChunks(count: queries.count, chunks: chunkCount, threads: Parallel.availableCores) { range -> [Double] in
      var rows = [Double](repeating: 0, count: range.count * n)
      rows.withUnsafeMutableBufferPointer { out in
        for (k, qi) in range.enumerated() {
          exactProducts(query: qi, queries: queries, base: base, cache: nil,
                        into: UnsafeMutableBufferPointer(rebasing: out[(k * n)..<((k + 1) * n)]))
        }
      }
      return rows
    }
    return parts.flatMap { $0 }
  }

  /// ⟨query qi, base i⟩ for every i, from the cache or computed in Double.
  private static func exactProducts(
    query qi: Int, queries: VectorBatch, base: VectorBatch, cache: [Double]?, into out: UnsafeMutableBufferPointer<Double>
  ) {
    let n = base.count, d = base.dimension
    if let cache {
      cache.withUnsafeBufferPointer { c in
        out.baseAddress!.update(from: c.baseAddress! + qi * n, count: n)
      }
      return
    }
    queries.withRow(qi) { query in
      base.withUnsafeBufferPointer { all in
        for i in 0..<n { out[i] = exactDot(query.baseAddress!, all.baseAddress! + i * d, count: d) }
      }
    }
  }

  /// A dot product accumulated in Double with four independent partial sums (a fixed order, so the
  /// same on every run), which keeps the adder pipeline busy where one running sum would wait on itself.
  @inline(__always)
  static func exactDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var j = 0
    while j + 4 <= count {
      s0 += Double(a[j]) * Double(b[j])
      s1 += Double(a[j + 1]) * Double(b[j + 1])
      s2 += Double(a[j + 2]) * Double(b[j + 2])
      s3 += Double(a[j + 3]) * Double(b[j + 3])
      j += 4
    }
    while j < count {
      s0 += Double(a[j]) * Double(b[j])
      j += 1
    }
    return (s0 + s1) + (s2 + s3)
  }
}
