import Foundation
import Testing
import VQ

@Suite struct IOMappedTests {
  let folder: IOScratchFolder
  init() throws { folder = try IOScratchFolder() }

  /// The mapped reader returns the same bits as `readVectors`, for every float format and for
  /// ranges anywhere in the file.
  @Test func agreesBitForBitWithReadVectors() throws {
    let batch = try awkwardBatch(count: 301, dimension: 24, seed: 5)
    let small = try VectorBatch(dimension: 24, values: (0..<(301 * 24)).map { Float(($0 * 37) % 256) })
    let halves = try VectorBatch(dimension: 24, values: batch.values.map { Float16Representable.round(min(max($0, -60000), 60000)) })
    let cases: [(String, VectorBatch, NPYFloatType)] = [
      ("a.fvecs", batch, .float32), ("a.npy", batch, .float32), ("b.bvecs", small, .float32), ("h.npy", halves, .float16),
    ]
    for (name, data, dtype) in cases {
      let p = folder.path(name)
      try VectorIO.writeVectors(data, to: p, npyDType: dtype)
      let whole = try VectorIO.readVectors(at: p)
      let mapped = try MappedVectorFile(path: p)
      #expect(mapped.count == 301 && mapped.dimension == 24 && mapped.format == VectorFileFormat(path: name))
      #expect(firstDifference(try mapped.readAll(), whole) == nil, "\(name)")
      #expect(firstDifference(whole, data) == nil, "\(name)")
      for range in [0..<1, 17..<64, 300..<301, 5..<5] {
        #expect(try mapped.read(range) == whole.slice(range), "\(name) \(range)")
      }
      let e = thrownVQError { try mapped.read(290..<302) }
      guard case .outOfRange(let message) = e else { Issue.record("\(String(describing: e))"); continue }
      #expect(message.contains("290..<302") && message.contains("0..<301"), "\(message)")
    }
  }

  @Test func reportsATruncatedLastRecordUpFront() throws {
    let rows: [[Float]] = (0..<6).map { r in (0..<5).map { Float(r * 5 + $0) } }
    let p = try folder.write("t.fvecs", Array(fvecsBytes(rows).dropLast(3)))
    let e = thrownVQError { try MappedVectorFile(path: p) }
    guard case .truncated(let path, let record, let offset, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(path == p && record == 5 && offset == 5 * 24)
    #expect(detail.contains("only 21 bytes"), "\(detail)")

    let q = try folder.write("t.npy", npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (4, 5), }",
                                                  data: [UInt8](repeating: 0, count: 2 * 17)))
    let f = thrownVQError { try MappedVectorFile(path: q) }
    guard case .truncated(_, let npyRecord, let npyOffset, _) = f else { Issue.record("\(String(describing: f))"); return }
    #expect(npyRecord == 3 && npyOffset == 128 + 30)
  }

  @Test func checksDimensionFieldsAndFinitenessAsRowsAreRead() throws {
    var rows: [[Float]] = (0..<40).map { r in (0..<4).map { Float(r * 4 + $0) } }
    rows[33][1] = .infinity
    var bytes = fvecsBytes(rows)
    bytes[20 * 20] = 7  // record 20's dimension field says 7
    let p = try folder.write("m.fvecs", bytes)
    let mapped = try MappedVectorFile(path: p)
    #expect(mapped.count == 40)
    #expect(try mapped.read(0..<20).count == 20)
    let e = thrownVQError { try mapped.read(10..<30) }
    guard case .corrupt(_, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(detail.contains("record 20") && detail.contains("dimension 7"), "\(detail)")
    #expect(thrownVQError { try mapped.read(30..<40) } == .nonFinite(source: p, row: 33, column: 1, value: .infinity))
  }

  @Test func rejectsBadHeadersLikeReadVectors() throws {
    let p = try folder.write("f.npy", npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                                  data: littleEndianBytes([Float](repeating: 1, count: 6))))
    let e = thrownVQError { try MappedVectorFile(path: p) }
    #expect(e == thrownVQError { try VectorIO.readVectors(at: p) })
    guard case .corrupt = e else { Issue.record("\(String(describing: e))"); return }
    let q = try folder.write("z.fvecs", littleEndianBytes([Int32(-1)]) + [1, 2, 3, 4])
    guard case .corrupt = thrownVQError({ try MappedVectorFile(path: q) }) else { Issue.record("negative dimension"); return }
  }
}

/// Rounds to the nearest float16 value (for test data that float16 holds exactly).
enum Float16Representable {
  static func round(_ x: Float) -> Float {
    #if !(os(macOS) && arch(x86_64))
    return Float(Float16(x))
    #else
    return x.rounded()  // integers below 2048 are exact in float16
    #endif
  }
}
