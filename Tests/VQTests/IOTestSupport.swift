import Foundation
import Testing
import VQ

/// A fresh temporary folder for one test, removed when the test is done with it.
final class IOScratchFolder {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-vq-io-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  /// Writes raw bytes to `name` and returns its path.
  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let p = path(name)
    try Data(bytes).write(to: URL(fileURLWithPath: p))
    return p
  }

  func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path(name)))) }

  /// The names in the folder (to check that no temporary file is left behind).
  func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() }
}

/// Little-endian bytes of scalar values.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
  values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

func littleEndianBytes(_ values: [Float]) -> [UInt8] { littleEndianBytes(values.map(\.bitPattern)) }

/// A `.fvecs`/`.ivecs`/`.bvecs` file built by hand: each record is its dimension field, then its payload.
func vecsBytes(_ records: [(dimension: Int32, payload: [UInt8])]) -> [UInt8] {
  records.flatMap { littleEndianBytes([$0.dimension]) + $0.payload }
}

func fvecsBytes(_ rows: [[Float]]) -> [UInt8] {
  vecsBytes(rows.map { (Int32($0.count), littleEndianBytes($0)) })
}

/// An `.npy` file built by hand from a header dict text, a version and raw data (NumPy's layout:
/// padded so the data starts at a multiple of 64).
func npyBytes(_ dict: String, version: UInt8 = 1, data: [UInt8]) -> [UInt8] {
  let text = Array(dict.utf8)
  let lengthField = version == 1 ? 2 : 4
  let unpadded = 6 + 2 + lengthField + text.count + 1
  let padding = (64 - unpadded % 64) % 64
  let headerLength = text.count + padding + 1
  var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
  for k in 0..<lengthField { out.append(UInt8(truncatingIfNeeded: headerLength >> (8 * k))) }
  return out + text + [UInt8](repeating: 0x20, count: padding) + [0x0A] + data
}

/// The VQError `body` throws (recording an issue if it throws something else or nothing).
func thrownVQError<R>(_ body: () throws -> R, sourceLocation: SourceLocation = #_sourceLocation) -> VQError? {
  do {
    _ = try body()
    Issue.record("expected a VQError, nothing was thrown", sourceLocation: sourceLocation)
  } catch let error as VQError {
    return error
  } catch {
    Issue.record("expected a VQError, got \(error)", sourceLocation: sourceLocation)
  }
  return nil
}

/// Seeded Gaussian vectors with some awkward values mixed in (±0, subnormals, extremes).
func awkwardBatch(count: Int, dimension: Int, seed: UInt64) throws -> VectorBatch {
  var g = SeededGenerator(seed: seed)
  var values = (0..<(count * dimension)).map { _ in Float(g.nextGaussian()) }
  let specials: [Float] = [0, -0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude,
                           -.greatestFiniteMagnitude, Float(bitPattern: 0x0001_2345), .ulpOfOne]
  for (k, v) in specials.enumerated() where k < values.count { values[(k * 7919) % values.count] = v }
  return try VectorBatch(dimension: dimension, values: values)
}

/// Bitwise equality of two batches, with the first differing position for the failure message.
func firstDifference(_ a: VectorBatch, _ b: VectorBatch) -> String? {
  guard a.dimension == b.dimension, a.count == b.count else {
    return "shape \(a.count)×\(a.dimension) vs \(b.count)×\(b.dimension)"
  }
  let x = a.values, y = b.values
  for i in 0..<x.count where x[i].bitPattern != y[i].bitPattern {
    return "row \(i / a.dimension), column \(i % a.dimension): \(x[i]) vs \(y[i])"
  }
  return nil
}
