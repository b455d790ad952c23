import Foundation
import VQ

/// `vq bench --qrp`: quantized random projections (geometry.md §4.3). Two tables under the key `qrp`:
///
/// 1. `kind = "estimators"`: k = 256 projections, b = 1…4 bits, ρ ∈ {0.3, 0.6, 0.9}, 2 000 repetitions
///    (`.quick`: 200): the MLE's mean and k·Var (± its standard error) beside the Fisher prediction
///    1/I(ρ), k·MSE of the linear and normalised estimators and of SimHash at 1 bit, b/I (variance × bits),
///    and the full-precision references (MLE with known unit norms, plain inner product).
/// 2. `kind = "budget"`: bits against projections at a fixed budget B = k·b = 768 bits: B·Var(MLE)
///    measured and predicted (b/I), and B·MSE of the normalised estimator.
///
/// The bivariate-normal pairs (z_j, z'_j) with correlation ρ are sampled directly (that is what k Gaussian
/// projections of two unit vectors at cosine ρ are). Repetition r of configuration c draws from its own
/// generator (seed, stream c·2³² + r), so the rows do not depend on the thread count.
enum QRPExperiment {
  static let projections = 256
  static let bitWidths = Array(1...4)
  static let correlations = [0.3, 0.6, 0.9]
  static let budget = 768

  /// geometry.md §4.3: (b, ρ) → (k·Var(MLE), k/I) as the research measured them (nil: not computed).
  static let research: [String: (kVar: Double, fisher: Double?)] = [
    "1/0.3": (2.126, 2.161), "1/0.6": (1.337, 1.314), "1/0.9": (0.233, 0.231),
    "2/0.3": (1.078, 1.044), "2/0.6": (0.512, 0.509), "2/0.9": (0.0743, 0.0737),
    "3/0.3": (0.832, 0.835), "3/0.6": (0.336, 0.357), "3/0.9": (0.0355, 0.0332),
    "4/0.3": (0.786, 0.780), "4/0.6": (0.330, 0.317), "4/0.9": (0.0233, nil),
  ]

  /// One repetition's estimates.
  struct Sample: Sendable {
    var mle = 0.0, linear = 0.0, normalized = 0.0, simHash = Double.nan
    var fullMLE = 0.0, fullLinear = 0.0, fullNormalized = 0.0
  }

  /// Mean, variance and MSE of one estimator over the repetitions, with standard errors.
  struct Summary {
    var mean = 0.0, variance = 0.0, varianceStandardError = 0.0, mse = 0.0, mseStandardError = 0.0

    init(_ values: [Double], truth: Double) {
      let n = Double(values.count)
      guard values.count > 1 else { return }
      var sum = 0.0
      for v in values { sum += v }
      mean = sum / n
      var m2 = 0.0, m4 = 0.0, e2 = 0.0, e4 = 0.0
      for v in values {
        let d = v - mean, e = v - truth
        m2 += d * d; m4 += d * d * d * d; e2 += e * e; e4 += e * e * e * e
      }
      variance = m2 / (n - 1)
      // SE of a sample variance: √((m4 − σ⁴)/n); of a mean square: √((E e⁴ − (E e²)²)/n).
      let s2 = m2 / n
      varianceStandardError = (max(0, m4 / n - s2 * s2) / n).squareRoot()
      mse = e2 / n
      mseStandardError = (max(0, e4 / n - mse * mse) / n).squareRoot()
    }
  }

  static func run(_ settings: ExperimentSettings) throws -> [ExperimentSection] {
    let repetitions = settings.scale == .full ? 2000 : 200
    let estimators = try bitWidths.map { try QRPCosineEstimator.cached(bits: $0) }
    var configuration = 0

    // MARK: Table 1: estimators at k = 256
    var rows: [JSONValue] = []
    var lines: [[String]] = []
    var measuredPoints: [Int: [(x: Double, y: Double)]] = [:]
    var fullRows: [(rho: Double, mle: Summary, linear: Summary, normalized: Summary)] = []
    var comparisons: [String] = []
    var worstSE = 0.0
    for (bi, bits) in bitWidths.enumerated() {
      let e = estimators[bi]
      for rho in correlations {
        settings.progress("qrp b=\(bits) ρ=\(rho)")
        let samples = try simulate(
          e, rho: rho, k: projections, repetitions: repetitions, settings: settings, configuration: configuration,
          fullPrecision: bits == 1)
        configuration += 1
        let k = Double(projections)
        let mle = Summary(samples.map(\.mle), truth: rho)
        let linear = Summary(samples.map(\.linear), truth: rho)
        let normalized = Summary(samples.map(\.normalized), truth: rho)
        let simHash = bits == 1 ? Summary(samples.map(\.simHash), truth: rho) : nil
        let fisherVariance = 1 / e.fisherInformation(rho: rho)
        if bits == 1 {
          fullRows.append((rho, Summary(samples.map(\.fullMLE), truth: rho), Summary(samples.map(\.fullLinear), truth: rho),
                           Summary(samples.map(\.fullNormalized), truth: rho)))
        }
        measuredPoints[bits, default: []].append((x: rho, y: k * mle.variance))
        let reference = research["\(bits)/\(rho)"]
        let deviation = (k * mle.variance - fisherVariance) / (k * mle.varianceStandardError)
        worstSE = max(worstSE, abs(deviation))
        if let reference {
          comparisons.append(String(format: "b=%d ρ=%.1f: %.4g vs %.4g", bits, rho, k * mle.variance, reference.kVar))
        }
        rows.append(.object([
          ("kind", .string("estimators")), ("bits", .int(bits)), ("rho", .double(rho)),
          ("projections", .int(projections)), ("repetitions", .int(repetitions)),
          ("mle_mean", .double(mle.mean)), ("k_var_mle", .double(k * mle.variance)),
          ("k_var_mle_se", .double(k * mle.varianceStandardError)),
          ("k_var_fisher", .double(fisherVariance)),
          ("linear_mean", .double(linear.mean)), ("k_mse_linear", .double(k * linear.mse)),
          ("k_mse_linear_se", .double(k * linear.mseStandardError)),
          ("normalized_mean", .double(normalized.mean)), ("k_mse_normalized", .double(k * normalized.mse)),
          ("k_mse_normalized_se", .double(k * normalized.mseStandardError)),
          ("k_mse_simhash", simHash.map { .double(k * $0.mse) } ?? .null),
          ("bits_times_k_var_fisher", .double(Double(bits) * fisherVariance)),
          ("research_k_var_mle", reference.map { .double($0.kVar) } ?? .null),
          ("research_k_var_fisher", reference?.fisher.map { .double($0) } ?? .null),
        ]))
        lines.append([
          "\(bits)", String(format: "%.1f", rho), String(format: "%.4f", mle.mean),
          String(format: "%.4g ± %.2g", k * mle.variance, k * mle.varianceStandardError),
          String(format: "%.4g", fisherVariance),
          String(format: "%.3g", k * linear.mse), String(format: "%.3g", k * normalized.mse),
          simHash.map { String(format: "%.4g", k * $0.mse) } ?? "–",
          String(format: "%.4g", Double(bits) * fisherVariance),
        ])
      }
    }
    for full in fullRows {
      let k = Double(projections), rho = full.rho
      let knownNorms = (1 - rho * rho) * (1 - rho * rho) / (1 + rho * rho)
      rows.append(.object([
        ("kind", .string("estimators")), ("bits", .null), ("rho", .double(rho)),
        ("projections", .int(projections)), ("repetitions", .int(repetitions)),
        ("mle_mean", .double(full.mle.mean)), ("k_var_mle", .double(k * full.mle.variance)),
        ("k_var_mle_se", .double(k * full.mle.varianceStandardError)),
        ("k_var_fisher", .double(knownNorms)),
        ("linear_mean", .double(full.linear.mean)), ("k_mse_linear", .double(k * full.linear.mse)),
        ("k_mse_linear_se", .double(k * full.linear.mseStandardError)),
        ("normalized_mean", .double(full.normalized.mean)), ("k_mse_normalized", .double(k * full.normalized.mse)),
        ("k_mse_normalized_se", .double(k * full.normalized.mseStandardError)),
        ("k_mse_simhash", .null), ("bits_times_k_var_fisher", .null),
        ("research_k_var_mle", .null), ("research_k_var_fisher", .null),
      ]))
      lines.append([
        "fp", String(format: "%.1f", rho), String(format: "%.4f", full.mle.mean),
        String(format: "%.4g ± %.2g", k * full.mle.variance, k * full.mle.varianceStandardError),
        String(format: "%.4g", knownNorms),
        String(format: "%.3g", k * full.linear.mse), String(format: "%.3g", k * full.normalized.mse), "–", "–",
      ])
    }
    let header = ["b", "ρ", "MLE mean", "k·Var(MLE) ± SE", "1/I(ρ)", "k·MSE lin", "k·MSE cos", "k·MSE SimHash", "b/I"]
    let table = formatTable(header, lines)
      + "k = \(projections) projections, \(repetitions) repetitions per row; fp = full precision: MLE with known unit norms (theory (1−ρ²)²/(1+ρ²)) and the plain inner product (theory 1+ρ²)\n"

    // Fisher curves for the plot.
    // 0.1…0.95 keeps the axis at 0…1.2 (a wider span makes SVGPlot pick 0.5 steps).
    let curveRho = stride(from: 0.1, through: 0.951, by: 0.05).map { $0 }
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    var varianceSeries: [SVGPlot.Series] = []
    for (bi, bits) in bitWidths.enumerated() {
      varianceSeries.append(SVGPlot.Series(
        name: "b=\(bits) measured", color: colors[bi], points: measuredPoints[bits] ?? [], dash: nil, markers: true))
      varianceSeries.append(SVGPlot.Series(
        name: "b=\(bits) 1/I(ρ)", color: colors[bi],
        points: curveRho.map { (x: $0, y: 1 / estimators[bi].fisherInformation(rho: $0)) }, dash: "5 4", markers: false))
    }
    varianceSeries.append(SVGPlot.Series(
      name: "full precision (1−ρ²)²/(1+ρ²)", color: "#000000",
      points: curveRho.map { (x: $0, y: (1 - $0 * $0) * (1 - $0 * $0) / (1 + $0 * $0)) }, dash: "2 3", markers: false))
    let variancePlot = SVGPlot(
      id: "qrp-kvar-vs-rho", title: "QRP: k·Var of the MLE vs ρ (k = \(projections)), Fisher prediction dashed",
      xLabel: "cosine ρ", yLabel: "k · Var(ρ̂_MLE)", yLog: true, series: varianceSeries)

    let fisherB4 = 1 / estimators[3].fisherInformation(rho: 0.9)
    var notes = [
      "Fisher's 1/(k·I(ρ)) against the measured MLE variance: the largest gap is \(String(format: "%.1f", worstSE)) standard errors over the 12 rows (k = \(projections), \(repetitions) repetitions); the research measured (geometry.md §4.3, k·Var): " + comparisons.joined(separator: "; ") + ".",
      String(format: "b = 4, ρ = 0.9, which the research could not compute (its Φ2 had 1e−6 error): 1/I = %.4g with Φ2 accurate to ~1e−15 and cells below 1e−12 dropped; the research's measured k·Var there was 0.0233.", fisherB4),
      "The linear estimator (1/k)ΣQQ'/E[Q²] is biased (at b = 1 its mean is (2/π)·arcsin ρ = 0.194, 0.410, 0.713); the normalised cos(Q(z), Q(z')) is less biased from 3 bits on (Li & Slawski 2017), but the MLE is the only one near the Fisher bound at 1–2 bits. At b = 1 the MLE is SimHash's cos(π(1 − P̂_agree)).",
    ]

    // MARK: Table 2: bits vs projections at B = k·b
    let budgetRepetitions = repetitions
    var budgetRows: [JSONValue] = []
    var budgetLines: [[String]] = []
    var budgetMeasured: [Double: [(x: Double, y: Double)]] = [:]
    var best: [String] = []
    for rho in correlations {
      var bestBits = 0, bestValue = Double.infinity
      for (bi, bits) in bitWidths.enumerated() {
        let k = budget / bits
        settings.progress("qrp budget B=\(budget) b=\(bits) ρ=\(rho)")
        let samples = try simulate(
          estimators[bi], rho: rho, k: k, repetitions: budgetRepetitions, settings: settings,
          configuration: configuration, fullPrecision: false)
        configuration += 1
        let mle = Summary(samples.map(\.mle), truth: rho)
        let normalized = Summary(samples.map(\.normalized), truth: rho)
        let theory = Double(bits) / estimators[bi].fisherInformation(rho: rho)
        let B = Double(budget)
        if theory < bestValue { bestValue = theory; bestBits = bits }
        budgetMeasured[rho, default: []].append((x: Double(bits), y: B * mle.variance))
        budgetRows.append(.object([
          ("kind", .string("budget")), ("budget_bits", .int(budget)), ("bits", .int(bits)), ("projections", .int(k)),
          ("rho", .double(rho)), ("repetitions", .int(budgetRepetitions)),
          ("budget_var_mle", .double(B * mle.variance)), ("budget_var_mle_se", .double(B * mle.varianceStandardError)),
          ("budget_var_fisher", .double(theory)),
          ("budget_mse_normalized", .double(B * normalized.mse)),
          ("budget_mse_normalized_se", .double(B * normalized.mseStandardError)),
        ]))
        budgetLines.append([
          String(format: "%.1f", rho), "\(bits)", "\(k)",
          String(format: "%.4g ± %.2g", B * mle.variance, B * mle.varianceStandardError),
          String(format: "%.4g", theory),
          String(format: "%.4g ± %.2g", B * normalized.mse, B * normalized.mseStandardError),
        ])
      }
      best.append(String(format: "ρ = %.1f: b = %d", rho, bestBits))
    }
    let budgetTable = formatTable(["ρ", "b", "k = B/b", "B·Var(MLE) ± SE", "b/I(ρ)", "B·MSE cos ± SE"], budgetLines)
      + "B = \(budget) bits per vector, \(budgetRepetitions) repetitions per row\n"
    var budgetSeries: [SVGPlot.Series] = []
    let rhoColors = ["#1f77b4", "#ff7f0e", "#2ca02c"]
    for (ri, rho) in correlations.enumerated() {
      let e = estimators
      budgetSeries.append(SVGPlot.Series(
        name: String(format: "ρ=%.1f b/I", rho), color: rhoColors[ri],
        points: bitWidths.map { b in (x: Double(b), y: Double(b) / e[b - 1].fisherInformation(rho: rho)) }, dash: "5 4", markers: false))
      budgetSeries.append(SVGPlot.Series(
        name: String(format: "ρ=%.1f measured", rho), color: rhoColors[ri], points: budgetMeasured[rho] ?? [], dash: nil, markers: true))
    }
    let budgetPlot = SVGPlot(
      id: "qrp-budget", title: "QRP at a fixed budget B = k·b = \(budget) bits: variance × bits vs b",
      xLabel: "bits per projection b (k = B/b)", yLabel: "B · Var(ρ̂_MLE)", yLog: true, series: budgetSeries,
      xTicks: bitWidths.map(Double.init))
    let budgetNotes = [
      "Best bit width at a fixed budget by Fisher (b/I smallest): " + best.joined(separator: ", ")
        + ". The research (and Li, Mitzenmacher, Slawski 2016): at ρ ≤ 0.6 two bits are best (one bit close), at ρ = 0.9 three to four bits win — few bits and more projections, except at high similarity.",
    ]
    notes.append("Table 2 (kind \"budget\") repeats the trade-off measured at B = \(budget) bits.")

    return [
      ExperimentSection(
        key: "qrp", title: "Quantized random projections: MLE cosine vs linear, normalised and SimHash (k = \(projections))",
        rows: rows, table: table, notes: notes, plots: [variancePlot]),
      ExperimentSection(
        key: "qrp", title: "Quantized random projections: bits vs projections at B = \(budget) bits",
        rows: budgetRows, table: budgetTable, notes: budgetNotes, plots: [budgetPlot]),
    ]
  }

  /// `repetitions` draws of k bivariate-normal pairs at correlation ρ, quantized at the estimator's bit
  /// width, each with every estimate; chunks run in parallel, each repetition from its own generator.
  static func simulate(
    _ e: QRPCosineEstimator, rho: Double, k: Int, repetitions: Int, settings: ExperimentSettings, configuration: Int,
    fullPrecision: Bool
  ) throws -> [Sample] {
    let seed = settings.seed
    let chunks = try Parallel.mapChunks(count: repetitions, chunks: 32, threads: settings.threads) { range -> [Sample] in
      let thresholds = e.codebook.thresholds
      let s = ((1 - rho) * (1 + rho)).squareRoot()
      var z = [Double](repeating: 0, count: k), w = z
      var a = [UInt8](repeating: 0, count: k), b = a
      var out: [Sample] = []
      out.reserveCapacity(range.count)
      for r in range {
        var g = SeededGenerator(seed: seed, stream: UInt64(configuration) << 32 | UInt64(r))
        var agreements = 0
        for j in 0..<k {
          let x = g.nextGaussian(), y = rho * x + s * g.nextGaussian()
          z[j] = x; w[j] = y
          var qa = 0, qb = 0
          for t in thresholds {
            if t < x { qa += 1 }
            if t < y { qb += 1 }
          }
          a[j] = UInt8(qa); b[j] = UInt8(qb)
          if qa == qb { agreements += 1 }
        }
        var sample = Sample()
        sample.mle = e.maximumLikelihood(a, b)
        sample.linear = e.linearEstimate(a, b)
        sample.normalized = e.normalizedEstimate(a, b)
        if e.bits == 1 { sample.simHash = QRPCosineEstimator.simHashEstimate(agreements: agreements, projections: k) }
        if fullPrecision {
          var sxy = 0.0, sxx = 0.0, syy = 0.0
          for j in 0..<k { sxy += z[j] * w[j]; sxx += z[j] * z[j]; syy += w[j] * w[j] }
          sample.fullLinear = sxy / Double(k)
          sample.fullNormalized = sxy / (sxx * syy).squareRoot()
          sample.fullMLE = knownNormMLE(sxy: sxy, sxx: sxx, syy: syy, k: k, start: sample.fullNormalized)
        }
        out.append(sample)
      }
      return out
    }
    return chunks.flatMap { $0 }
  }

  /// The MLE of ρ from unquantized projections of two unit vectors (Li, Hastie, Church 2006): the root
  /// in [−1, 1] of ρ³ − (Sxy/k)ρ² + ((Sxx + Syy)/k − 1)ρ − Sxy/k (f(−1) ≤ 0 ≤ f(1)), by Newton from the
  /// normalised estimate, safeguarded by bisection.
  static func knownNormMLE(sxy: Double, sxx: Double, syy: Double, k: Int, start: Double) -> Double {
    let n = Double(k)
    let c2 = -sxy / n, c1 = (sxx + syy) / n - 1, c0 = -sxy / n
    var lo = -1.0, hi = 1.0
    var rho = min(0.999999, max(-0.999999, start))
    for _ in 0..<100 {
      let f = ((rho + c2) * rho + c1) * rho + c0
      let slope = (3 * rho + 2 * c2) * rho + c1
      if f < 0 { lo = rho } else { hi = rho }
      var next = slope != 0 ? rho - f / slope : .nan
      if !(next > lo && next < hi) { next = (lo + hi) / 2 }
      let step = abs(next - rho)
      rho = next
      if step < 1e-14 { break }
    }
    return rho
  }

  static func formatTable(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows { for (c, cell) in row.enumerated() { widths[c] = max(widths[c], cell.count) } }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { c, cell in String(repeating: " ", count: widths[c] - cell.count) + cell }
        .joined(separator: "  ")
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
  }
}
