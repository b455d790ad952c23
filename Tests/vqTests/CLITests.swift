import Foundation
import Testing
import VQ
import VQData

/// Runs the real `vq` binary, built next to this test bundle.
enum VQBinary {
  static var url: URL? {
    var folders: [URL] = []
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    folders.append(exe.deletingLastPathComponent())
    if let first = CommandLine.arguments.first {
      folders.append(URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent())
    }
    // On macOS the bundle's executable sits in <bundle>.xctest/Contents/MacOS.
    folders += folders.map { $0.appendingPathComponent("../../..").standardizedFileURL }
    return folders.map { $0.appendingPathComponent("vq") }
      .first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }

  struct Output {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  static func run(_ arguments: [String], currentDirectory: URL? = nil) throws -> Output {
    let binary = try #require(url, "vq is not built next to the test bundle (run 'swift build' first)")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes to the end before waiting, so a full pipe never blocks the child.
    let errData = SendableBox<Data>()
    let reader = Thread { errData.value = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while errData.value == nil { Thread.sleep(forTimeInterval: 0.001) }
    return Output(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData.value!, as: UTF8.self))
  }
}

final class SendableBox<T>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: T?
  var value: T? {
    get { lock.lock(); defer { lock.unlock() }; return stored }
    set { lock.lock(); stored = newValue; lock.unlock() }
  }
}

/// A fresh temporary folder with fixture files, removed at the end.
final class Fixtures {
  let folder: URL

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
  }

  deinit { try? FileManager.default.removeItem(at: folder) }

  func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

  /// Writes raw bytes; returns the path.
  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    try Data(bytes).write(to: folder.appendingPathComponent(name))
    return path(name)
  }

  /// `.fvecs` records: int32 dimension, then the floats, little-endian.
  static func fvecs(_ rows: [[Float]]) -> [UInt8] {
    var bytes: [UInt8] = []
    for row in rows {
      bytes += le(UInt32(row.count))
      for v in row { bytes += le(v.bitPattern) }
    }
    return bytes
  }

  static func ivecs(_ rows: [[Int32]]) -> [UInt8] {
    var bytes: [UInt8] = []
    for row in rows {
      bytes += le(UInt32(row.count))
      for v in row { bytes += le(UInt32(bitPattern: v)) }
    }
    return bytes
  }

  /// An `.npy` v1.0 file with the given header fields and payload.
  static func npy(descr: String, shape: [Int], payload: [UInt8]) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    return [0x93] + Array("NUMPY".utf8) + [1, 0] + le(UInt16(header.utf8.count)) + Array(header.utf8) + payload
  }

  static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    withUnsafeBytes(of: v.littleEndian) { Array($0) }
  }

  /// `count` random vectors of dimension `d` (seeded).
  static func vectors(_ count: Int, _ d: Int, seed: UInt64) -> [[Float]] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in (0..<d).map { _ in Float(g.nextGaussian()) } }
  }
}

@Suite(.serialized) struct CLITests {
  static var miniLMBase: String { EmbeddedData.miniLMSmall!.base.path }

  @Test func evalPrintsOneJSONObjectWithExactlyTheMetricKeys() throws {
    let out = try VQBinary.run(["eval", "--spec", "fp32", "--base", Self.miniLMBase, "--json"])
    #expect(out.status == 0, "stderr: \(out.stderr)")
    #expect(out.stderr.isEmpty)
    let lines = out.stdout.split(separator: "\n")
    #expect(lines.count == 1)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
    #expect(Set(object.keys) == [
      "spec", "dimension", "count", "nmse", "cosine_loss", "angle_p99_deg", "ip_bias", "ip_bias_se", "ip_var_d",
      "recall_at_10", "recall_at_10_rerank", "bytes_per_vector", "bits_per_coordinate"])
    #expect(object["spec"] as? String == "fp32")
    #expect((object["dimension"] as? NSNumber)?.intValue == 384)
    #expect((object["count"] as? NSNumber)?.intValue == 1900)  // 100 of 2,000 held out as queries
    #expect((object["recall_at_10"] as? NSNumber)?.doubleValue == 1)
    let rerank = try #require(object["recall_at_10_rerank"] as? [String: Any])
    #expect(Set(rerank.keys) == ["1", "2", "4", "10"])
  }

  @Test func evalPrintsATableAndReportsKeptNorms() throws {
    let fixtures = try Fixtures()
    let base = try fixtures.write("b.fvecs", Fixtures.fvecs(Fixtures.vectors(60, 8, seed: 1)))
    let text = try VQBinary.run(["eval", "--spec", "fp32", "--base", base])
    #expect(text.status == 0, "stderr: \(text.stderr)")
    #expect(text.stdout.contains("recall_at_10") && text.stdout.contains("L2-normalized"))
    let kept = try VQBinary.run(["eval", "--spec", "fp32", "--base", base, "--no-normalize", "--limit", "40", "--seed", "3"])
    #expect(kept.status == 0, "stderr: \(kept.stderr)")
    #expect(kept.stdout.contains("norms kept"))
    #expect(kept.stdout.contains("36 vectors"))  // 40 rows, 4 held out at random
  }

  @Test func specsListsFP32() throws {
    let text = try VQBinary.run(["specs"])
    #expect(text.status == 0)
    #expect(text.stdout.contains("fp32"))
    let json = try VQBinary.run(["specs", "--json"])
    let list = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
    #expect(list.contains { $0["name"] as? String == "fp32" })
    #expect(list.count == QuantizerRegistry.standard.methods.count)
  }

  @Test func helpAndVersionExitCleanly() throws {
    let help = try VQBinary.run(["eval", "--help"])
    #expect(help.status == 0 && help.stdout.contains("--groundtruth"))
    let version = try VQBinary.run(["--version"])
    #expect(version.status == 0 && !version.stdout.isEmpty)
  }

  // MARK: Bad input

  /// A case of the bad-input matrix: the `eval` arguments and words the message must contain.
  struct BadInput: CustomTestStringConvertible, Sendable {
    let name: String
    let arguments: @Sendable (Fixtures) throws -> [String]
    let mentions: [String]
    var testDescription: String { name }
  }

  static let badInputs: [BadInput] = [
    BadInput(name: "missing path", arguments: { f in ["--base", f.path("nope.fvecs")] }, mentions: ["nope.fvecs"]),
    BadInput(name: "empty file", arguments: { f in ["--base", try f.write("empty.fvecs", [])] }, mentions: ["empty.fvecs", "empty"]),
    BadInput(name: "truncated record", arguments: { f in
      ["--base", try f.write("trunc.fvecs", Fixtures.fvecs(Fixtures.vectors(20, 8, seed: 1)).dropLast(6))]
    }, mentions: ["trunc.fvecs", "truncated", "record 19"]),
    BadInput(name: "inconsistent dimension between records", arguments: { f in
      ["--base", try f.write("mixed.fvecs", Fixtures.fvecs(Fixtures.vectors(20, 8, seed: 1) + Fixtures.vectors(1, 7, seed: 2)))]
    }, mentions: ["mixed.fvecs", "dimension", "20"]),
    BadInput(name: "inconsistent dimension between base and queries", arguments: { f in
      ["--base", try f.write("b8.fvecs", Fixtures.fvecs(Fixtures.vectors(20, 8, seed: 1))),
       "--queries", try f.write("q7.fvecs", Fixtures.fvecs(Fixtures.vectors(3, 7, seed: 2)))]
    }, mentions: ["q7.fvecs", "dimension", "7", "8"]),
    BadInput(name: "NaN", arguments: { f in
      var rows = Fixtures.vectors(20, 8, seed: 1)
      rows[3][2] = .nan
      return ["--base", try f.write("nan.fvecs", Fixtures.fvecs(rows))]
    }, mentions: ["nan.fvecs", "nan", "row 3", "column 2"]),
    BadInput(name: "+Inf", arguments: { f in
      var rows = Fixtures.vectors(20, 8, seed: 1)
      rows[5][0] = .infinity
      return ["--base", try f.write("inf.fvecs", Fixtures.fvecs(rows))]
    }, mentions: ["inf.fvecs", "inf", "row 5", "column 0"]),
    BadInput(name: "zero vector", arguments: { f in
      var rows = Fixtures.vectors(20, 8, seed: 1)
      rows[4] = [Float](repeating: 0, count: 8)
      return ["--base", try f.write("zero.fvecs", Fixtures.fvecs(rows))]
    }, mentions: ["zero.fvecs", "row 4", "zero vector"]),
    BadInput(name: "zero query vector", arguments: { f in
      var queries = Fixtures.vectors(3, 8, seed: 2)
      queries[1] = [Float](repeating: 0, count: 8)
      return ["--base", try f.write("b.fvecs", Fixtures.fvecs(Fixtures.vectors(20, 8, seed: 1))),
              "--queries", try f.write("zq.fvecs", Fixtures.fvecs(queries))]
    }, mentions: ["zq.fvecs", "row 1", "zero vector"]),
    BadInput(name: "wrong npy dtype", arguments: { f in
      ["--base", try f.write("i8.npy", Fixtures.npy(descr: "<i8", shape: [20, 8], payload: [UInt8](repeating: 1, count: 20 * 8 * 8)))]
    }, mentions: ["i8.npy", "<i8"]),
    BadInput(name: "wrong npy shape", arguments: { f in
      ["--base", try f.write("cube.npy", Fixtures.npy(descr: "<f4", shape: [4, 5, 8], payload: [UInt8](repeating: 0, count: 4 * 5 * 8 * 4)))]
    }, mentions: ["cube.npy", "shape"]),
    BadInput(name: "unknown spec", arguments: { f in
      ["--spec", "nosuch:bits=4", "--base", try f.write("b.fvecs", Fixtures.fvecs(Fixtures.vectors(20, 8, seed: 1)))]
    }, mentions: ["unknown quantizer", "nosuch"]),
    BadInput(name: "out-of-range key value", arguments: { f in
      ["--spec", CLITests.outOfRangeSpec.text, "--base", try f.write("b.fvecs", Fixtures.fvecs(Fixtures.vectors(20, 8, seed: 1)))]
    }, mentions: CLITests.outOfRangeSpec.mentions),
    BadInput(name: "ground truth id out of range", arguments: { f in
      ["--base", try f.write("b.fvecs", Fixtures.fvecs(Fixtures.vectors(20, 8, seed: 1))),
       "--queries", try f.write("q.fvecs", Fixtures.fvecs(Fixtures.vectors(2, 8, seed: 2))),
       "--groundtruth", try f.write("gt.ivecs", Fixtures.ivecs([Array(0..<10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 20]]))]
    }, mentions: ["gt.ivecs", "id 20", "row 1", "column 9", "out of range"]),
  ]

  /// An out-of-range value for the first registered integer key (e.g. `int:bits=99`). While only
  /// `fp32` (which has no keys) is registered, an unknown key stands in for it.
  static var outOfRangeSpec: (text: String, mentions: [String]) {
    for method in QuantizerRegistry.standard.methods {
      for p in method.parameters {
        if case .integer(let range) = p.kind {
          return ("\(method.name):\(p.key)=\(range.upperBound + 1)", ["\(p.key)=\(range.upperBound + 1)", "out of range", p.allowedValues])
        }
      }
    }
    return ("fp32:bits=99", ["fp32", "unknown key 'bits'"])
  }

  @Test(arguments: badInputs)
  func badInputExitsTwoWithAMessage(_ case_: BadInput) throws {
    let fixtures = try Fixtures()
    var arguments = try case_.arguments(fixtures)
    if !arguments.contains("--spec") { arguments = ["--spec", "fp32"] + arguments }
    let out = try VQBinary.run(["eval"] + arguments + ["--json"])
    #expect(out.status == 2, "\(case_.name): exit \(out.status), stderr: \(out.stderr)")
    #expect(out.stderr.hasPrefix("error: "), "\(case_.name): stderr: \(out.stderr)")
    for word in case_.mentions {
      #expect(out.stderr.lowercased().contains(word.lowercased()), "\(case_.name): '\(word)' not in: \(out.stderr)")
    }
    #expect(out.stdout.isEmpty)
    // Nothing written next to the inputs.
    let files = try FileManager.default.contentsOfDirectory(atPath: fixtures.folder.path)
    #expect(files.allSatisfy { !$0.hasPrefix(".") && !$0.hasSuffix(".json") })
  }

  @Test func usageErrorsExitTwo() throws {
    let missing = try VQBinary.run(["eval", "--base", "x.fvecs"])
    #expect(missing.status == 2 && missing.stderr.hasPrefix("error: ") && missing.stderr.contains("--spec"))
    let badFlag = try VQBinary.run(["bench", "--bits", "two"])
    #expect(badFlag.status == 2 && badFlag.stderr.hasPrefix("error: "))
  }

  @Test func benchWithAMissingParentFolderFailsAndWritesNothing() throws {
    let fixtures = try Fixtures()
    let target = fixtures.path("missing-parent/x")
    let out = try VQBinary.run(["bench", "--out", target, "--methods", "fp32"])
    #expect(out.status == 2)
    #expect(out.stderr.hasPrefix("error: ") && out.stderr.contains("missing-parent"))
    #expect(out.stdout.isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: fixtures.folder.path).isEmpty)
  }

  @Test func benchWritesTheReport() throws {
    let fixtures = try Fixtures()
    let out = try VQBinary.run(["bench", "--out", fixtures.path("report"), "--methods", "fp32"])
    #expect(out.status == 0, "stderr: \(out.stderr)")
    #expect(out.stderr.isEmpty)  // stderr is a pipe here, not a terminal: no progress line
    #expect(out.stdout.contains("fp32"))
    let report = try Data(contentsOf: URL(fileURLWithPath: fixtures.path("report/report.json")))
    let object = try #require(try JSONSerialization.jsonObject(with: report) as? [String: Any])
    for key in ["machine", "build", "dataset", "results"] { #expect(object[key] != nil, "\(key) missing") }
    let results = try #require(object["results"] as? [[String: Any]])
    #expect(results.count == 1 && results[0]["spec"] as? String == "fp32")
    #expect(try FileManager.default.contentsOfDirectory(atPath: fixtures.path("report")).sorted() == ["report.html", "report.json"])
  }

  @Test func benchEstimatorsQuickWritesEveryKey() throws {
    let fixtures = try Fixtures()
    let out = try VQBinary.run(["bench", "--estimators", "--quick", "--out", fixtures.path("estimators"), "--seed", "5"])
    #expect(out.status == 0, "stderr: \(out.stderr)")
    let report = try Data(contentsOf: URL(fileURLWithPath: fixtures.path("estimators/report.json")))
    let object = try #require(try JSONSerialization.jsonObject(with: report) as? [String: Any])
    for key in ["qrp", "mean_estimation", "dme", "sgd", "scaling", "lowrank"] {
      #expect((object[key] as? [[String: Any]])?.isEmpty == false, "\(key) missing or empty")
    }
    #expect(object["seed"] as? String == "5" && object["scale"] as? String == "quick")
    #expect(try FileManager.default.contentsOfDirectory(atPath: fixtures.path("estimators")).sorted() == ["report.html", "report.json"])
    // One experiment alone writes only its own key.
    let dme = try VQBinary.run(["bench", "--dme", "--quick", "--json", "--out", fixtures.path("dme")])
    #expect(dme.status == 0, "stderr: \(dme.stderr)")
    let only = try #require(try JSONSerialization.jsonObject(with: Data(dme.stdout.utf8)) as? [String: Any])
    #expect(only["dme"] != nil && only["sgd"] != nil && only["qrp"] == nil && only["lowrank"] == nil)
  }
}
