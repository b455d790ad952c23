import Foundation
import VQ

/// `vq bench`: every selected spec measured on one data set, and the report that records it.
public enum Bench {
  /// The specs to run, in registry order.
  ///
  /// - `methods`: entries that are method names (`int`: every bit width it supports) or full specs
  ///   (`eden:bits=2,scale=biased`: exactly that spec); `nil` means every registered method.
  /// - `bits`: keep only these bit widths for methods with a `bits` key. Methods without one (fixed
  ///   formats such as `fp32`, `fp16`, `mxfp4`) are the baselines and always run; an explicit full spec
  ///   always runs.
  public static func plan(
    methods: [String]? = nil, bits: [Int]? = nil, registry: QuantizerRegistry = .standard
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
      for method in registry.methods { specs.append(contentsOf: expand(method)) }
    }
    var seen = Set<QuantizerSpec>()
    specs = specs.filter { seen.insert($0).inserted }
    guard !specs.isEmpty else {
      throw VQError.invalidArgument("no spec to run: no selected method supports bit widths \(bits ?? [])")
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

/// `report.json`: stable field names, with the machine and build recorded.
public struct BenchReport: Sendable, Decodable {
  public var tool: String
  public var version: String
  public var machine: MachineInfo
  public var build: BuildInfo
  public var dataset: DatasetInfo
  public var elapsedSeconds: Double
  public var results: [EvaluationResult]

  enum CodingKeys: String, CodingKey {
    case tool, version, machine, build, dataset, elapsedSeconds = "elapsed_seconds", results
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

  public var jsonValue: JSONValue {
    .object([
      ("tool", .string(tool)), ("version", .string(version)), ("machine", machine.jsonValue),
      ("build", build.jsonValue), ("dataset", dataset.jsonValue), ("elapsed_seconds", .double(elapsedSeconds)),
      ("results", .array(results.map(\.jsonValue))),
    ])
  }

  /// Pretty-printed JSON, keys in the order above.
  public func jsonString() -> String { jsonValue.rendered(pretty: true) }

  /// Writes the report to `path` atomically (temporary file, fsync, rename): never a partial file.
  public func write(to path: String) throws {
    let text = jsonString() + "\n"
    try AtomicFile.write(to: path) { sink in try sink.write(utf8: text) }
  }
}
