import Foundation
import RealModule
import Testing
import VQ
import VQTestSupport

/// The QRP cosine estimators (geometry.md §4): cell probabilities, Fisher information, the MLE's
/// variance at k = 256 against 1/(k·I), and its agreement with SimHash at 1 bit.
@Suite struct QRPCosineEstimatorTests {
  /// k code pairs of a bivariate normal with correlation ρ, quantized with the estimator's codebook.
  static func codes(_ e: QRPCosineEstimator, rho: Double, k: Int, _ g: inout SeededGenerator) -> ([UInt8], [UInt8]) {
    let s = ((1 - rho) * (1 + rho)).squareRoot()
    var a = [UInt8](repeating: 0, count: k), b = a
    for j in 0..<k {
      let z = g.nextGaussian(), w = rho * z + s * g.nextGaussian()
      a[j] = UInt8(e.codebook.code(of: z)); b[j] = UInt8(e.codebook.code(of: w))
    }
    return (a, b)
  }

  @Test("cell probabilities sum to 1, are symmetric, and at 1 bit are (1 − θ/π)/2 and θ/(2π)")
  func cellProbabilities() throws {
    for bits in 1...4 {
      let e = try QRPCosineEstimator.cached(bits: bits)
      let k = e.levels
      for rho in [-0.97, -0.5, 0, 0.3, 0.9, 0.99] {
        let p = e.cellProbabilities(rho: rho)
        #expect(abs(p.reduce(0, +) - 1) < 1e-13, "b=\(bits) ρ=\(rho)")
        for l in 0..<k {
          // Marginals are the N(0,1) cell masses.
          let row = (0..<k).map { p[l * k + $0] }.reduce(0, +)
          let edges = [-Double.infinity] + e.codebook.thresholds + [Double.infinity]
          let mass = BivariateNormal.standardNormalCDF(edges[l + 1]) - BivariateNormal.standardNormalCDF(edges[l])
          #expect(abs(row - mass) < 1e-13, "b=\(bits) ρ=\(rho) row \(l)")
          for m in 0..<k {
            #expect(p[l * k + m] == p[m * k + l])
            #expect(abs(p[l * k + m] - p[(k - 1 - l) * k + (k - 1 - m)]) < 1e-15)
          }
        }
      }
    }
    let one = try QRPCosineEstimator.cached(bits: 1)
    for rho in [-0.8, 0.3, 0.95] {
      let theta = Double.acos(rho), p = one.cellProbabilities(rho: rho)
      #expect(abs(p[0] - (1 - theta / Double.pi) / 2) < 1e-14)
      #expect(abs(p[1] - theta / (2 * Double.pi)) < 1e-14)
    }
  }

  @Test("b = 1: Fisher information equals 1/(sin²θ·θ(π − θ)) to 1e−8 (relative)")
  func oneBitFisherClosedForm() throws {
    let e = try QRPCosineEstimator.cached(bits: 1)
    for rho in [-0.99, -0.9, -0.5, -0.1, 0, 0.3, 0.6, 0.9, 0.95, 0.999] {
      let theta = Double.acos(rho), s = Double.sin(theta)
      let exact = 1 / (s * s * theta * (Double.pi - theta))
      let fisher = e.fisherInformation(rho: rho)
      #expect(abs(fisher / exact - 1) < 1e-8, "ρ=\(rho): \(fisher) vs \(exact)")
      #expect(abs(1 / fisher - QRPCosineEstimator.simHashScaledVariance(rho: rho)) < 1e-8 / fisher)
    }
  }

  @Test("Fisher information from the analytic ∂P/∂ρ equals Σ P'²/P with P' by central differences (b = 2…4)")
  func fisherMatchesDifferences() throws {
    let h = 1e-6
    for bits in 2...4 {
      let e = try QRPCosineEstimator.cached(bits: bits)
      for rho in [-0.6, 0.3, 0.6, 0.9] {
        let up = e.cellProbabilities(rho: rho + h), down = e.cellProbabilities(rho: rho - h), p = e.cellProbabilities(rho: rho)
        var numeric = 0.0
        for c in 0..<p.count where p[c] >= 1e-12 {
          let d = (up[c] - down[c]) / (2 * h)
          numeric += d * d / p[c]
        }
        let fisher = e.fisherInformation(rho: rho)
        #expect(abs(numeric / fisher - 1) < 1e-5, "b=\(bits) ρ=\(rho): \(fisher) vs \(numeric)")
      }
    }
    // More bits, more information (geometry.md §4.3: 1/I = 2.161, 1.044, 0.835, 0.780 at ρ = 0.3).
    let inverse = try (1...4).map { 1 / (try QRPCosineEstimator.cached(bits: $0)).fisherInformation(rho: 0.3) }
    for (value, research) in zip(inverse, [2.161, 1.044, 0.835, 0.780]) { #expect(abs(value - research) < 0.002) }
    #expect(inverse == inverse.sorted(by: >))
  }

  @Test("b = 1: the MLE is SimHash's cos(π(1 − agreements/k)) (to 1e−9)")
  func oneBitMLEIsSimHash() throws {
    let e = try QRPCosineEstimator.cached(bits: 1)
    var g = SeededGenerator(seed: 11)
    for trial in 0..<50 {
      let rho = -0.95 + 1.9 * Double(trial) / 49
      let (a, b) = Self.codes(e, rho: rho, k: 64, &g)
      let agreements = zip(a, b).filter { $0 == $1 }.count
      guard agreements > 0 && agreements < 64 else { continue }
      let mle = e.maximumLikelihood(a, b)
      #expect(abs(mle - QRPCosineEstimator.simHashEstimate(agreements: agreements, projections: 64)) < 1e-9, "trial \(trial)")
    }
  }

  @Test("identical codes give ρ̂ = 1, mirrored codes ρ̂ = −1, at every bit width")
  func boundaries() throws {
    var g = SeededGenerator(seed: 5)
    for bits in 1...4 {
      let e = try QRPCosineEstimator.cached(bits: bits)
      let (a, _) = Self.codes(e, rho: 0, k: 50, &g)
      let mirrored = a.map { UInt8(e.levels - 1) - $0 }
      #expect(e.maximumLikelihood(a, a) == 1)
      #expect(e.maximumLikelihood(a, mirrored) == -1)
    }
  }

  @Test("the MLE maximizes the log-likelihood: ℓ(ρ̂) ≥ ℓ at ρ̂ ± 1e−4 and at every grid point")
  func mleIsTheMaximum() throws {
    var g = SeededGenerator(seed: 3)
    for bits in 1...4 {
      let e = try QRPCosineEstimator.cached(bits: bits)
      for rho in [-0.5, 0.3, 0.9] {
        let (a, b) = Self.codes(e, rho: rho, k: 256, &g)
        let counts = e.classCounts(a, b)
        let mle = e.maximumLikelihood(classCounts: counts)
        let top = e.logLikelihood(classCounts: counts, rho: mle)
        #expect(top >= e.logLikelihood(classCounts: counts, rho: mle + 1e-4))
        #expect(top >= e.logLikelihood(classCounts: counts, rho: mle - 1e-4))
        for r in stride(from: -0.99, through: 0.99, by: 0.01) {
          #expect(top >= e.logLikelihood(classCounts: counts, rho: r) - 1e-9, "b=\(bits) ρ=\(rho) at \(r)")
        }
        // The folded K × K table gives the same counts.
        #expect(e.classCounts(table: e.countTable(a, b)) == counts)
      }
    }
  }

  @Test("k = 256: the MLE's k·Var is within 10 % of 1/I(ρ) (b = 1, ρ = 0.9 and b = 2, ρ = 0.6)")
  func mleVarianceMatchesFisher() throws {
    let k = 256, repetitions = 4000
    for (bits, rho, seed) in [(1, 0.9, UInt64(21)), (2, 0.6, UInt64(22))] {
      let e = try QRPCosineEstimator.cached(bits: bits)
      var g = SeededGenerator(seed: seed)
      var stats = RunningStatistics()
      var fourth = 0.0
      var values: [Double] = []
      for _ in 0..<repetitions {
        let (a, b) = Self.codes(e, rho: rho, k: k, &g)
        let v = e.maximumLikelihood(a, b)
        stats.add(v); values.append(v)
      }
      for v in values { fourth += Double.pow(v - stats.mean, 4) }
      fourth /= Double(repetitions)
      let variance = stats.variance
      // SE of the sample variance: √((m4 − σ⁴)/R); about √(2/R) = 2.2 % of σ² for R = 4000, so a 10 %
      // band is ~4.5 SE.
      let standardError = ((fourth - variance * variance) / Double(repetitions)).squareRoot()
      let predicted = 1 / e.fisherInformation(rho: rho)
      let measured = Double(k) * variance
      #expect(abs(measured / predicted - 1) < 0.10, "b=\(bits) ρ=\(rho): k·Var \(measured) ± \(Double(k) * standardError) vs 1/I \(predicted)")
      #expect(0.10 * predicted > 3 * Double(k) * standardError, "10 % must exceed 3 SE: SE = \(Double(k) * standardError)")
      // Mean within 3 SE + O(1/k) bias of ρ (SE = √(Var/R) ≈ 0.0003–0.0006).
      #expect(abs(stats.mean - rho) < 3 * stats.standardError + 0.003)
    }
  }

  @Test("bit widths outside 1...6 are refused with the allowed range")
  func refusesUnsupportedBits() {
    for bits in [0, 7, 9] {
      do { _ = try QRPCosineEstimator.cached(bits: bits); Issue.record("accepted bits=\(bits)") } catch let e as VQError {
        #expect(e.description.contains("bits=\(bits)") && e.description.contains("1...6"))
      } catch { Issue.record("unexpected \(error)") }
    }
  }
}
