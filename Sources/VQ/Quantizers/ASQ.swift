/// Exact adaptive stochastic quantization (ASQ): the s levels that minimize the variance of unbiased
/// stochastic rounding of one vector.
///
/// Paper: R. Ben Basat, Y. Ben-Itzhak, M. Mitzenmacher, S. Vargaftik, "Optimal and Approximate Adaptive
/// Stochastic Quantization" (QUIVER, NeurIPS 2024, arXiv:2402.03158); research/asq-ipaware.md §2.
///
/// Algorithm (x ∈ R^d, s ≥ 2 levels, optional weights w ≥ 0):
/// 1. sort x (an optimal level set exists with every level at a data point, min and max included);
/// 2. prefix sums give the cost C(k, j) of two consecutive levels at ranks k < j in O(1) (`ASQCostTerms`);
/// 3. D_1[j] = C(0, j); D_t[j] = min_{k ≤ j} D_{t−1}[k] + C(k, j) for t = 2..s−1, argmins kept (UInt32);
/// 4. each layer's argmins are monotone (quadrangle inequality): divide and conquer, O(d log d) per layer;
/// 5. backtrack from D_{s−1}[d−1]; the levels are the points at the chosen ranks.
///
/// Guarantee: the minimum of Σ_i w_i (x_i − a_i)(b_i − x_i) over level sets containing min x and max x
/// (= E‖Q(x) − x‖²_w), equal (cost to rounding, ranks exactly with leftmost ties) to the O(s·d²) DP.
/// Time O(d log d + s·d log d), memory 5 doubles per point + two DP rows + (s−2)·d UInt32 argmins
/// (bounded by `asqMaximumArgminEntries`).
public enum ASQ {
  /// A level set and its objective.
  public struct Solution: Sendable, Equatable {
    /// The levels, non-decreasing, first = min x, last = max x (repeats only when d < s).
    public var levels: [Double]
    /// Ranks of the levels in the sorted input (exact solvers), empty otherwise.
    public var ranks: [Int]
    /// The objective Σ w (x − a)(b − x) as the solver computed it.
    public var objective: Double
  }

  /// Optimal levels for a sorted (non-decreasing) input, by the O(s·d log d) DP.
  public static func exactLevels(sorted x: [Double], weights: [Double]? = nil, levels s: Int) throws -> Solution {
    try solveSorted(x, weights: weights, levels: s, quadratic: false)
  }

  /// The reference O(s·d²) DP (every cell scanned), same tie rule: for tests and small inputs.
  public static func quadraticLevels(sorted x: [Double], weights: [Double]? = nil, levels s: Int) throws -> Solution {
    try solveSorted(x, weights: weights, levels: s, quadratic: true)
  }

  /// Optimal levels for an unsorted vector: sorts a copy (with its weights) first.
  public static func exactLevels(_ x: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Double>? = nil, levels s: Int) throws -> Solution {
    if let weights {
      guard weights.count == x.count else {
        throw VQError.dimensionMismatch(expected: x.count, got: weights.count, what: "ASQ weights")
      }
      let order = (0..<x.count).sorted { x[$0] < x[$1] }
      return try exactLevels(sorted: order.map { Double(x[$0]) }, weights: order.map { weights[$0] }, levels: s)
    }
    var sorted = x.map(Double.init)
    sorted.sort()
    return try exactLevels(sorted: sorted, levels: s)
  }

  public static func exactLevels(_ x: [Float], weights: [Double]? = nil, levels s: Int) throws -> Solution {
    try x.withUnsafeBufferPointer { xb in
      if let weights { return try weights.withUnsafeBufferPointer { try exactLevels(xb, weights: $0, levels: s) } }
      return try exactLevels(xb, levels: s)
    }
  }

  static func solveSorted(_ x: [Double], weights: [Double]?, levels s: Int, quadratic: Bool) throws -> Solution {
    try ASQLayeredSolver.checkSize(points: x.count, levels: s)
    try checkWeights(weights, count: x.count)
    for i in 0..<x.count where !x[i].isFinite {
      throw VQError.nonFinite(source: "ASQ input", row: 0, column: i, value: Float(x[i]))
    }
    for i in 1..<Swift.max(x.count, 1) where x[i] < x[i - 1] {
      throw VQError.invalidArgument("ASQ input is not sorted: position \(i) (\(x[i])) is below position \(i - 1) (\(x[i - 1]))")
    }
    guard !x.isEmpty else { throw VQError.invalidArgument("ASQ input is empty") }
    let terms = x.withUnsafeBufferPointer { xb in
      if let weights { return weights.withUnsafeBufferPointer { ASQCostTerms(sortedValues: xb, weights: $0) } }
      return ASQCostTerms(sortedValues: xb)
    }
    let (objective, ranks) = ASQLayeredSolver.solve(terms, levels: s, quadratic: quadratic)
    return Solution(levels: ranks.map { x[$0] }, ranks: ranks, objective: objective)
  }

  static func checkWeights(_ weights: [Double]?, count: Int) throws {
    guard let weights else { return }
    guard weights.count == count else {
      throw VQError.dimensionMismatch(expected: count, got: weights.count, what: "ASQ weights")
    }
    for (i, w) in weights.enumerated() where !(w >= 0 && w.isFinite) {
      throw VQError.invalidArgument("ASQ weight \(i) is \(w); weights must be finite and non-negative")
    }
  }
}
