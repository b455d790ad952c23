/// AMQ-style exponential levels: the one-parameter baseline q_j = ±M·p^j (M = max |x|), the ratio p
/// chosen to minimize the ASQ objective Σ_i (x_i − a_i)(b_i − x_i) of unbiased stochastic rounding.
///
/// Paper: F. Faghri, I. Tabrizian, I. Markov, D. Alistarh, D. Roy, A. Ramezani-Kebrya, "Adaptive Gradient
/// Quantization for Data-Parallel SGD" (AMQ, NeurIPS 2020, arXiv:2010.12460); research/asq-ipaware.md §2.7.
///
/// Algorithm (s ≥ 2 levels, p ∈ (0, 1)):
/// 1. signed data (min < 0 < max): s odd → 0 and ±M·p^j for j < (s−1)/2; s even → ±M·p^j for j < s/2;
///    one-signed data: 0 and M·p^j for j < s − 1 on the side of the data (−M·p^j if max ≤ 0);
/// 2. the objective of p in O(d + s) on the sorted vector (one pass with a level pointer);
/// 3. p on the grid 0.02, 0.04, …, 0.98, then 40 golden-section steps on the grid neighbours of the best;
/// 4. return the best levels seen and their p.
///
/// Guarantee: a baseline, not an optimum: its objective is ≥ the exact ASQ optimum (levels beyond
/// [min, max] only cost, and ASQ optimizes over all s-level sets) and ≤ the objective at every p it
/// evaluated (the best of a grid and a local refinement; the objective need not be unimodal in p).
extension ASQ {
  /// Exponential levels and their ratio.
  public struct ExponentialSolution: Sendable, Equatable {
    /// s levels (fewer only when M = 0), ascending, covering [min x, max x].
    public var levels: [Double]
    /// The ratio p between consecutive magnitudes.
    public var ratio: Double
    /// Σ_i (x_i − a_i)(b_i − x_i) on the input.
    public var objective: Double
  }

  /// AMQ-style exponential levels for a vector (sorts a copy).
  public static func exponentialLevels(_ x: [Float], levels s: Int) throws -> ExponentialSolution {
    _ = try x.withUnsafeBufferPointer { try checkedRange($0, levels: s) }
    let sorted = sortedCopy(x)
    let lowest = sorted[0], highest = sorted[sorted.count - 1]
    let magnitude = Swift.max(-lowest, highest)
    guard magnitude > 0 else { return ExponentialSolution(levels: [0, 0], ratio: 0.5, objective: 0) }
    var best = ExponentialSolution(levels: [], ratio: 0, objective: .infinity)
    sorted.withUnsafeBufferPointer { xs in
      func evaluate(_ p: Double) -> Double {
        let levels = exponentialLevelSet(ratio: p, levels: s, magnitude: magnitude, lowest: lowest, highest: highest)
        let objective = sortedSumOfVariances(xs, levels: levels)
        if objective < best.objective { best = ExponentialSolution(levels: levels, ratio: p, objective: objective) }
        return objective
      }
      let grid = (1...49).map { Double($0) * 0.02 }
      var bestIndex = 0, bestValue = Double.infinity
      for (i, p) in grid.enumerated() {
        let v = evaluate(p)
        if v < bestValue { bestValue = v; bestIndex = i }
      }
      var lo = bestIndex > 0 ? grid[bestIndex - 1] : 0.001
      var hi = bestIndex + 1 < grid.count ? grid[bestIndex + 1] : 0.999
      let golden = (5.0.squareRoot() - 1) / 2
      var c = hi - golden * (hi - lo), d = lo + golden * (hi - lo)
      var fc = evaluate(c), fd = evaluate(d)
      for _ in 0..<40 {
        if fc <= fd {
          hi = d; d = c; fd = fc
          c = hi - golden * (hi - lo); fc = evaluate(c)
        } else {
          lo = c; c = d; fc = fd
          d = lo + golden * (hi - lo); fd = evaluate(d)
        }
      }
    }
    return best
  }

  /// The level set of step 1 for ratio `p`, ascending.
  static func exponentialLevelSet(ratio p: Double, levels s: Int, magnitude m: Double, lowest: Double, highest: Double) -> [Double] {
    var magnitudes = [Double]()
    var power = m
    if lowest >= 0 || highest <= 0 {
      for _ in 0..<(s - 1) { magnitudes.append(power); power *= p }
      let side = lowest >= 0 ? 1.0 : -1.0
      return ([0] + magnitudes.map { side * $0 }).sorted()
    }
    for _ in 0..<(s / 2) { magnitudes.append(power); power *= p }
    let signed = magnitudes.map { -$0 } + (s % 2 == 1 ? [0] : []) + magnitudes
    return signed.sorted()
  }

  /// Σ (x − a)(b − x) for sorted x inside sorted `levels` (one pass; x below the first level cannot occur
  /// here since the levels reach ±max |x| or 0 on the data's side).
  static func sortedSumOfVariances(_ x: UnsafeBufferPointer<Double>, levels: [Double]) -> Double {
    var total = 0.0
    var upper = 1
    for v in x {
      while upper + 1 < levels.count && v > levels[upper] { upper += 1 }
      total += (v - levels[upper - 1]) * (levels[upper] - v)
    }
    return total
  }
}
