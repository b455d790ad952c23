import Foundation
import VQ

/// `vq bench --scaling` (issue 11, research geometry.md §5; protocol ours, the paper — Zhang, Tang, Liang,
/// Zou, arXiv 2602.19241 — was read as an abstract only): excess test risk of sketched linear regression
/// trained on additively or multiplicatively quantized features, against the model size M, and the
/// effective model size M_eff from the fit risk(M) = E∞ + A·M_eff^(−a) with A and a from full precision.
enum PrecisionScalingExperiment {
  struct Plan {
    var dimension: Int
    var modelSizes: [Int]
    var samplesPerFeature: Int
    var seeds: Int
    /// Relative noise levels σ; the additive σ is matched at the smallest M (see `additiveSigma`).
    var noiseLevels: [Double]
  }

  static func plan(_ scale: ExperimentSettings.Scale) -> Plan {
    switch scale {
    case .full: return Plan(dimension: 2000, modelSizes: [16, 32, 64, 128, 256, 512], samplesPerFeature: 8, seeds: 6, noiseLevels: [0.125, 0.25, 0.5])
    case .quick: return Plan(dimension: 400, modelSizes: [8, 16, 32, 64, 128], samplesPerFeature: 8, seeds: 2, noiseLevels: [0.25, 0.5])
    }
  }

  /// Additive noise matched to a relative σ at the smallest model size: the features of a JL-normalised
  /// sketch have variance ≈ tr Λ/M, so σ_abs = σ·√(tr Λ/M_min); at larger M the same absolute noise is a
  /// larger fraction of the shrinking features (a fixed-point grid does not follow the signal's scale).
  static func additiveSigma(_ relative: Double, problem: PowerLawRegression, plan: Plan) -> Double {
    relative * (problem.spectrumTrace / Double(plan.modelSizes[0])).squareRoot()
  }

  struct Curve {
    var model: FeatureQuantization
    var relativeSigma: Double
    var mean: [Double]
    var standardError: [Double]
    /// Infinite-data (bias-only) excess risk, mean over seeds.
    var population: [Double]
  }

  static func run(_ settings: ExperimentSettings) throws -> [ExperimentSection] {
    let plan = plan(settings.scale)
    let problem = try PowerLawRegression(dimension: plan.dimension, spectrumExponent: 1.5, weightExponent: 0.5, labelNoise: 0)
    var models: [(FeatureQuantization, Double)] = [(.none, 0)]
    for s in plan.noiseLevels { models.append((.multiplicative(sigma: s), s)) }
    for s in plan.noiseLevels { models.append((.additive(sigma: additiveSigma(s, problem: problem, plan: plan)), s)) }

    // One task per (M, seed), largest M first so the two lanes finish together; fixed chunks, so the
    // numbers do not depend on the thread count.
    let tasks = plan.modelSizes.reversed().flatMap { m in (0..<plan.seeds).map { (m, $0) } }
    let seed = settings.seed
    let modelList = models.map(\.0)
    let progress = settings.progress
    let risks = try Parallel.mapChunks(count: tasks.count, chunks: tasks.count, threads: settings.threads) { range -> [(Double, Double)] in
      let (m, s) = tasks[range.lowerBound]
      progress("scaling M=\(m) seed \(s)")
      let stream = UInt64(m) << 16 | UInt64(s)
      var sketchGenerator = SeededGenerator(seed: seed, stream: 0x5CA1_0000_0000 | stream)
      var dataGenerator = SeededGenerator(seed: seed, stream: 0x5CA2_0000_0000 | stream)
      let design = try problem.sketch(modelSize: m, using: &sketchGenerator)
      let (features, labels) = try design.sample(count: plan.samplesPerFeature * m, using: &dataGenerator)
      return try modelList.map { model in
        // The same noise draws for every model and level (common random numbers).
        var noise = SeededGenerator(seed: seed, stream: 0x5CA3_0000_0000 | stream)
        let v = try QuantizedLinearRegression.fit(features: features, labels: labels, quantization: model, using: &noise)
        return (try design.excessRisk(v), try design.populationRisk(model))
      }
    }
    func index(_ m: Int, _ s: Int) -> Int { tasks.firstIndex { $0 == (m, s) }! }

    var curves: [Curve] = []
    for (mi, (model, relative)) in models.enumerated() {
      var mean: [Double] = [], se: [Double] = [], population: [Double] = []
      for m in plan.modelSizes {
        let values = (0..<plan.seeds).map { risks[index(m, $0)][mi].0 }
        population.append((0..<plan.seeds).map { risks[index(m, $0)][mi].1 }.reduce(0, +) / Double(plan.seeds))
        let mu = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(max(1, values.count - 1))
        mean.append(mu)
        se.append((variance / Double(values.count)).squareRoot())
      }
      curves.append(Curve(model: model, relativeSigma: relative, mean: mean, standardError: se, population: population))
    }

    let sizes = plan.modelSizes.map(Double.init)
    let clean = try ScalingLawFit.fit(modelSizes: sizes, risks: curves[0].mean)
    let cleanPopulation = try ScalingLawFit.fit(modelSizes: sizes, risks: curves[0].population)
    var rows: [JSONValue] = []
    var cells: [[String]] = [["model", "σ (rel)", "σ applied", "M", "N", "excess risk", "± SE", "N=∞ risk", "M_eff/M", "fit E_q", "fit M_eff/M"]]
    var summaries: [(curve: Curve, floor: Double, ratio: Double, pointwise: [Double])] = []
    for curve in curves {
      let fitted: (floor: Double, ratio: Double) = curve.model == .none
        ? (clean.floor, 1) : try clean.effectiveSize(modelSizes: sizes, risks: curve.mean)
      let pointwise = zip(sizes, curve.population).map { m, r in cleanPopulation.effectiveModelSize(risk: r, floor: cleanPopulation.floor) / m }
      summaries.append((curve, fitted.floor, fitted.ratio, pointwise))
      for (i, m) in plan.modelSizes.enumerated() {
        rows.append(.object([
          ("model", .string(curve.model.name)), ("noise_sigma_relative", .double(curve.relativeSigma)),
          ("noise_sigma_applied", .double(curve.model.sigma)), ("dimension", .int(plan.dimension)),
          ("model_size", .int(m)), ("samples", .int(plan.samplesPerFeature * m)), ("seeds", .int(plan.seeds)),
          ("excess_risk", .double(curve.mean[i])), ("excess_risk_se", .double(curve.standardError[i])),
          ("population_risk", .double(curve.population[i])),
          ("m_eff_over_m", .double(pointwise[i])), ("fit_floor", .double(fitted.floor)),
          ("fit_m_eff_over_m", .double(fitted.ratio)),
          ("fit_amplitude", .double(clean.amplitude)), ("fit_exponent", .double(clean.exponent)),
        ]))
        cells.append([
          curve.model.name, fmt(curve.relativeSigma, "%.3g"), fmt(curve.model.sigma, "%.3g"), String(m), String(plan.samplesPerFeature * m),
          fmt(curve.mean[i], "%.3e"), fmt(curve.standardError[i], "%.1e"), fmt(curve.population[i], "%.3e"), fmt(pointwise[i], "%.2f"),
          fmt(fitted.floor, "%.2e"),
          fmt(fitted.ratio, "%.2f"),
        ])
      }
    }
    let table = TextReport.aligned(cells, separators: [1], leftColumns: [0])
    return [ExperimentSection(
      key: "scaling", title: "Precision scaling: sketched linear regression on quantized features (protocol ours)",
      rows: rows, table: table, notes: notes(plan: plan, problem: problem, clean: clean, cleanPopulation: cleanPopulation, summaries: summaries),
      plots: [plot(plan: plan, curves: curves)])]
  }

  static func plot(plan: Plan, curves: [Curve]) -> SVGPlot {
    let dashes = ["2 3", "7 4", nil, "1 2"]
    var series: [SVGPlot.Series] = []
    for curve in curves {
      let level = plan.noiseLevels.firstIndex(of: curve.relativeSigma) ?? 0
      let color: String
      switch curve.model {
      case .none: color = "#000000"
      case .multiplicative: color = ["#9ecae1", "#4292c6", "#08519c"][min(level, 2)]
      case .additive: color = ["#fcae91", "#fb6a4a", "#a50f15"][min(level, 2)]
      }
      series.append(SVGPlot.Series(
        name: curve.model == .none ? "full precision" : "\(curve.model.name) σ=\(fmt(curve.relativeSigma, "%.3g"))", color: color,
        points: zip(plan.modelSizes, curve.mean).map { (x: Double($0), y: $1) }, dash: curve.model == .none ? nil : dashes[min(level, 3)]))
    }
    return SVGPlot(
      id: "scaling-risk-vs-m", title: "Excess test risk vs model size M (N = \(plan.samplesPerFeature)M, p = \(plan.dimension))",
      xLabel: "model size M (log scale)", yLabel: "excess test risk (log scale)", xLog: true, yLog: true, series: series,
      xTicks: plan.modelSizes.map(Double.init))
  }

  static func notes(
    plan: Plan, problem: PowerLawRegression, clean: ScalingLawFit, cleanPopulation: ScalingLawFit,
    summaries: [(curve: Curve, floor: Double, ratio: Double, pointwise: [Double])]
  ) -> [String] {
    var out = [
      "Protocol (ours, after geometry.md §5; the paper was read as an abstract only): p = \(plan.dimension) (the research's "
        + "p = 2000), λ_i = i^(−1.5), w*_i ∝ i^(−0.5) with ‖w*‖ = 1, no label noise, Gaussian sketch S with N(0, 1/M) entries, "
        + "M ∈ {\(plan.modelSizes.map(String.init).joined(separator: ", "))} (the research's grid went to 1024; we stop at "
        + "\(plan.modelSizes.last!) to fit the time budget), N = \(plan.samplesPerFeature)M, \(plan.seeds) seeds averaged "
        + "(± is the standard error over seeds). The sketched features are drawn directly as N(0, SΛSᵀ) with y | z exact "
        + "(same law as sketching x ~ N(0, Λ), cheaper). Ridge-less least squares (ridge 1e-10·tr/M) on q(Sx); the excess risk "
        + "E(⟨v, Sx⟩ − ⟨w*, x⟩)² is exact (no test sample). Noise: multiplicative q(z) = z(1 + ε), ε ~ N(0, σ²); additive "
        + "q(z) = z + ε with σ_abs = σ·√(tr Λ/M_min), i.e. the same relative noise at M = \(plan.modelSizes[0]), a fixed "
        + "absolute noise beyond. The same noise draws serve every model and level.",
      "Two measures of the effective model size. (1) The spec's fit on the measured risks: full precision "
        + "risk(M) = E∞ + A·M^(−a) with E∞ = \(fmt(clean.floor, "%.2e")), A = \(fmt(clean.amplitude, "%.3g")), a = \(fmt(clean.exponent, "%.3f")); "
        + "each quantized curve fitted as E_q + A·(κM)^(−a) with A, a fixed gives fit M_eff/M = κ (with so few points the floor E_q and κ "
        + "trade off against each other). (2) Per row, from the infinite-data risk (the fit's bias, exact: v∞ = (Σ_z + D)⁻¹SΛw*, no "
        + "sampling): M_eff/M = ((risk∞ − E0)/A0)^(−1/a0)/M with the same law fitted to the full-precision N = ∞ risks "
        + "(a0 = \(fmt(cleanPopulation.exponent, "%.3f"))), i.e. the sketch size whose clean best predictor is as good.",
    ]
    var verdicts: [String] = []
    var additiveSmaller = true, multiplicativeKeeps = true, fitSeparates = true
    let last = plan.modelSizes.count - 1
    for s in plan.noiseLevels {
      guard let mult = summaries.first(where: { $0.curve.relativeSigma == s && $0.curve.model.name == "multiplicative" }),
        let add = summaries.first(where: { $0.curve.relativeSigma == s && $0.curve.model.name == "additive" })
      else { continue }
      func slope(_ c: Curve) -> Double {
        log(c.mean[last] / c.mean[last - 1]) / log(Double(plan.modelSizes[last]) / Double(plan.modelSizes[last - 1]))
      }
      verdicts.append(
        "σ = \(fmt(s, "%.3g")): at M = \(plan.modelSizes[last]) M_eff/M is \(fmt(mult.pointwise[last], "%.2f")) multiplicative vs "
          + "\(fmt(add.pointwise[last], "%.2f")) additive; last-step log-log slope of the measured risk \(fmt(slope(mult.curve), "%.2f")) vs "
          + "\(fmt(slope(add.curve), "%.2f")); fit κ \(fmt(mult.ratio, "%.2f")) vs \(fmt(add.ratio, "%.2f")) with E_q "
          + "\(fmt(mult.floor, "%.1e")) vs \(fmt(add.floor, "%.1e"))")
      if !(add.pointwise[last] < mult.pointwise[last]) { additiveSmaller = false }
      if !(add.ratio < mult.ratio) { fitSeparates = false }
      if !(mult.pointwise[last] >= 0.8) { multiplicativeKeeps = false }
    }
    out.append(
      "Measured (full precision last-step slope \(fmt(log(summaries[0].curve.mean[last] / summaries[0].curve.mean[last - 1]) / log(Double(plan.modelSizes[last]) / Double(plan.modelSizes[last - 1])), "%.2f"))): "
        + verdicts.joined(separator: "; ") + ". "
        + (fitSeparates
          ? "Both measures agree."
          : "Measure (1) does not separate the models: a constant κ cannot describe a saturating M_eff, and the fitted floor E_q "
            + "absorbs the additive curve's flattening (κ ≈ 1 with a larger E_q); the conclusion rests on measure (2) and on the "
            + "slopes of the measured curves."))
    let keptLevels = plan.noiseLevels.filter { s in
      summaries.first { $0.curve.relativeSigma == s && $0.curve.model.name == "multiplicative" }.map { $0.pointwise[last] >= 0.8 } ?? false
    }
    out.append(
      (additiveSmaller
        ? "Additive quantization reduces the effective model size more than multiplicative at every matched noise level (claim: yes). "
        : "Additive quantization does NOT reduce the effective model size more than multiplicative at every level (claim: not reproduced). ")
        + (multiplicativeKeeps
          ? "Multiplicative keeps M_eff/M ≥ 0.8 at every level (claim: yes)."
          : "Multiplicative keeps M_eff/M ≥ 0.8 only at σ ∈ {\(keptLevels.map { fmt($0, "%.3g") }.joined(separator: ", "))}: at larger σ it "
            + "reduces the effective model size too, though less than additive (the claim holds only for small relative noise in our protocol)."))
    out.append(
      "Why (population limit of our protocol): noisy features act as a ridge, E q(Z)ᵀq(Z)/N = Σ_z + D. Multiplicative: D = σ²·diag(Σ_z) "
        + "≈ σ²·tr Λ/M, shrinking with the features, so the directions kept grow with M (all of them while M ≲ 1/(σ² tr Λ)², "
        + "like M^(2/3) beyond). Additive: D = σ_abs² fixed, so directions with eigenvalue below σ_abs² are lost whatever M is and "
        + "M_eff saturates near σ_abs^(−4/3). Both also raise the floor (noise in the features is noise in the fit: the smaller "
        + "effective data size).")
    return out
  }

  static func fmt(_ v: Double, _ spec: String) -> String { String(format: spec, v) }
}
