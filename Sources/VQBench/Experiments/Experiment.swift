import Foundation
import VQ

/// The side experiments of `vq bench` beyond the quantizer table (issue 11: estimators and streams):
/// quantized random projections, 1-bit mean estimation, distributed mean estimation and compressed SGD,
/// precision scaling, low-rank streams. Each produces one or more `ExperimentSection`s: rows for
/// report.json under a top-level key, a text table for the terminal, plots for report.html.
///
/// Contract: an experiment is a pure function of `ExperimentSettings` (same seed, same rows, whatever
/// the thread count), and states its sample sizes in its table and in its rows.
public struct ExperimentSettings: Sendable {
  /// `.full`: the sample sizes the research notes give (what `vq bench` runs); `.quick`: small sizes for
  /// tests, through the same code path.
  public enum Scale: String, Sendable { case full, quick }

  public var seed: UInt64
  public var threads: Int
  public var scale: Scale
  /// The KV cache for the low-rank stream experiment (`nil`: the embedded kv-small sample).
  public var kvCache: KVCache?
  /// Short progress lines ("qrp b=2 ρ=0.6"); the CLI shows them on a terminal.
  public var progress: @Sendable (String) -> Void

  public init(
    seed: UInt64 = 1, threads: Int = Parallel.availableCores, scale: Scale = .full, kvCache: KVCache? = nil,
    progress: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.seed = seed
    self.threads = threads
    self.scale = scale
    self.kvCache = kvCache
    self.progress = progress
  }
}

/// One table of an experiment.
public struct ExperimentSection: Sendable {
  /// The report.json top-level key (`qrp`, `mean_estimation`, `dme`, `sgd`, `scaling`, `lowrank`).
  public var key: String
  /// A heading for the terminal and the page.
  public var title: String
  /// One JSON object per row; field names say what they hold (`k_var_mle`, `vnmse`, `samples`, …) and
  /// are the same in every row of the section.
  public var rows: [JSONValue]
  /// The table as printed on the terminal, sample sizes stated.
  public var table: String
  /// What the table shows and how to read it (theory beside measurement, caveats); one paragraph each.
  public var notes: [String]
  var plots: [SVGPlot]

  init(key: String, title: String, rows: [JSONValue], table: String, notes: [String] = [], plots: [SVGPlot] = []) {
    self.key = key
    self.title = title
    self.rows = rows
    self.table = table
    self.notes = notes
    self.plots = plots
  }
}

/// A named experiment the CLI can select (`--qrp`, `--dme`, …; `--estimators` runs all of them).
public struct Experiment: Sendable {
  /// The CLI flag without dashes, e.g. `dme`.
  public var flag: String
  /// What it measures, for `--help`.
  public var summary: String
  public var run: @Sendable (ExperimentSettings) throws -> [ExperimentSection]
}

public enum Experiments {
  /// Every experiment, in report order.
  public static let all: [Experiment] = [
    Experiment(
      flag: "qrp", summary: "quantized random projections: MLE cosine vs linear and SimHash, Fisher variance, bits vs projections",
      run: QRPExperiment.run),
    Experiment(
      flag: "mean-estimation", summary: "1-bit mean estimation: adaptive threshold queries vs non-adaptive, samples for (ε, δ)",
      run: MeanEstimationExperiment.run),
    Experiment(
      flag: "dme", summary: "distributed mean estimation (vNMSE vs theory) and compressed SGD / PQASGD (loss vs bits sent)",
      run: DMEExperiment.run),
    Experiment(
      flag: "scaling", summary: "precision scaling: additive vs multiplicative quantization of sketched linear regression",
      run: PrecisionScalingExperiment.run),
    Experiment(
      flag: "lowrank", summary: "low-rank KV streams (LASER-style tracker): memory saving vs attention fidelity",
      run: LowRankExperiment.run),
  ]

  public static func named(_ flag: String) -> Experiment? { all.first { $0.flag == flag } }
}
