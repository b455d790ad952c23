import Foundation
import VQ

/// `vq bench --peer faiss`: the same data measured by FAISS (`Tools/faiss_peer.py`, FAISS from PyPI),
/// for the specs that have a FAISS counterpart, side by side with ratios.
public enum FAISSPeer {
  /// One spec and the FAISS factory string that builds the same kind of code.
  public struct Pair: Sendable, Equatable {
    public var spec: String
    public var factory: String
  }

  /// The FAISS counterpart of `spec`, or `nil`. Rotations: FAISS `RR` (dense random rotation, no
  /// padding) stands for our rotation; the codes are the same kind, not bit-identical.
  public static func factory(for spec: QuantizerSpec) -> String? {
    let bits = spec.has("bits") ? spec.int("bits") : 0
    let rotated = (spec.values["rotation"] ?? "none") != "none"
    switch spec.name {
    case "fp16": return rotated ? nil : "SQfp16"
    case "bf16": return rotated ? nil : "SQbf16"
    case "int": return rotated || ![4, 6, 8].contains(bits) ? nil : "SQ\(bits)"
    case "eden":
      guard !EDEN.isSubBit(spec) else { return nil }   // FAISS has no sub-bit EDEN
      return "RR,EDEN\(bits)" + (spec.values["scale"] == "biased" ? "BIASED" : "")
    case "turbo-mse": return "RR,SQtqmse\(bits)"
    case "turbo-prod": return bits >= 2 && bits <= 8 ? "RR,SQtq\(bits)" : nil
    case "rabitq":
      guard spec.values["centre"] != "mean" else { return nil }
      let qb = spec.values["query-bits"] == "auto" ? min(12, max(4, bits + 3)) : spec.int("query-bits")
      return (bits == 1 ? "RR,RaBitQ" : "RR,RaBitQ\(bits)") + "@qb=\(qb)"
    default: return nil
    }
  }

  /// The script: next to the executable's source tree (`Tools/faiss_peer.py`), or `$VQ_FAISS_PEER`.
  public static func scriptPath() -> String? {
    if let env = ProcessInfo.processInfo.environment["VQ_FAISS_PEER"], !env.isEmpty { return env }
    let here = URL(fileURLWithPath: #filePath)
    let candidate = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Tools/faiss_peer.py").path
    return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
  }

  /// What the peer run gave: its JSON, and the side-by-side text; or why it was skipped.
  public enum Outcome: Sendable {
    case measured(json: JSONValue, table: String)
    case skipped(String)
  }

  /// Writes the prepared evaluation set (as measured: normalized base, queries, true top-10) to a
  /// temporary folder, runs the script on the mapped specs, and lines the numbers up with `rows`.
  public static func run(rows: [BenchRow], evaluation: Evaluation, threads: Int) -> Outcome {
    let pairs = rows.compactMap { r in factory(for: r.spec).map { Pair(spec: r.spec.description, factory: $0) } }
    guard !pairs.isEmpty else { return .skipped("no measured spec has a FAISS counterpart") }
    guard let script = scriptPath() else { return .skipped("Tools/faiss_peer.py not found (set VQ_FAISS_PEER)") }
    guard let python = findPython() else { return .skipped("python3 not found on PATH") }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-faiss-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
      try VectorIO.writeVectors(evaluation.base, to: folder.appendingPathComponent("base.fvecs").path)
      try VectorIO.writeVectors(evaluation.queries, to: folder.appendingPathComponent("query.fvecs").path)
      let truth = IntMatrix(rows: evaluation.queries.count, columns: Evaluation.k, values: evaluation.trueNeighbors.map { Int32($0) })
      try VectorIO.writeIntVectors(truth, to: folder.appendingPathComponent("groundtruth.ivecs").path)
    } catch {
      return .skipped("could not write the data for the peer: \(error)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [script, "--data", folder.path, "--threads", "1"] + Array(Set(pairs.map(\.factory))).sorted()
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return .skipped("could not start \(python): \(error)") }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let line = stderr.split(separator: "\n").last.map(String.init) ?? "exit \(process.terminationStatus)"
      return .skipped(line.contains("faiss") ? "FAISS is not available (\(line))" : "the peer failed: \(line)")
    }
    guard let object = try? JSONSerialization.jsonObject(with: stdout) as? [String: Any],
          let results = object["results"] as? [String: [String: Any]] else {
      return .skipped("the peer printed no JSON")
    }
    var cells: [[String]] = [["spec", "faiss", "R@10", "faiss", "ratio", "bytes", "faiss", "nmse", "faiss", "scan/s", "faiss", "ratio"]]
    var entries: [JSONValue] = []
    for pair in pairs {
      guard let row = rows.first(where: { $0.spec.description == pair.spec }), let theirs = results[pair.factory] else { continue }
      let recall = theirs["recall_at_10"] as? Double ?? .nan
      let bytes = theirs["bytes_per_vector"] as? Int ?? -1
      // nil where FAISS's standalone decode is not the method's reconstruction (see Tools/faiss_peer.py).
      let nmse = theirs["nmse"] as? Double
      let searchSeconds = theirs["search_seconds"] as? Double ?? .nan
      let theirScan = Double(evaluation.base.count * evaluation.queries.count) / searchSeconds
      let ours = row.measurement.speed?.scanCodesPerSecond ?? .nan
      cells.append([
        pair.spec, pair.factory, String(format: "%.3f", row.result.recallAt10), String(format: "%.3f", recall),
        String(format: "%.2f", row.result.recallAt10 / recall), "\(row.result.bytesPerVector)", bytes >= 0 ? "\(bytes)" : "-",
        TextReport.format(row.result.nmse, "%.3e"), nmse.map { TextReport.format($0, "%.3e") } ?? "–",
        TextReport.si(ours), TextReport.si(theirScan), String(format: "%.2f", ours / theirScan),
      ])
      entries.append(.object([
        ("spec", .string(pair.spec)), ("factory", .string(pair.factory)),
        ("recall_at_10", .double(recall)), ("bytes_per_vector", bytes >= 0 ? .int(bytes) : .null), ("nmse", nmse.map { .double($0) } ?? .null),
        ("scan_codes_per_s", .double(theirScan)), ("recall_ratio", .double(row.result.recallAt10 / recall)),
        ("scan_speed_ratio", .double(ours / theirScan)),
      ]))
    }
    let version = object["faiss_version"] as? String ?? "?"
    let table = "FAISS \(version) on the same data (one thread; ratio = swift-vq / FAISS; FAISS scan/s includes its top-10 selection)\n"
      + TextReport.aligned(cells, separators: [1], leftColumns: [0, 1])
    return .measured(json: .object([("tool", .string("faiss")), ("version", .string(version)), ("results", .array(entries))]), table: table)
  }

  static func findPython() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/python3"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }
}
