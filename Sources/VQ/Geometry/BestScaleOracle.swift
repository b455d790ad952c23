import RealModule

/// The best-scale oracle: the exact nearest direction to u in a product code (every coordinate from one
/// symmetric scalar alphabet, any positive scale, nothing stored for the scale). research/geometry.md §1.2.
///
/// Source: B. Zadeh, G. A. Constantinides, "Direction-Preserving Number Representations"
/// (arXiv:2605.07662), whose experiments measure product formats by this oracle.
///
/// Lemma (§1.2): the codeword a maximising ⟨u,a⟩/‖a‖ is the coordinate-wise rounding of λ·u for some λ > 0.
/// Algorithm, O(d·m·log(d·m)) for m positive levels 0 < l₁ < … < l_m (0 is in the alphabet):
/// 1. w = |u|; coordinate i moves from level j−1 to j (l₀ = 0) at the scale λ_ij = μ_j/w_i,
///    μ_j = (l_{j−1} + l_j)/2;
/// 2. walk the λ_ij in increasing order keeping dot = Σ w_i·q_i and norm² = Σ q_i²: the event (i, j) adds
///    w_i·(l_j − l_{j−1}) to dot and l_j² − l_{j−1}² to norm²; the answer is the largest dot/√norm²;
/// 3. signs follow u.
/// Guarantee: exact (every rounding of λu for some λ is visited, and each visited state is a codeword), up
/// to Double rounding; the tests compare with brute force over all 15^d codewords for d ≤ 4.
public enum BestScaleOracle {
  /// The positive levels of the alphabets of geometry.md §1.4.
  public static func integerLevels(bits: Int) -> [Double] { (1...((1 << (bits - 1)) - 1)).map(Double.init) }
  /// FP4 E2M1: 0.5, 1, 1.5, 2, 3, 4, 6.
  public static let e2m1Levels: [Double] = [0.5, 1, 1.5, 2, 3, 4, 6]

  /// The largest cos(u, a) over codewords a ≠ 0 of the product code with positive `levels` (sorted,
  /// increasing; the alphabet is {0, ±levels}). 0 for u = 0.
  public static func bestCosine(_ u: UnsafeBufferPointer<Float>, levels: [Double]) -> Double {
    precondition(!levels.isEmpty && levels.first! > 0 && zip(levels, levels.dropFirst()).allSatisfy { $0 < $1 },
                 "levels must be positive and increasing")
    let d = u.count, m = levels.count
    var norm = 0.0
    for v in u { norm += Double(v) * Double(v) }
    guard norm > 0 else { return 0 }
    // Events (scale, coordinate, level), sorted by scale; a zero coordinate never moves.
    var events: [(scale: Double, coordinate: Int32, level: Int32)] = []
    events.reserveCapacity(d * m)
    for i in 0..<d {
      let w = Swift.abs(Double(u[i]))
      guard w > 0 else { continue }
      var previous = 0.0
      for j in 0..<m {
        events.append(((previous + levels[j]) / 2 / w, Int32(i), Int32(j)))
        previous = levels[j]
      }
    }
    events.sort { $0.scale < $1.scale || ($0.scale == $1.scale && ($0.coordinate, $0.level) < ($1.coordinate, $1.level)) }
    var dot = 0.0, squares = 0.0, best = 0.0
    for e in events {
      let w = Swift.abs(Double(u[Int(e.coordinate)]))
      let j = Int(e.level), low = j == 0 ? 0 : levels[j - 1], high = levels[j]
      dot += w * (high - low)
      squares += high * high - low * low
      best = Swift.max(best, dot / squares.squareRoot())
    }
    return Swift.min(1, best / norm.squareRoot())
  }

  public static func bestCosine(_ u: [Float], levels: [Double]) -> Double {
    u.withUnsafeBufferPointer { bestCosine($0, levels: levels) }
  }

  /// Loss and angle statistics of the oracle on the rows of `x` (`DirectionMeasures.summarize`).
  public static func measure(_ x: VectorBatch, levels: [Double]) -> DirectionMeasures.Statistics {
    DirectionMeasures.summarize((0..<x.count).map { r in x.withRow(r) { bestCosine($0, levels: levels) } })
  }
}
