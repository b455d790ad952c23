import Foundation
import Testing
import VQ
import VQData

@Suite struct IORoundTripTests {
  @Test(arguments: ["v.fvecs", "v.npy"])
  func floatFormatsRoundTripBitExact(name: String) throws {
    let folder = try IOScratchFolder()
    let batch = try awkwardBatch(count: 37, dimension: 19, seed: 1)
    try VectorIO.writeVectors(batch, to: folder.path(name))
    let back = try VectorIO.readVectors(at: folder.path(name))
    #expect(firstDifference(batch, back) == nil, "\(firstDifference(batch, back) ?? "")")
    #expect(try folder.contents() == [name])
  }

  @Test func fvecsLayoutIsDimensionThenFloats() throws {
    let folder = try IOScratchFolder()
    let batch = try VectorBatch(rows: [[1, -2.5], [0.25, 3]])
    try VectorIO.writeVectors(batch, to: folder.path("a.fvecs"))
    #expect(try folder.bytes("a.fvecs") == fvecsBytes([[1, -2.5], [0.25, 3]]))
  }

  @Test func npyHeaderIsWhatNumPyWrites() throws {
    // The header NumPy 2.4 writes for np.save of a (2000, 384) float32 array, byte for byte.
    let numpy = Array("\u{93}NUMPY".unicodeScalars.map { UInt8($0.value) }) + [1, 0, 0x76, 0]
      + Array("{'descr': '<f4', 'fortran_order': False, 'shape': (2000, 384), }".utf8)
      + [UInt8](repeating: 0x20, count: 53) + [0x0A]
    let folder = try IOScratchFolder()
    let batch = VectorBatch(dimension: 384, count: 2000)
    try VectorIO.writeVectors(batch, to: folder.path("z.npy"))
    let bytes = try folder.bytes("z.npy")
    #expect(numpy.count == 128)
    #expect(Array(bytes.prefix(128)) == numpy)
    #expect(bytes.count == 128 + 2000 * 384 * 4)
  }

  @Test func bvecsRoundTripsIntegersAndRejectsOthers() throws {
    let folder = try IOScratchFolder()
    let values = (0..<(3 * 256)).map { Float($0 % 256) }
    let batch = try VectorBatch(dimension: 256, values: values)
    try VectorIO.writeVectors(batch, to: folder.path("b.bvecs"))
    #expect(try folder.bytes("b.bvecs").count == 3 * (4 + 256))
    #expect(try VectorIO.readVectors(at: folder.path("b.bvecs")) == batch)

    for (bad, column) in [(Float(1.5), 3), (256, 5), (-1, 0)] {
      var b = try VectorBatch(dimension: 8, values: [Float](repeating: 7, count: 16))
      b.withUnsafeMutableBufferPointer { $0[8 + column] = bad }
      let e = thrownVQError { try VectorIO.writeVectors(b, to: folder.path("bad.bvecs")) }
      guard case .outOfRange(let message) = e else { Issue.record("\(String(describing: e))"); continue }
      #expect(message.contains("row 1, column \(column)"), "\(message)")
    }
    #expect(try folder.contents() == ["b.bvecs"])
  }

  @Test func intFormatsRoundTrip() throws {
    let folder = try IOScratchFolder()
    var g = SeededGenerator(seed: 2)
    let values = (0..<(13 * 7)).map { _ in Int32(truncatingIfNeeded: g.next()) } + [Int32.min, .max, -1, 0, 1, 2, 3]
    let m = IntMatrix(rows: 14, columns: 7, values: values)
    for name in ["g.ivecs", "g.npy"] {
      try VectorIO.writeIntVectors(m, to: folder.path(name))
      #expect(try VectorIO.readIntVectors(at: folder.path(name)) == m)
    }
    #expect(Array(m[row: 13]) == [Int32.min, .max, -1, 0, 1, 2, 3])
  }

  @Test func npyInt64IdsAreReadWhenTheyFitInInt32() throws {
    let folder = try IOScratchFolder()
    let good = npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }",
                        data: littleEndianBytes([Int64(0), 5, -1, Int64(Int32.max)]))
    let m = try VectorIO.readIntVectors(at: folder.write("ok.npy", good))
    #expect(m == IntMatrix(rows: 2, columns: 2, values: [0, 5, -1, .max]))
    let bad = npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }",
                       data: littleEndianBytes([Int64(0), 5, 1 << 40, 3]))
    let e = thrownVQError { try VectorIO.readIntVectors(at: folder.write("bad.npy", bad)) }
    guard case .corrupt(_, let detail) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(detail.contains("row 1, column 0"), "\(detail)")
  }

  /// Every finite binary16 value (subnormals and ±0 included): 63,488 values written as float16 npy
  /// and read back bit-exact; the file's payload is the original bit patterns.
  @Test func float16NpyRoundTripsEveryFiniteHalf() throws {
    let finiteBits = (0...UInt16.max).filter { $0 & 0x7C00 != 0x7C00 }
    #expect(finiteBits.count == 63_488)
    #if !(os(macOS) && arch(x86_64))
    let values = finiteBits.map { Float(Float16(bitPattern: $0)) }
    #else
    let values = finiteBits.map(referenceHalfToFloat)
    #endif
    let batch = try VectorBatch(dimension: 64, values: values)
    let folder = try IOScratchFolder()
    try VectorIO.writeVectors(batch, to: folder.path("h.npy"), npyDType: .float16)
    let bytes = try folder.bytes("h.npy")
    #expect(bytes.count == 128 + 2 * finiteBits.count)
    #expect(String(decoding: bytes[10..<25], as: UTF8.self) == "{'descr': '<f2'")
    #expect(Array(bytes[128...]) == littleEndianBytes(finiteBits))
    let back = try VectorIO.readVectors(at: folder.path("h.npy"))
    #expect(firstDifference(batch, back) == nil, "\(firstDifference(batch, back) ?? "")")
  }

  #if !(os(macOS) && arch(x86_64))
  /// float → float16 rounding agrees with `Float16.init(_: Float)` (nearest, ties to even) on 20,000
  /// seeded values: random bit patterns over the whole range below 65520 (mostly tiny and subnormal)
  /// and exact midpoints between neighbouring halves.
  @Test func float16NarrowingMatchesFloat16() throws {
    var g = SeededGenerator(seed: 3)
    var values: [Float] = []
    for _ in 0..<10_000 {
      let magnitude = UInt32(truncatingIfNeeded: g.next()) % 0x477F_F000  // below 65520
      values.append(Float(bitPattern: magnitude | (g.next() & 1 == 0 ? 0 : 0x8000_0000)))
    }
    for _ in 0..<10_000 {
      let h = UInt16(truncatingIfNeeded: g.next()) & 0x7BFE  // finite, below the largest
      let a = Float(Float16(bitPattern: h)), b = Float(Float16(bitPattern: h + 1))
      values.append((a + b) / 2)  // exact: a tie
    }
    values += [65519.996, -65519.996, 0x1p-25, 0x1p-25 * 1.0000001, -0x1p-25, 0x1.8p-24, 0x1.FFCp-15]
    while values.count % 16 != 0 { values.append(0) }
    let folder = try IOScratchFolder()
    try VectorIO.writeVectors(try VectorBatch(dimension: 16, values: values), to: folder.path("r.npy"), npyDType: .float16)
    let payload = Array(try folder.bytes("r.npy")[128...])
    let written: [UInt16] = (0..<values.count).map { i in UInt16(payload[2 * i]) | UInt16(payload[2 * i + 1]) << 8 }
    let expected: [UInt16] = values.map { Float16($0).bitPattern }
    let firstMismatch: Int? = (0..<values.count).first { i in written[i] != expected[i] }
    #expect(firstMismatch == nil, "value \(firstMismatch.map { values[$0] } ?? 0)")
  }
  #endif

  @Test func float16OverflowIsRejected() throws {
    let folder = try IOScratchFolder()
    let batch = try VectorBatch(dimension: 3, values: [1, 2, 3, 4, 65520, 6])
    let e = thrownVQError { try VectorIO.writeVectors(batch, to: folder.path("o.npy"), npyDType: .float16) }
    guard case .outOfRange(let message) = e else { Issue.record("\(String(describing: e))"); return }
    #expect(message.contains("row 1, column 1"), "\(message)")
    #expect(try folder.contents().isEmpty)
  }

  @Test func npyVersions2And3AndOldHeadersAreRead() throws {
    let folder = try IOScratchFolder()
    let data = littleEndianBytes([Float(1), 2, 3, 4, 5, 6])
    let expected = try VectorBatch(dimension: 3, values: [1, 2, 3, 4, 5, 6])
    let headers = [
      (UInt8(2), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"),
      (UInt8(3), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"),
      (UInt8(1), "{\"shape\": (2L, 3L), u'descr': '<f4', 'fortran_order': False}"),
      (UInt8(1), "{'descr':'<f4','fortran_order':False,'shape':(2,3,)}"),
    ]
    for (k, (version, dict)) in headers.enumerated() {
      let p = try folder.write("v\(k).npy", npyBytes(dict, version: version, data: data))
      #expect(try VectorIO.readVectors(at: p) == expected, "\(dict)")
    }
  }

  @Test func oneDimensionalNpyIsOneVector() throws {
    let folder = try IOScratchFolder()
    let p = try folder.write("one.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                                                   data: littleEndianBytes([Float(1), 2, 3, 4])))
    let batch = try VectorIO.readVectors(at: p)
    #expect(batch.count == 1 && batch.dimension == 4 && batch[row: 0] == [1, 2, 3, 4])
  }

  @Test func formatFromPath() {
    #expect(VectorFileFormat(path: "/a/b/base.fvecs") == .fvecs)
    #expect(VectorFileFormat(path: "GT.IVECS") == .ivecs)
    #expect(VectorFileFormat(path: "x.bvecs") == .bvecs)
    #expect(VectorFileFormat(path: "dir.npy/x.npy") == .npy)
    #expect(VectorFileFormat(path: "dir.npy/x") == nil)
    #expect(VectorFileFormat(path: ".npy") == nil)
    #expect(VectorFileFormat(path: "x.txt") == nil)
  }
}

@Suite struct IOEmbeddedDataTests {
  @Test func miniLMSmallHasTheDocumentedShapeNormsAndIds() throws {
    let set = try #require(EmbeddedData.miniLMSmall)
    let base = try VectorIO.readVectors(at: set.base.path)
    let queries = try VectorIO.readVectors(at: set.queries.path)
    let truth = try VectorIO.readIntVectors(at: set.groundTruth.path)
    #expect(base.count == 2000 && base.dimension == 384)
    #expect(queries.count == 100 && queries.dimension == 384)
    #expect(truth.rows == 100 && truth.columns == 100)
    try VectorIO.checkSameDimension(base, "base.fvecs", queries, "query.fvecs")
    for (name, batch) in [("base", base), ("queries", queries)] {
      let worst = batch.norms().map { abs($0 - 1) }.max() ?? 1
      #expect(worst <= 1e-5, "\(name): largest |norm − 1| = \(worst)")
    }
    #expect(truth.values.allSatisfy { $0 >= 0 && $0 < 2000 })
    for q in 0..<truth.rows { #expect(Set(truth[row: q]).count == 100, "query \(q) has repeated ids") }

    // The first ground-truth id is the exact top inner product (within float rounding of a tie).
    for q in stride(from: 0, to: 100, by: 9) {
      let scores = (0..<base.count).map { i in
        base.withRow(i) { b in queries.withRow(q) { DotProduct.dotDouble(b, $0) } }
      }
      let best = scores.max() ?? 0
      #expect(best - scores[Int(truth[row: q].first!)] <= 1e-6, "query \(q)")
    }
  }

  @Test func miniLMSmallReadsTheSameMapped() throws {
    let set = try #require(EmbeddedData.miniLMSmall)
    let whole = try VectorIO.readVectors(at: set.base.path)
    let mapped = try MappedVectorFile(path: set.base.path)
    #expect(mapped.count == 2000 && mapped.dimension == 384 && mapped.format == .fvecs)
    #expect(try mapped.readAll() == whole)
    #expect(try mapped.read(1500..<1517) == whole.slice(1500..<1517))
  }
}

#if os(macOS) && arch(x86_64)
/// binary16 → binary32 from the definition (Intel macOS has no `Float16`).
func referenceHalfToFloat(_ h: UInt16) -> Float {
  let sign: Float = h & 0x8000 != 0 ? -1 : 1
  let e = Int(h >> 10) & 0x1F, m = Float(h & 0x3FF)
  return e == 0 ? sign * m * 0x1p-24 : sign * (1 + m / 1024) * Float(sign: .plus, exponent: e - 15, significand: 1)
}
#endif
