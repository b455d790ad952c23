// swift-vq's kernels beside FAISS, measured in the same run, single thread. From the repository root:
//
//   swift run -c release --package-path Benchmarks SpeedComparison [--quick] [--no-faiss]
//
// Times the best of several repetitions (wall clock) of: encode at d = 1024, 4 bits (rotate + quantize +
// pack, batch of 1024); the 1-bit RaBitQ estimator (kernel alone and through RaBitQ.estimateInnerProducts);
// the FastScan kernel and RaBitQ's FastScan scan; then runs Tools/faiss_speed.py (FAISS 1.15, one thread)
// and prints both with the kernel level that ran. Codes fit in L2 ("in cache") unless said otherwise.
import Foundation
import VQ
import VQKernels

nonisolated(unsafe) var sink: Int = 0

/// The best of `repeats` timings of `body`, in seconds.
func bestSeconds(repeats: Int, _ body: () -> Void) -> Double {
  var best = Double.infinity
  for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
  return best
}

func gaussian(count: Int, dimension: Int, seed: UInt64) -> VectorBatch {
  var g = SeededGenerator(seed: seed)
  let values = (0..<(count * dimension)).map { _ in Float(g.nextGaussian()) }
  return try! VectorBatch(dimension: dimension, values: values)
}

func randomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
  var g = SeededGenerator(seed: seed)
  return (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
}

struct Row {
  let name: String
  let ours: Double
  let unit: String
  let faissKey: String?
  let note: String
}

/// FNV-1a of the codes and side values of `specs` on fixed data: run at two kernel levels
/// (VQ_KERNEL_LEVEL=portable, then the default) or before/after a kernel change to check codes are unchanged.
func printFingerprints() throws {
  let data = gaussian(count: 300, dimension: 1024, seed: 2024)
  for spec in ["eden:bits=4", "turbo-mse:bits=4", "turbo-prod:bits=4", "eden:bits=2", "rabitq:bits=1", "rabitq:bits=4", "int:bits=4"] {
    let quantizer = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: 1024)
    let codes = try quantizer.encode(data)
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    codes.withUnsafeCodes { bytes in for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 } }
    for f in 0..<codes.layout.sideFields.count {
      codes.withUnsafeSide(f) { side in for v in side { hash = (hash ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 } }
    }
    print("\(spec): \(String(hash, radix: 16)) [\(KernelLevel.current)]")
  }
}

let arguments = CommandLine.arguments
if arguments.contains("--fingerprint") {
  try printFingerprints()
  exit(0)
}
let quick = arguments.contains("--quick")
let runFAISS = !arguments.contains("--no-faiss")
let repeats = quick ? 5 : 30
let level = KernelLevel.current.description
var rows: [Row] = []

// MARK: encode, d = 1024, 4 bits, batch of 1024

let batch = gaussian(count: quick ? 256 : 1024, dimension: 1024, seed: 7)
for spec in ["eden:bits=4", "turbo-mse:bits=4", "eden:bits=4,rounds=1", "rabitq:bits=1", "int:bits=4"] {
  let quantizer = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: 1024)
  var codes = CodeBuffer(layout: quantizer.layout, count: 0)
  let seconds = bestSeconds(repeats: max(3, repeats / 5)) { try! quantizer.encode(batch, into: &codes) }
  sink &+= codes.count
  let faissKey = spec.hasPrefix("rabitq") ? "encode_rabitq1_d1024" : "encode_sq4_d1024"
  rows.append(Row(name: "encode \(spec) d=1024", ours: Double(batch.count) / seconds / 1e6, unit: "M vectors/s",
                  faissKey: faissKey, note: "batch \(batch.count)"))
}

// MARK: the 1-bit estimator (binary code × b-bit query)

for d in [128, 384, 1024] {
  let bytes = d / 8
  let count = 256 * 1024 / bytes   // 256 KB of codes
  let codes = randomBytes(count * bytes, seed: UInt64(d))
  for planes in [1, 4] {
    let query = randomBytes(planes * bytes, seed: 99)
    var dot = [Int64](repeating: 0, count: 256), pop = dot
    let seconds = bestSeconds(repeats: repeats) {
      codes.withUnsafeBufferPointer { c in
        var start = 0
        while start < count {
          Kernels.rabitqSignDot(codes: c.baseAddress! + start * bytes, stride: bytes, count: 256, bytes: bytes,
                                planes: query, planeCount: planes, dot: &dot, popcount: &pop)
          start += 256
        }
      }
    }
    sink &+= Int(dot[0])
    rows.append(Row(name: "1-bit estimator kernel d=\(d) query bits=\(planes)", ours: Double(count) / seconds / 1e6,
                    unit: "M codes/s", faissKey: "rabitq_flat_d\(d)_qb\(planes)", note: "\(count) codes"))
  }
}

// Through the quantizer (kernel + factors → float estimates), and its FastScan scan.
for d in [128, 1024] {
  let n = d == 128 ? 16384 : 2048
  let base = gaussian(count: n, dimension: d, seed: 11)
  let queryVector = gaussian(count: 1, dimension: d, seed: 12)[row: 0]
  for qb in [1, 4] {
    let q = try RaBitQ("rabitq:bits=1,query-bits=\(qb)", dimension: d)
    let codes = try q.encode(base)
    let prepared = try queryVector.withUnsafeBufferPointer { try q.prepare(query: $0) }
    var out = [Float](repeating: 0, count: n)
    let seconds = bestSeconds(repeats: repeats) {
      out.withUnsafeMutableBufferPointer { q.estimateInnerProducts(prepared, codes: codes, range: 0..<n, into: $0) }
    }
    sink &+= Int(out[0].bitPattern)
    rows.append(Row(name: "RaBitQ 1-bit estimates d=\(d) query bits=\(qb)", ours: Double(n) / seconds / 1e6,
                    unit: "M codes/s", faissKey: "rabitq_flat_d\(d)_qb\(qb)", note: "\(n) codes, float estimates"))
  }
  let q = try RaBitQ("rabitq:bits=1", dimension: d)
  let fast = q.makeFastScanCodes(try q.encode(base))
  let fq = try queryVector.withUnsafeBufferPointer { try q.prepareFastScan(query: $0) }
  var out = [Float](repeating: 0, count: 32 * fast.blockCount)
  let seconds = bestSeconds(repeats: repeats) {
    out.withUnsafeMutableBufferPointer {
      q.estimateInnerProductsFastScan(fq, codes: fast, blockRange: 0..<fast.blockCount, into: $0)
    }
  }
  sink &+= Int(out[0].bitPattern)
  rows.append(Row(name: "RaBitQ FastScan estimates d=\(d)", ours: Double(n) / seconds / 1e6, unit: "M codes/s",
                  faissKey: "rabitq_fastscan_d\(d)", note: "\(n) codes, float estimates"))
}

// MARK: the FastScan kernel alone (8-bit tables, 4-bit sub-codes)

for d in [128, 384, 1024] {
  let pairs = d / 8   // 4 dimensions per sub-quantizer
  let blocks = max(1, 256 * 1024 / (32 * pairs))
  let codes = randomBytes(blocks * 32 * pairs, seed: 5)
  let tables = randomBytes(32 * pairs, seed: 6)
  var sums = [UInt32](repeating: 0, count: 32 * blocks)
  let seconds = bestSeconds(repeats: repeats) {
    Kernels.fastScanAccumulate(blocks: codes, blockCount: blocks, pairCount: pairs, luts: tables, into: &sums)
  }
  sink &+= Int(sums[0])
  rows.append(Row(name: "FastScan kernel d=\(d) (\(2 * pairs) sub-quantizers)", ours: Double(32 * blocks) / seconds / 1e6,
                  unit: "M codes/s", faissKey: d == 128 ? "pq4_fastscan_d128" : nil, note: "\(32 * blocks) codes"))
  // The 7-bit-table kernel RaBitQ's ranking scans (B ≤ 2) use: the same sums for entries ≤ 127.
  let narrowTables = tables.map { $0 & 127 }
  let narrowSeconds = bestSeconds(repeats: repeats) {
    Kernels.fastScanAccumulateNarrow(blocks: codes, blockCount: blocks, pairCount: pairs, luts: narrowTables, into: &sums)
  }
  sink &+= Int(sums[0])
  rows.append(Row(name: "FastScan kernel, 7-bit tables, d=\(d)", ours: Double(32 * blocks) / narrowSeconds / 1e6,
                  unit: "M codes/s", faissKey: d == 128 ? "pq4_fastscan_d128" : nil, note: "\(32 * blocks) codes"))
}

// MARK: FAISS in the same run

var faiss: [String: Double] = [:]
var faissVersion = "not run"
if runFAISS {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Tools/faiss_speed.py").standardized.path
  process.arguments = ["python3", script] + (quick ? ["--quick", "--repeat", "2"] : [])
  let pipe = Pipe()
  process.standardOutput = pipe
  do {
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus == 0,
       let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
       let results = object["results"] as? [String: [String: Any]] {
      faissVersion = object["faiss_version"] as? String ?? "?"
      for (key, value) in results { faiss[key] = value["value"] as? Double }
    } else {
      faissVersion = "failed (exit \(process.terminationStatus))"
    }
  } catch {
    faissVersion = "failed (\(error))"
  }
}

func format(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : v >= 10 ? String(format: "%.1f", v) : String(format: "%.3g", v) }

print("swift-vq kernels vs FAISS \(faissVersion), one thread, kernel level: \(level)")
print("| operation | swift-vq | FAISS | unit | ratio | note |")
print("|---|---|---|---|---|---|")
for row in rows {
  let theirs = row.faissKey.flatMap { faiss[$0] }
  let ratio = theirs.map { String(format: "%.2f×", row.ours / $0) } ?? ""
  let faissText = theirs.map(format) ?? "–"
  let keyNote = row.faissKey.map { theirs == nil ? " (FAISS \($0) not measured)" : " vs \($0)" } ?? ""
  print("| \(row.name) | \(format(row.ours)) | \(faissText) | \(row.unit) | \(ratio) | \(row.note)\(keyNote) |")
}
if sink == 42 { print("") }
