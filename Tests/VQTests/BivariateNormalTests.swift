import Foundation
import RealModule
import Testing
@testable import VQ

/// Φ2 against exact identities and against an independent formula: the 1-D integral
/// Φ2(a, b; ρ) = ∫_{−∞}^{a} φ(x) Φ((b − ρx)/√(1 − ρ²)) dx by composite Gauss–Legendre on panels
/// narrower than the conditional standard deviation √(1 − ρ²) (a different integrand from either of
/// the library's Plackett integrals).
@Suite struct BivariateNormalTests {
  static func phi(_ x: Double) -> Double { Double.exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
  static func cdf(_ x: Double) -> Double { 0.5 * Double.erfc(-x / 2.0.squareRoot()) }

  static let rule = BivariateNormal.gaussLegendre(10)

  /// The reference Φ2 for finite a, b and |ρ| < 1.
  static func reference(_ a: Double, _ b: Double, _ rho: Double) -> Double {
    let s = ((1 - rho) * (1 + rho)).squareRoot()
    let lower = -12.0   // φ(x) < 1e−31 below: nothing left to integrate
    guard a > lower else { return 0 }
    let width = min(0.05, s / 8)
    let panels = Int(((a - lower) / width).rounded(.up))
    let h = (a - lower) / Double(panels)
    var total = 0.0
    for p in 0..<panels {
      let left = lower + Double(p) * h
      var panel = 0.0
      for (t, w) in zip(rule.nodes, rule.weights) {
        let x = left + h * (t + 1) / 2
        panel += w * phi(x) * cdf((b - rho * x) / s)
      }
      total += panel * h / 2
    }
    return total
  }

  @Test("Gauss–Legendre rules integrate polynomials of degree 2n − 1 exactly")
  func gaussLegendreIsExact() {
    for n in [10, 20] {
      let rule = BivariateNormal.gaussLegendre(n)
      #expect(abs(rule.weights.reduce(0, +) - 2) < 1e-14)
      // ∫_{−1}^{1} x^(2n−2) dx = 2/(2n − 1).
      let moment = zip(rule.nodes, rule.weights).map { x, w in w * Double.pow(x, 2 * n - 2) }.reduce(0, +)
      #expect(abs(moment - 2 / Double(2 * n - 1)) < 1e-14, "n=\(n): \(moment)")
    }
  }

  @Test("Φ2(0, 0; ρ) = 1/4 + arcsin(ρ)/(2π), both branches and the branch boundary")
  func originOrthant() {
    for rho in [-0.99999, -0.999, -0.95, -0.925, -0.9249999, -0.7, -0.3, 0, 0.1, 0.5, 0.9, 0.924999999, 0.925, 0.96, 0.999, 0.999999] {
      let exact = 0.25 + Double.asin(rho) / (2 * Double.pi)
      let value = BivariateNormal.cdf(0, 0, rho: rho)
      #expect(abs(value - exact) < 1e-15, "ρ=\(rho): \(value) vs \(exact)")
    }
  }

  @Test("ρ = 0 is the product Φ(a)Φ(b); infinite arguments give the marginals or 0")
  func productAndInfinities() {
    let points: [Double] = [-9, -4.2, -1, 0, 0.3, 2.5, 7]
    for a in points {
      for b in points {
        #expect(abs(BivariateNormal.cdf(a, b, rho: 0) - Self.cdf(a) * Self.cdf(b)) < 1e-15)
      }
      for rho in [-1.0, -0.97, -0.5, 0, 0.5, 0.97, 1] {
        // The library's Φ and this file's differ by the rounding of x·(1/√2) vs x/√2, which erfc amplifies
        // by ~x² in the tail: relative 1e−13 at x = −9.
        #expect(abs(BivariateNormal.cdf(a, .infinity, rho: rho) / Self.cdf(a) - 1) < 1e-13)
        #expect(BivariateNormal.cdf(.infinity, a, rho: rho) == BivariateNormal.cdf(a, .infinity, rho: rho))
        #expect(BivariateNormal.cdf(a, -.infinity, rho: rho) == 0)
        #expect(BivariateNormal.cdf(-.infinity, a, rho: rho) == 0)
      }
    }
    #expect(BivariateNormal.cdf(.infinity, .infinity, rho: 0.3) == 1)
  }

  @Test("ρ → ±1: Φ2 tends to Φ(min(a, b)) and to max(0, Φ(a) + Φ(b) − 1); exactly there at |ρ| = 1")
  func perfectCorrelationLimits() {
    let points: [Double] = [-6, -2, -0.5, 0, 0.7, 1.9, 5]
    for a in points {
      for b in points {
        let plus = Self.cdf(min(a, b)), minus = max(0, Self.cdf(a) + Self.cdf(b) - 1)
        #expect(abs(BivariateNormal.cdf(a, b, rho: 1) - plus) < 1e-15)
        #expect(abs(BivariateNormal.cdf(a, b, rho: -1) - minus) < 1e-15)
        // |Φ2(ρ) − Φ2(±1)| ≤ ∫ φ2 dρ over the last ε = 1e−12: O(√ε) = 1e−6 at most (at a = b).
        #expect(abs(BivariateNormal.cdf(a, b, rho: 1 - 1e-12) - plus) < 1e-6, "a=\(a) b=\(b)")
        #expect(abs(BivariateNormal.cdf(a, b, rho: -1 + 1e-12) - minus) < 1e-6, "a=\(a) b=\(b)")
      }
    }
  }

  @Test("Φ2 matches the independent 1-D quadrature to 1e−13 over tails and strong correlation")
  func againstIndependentQuadrature() {
    let points: [Double] = [-7.5, -3.3, -1.1, 0.4, 2.2, 6]
    var worst = 0.0
    for rho in [-0.9999, -0.99, -0.93, -0.92, -0.6, 0.25, 0.75, 0.9, 0.924, 0.926, 0.97, 0.995, 0.9999] {
      for a in points {
        for b in points {
          let value = BivariateNormal.cdf(a, b, rho: rho)
          let expected = Self.reference(a, b, rho)
          worst = max(worst, abs(value - expected))
          #expect(abs(value - expected) < 1e-13, "Φ2(\(a), \(b); \(rho)) = \(value), reference \(expected)")
        }
      }
    }
    #expect(worst < 1e-13)
  }

  @Test("Plackett: ∂Φ2/∂ρ = φ2 and ∂φ2/∂ρ match central differences")
  func derivatives() {
    let h = 1e-5
    for rho in [-0.95, -0.4, 0.2, 0.8, 0.93] {
      for (a, b) in [(0.3, -0.8), (1.5, 1.2), (-2.0, 0.1), (0.0, 0.0)] {
        let difference = (BivariateNormal.cdf(a, b, rho: rho + h) - BivariateNormal.cdf(a, b, rho: rho - h)) / (2 * h)
        #expect(abs(difference - BivariateNormal.density(a, b, rho: rho)) < 1e-8, "ρ=\(rho) a=\(a) b=\(b)")
        let slope = (BivariateNormal.density(a, b, rho: rho + h) - BivariateNormal.density(a, b, rho: rho - h)) / (2 * h)
        let analytic = BivariateNormal.densityRhoDerivative(a, b, rho: rho)
        #expect(abs(slope - analytic) < 1e-6 * max(1, abs(analytic)), "ρ=\(rho) a=\(a) b=\(b)")
      }
    }
  }
}
