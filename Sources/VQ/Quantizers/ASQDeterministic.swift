/// The optimal deterministic (biased) s-level quantizer of one vector: exact 1-D k-means by the same
/// monotone-argmin DP as exact ASQ, for comparison with the unbiased levels.
///
/// Papers: X. Wu, "Optimal quantization by matrix searching" (J. Algorithms 1991); A. Grønlund, K. G.
/// Larsen, A. Mathiasen, J. S. Nielsen, S. Schneider, M. Song, "Fast Exact k-Means, k-Medians and
/// Bregman Divergence Clustering in 1D" (arXiv:1701.07204); research/asq-ipaware.md §2.7.
///
/// Algorithm (sorted x, weights w ≥ 0, s clusters):
/// 1. exclusive prefix sums S0, S1, S2 of w, w·y, w·y² (y = x − midrange);
/// 2. cluster cost of ranks [k, j): C(k, j) = ΔS2 − ΔS1²/ΔS0 (0 when empty); it satisfies the QI;
/// 3. D_1[j] = C(0, j); D_t[j] = min_{k ≤ j} D_{t−1}[k] + C(k, j), monotone argmins by divide and conquer;
/// 4. backtrack from D_s[d]; the levels are the clusters' weighted means;
/// 5. rounding to the nearest level reproduces the clusters (the optimum is a Voronoi partition).
///
/// Guarantee: the minimum of Σ w_i (x_i − q(x_i))² over all s-level quantizers (Lloyd–Max from quantiles
/// can stall in a local optimum, §2.7); biased: E[q(x)] ≠ x in general, so it does not average down.
/// O(s·d log d) time after the sort, (s−1)·(d+1) UInt32 argmins.
extension ASQ {
  /// Optimal deterministic levels (cluster means, ascending; fewer than s when d < s) for sorted x.
  public static func deterministicLevels(sorted x: [Double], weights: [Double]? = nil, levels s: Int) throws -> Solution {
    try ASQLayeredSolver.checkSize(points: x.count + 1, levels: s + 1)
    try checkWeights(weights, count: x.count)
    guard !x.isEmpty else { throw VQError.invalidArgument("ASQ input is empty") }
    for i in 1..<x.count where x[i] < x[i - 1] {
      throw VQError.invalidArgument("ASQ input is not sorted: position \(i) (\(x[i])) is below position \(i - 1) (\(x[i - 1]))")
    }
    let n = x.count, centre = (x[0] + x[n - 1]) / 2
    var s0 = [Double](repeating: 0, count: n + 1), s1 = s0, s2 = s0
    for i in 0..<n {
      let w = weights?[i] ?? 1, y = x[i] - centre
      s0[i + 1] = s0[i] + w; s1[i + 1] = s1[i] + w * y; s2[i + 1] = s2[i] + w * y * y
    }
    let rows = n + 1, layers = s - 1
    var previous = [Double](repeating: 0, count: rows), current = previous
    var table = [UInt32](repeating: 0, count: Swift.max(layers, 0) * rows)
    s0.withUnsafeBufferPointer { p0 in
      s1.withUnsafeBufferPointer { p1 in
        s2.withUnsafeBufferPointer { p2 in
          let cluster = KMeansClusterCost(s0: p0.baseAddress!, s1: p1.baseAddress!, s2: p2.baseAddress!)
          for j in 0..<rows { previous[j] = cluster.cost(0, j) }
          table.withUnsafeMutableBufferPointer { argmins in
            for layer in 0..<layers {
              previous.withUnsafeBufferPointer { prev in
                current.withUnsafeMutableBufferPointer { cur in
                  let problem = KMeansLayer(previous: prev.baseAddress!, cluster: cluster)
                  monotoneRowMinima(problem, rows: rows, minima: cur.baseAddress!, argmins: argmins.baseAddress! + layer * rows)
                }
              }
              swap(&previous, &current)
            }
          }
        }
      }
    }
    // Cluster boundaries 0 = b_0 ≤ b_1 ≤ … ≤ b_s = n.
    var bounds = [Int](repeating: 0, count: s + 1)
    bounds[s] = n
    var index = n
    for layer in stride(from: layers - 1, through: 0, by: -1) {
      index = Int(table[layer * rows + index])
      bounds[layer + 1] = index
    }
    var levels: [Double] = []
    for c in 0..<s where bounds[c + 1] > bounds[c] {
      let w = s0[bounds[c + 1]] - s0[bounds[c]]
      let mean = w > 0
        ? (s1[bounds[c + 1]] - s1[bounds[c]]) / w + centre
        : (x[bounds[c]] + x[bounds[c + 1] - 1]) / 2
      levels.append(Swift.min(Swift.max(mean, x[bounds[c]]), x[bounds[c + 1] - 1]))
    }
    return Solution(levels: levels, ranks: Array(bounds.dropFirst().dropLast()), objective: previous[n])
  }

  /// Σ w (x − nearest level)² (the deterministic quantizer's squared error) for sorted levels.
  public static func nearestRoundingError(_ x: [Float], levels: [Double], weights: [Double]? = nil) -> Double {
    var total = 0.0
    levels.withUnsafeBufferPointer { q in
      for (i, f) in x.enumerated() {
        let v = Double(f)
        let upper = ASQRounding.upperLevelIndex(of: v, in: q)
        var error = (q[upper] - v) * (q[upper] - v)
        if upper > 0 { error = Swift.min(error, (v - q[upper - 1]) * (v - q[upper - 1])) }
        total += (weights?[i] ?? 1) * error
      }
    }
    return total
  }
}

/// Within-cluster squared error of ranks [k, j) from exclusive prefix sums.
struct KMeansClusterCost {
  let s0: UnsafePointer<Double>
  let s1: UnsafePointer<Double>
  let s2: UnsafePointer<Double>

  @inline(__always)
  func cost(_ k: Int, _ j: Int) -> Double {
    let w = s0[j] - s0[k]
    guard w > 0 else { return 0 }
    let m = s1[j] - s1[k]
    return Swift.max((s2[j] - s2[k]) - m * m / w, 0)
  }
}

struct KMeansLayer: ASQRowMinimaProblem {
  let previous: UnsafePointer<Double>
  let cluster: KMeansClusterCost

  @inline(__always)
  func value(_ k: Int, _ j: Int) -> Double { previous[k] + cluster.cost(k, j) }
}
