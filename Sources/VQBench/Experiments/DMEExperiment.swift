import Foundation
import VQ
import VQData

/// `vq bench --dme`: distributed mean estimation (section `dme`) and compressed SGD (section `sgd`).
///
/// `dme` (research/asq-ipaware.md §6): d = 1024, x with N(0,1) or lognormal(0,1) coordinates; for each
/// client compressor the single-client vNMSE with its theory, n = 10 clients with different vectors and
/// n = 10 clients with the same vector (independent rotations and rounding), mean ± standard error over
/// the repetitions. `sgd` (§5): (a) the least-squares set-up of §5 (M = 8 workers, d = 256), f − f* after
/// K steps vs uplink bits; (b) logistic regression on the embedded MiniLM embeddings, label "source is
/// python-docs" (789 of 2 000) vs the rest, trained on the 2 000 base vectors, accuracy on the 100
/// held-out queries.
enum DMEExperiment {
  static func run(_ settings: ExperimentSettings) throws -> [ExperimentSection] {
    [try meanEstimationSection(settings), try sgdSection(settings)]
  }

  // MARK: - Distributed mean estimation

  enum Distribution: String, CaseIterable, Sendable { case normal, lognormal }

  struct DMEMethod: Sendable {
    var label: String
    var family: String
    var compressor: any ClientCompressor
    /// Single-client vNMSE theory (nil: none in closed form).
    var theory: Double?
  }

  static let dmeDimension = 1024
  static let dmeClients = 10

  static func dmeMethods(dimension d: Int) throws -> [DMEMethod] {
    var methods: [DMEMethod] = []
    for b in [1, 2, 4] {
      methods.append(DMEMethod(label: "EDEN \(b)-bit", family: "EDEN", compressor: try EDENCompressor.eden(bits: b, dimension: d),
                               theory: try DistributedMeanEstimation.edenTheoreticalVNMSE(bits: b)))
    }
    methods.append(DMEMethod(label: "DRIVE 1-bit (biased)", family: "DRIVE", compressor: try EDENCompressor.drive(dimension: d),
                             theory: DistributedMeanEstimation.driveTheoreticalNMSE(clients: 1)))
    for b in [1, 2, 4] {
      methods.append(DMEMethod(label: "Hadamard+SR \(b)-bit", family: "Hadamard+SR",
                               compressor: try StochasticRoundingCompressor.hadamard(bits: b, dimension: d), theory: nil))
    }
    for b in [2, 4] {
      methods.append(DMEMethod(label: "SR min-max \(b)-bit (no rotation)", family: "SR min-max",
                               compressor: try StochasticRoundingCompressor(bits: b, grid: .minMax, rotated: false, dimension: d),
                               theory: nil))
    }
    for b in [1, 2, 4] {
      methods.append(DMEMethod(label: "ASQ \(b)-bit", family: "ASQ", compressor: try StochasticRoundingCompressor.asq(bits: b, dimension: d),
                               theory: nil))
    }
    for s in [1, 3, 15] {
      // QSGD s = 1 on N(0, I): vNMSE = ‖x‖₁/‖x‖ − 1 ≈ √(2d/π) − 1 (theory for the normal rows only).
      methods.append(DMEMethod(label: "QSGD s=\(s)", family: "QSGD", compressor: try QSGDCompressor(levels: s, dimension: d),
                               theory: s == 1 ? (2 * Double(d) / Double.pi).squareRoot() - 1 : nil))
    }
    return methods
  }

  /// One repetition's errors for one method: single client, n distinct clients, n identical clients,
  /// and the DRIVE bias theory's ‖x̄‖²/E for the distinct clients.
  struct DMESample: Sendable {
    var single: Double
    var distinct: Double
    var same: Double
    var distinctMeanEnergyRatio: Double
  }

  static func clientVectors(_ distribution: Distribution, count: Int, dimension d: Int, seed: UInt64, repetition: Int) throws -> VectorBatch {
    var g = SeededGenerator(seed: seed, stream: 0x444D_4558_0000_0000 &+ UInt64(repetition) &* 4 &+ (distribution == .normal ? 0 : 1))
    var values = [Float](repeating: 0, count: count * d)
    for i in 0..<values.count {
      let z = g.nextGaussian()
      values[i] = Float(distribution == .normal ? z : Foundation.exp(z))
    }
    return try VectorBatch(dimension: d, values: values)
  }

  static func meanEstimationSection(_ settings: ExperimentSettings) throws -> ExperimentSection {
    let d = dmeDimension, n = dmeClients
    let repetitions = settings.scale == .full ? 300 : 12
    let methods = try dmeMethods(dimension: d)
    var rows: [JSONValue] = []
    var table = "Distributed mean estimation, d = \(d), \(repetitions) repetitions (fresh x and fresh client randomness each); "
      + "mean ± standard error. n = \(n): clients with different x_i (iid) or all with the same x.\n"
    table += pad("x", 10) + pad("method", 34) + pad("bits/coord", 11) + pad("vNMSE (1 client)", 22) + pad("theory", 9)
      + pad("NMSE n=10 distinct", 22) + pad("theory", 9) + pad("NMSE n=10 same x", 22) + "theory\n"
    var single: [Distribution: [(bits: Double, vnmse: Double, family: String)]] = [:]
    for distribution in Distribution.allCases {
      settings.progress("dme \(distribution.rawValue)")
      // Repetitions run concurrently in a fixed number of chunks; each has its own seeds.
      let chunks = min(repetitions, 24)
      let perChunk = try Parallel.mapChunks(count: repetitions, chunks: chunks, threads: settings.threads) { range in
        try range.map { rep -> [DMESample] in
          let distinct = try clientVectors(distribution, count: n, dimension: d, seed: settings.seed, repetition: rep)
          let same = VectorBatch.concatenated(Array(repeating: distinct.slice(0..<1), count: n), dimension: d)
          let ratio = meanEnergyRatio(distinct)
          return try methods.enumerated().map { m, method in
            let seed = settings.seed &+ UInt64(rep) &* 1_000_003 &+ UInt64(m) &* 7919
            let one = try DistributedMeanEstimation.estimateMean(distinct.slice(0..<1), compressor: method.compressor, seed: seed, round: 0)
            let many = try DistributedMeanEstimation.estimateMean(distinct, compressor: method.compressor, seed: seed, round: 1)
            let repeated = try DistributedMeanEstimation.estimateMean(same, compressor: method.compressor, seed: seed, round: 2)
            return DMESample(single: one.normalizedError, distinct: many.normalizedError, same: repeated.normalizedError,
                             distinctMeanEnergyRatio: ratio)
          }
        }
      }
      let samples = perChunk.flatMap { $0 }   // [rep][method]
      for (m, method) in methods.enumerated() {
        let one = MeanAndError(samples.map { $0[m].single })
        let many = MeanAndError(samples.map { $0[m].distinct })
        let repeated = MeanAndError(samples.map { $0[m].same })
        let unbiased = method.compressor.isUnbiased
        let theory = distribution == .normal || method.family != "QSGD" ? method.theory : nil
        let theoryDistinct: Double?, theorySame: Double?
        if unbiased {
          theoryDistinct = theory.map { $0 / Double(n) }
          theorySame = theoryDistinct
        } else {
          let ratio = MeanAndError(samples.map { $0[m].distinctMeanEnergyRatio }).mean
          theoryDistinct = DistributedMeanEstimation.driveTheoreticalNMSE(clients: n, meanEnergyRatio: ratio)
          theorySame = DistributedMeanEstimation.driveTheoreticalNMSE(clients: n)
        }
        let bits = method.compressor.bitsPerCoordinate
        single[distribution, default: []].append((bits, one.mean, method.family))
        rows.append(.object([
          ("distribution", .string(distribution.rawValue)),
          ("method", .string(method.label)),
          ("family", .string(method.family)),
          ("unbiased", .bool(unbiased)),
          ("dimension", .int(d)),
          ("bits_per_coordinate", .double(bits)),
          ("message_bits", .int(method.compressor.bitsPerMessage)),
          ("repetitions", .int(repetitions)),
          ("vnmse", .double(one.mean)),
          ("vnmse_se", .double(one.standardError)),
          ("vnmse_theory", theory.map { .double($0) } ?? .null),
          ("clients", .int(n)),
          ("nmse_distinct", .double(many.mean)),
          ("nmse_distinct_se", .double(many.standardError)),
          ("nmse_distinct_theory", theoryDistinct.map { .double($0) } ?? .null),
          ("nmse_same", .double(repeated.mean)),
          ("nmse_same_se", .double(repeated.standardError)),
          ("nmse_same_theory", theorySame.map { .double($0) } ?? .null),
        ]))
        table += pad(distribution.rawValue, 10) + pad(method.label, 34) + pad(fixed(bits, 3), 11)
          + pad(one.text, 22) + pad(theory.map { sig($0) } ?? "–", 9)
          + pad(many.text, 22) + pad(theoryDistinct.map { sig($0) } ?? "–", 9)
          + pad(repeated.text, 22) + (theorySame.map { sig($0) } ?? "–") + "\n"
      }
    }
    let notes = [
      "vNMSE = ‖x̂ − x‖²/‖x‖² for one client; NMSE = ‖mean̂ − mean‖²/((1/n)Σ‖x_i‖²) for n = \(n) clients, each with "
        + "its own seeded rotation and rounding. Unbiased compressors average down: theory v/n in both n = \(n) columns.",
      "EDEN theory 1/(1 − D_b) − 1 with D_b the Lloyd–Max MSE of N(0,1) (π/2 − 1 at 1 bit); it is the d → ∞ limit, "
        + "d = \(d) reads about 0.4 % lower at 1 bit. DRIVE (biased scale ‖y‖₁/d): 1 − 2/π for one client; its estimate is "
        + "≈ (2/π)x plus zero-mean noise, so with n clients NMSE → (1 − 2/π)²·‖x̄‖²/E + (2/π)(1 − 2/π)/n: the bias does not "
        + "average down when the clients' vectors share a direction (same x: floor (1 − 2/π)² = 0.132; lognormal x share "
        + "the mean e^{1/2}·1), while for independent zero-mean normal x the biases cancel like noise.",
      "Bits per coordinate include every side value: EDEN/DRIVE n·b + 32 (scale), Hadamard+SR n·b + 64 (min, max), "
        + "ASQ d·b + 32·2^b (its levels), QSGD 32 + d·⌈log2(2s+1)⌉ (a fixed-width signed level; s = 1, 3, 15 → 2, 3, 5 bits). "
        + "Rotation seeds are shared randomness (derived from round and client) and cost no bits. QSGD theory "
        + "√(2d/π) − 1 is for s = 1 on normal x.",
    ]
    let colors = ["EDEN": "#1f77b4", "DRIVE": "#d62728", "Hadamard+SR": "#2ca02c", "SR min-max": "#8c564b",
                  "ASQ": "#9467bd", "QSGD": "#ff7f0e"]
    var plot = SVGPlot(id: "dme-vnmse-bits", title: "DME: single-client vNMSE vs bits per coordinate (d = \(d), normal x)",
                       xLabel: "bits per coordinate (side data included)", yLabel: "vNMSE", xLog: true, yLog: true)
    for family in ["EDEN", "DRIVE", "Hadamard+SR", "SR min-max", "ASQ", "QSGD"] {
      let points = (single[.normal] ?? []).filter { $0.family == family }.map { (x: $0.bits, y: $0.vnmse) }
      plot.series.append(SVGPlot.Series(name: family, color: colors[family]!, points: points))
    }
    let edenTheory = try [1, 2, 4].map { b in
      (x: Double(b) + 32 / Double(d), y: try DistributedMeanEstimation.edenTheoreticalVNMSE(bits: b))
    }
    plot.series.append(SVGPlot.Series(name: "EDEN theory", color: "#1f77b4", points: edenTheory, dash: "5,4", markers: false))
    return ExperimentSection(key: "dme", title: "Distributed mean estimation (d = \(d), \(repetitions) repetitions)",
                             rows: rows, table: table, notes: notes, plots: [plot])
  }

  static func meanEnergyRatio(_ x: VectorBatch) -> Double {
    let d = x.dimension, n = x.count
    var mean = [Double](repeating: 0, count: d), energy = 0.0
    x.withUnsafeBufferPointer { v in
      for i in 0..<n {
        for j in 0..<d {
          mean[j] += Double(v[i * d + j])
          energy += Double(v[i * d + j]) * Double(v[i * d + j])
        }
      }
    }
    var meanNorm = 0.0
    for j in 0..<d { meanNorm += (mean[j] / Double(n)) * (mean[j] / Double(n)) }
    return meanNorm / (energy / Double(n))
  }

  // MARK: - Compressed SGD

  struct SGDMethod: Sendable {
    var label: String
    var period: Int
    var compressor: any ClientCompressor
    var color: String
  }

  static func sgdMethods(dimension d: Int, period: Int) throws -> [SGDMethod] {
    let fp32 = try FullPrecisionCompressor(dimension: d)
    return [
      SGDMethod(label: "sync SGD fp32", period: 1, compressor: fp32, color: "#000000"),
      SGDMethod(label: "sync QSGD s=2", period: 1, compressor: try QSGDCompressor(levels: 2, dimension: d), color: "#ff7f0e"),
      SGDMethod(label: "sync EDEN 1-bit", period: 1, compressor: try EDENCompressor.eden(bits: 1, dimension: d), color: "#1f77b4"),
      SGDMethod(label: "sync EDEN 2-bit", period: 1, compressor: try EDENCompressor.eden(bits: 2, dimension: d), color: "#17becf"),
      SGDMethod(label: "local SGD fp32 p=\(period)", period: period, compressor: fp32, color: "#7f7f7f"),
      SGDMethod(label: "PQASGD QSGD s=2 p=\(period)", period: period, compressor: try QSGDCompressor(levels: 2, dimension: d), color: "#d62728"),
      SGDMethod(label: "PQASGD EDEN 1-bit p=\(period)", period: period, compressor: try EDENCompressor.eden(bits: 1, dimension: d), color: "#9467bd"),
      SGDMethod(label: "PQASGD EDEN 2-bit p=\(2 * period)", period: 2 * period, compressor: try EDENCompressor.eden(bits: 2, dimension: d), color: "#2ca02c"),
    ]
  }

  struct SGDProblemResult {
    var rows: [JSONValue]
    var table: String
    var plot: SVGPlot
  }

  /// Runs every method `repeats` times (method × repeat jobs concurrently) and tabulates.
  static func runSGD(
    problem: String, title: String, plotTitle: String, methods: [SGDMethod], repeats: Int, configuration: (SGDMethod) -> CompressedSGD.Configuration,
    objective: @escaping @Sendable (Int) throws -> (any DistributedObjective, optimum: Double, initial: Double),
    accuracy: @escaping @Sendable ([Float]) -> Double?, settings: ExperimentSettings
  ) throws -> SGDProblemResult {
    let configurations = methods.map(configuration)
    // Objectives (data and optimum) per repeat, built once.
    let objectives = try Parallel.mapChunks(count: repeats, chunks: repeats, threads: settings.threads) { try objective($0.lowerBound) }
    let jobs = methods.count * repeats
    let outcomes = try Parallel.mapChunks(count: jobs, chunks: jobs, threads: settings.threads) { range in
      let m = range.lowerBound / repeats, r = range.lowerBound % repeats
      let outcome = try CompressedSGD.run(objectives[r].0, configurations[m], seed: settings.seed &+ 97 &* UInt64(r + 1), threads: 1)
      return (outcome, accuracy(outcome.weights))
    }
    var rows: [JSONValue] = []
    let fp32Bits = Double(outcomes[0].0.bitsPerWorker)
    let first = configurations[0]
    var table = "\(title)\n" + pad("method", 30) + pad("bits/coord/msg", 15) + pad("rounds", 8) + pad("bits/worker", 13)
      + pad("÷ fp32", 8) + pad("final loss", 22) + pad("f − f*", 22) + "test acc\n"
    var plot = SVGPlot(id: "sgd-\(problem)", title: plotTitle, xLabel: "bits sent per worker",
                       yLabel: "f − f*", xLog: true, yLog: true)
    for (m, method) in methods.enumerated() {
      let runs = (0..<repeats).map { outcomes[m * repeats + $0] }
      let loss = MeanAndError(runs.map { $0.0.finalLoss })
      let excess = MeanAndError((0..<repeats).map { runs[$0].0.finalLoss - objectives[$0].optimum })
      let accuracies = runs.compactMap { $0.1 }
      let acc = accuracies.isEmpty ? nil : MeanAndError(accuracies)
      let bits = runs[0].0.bitsPerWorker, c = configurations[m]
      rows.append(.object([
        ("problem", .string(problem)),
        ("method", .string(method.label)),
        ("compressor", .string(method.compressor.name)),
        ("period", .int(method.period)),
        ("workers", .int(objectives[0].0.workerCount)),
        ("dimension", .int(objectives[0].0.dimension)),
        ("steps", .int(c.steps)),
        ("batch", .int(c.batch)),
        ("learning_rate", .double(c.learningRate)),
        ("repeats", .int(repeats)),
        ("bits_per_coordinate_per_message", .double(method.compressor.bitsPerCoordinate)),
        ("rounds", .int(runs[0].0.rounds)),
        ("bits_per_worker", .int(bits)),
        ("bits_fraction_of_fp32", .double(Double(bits) / fp32Bits)),
        ("initial_loss", .double(MeanAndError(objectives.map(\.initial)).mean)),
        ("optimal_loss", .double(MeanAndError(objectives.map(\.optimum)).mean)),
        ("final_loss", .double(loss.mean)),
        ("final_loss_se", .double(loss.standardError)),
        ("excess_loss", .double(excess.mean)),
        ("excess_loss_se", .double(excess.standardError)),
        ("test_accuracy", acc.map { .double($0.mean) } ?? .null),
      ]))
      table += pad(method.label, 30) + pad(fixed(method.compressor.bitsPerCoordinate, 3), 15) + pad(String(runs[0].0.rounds), 8)
        + pad(megabits(bits), 13) + pad("1/" + fixed(fp32Bits / Double(bits), 1), 8) + pad(loss.text, 22) + pad(excess.text, 22)
        + (acc.map { fixed($0.mean, 3) } ?? "–") + "\n"
      // The trace, averaged over repeats (checkpoints are the same rounds in every repeat).
      let points = runs[0].0.trace.indices.dropFirst().map { t in
        let mean = (0..<repeats).map { runs[$0].0.trace[t].loss - objectives[$0].optimum }.reduce(0, +) / Double(repeats)
        return (x: Double(runs[0].0.trace[t].bitsPerWorker), y: mean)
      }
      plot.series.append(SVGPlot.Series(name: method.label, color: method.color, points: points))
    }
    let initialGap = MeanAndError((0..<repeats).map { objectives[$0].initial - objectives[$0].optimum }).mean
    table += "(K = \(first.steps) steps, batch \(first.batch), η = \(first.learningRate), \(repeats) repeats; mean ± SE; "
      + "f(0) − f* = \(sig(initialGap)), f* = \(sig(MeanAndError(objectives.map(\.optimum)).mean)))\n"
    return SGDProblemResult(rows: rows, table: table, plot: plot)
  }

  static func sgdSection(_ settings: ExperimentSettings) throws -> ExperimentSection {
    let full = settings.scale == .full
    // (a) Least squares, research/asq-ipaware.md §5.
    settings.progress("sgd least squares")
    let lsDimension = 256, lsWorkers = 8, lsRows = 512
    let lsSteps = full ? 2000 : 200, lsRepeats = full ? 3 : 1
    let lsSeed = settings.seed
    let ls = try runSGD(
      problem: "least_squares", title: "Least squares, M = \(lsWorkers) workers, d = \(lsDimension), \(lsRows) rows/worker, noise 0.1",
      plotTitle: "Least squares (M = \(lsWorkers), d = \(lsDimension)): f − f* vs uplink bits",
      methods: try sgdMethods(dimension: lsDimension, period: 4), repeats: lsRepeats,
      configuration: { CompressedSGD.Configuration(steps: lsSteps, batch: 8, learningRate: 0.5, period: $0.period, compressor: $0.compressor) },
      objective: { r in
        let problem = try LeastSquaresObjective.synthetic(workers: lsWorkers, rowsPerWorker: lsRows, dimension: lsDimension,
                                                          noise: 0.1, seed: lsSeed &+ UInt64(r) &* 31)
        let optimum = try problem.minimum().loss
        return (problem, optimum, problem.loss([Float](repeating: 0, count: lsDimension)))
      },
      accuracy: { _ in nil }, settings: settings)

    // (b) Logistic regression on MiniLM embeddings.
    settings.progress("sgd logistic regression (MiniLM)")
    let data = try miniLMClassification(rowLimit: full ? nil : 400)
    let lrWorkers = 8, lrSteps = full ? 1000 : 200, lrRepeats = full ? 3 : 1
    let lrRate = 2.0, lambda = 1e-3
    let lrProblem = try LogisticRegressionObjective(features: data.train, labels: data.trainLabels, dimension: data.dimension,
                                                    workers: lrWorkers, regularization: lambda)
    let lrOptimum = try lrProblem.minimum().loss
    let lrInitial = lrProblem.loss([Float](repeating: 0, count: data.dimension))
    let lr = try runSGD(
      problem: "logistic_minilm",
      title: "Logistic regression, MiniLM (\(data.trainLabels.count) rows, d = 384 + bias), python-docs vs rest, M = \(lrWorkers), λ = \(lambda)",
      plotTitle: "Logistic regression on MiniLM (M = \(lrWorkers)): f − f* vs uplink bits",
      methods: try sgdMethods(dimension: data.dimension, period: 4), repeats: lrRepeats,
      configuration: { CompressedSGD.Configuration(steps: lrSteps, batch: 8, learningRate: lrRate, period: $0.period, compressor: $0.compressor) },
      objective: { _ in (lrProblem, lrOptimum, lrInitial) },
      accuracy: { w in LogisticRegressionObjective.accuracy(weights: w, features: data.test, labels: data.testLabels) },
      settings: settings)

    let notes = [
      "One loop for all methods: every round each worker starts from the shared model, takes p local minibatch steps "
        + "and sends its compressed displacement; the server adds the mean. p = 1 is synchronous (quantized) SGD, fp32 "
        + "with p > 1 local SGD, a compressor with p > 1 PQASGD (Jiang & Agrawal 2018). Bits are uplink bits per worker, "
        + "side values included; EDEN pads d = 385 to 512 (bits per coordinate per message say so).",
      "Least squares (§5): rows N(0, I/d), w_true ~ N(0, I), f(w) = ‖Aw − y‖²/(2N), f* from the normal equations; each "
        + "repeat draws new data and new SGD randomness. The notes' numpy run (3 repeats): fp32 6.92e-4, QSGD 8.58e-4, "
        + "EDEN-1 6.67e-4, PQASGD+EDEN-1 7.11e-4 at 1/114 of the bits.",
      "Logistic regression: base MiniLM vectors centred and scaled to mean squared norm 1, plus a constant 1 feature; "
        + "label 1 when base.src is python-docs; λ = \(lambda) (bias regularized too); f* by Newton's method; "
        + "test accuracy on the 100 queries (label from query.src), \(lrRepeats) repeats of the SGD randomness on the same data.",
    ]
    var lrPlot = lr.plot
    lrPlot.id = "sgd-logistic-minilm"
    return ExperimentSection(
      key: "sgd", title: "Compressed SGD: sync, local, PQASGD (loss vs uplink bits)",
      rows: ls.rows + lr.rows, table: ls.table + "\n" + lr.table, notes: notes, plots: [ls.plot, lrPlot])
  }

  struct Classification: Sendable {
    var dimension: Int
    var train: [Float]
    var trainLabels: [Float]
    var test: [Float]
    var testLabels: [Float]
  }

  /// The MiniLM classification task: features centred on the training mean, scaled to mean squared norm 1,
  /// plus a constant feature; label 1 for python-docs.
  static func miniLMClassification(rowLimit: Int?) throws -> Classification {
    guard let set = EmbeddedData.miniLMSmall else {
      throw VQError.io(path: "Data/minilm-small", detail: "the embedded MiniLM data set is missing (set VQ_DATA_DIR)")
    }
    func labels(_ url: URL, count: Int) throws -> [Float] {
      let text: String
      do { text = try String(contentsOf: url, encoding: .utf8) } catch {
        throw VQError.io(path: url.path, detail: "cannot read the source tags: \(error.localizedDescription)")
      }
      let tags = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(count).map { String($0) }
      guard tags.count == count else {
        throw VQError.corrupt(path: url.path, detail: "\(tags.count) source tags for \(count) vectors")
      }
      return tags.map { $0 == "python-docs" ? 1 : 0 }
    }
    let folder = set.base.deletingLastPathComponent()
    var base = try VectorIO.readVectors(at: set.base.path)
    if let rowLimit, rowLimit < base.count { base = base.slice(0..<rowLimit) }
    let queries = try VectorIO.readVectors(at: set.queries.path)
    let trainLabels = try labels(folder.appendingPathComponent("base.src"), count: base.count)
    let testLabels = try labels(folder.appendingPathComponent("query.src"), count: queries.count)
    let d = base.dimension
    var mean = [Double](repeating: 0, count: d)
    base.withUnsafeBufferPointer { v in for i in 0..<base.count { for j in 0..<d { mean[j] += Double(v[i * d + j]) } } }
    for j in 0..<d { mean[j] /= Double(base.count) }
    var energy = 0.0
    base.withUnsafeBufferPointer { v in
      for i in 0..<base.count { for j in 0..<d { let c = Double(v[i * d + j]) - mean[j]; energy += c * c } }
    }
    let scale = 1 / (energy / Double(base.count)).squareRoot()
    func features(_ x: VectorBatch) -> [Float] {
      var out = [Float](repeating: 0, count: x.count * (d + 1))
      x.withUnsafeBufferPointer { v in
        for i in 0..<x.count {
          for j in 0..<d { out[i * (d + 1) + j] = Float((Double(v[i * d + j]) - mean[j]) * scale) }
          out[i * (d + 1) + d] = 1
        }
      }
      return out
    }
    return Classification(dimension: d + 1, train: features(base), trainLabels: trainLabels,
                           test: features(queries), testLabels: testLabels)
  }

  // MARK: - Formatting

  struct MeanAndError {
    var mean: Double
    var standardError: Double
    init(_ values: [Double]) {
      let n = Double(values.count)
      let m = values.reduce(0, +) / max(n, 1)
      mean = m
      let variance = values.count > 1 ? values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1) : 0
      // One value has no standard error: NaN (report.json null, "–" in the table).
      standardError = values.count > 1 ? (variance / n).squareRoot() : .nan
    }
    var text: String {
      DMEExperiment.sig(mean) + " ± " + (standardError.isFinite ? DMEExperiment.sig(standardError, digits: 2) : "–")
    }
  }

  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
  }
  static func fixed(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
  static func sig(_ v: Double, digits: Int = 4) -> String { String(format: "%.\(digits)g", v) }
  static func megabits(_ bits: Int) -> String { String(format: "%.4g Mbit", Double(bits) / 1e6) }
}
