import RealModule

/// Bounds for an optimal spherical code of M = 2^(d·R) points on S^(d−1): the covering angle and the
/// expected cosine loss no code of that size can beat, and their inversion into an "effective rate".
///
/// Source: research/geometry.md §1.3 (sphere-covering and sphere-packing arguments, as used by B. Zadeh,
/// G. A. Constantinides, "Direction-Preserving Number Representations", arXiv:2605.07662).
///
/// Algorithm:
/// 1. t = ⟨x,c⟩ for x uniform and c fixed has density f_d(t) = c_d(1−t²)^((d−3)/2), c_d = Γ(d/2)/(√π·Γ((d−1)/2));
/// 2. the cap measure P_d(t₀) = Pr[t ≥ t₀] = ½·I_{1−t₀²}((d−1)/2, ½), evaluated in log space (the
///    regularized incomplete beta by its continued fraction), since 2^(−dR) underflows Double;
/// 3. t₀*(d,R) solves P_d(t₀*) = 2^(−dR) (bisection on t₀);
/// 4. covering: θ_cov ≥ arccos t₀*; expected loss: E[1 − max_c⟨x,c⟩] ≥ 1 − M·c_d·(1−t₀*²)^((d−1)/2)/(d−1);
/// 5. effective rate R_eff(L): the rate at which the loss bound equals L (bisection on R); a method's gap
///    is R − R_eff(L_method), the bits per coordinate it spends beyond an optimal spherical code.
///
/// Guarantee: both are lower bounds for every code of M points (the loss bound by the bathtub argument:
/// the best cell of measure m is a cap, and the cap integral is convex in m). For large d, sin θ* → 2^(−R)
/// and L → 1 − √(1 − 4^(−R)) (Shannon's D(R) = 4^(−R) for the optimally scaled error 1 − cos²).
public enum SphericalCodeBound {
  public struct Bound: Sendable, Equatable {
    public let dimension: Int
    public let rate: Double
    /// t₀*: the cosine radius of a cap of measure 2^(−dR).
    public let capCosine: Double
    /// The covering-angle lower bound arccos t₀*, in degrees.
    public let coveringAngleDegrees: Double
    /// The lower bound on 1 − E cos(x, Q(x)).
    public let cosineLoss: Double
  }

  /// ln c_d = ln Γ(d/2) − ½ ln π − ln Γ((d−1)/2).
  static func logNormalizer(_ d: Int) -> Double {
    Double.logGamma(Double(d) / 2) - 0.5 * Double.log(Double.pi) - Double.logGamma(Double(d - 1) / 2)
  }

  /// ln I_x(a, b), the regularized incomplete beta function, accurate also when it underflows Double.
  public static func logRegularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return -.infinity }
    if x >= 1 { return 0 }
    let logBeta = Double.logGamma(a) + Double.logGamma(b) - Double.logGamma(a + b)
    let logFront = a * Double.log(x) + b * Double.log(1 - x) - logBeta
    if x < (a + 1) / (a + b + 2) {
      return logFront - Double.log(a) + Double.log(continuedFraction(x: x, a: a, b: b))
    }
    // The mirror I_x(a,b) = 1 − I_{1−x}(b,a) converges fast here and does not underflow.
    let mirror = Double.exp(logFront - Double.log(b) + Double.log(continuedFraction(x: 1 - x, a: b, b: a)))
    return Double.log(onePlus: -mirror)
  }

  /// The continued fraction 1/(1+ d₁/(1+ d₂/(1+ …))) of I_x(a,b)·a·B(a,b)/(x^a(1−x)^b), by the modified
  /// Lentz method (relative change below 1e−16).
  static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300
    var c = 1.0, d = 1 - (a + b) * x / (a + 1)
    if Swift.abs(d) < tiny { d = tiny }
    d = 1 / d
    var f = d
    for m in 1...10_000 {
      let mm = Double(m)
      // Even step d_{2m} = m(b−m)x / ((a+2m−1)(a+2m)).
      var numerator = mm * (b - mm) * x / ((a + 2 * mm - 1) * (a + 2 * mm))
      d = 1 + numerator * d; if Swift.abs(d) < tiny { d = tiny }
      c = 1 + numerator / c; if Swift.abs(c) < tiny { c = tiny }
      d = 1 / d
      f *= d * c
      // Odd step d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)).
      numerator = -(a + mm) * (a + b + mm) * x / ((a + 2 * mm) * (a + 2 * mm + 1))
      d = 1 + numerator * d; if Swift.abs(d) < tiny { d = tiny }
      c = 1 + numerator / c; if Swift.abs(c) < tiny { c = tiny }
      d = 1 / d
      let delta = d * c
      f *= delta
      if Swift.abs(delta - 1) < 1e-16 { break }
    }
    return f
  }

  /// ln P_d(t): the log of the normalized measure of the cap {x : ⟨x,c⟩ ≥ t} on S^(d−1), d ≥ 2.
  public static func logCapMeasure(dimension d: Int, cosine t: Double) -> Double {
    precondition(d >= 2, "caps need d ≥ 2")
    if t >= 1 { return -.infinity }
    if t <= -1 { return 0 }
    let a = Double(d - 1) / 2
    let positive = Double.log(0.5) + logRegularizedIncompleteBeta(x: 1 - t * t, a: a, b: 0.5)
    if t >= 0 { return positive }
    return Double.log(onePlus: -Double.exp(positive))  // P(t) = 1 − P(−t)
  }

  /// The bounds at dimension d ≥ 2 and rate R > 0 bits per coordinate.
  ///
  /// For caps smaller than a hemisphere the bisection runs on ln(1 − t₀²), not on t₀: at high rate t₀ is
  /// within 1e−16 of 1 (d = 768, R = 40) and only the logarithm keeps its digits.
  public static func bound(dimension d: Int, rate: Double) -> Bound {
    let target = -Double(d) * rate * Double.log(2.0)
    let a = Double(d - 1) / 2
    var t0: Double, logSine2: Double
    if target < Double.log(0.5) {
      // ln P = ln ½ + ln I_x(a, ½) is increasing in x = 1 − t²; I_x ≥ x^a·(const) bounds the search below.
      var lo = 2 * target / a - 60, hi = 0.0
      for _ in 0..<300 {
        let mid = (lo + hi) / 2
        let logP = Double.log(0.5) + logRegularizedIncompleteBeta(x: Double.exp(mid), a: a, b: 0.5)
        if logP < target { lo = mid } else { hi = mid }
        if hi - lo < 1e-14 * Swift.max(1, Swift.abs(lo)) { break }
      }
      logSine2 = (lo + hi) / 2
      t0 = (-Double.expMinusOne(logSine2)).squareRoot()
    } else {
      var lo = -1.0, hi = 0.0
      for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if logCapMeasure(dimension: d, cosine: mid) > target { lo = mid } else { hi = mid }
        if hi - lo < 1e-16 { break }
      }
      t0 = (lo + hi) / 2
      logSine2 = Double.log(1 - t0 * t0)
    }
    // M·c_d·(1−t₀²)^((d−1)/2)/(d−1), in log space.
    let logMean = -target + logNormalizer(d) + a * logSine2 - Double.log(Double(d - 1))
    let loss = 1 - Double.exp(logMean)
    return Bound(dimension: d, rate: rate, capCosine: t0,
                 coveringAngleDegrees: Double.acos(Swift.min(1, Swift.max(-1, t0))) * 180 / Double.pi,
                 cosineLoss: loss)
  }

  /// R_eff: the rate at which an optimal spherical code in d dimensions has expected cosine loss `loss`.
  public static func effectiveRate(dimension d: Int, cosineLoss loss: Double) -> Double {
    guard loss > 0 else { return .infinity }
    var lo = 1e-3, hi = 40.0
    if bound(dimension: d, rate: lo).cosineLoss <= loss { return lo }
    for _ in 0..<100 {
      let mid = (lo + hi) / 2
      if bound(dimension: d, rate: mid).cosineLoss > loss { lo = mid } else { hi = mid }
      if hi - lo < 1e-9 { break }
    }
    return (lo + hi) / 2
  }

  /// The large-d limit of the loss bound, 1 − √(1 − 4^(−R)).
  public static func asymptoticCosineLoss(rate: Double) -> Double {
    1 - (1 - Double.pow(4.0, -rate)).squareRoot()
  }

  /// c_d(1−t²)^((d−3)/2): the density of one coordinate of a uniform unit vector (for quadrature checks).
  public static func coordinateDensity(dimension d: Int, _ t: Double) -> Double {
    if d == 3 { return Double.exp(logNormalizer(d)) }  // exponent 0: flat (avoid 0·ln 0 at t = ±1)
    return Double.exp(logNormalizer(d) + Double(d - 3) / 2 * Double.log(Swift.max(0, 1 - t * t)))
  }
}
