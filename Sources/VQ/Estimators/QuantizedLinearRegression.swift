import RealModule

/// Sketched linear regression trained on quantized features, and the scaling-law fit that turns its test
/// risk into an effective model size.
///
/// Paper: Dechen Zhang, Xuan Tang, Yingyu Liang, Difan Zou, "Scaling Laws for Precision in
/// High-Dimensional Linear Regression", arXiv 2602.19241 (2026). Only the abstract was read: the
/// protocol below is **ours** (research note geometry.md §5), not the paper's experiment.
///
/// Algorithm in five lines:
/// 1. Data x ~ N(0, Λ) in R^p with a power-law spectrum λ_i = i^(−α), labels y = ⟨w*, x⟩ + ξ, w*_i ∝ i^(−β), ‖w*‖ = 1.
/// 2. A Gaussian sketch S (M × p, entries N(0, 1/M)) gives the model's features z = Sx; z is drawn directly
///    as N(0, SΛSᵀ) and y given z as N(⟨β, z⟩, r²) (exact joint law, M² instead of M·p work per sample).
/// 3. The features are quantized: additive q(z) = z + ε (fixed-point-like, ε ~ N(0, σ²), σ absolute) or
///    multiplicative q(z) = z(1 + ε) (floating-point-like, σ relative).
/// 4. v = argmin ‖q(Z)v − y‖² + ρ‖v‖² (tiny ρ: ridge-less) by Cholesky on the normal equations.
/// 5. Excess test risk on clean data: E(⟨v, Sx⟩ − ⟨w*, x⟩)² = vᵀΣ_z v − 2vᵀSΛw* + w*ᵀΛw* (exact, no test set).
///
/// What to expect (our reading of the abstract, and the population limit): noisy features act as a ridge
/// penalty, E q(Z)ᵀq(Z)/N = Σ_z + D with D = σ²I (additive) or σ²·diag(Σ_z) (multiplicative). With the
/// JL-normalised sketch each feature has variance ≈ tr Λ/M, so the multiplicative ridge shrinks like 1/M
/// with the features (the effective model size is kept until σ² tr Λ ≳ M^(−1/2)), while the additive ridge
/// is fixed and suppresses every direction with eigenvalue below σ²: the effective model size saturates.
/// `ScalingLawFit` measures this as risk(M) = E∞ + A·M_eff^(−a).
public enum FeatureQuantization: Sendable, Equatable, CustomStringConvertible {
  /// Full precision.
  case none
  /// q(z) = z + ε, ε ~ N(0, σ²): error independent of the value.
  case additive(sigma: Double)
  /// q(z) = z(1 + ε), ε ~ N(0, σ²): error proportional to the value.
  case multiplicative(sigma: Double)

  public var sigma: Double {
    switch self {
    case .none: return 0
    case .additive(let s), .multiplicative(let s): return s
    }
  }

  public var name: String {
    switch self {
    case .none: return "full_precision"
    case .additive: return "additive"
    case .multiplicative: return "multiplicative"
    }
  }

  public var description: String { self == .none ? name : "\(name)(σ=\(sigma))" }

  func validate() throws {
    guard sigma.isFinite, sigma >= 0 else {
      throw VQError.outOfRange("FeatureQuantization: noise σ must be finite and ≥ 0, got \(sigma) for \(name)")
    }
  }
}

/// The regression problem: spectrum, target and label noise in R^p.
public struct PowerLawRegression: Sendable {
  public let dimension: Int
  /// λ_i = i^(−spectrumExponent), i = 1…p.
  public let spectrum: [Double]
  /// w*_i ∝ i^(−weightExponent), normalised to ‖w*‖ = 1.
  public let target: [Double]
  /// Standard deviation of the label noise ξ.
  public let labelNoise: Double
  /// w*ᵀΛw*: the variance of the noiseless label.
  public let signalEnergy: Double

  public init(dimension: Int, spectrumExponent: Double = 1.5, weightExponent: Double = 0.5, labelNoise: Double = 0) throws {
    guard dimension >= 2 else { throw VQError.outOfRange("PowerLawRegression: dimension must be ≥ 2, got \(dimension)") }
    guard spectrumExponent.isFinite, spectrumExponent > 0 else {
      throw VQError.outOfRange("PowerLawRegression: spectrumExponent must be finite and > 0, got \(spectrumExponent)")
    }
    guard weightExponent.isFinite, weightExponent >= 0 else {
      throw VQError.outOfRange("PowerLawRegression: weightExponent must be finite and ≥ 0, got \(weightExponent)")
    }
    guard labelNoise.isFinite, labelNoise >= 0 else {
      throw VQError.outOfRange("PowerLawRegression: labelNoise must be finite and ≥ 0, got \(labelNoise)")
    }
    self.dimension = dimension
    spectrum = (1...dimension).map { Double.pow(Double($0), -spectrumExponent) }
    var w = (1...dimension).map { Double.pow(Double($0), -weightExponent) }
    var norm = 0.0
    for v in w { norm = Relaxed.multiplyAdd(v, v, norm) }
    norm = norm.squareRoot()
    for i in w.indices { w[i] /= norm }
    target = w
    var energy = 0.0
    for i in 0..<dimension { energy = Relaxed.multiplyAdd(spectrum[i] * w[i], w[i], energy) }
    signalEnergy = energy
    self.labelNoise = labelNoise
  }

  /// tr Λ.
  public var spectrumTrace: Double {
    var t = 0.0
    for v in spectrum { t += v }
    return t
  }

  /// Draws a Gaussian sketch of `modelSize` rows and the exact joint law of (Sx, y).
  public func sketch(modelSize: Int, using generator: inout SeededGenerator) throws -> SketchedRegression {
    guard modelSize >= 1, modelSize <= dimension else {
      throw VQError.outOfRange("PowerLawRegression.sketch: model size must lie in 1…\(dimension), got \(modelSize)")
    }
    let m = modelSize, p = dimension
    // A = S·Λ^(1/2): then Σ_z = A·Aᵀ and SΛw* = A·(Λ^(1/2)w*).
    let scale = 1 / Double(m).squareRoot()
    var a = DenseMatrix(rows: m, columns: p)
    let rootSpectrum = spectrum.map { $0.squareRoot() }
    for r in 0..<m { for c in 0..<p { a.values[r * p + c] = generator.nextGaussian() * scale * rootSpectrum[c] } }
    var covariance = a.multipliedTransposed(by: a)
    var rootTarget = DenseMatrix(rows: p, columns: 1)
    for c in 0..<p { rootTarget.values[c] = rootSpectrum[c] * target[c] }
    let cross = a.multiplied(by: rootTarget)
    var trace = 0.0
    for i in 0..<m { trace += covariance[i, i] }
    // SΛSᵀ is positive definite for M ≤ p with probability 1; a relative jitter of 1e-12 guards rounding.
    for i in 0..<m { covariance[i, i] += 1e-12 * trace / Double(m) }
    guard let factor = covariance.cholesky() else {
      throw VQError.invalidArgument("PowerLawRegression.sketch: the sketched covariance (\(m)×\(m)) is not positive definite")
    }
    let beta = try covariance.choleskySolve(cross)
    var explained = 0.0
    for i in 0..<m { explained = Relaxed.multiplyAdd(cross.values[i], beta.values[i], explained) }
    let residual = max(0, signalEnergy - explained)
    return SketchedRegression(
      modelSize: m, featureCovariance: covariance, crossCovariance: cross.values, signalEnergy: signalEnergy,
      factor: factor, regression: beta.values, residualStd: (residual + labelNoise * labelNoise).squareRoot())
  }
}

/// The law of (z, y) for one sketch: z = Sx ~ N(0, Σ_z), y | z ~ N(⟨β, z⟩, r²).
public struct SketchedRegression: Sendable {
  public let modelSize: Int
  /// Σ_z = SΛSᵀ.
  public let featureCovariance: DenseMatrix
  /// SΛw*.
  public let crossCovariance: [Double]
  /// w*ᵀΛw*.
  public let signalEnergy: Double
  /// Lower Cholesky factor of Σ_z.
  let factor: DenseMatrix
  /// β = Σ_z⁻¹SΛw*: the best predictor in the sketched model.
  public let regression: [Double]
  /// √(w*ᵀΛw* − ⟨SΛw*, β⟩ + σ_ξ²): the noise of y given z.
  public let residualStd: Double

  /// `count` samples: features (count × M) and labels.
  public func sample(count: Int, using generator: inout SeededGenerator) throws -> (features: DenseMatrix, labels: [Double]) {
    guard count >= 1 else { throw VQError.outOfRange("SketchedRegression.sample: count must be ≥ 1, got \(count)") }
    let m = modelSize
    var g = DenseMatrix(rows: count, columns: m)
    for i in 0..<(count * m) { g.values[i] = generator.nextGaussian() }
    let z = g.multipliedTransposed(by: factor)
    var labels = [Double](repeating: 0, count: count)
    z.values.withUnsafeBufferPointer { zp in
      regression.withUnsafeBufferPointer { bp in
        for r in 0..<count {
          var s = 0.0
          for c in 0..<m { s = Relaxed.multiplyAdd(zp[r * m + c], bp[c], s) }
          labels[r] = s + residualStd * generator.nextGaussian()
        }
      }
    }
    return (z, labels)
  }

  /// The infinite-data excess risk of training on quantized features: v∞ = (Σ_z + D)⁻¹SΛw* with the
  /// noise covariance D = σ²I (additive) or σ²·diag(Σ_z) (multiplicative), D = 0 at full precision (then
  /// v∞ = β and the risk is the sketch's approximation error). No sampling: this is the bias of the fit,
  /// the part the effective model size describes.
  public func populationRisk(_ model: FeatureQuantization) throws -> Double {
    try model.validate()
    let m = modelSize
    var system = featureCovariance
    for i in 0..<m {
      switch model {
      case .none: break
      case .additive(let s): system[i, i] += s * s
      case .multiplicative(let s): system[i, i] += s * s * featureCovariance[i, i]
      }
    }
    let v = try system.choleskySolve(DenseMatrix(rows: m, columns: 1, values: crossCovariance))
    return try excessRisk(v.values)
  }

  /// Excess test risk of the predictor x ↦ ⟨v, Sx⟩ on clean data: E(⟨v, Sx⟩ − ⟨w*, x⟩)².
  public func excessRisk(_ v: [Double]) throws -> Double {
    guard v.count == modelSize else { throw VQError.dimensionMismatch(expected: modelSize, got: v.count, what: "SketchedRegression.excessRisk weights") }
    let m = modelSize
    var quadratic = 0.0, linear = 0.0
    featureCovariance.values.withUnsafeBufferPointer { cp in
      for r in 0..<m {
        var s = 0.0
        for c in 0..<m { s = Relaxed.multiplyAdd(cp[r * m + c], v[c], s) }
        quadratic = Relaxed.multiplyAdd(v[r], s, quadratic)
        linear = Relaxed.multiplyAdd(v[r], crossCovariance[r], linear)
      }
    }
    return max(0, quadratic - 2 * linear + signalEnergy)
  }
}

public enum QuantizedLinearRegression {
  /// q(Z) under `model`, noise drawn from `generator` (one N(0, 1) draw per entry, scaled by σ: two
  /// models with one generator state see the same draws).
  public static func quantize(_ features: DenseMatrix, _ model: FeatureQuantization, using generator: inout SeededGenerator) throws -> DenseMatrix {
    try model.validate()
    var q = features
    switch model {
    case .none: break
    case .additive(let sigma):
      for i in q.values.indices { q.values[i] += sigma * generator.nextGaussian() }
    case .multiplicative(let sigma):
      for i in q.values.indices { q.values[i] *= 1 + sigma * generator.nextGaussian() }
    }
    return q
  }

  /// Least squares on quantized features: v = (q(Z)ᵀq(Z) + ρI)⁻¹ q(Z)ᵀy with ρ = relativeRidge·tr(q(Z)ᵀq(Z))/M.
  public static func fit(
    features: DenseMatrix, labels: [Double], quantization: FeatureQuantization = .none, relativeRidge: Double = 1e-10,
    using generator: inout SeededGenerator
  ) throws -> [Double] {
    guard labels.count == features.rows else {
      throw VQError.dimensionMismatch(expected: features.rows, got: labels.count, what: "QuantizedLinearRegression.fit labels")
    }
    guard features.rows >= 1, features.columns >= 1 else {
      throw VQError.invalidArgument("QuantizedLinearRegression.fit: empty feature matrix (\(features.rows)×\(features.columns))")
    }
    guard relativeRidge.isFinite, relativeRidge >= 0 else {
      throw VQError.outOfRange("QuantizedLinearRegression.fit: relativeRidge must be finite and ≥ 0, got \(relativeRidge)")
    }
    if let bad = features.values.firstIndex(where: { !$0.isFinite }) {
      throw VQError.invalidArgument(
        "QuantizedLinearRegression.fit: non-finite feature at row \(bad / features.columns), column \(bad % features.columns)")
    }
    if let bad = labels.firstIndex(where: { !$0.isFinite }) {
      throw VQError.invalidArgument("QuantizedLinearRegression.fit: non-finite label at row \(bad)")
    }
    let q = try quantize(features, quantization, using: &generator)
    var gram = q.gram()
    let m = q.columns
    var trace = 0.0
    for i in 0..<m { trace += gram[i, i] }
    let ridge = relativeRidge * trace / Double(m)
    for i in 0..<m { gram[i, i] += ridge }
    let rhs = q.transposeMultiplied(by: DenseMatrix(rows: labels.count, columns: 1, values: labels))
    return try gram.choleskySolve(rhs).values
  }
}

/// risk(M) = E∞ + A·M^(−a) fitted to full-precision risks, and the effective model size of another
/// curve against it: risk_q(M) = E_q + A·(κM)^(−a), κ = M_eff/M.
///
/// Fits are least squares on log risk: a grid over (E∞, a) with log A in closed form (the full-precision
/// fit), and a grid over E_q with log κ in closed form (the quantized fit; A and a fixed).
public struct ScalingLawFit: Sendable, Equatable {
  public var floor: Double
  public var amplitude: Double
  public var exponent: Double

  public init(floor: Double, amplitude: Double, exponent: Double) {
    self.floor = floor
    self.amplitude = amplitude
    self.exponent = exponent
  }

  /// Fits E∞ + A·M^(−a) (E∞ ∈ [0, min risk), a ∈ [0.05, 4]).
  public static func fit(modelSizes: [Double], risks: [Double]) throws -> ScalingLawFit {
    try validate(modelSizes, risks, needed: 3)
    let logM = modelSizes.map { Double.log($0) }
    let minRisk = risks.min()!
    var best = (error: Double.infinity, fit: ScalingLawFit(floor: 0, amplitude: 0, exponent: 0))
    for fi in 0..<200 {
      let floor = minRisk * Double(fi) / 200
      let logR = risks.map { Double.log($0 - floor) }
      for ai in 1...800 {
        let a = Double(ai) * 0.005
        var mean = 0.0
        for i in logR.indices { mean += logR[i] + a * logM[i] }
        mean /= Double(logR.count)
        var error = 0.0
        for i in logR.indices {
          let r = logR[i] - (mean - a * logM[i])
          error = Relaxed.multiplyAdd(r, r, error)
        }
        if error < best.error { best = (error, ScalingLawFit(floor: floor, amplitude: Double.exp(mean), exponent: a)) }
      }
    }
    return best.fit
  }

  /// E_q and κ = M_eff/M of `risks` with this fit's A and a.
  public func effectiveSize(modelSizes: [Double], risks: [Double]) throws -> (floor: Double, ratio: Double) {
    try Self.validate(modelSizes, risks, needed: 2)
    let minRisk = risks.min()!
    let logA = Double.log(amplitude), a = exponent
    var best = (error: Double.infinity, floor: 0.0, ratio: 1.0)
    for fi in 0..<400 {
      let floor = minRisk * Double(fi) / 400
      // log(r − E) = log A − a·log κ − a·log M  ⇒  log κ = mean(log A − a log M − log(r − E))/a.
      var logKappa = 0.0
      for i in risks.indices { logKappa += logA - a * Double.log(modelSizes[i]) - Double.log(risks[i] - floor) }
      logKappa /= Double(risks.count) * a
      var error = 0.0
      for i in risks.indices {
        let r = Double.log(risks[i] - floor) - (logA - a * (logKappa + Double.log(modelSizes[i])))
        error = Relaxed.multiplyAdd(r, r, error)
      }
      if error < best.error { best = (error, floor, Double.exp(logKappa)) }
    }
    return (best.floor, best.ratio)
  }

  /// The model size at which the full-precision law A·M^(−a) equals `risk − floor` (NaN when that is ≤ 0).
  public func effectiveModelSize(risk: Double, floor: Double) -> Double {
    let excess = risk - floor
    guard excess > 0 else { return .nan }
    return Double.pow(excess / amplitude, -1 / exponent)
  }

  static func validate(_ modelSizes: [Double], _ risks: [Double], needed: Int) throws {
    guard modelSizes.count == risks.count else {
      throw VQError.dimensionMismatch(expected: modelSizes.count, got: risks.count, what: "ScalingLawFit risks")
    }
    guard modelSizes.count >= needed else {
      throw VQError.invalidArgument("ScalingLawFit: needs at least \(needed) points, got \(modelSizes.count)")
    }
    for i in risks.indices {
      guard modelSizes[i].isFinite, modelSizes[i] > 0 else {
        throw VQError.outOfRange("ScalingLawFit: model size \(i) must be finite and > 0, got \(modelSizes[i])")
      }
      guard risks[i].isFinite, risks[i] > 0 else {
        throw VQError.outOfRange("ScalingLawFit: risk \(i) must be finite and > 0, got \(risks[i])")
      }
    }
  }
}
