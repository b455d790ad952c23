import RealModule

/// The law of one coordinate that a scalar codebook is optimized for, in standardized units (variance 1).
///
/// - `gaussian`: N(0,1), the large-d limit of every rotated coordinate (EDEN, DRIVE).
/// - `sphereCoordinate(d)`: `√d·z₁` for `z` uniform on the unit sphere S^{d−1} (TurboQuant's exact-d law,
///   research/rotation.md §1): density `f_d(t) = C_d·(1−t²)^{(d−3)/2}` on [−1, 1] for `t = s/√d`, with
///   `C_d = Γ(d/2)/(√π·Γ((d−1)/2))`; `(t+1)/2 ~ Beta((d−1)/2, (d−1)/2)`.
///
/// Both are symmetric with second moment 1, so a codebook only needs the positive half. Everything the
/// Lloyd–Max solver uses has an exact form:
/// - upper tail `P(S > s)`: `erfc(s/√2)/2`; for the sphere the regularized incomplete beta
///   `I_{(1−t)/2}(α, α)`, α = (d−1)/2, by its continued fraction, whose prefactor collapses to `h(t)` below;
/// - upper partial mean `∫_s^∞ u·f(u) du`: `φ(s)`; for the sphere `√d·h(t)` with
///   `h(t) = C_d·(1−t²)^{(d−1)/2}/(d−1)` (because `d/dt (1−t²)^{(d−1)/2} = −(d−1)·t·(1−t²)^{(d−3)/2}`).
public enum CoordinateLaw: Hashable, Sendable, CustomStringConvertible {
  case gaussian
  /// The standardized coordinate of a uniform unit vector in `dimension` ≥ 1 coordinates.
  case sphereCoordinate(dimension: Int)

  public var description: String {
    switch self {
    case .gaussian: return "N(0,1)"
    case .sphereCoordinate(let d): return "sphere coordinate, d=\(d)"
    }
  }

  /// The largest value the law takes (`+∞` for the Gaussian, `√d` for the sphere).
  public var supportEnd: Double {
    switch self {
    case .gaussian: return .infinity
    case .sphereCoordinate(let d): return Double(d).squareRoot()
    }
  }
}

/// Exact evaluation of one law's positive half (s ≥ 0), in Double.
struct LawEvaluator {
  let law: CoordinateLaw
  /// Sphere: d, α = (d−1)/2, √d, C_d/(d−1) and C_d (the normalizing constant).
  private let d: Double
  private let alpha: Double
  private let sqrtD: Double
  private let normalizer: Double
  private let partialMeanFactor: Double

  init(_ law: CoordinateLaw) {
    self.law = law
    switch law {
    case .gaussian:
      d = .infinity; alpha = .infinity; sqrtD = .infinity; normalizer = 0; partialMeanFactor = 0
    case .sphereCoordinate(let dimension):
      precondition(dimension >= 2, "the sphere-coordinate law needs d ≥ 2 (d = 1 is the two-point law ±1)")
      d = Double(dimension)
      alpha = (d - 1) / 2
      sqrtD = d.squareRoot()
      normalizer = LawEvaluator.sphereNormalizer(dimension)
      partialMeanFactor = normalizer / (d - 1)
    }
  }

  /// `C_d = Γ(d/2)/(√π·Γ((d−1)/2))` by the exact recurrence `C_{k+2} = C_k·k/(k−1)` from `C_2 = 1/π`,
  /// `C_3 = 1/2` (d/2 multiplications; no cancellation between large log-gamma values).
  static func sphereNormalizer(_ dimension: Int) -> Double {
    var k = dimension % 2 == 0 ? 2 : 3
    var c = k == 2 ? 1 / Double.pi : 0.5
    while k < dimension {
      c *= Double(k) / Double(k - 1)
      k += 2
    }
    return c
  }

  /// `P(S > s)` for `s ≥ 0`.
  func upperTail(_ s: Double) -> Double {
    switch law {
    case .gaussian:
      return Double.erfc(s / 2.0.squareRoot()) / 2
    case .sphereCoordinate:
      if s <= 0 { return 0.5 }
      let t = s / sqrtD
      if t >= 1 { return 0 }
      return h(t) * incompleteBetaContinuedFraction(a: alpha, b: alpha, x: (1 - t) / 2)
    }
  }

  /// `∫_s^∞ u·f(u) du` for `s ≥ 0`.
  func upperPartialMean(_ s: Double) -> Double {
    switch law {
    case .gaussian:
      return Double.exp(-s * s / 2) / (2 * Double.pi).squareRoot()
    case .sphereCoordinate:
      let t = max(s, 0) / sqrtD
      if t >= 1 { return 0 }
      return sqrtD * h(t)
    }
  }

  /// The density at `s` (standardized units).
  func density(_ s: Double) -> Double {
    switch law {
    case .gaussian:
      return Double.exp(-s * s / 2) / (2 * Double.pi).squareRoot()
    case .sphereCoordinate:
      let t = abs(s) / sqrtD
      if t >= 1 { return 0 }
      return normalizer * Double.exp((d - 3) / 2 * Double.log(onePlus: -t * t)) / sqrtD
    }
  }

  /// `h(t) = C_d·(1−t²)^{(d−1)/2}/(d−1)`.
  private func h(_ t: Double) -> Double {
    partialMeanFactor * Double.exp(alpha * Double.log(onePlus: -t * t))
  }

  /// The continued fraction of the regularized incomplete beta function: `I_x(a,b) = x^a(1−x)^b/(a·B(a,b))·F`
  /// with `F = 1/(1+ d₁/(1+ d₂/(1+ …)))`, `d_{2m+1} = −(a+m)(a+b+m)x/((a+2m)(a+2m+1))`,
  /// `d_{2m} = m(b−m)x/((a+2m−1)(a+2m))`, evaluated by the modified Lentz method. Converges for
  /// `x < (a+1)/(a+b+2)` (here x < 1/2 ≤ that bound), in O(√a) terms near the bound.
  private func incompleteBetaContinuedFraction(a: Double, b: Double, x: Double) -> Double {
    let tiny = 1e-300
    var c = 1.0
    var dd = 1 - (a + b) * x / (a + 1)
    if abs(dd) < tiny { dd = tiny }
    dd = 1 / dd
    var f = dd
    var m = 1.0
    while m < 100_000 {
      let m2 = 2 * m
      // Even step.
      var coefficient = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
      dd = 1 + coefficient * dd
      if abs(dd) < tiny { dd = tiny }
      c = 1 + coefficient / c
      if abs(c) < tiny { c = tiny }
      dd = 1 / dd
      f *= dd * c
      // Odd step.
      coefficient = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
      dd = 1 + coefficient * dd
      if abs(dd) < tiny { dd = tiny }
      c = 1 + coefficient / c
      if abs(c) < tiny { c = tiny }
      dd = 1 / dd
      let step = dd * c
      f *= step
      if abs(step - 1) < 1e-16 { break }
      m += 1
    }
    // The caller multiplies by the prefactor: for a = b = α and x = (1−t)/2, x^α(1−x)^α/(α·B(α,α)) is
    // exactly h(t) (Legendre's duplication formula turns Γ(2α)/Γ(α)² into 2^{2α−1}·C_d).
    return f
  }
}
