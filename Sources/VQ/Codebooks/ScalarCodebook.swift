/// A b-bit Lloyd–Max scalar codebook for a symmetric coordinate law, in standardized units (the law has
/// variance 1): `2^b` centroids and the `2^b − 1` decision thresholds between them (the midpoints).
///
/// - `ScalarCodebook.gaussian(bits:)`: Lloyd–Max for N(0,1) (EDEN/DRIVE; research/rotation.md §1 table:
///   D_b = 0.3633802, 0.1174818, 0.0345478, 0.0095010 for b = 1…4).
/// - `ScalarCodebook.sphereCoordinate(dimension:bits:)`: Lloyd–Max for the exact coordinate law of a
///   uniform unit vector in d coordinates, scaled by √d (TurboQuant's codebook; D_b(128) = 0.36089, …).
///
/// A vector `z` on the unit sphere of R^n is quantized coordinate-wise as `√n·z_i` against `thresholds`
/// and reconstructed as `centroids[code]/√n`. Codebooks are solved once per (law, b) in Double
/// (`LloydMax`: fixed-point residual 1e−13, or the integrals' rounding floor ≤ 1e−11 at 6–8 bits and
/// large d) and cached for the life of the process; repeated calls return the same values, from any
/// thread.
public struct ScalarCodebook: Sendable, Equatable {
  public let law: CoordinateLaw
  public let bits: Int
  /// The 2^b reproduction values, ascending, symmetric about 0.
  public let centroids: [Double]
  /// The 2^b − 1 decision thresholds, ascending: `thresholds[j] = (centroids[j] + centroids[j+1])/2`.
  /// A value `s` gets code `#{ j : thresholds[j] < s }` (the rule of `Kernels.quantizeThresholdsPack`).
  public let thresholds: [Double]
  /// `centroids` and `thresholds` rounded to Float, for the kernels.
  public let floatCentroids: [Float]
  public let floatThresholds: [Float]
  /// The MSE `E[(S − Q(S))²]` for `S` from the law; normalized, since the law has variance 1.
  public let distortion: Double
  /// Newton/Lloyd sweeps the solver used, and its final fixed-point residual max|c − L(c)|.
  public let iterations: Int
  public let residual: Double

  init(law: CoordinateLaw, bits: Int) {
    self.law = law
    self.bits = bits
    let positive: [Double]
    if case .sphereCoordinate(let d) = law, d == 1 {
      // d = 1: the coordinate is ±1, always. The outer centroids sit on ±1 and make the error 0; the
      // inner ones are never used and are spaced evenly so the table stays strictly ascending.
      let k = 1 << (bits - 1)
      positive = (1...k).map { Double($0) / Double(k) }
      distortion = 0; iterations = 0; residual = 0
    } else {
      let solution = LloydMax.solve(law, bits: bits)
      positive = solution.positiveCentroids
      distortion = solution.distortion
      iterations = solution.iterations
      residual = solution.residual
    }
    let all = positive.reversed().map { -$0 } + positive
    let middle = positive.count - 1
    // The middle threshold is exactly 0 (symmetry), not a rounding of c + (−c).
    let cuts = (0..<(all.count - 1)).map { j in j == middle ? 0 : (all[j] + all[j + 1]) / 2 }
    centroids = all
    thresholds = cuts
    floatCentroids = all.map { Float($0) }
    floatThresholds = cuts.map { Float($0) }
  }

  /// The cached Lloyd–Max codebook of N(0,1) at `bits` (1…8).
  public static func gaussian(bits: Int) throws -> ScalarCodebook {
    try cached(.gaussian, bits: bits)
  }

  /// The cached Lloyd–Max codebook of the standardized coordinate of a uniform unit vector in
  /// `dimension` coordinates, at `bits` (1…8).
  public static func sphereCoordinate(dimension: Int, bits: Int) throws -> ScalarCodebook {
    guard dimension >= 1 else { throw VQError.outOfRange("codebook dimension must be ≥ 1, got \(dimension)") }
    return try cached(.sphereCoordinate(dimension: dimension), bits: bits)
  }

  /// The cached codebook for `law` at `bits` (1…8).
  public static func cached(_ law: CoordinateLaw, bits: Int) throws -> ScalarCodebook {
    guard (1...8).contains(bits) else { throw VQError.outOfRange("codebook bits must be in 1...8, got \(bits)") }
    return cache.value(for: CodebookKey(law: law, bits: bits)) { ScalarCodebook(law: $0.law, bits: $0.bits) }
  }

  private static let cache = LockedCache<CodebookKey, ScalarCodebook>()

  /// The code of one standardized value (the threshold rule; for tests and references, not hot loops).
  public func code(of s: Double) -> Int {
    var q = 0
    for t in thresholds where t < s { q += 1 }
    return q
  }

  /// The mean squared error of this codebook against the law, recomputed from the law (no solver
  /// state): `Σ_cells ∫ (s − c)² f(s) ds`. A check of `distortion`, and the MSE of a codebook used on a
  /// law it was not designed for (e.g. the Gaussian table on the sphere at small d).
  public func meanSquaredError(under other: CoordinateLaw) -> Double {
    if case .sphereCoordinate(let d) = other, d == 1 {
      let c = Double(centroids[code(of: 1)])
      return (1 - c) * (1 - c)
    }
    let evaluator = LawEvaluator(other)
    let k = centroids.count / 2
    // Positive half only (both the law and the codebook are symmetric): cells [t_{j}, t_{j+1}].
    var total = 0.0
    var lowerTail = 0.5, lowerMean = evaluator.upperPartialMean(0), lowerEdge = 0.0
    for j in 0..<k {
      let edge = j == k - 1 ? other.supportEnd : thresholds[k + j]
      let upperTail = j == k - 1 ? 0 : evaluator.upperTail(edge)
      let upperMean = j == k - 1 ? 0 : evaluator.upperPartialMean(edge)
      let mass = lowerTail - upperTail
      let mean = lowerMean - upperMean
      // ∫ (s − c)² f over the cell, expanded: ∫ s² f − 2c·M + c²·P.
      let second = cellSecondMoment(evaluator, other, lowerEdge, edge, mass)
      let c = centroids[k + j]
      total += second - 2 * c * mean + c * c * mass
      lowerTail = upperTail; lowerMean = upperMean; lowerEdge = edge
    }
    return 2 * total
  }

  /// `∫_a^b s² f(s) ds` for 0 ≤ a < b: Gaussian `P + aφ(a) − bφ(b)`; sphere (t = s/√d)
  /// `d·∫ t² f_d = d·(ΔF_d − ((d−1)/d)·ΔF_{d+2})`, since `(1−t²) f_d = ((d−1)/d)·f_{d+2}`.
  private func cellSecondMoment(_ e: LawEvaluator, _ law: CoordinateLaw, _ a: Double, _ b: Double, _ mass: Double) -> Double {
    switch law {
    case .gaussian:
      let fa = e.density(a), fb = b.isFinite ? e.density(b) : 0
      return mass + a * fa - (b.isFinite ? b * fb : 0)
    case .sphereCoordinate(let d):
      let wider = LawEvaluator(.sphereCoordinate(dimension: d + 2))
      let dd = Double(d)
      // Tails of the d+2 law at the same t = s/√d, i.e. at s' = s·√((d+2)/d).
      let stretch = ((dd + 2) / dd).squareRoot()
      let tailA = wider.upperTail(a * stretch)
      let tailB = b >= law.supportEnd ? 0 : wider.upperTail(b * stretch)
      return dd * mass - (dd - 1) * (tailA - tailB)
    }
  }
}

struct CodebookKey: Hashable, Sendable {
  var law: CoordinateLaw
  var bits: Int
}
