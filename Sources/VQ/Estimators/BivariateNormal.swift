import RealModule

/// The standard bivariate normal law with correlation ρ: the distribution function
/// Φ2(a, b; ρ) = P(X ≤ a, Y ≤ b), the upper orthant P(X > h, Y > k), the density φ2 and its
/// ρ-derivative — the ingredients of the cell probabilities of quantized random projections
/// (`QRPCosineEstimator`).
///
/// Method: Drezner & Wesolowsky (1990), "On the computation of the bivariate normal integral", J. Statist.
/// Comput. Simul. 35, as refined by Genz (2004), "Numerical computation of rectangular bivariate and
/// trivariate normal and t probabilities", Statist. Comput. 14. Written here from the formulas:
/// 1. Plackett's identity ∂Φ2/∂ρ = φ2 integrates ρ from 0: with r = sin θ,
///    L(h, k; ρ) = Φ(−h)Φ(−k) + (1/2π) ∫₀^{asin ρ} exp(−(h² + k² − 2hk sin θ)/(2cos²θ)) dθ   (|ρ| < 0.925);
/// 2. for |ρ| ≥ 0.925 it integrates from ρ = 1 instead (L(h, k; 1) = Φ(−max(h, k))); with x = √(1 − r²)
///    the integrand becomes exp(−(h − k)²/(2x²)) · exp(−hk/(1 + r))/r on [0, √(1 − ρ²)], whose
///    Taylor part 1 + C x² + C·D x⁴ (C = (4 − hk)/8, D = (12 − hk)/16) is integrated in closed form
///    and only the O(x⁶) remainder by quadrature; ρ < 0 reflects Y → −Y;
/// 3. both quadratures are 20-point Gauss–Legendre (nodes computed once by Newton on P₂₀);
/// 4. every exponential is taken of one combined exponent (never a huge factor times a tiny one);
/// 5. ±∞ limits and |ρ| = 1 are exact special cases.
///
/// Guarantee: absolute error ≲ 1e−15 over the whole plane (Genz reports double precision for this
/// scheme); `BivariateNormalTests` checks 1e−13 against an independent 1-D quadrature of
/// ∫ φ(x) Φ((b − ρx)/√(1 − ρ²)) dx in the tails and at |ρ| up to 0.9999, and the exact identities.
public enum BivariateNormal {
  /// Φ(x), the standard normal distribution function (from erfc: accurate in both tails).
  public static func standardNormalCDF(_ x: Double) -> Double {
    if x == .infinity { return 1 }
    if x == -.infinity { return 0 }
    return 0.5 * Double.erfc(-x * 0.70710678118654752440)
  }

  /// Φ2(a, b; ρ) = P(X ≤ a, Y ≤ b) for standard normals with correlation ρ ∈ [−1, 1]; a, b may be ±∞.
  public static func cdf(_ a: Double, _ b: Double, rho: Double) -> Double {
    AtCorrelation(rho: rho).cdf(a, b)
  }

  /// P(X > h, Y > k) for standard normals with correlation ρ ∈ [−1, 1]; h, k may be ±∞.
  public static func upperOrthant(_ h: Double, _ k: Double, rho: Double) -> Double {
    AtCorrelation(rho: rho).upperOrthant(h, k)
  }

  /// φ2(a, b; ρ) = exp(−(a² − 2ρab + b²)/(2(1 − ρ²)))/(2π√(1 − ρ²)) for |ρ| < 1; 0 if a or b is infinite.
  public static func density(_ a: Double, _ b: Double, rho: Double) -> Double {
    guard a.isFinite, b.isFinite else { return 0 }
    let s = (1 - rho) * (1 + rho)
    let q = (a * a - 2 * rho * a * b + b * b) / s
    return Double.exp(-0.5 * q) / (2 * Double.pi * s.squareRoot())
  }

  /// ∂φ2(a, b; ρ)/∂ρ = φ2 · (ρ/(1 − ρ²) − (ρ(a² + b²) − ab(1 + ρ²))/(1 − ρ²)²) for |ρ| < 1; 0 at infinite a, b.
  public static func densityRhoDerivative(_ a: Double, _ b: Double, rho: Double) -> Double {
    guard a.isFinite, b.isFinite else { return 0 }
    let s = (1 - rho) * (1 + rho)
    let f = density(a, b, rho: rho)
    return f * (rho / s - (rho * (a * a + b * b) - a * b * (1 + rho * rho)) / (s * s))
  }

  /// The 20-point Gauss–Legendre rule on [−1, 1]: nodes and weights (Newton on P₂₀ from Tricomi's
  /// initial guesses, to machine precision).
  static let gaussLegendre20: (nodes: [Double], weights: [Double]) = gaussLegendre(20)

  static func gaussLegendre(_ n: Int) -> (nodes: [Double], weights: [Double]) {
    var nodes = [Double](repeating: 0, count: n), weights = [Double](repeating: 0, count: n)
    for i in 0..<((n + 1) / 2) {
      var x = Double.cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
      var derivative = 0.0
      for _ in 0..<100 {
        // Legendre recurrence: (j+1) P_{j+1} = (2j+1) x P_j − j P_{j−1}.
        var p0 = 1.0, p1 = x
        for j in 1..<n {
          let p2 = (Double(2 * j + 1) * x * p1 - Double(j) * p0) / Double(j + 1)
          p0 = p1; p1 = p2
        }
        derivative = Double(n) * (x * p1 - p0) / (x * x - 1)
        let step = p1 / derivative
        x -= step
        if abs(step) < 1e-16 { break }
      }
      nodes[i] = -x; nodes[n - 1 - i] = x
      let w = 2 / ((1 - x * x) * derivative * derivative)
      weights[i] = w; weights[n - 1 - i] = w
    }
    return (nodes, weights)
  }

  /// The law at one fixed correlation, with the quadrature nodes for that ρ precomputed: evaluating
  /// many corners at one ρ (a table of cell probabilities) costs one exp per node per corner.
  public struct AtCorrelation: Sendable {
    public let rho: Double
    private enum Branch: Sendable { case independent, perfect, antithetic, moderate, strong }
    private let branch: Branch
    /// moderate: (asin ρ)/(4π)·w_i, sin θ_i and 1/cos²θ_i at the nodes θ_i of [0, asin ρ].
    /// strong: a = √(1 − |ρ|²), (a/2)·w_i, x_i, 1/r_i and 1/(1 + r_i) with r_i = √(1 − x_i²).
    private let weights: [Double]
    private let sines: [Double]
    private let inverseCosSquared: [Double]
    private let a: Double
    private let xs: [Double]
    private let inverseR: [Double]
    private let inverseOnePlusR: [Double]

    public init(rho: Double) {
      let r = min(1, max(-1, rho))
      self.rho = r
      let rule = BivariateNormal.gaussLegendre20
      var weights: [Double] = [], sines: [Double] = [], inverseCosSquared: [Double] = []
      var xs: [Double] = [], inverseR: [Double] = [], inverseOnePlusR: [Double] = []
      var a = 0.0
      if r == 0 {
        branch = .independent
      } else if r == 1 {
        branch = .perfect
      } else if r == -1 {
        branch = .antithetic
      } else if abs(r) < 0.925 {
        branch = .moderate
        let angle = Double.asin(r)
        for (t, w) in zip(rule.nodes, rule.weights) {
          let s = Double.sin(angle * (t + 1) / 2)
          sines.append(s)
          inverseCosSquared.append(1 / ((1 - s) * (1 + s)))
          weights.append(angle / (4 * Double.pi) * w)
        }
      } else {
        branch = .strong
        let m = abs(r)
        a = ((1 - m) * (1 + m)).squareRoot()
        for (t, w) in zip(rule.nodes, rule.weights) {
          let x = a * (t + 1) / 2
          let rr = ((1 - x) * (1 + x)).squareRoot()
          xs.append(x)
          inverseR.append(1 / rr)
          inverseOnePlusR.append(1 / (1 + rr))
          weights.append(a / 2 * w)
        }
      }
      self.weights = weights
      self.sines = sines
      self.inverseCosSquared = inverseCosSquared
      self.a = a
      self.xs = xs
      self.inverseR = inverseR
      self.inverseOnePlusR = inverseOnePlusR
    }

    /// Φ2(a, b; ρ) = P(X ≤ a, Y ≤ b) = L(−a, −b; ρ).
    public func cdf(_ a: Double, _ b: Double) -> Double { upperOrthant(-a, -b) }

    /// L(h, k; ρ) = P(X > h, Y > k).
    public func upperOrthant(_ h: Double, _ k: Double) -> Double {
      // Infinite corners: the event is empty, or one coordinate is unconstrained.
      if h == .infinity || k == .infinity { return 0 }
      if h == -.infinity { return Self.upperTail(k) }
      if k == -.infinity { return Self.upperTail(h) }
      switch branch {
      case .independent:
        return Self.upperTail(h) * Self.upperTail(k)
      case .perfect:
        return Self.upperTail(max(h, k))
      case .antithetic:
        // X > h and −X > k: h < X < −k.
        return max(0, Self.upperTail(h) - Self.upperTail(-k))
      case .moderate:
        let half = (h * h + k * k) / 2, product = h * k
        var sum = 0.0
        for i in 0..<weights.count {
          sum += weights[i] * Double.exp((product * sines[i] - half) * inverseCosSquared[i])
        }
        return min(1, max(0, Self.upperTail(h) * Self.upperTail(k) + sum))
      case .strong:
        let value: Double
        if rho > 0 {
          value = strongPositive(h, k)
        } else {
          // Y' = −Y has correlation |ρ|: P(X > h, Y > k) = P(X > h) − P(X > h, Y' > −k).
          value = Self.upperTail(h) - strongPositive(h, -k)
        }
        return min(1, max(0, value))
      }
    }

    /// L(h, k; |ρ|) for |ρ| ≥ 0.925 and finite h, k:
    /// Φ(−max(h, k)) − (1/2π) ∫₀^a exp(−(h − k)²/(2x²) − hk/(1 + r))/r dx, r = √(1 − x²).
    private func strongPositive(_ h: Double, _ k: Double) -> Double {
      let product = h * k
      let d2 = (h - k) * (h - k), d = abs(h - k)
      let c = (4 - product) / 8, dd = (12 - product) / 16
      // Closed form of ∫₀^a e^{−d²/(2x²) − hk/2}(1 + C x² + C·D x⁴) dx through I_n = ∫₀^a x^n e^{…} dx:
      // (n + 1) I_n + d² I_{n−2} = a^{n+1} e^{…}(a), I_0 = a e(a) − d √(2π) Φ(−d/a) e^{−hk/2}.
      let edge = Double.exp(-d2 / (2 * a * a) - product / 2)
      let tail = Self.upperTail(d / a)
      let scaledTail = tail > 0 ? Double.exp(-product / 2 + Double.log(tail)) * (2 * Double.pi).squareRoot() : 0
      let i0 = a * edge - d * scaledTail
      let i2 = (a * a * a * edge - d2 * i0) / 3
      let i4 = (a * a * a * a * a * edge - d2 * i2) / 5
      var integral = i0 + c * i2 + c * dd * i4
      // The remainder e^{−d²/(2x²)}·(e^{−hk/(1+r)}/r − e^{−hk/2}(1 + C x² + C·D x⁴)) = O(x⁶), by quadrature.
      for i in 0..<weights.count {
        let x = xs[i], x2 = x * x
        let gaussian = -d2 / (2 * x2)
        let exact = Double.exp(gaussian - product * inverseOnePlusR[i]) * inverseR[i]
        let taylor = Double.exp(gaussian - product / 2) * (1 + c * x2 * (1 + dd * x2))
        integral += weights[i] * (exact - taylor)
      }
      return Self.upperTail(max(h, k)) - integral / (2 * Double.pi)
    }

    /// P(X > x) = Φ(−x).
    @inline(__always)
    static func upperTail(_ x: Double) -> Double { BivariateNormal.standardNormalCDF(-x) }
  }
}
