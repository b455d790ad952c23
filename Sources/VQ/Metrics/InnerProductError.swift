/// The error of estimated inner products against exact ones over all (query, base) pairs
/// (DESIGN.md §6), accumulated in Double:
///
/// - `bias`: mean of estimated − true;
/// - `biasStandardError`: its standard error, clustered by base vector: the errors of one code against
///   many queries are correlated (they share the code's quantization error), so the pairs are not
///   independent. The standard error is sd(mᵢ)/√n over the n per-base-vector mean errors mᵢ; treating
///   all q·n pairs as independent would understate it by up to √q;
/// - `varianceTimesDimension`: d × the (unbiased) sample variance of estimated − true over all pairs,
///   the quantity the theory tables give directly (research/rotation.md).
public struct InnerProductError: Sendable, Equatable {
  public var bias: Double
  public var biasStandardError: Double
  public var varianceTimesDimension: Double

  public init(bias: Double, biasStandardError: Double, varianceTimesDimension: Double) {
    self.bias = bias
    self.biasStandardError = biasStandardError
    self.varianceTimesDimension = varianceTimesDimension
  }
}

/// Accumulates estimated − true inner products one query at a time (against every base vector).
///
/// Deterministic: accumulators filled on different threads and merged in a fixed order give the same
/// result on every run (the merge is Chan et al.'s pairwise update of mean and sum of squared deviations).
public struct InnerProductErrorAccumulator: Sendable {
  /// Number of base vectors each query is compared with.
  public let baseCount: Int
  public private(set) var queryCount = 0
  private var mean = 0.0
  private var sumOfSquaredDeviations = 0.0
  /// Σ over queries of (estimated − true), per base vector.
  private var errorSumPerBase: [Double]

  public init(baseCount: Int) {
    precondition(baseCount > 0, "need at least one base vector")
    self.baseCount = baseCount
    errorSumPerBase = [Double](repeating: 0, count: baseCount)
  }

  /// Number of (query, base) pairs seen.
  public var pairCount: Int { queryCount * baseCount }

  /// Adds one query: `estimated[i]` and `exact[i]` are its inner products with base vector i.
  public mutating func add(estimated: UnsafeBufferPointer<Float>, exact: UnsafeBufferPointer<Double>) {
    precondition(estimated.count == baseCount && exact.count == baseCount, "one value per base vector")
    var sum = 0.0
    errorSumPerBase.withUnsafeMutableBufferPointer { perBase in
      for i in 0..<baseCount {
        let e = Double(estimated[i]) - exact[i]
        sum += e
        perBase[i] += e
      }
    }
    let queryMean = sum / Double(baseCount)
    var squares = 0.0
    for i in 0..<baseCount {
      let dev = Double(estimated[i]) - exact[i] - queryMean
      squares += dev * dev
    }
    combine(count: baseCount, mean: queryMean, squaredDeviations: squares)
    queryCount += 1
  }

  /// Adds everything `other` saw (same base set).
  public mutating func merge(_ other: InnerProductErrorAccumulator) {
    precondition(other.baseCount == baseCount, "accumulators over different base sets")
    guard other.queryCount > 0 else { return }
    combine(count: other.pairCount, mean: other.mean, squaredDeviations: other.sumOfSquaredDeviations)
    queryCount += other.queryCount
    errorSumPerBase.withUnsafeMutableBufferPointer { mine in
      other.errorSumPerBase.withUnsafeBufferPointer { theirs in
        for i in 0..<baseCount { mine[i] += theirs[i] }
      }
    }
  }

  /// Chan's update; `pairCount` must still be the count before the new pairs.
  private mutating func combine(count: Int, mean otherMean: Double, squaredDeviations otherSquares: Double) {
    let n1 = Double(pairCount), n2 = Double(count)
    let total = n1 + n2
    let delta = otherMean - mean
    mean += delta * n2 / total
    sumOfSquaredDeviations += otherSquares + delta * delta * n1 * n2 / total
  }

  /// The metrics for vectors of `dimension` coordinates (zeros before any query).
  public func result(dimension: Int) -> InnerProductError {
    guard queryCount > 0 else { return InnerProductError(bias: 0, biasStandardError: 0, varianceTimesDimension: 0) }
    let pairs = Double(pairCount)
    let variance = pairCount > 1 ? sumOfSquaredDeviations / (pairs - 1) : 0
    // Standard error clustered by base vector (see `InnerProductError`).
    var standardError = 0.0
    if baseCount > 1 {
      let q = Double(queryCount)
      var m2 = 0.0
      for s in errorSumPerBase {
        let dev = s / q - mean
        m2 += dev * dev
      }
      standardError = (m2 / Double(baseCount - 1) / Double(baseCount)).squareRoot()
    }
    return InnerProductError(
      bias: mean, biasStandardError: standardError, varianceTimesDimension: Double(dimension) * variance)
  }
}
