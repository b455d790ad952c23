import Foundation
import VQ

/// The predicted value of one metric, with where it comes from and how close a measurement must be.
public struct TheoryValue: Sendable, Equatable {
  /// The metric's JSON key (`nmse`, `cosine_loss`, `ip_bias`, `ip_var_d`).
  public var metric: String
  public var predicted: Double
  /// Allowed |measured/predicted − 1| (for `ip_bias` of an unbiased method, predicted 0: allowed |bias| in
  /// standard errors instead).
  public var tolerance: Double
  /// The formula, in words, with the section of the notes.
  public var source: String

  public init(metric: String, predicted: Double, tolerance: Double, source: String) {
    self.metric = metric
    self.predicted = predicted
    self.tolerance = tolerance
    self.source = source
  }

  /// measured / predicted (`nil` when the prediction is 0).
  public func ratio(_ measured: Double) -> Double? { predicted != 0 ? measured / predicted : nil }

  /// Whether `measured` agrees. For `ip_bias` (`standardError` given: that of the measured bias) the
  /// difference may also be up to `Theory.biasStandardErrors` standard errors (a predicted bias of
  /// 1e−6 cannot be resolved by a measurement with a standard error of 1e−5); for a predicted 0 that
  /// is the only test.
  public func agrees(_ measured: Double, standardError: Double = 0) -> Bool {
    let statistical = abs(measured - predicted) <= Theory.biasStandardErrors * standardError
    if predicted == 0 { return statistical }
    return abs(measured / predicted - 1) <= tolerance || (metric == "ip_bias" && statistical)
  }
}

/// The data facts a prediction needs.
public struct TheoryContext: Sendable {
  /// Input dimension d.
  public var dimension: Int
  /// The rotated, padded dimension n the code lives in.
  public var workingDimension: Int
  /// E[a], E[a²], Var(a) of the true inner products a = ⟨q, x⟩ over the measured pairs.
  public var pairs: PairMoments
  /// Mean of (max − min)² of the rotated query's coordinates (RaBitQ's query grid spans that range).
  public var queryRangeSquared: Double

  public init(dimension: Int, workingDimension: Int, pairs: PairMoments, queryRangeSquared: Double) {
    self.dimension = dimension
    self.workingDimension = workingDimension
    self.pairs = pairs
    self.queryRangeSquared = queryRangeSquared
  }

  public init(_ m: Measurement) {
    self.init(dimension: m.result.dimension, workingDimension: m.workingDimension, pairs: m.pairs,
              queryRangeSquared: m.queryRangeSquared)
  }
}

/// Predictions from research/rotation.md §1 and §7 for the rotation-based methods on unit-norm data
/// (the bench normalizes), as functions of the bits, the working dimension n and the data's pair moments.
///
/// With a uniformly random rotation the coded direction z = Πu is uniform on the sphere whatever u is,
/// so these hold per vector on real data too; three randomized Hadamard rounds reproduce them
/// (rotation.md §0 item 7, §7 items 24–25). Notation: D_b is the Lloyd–Max MSE of N(0,1) at b bits (or
/// of the exact coordinate law at dimension n, `D_b(n)`), a = ⟨q, x⟩, γ the cosine of code and vector.
///
/// | method | nmse | cosine_loss | ip_bias | ip_var_d |
/// |---|---|---|---|---|
/// | eden unbiased | D/(1−D) | 1−√(1−D) | 0 | D/(1−D)·(1−E a²)·d/(n−1) |
/// | eden biased, turbo-mse | D | 1−√(1−D) | −D·E a | d·D²·Var a + D(1−D)(1−E a²)·d/(n−1) |
/// | turbo-prod (orthogonal QJL) | (π/2−1)·D_{b−1}(n) | – | 0 | (π/2−1)·D_{b−1}(n)·d/n |
/// | turbo-prod (Gaussian QJL) | (π/2−1/n)·D_{b−1}(n) | – | 0 | (π/2−1/n)·D_{b−1}(n)·d/n |
/// | qjl, m rows (orthogonal) | (π/2−1)·n/m | – | 0 | (π/2−1−E a²/2)·d/m |
/// | qjl, m rows (Gaussian) | (π/2·n−1)/m | – | 0 | (π/2−E a²)·d/m |
/// | rabitq B bits | 1−γ² (decode is γ‖x‖·ō) | 1−γ | 0 | (1−γ²)/γ²·(1−E a²)·d/(n−1) + d·E[Δ²]/(6γ²) |
///
/// γ for RaBitQ is §7 item 16 (extended RaBitQ ⟨ō,o⟩ at d = 768: 0.7980, 0.9391, 0.9814, 0.9944, 0.9984,
/// 0.9996 for B = 1…6); the last term is the query's randomized rounding to `query-bits` bits over its
/// range (step Δ = range/(2^qb − 1), variance Δ²/6 per coordinate on average). The orthogonal-QJL a²
/// terms are derived here (the Σ|z_i| fluctuation, Var = 1 − 3/π); they reproduce §7 item 20 (0.392 at
/// a = 0.6). Methods not listed (the product formats, which are not rotation-invariant) get no column.
public enum Theory {
  /// Lloyd–Max MSE of N(0,1), b = 1…8 (rotation.md §1 table, §7 items 1–2).
  public static let lloydMaxGaussian: [Double] = [
    0.3633802, 0.1174818, 0.0345478, 0.0095010, 0.0025047, 0.0006442, 0.0001635, 0.0000412,
  ]
  /// Extended RaBitQ E⟨ō, o⟩ at d = 768, B = 1…6 (rotation.md §7 item 16).
  public static let extendedRaBitQCosine: [Double] = [0.7980, 0.9391, 0.9814, 0.9944, 0.9984, 0.9996]

  /// Relative tolerances: the notes' Monte-Carlo values carry ≲ 1–2 % standard error; a real-data run
  /// with a structured rotation adds the spread of per-vector errors over a few thousand vectors.
  public static let reconstructionTolerance = 0.05
  public static let innerProductTolerance = 0.10
  /// |ip_bias| of an unbiased method within this many standard errors.
  public static let biasStandardErrors = 4.0

  /// D_b for N(0,1) (`dimension == nil`) or the exact coordinate law of a uniform unit vector in R^n.
  public static func lloydMax(bits: Int, dimension: Int? = nil) -> Double {
    guard bits >= 1 else { return 1 }
    if let n = dimension, let book = try? ScalarCodebook.sphereCoordinate(dimension: n, bits: bits) {
      return book.distortion
    }
    if bits <= lloydMaxGaussian.count { return lloydMaxGaussian[bits - 1] }
    return (try? ScalarCodebook.gaussian(bits: bits).distortion) ?? .nan
  }

  /// The distortion-rate bound of a unit-variance Gaussian source: 4^−b.
  public static func shannon(bits: Double) -> Double { pow(4, -bits) }

  /// The predictions for `spec` (empty when the notes give none).
  public static func predictions(for spec: QuantizerSpec, context c: TheoryContext) -> [TheoryValue] {
    let d = Double(c.dimension), n = Double(c.workingDimension)
    let ea2 = c.pairs.meanSquare, ea = c.pairs.mean, vara = c.pairs.variance
    let value = { (key: String) in spec.values[key] ?? "" }
    let bits = spec.has("bits") ? spec.int("bits") : 0
    func unbiased(vnmse: Double, cosineLoss: Double?, ipVarD: Double, source: String) -> [TheoryValue] {
      var out = [TheoryValue(metric: "nmse", predicted: vnmse, tolerance: reconstructionTolerance, source: source)]
      if let cosineLoss {
        out.append(TheoryValue(metric: "cosine_loss", predicted: cosineLoss, tolerance: reconstructionTolerance, source: source))
      }
      out.append(TheoryValue(metric: "ip_bias", predicted: 0, tolerance: biasStandardErrors, source: "unbiased estimator (E over the rotation)"))
      out.append(TheoryValue(metric: "ip_var_d", predicted: ipVarD, tolerance: innerProductTolerance, source: source))
      return out
    }
    func shrunk(_ D: Double, source: String) -> [TheoryValue] {
      [
        TheoryValue(metric: "nmse", predicted: D, tolerance: reconstructionTolerance, source: source),
        TheoryValue(metric: "cosine_loss", predicted: 1 - (1 - D).squareRoot(), tolerance: reconstructionTolerance, source: source),
        TheoryValue(metric: "ip_bias", predicted: -D * ea, tolerance: innerProductTolerance, source: "E⟨q,x̂⟩ = (1−D_b)⟨q,x⟩ (§1)"),
        TheoryValue(metric: "ip_var_d", predicted: d * D * D * vara + D * (1 - D) * (1 - ea2) * d / (n - 1),
                    tolerance: innerProductTolerance, source: source),
      ]
    }
    switch spec.name {
    case "eden" where EDEN.isSubBit(spec):
      // Sub-bit EDEN (EDENSubBit): k = round(b·n) sampled rotated coordinates at one bit. The sample is
      // shared by every pair, so the per-pair standard error of ip_bias understates its spread: no
      // ip_bias prediction.
      let k = EDENSubBit.keptCount(fraction: spec.double("bits"), of: c.workingDimension)
      let gamma = EDENSubBit.biasedShrinkage(kept: k, of: c.workingDimension)
      if value("scale") == "biased" {
        return shrunk(1 - gamma, source: "EDEN below 1 bit, biased: 1 − (1 + (k−1)·2/π)/n (EDENSubBit)")
          .filter { $0.metric != "ip_bias" }
      }
      let v = EDENSubBit.predictedNMSE(kept: k, of: c.workingDimension, unbiased: true)
      return unbiased(vnmse: v, cosineLoss: 1 - gamma.squareRoot(), ipVarD: v * (1 - ea2) * d / (n - 1),
                      source: "EDEN below 1 bit: (n/k)(π/2 − 0.452/k) − 1 → π/(2p) − 1 (§7 item 12, EDENSubBit)")
        .filter { $0.metric != "ip_bias" }
    case "eden":
      let D = value("codebook") == "beta" ? lloydMax(bits: bits, dimension: c.workingDimension) : lloydMax(bits: bits)
      if value("scale") == "biased" { return shrunk(D, source: "EDEN biased: D_b (§1, §7 item 9)") }
      let v = D / (1 - D)
      return unbiased(vnmse: v, cosineLoss: 1 - (1 - D).squareRoot(), ipVarD: v * (1 - ea2) * d / (n - 1),
                      source: "EDEN unbiased: D_b/(1−D_b) (§1, §7 item 7)")
    case "turbo-mse":
      return shrunk(lloydMax(bits: bits, dimension: c.workingDimension), source: "TurboQuant-MSE: D_b(n) (§1, §7 items 4–5)")
    case "turbo-prod":
      let D = bits <= 1 ? 1 : lloydMax(bits: bits - 1, dimension: c.workingDimension)
      let gaussian = value("qjl") == "gaussian"
      let k = gaussian ? Double.pi / 2 - 1 / n : Double.pi / 2 - 1
      var ipVar = k * D * d / n
      if bits <= 1 { ipVar = (gaussian ? Double.pi / 2 - ea2 : Double.pi / 2 - 1 - ea2 / 2) * d / n }
      var out = unbiased(vnmse: k * D, cosineLoss: nil, ipVarD: ipVar,
                         source: gaussian ? "TurboQuant-Prod, Gaussian QJL: (π/2)·D_{b−1} (§7 items 18, 21)"
                           : "TurboQuant-Prod, orthogonal QJL: (π/2−1)·D_{b−1} (§7 item 19)")
      if gaussian { out.removeAll { $0.metric == "nmse" } }
      return out
    case "qjl":
      let projections = spec.int("projections")
      let m = projections > 0 ? Double(projections) : n
      let gaussian = value("qjl") == "gaussian"
      if !gaussian && projections > 0 && projections % c.workingDimension != 0 { return [] }
      let nmse = gaussian ? (Double.pi / 2 * n - 1) / m : (Double.pi / 2 - 1) * n / m
      let ipVar = (gaussian ? Double.pi / 2 - ea2 : Double.pi / 2 - 1 - ea2 / 2) * d / m
      return unbiased(vnmse: nmse, cosineLoss: nil, ipVarD: ipVar,
                      source: gaussian ? "QJL, Gaussian rows: π/2 − a² (§7 item 20)" : "QJL, orthogonal rows: π/2 − 1 − a²/2 (§7 item 20)")
    case "rabitq":
      guard bits >= 1, bits <= extendedRaBitQCosine.count, value("centre") != "mean" else { return [] }
      let gamma = extendedRaBitQCosine[bits - 1], g2 = gamma * gamma
      let v = (1 - g2) / g2
      let queryBits = value("query-bits") == "auto" ? min(12, max(4, bits + 3)) : spec.int("query-bits")
      let levels = Double((1 << queryBits) - 1)
      let rounding = d * c.queryRangeSquared / (levels * levels) / 6 / g2
      var out = unbiased(vnmse: 1 - g2, cosineLoss: 1 - gamma, ipVarD: v * (1 - ea2) * d / (n - 1) + rounding,
                         source: "RaBitQ: estimate (1−γ²)/γ² + query rounding, γ = E⟨ō,o⟩ (§3.2, §7 items 13–16)")
      // `decode` returns the cosine-optimal reconstruction γ‖x‖·ō (the biased one): NMSE 1 − γ² (§7 item 17).
      out[0].source = "RaBitQ decode: 1 − γ² (§7 item 17)"
      return out
    default:
      return []
    }
  }
}
