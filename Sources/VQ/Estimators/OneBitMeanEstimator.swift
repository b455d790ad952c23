import RealModule

/// Sequential mean estimation from one bit per sample: adaptive threshold queries.
///
/// Paper: Ivan Lau and Jonathan Scarlett, "Order-Optimal Sequential 1-Bit Mean Estimation in General Tail
/// Regimes", arXiv 2604.07796 (2026). Only the abstract was reachable: this is **our reconstruction** with
/// the paper's two-stage structure (research note asq-ipaware.md §4.2), not the paper's algorithm box.
///
/// Model: samples X_t i.i.d. with mean μ ∈ [−λ, λ] and E|X − μ|^k ≤ σ^k (k > 1); the learner picks a
/// threshold τ_t (and a direction) and sees only the bit 1{X_t > τ_t} (direction +1) or 1{X_t < τ_t} (−1).
///
/// Algorithm in five lines:
/// 1. w = 4^(1/k)·σ (Markov: P(X > μ + w) ≤ 1/4); interval [−λ − w, λ + w].
/// 2. Stage 1 (noisy bisection): while the interval is longer than 4w, ask n₁ = ⌈8 ln(2J/δ)⌉ times
///    "X > mid?"; a yes-fraction below ½ sets hi = mid + w, else lo = mid − w (J rounds, fixed by λ, σ, k).
/// 3. Stage 2: m = centre, σₑ = σ + (hi − lo)/2, truncation R = σₑ(2σₑ/ε)^(1/(k−1)), c = σ,
///    Z = ln((R + c)/c); each sample draws S = ±1 and a log-uniform T = c·e^(U·Z) − c on [0, R], asks
///    "S(X − m) > T?" and scores Y = 2·S·bit·(T + c)·Z, an unbiased estimate of E[clip(X − m, −R, R)].
/// 4. The Y's go round-robin into G = ⌈8 ln(2/δ)⌉ groups (fewer when a group would hold < 64 scores);
///    μ̂ = m + median of the group means.
/// 5. Stage 2 gets `budget` − (stage-1 samples), or the Chebyshev size 16·V/ε² per group when no budget is set.
///
/// Guarantee (ours, from the construction): stage 1 keeps μ in [lo, hi] with probability ≥ 1 − δ/2
/// (Hoeffding on each majority vote, union over J rounds); the truncation bias is ≤ σₑ^k/R^(k−1) = ε/2;
/// with the default stage-2 size each group mean is within ε/2 of its expectation with probability ≥ 3/4
/// (Chebyshev with the per-sample second-moment bound V = Z·(M₂ + 2c·M₁), M₂ ≤ σₑ² for k ≥ 2, else
/// R^(2−k)σₑ^k; M₁ ≤ σₑ), and the median of G groups fails with probability ≤ e^(−G/8) ≤ δ/2. So
/// |μ̂ − μ| ≤ ε with probability ≥ 1 − δ. The sample count is O(log(λ/σ)·log(log(λ/σ)/δ)) for stage 1
/// plus O(V/ε² · log(1/δ)) for stage 2: flat in λ/σ, with the log(σ/ε) factor the paper proves necessary
/// for k = 2 coming from Z. The default sizes are conservative (Chebyshev); `budget` sets the total.
public struct OneBitMeanEstimator: Sendable {
  /// A threshold query: the learner asks whether the next sample lies above `tau` (`direction` = +1) or
  /// below it (`direction` = −1).
  public struct Query: Sendable, Equatable {
    public var tau: Double
    public var direction: Int

    public init(tau: Double, direction: Int) {
      self.tau = tau
      self.direction = direction
    }
  }

  public let lambda: Double
  public let sigma: Double
  public let k: Double
  public let epsilon: Double
  public let delta: Double
  /// The Markov half-width w = 4^(1/k)·σ.
  public let halfWidth: Double
  /// Samples per stage-1 majority vote (n₁).
  public let samplesPerRound: Int
  /// Stage-1 rounds (fixed by λ, σ, k: each round maps the interval length L to L/2 + w).
  public let localisationRounds: Int
  /// Median-of-means groups in stage 2: G = min(⌈8 ln(2/δ)⌉, ⌊n₂/64⌋), at least 1.
  public let groups: Int
  /// Scores per group at least (when the budget allows more than one group): the scores are 0 for every
  /// "no" bit, so the median of tiny groups is pulled toward 0 (i.e. toward the stage-1 centre).
  public static let minimumGroupSize = 64
  /// Stage-2 samples (the budget minus stage 1, or the default Chebyshev size).
  public let refinementSamples: Int

  /// Stage-1 samples: rounds × samples per round.
  public var localisationSamples: Int { localisationRounds * samplesPerRound }
  /// Total samples this estimator will ask for.
  public var plannedSamples: Int { localisationSamples + refinementSamples }
  /// Samples observed so far.
  public private(set) var samplesUsed = 0
  /// True once every planned sample has been observed.
  public var isComplete: Bool { samplesUsed >= plannedSamples }

  // Stage 1 state.
  private var lo: Double
  private var hi: Double
  private var roundYes = 0
  private var roundCount = 0
  private var roundsDone = 0
  // Stage 2 state (set when stage 1 ends).
  private var centre = 0.0
  private var truncation = 0.0
  private var offset = 0.0  // c
  private var logRange = 0.0  // Z
  private var groupSums: [Double]
  private var groupCounts: [Int]
  private var refinementDone = 0
  // The query waiting for its bit: stage 2 remembers its sign and log-uniform distance.
  private var pending: (sign: Double, distance: Double)?
  private var generator: SeededGenerator

  /// - Parameters:
  ///   - lambda: bound on |μ| (> 0).
  ///   - sigma: bound on the k-th central absolute moment, (E|X − μ|^k)^(1/k) ≤ σ (> 0).
  ///   - k: moment order (> 1).
  ///   - epsilon: target accuracy (> 0).
  ///   - delta: failure probability, in (0, 1).
  ///   - budget: total samples; `nil` uses the conservative default stage-2 size of the guarantee.
  ///   - seed: seeds the randomised thresholds.
  public init(
    lambda: Double, sigma: Double, k: Double, epsilon: Double, delta: Double, budget: Int? = nil, seed: UInt64 = 0
  ) throws {
    try OneBitMeanParameters.validate(lambda: lambda, sigma: sigma, k: k, epsilon: epsilon, delta: delta, who: "OneBitMeanEstimator")
    self.lambda = lambda
    self.sigma = sigma
    self.k = k
    self.epsilon = epsilon
    self.delta = delta
    let w = Double.pow(4, 1 / k) * sigma
    halfWidth = w
    var length = 2 * (lambda + w), rounds = 0
    while length > 4 * w {
      length = length / 2 + w
      rounds += 1
    }
    localisationRounds = rounds
    samplesPerRound = rounds == 0 ? 0 : Int((8 * Double.log(2 * Double(rounds) / delta)).rounded(.up))
    let maxGroups = max(1, Int((8 * Double.log(2 / delta)).rounded(.up)))
    let stage1 = rounds * samplesPerRound
    let stage2: Int
    if let budget {
      guard budget > stage1 else {
        throw VQError.outOfRange(
          "OneBitMeanEstimator: budget \(budget) must exceed the \(stage1) stage-1 samples (\(rounds) localisation rounds × \(samplesPerRound))")
      }
      stage2 = budget - stage1
    } else {
      // Worst case after stage 1: the interval is 4w long or shorter (length after `rounds` halvings).
      let (r, c, z, se) = Self.refinementShape(sigma: sigma, k: k, epsilon: epsilon, intervalLength: length)
      let m1 = se
      let m2 = k >= 2 ? se * se : Double.pow(r, 2 - k) * Double.pow(se, k)
      let v = z * (m2 + 2 * c * m1)
      let perGroup = max(Double(Self.minimumGroupSize), (16 * v / (epsilon * epsilon)).rounded(.up))
      guard perGroup * Double(maxGroups) < 1e15 else {
        throw VQError.outOfRange("OneBitMeanEstimator: the default stage-2 size \(perGroup) × \(maxGroups) is too large; pass a budget")
      }
      stage2 = Int(perGroup) * maxGroups
    }
    refinementSamples = stage2
    groups = min(maxGroups, max(1, stage2 / Self.minimumGroupSize))
    lo = -lambda - w
    hi = lambda + w
    groupSums = [Double](repeating: 0, count: groups)
    groupCounts = [Int](repeating: 0, count: groups)
    generator = SeededGenerator(seed: seed, stream: 0x1B17_3EA7)
    if rounds == 0 { startRefinement() }
  }

  /// Stage-2 shape for an interval of the given length: truncation R, offset c, Z = ln((R + c)/c), σₑ.
  static func refinementShape(sigma: Double, k: Double, epsilon: Double, intervalLength: Double)
    -> (truncation: Double, offset: Double, logRange: Double, sigmaEffective: Double)
  {
    let se = sigma + intervalLength / 2
    let r = se * Double.pow(2 * se / epsilon, 1 / (k - 1))
    let c = sigma
    return (r, c, Double.log((r + c) / c), se)
  }

  private mutating func startRefinement() {
    centre = (lo + hi) / 2
    let shape = Self.refinementShape(sigma: sigma, k: k, epsilon: epsilon, intervalLength: hi - lo)
    truncation = shape.truncation
    offset = shape.offset
    logRange = shape.logRange
  }

  /// True while the estimator is in stage 1 (localisation).
  public var isLocalising: Bool { roundsDone < localisationRounds }

  /// The stage-1 interval [lo, hi] (after stage 1: the interval stage 2 refines).
  public var interval: (lo: Double, hi: Double) { (lo, hi) }

  /// The next query. Calling it again before `observe(bit:)` returns the same query.
  public mutating func nextThreshold() -> Query {
    if isLocalising { return Query(tau: (lo + hi) / 2, direction: 1) }
    if let p = pending { return Query(tau: centre + p.sign * p.distance, direction: p.sign > 0 ? 1 : -1) }
    let sign: Double = generator.next() & 1 == 0 ? 1 : -1
    let u = generator.nextUniform()
    // Log-uniform on [0, R]: density 1/((t + c)Z).
    let distance = offset * Double.exp(u * logRange) - offset
    pending = (sign, distance)
    return Query(tau: centre + sign * distance, direction: sign > 0 ? 1 : -1)
  }

  /// Records the answer to the current query (`bit` = the sample is above τ for direction +1, below τ
  /// for direction −1). Throws when every planned sample has been observed.
  public mutating func observe(bit: Bool) throws {
    guard !isComplete else {
      throw VQError.invalidArgument("OneBitMeanEstimator.observe: all \(plannedSamples) planned samples have been observed")
    }
    samplesUsed += 1
    if isLocalising {
      if bit { roundYes += 1 }
      roundCount += 1
      if roundCount == samplesPerRound {
        let mid = (lo + hi) / 2
        if 2 * roundYes < samplesPerRound { hi = mid + halfWidth } else { lo = mid - halfWidth }
        roundYes = 0
        roundCount = 0
        roundsDone += 1
        if !isLocalising { startRefinement() }
      }
      return
    }
    if pending == nil { _ = nextThreshold() }  // a bit without a prior query answers the query it would have got
    let p = pending!
    pending = nil
    let score = bit ? 2 * p.sign * (p.distance + offset) * logRange : 0
    let g = refinementDone % groups
    groupSums[g] += score
    groupCounts[g] += 1
    refinementDone += 1
  }

  /// The current estimate: the stage-1 midpoint until stage 2 has a sample, then m + the median of the
  /// group means of the importance-sampled scores.
  public var estimate: Double {
    guard refinementDone > 0 else { return (lo + hi) / 2 }
    var means: [Double] = []
    means.reserveCapacity(groups)
    for g in 0..<groups where groupCounts[g] > 0 { means.append(groupSums[g] / Double(groupCounts[g])) }
    return centre + OneBitMeanParameters.median(&means)
  }

  /// One stage-2 score for a given sample value (for tests of unbiasedness): draws S and T from
  /// `generator` exactly as `nextThreshold` does, for a stage-2 centre m, truncation R and offset c.
  public static func refinementScore(
    sample x: Double, centre m: Double, truncation r: Double, offset c: Double, using generator: inout SeededGenerator
  ) -> Double {
    let z = Double.log((r + c) / c)
    let sign: Double = generator.next() & 1 == 0 ? 1 : -1
    let t = c * Double.exp(generator.nextUniform() * z) - c
    return sign * (x - m) > t ? 2 * sign * (t + c) * z : 0
  }
}

/// The non-adaptive baseline: thresholds fixed before any bit is seen.
///
/// Round-robin over G = ⌈2L/Δ⌉ cells of width Δ = σ/2 covering [−L, L], L = λ + R with the stage-2
/// truncation R of the adaptive estimator at σₑ = σ; sample i asks "X > θ?" with θ uniform in cell
/// i mod G (a dithered grid: our choice, it makes the estimate exactly unbiased for E[clip(X, −L, L)]),
/// and μ̂ = −L + Σ_g Δ·(yes-fraction of cell g). Its variance is ≈ Δ·2L·(const)/n, so the samples
/// needed grow linearly in λ/σ — the adaptivity gap of Lau & Scarlett. The default size is the
/// Hoeffding bound n = G·⌈2GΔ² ln(2/δ)/ε²⌉ (quadratic in λ/σ, conservative); `budget` sets it.
public struct NonAdaptiveOneBitMeanEstimator: Sendable {
  public let lambda: Double
  public let sigma: Double
  public let k: Double
  public let epsilon: Double
  public let delta: Double
  /// Half-range L of the threshold grid.
  public let range: Double
  /// Cell width Δ.
  public let cellWidth: Double
  /// Number of cells G (thresholds per round-robin pass).
  public let cells: Int
  public let plannedSamples: Int
  public private(set) var samplesUsed = 0
  public var isComplete: Bool { samplesUsed >= plannedSamples }

  private var yes: [Int]
  private var asked: [Int]
  private var pendingTau: Double?
  private var cursor = 0  // the cell of the next query (samplesUsed mod cells, kept without a division)
  private var generator: SeededGenerator

  public init(
    lambda: Double, sigma: Double, k: Double, epsilon: Double, delta: Double, budget: Int? = nil, seed: UInt64 = 0
  ) throws {
    try OneBitMeanParameters.validate(
      lambda: lambda, sigma: sigma, k: k, epsilon: epsilon, delta: delta, who: "NonAdaptiveOneBitMeanEstimator")
    self.lambda = lambda
    self.sigma = sigma
    self.k = k
    self.epsilon = epsilon
    self.delta = delta
    let r = OneBitMeanEstimator.refinementShape(sigma: sigma, k: k, epsilon: epsilon, intervalLength: 0).truncation
    let l = lambda + r
    let g = (2 * l / (sigma / 2)).rounded(.up)
    guard g < 1e8 else {
      throw VQError.outOfRange("NonAdaptiveOneBitMeanEstimator: \(g) threshold cells (λ/σ too large for a grid of spacing σ/2)")
    }
    cells = Int(g)
    cellWidth = 2 * l / g
    range = l
    if let budget {
      guard budget >= cells else {
        throw VQError.outOfRange("NonAdaptiveOneBitMeanEstimator: budget \(budget) is below one sample per threshold cell (\(cells) cells)")
      }
      plannedSamples = budget
    } else {
      let perCell = (2 * g * cellWidth * cellWidth * Double.log(2 / delta) / (epsilon * epsilon)).rounded(.up)
      guard perCell * g < 1e15 else {
        throw VQError.outOfRange("NonAdaptiveOneBitMeanEstimator: the default size \(perCell) × \(cells) is too large; pass a budget")
      }
      plannedSamples = Int(perCell) * cells
    }
    yes = [Int](repeating: 0, count: cells)
    asked = [Int](repeating: 0, count: cells)
    generator = SeededGenerator(seed: seed, stream: 0x0A0A_DA97)
  }

  /// The next query (always direction +1). Calling it again before `observe(bit:)` returns the same one.
  public mutating func nextThreshold() -> OneBitMeanEstimator.Query {
    if let t = pendingTau { return OneBitMeanEstimator.Query(tau: t, direction: 1) }
    let t = -range + (Double(cursor) + generator.nextUniform()) * cellWidth
    pendingTau = t
    return OneBitMeanEstimator.Query(tau: t, direction: 1)
  }

  public mutating func observe(bit: Bool) throws {
    guard !isComplete else {
      throw VQError.invalidArgument("NonAdaptiveOneBitMeanEstimator.observe: all \(plannedSamples) planned samples have been observed")
    }
    if pendingTau == nil { _ = nextThreshold() }
    pendingTau = nil
    asked[cursor] += 1
    if bit { yes[cursor] += 1 }
    cursor += 1
    if cursor == cells { cursor = 0 }
    samplesUsed += 1
  }

  /// −L + Σ_g Δ·(yes-fraction of cell g); cells not asked yet count as ½.
  public var estimate: Double {
    var total = 0.0
    for g in 0..<cells { total += asked[g] == 0 ? 0.5 : Double(yes[g]) / Double(asked[g]) }
    return -range + cellWidth * total
  }
}

enum OneBitMeanParameters {
  static func validate(lambda: Double, sigma: Double, k: Double, epsilon: Double, delta: Double, who: String) throws {
    guard lambda.isFinite, lambda > 0 else { throw VQError.outOfRange("\(who): lambda must be finite and > 0, got \(lambda)") }
    guard sigma.isFinite, sigma > 0 else { throw VQError.outOfRange("\(who): sigma must be finite and > 0, got \(sigma)") }
    guard k.isFinite, k > 1 else { throw VQError.outOfRange("\(who): moment order k must be finite and > 1, got \(k)") }
    guard epsilon.isFinite, epsilon > 0 else { throw VQError.outOfRange("\(who): epsilon must be finite and > 0, got \(epsilon)") }
    guard delta > 0, delta < 1 else { throw VQError.outOfRange("\(who): delta must lie in (0, 1), got \(delta)") }
  }

  /// The median (mean of the two middle values for an even count); reorders `values`.
  static func median(_ values: inout [Double]) -> Double {
    values.sort()
    let n = values.count
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2
  }
}
