/// Minimax ASQ: the s levels of an unbiased stochastic rounding that minimize the largest single-coordinate
/// variance max_i (x_i − a_i)(b_i − x_i) — the oblivious worst case sup_{‖y‖₂≤1} E⟨Q(x) − x, y⟩² over
/// unseen unit queries y.
///
/// Papers: N. White, K. Singal, "Inner Product Aware Quantization" (arXiv:2606.00289; objective as
/// reconstructed in research/asq-ipaware.md §3.1); algorithm of research/asq-ipaware.md §3.2.
///
/// Algorithm (x sorted, s ≥ 2; levels need not be data points):
/// 1. τ is feasible if some s levels from min x to max x keep every variance ≤ τ; τ = ((max − min)/2)² is
///    (two levels: (x − min)(max − x) ≤ (range/2)²);
/// 2. greedy test of τ: from the level a = min x, the next level may go as far as
///    B = min over the points x ∈ (a, B) of x + τ/(x − a) (each such point's variance (x − a)(B − x) ≤ τ);
///    put it at B, or at max x once every remaining point lies below B; feasible iff ≤ s levels;
/// 3. bisection on τ between an infeasible and a feasible value until the midpoint stops moving;
/// 4. the greedy levels at the smallest feasible τ found; a greedy set with fewer than s levels gets the
///    midpoints of its widest gaps (splitting a gap never raises a variance).
///
/// Guarantee: putting each level as far right as the bound allows is optimal (the reachable range from a
/// level only grows as the level moves right), so the greedy test is exact and the returned levels reach
/// max variance ≤ τ_feasible (up to the rounding of x + τ/(x − a)), with every τ below τ_infeasible
/// impossible and the two adjacent in floating point. Time O(d log d + d·(bisection steps ≤ 2100)).
extension ASQ {
  /// Minimax levels and their guarantee.
  public struct MinimaxSolution: Sendable, Equatable {
    /// s levels, non-decreasing, first = min x, last = max x (equal levels only for a constant input).
    public var levels: [Double]
    /// max_i (x_i − a_i)(b_i − x_i) of these levels on the input, computed directly.
    public var maxVariance: Double
    /// The smallest τ the greedy test found feasible (these levels' target).
    public var feasibleBound: Double
    /// The largest τ the greedy test found infeasible (0 when even τ = 0 is feasible): no s levels keep
    /// every variance at or below it.
    public var infeasibleBound: Double
    /// Σ_i (x_i − a_i)(b_i − x_i) of these levels (the ASQ objective, for comparison).
    public var sumOfVariances: Double
  }

  /// Minimax levels of a vector (sorts a copy).
  public static func minimaxLevels(_ x: [Float], levels s: Int) throws -> MinimaxSolution {
    _ = try x.withUnsafeBufferPointer { try checkedRange($0, levels: s) }
    let sorted = sortedCopy(x)
    let lowest = sorted[0], highest = sorted[sorted.count - 1]
    var solution: MinimaxSolution
    if lowest == highest {
      solution = MinimaxSolution(levels: [Double](repeating: lowest, count: s), maxVariance: 0, feasibleBound: 0,
                                 infeasibleBound: 0, sumOfVariances: 0)
      return solution
    }
    let levels = sorted.withUnsafeBufferPointer { xs -> (levels: [Double], feasible: Double, infeasible: Double) in
      if let atZero = minimaxGreedy(xs, bound: 0, levels: s) { return (atZero, 0, 0) }
      var infeasible = 0.0
      var feasible = (highest - lowest) * (highest - lowest) / 4
      var best = minimaxGreedy(xs, bound: feasible, levels: s)
      while best == nil {  // rounding could make (range/2)² a hair too small
        feasible *= 2
        best = minimaxGreedy(xs, bound: feasible, levels: s)
      }
      while true {
        let mid = infeasible + (feasible - infeasible) / 2
        guard mid > infeasible && mid < feasible else { break }
        if let levels = minimaxGreedy(xs, bound: mid, levels: s) {
          feasible = mid
          best = levels
        } else {
          infeasible = mid
        }
      }
      return (best!, feasible, infeasible)
    }
    var full = levels.levels
    while full.count < s {
      var widest = 1
      for i in 2..<full.count where full[i] - full[i - 1] > full[widest] - full[widest - 1] { widest = i }
      full.insert(full[widest - 1] + (full[widest] - full[widest - 1]) / 2, at: widest)
    }
    solution = MinimaxSolution(
      levels: full, maxVariance: ASQObjective.maxVariance(x, levels: full), feasibleBound: levels.feasible,
      infeasibleBound: levels.infeasible, sumOfVariances: ASQObjective.sumOfVariances(x, levels: full))
    return solution
  }

  /// The greedy test of §3.2: the levels (at most `s`) that keep every variance ≤ `bound`, or nil.
  static func minimaxGreedy(_ x: UnsafeBufferPointer<Double>, bound tau: Double, levels s: Int) -> [Double]? {
    let n = x.count
    let highest = x[n - 1]
    var levels = [x[0]]
    var a = x[0]
    var i = 0
    while true {
      while i < n && x[i] <= a { i += 1 }
      if i == n { return levels }  // a = max x
      var reach = Double.infinity
      while i < n && x[i] < reach {
        let v = x[i]
        let limit = v + tau / (v - a)
        if limit < reach { reach = limit }
        i += 1
      }
      if levels.count == s { return nil }  // points remain above a, no level left
      if i == n {
        levels.append(highest)
        return levels
      }
      // The point x[i] ≥ reach starts the next interval; a level past it would strand it.
      a = reach
      levels.append(a)
    }
  }
}

extension ASQObjective {
  /// max_i (x_i − a_i)(b_i − x_i) over the coordinates (`levels` sorted, covering x; +∞ if a value lies
  /// outside them): the worst single-coordinate variance, sup over unit queries of E⟨Q(x) − x, y⟩².
  public static func maxVariance(_ x: [Float], levels: [Double]) -> Double {
    guard let lowest = levels.first, let highest = levels.last else { return x.isEmpty ? 0 : .infinity }
    var worst = 0.0
    levels.withUnsafeBufferPointer { q in
      for value in x {
        let v = Double(value)
        if v < lowest || v > highest { worst = .infinity; return }
        let upper = ASQRounding.upperLevelIndex(of: v, in: q)
        let b = q[upper], a = upper > 0 ? q[upper - 1] : b
        let variance = (v - a) * (b - v)
        if variance > worst { worst = variance }
      }
    }
    return worst
  }
}
