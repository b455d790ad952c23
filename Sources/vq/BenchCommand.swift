import ArgumentParser
import Foundation
import VQ
import VQBench
import VQData

/// `vq bench`: every registered spec at every supported bit width, on the embedded data (or `--data`) and
/// the embedded KV-cache sample, with the theory beside the measurements.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Compare every quantizer at every bit width: reconstruction, inner products, recall, KV-cache attention, speed.",
    discussion: """
      Default data: the embedded MiniLM-small set (2,000 × 384) and the embedded SmolLM2 KV-cache sample \
      (3 layers × 2 heads × 512 tokens). Prints the tables (the best value per criterion and bit width \
      marked with *), the theory of the research notes beside the measurements, and writes report.json and \
      report.html into --out, atomically. Progress goes to stderr when it is a terminal.

      Default methods: \(Bench.defaultMethods.joined(separator: ", ")) (those registered). Others run with \
      --methods NAME, or --methods all (each spec not named is first probed and skipped if its predicted time \
      exceeds --budget).

      Criteria (--criteria): \(TextReport.criteria.joined(separator: ", ")).
      """)

  @Option(help: "Folder for report.json and report.html (created if missing; its parent must exist).")
  var out = "vq-report"

  @Option(help: ArgumentHelp(
    "A folder with base.fvecs or base.npy, optionally query.fvecs|npy and groundtruth.ivecs|npy; default: the embedded MiniLM-small set.",
    valueName: "dir"))
  var data: String?

  @Option(help: "Methods or full specs to run, comma-separated (e.g. 'int,fp16' or 'int:bits=4'); 'all': every registered method under --budget; default: the default set (see vq bench --help).")
  var methods: String?

  @Option(help: "Bit widths to run for methods with a 'bits' key, comma-separated (e.g. '1,2,4'); default: all.")
  var bits: String?

  @Option(help: "Criteria to show, comma-separated (default: all); 'kv' and 'speed' are measured only when shown.")
  var criteria: String?

  @Option(help: "Seed for every spec's rotation/projection and for held-out queries (default: each spec's own default).")
  var seed: UInt64?

  @Option(help: "Worker threads (results do not depend on it; default: the cores available).")
  var threads: Int?

  @Option(help: "Per-spec time budget in seconds for methods not named in --methods (0: no budget).")
  var budget: Double = 20

  @Option(help: ArgumentHelp(
    "KV-cache folder (keys.npy, values.npy, queries.npy: [layers, heads, tokens, head_dim]); 'none' to skip; default: the embedded sample.",
    valueName: "dir"))
  var kv: String?

  @Option(help: "Use only the first N tokens of the KV cache.")
  var kvTokens: Int?

  @Option(help: "Run a peer on the same data and print both side by side ('faiss': Tools/faiss_peer.py, FAISS from PyPI).")
  var peer: String?

  @Flag(help: "Print the report JSON on stdout instead of the tables.")
  var json = false

  @Flag(help: "Print the direction-preservation table (research/geometry.md 1.5: spherical-code bound, cosine loss, angles, gap in bits) and exit.")
  var geometry = false

  @Flag(help: "Print the price-of-universality tables (research/geometry.md 2.3, with the embedded query set's spectrum) and exit.")
  var universality = false

  @Flag(help: "Run every estimator and stream experiment (--qrp, --mean-estimation, --dme, --scaling, --lowrank) and write report.json and report.html into --out.")
  var estimators = false

  @Flag(help: "Quantized random projections: MLE cosine vs the linear and SimHash estimators, Fisher variance, bits vs projections.")
  var qrp = false

  @Flag(help: "1-bit mean estimation: adaptive threshold queries vs non-adaptive, samples needed for (ε, δ).")
  var meanEstimation = false

  @Flag(help: "Distributed mean estimation (vNMSE vs theory) and compressed SGD / PQASGD (loss vs bits sent).")
  var dme = false

  @Flag(help: "Precision scaling: additive vs multiplicative quantization of a sketched linear regression.")
  var scaling = false

  @Flag(help: "Low-rank KV streams: a LASER-style subspace tracker, memory saving vs attention fidelity (--kv DIR or the embedded sample).")
  var lowrank = false

  @Flag(help: "With the experiments above: small sample sizes, for a quick look (the tests use them).")
  var quick = false

  /// The experiments the flags select, in report order.
  var selectedExperiments: [Experiment] {
    let chosen: Set<String> = Set([
      ("qrp", qrp), ("mean-estimation", meanEstimation), ("dme", dme), ("scaling", scaling), ("lowrank", lowrank),
    ].filter { $0.1 }.map(\.0))
    return Experiments.all.filter { estimators || chosen.contains($0.flag) }
  }

  func runExperiments(_ experiments: [Experiment]) throws {
    try Self.prepareFolder(out, create: false)
    let showProgress = Terminal.standardErrorIsTerminal
    let wantsKV = experiments.contains { $0.flag == "lowrank" }
    let settings = ExperimentSettings(
      seed: seed ?? 1, threads: threads ?? Parallel.availableCores, scale: quick ? .quick : .full,
      kvCache: wantsKV ? try loadKVCache()?.cache : nil,
      progress: { line in if showProgress { Terminal.writeError("\r\u{1B}[K\(line)") } })
    let report = try ExperimentReport.run(experiments, settings: settings)
    if showProgress { Terminal.writeError("\r\u{1B}[K") }
    let paths = try report.write(folder: try Self.prepareFolder(out))
    if json {
      print(report.jsonValue.rendered(pretty: true))
      return
    }
    print(report.text + "; wrote \(paths.json), \(paths.html)")
  }

  func run() throws {
    // Options every mode reads.
    if let threads, threads < 1 { throw VQError.outOfRange("--threads: \(threads) is not a positive thread count") }
    if let kvTokens, kvTokens < 8 { throw VQError.outOfRange("--kv-tokens: \(kvTokens) is below 8 (top-8 overlap needs 8 keys)") }
    let experiments = selectedExperiments
    if !experiments.isEmpty { return try runExperiments(experiments) }
    if quick { throw VQError.invalidArgument("--quick: only with --estimators, --qrp, --mean-estimation, --dme, --scaling or --lowrank") }
    if geometry || universality {
      let progress: (String) -> Void = { if Terminal.standardErrorIsTerminal { Terminal.writeError("\r\u{1B}[K\($0)") } }
      if geometry { print(GeometryReport.text(try GeometryReport.run(progress: progress))) }
      if universality { print(try UniversalityReport.text(progress: progress)) }
      if Terminal.standardErrorIsTerminal { Terminal.writeError("\r\u{1B}[K") }
      return
    }
    let bitWidths = try bits.map(Self.parseBits)
    let shown = try criteria.map(Self.parseCriteria)
    if budget < 0 || !budget.isFinite { throw VQError.outOfRange("--budget: \(budget) is not a non-negative number of seconds") }
    if let peer, peer.lowercased() != "faiss" { throw VQError.invalidArgument("--peer: unknown peer '\(peer)' (known: faiss)") }
    let everything = methods?.trimmingCharacters(in: .whitespaces).lowercased() == "all"
    let methodList = everything ? nil : methods.map(Bench.splitMethodList)
    var specs = try Bench.plan(methods: methodList, bits: bitWidths, defaultSet: methods == nil ? Bench.defaultMethods : nil)
    if let seed { specs = try specs.map { try Bench.reseeded($0, seed: seed) } }
    var seen = Set<QuantizerSpec>()
    specs = specs.filter { seen.insert($0).inserted }
    // Specs named in full, or methods named, run whatever the budget says.
    let requested: Set<QuantizerSpec> = methodList == nil ? [] : Set(specs)
    try Self.prepareFolder(out, create: false)

    let started = Date()
    let (evaluation, datasetName) = try loadEvaluation()
    let wantKV = shown?.contains("kv") ?? true
    let cache = wantKV ? try loadKVCache() : nil
    var options = BenchOptions(
      timing: shown?.contains("speed") ?? true, budgetSeconds: budget > 0 ? budget : nil, kvCache: cache?.cache)
    if let threads { options.threads = threads }
    let showProgress = Terminal.standardErrorIsTerminal
    let outcome = try Bench.measure(specs, on: evaluation, requested: requested, options: options) { i, total, spec in
      if showProgress { Terminal.writeError("\r\u{1B}[K[\(i + 1)/\(total)] \(spec)") }
    }
    if showProgress { Terminal.writeError("\r\u{1B}[K") }
    var peerJSON: JSONValue?
    var peerText: String?
    if peer != nil {
      switch FAISSPeer.run(rows: outcome.rows, evaluation: evaluation, threads: options.threads) {
      case .measured(let json, let table):
        peerJSON = json
        peerText = table
      case .skipped(let why):
        peerJSON = .object([("tool", .string("faiss")), ("skipped", .string(why))])
        peerText = "peer faiss skipped: \(why)"
      }
    }
    let elapsed = Date().timeIntervalSince(started)
    let report = BenchReport(
      dataset: DatasetInfo(name: datasetName, evaluation: evaluation), elapsedSeconds: elapsed, outcome: outcome,
      seed: seed, kvDataset: cache.map { KVDatasetInfo(name: $0.name, cache: $0.cache) }, peer: peerJSON)
    let folder = try Self.prepareFolder(out)
    let jsonPath = folder + "/report.json", htmlPath = folder + "/report.html"
    try report.write(to: jsonPath)
    try HTMLReport.write(report, to: htmlPath)
    if json {
      print(report.jsonString())
      return
    }
    let normalized = evaluation.isNormalized ? "L2-normalized" : "norms kept"
    print("\(datasetName): \(evaluation.base.count) base vectors, \(evaluation.queries.count) queries, d = \(evaluation.dimension), \(normalized)")
    if let cache {
      let c = cache.cache
      print("KV cache \(cache.name): layers \(c.layerNames.map(String.init).joined(separator: ",")), \(c.kvHeads) KV heads, \(c.queryHeads) query heads, \(c.tokens) tokens, head_dim \(c.headDimension)")
    }
    print(TextReport.benchReport(outcome.rows, criteria: shown.map(Set.init)))
    for s in outcome.skipped { print("skipped \(s.spec): \(s.reason)") }
    let outside = Bench.methodsOutsideDefault()
    if methods == nil && !outside.isEmpty {
      print("not in the default set (slow here; run with --methods NAME or --methods all): \(outside.joined(separator: ", "))")
    }
    for r in outcome.rows { if let e = r.kvError { print("kv \(r.spec): \(e)") } }
    if let peerText { print(""); print(peerText) }
    print("\(outcome.rows.count) specs in \(String(format: "%.1f", elapsed)) s "
      + "(\(report.build.configuration) build, kernels \(report.machine.kernelLevel), \(options.threads) threads); wrote \(jsonPath), \(htmlPath)")
  }

  /// The embedding set: `--data` or the embedded MiniLM-small.
  func loadEvaluation() throws -> (Evaluation, String) {
    guard let data else {
      guard let set = EmbeddedData.miniLMSmall else {
        throw VQError.io(path: "minilm-small", detail: "embedded data not found (set VQ_DATA_DIR to a folder holding minilm-small/)")
      }
      let e = try Evaluation(
        base: VectorIO.readVectors(at: set.base.path),
        queries: VectorIO.readVectors(at: set.queries.path),
        groundTruth: VectorIO.readIntVectors(at: set.groundTruth.path),
        sources: .init(base: set.base.path, queries: set.queries.path, groundTruth: set.groundTruth.path))
      return (e, "minilm-small")
    }
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: data, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw VQError.io(path: data, detail: "--data: not a folder")
    }
    func find(_ stems: [String], _ extensions: [String]) -> String? {
      for stem in stems {
        for ext in extensions where fm.fileExists(atPath: "\(data)/\(stem).\(ext)") { return "\(data)/\(stem).\(ext)" }
      }
      return nil
    }
    guard let base = find(["base"], ["fvecs", "npy", "bvecs"]) else {
      throw VQError.io(path: data, detail: "--data: no base.fvecs, base.npy or base.bvecs in the folder")
    }
    let queries = find(["query", "queries"], ["fvecs", "npy", "bvecs"])
    let truth = find(["groundtruth", "ground_truth", "gt"], ["ivecs", "npy"])
    if truth != nil && queries == nil {
      throw VQError.invalidArgument("\(truth!): ground truth needs the queries it was computed for (add query.fvecs or query.npy)")
    }
    let e = try Evaluation(
      base: VectorIO.readVectors(at: base),
      queries: try queries.map { try VectorIO.readVectors(at: $0) },
      groundTruth: try truth.map { try VectorIO.readIntVectors(at: $0) },
      holdoutSeed: seed,
      sources: .init(base: base, queries: queries ?? "queries", groundTruth: truth ?? "ground truth"))
    return (e, URL(fileURLWithPath: data).lastPathComponent)
  }

  /// The KV cache: `--kv DIR`, none with `--kv none`, else the embedded sample (skipped quietly if absent).
  func loadKVCache() throws -> (name: String, cache: KVCache)? {
    if let kv {
      if kv.lowercased() == "none" { return nil }
      return (URL(fileURLWithPath: kv).lastPathComponent, try KVCache(folder: kv, tokens: kvTokens))
    }
    guard let dir = EmbeddedData.directory("kv-small") else { return nil }
    return ("kv-small", try KVCache(folder: dir.path, tokens: kvTokens))
  }

  static func parseBits(_ text: String) throws -> [Int] {
    try text.split(separator: ",").map { token in
      let t = token.trimmingCharacters(in: .whitespaces)
      guard let b = Int(t), b >= 1 else { throw VQError.outOfRange("--bits: '\(t)' is not a positive bit width") }
      return b
    }
  }

  static func parseCriteria(_ text: String) throws -> [String] {
    try text.split(separator: ",").map { token in
      let t = token.trimmingCharacters(in: .whitespaces).lowercased()
      guard TextReport.criteria.contains(t) else {
        throw VQError.invalidArgument("--criteria: unknown criterion '\(t)' (known: \(TextReport.criteria.joined(separator: ", ")))")
      }
      return t
    }
  }

  /// Makes sure `path` is a folder, creating it (not its parents) if missing; returns the path. With
  /// `create: false` only checks that it could be made: commands check first and create the folder only
  /// once they have results to write, so a failed run leaves nothing behind.
  @discardableResult
  static func prepareFolder(_ path: String, create: Bool = true) throws -> String {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else { throw VQError.io(path: path, detail: "exists and is not a folder") }
      return path
    }
    let parent = (path as NSString).deletingLastPathComponent
    let parentPath = parent.isEmpty ? "." : parent
    guard fm.fileExists(atPath: parentPath, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw VQError.io(path: path, detail: "parent folder '\(parentPath)' does not exist")
    }
    if !create { return path }
    do {
      try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
    } catch {
      throw VQError.io(path: path, detail: "cannot create the folder (\(error.localizedDescription))")
    }
    return path
  }
}
