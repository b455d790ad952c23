/// Approximate ASQ without sorting: the exact DP on an M-point histogram of the vector, optionally
/// polished by coordinate descent on a 16× finer histogram.
///
/// Paper: approximate QUIVER (Ben Basat et al., NeurIPS 2024, arXiv:2402.03158, §"Approximate QUIVER");
/// the sort-free end-to-end path and the polish are research/asq-ipaware.md §2.5, §2.7 and §3.4.
///
/// Algorithm (x ∈ R^d, s levels, M grid points g_i = min + i·Δ, Δ = (max − min)/(M − 1)):
/// 1. one pass for min and max (and finiteness); no sort;
/// 2. one binning pass: bin i ≥ 1 holds g_{i−1} < x ≤ g_i, bin 0 holds min; per bin Σw, Σw·y, Σw·y²
///    (y = x − midrange), so that C(k, j) over bins is exact for levels at grid points;
/// 3. drop empty bins, prefix-sum, run the layered DP of exact ASQ over the surviving grid points;
/// 4. polish (optional): the pass bins at 16× resolution, coarse bins are unions of fine ones; each
///    sweep moves every inner level to the best fine grid point between its neighbours (the cost of
///    one level with its neighbours fixed is convex: binary search on its forward difference);
/// 5. levels = the chosen grid points (the last one is max exactly).
///
/// Guarantee: the optimum over level sets on the grid, so SV ≤ OPT + d·(Δ/2)·(largest gap) + d·Δ²/4
/// (asq-ipaware.md §2.5); measured within 0.1–1.6 % of OPT at M = 1000 and within 0.01 % after
/// polishing (§2.6–2.7). Time O(d + s·M log M (+ sweeps·s·log(16M))), memory O(16·M + s·M).
extension ASQ {
  /// The fine-to-coarse resolution ratio of the polish histogram.
  public static let polishRefinement = 16

  /// Approximate optimal levels of an unsorted vector on a grid of `gridPoints` values.
  public static func approximateLevels(
    _ x: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Double>? = nil, levels s: Int, gridPoints m: Int,
    polishSweeps: Int = 0
  ) throws -> Solution {
    guard m >= 2 else { throw VQError.outOfRange("ASQ grid points must be at least 2, got \(m)") }
    guard m <= 1 << 24 else { throw VQError.outOfRange("ASQ grid points must be at most \(1 << 24), got \(m)") }
    guard polishSweeps >= 0 else { throw VQError.outOfRange("ASQ polish sweeps must be non-negative, got \(polishSweeps)") }
    guard !x.isEmpty else { throw VQError.invalidArgument("ASQ input is empty") }
    try ASQLayeredSolver.checkSize(points: m, levels: s)
    if let weights {
      guard weights.count == x.count else {
        throw VQError.dimensionMismatch(expected: x.count, got: weights.count, what: "ASQ weights")
      }
      for i in 0..<weights.count where !(weights[i] >= 0 && weights[i].isFinite) {
        throw VQError.invalidArgument("ASQ weight \(i) is \(weights[i]); weights must be finite and non-negative")
      }
    }
    let (lowest, highest) = try finiteRange(x)
    let lo = Double(lowest), hi = Double(highest)
    guard lo < hi else {
      return Solution(levels: [Double](repeating: lo, count: s), ranks: [], objective: 0)
    }
    let refinement = polishSweeps > 0 ? polishRefinement : 1
    let fineCount = (m - 1) * refinement + 1
    let centre = (lo + hi) / 2
    let fine = binnedSums(x, weights: weights, low: lo, high: hi, bins: fineCount, centre: centre)

    // Coarse bin I ≥ 1 is the union of fine bins (I−1)·r+1 … I·r; bin 0 is fine bin 0.
    var coarse = fine
    if refinement > 1 {
      coarse = [Double](repeating: 0, count: 3 * m)
      for f in 0..<fineCount {
        let c = (f + refinement - 1) / refinement
        coarse[3 * c] += fine[3 * f]; coarse[3 * c + 1] += fine[3 * f + 1]; coarse[3 * c + 2] += fine[3 * f + 2]
      }
    }
    let step = (hi - lo) / Double(m - 1)
    let coarseGrid = compactGrid(coarse, count: m, value: { i in i == m - 1 ? hi : lo + Double(i) * step }, centre: centre)
    let (coarseObjective, coarseRanks) = ASQLayeredSolver.solve(coarseGrid.terms, levels: s)
    var levels = coarseRanks.map { coarseGrid.values[$0] }
    guard refinement > 1 else { return Solution(levels: levels, ranks: [], objective: coarseObjective) }

    let fineStep = (hi - lo) / Double(fineCount - 1)
    let fineGrid = compactGrid(
      fine, count: fineCount, value: { i in i == fineCount - 1 ? hi : lo + Double(i) * fineStep }, centre: centre)
    // Coarse grid point I is fine grid point I·r (bin I·r is the last of the union, non-empty when I is kept
    // unless its fine points sit below; then the nearest kept fine point at or below is used).
    var ranks = coarseRanks.map { rank -> Int in
      let fineIndex = coarseGrid.gridIndex[rank] * refinement
      return fineGrid.compactIndex(atOrBelow: fineIndex)
    }
    ranks[0] = 0
    ranks[s - 1] = fineGrid.values.count - 1
    ASQCoordinateDescent.polish(fineGrid.terms, ranks: &ranks, sweeps: polishSweeps)
    levels = ranks.map { fineGrid.values[$0] }
    var objective = 0.0
    for i in 1..<ranks.count { objective += fineGrid.terms.cost(ranks[i - 1], ranks[i]) }
    return Solution(levels: levels, ranks: [], objective: objective)
  }

  public static func approximateLevels(
    _ x: [Float], weights: [Double]? = nil, levels s: Int, gridPoints m: Int, polishSweeps: Int = 0
  ) throws -> Solution {
    try x.withUnsafeBufferPointer { xb in
      if let weights {
        return try weights.withUnsafeBufferPointer {
          try approximateLevels(xb, weights: $0, levels: s, gridPoints: m, polishSweeps: polishSweeps)
        }
      }
      return try approximateLevels(xb, levels: s, gridPoints: m, polishSweeps: polishSweeps)
    }
  }

  /// Min and max; throws `nonFinite` at the first NaN or ±Inf.
  static func finiteRange(_ x: UnsafeBufferPointer<Float>) throws -> (Float, Float) {
    var lo = x[0], hi = x[0]
    var allFinite = true
    // Branch-free min/max that vectorizes; NaN/Inf are located afterwards only if the sums say so.
    var probe: Float = 0
    for i in 0..<x.count {
      let v = x[i]
      lo = v < lo ? v : lo
      hi = v > hi ? v : hi
      probe = probe + (v - v)
    }
    if !probe.isFinite || !lo.isFinite || !hi.isFinite { allFinite = false }
    if !allFinite {
      for i in 0..<x.count where !x[i].isFinite {
        throw VQError.nonFinite(source: "ASQ input", row: 0, column: i, value: x[i])
      }
    }
    return (lo, hi)
  }

  /// Per-bin Σw, Σw·y, Σw·y² (y = x − centre) over `bins` grid cells, interleaved.
  static func binnedSums(
    _ x: UnsafeBufferPointer<Float>, weights: UnsafeBufferPointer<Double>?, low: Double, high: Double, bins: Int,
    centre: Double
  ) -> [Double] {
    var sums = [Double](repeating: 0, count: 3 * bins)
    let inverseStep = Double(bins - 1) / (high - low)
    let last = bins - 1
    sums.withUnsafeMutableBufferPointer { out in
      let o = out.baseAddress!
      if let weights {
        for i in 0..<x.count {
          let v = Double(x[i])
          let index = Swift.min(Int(((v - low) * inverseStep).rounded(.up)), last)
          let y = v - centre, w = weights[i]
          o[3 * index] += w; o[3 * index + 1] += w * y; o[3 * index + 2] += w * y * y
        }
      } else {
        for i in 0..<x.count {
          let v = Double(x[i])
          let index = Swift.min(Int(((v - low) * inverseStep).rounded(.up)), last)
          let y = v - centre
          o[3 * index] += 1; o[3 * index + 1] += y; o[3 * index + 2] += y * y
        }
      }
    }
    return sums
  }

  /// The non-empty grid points (the first and last always kept) with their cost terms.
  struct CompactGrid {
    var values: [Double]
    var gridIndex: [Int]
    var terms: ASQCostTerms

    /// The compact index of the kept grid point with the largest grid index ≤ `index`.
    func compactIndex(atOrBelow index: Int) -> Int {
      var lo = 0, hi = gridIndex.count - 1
      while lo < hi {
        let mid = (lo + hi + 1) >> 1
        if gridIndex[mid] <= index { lo = mid } else { hi = mid - 1 }
      }
      return lo
    }
  }

  static func compactGrid(_ sums: [Double], count: Int, value: (Int) -> Double, centre: Double) -> CompactGrid {
    var values: [Double] = [], gridIndex: [Int] = [], points: [Double] = [], prefix: [Double] = []
    var p0 = 0.0, p1 = 0.0, p2 = 0.0
    for i in 0..<count where sums[3 * i] > 0 || i == 0 || i == count - 1 {
      p0 += sums[3 * i]; p1 += sums[3 * i + 1]; p2 += sums[3 * i + 2]
      let g = value(i)
      values.append(g)
      gridIndex.append(i)
      points.append(g - centre)
      prefix.append(p0); prefix.append(p1); prefix.append(p2)
    }
    return CompactGrid(values: values, gridIndex: gridIndex,
                       terms: ASQCostTerms(centredPoints: points, centre: centre, prefixSums: prefix))
  }
}
