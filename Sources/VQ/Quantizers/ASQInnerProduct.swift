/// Inner-product-aware objectives for unbiased per-coordinate quantizers, and the adaptive levels that
/// minimize each: weighted ASQ (average case), plain ASQ (adaptive worst case), rotation-then-ASQ and
/// per-block ASQ.
///
/// Paper (seed): N. White, K. Singal, "Inner Product Aware Quantization: Provably Fast, Accurate, and
/// Adaptive Algorithms" (arXiv:2606.00289; abstract only — the objectives below are the reconstruction of
/// research/asq-ipaware.md §3, verified numerically there and in ASQInnerProductTests).
///
/// Algorithm (x ∈ R^d, unbiased independent rounding with per-coordinate variance v_i = (x_i − a_i)(b_i − x_i)):
/// 1. error e = Q(x) − x has E[e] = 0 and E[e eᵀ] = diag(v), so for a query y with E[y yᵀ] = Σ:
///    E⟨e, y⟩² = tr(Σ diag v) = Σ_i Σ_ii v_i — only the diagonal of Σ matters (cross terms vanish);
/// 2. average case: minimize Σ_i w_i v_i with w_i = Σ_ii = E[y_i²], estimated from a query sample:
///    exactly weighted ASQ (the weighted cost keeps the quadrangle inequality, same DP);
/// 3. adaptive worst case over ‖y‖₂ ≤ 1 (and the oblivious ℓ∞ box): E‖e‖² = Σ v_i = plain ASQ;
///    oblivious worst case over ‖y‖₂ ≤ 1: max_i v_i (reported, not optimized here);
/// 4. rotation-then-ASQ: rotate x and queries by R; weights become diag(R Σ Rᵀ) ≈ tr Σ/d (they wash out);
/// 5. per-block ASQ: independent levels per block of coordinates (more side data, adapts to channels).
///
/// Guarantee: for any level set, averageCaseError is the exact expectation over the rounding of the mean
/// of ⟨e, y⟩² over the given queries' second moments; weighted ASQ minimizes it among unbiased
/// data-point level sets (never worse than plain ASQ on that objective).
public enum ASQInnerProduct {
  /// v_i = (x_i − a_i)(b_i − x_i) for the levels around each coordinate.
  public static func coordinateVariances(_ x: UnsafeBufferPointer<Float>, levels: [Double]) -> [Double] {
    levels.withUnsafeBufferPointer { q in
      x.map { f -> Double in
        let v = Double(f)
        let upper = ASQRounding.upperLevelIndex(of: v, in: q)
        return upper == 0 ? 0 : Swift.max((v - q[upper - 1]) * (q[upper] - v), 0)
      }
    }
  }

  /// Query weights w_i = mean_q y_{q,i}² (the diagonal of the queries' second-moment matrix).
  public static func queryWeights(_ queries: VectorBatch) -> [Double] {
    var w = [Double](repeating: 0, count: queries.dimension)
    for k in 0..<queries.count {
      queries.withRow(k) { y in for i in 0..<y.count { w[i] += Double(y[i]) * Double(y[i]) } }
    }
    let n = Double(Swift.max(queries.count, 1))
    return w.map { $0 / n }
  }

  /// E_y E_Q ⟨Q(x) − x, y⟩² = Σ_i w_i v_i.
  public static func averageCaseError(_ x: UnsafeBufferPointer<Float>, levels: [Double], queryWeights w: [Double]) -> Double {
    let v = coordinateVariances(x, levels: levels)
    var total = 0.0
    for i in 0..<v.count { total += w[i] * v[i] }
    return total
  }

  /// Worst cases over unit queries: adaptive ℓ2 (= Σ v_i, the ASQ objective) and oblivious ℓ2 (= max v_i).
  public static func worstCaseError(_ x: UnsafeBufferPointer<Float>, levels: [Double]) -> (adaptive: Double, oblivious: Double) {
    let v = coordinateVariances(x, levels: levels)
    var sum = 0.0, largest = 0.0
    for value in v { sum += value; largest = Swift.max(largest, value) }
    return (sum, largest)
  }

  /// The levels minimizing the average-case error for queries with second moments `w`: weighted ASQ
  /// (exact, or on a `gridPoints` histogram when > 0).
  public static func averageCaseLevels(
    _ x: UnsafeBufferPointer<Float>, queryWeights w: [Double], levels s: Int, gridPoints: Int = 0
  ) throws -> ASQ.Solution {
    guard w.count == x.count else {
      throw VQError.dimensionMismatch(expected: x.count, got: w.count, what: "query weights")
    }
    return try w.withUnsafeBufferPointer { wb in
      gridPoints > 0
        ? try ASQ.approximateLevels(x, weights: wb, levels: s, gridPoints: gridPoints)
        : try ASQ.exactLevels(x, weights: wb, levels: s)
    }
  }

  /// Per-block ASQ: coordinates [b·size, (b+1)·size) get their own optimal (weighted) levels.
  public static func perBlockLevels(
    _ x: UnsafeBufferPointer<Float>, blockSize: Int, queryWeights w: [Double]? = nil, levels s: Int
  ) throws -> [[Double]] {
    guard blockSize >= 1 else { throw VQError.outOfRange("block size must be at least 1, got \(blockSize)") }
    return try stride(from: 0, to: x.count, by: blockSize).map { start in
      let end = Swift.min(start + blockSize, x.count)
      let block = UnsafeBufferPointer(rebasing: x[start..<end])
      if let w {
        return try Array(w[start..<end]).withUnsafeBufferPointer { try ASQ.exactLevels(block, weights: $0, levels: s).levels }
      }
      return try ASQ.exactLevels(block, levels: s).levels
    }
  }

  /// Σ_i w_i v_i for per-block levels.
  public static func averageCaseError(
    _ x: UnsafeBufferPointer<Float>, blockLevels: [[Double]], blockSize: Int, queryWeights w: [Double]
  ) -> Double {
    var total = 0.0
    for (b, levels) in blockLevels.enumerated() {
      let start = b * blockSize, end = Swift.min(start + blockSize, x.count)
      let v = coordinateVariances(UnsafeBufferPointer(rebasing: x[start..<end]), levels: levels)
      for i in 0..<v.count { total += w[start + i] * v[i] }
    }
    return total
  }
}
