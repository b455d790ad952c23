import Foundation
import Testing
import VQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every kind of bad input gives the right `VQError` case, with the position in the message.
@Suite struct IOErrorTests {
  let folder: IOScratchFolder
  init() throws { folder = try IOScratchFolder() }

  private let rows: [[Float]] = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12], [13, 14, 15]]

  @Test(arguments: ["e.fvecs", "e.bvecs", "e.npy"])
  func emptyFile(name: String) throws {
    let p = try folder.write(name, [])
    #expect(thrownVQError { try VectorIO.readVectors(at: p) } == .emptyFile(path: p))
    if name != "e.npy" { #expect(thrownVQError { try MappedVectorFile(path: p) } == .emptyFile(path: p)) }
  }

  @Test func emptyIvecsAndZeroRowNpy() throws {
    let p = try folder.write("e.ivecs", [])
    #expect(thrownVQError { try VectorIO.readIntVectors(at: p) } == .emptyFile(path: p))
    let q = try folder.write("z.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 8), }", data: []))
    #expect(thrownVQError { try VectorIO.readVectors(at: q) } == .emptyFile(path: q))
  }

  @Test func truncatedLastRecord() throws {
    let bytes = fvecsBytes(rows)
    let p = try folder.write("t.fvecs", Array(bytes.dropLast(5)))
    let e = thrownVQError { try VectorIO.readVectors(at: p) }
    guard case .truncated(let path, let record, let offset, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(path == p && record == 4 && offset == 4 * 16)
    #expect(detail.contains("16 bytes") && detail.contains("11 remain"), "\(detail)")
    #expect(e!.description.contains("record 4 (byte offset 64)"))
  }

  @Test func truncatedInsideTheDimensionField() throws {
    let p = try folder.write("t.fvecs", fvecsBytes(rows) + [3, 0])
    #expect(thrownVQError { try VectorIO.readVectors(at: p) }
      == .truncated(path: p, record: 5, byteOffset: 80, detail: "only 2 of the 4 bytes of the record's dimension field remain"))
  }

  @Test func truncatedIvecs() throws {
    let p = try folder.write("t.ivecs", vecsBytes([(2, littleEndianBytes([Int32(1), 2])), (2, littleEndianBytes([Int32(3)]))]))
    let e = thrownVQError { try VectorIO.readIntVectors(at: p) }
    guard case .truncated(_, let record, let offset, _) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(record == 1 && offset == 12)
  }

  @Test func inconsistentDimensionAtRecordK() throws {
    var records = rows.map { (Int32(3), littleEndianBytes($0)) }
    records[3] = (4, littleEndianBytes([Float(1), 2, 3, 4]))
    let p = try folder.write("d.fvecs", vecsBytes(records))
    let e = thrownVQError { try VectorIO.readVectors(at: p) }
    guard case .corrupt(_, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(detail.contains("record 3") && detail.contains("dimension 4") && detail.contains("dimension 3"), "\(detail)")
    #expect(detail.contains("byte offset 48"), "\(detail)")
  }

  @Test(arguments: [Int32(0), -3, 1 << 30])
  func impossibleDimension(d: Int32) throws {
    let p = try folder.write("x.fvecs", littleEndianBytes([d]) + littleEndianBytes([Float(1), 2, 3]))
    let e = thrownVQError { try VectorIO.readVectors(at: p) }
    guard case .corrupt(_, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(detail.contains("dimension \(d)") && detail.contains("record 0"), "\(detail)")
  }

  @Test(arguments: [Float.nan, .infinity, -.infinity])
  func nonFiniteValueIsReportedAtItsRowAndColumn(bad: Float) throws {
    var r = rows
    r[3][2] = bad
    let p = try folder.write("n.fvecs", fvecsBytes(r))
    let e = thrownVQError { try VectorIO.readVectors(at: p) }
    guard case .nonFinite(let source, let row, let column, let value) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(source == p && row == 3 && column == 2 && value.bitPattern == bad.bitPattern)
    #expect(e!.description.contains("row 3, column 2"))

    let q = try folder.write("n.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 3), }",
                                                  data: littleEndianBytes(r.flatMap { $0 })))
    let f = thrownVQError { try VectorIO.readVectors(at: q) }
    guard case .nonFinite(_, let npyRow, let npyColumn, let npyValue) = f else { Issue.record("\(String(describing: f))"); return }
    #expect(npyRow == 3 && npyColumn == 2 && npyValue.bitPattern == bad.bitPattern)
  }

  /// The 64-at-a-time screen of `validateFinite` must not skip a bad value anywhere (in a full step, at a
  /// step boundary, in the scalar tail), and the first bad value is the one reported; the largest finite
  /// magnitudes, subnormals and −0 pass.
  @Test func validateFiniteFindsTheFirstBadValueAnywhere() throws {
    let d = 7
    for count in [1, 9, 10, 19, 40] {
      let clean = try VectorBatch(dimension: d, values: (0..<(count * d)).map { i in
        [Float.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0, 1.5][i % 5]
      })
      try clean.validateFinite(source: "x")
      for position in Set([0, 1, 63, 64, 65, 127, 128, count * d - 1].filter { $0 < count * d }) {
        for bad in [Float.nan, .infinity, -.infinity, Float(bitPattern: 0x7FC0_0001)] {
          var batch = clean
          batch.withUnsafeMutableBufferPointer { $0[position] = bad }
          if position + 70 < count * d { batch.withUnsafeMutableBufferPointer { $0[position + 70] = .nan } }
          let e = thrownVQError { try batch.validateFinite(source: "x") }
          guard case .nonFinite(let source, let row, let column, let value) = e else {
            Issue.record("count \(count) position \(position): \(String(describing: e))")
            continue
          }
          #expect(source == "x" && row == position / d && column == position % d && value.bitPattern == bad.bitPattern,
                  "count \(count) position \(position) value \(bad): row \(row) column \(column)")
        }
      }
    }
  }

  @Test func float16InfinityIsNonFinite() throws {
    let halves: [UInt16] = [0x3C00, 0x4000, 0x4200, 0x0001, 0xFC00, 0x3C00]  // 1, 2, 3, tiny, −inf, 1
    let p = try folder.write("h.npy", npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }",
                                                  data: littleEndianBytes(halves)))
    #expect(thrownVQError { try VectorIO.readVectors(at: p) } == .nonFinite(source: p, row: 1, column: 1, value: -.infinity))
  }

  @Test func writerRejectsNonFiniteAndLeavesNoFile() throws {
    var batch = try VectorBatch(rows: rows)
    batch.withUnsafeMutableBufferPointer { $0[7] = .nan }
    for name in ["w.fvecs", "w.npy"] {
      let e = thrownVQError { try VectorIO.writeVectors(batch, to: folder.path(name)) }
      guard case .nonFinite(_, let row, let column, _) = e else { Issue.record("\(String(describing: e))"); continue }
      #expect(row == 2 && column == 1)
    }
    #expect(try folder.contents().isEmpty)
  }

  // MARK: npy

  private func npyCorruptDetail(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let p = try folder.write("c.npy", bytes)
    let e = thrownVQError({ try VectorIO.readVectors(at: p) }, sourceLocation: sourceLocation)
    guard case .corrupt(let path, let detail) = e, path == p else {
      Issue.record("expected corrupt, got \(String(describing: e))", sourceLocation: sourceLocation)
      return ""
    }
    return detail
  }

  private let sixFloats = littleEndianBytes([Float(1), 2, 3, 4, 5, 6])

  @Test func badNpyMagic() throws {
    var bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data: sixFloats)
    bytes[1] = UInt8(ascii: "X")
    let detail = try npyCorruptDetail(bytes)
    #expect(detail.contains("bad magic") && detail.contains("93 58 55"), "\(detail)")
    #expect(try npyCorruptDetail([0x93, 0x4E, 0x55]).contains("ends inside the npy magic"))
    #expect(try npyCorruptDetail(Array(fvecsBytes(rows)))
      .contains("not an npy file"))
  }

  @Test func wrongDType() throws {
    let f8 = try npyCorruptDetail(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", data: sixFloats + sixFloats))
    #expect(f8.contains("'<f8' (float64)") && f8.contains("'<f4' (float32)") && f8.contains("'<f2' (float16)"), "\(f8)")
    let i4 = try npyCorruptDetail(npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", data: sixFloats))
    #expect(i4.contains("'<i4'") && i4.contains("not supported"), "\(i4)")
    let big = try npyCorruptDetail(npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", data: sixFloats))
    #expect(big.contains("'>f4'") && big.contains("big-endian"), "\(big)")
    let record = try npyCorruptDetail(npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }", data: sixFloats))
    #expect(record.contains("structured"), "\(record)")
    // An int32 reader names its own supported types.
    let p = try folder.write("f.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data: sixFloats))
    let e = thrownVQError { try VectorIO.readIntVectors(at: p) }
    guard case .corrupt(_, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(detail.contains("'<f4' (float32) is not supported") && detail.contains("'<i4' (int32)"), "\(detail)")
  }

  @Test func fortranOrder() throws {
    let detail = try npyCorruptDetail(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data: sixFloats))
    #expect(detail.contains("Fortran") && detail.contains("(2, 3)"), "\(detail)")
  }

  @Test func threeDimensionalShape() throws {
    let detail = try npyCorruptDetail(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", data: sixFloats))
    #expect(detail.contains("(1, 2, 3)") && detail.contains("3-D"), "\(detail)")
    let scalar = try npyCorruptDetail(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data: sixFloats))
    #expect(scalar.contains("0-D"), "\(scalar)")
  }

  @Test func malformedHeaders() throws {
    let cases: [(String, String)] = [
      ("{'descr': '<f4', 'shape': (2, 3), }", "lacks the key 'fortran_order'"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", "unexpected key 'extra'"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "expected ',' or '}'"),
      ("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", "not True or False"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", "is not a tuple"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", "not a non-negative integer"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 3), }", "integer too large"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x", "after the literal"),
      ("['descr']", "not a dictionary"),
      ("{'descr: '<f4'}", "expected ':'"),
    ]
    for (dict, expected) in cases {
      let detail = try npyCorruptDetail(npyBytes(dict, data: sixFloats))
      #expect(detail.contains(expected), "\(dict) → \(detail)")
    }
    var v4 = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data: sixFloats)
    v4[6] = 4
    #expect(try npyCorruptDetail(v4).contains("version 4.0"))
    let short = Array(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data: []).prefix(40))
    #expect(try npyCorruptDetail(short).contains("header claims 118 bytes"))
  }

  @Test func npyDataShorterOrLongerThanTheShape() throws {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }"
    let p = try folder.write("s.npy", npyBytes(header, data: littleEndianBytes([Float](repeating: 1, count: 7))))
    #expect(thrownVQError { try VectorIO.readVectors(at: p) }
      == .truncated(path: p, record: 2, byteOffset: 128 + 24, detail: "npy shape (3, 3) needs 36 data bytes, the file has 28"))
    let huge = try folder.write("h.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 3), }", data: sixFloats))
    let e = thrownVQError { try VectorIO.readVectors(at: huge) }
    guard case .truncated(_, let record, _, _) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(record == 2)
    let long = try npyCorruptDetail(npyBytes(header, data: littleEndianBytes([Float](repeating: 1, count: 10))))
    #expect(long.contains("4 bytes follow the 36 data bytes"), "\(long)")
  }

  // MARK: paths

  @Test func missingPath() throws {
    let p = folder.path("nothing-here.fvecs")
    let e = thrownVQError { try VectorIO.readVectors(at: p) }
    guard case .io(let path, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(path == p && detail.contains("No such file"), "\(detail)")
    #expect(e!.description.hasPrefix(p))
  }

  @Test func directoryPath() throws {
    try FileManager.default.createDirectory(atPath: folder.path("dir.fvecs"), withIntermediateDirectories: false)
    let e = thrownVQError { try VectorIO.readVectors(at: folder.path("dir.fvecs")) }
    guard case .io(_, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(detail.contains("is a directory"), "\(detail)")
    #expect(thrownVQError { try MappedVectorFile(path: folder.path("dir.fvecs")) } == e)
  }

  @Test(.enabled(if: geteuid() != 0, "root can read a file without read permission"))
  func unreadablePath() throws {
    let p = try folder.write("u.fvecs", fvecsBytes(rows))
    chmod(p, 0)
    let e = thrownVQError { try VectorIO.readVectors(at: p) }
    guard case .io(_, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(detail.contains("Permission denied"), "\(detail)")
  }

  @Test func wrongExtensionOrFormatForTheCall() throws {
    let p = try folder.write("a.txt", fvecsBytes(rows))
    let e = thrownVQError { try VectorIO.readVectors(at: p) }
    guard case .invalidArgument(let message) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(message.contains(".fvecs, .ivecs, .bvecs, .npy"), "\(message)")
    let i = try folder.write("a.ivecs", vecsBytes([(1, littleEndianBytes([Int32(1)]))]))
    guard case .invalidArgument = thrownVQError({ try VectorIO.readVectors(at: i) }) else { Issue.record("ivecs as floats"); return }
    let f = try folder.write("a.fvecs", fvecsBytes(rows))
    guard case .invalidArgument = thrownVQError({ try VectorIO.readIntVectors(at: f) }) else { Issue.record("fvecs as ints"); return }
    guard case .invalidArgument = thrownVQError({ try VectorIO.writeVectors(VectorBatch(dimension: 2, count: 1), to: folder.path("b.ivecs")) })
    else { Issue.record("floats to ivecs"); return }
    guard case .invalidArgument = thrownVQError({ try VectorIO.writeVectors(VectorBatch(dimension: 2, count: 0), to: folder.path("b.fvecs")) })
    else { Issue.record("empty batch"); return }
  }

  @Test func dimensionMismatchNamesBothFiles() throws {
    let a = VectorBatch(dimension: 384, count: 2), b = VectorBatch(dimension: 128, count: 2)
    let e = thrownVQError { try VectorIO.checkSameDimension(a, "base.fvecs", b, "query.fvecs") }
    guard case .dimensionMismatch(let expected, let got, _) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(expected == 384 && got == 128)
    #expect(e!.description.contains("base.fvecs") && e!.description.contains("query.fvecs"), "\(e!.description)")
    try VectorIO.checkSameDimension(a, "a", a, "b")
  }
}
