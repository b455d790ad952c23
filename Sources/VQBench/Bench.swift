import Foundation
import VQ

/// `vq bench`: every selected spec measured on one data set, and the report that records it.
public enum Bench {
  /// The methods `vq bench` runs when `--methods` is not given (those registered, in registry order).
  /// An explicit list, so that a newly registered method cannot slow the default run down: it runs
  /// with `--methods NAME` or `--methods all`, and with `all` under the per-spec time budget. Left out
  /// because they are slow on 2 cores: `blockquant` (~17 s for its 8 widths with the shipped codebooks, the
  /// nearest-codeword search of the encoder in SSE-only Swift; it was ~90 s while codebooks were trained per
  /// process) and `e8-voronoi` (~27 s).
  public static let defaultMethods = [
    "fp32", "fp16", "bf16", "fp8-e4m3", "fp8-e5m2", "int", "fp4", "mxfp4", "nvfp4", "sign",
    "eden", "turbo-mse", "turbo-prod", "qjl", "rabitq", "qsgd", "asq", "e8",
  ]

  /// The registered methods not in `defaultMethods`.
  public static func methodsOutsideDefault(registry: QuantizerRegistry = .standard) -> [String] {
    registry.methods.map(\.name).filter { !defaultMethods.contains($0) }
  }

  /// The specs to run, in registry order.
  ///
  /// - `methods`: entries that are method names (`int`: every bit width it supports) or full specs
  ///   (`eden:bits=2,scale=biased`: exactly that spec); `nil` means every registered method.
  /// - `bits`: keep only these bit widths for methods with a `bits` key. Methods without one (fixed
  ///   formats such as `fp32`, `fp16`, `mxfp4`) are the baselines and always run; an explicit full spec
  ///   always runs.
  public static func plan(
    methods: [String]? = nil, bits: [Int]? = nil, registry: QuantizerRegistry = .standard, defaultSet: [String]? = nil
  ) throws -> [QuantizerSpec] {
    if let bits, let bad = bits.first(where: { $0 < 1 }) {
      throw VQError.outOfRange("--bits: \(bad) is not a positive bit width")
    }
    let wanted = bits.map(Set.init)
    func expand(_ method: QuantizerMethod) -> [QuantizerSpec] {
      let all = method.specsForEveryBitWidth(registry: registry)
      guard let wanted, method.bitWidths != nil else { return all }
      return all.filter { wanted.contains($0.int("bits")) }
    }
    var specs: [QuantizerSpec] = []
    if let methods {
      for entry in methods {
        let name = entry.trimmingCharacters(in: .whitespaces)
        if name.contains(":") {
          specs.append(try QuantizerSpec(parsing: name, registry: registry))
        } else if let method = registry.method(named: name.lowercased()) {
          specs.append(contentsOf: expand(method))
        } else {
          throw VQError.invalidSpec(
            "--methods: unknown quantizer '\(name)' (known: \(registry.methods.map(\.name).joined(separator: ", ")))")
        }
      }
    } else {
      let chosen = defaultSet.map(Set.init)
      for method in registry.methods where chosen?.contains(method.name) ?? true { specs.append(contentsOf: expand(method)) }
    }
    var seen = Set<QuantizerSpec>()
    specs = specs.filter { seen.insert($0).inserted }
    guard !specs.isEmpty else {
      throw VQError.outOfRange(
        "--bits: no selected method supports bit widths \((bits ?? []).map(String.init).joined(separator: ",")); no spec to run")
    }
    return specs
  }

  /// Splits a `--methods` list at commas, keeping `key=value` tokens with the spec before them:
  /// `eden:bits=1,scale=biased,int` is `["eden:bits=1,scale=biased", "int"]`.
  public static func splitMethodList(_ text: String) -> [String] {
    var entries: [String] = []
    for token in text.split(separator: ",", omittingEmptySubsequences: true).map(String.init) {
      if token.contains("="), !token.contains(":"), let last = entries.popLast() {
        entries.append(last + "," + token)
      } else {
        entries.append(token)
      }
    }
    return entries
  }

  /// Runs every spec on `evaluation`; `progress(i, total, spec)` is called before spec `i` (0-based).
  /// An error names the spec that failed.
  public static func run(
    _ specs: [QuantizerSpec], on evaluation: Evaluation, registry: QuantizerRegistry = .standard,
    progress: (Int, Int, QuantizerSpec) -> Void = { _, _, _ in }
  ) throws -> [EvaluationResult] {
    var results: [EvaluationResult] = []
    for (i, spec) in specs.enumerated() {
      progress(i, specs.count, spec)
      do {
        results.append(try evaluation.run(spec, registry: registry))
      } catch let error as VQError {
        throw VQError.invalidArgument("\(spec): \(error.description)")
      }
    }
    return results
  }
}

/// How `Bench.measure` runs.
public struct BenchOptions: Sendable {
  /// The cores the process may use.
  public static var defaultThreads: Int { Parallel.availableCores }

  /// Time encode and scan (single thread).
  public var timing = true
  /// Per-spec budget in seconds for specs that were not asked for by name: a spec whose predicted run
  /// time (from fitting, encoding and scanning a 256-vector probe, scaled to the full set) exceeds it
  /// is skipped with a note. `nil`: no budget.
  public var budgetSeconds: Double? = 20
  /// Worker threads.
  public var threads = BenchOptions.defaultThreads
  /// The KV cache to measure attention distortion on (`nil`: none).
  public var kvCache: KVCache?

  public init(timing: Bool = true, budgetSeconds: Double? = 20, threads: Int = BenchOptions.defaultThreads, kvCache: KVCache? = nil) {
    self.timing = timing
    self.budgetSeconds = budgetSeconds
    self.threads = threads
    self.kvCache = kvCache
  }
}

/// The rows of a bench run and the specs it skipped.
public struct BenchOutcome: Sendable {
  public var rows: [BenchRow]
  public var skipped: [SkippedSpec]
}

extension Bench {
  /// Measures every spec: the embedding experiments, the theory beside them, the KV cache.
  ///
  /// `requested`: specs the user named (`--methods`); they run whatever the budget says and their
  /// errors stop the run. Every other spec is probed against `options.budgetSeconds` first, and one
  /// that fails is skipped with its error as the reason (a newly registered method cannot break the
  /// default run). `progress(i, total, spec)` is called before spec `i`.
  public static func measure(
    _ specs: [QuantizerSpec], on evaluation: Evaluation, requested: Set<QuantizerSpec> = [], options: BenchOptions = BenchOptions(),
    registry: QuantizerRegistry = .standard, progress: (Int, Int, QuantizerSpec) -> Void = { _, _, _ in }
  ) throws -> BenchOutcome {
    var evaluation = evaluation
    evaluation.threads = options.threads
    var rows: [BenchRow] = []
    var skipped: [SkippedSpec] = []
    for (i, spec) in specs.enumerated() {
      progress(i, specs.count, spec)
      let named = requested.contains(spec)
      do {
        if !named, let budget = options.budgetSeconds {
          let probeStart = ContinuousClock.now
          let predicted = try? predictedSeconds(spec, on: evaluation, kv: options.kvCache, registry: registry)
          let probeSeconds = (ContinuousClock.now - probeStart).seconds
          if let predicted, predicted > budget {
            skipped.append(SkippedSpec(
              spec: spec.description,
              reason: String(format: "predicted %.0f s > budget %.0f s (probe took %.2f s; name it in --methods, or raise --budget)",
                             predicted, budget, probeSeconds)))
            continue
          }
        }
        let started = ContinuousClock.now
        let m = try evaluation.measure(spec, registry: registry, timing: options.timing)
        var row = BenchRow(spec: spec, measurement: m, theory: m.theory(for: spec))
        if let cache = options.kvCache {
          do {
            row.kv = try KVAttentionExperiment.measure(spec, cache: cache, registry: registry, threads: options.threads)
          } catch {
            row.kvError = "\(error)"
          }
        }
        row.seconds = (ContinuousClock.now - started).seconds
        rows.append(row)
      } catch {
        if named { throw VQError.invalidArgument("\(spec): \(error)") }
        skipped.append(SkippedSpec(spec: spec.description, reason: "failed: \(error)"))
      }
    }
    return BenchOutcome(rows: rows, skipped: skipped)
  }

  /// Fit, encode and one scan on a probe of the base, scaled to the whole run (embeddings and KV).
  static func predictedSeconds(
    _ spec: QuantizerSpec, on evaluation: Evaluation, kv: KVCache?, registry: QuantizerRegistry
  ) throws -> Double {
    let probeCount = min(evaluation.base.count, 256)
    let probe = evaluation.base.slice(0..<probeCount)
    let start = ContinuousClock.now
    var quantizer = try registry.makeQuantizer(spec, dimension: evaluation.dimension)
    try quantizer.fit(probe)
    let fitted = ContinuousClock.now
    let codes = try quantizer.encode(probe)
    let encoded = ContinuousClock.now
    let prepared = try evaluation.queries.withRow(0) { try quantizer.prepare(query: $0) }
    let preparedAt = ContinuousClock.now
    _ = quantizer.estimateInnerProducts(prepared, codes: codes)
    let scannedAt = ContinuousClock.now
    let fit = (fitted - start).seconds
    let encodePerVector = (encoded - fitted).seconds / Double(probeCount)
    let prepare = (preparedAt - encoded).seconds
    let scanPerCode = (scannedAt - preparedAt).seconds / Double(probeCount)
    let n = Double(evaluation.base.count), q = Double(evaluation.queries.count)
    // Fit cost taken as linear in the sample (k-means-like fits are at least that).
    var total = fit * n / Double(probeCount) + encodePerVector * n + q * (prepare + scanPerCode * n)
    if let kv {
      // Per (layer, kv head): fit and encode keys and values, then every query scores half the keys on
      // average; costs scaled per coordinate from the probe's dimension to the head size.
      let scale = Double(kv.headDimension) / Double(evaluation.dimension)
      let t = Double(kv.tokens), units = Double(kv.layers * kv.kvHeads), group = Double(kv.queryHeads / kv.kvHeads)
      let perUnit = 2 * (fit * t / Double(probeCount) + encodePerVector * t) * scale
        + group * t * (prepare * scale + scanPerCode * scale * t / 2)
      total += units * perUnit
    }
    return total
  }

  /// `spec` with its `seed` key set to `seed` (specs without a seed key are returned unchanged).
  public static func reseeded(_ spec: QuantizerSpec, seed: UInt64, registry: QuantizerRegistry = .standard) throws -> QuantizerSpec {
    guard spec.has("seed") else { return spec }
    let text = spec.description
    var keys: [Substring] = []
    if let colon = text.firstIndex(of: ":") {
      keys = text[text.index(after: colon)...].split(separator: ",").filter { !$0.hasPrefix("seed=") }
    }
    keys.append("seed=\(seed)")
    return try QuantizerSpec(parsing: spec.name + ":" + keys.joined(separator: ","), registry: registry)
  }
}

/// The data set a report was measured on.
public struct DatasetInfo: Sendable, Equatable, Decodable {
  public var name: String
  public var baseCount: Int
  public var queryCount: Int
  public var dimension: Int
  /// `file` (shipped exact ground truth) or `exact` (computed by brute force).
  public var groundTruth: String
  public var normalized: Bool

  enum CodingKeys: String, CodingKey {
    case name, baseCount = "base_count", queryCount = "query_count", dimension
    case groundTruth = "ground_truth", normalized
  }

  public var jsonValue: JSONValue {
    .object([
      ("name", .string(name)), ("base_count", .int(baseCount)), ("query_count", .int(queryCount)),
      ("dimension", .int(dimension)), ("ground_truth", .string(groundTruth)), ("normalized", .bool(normalized)),
    ])
  }

  public init(name: String, evaluation: Evaluation) {
    self.name = name
    baseCount = evaluation.base.count
    queryCount = evaluation.queries.count
    dimension = evaluation.dimension
    groundTruth = evaluation.groundTruthGiven ? "file" : "exact"
    normalized = evaluation.isNormalized
  }
}

/// The KV cache a report was measured on.
public struct KVDatasetInfo: Sendable, Equatable {
  public var name: String
  public var layers: [Int]
  public var kvHeads: Int
  public var queryHeads: Int
  public var tokens: Int
  public var headDimension: Int

  public init(name: String, cache: KVCache) {
    self.name = name
    layers = cache.layerNames
    kvHeads = cache.kvHeads
    queryHeads = cache.queryHeads
    tokens = cache.tokens
    headDimension = cache.headDimension
  }

  public var jsonValue: JSONValue {
    .object([
      ("name", .string(name)), ("layers", .array(layers.map { .int($0) })), ("kv_heads", .int(kvHeads)),
      ("q_heads", .int(queryHeads)), ("tokens", .int(tokens)), ("head_dim", .int(headDimension)),
    ])
  }
}

/// `report.json`: stable field names, with the machine, the build and the seed recorded.
///
/// Top-level keys, in order: `tool`, `version`, `machine`, `build`, `dataset`, `seed`, `elapsed_seconds`,
/// `results` (one object per spec: the `vq eval` keys, then `bit_width`, `family`, `ip_err_p99_sqrt_d`,
/// `ip_err_p999_sqrt_d`, `encode_vectors_per_s`, `scan_codes_per_s`, `working_dimension`, `theory`, `kv`),
/// `kv` (the cache and per-head results), `skipped`, `peer`.
public struct BenchReport: Sendable, Decodable {
  public var tool: String
  public var version: String
  public var machine: MachineInfo
  public var build: BuildInfo
  public var dataset: DatasetInfo
  public var elapsedSeconds: Double
  public var results: [EvaluationResult]
  /// The seed given with `--seed` (`nil`: each spec's own default seed).
  public var seed: UInt64?
  /// The full rows (not read back by `Decodable`: `results` holds their `vq eval` part).
  public var rows: [BenchRow] = []
  public var skipped: [SkippedSpec] = []
  public var kvDataset: KVDatasetInfo?
  /// The peer's side of the comparison, as JSON (`nil`: not run).
  public var peer: JSONValue?

  enum CodingKeys: String, CodingKey {
    case tool, version, machine, build, dataset, elapsedSeconds = "elapsed_seconds", results, seed
  }

  public init(
    machine: MachineInfo = .current(), build: BuildInfo = .current(), dataset: DatasetInfo,
    elapsedSeconds: Double, results: [EvaluationResult]
  ) {
    tool = "swift-vq"
    version = VQBenchVersion.version
    self.machine = machine
    self.build = build
    self.dataset = dataset
    self.elapsedSeconds = elapsedSeconds
    self.results = results
  }

  public init(
    machine: MachineInfo = .current(), build: BuildInfo = .current(), dataset: DatasetInfo, elapsedSeconds: Double,
    outcome: BenchOutcome, seed: UInt64?, kvDataset: KVDatasetInfo?, peer: JSONValue? = nil
  ) {
    self.init(machine: machine, build: build, dataset: dataset, elapsedSeconds: elapsedSeconds,
              results: outcome.rows.map(\.result))
    self.rows = outcome.rows
    self.skipped = outcome.skipped
    self.seed = seed
    self.kvDataset = kvDataset
    self.peer = peer
  }

  public var jsonValue: JSONValue {
    let resultValues = rows.isEmpty ? results.map(\.jsonValue) : rows.map(\.jsonValue)
    let kvRows = rows.compactMap(\.kv)
    return .object([
      ("tool", .string(tool)), ("version", .string(version)), ("machine", machine.jsonValue),
      ("build", build.jsonValue), ("dataset", dataset.jsonValue),
      ("seed", seed.map { .string(String($0)) } ?? .null),
      ("elapsed_seconds", .double(elapsedSeconds)),
      ("results", .array(resultValues)),
      ("kv", kvDataset.map { .object([("dataset", $0.jsonValue), ("results", .array(kvRows.map(\.jsonValue)))]) } ?? .null),
      ("skipped", .array(skipped.map(\.jsonValue))),
      ("peer", peer ?? .null),
    ])
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    tool = try c.decode(String.self, forKey: .tool)
    version = try c.decode(String.self, forKey: .version)
    machine = try c.decode(MachineInfo.self, forKey: .machine)
    build = try c.decode(BuildInfo.self, forKey: .build)
    dataset = try c.decode(DatasetInfo.self, forKey: .dataset)
    elapsedSeconds = try c.decode(Double.self, forKey: .elapsedSeconds)
    results = try c.decode([EvaluationResult].self, forKey: .results)
    seed = try c.decodeIfPresent(String.self, forKey: .seed).flatMap { UInt64($0) }
  }

  /// Pretty-printed JSON, keys in the order above.
  public func jsonString() -> String { jsonValue.rendered(pretty: true) }

  /// Writes the report to `path` atomically (temporary file, fsync, rename): never a partial file.
  public func write(to path: String) throws {
    let text = jsonString() + "\n"
    try AtomicFile.write(to: path) { sink in try sink.write(utf8: text) }
  }
}
