import VQ

/// Everything `vq bench` measures for one spec on one embedding set: the `vq eval` metrics
/// (`EvaluationResult`, whose JSON keys are fixed), the high-probability inner-product error, speed,
/// and the facts the theory column needs (the rotated working dimension, the data's pair moments).
public struct Measurement: Sendable {
  public var result: EvaluationResult
  /// 99th and 99.9th percentiles of |estimated − true|·√d.
  public var tail: TailError
  /// Single-thread encode and scan speed; `nil` when not timed.
  public var speed: Speed?
  /// The dimension the method works in (the padded rotation size n; d for methods that do not rotate).
  public var workingDimension: Int
  /// Moments of the true inner products over all (query, base) pairs.
  public var pairs: PairMoments
  /// Mean over queries of (max − min)² of the prepared (rotated) query's coordinates.
  public var queryRangeSquared: Double

  public init(
    result: EvaluationResult, tail: TailError, speed: Speed?, workingDimension: Int, pairs: PairMoments,
    queryRangeSquared: Double = .nan
  ) {
    self.result = result
    self.tail = tail
    self.speed = speed
    self.workingDimension = workingDimension
    self.pairs = pairs
    self.queryRangeSquared = queryRangeSquared
  }

  /// The predictions of the notes for this spec on this data (empty where they give none).
  public func theory(for spec: QuantizerSpec) -> [TheoryValue] { Theory.predictions(for: spec, context: TheoryContext(self)) }
}

/// Mean and mean square of the true inner products a = ⟨q, x⟩ over all (query, base) pairs: the
/// variance predictions depend on the data only through them (rotation.md §1: Var ∝ 1 − a²).
public struct PairMoments: Sendable, Equatable {
  public private(set) var count = 0
  private var sum = 0.0
  private var sumOfSquares = 0.0

  public init() {}

  public mutating func add(_ exact: UnsafeBufferPointer<Double>) {
    var s = 0.0, s2 = 0.0
    for a in exact {
      s += a
      s2 += a * a
    }
    sum += s
    sumOfSquares += s2
    count += exact.count
  }

  public mutating func merge(_ other: PairMoments) {
    count += other.count
    sum += other.sum
    sumOfSquares += other.sumOfSquares
  }

  /// E[a].
  public var mean: Double { count > 0 ? sum / Double(count) : .nan }
  /// E[a²].
  public var meanSquare: Double { count > 0 ? sumOfSquares / Double(count) : .nan }
  /// Var(a) over pairs.
  public var variance: Double { meanSquare - mean * mean }
}

/// Recall@10 by estimate, and after re-ranking the top r·10 with exact inner products.
struct RecallAccumulator {
  private var queryCount = 0
  private var plain = 0.0
  private var reranked = [Double](repeating: 0, count: Evaluation.rerankDepths.count)

  /// `ranked`: base ids by decreasing estimate (at least the deepest re-rank depth · 10, or all).
  mutating func add(ranked: [Int], exact: UnsafeBufferPointer<Double>, truth: ArraySlice<Int>) {
    queryCount += 1
    plain += Recall.fraction(found: ranked.prefix(Evaluation.k), truth: truth)
    for (j, r) in Evaluation.rerankDepths.enumerated() {
      let candidates = Array(ranked.prefix(r * Evaluation.k))
      let best = TopK.largest(exact, among: candidates, k: Evaluation.k)
      reranked[j] += Recall.fraction(found: best, truth: truth)
    }
  }

  mutating func merge(_ other: RecallAccumulator) {
    queryCount += other.queryCount
    plain += other.plain
    for j in reranked.indices { reranked[j] += other.reranked[j] }
  }

  var recallAt10: Double { plain / Double(queryCount) }
  var rerank: RerankRecall { RerankRecall(values: reranked.map { $0 / Double(queryCount) }) }
}
