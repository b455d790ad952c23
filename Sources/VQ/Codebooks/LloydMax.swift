import RealModule

/// The Lloyd–Max (minimum-MSE) scalar quantizer of a symmetric law, solved in Double from exact tail and
/// partial-mean integrals (Lloyd 1957/1982, Max 1960).
///
/// The optimum satisfies two conditions: every threshold is the midpoint of its neighbouring centroids,
/// and every centroid is the conditional mean of its cell. Plain Lloyd iteration (alternate the two) is
/// the fixed-point map `c ← L(c)`; it converges, but its slowest mode decays like `1 − O(1/N²)` for N
/// levels, so at 8 bits it needs ~10⁵ sweeps for 1e−12. We therefore solve the same fixed point
/// `c = L(c)` by Newton's method (L's Jacobian is tridiagonal: centroid k moves only with thresholds
/// k−1 and k), falling back to a plain Lloyd step whenever the Newton step would break the ordering or
/// not reduce the residual. Deterministic: the same operations in the same order on every machine.
///
/// By symmetry only the positive half is solved: centroids `0 < c₁ < … < c_K` (K = N/2), thresholds
/// `t₀ = 0 < t₁ < … < t_{K−1}` with `t_k = (c_k + c_{k+1})/2`, and `t_K` = the end of the support.
enum LloydMax {
  struct Solution {
    /// The K positive centroids, ascending.
    var positiveCentroids: [Double]
    /// E[(S − Q(S))²] (the law has variance 1, so this is the normalized MSE).
    var distortion: Double
    /// Newton/Lloyd sweeps used.
    var iterations: Int
    /// max_k |c_k − L(c)_k| at the end.
    var residual: Double
  }

  /// Residuals below this count as converged once Newton stops making progress (rounding noise).
  static let noiseFloor = 1e-11

  static func solve(_ law: CoordinateLaw, bits: Int, tolerance: Double = 1e-13) -> Solution {
    precondition((1...16).contains(bits))
    let evaluator = LawEvaluator(law)
    let k = 1 << (bits - 1)
    let end = law.supportEnd

    // Start: the companding (Panter–Dite) rule puts cells at equal mass of f^{1/3}; for the Gaussian
    // that is N(0, 3), so centroids start at √3·Φ⁻¹(½ + (j−½)/N). On a finite support, take the
    // smaller of that and the uniform spacing (both ascending, so the minimum is too).
    var centroids = (1...k).map { j -> Double in
      var c = 3.0.squareRoot() * inverseStandardNormal(0.5 + (Double(j) - 0.5) / Double(2 * k))
      if end.isFinite { c = min(c, end * (Double(j) - 0.5) / Double(k)) }
      return c
    }

    var mapped = lloydMap(centroids, evaluator, end: end)
    var residual = maxDifference(centroids, mapped.centroids)
    var iterations = 0
    while residual > tolerance && iterations < 10_000 {
      iterations += 1
      // Newton step on G(c) = c − L(c): (I − J)·δ = −G.
      var accepted = false
      if let step = newtonStep(centroids, mapped, evaluator) {
        let candidate = zip(centroids, step).map { $0 + $1 }
        if isValid(candidate, end: end) {
          let candidateMapped = lloydMap(candidate, evaluator, end: end)
          let candidateResidual = maxDifference(candidate, candidateMapped.centroids)
          if candidateResidual < residual {
            centroids = candidate
            mapped = candidateMapped
            residual = candidateResidual
            accepted = true
          }
        }
      }
      if !accepted {
        centroids = mapped.centroids
        mapped = lloydMap(centroids, evaluator, end: end)
        residual = maxDifference(centroids, mapped.centroids)
        // Newton no longer reduces the residual: it has reached the rounding floor of the integrals
        // (≈1e−13 at 8 bits and d ≥ 10⁴, where the incomplete-beta fraction runs hundreds of terms).
        if residual < noiseFloor { break }
      }
    }
    // Finish with one Lloyd update: centroids exactly the conditional means of their cells.
    centroids = mapped.centroids
    let final = lloydMap(centroids, evaluator, end: end)
    var explained = 0.0
    for j in 0..<k { explained += final.mass[j] > 0 ? final.partialMean[j] * final.partialMean[j] / final.mass[j] : 0 }
    // E S² = 1; the MSE with conditional-mean centroids is E S² − Σ_cells M²/P over both halves.
    return Solution(
      positiveCentroids: centroids, distortion: 1 - 2 * explained, iterations: iterations,
      residual: maxDifference(centroids, final.centroids))
  }

  /// One Lloyd sweep: thresholds at midpoints, then every centroid at its cell's conditional mean.
  private struct Mapped {
    var centroids: [Double]
    /// Cell masses P_k and partial means M_k (positive half).
    var mass: [Double]
    var partialMean: [Double]
    /// Thresholds t_0 … t_K.
    var thresholds: [Double]
  }

  private static func lloydMap(_ c: [Double], _ law: LawEvaluator, end: Double) -> Mapped {
    let k = c.count
    var t = [Double](repeating: 0, count: k + 1)
    for j in stride(from: 1, to: k, by: 1) { t[j] = (c[j - 1] + c[j]) / 2 }
    t[k] = end
    var tail = [Double](repeating: 0, count: k + 1)
    var mean = [Double](repeating: 0, count: k + 1)
    for j in 0...k {
      tail[j] = j == k ? 0 : law.upperTail(t[j])
      mean[j] = j == k ? 0 : law.upperPartialMean(t[j])
    }
    var out = [Double](repeating: 0, count: k)
    var mass = [Double](repeating: 0, count: k)
    var partial = [Double](repeating: 0, count: k)
    for j in 0..<k {
      mass[j] = tail[j] - tail[j + 1]
      partial[j] = mean[j] - mean[j + 1]
      // An empty cell (only possible far outside the support) keeps its centroid.
      out[j] = mass[j] > 0 ? partial[j] / mass[j] : c[j]
    }
    return Mapped(centroids: out, mass: mass, partialMean: partial, thresholds: t)
  }

  /// Solves (I − J)·δ = L(c) − c with J = ∂L/∂c tridiagonal (Thomas algorithm); nil if singular.
  ///
  /// With cell k = [t_{k−1}, t_k] and L_k = M_k/P_k: ∂L_k/∂t_k = f(t_k)(t_k − L_k)/P_k,
  /// ∂L_k/∂t_{k−1} = f(t_{k−1})(L_k − t_{k−1})/P_k, and each interior threshold moves by ½ with each of
  /// its two centroids (t_0 = 0 and t_K = end are fixed).
  private static func newtonStep(_ c: [Double], _ m: Mapped, _ law: LawEvaluator) -> [Double]? {
    let k = c.count
    var lower = [Double](repeating: 0, count: k)   // coefficient of δ_{j−1}
    var diagonal = [Double](repeating: 1, count: k)
    var upper = [Double](repeating: 0, count: k)   // coefficient of δ_{j+1}
    var rhs = [Double](repeating: 0, count: k)
    for j in 0..<k {
      guard m.mass[j] > 0 else { return nil }
      let l = m.centroids[j]
      if j > 0 {
        let a = law.density(m.thresholds[j]) * (l - m.thresholds[j]) / m.mass[j]
        lower[j] -= a / 2
        diagonal[j] -= a / 2
      }
      if j < k - 1 {
        let b = law.density(m.thresholds[j + 1]) * (m.thresholds[j + 1] - l) / m.mass[j]
        upper[j] -= b / 2
        diagonal[j] -= b / 2
      }
      rhs[j] = l - c[j]
    }
    // Forward elimination.
    for j in stride(from: 1, to: k, by: 1) {
      guard diagonal[j - 1] != 0 else { return nil }
      let factor = lower[j] / diagonal[j - 1]
      diagonal[j] -= factor * upper[j - 1]
      rhs[j] -= factor * rhs[j - 1]
    }
    var delta = [Double](repeating: 0, count: k)
    for j in stride(from: k - 1, through: 0, by: -1) {
      guard diagonal[j] != 0 else { return nil }
      delta[j] = (rhs[j] - (j < k - 1 ? upper[j] * delta[j + 1] : 0)) / diagonal[j]
      guard delta[j].isFinite else { return nil }
    }
    return delta
  }

  private static func isValid(_ c: [Double], end: Double) -> Bool {
    guard let first = c.first, first > 0, c.last! < end else { return false }
    for j in 1..<c.count where !(c[j] > c[j - 1]) { return false }
    return true
  }

  private static func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    var m = 0.0
    for j in 0..<a.count { m = max(m, abs(a[j] - b[j])) }
    return m
  }

  /// Φ⁻¹(p) for 0 < p < 1 by bisection on erfc (used only for the starting point).
  static func inverseStandardNormal(_ p: Double) -> Double {
    var lo = -40.0, hi = 40.0
    for _ in 0..<200 {
      let mid = (lo + hi) / 2
      let cdf = Double.erfc(-mid / 2.0.squareRoot()) / 2
      if cdf < p { lo = mid } else { hi = mid }
      if hi - lo < 1e-15 { break }
    }
    return (lo + hi) / 2
  }
}
