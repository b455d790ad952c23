/// Coordinate descent on ASQ levels (the ALQ update) and the two fixed-family baselines: uniform
/// levels (QSGD-style min–max grid) and ALQ from uniform.
///
/// Papers: F. Faghri, I. Tabrizian, I. Markov, D. Alistarh, D. Roy, A. Ramezani-Kebrya, "Adaptive Gradient
/// Quantization for Data-Parallel SGD" (ALQ/AMQ, NeurIPS 2020, arXiv:2010.12460); D. Alistarh et al.,
/// "QSGD" (NeurIPS 2017, arXiv:1610.02132); research/asq-ipaware.md §2.4 and §2.7.
///
/// Algorithm (levels at candidate ranks p_0 = 0 < … < p_{s−1} = n−1, cost terms of §2.2):
/// 1. for each inner level i, fix its neighbours a = p_{i−1}, c = p_{i+1};
/// 2. f(m) = C(a, m) + C(m, c) is convex in m (the variance is convex piecewise linear in the level);
/// 3. binary search for the smallest m with f(m + 1) ≥ f(m): the best rank between the neighbours;
/// 4. a sweep updates i = 1 … s−2 in order; repeat `sweeps` times;
/// 5. ALQ baseline: start from the uniform grid snapped up to data points, then sweep.
///
/// Guarantee: the objective never increases; a fixed point is a local optimum (ALQ converges to one,
/// which can be 2–3× worse than OPT at s = 32 on skewed data, §2.7); as a polish after the histogram
/// DP it recovers the exact optimum to about 4 digits (§2.7, last column).
enum ASQCoordinateDescent {
  static func polish(_ terms: ASQCostTerms, ranks: inout [Int], sweeps: Int) {
    guard ranks.count > 2 else { return }
    for _ in 0..<sweeps {
      var moved = false
      for i in 1..<(ranks.count - 1) {
        let a = ranks[i - 1], c = ranks[i + 1]
        guard a < c else { ranks[i] = a; continue }
        @inline(__always) func f(_ m: Int) -> Double { terms.cost(a, m) + terms.cost(m, c) }
        var lo = a, hi = c
        while lo < hi {
          let mid = (lo + hi) >> 1
          if f(mid + 1) >= f(mid) { hi = mid } else { lo = mid + 1 }
        }
        let current = Swift.min(Swift.max(ranks[i], a), c)
        if lo != current && f(lo) < f(current) { ranks[i] = lo; moved = true } else { ranks[i] = current }
      }
      if !moved { break }
    }
  }
}

extension ASQ {
  /// The checks of the solvers that take a raw vector: at least 2 levels, a non-empty input, every value
  /// finite (`nonFinite` names the first bad one). Returns the vector's min and max.
  static func checkedRange(_ x: UnsafeBufferPointer<Float>, levels s: Int) throws -> (Float, Float) {
    guard s >= 2 else { throw VQError.outOfRange("ASQ needs at least 2 levels, got \(s)") }
    guard !x.isEmpty else { throw VQError.invalidArgument("ASQ input is empty") }
    return try finiteRange(x)
  }

  /// The values in Double, ascending.
  static func sortedCopy(_ x: [Float]) -> [Double] {
    var sorted = x.map(Double.init)
    sorted.sort()
    return sorted
  }

  /// Uniform levels min + i·(max − min)/(s − 1): the QSGD-style min–max grid (no adaptation).
  public static func uniformLevels(_ x: UnsafeBufferPointer<Float>, levels s: Int) throws -> Solution {
    let (lowest, highest) = try checkedRange(x, levels: s)
    let lo = Double(lowest), hi = Double(highest)
    let levels = (0..<s).map { i in i == s - 1 ? hi : lo + Double(i) * (hi - lo) / Double(s - 1) }
    return Solution(levels: levels, ranks: [], objective: ASQObjective.sumOfVariances(x, levels: levels))
  }

  public static func uniformLevels(_ x: [Float], levels s: Int) throws -> Solution {
    try x.withUnsafeBufferPointer { try uniformLevels($0, levels: s) }
  }

  /// ALQ-style levels: the uniform grid snapped up to data points, then `sweeps` coordinate-descent
  /// sweeps on the sorted data (a local optimum; the baseline that exact ASQ is compared with).
  public static func alqLevels(sorted x: [Double], weights: [Double]? = nil, levels s: Int, sweeps: Int = 30) throws -> Solution {
    try ASQLayeredSolver.checkSize(points: x.count, levels: 2)
    guard s >= 2 else { throw VQError.outOfRange("ASQ needs at least 2 levels, got \(s)") }
    try checkWeights(weights, count: x.count)
    let terms = x.withUnsafeBufferPointer { xb in
      if let weights { return weights.withUnsafeBufferPointer { ASQCostTerms(sortedValues: xb, weights: $0) } }
      return ASQCostTerms(sortedValues: xb)
    }
    let n = x.count, lo = x[0], hi = x[n - 1]
    var ranks = (0..<s).map { i -> Int in
      let target = lo + Double(i) * (hi - lo) / Double(s - 1)
      var a = 0, b = n - 1  // smallest rank with x ≥ target
      while a < b { let mid = (a + b) >> 1; if x[mid] >= target { b = mid } else { a = mid + 1 } }
      return a
    }
    ranks[0] = 0
    ranks[s - 1] = n - 1
    ASQCoordinateDescent.polish(terms, ranks: &ranks, sweeps: sweeps)
    var objective = 0.0
    for i in 1..<s { objective += terms.cost(ranks[i - 1], ranks[i]) }
    return Solution(levels: ranks.map { x[$0] }, ranks: ranks, objective: objective)
  }
}
