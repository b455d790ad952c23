import ArgumentParser
import Foundation
import VQ
import VQBench
import VQData

/// `vq bench`: every registered spec at every supported bit width on the embedded data.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure every quantizer at every bit width on the embedded MiniLM-small data.",
    discussion: """
      Prints a table (the best value per metric and bit width marked with *) and writes report.json \
      into --out, atomically. Progress goes to stderr when it is a terminal.
      """)

  @Option(help: "Folder for report.json (created if missing; its parent must exist).")
  var out = "vq-report"

  @Option(help: "Methods or full specs to run, comma-separated (e.g. 'int,fp16' or 'int:bits=4'); default: all.")
  var methods: String?

  @Option(help: "Bit widths to run for methods with a 'bits' key, comma-separated (e.g. '1,2,4'); default: all.")
  var bits: String?

  @Flag(help: "Print the report JSON on stdout instead of the table.")
  var json = false

  @Flag(help: "Print the direction-preservation table (research/geometry.md 1.5: spherical-code bound, cosine loss, angles, gap in bits) and exit.")
  var geometry = false

  @Flag(help: "Print the price-of-universality tables (research/geometry.md 2.3, with the embedded query set's spectrum) and exit.")
  var universality = false

  func run() throws {
    if geometry || universality {
      let progress: (String) -> Void = { if Terminal.standardErrorIsTerminal { Terminal.writeError("\r\u{1B}[K\($0)") } }
      if geometry { print(GeometryReport.text(try GeometryReport.run(progress: progress))) }
      if universality { print(try UniversalityReport.text(progress: progress)) }
      if Terminal.standardErrorIsTerminal { Terminal.writeError("\r\u{1B}[K") }
      return
    }
    let bitWidths = try bits.map(Self.parseBits)
    let specs = try Bench.plan(methods: methods.map(Bench.splitMethodList), bits: bitWidths)
    let reportPath = try Self.prepareFolder(out) + "/report.json"

    guard let data = EmbeddedData.miniLMSmall else {
      throw VQError.io(path: "minilm-small", detail: "embedded data not found (set VQ_DATA_DIR to a folder holding minilm-small/)")
    }
    let started = Date()
    let evaluation = try Evaluation(
      base: VectorIO.readVectors(at: data.base.path),
      queries: VectorIO.readVectors(at: data.queries.path),
      groundTruth: VectorIO.readIntVectors(at: data.groundTruth.path),
      sources: .init(base: data.base.path, queries: data.queries.path, groundTruth: data.groundTruth.path))
    let showProgress = Terminal.standardErrorIsTerminal
    let results = try Bench.run(specs, on: evaluation) { i, total, spec in
      if showProgress { Terminal.writeError("\r\u{1B}[K[\(i + 1)/\(total)] \(spec)") }
    }
    if showProgress { Terminal.writeError("\r\u{1B}[K") }
    let elapsed = Date().timeIntervalSince(started)
    let report = BenchReport(
      dataset: DatasetInfo(name: "minilm-small", evaluation: evaluation), elapsedSeconds: elapsed, results: results)
    try report.write(to: reportPath)
    if json {
      print(report.jsonString())
    } else {
      let rows = zip(specs, results).map { (spec: $0, result: $1) }
      print("minilm-small: \(evaluation.base.count) base vectors, \(evaluation.queries.count) queries, d = \(evaluation.dimension), L2-normalized")
      print(TextReport.bench(rows))
      print("\(results.count) specs in \(String(format: "%.1f", elapsed)) s "
        + "(\(report.build.configuration) build, kernels \(report.machine.kernelLevel)); wrote \(reportPath)")
    }
  }

  static func parseBits(_ text: String) throws -> [Int] {
    try text.split(separator: ",").map { token in
      let t = token.trimmingCharacters(in: .whitespaces)
      guard let b = Int(t), b >= 1 else { throw VQError.outOfRange("--bits: '\(t)' is not a positive bit width") }
      return b
    }
  }

  /// Makes sure `path` is a folder, creating it (not its parents) if missing; returns the path.
  static func prepareFolder(_ path: String) throws -> String {
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
    do {
      try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
    } catch {
      throw VQError.io(path: path, detail: "cannot create the folder (\(error.localizedDescription))")
    }
    return path
  }
}
