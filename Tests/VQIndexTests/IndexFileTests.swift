import Foundation
import Testing
import VQ
@testable import VQIndex

/// The `.vqx` file: exact round trips, memory-mapped search, and refusal of damaged files.
@Suite("IndexFile (.vqx)")
struct IndexFileTests {
  static func temporaryPath(_ name: String) -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-index-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent(name).path
  }

  static func sampleIndex(_ spec: String, lists: Int = 0, metric: IndexMetric = .innerProduct, rows: Int = 2000) throws -> VectorIndex {
    let data = try #require(IndexTestData.miniLM)
    return try VectorIndex.build(
      data.base.slice(0..<rows),
      configuration: IndexConfiguration(spec: try QuantizerSpec(spec), metric: metric, lists: lists, seed: 3))
  }

  @Test(
    "save → load (in memory and mapped) → the same codes and the same results bit for bit",
    arguments: [("rabitq:bits=1", 0, IndexMetric.innerProduct), ("rabitq:bits=4", 8, .l2), ("eden:bits=2", 4, .cosine),
                ("rabitq:bits=2,centre=mean", 0, .innerProduct), ("mxfp4", 0, .innerProduct)])
  func roundTrip(spec: String, lists: Int, metric: IndexMetric) throws {
    let data = try #require(IndexTestData.miniLM)
    var index = try Self.sampleIndex(spec, lists: lists, metric: metric)
    try index.delete([3, 500, 1999])
    let path = Self.temporaryPath("roundtrip-\(spec)-\(lists).vqx")
    try IndexFile.write(index, to: path)
    let parameters = SearchParameters(k: 10, rerank: 2, nprobe: max(1, lists / 2))
    let expected = try index.search(data.queries, parameters: parameters)
    for mapped in [false, true] {
      let loaded = try IndexFile.read(path, mapped: mapped)
      #expect(loaded.spec == index.spec && loaded.metric == metric && loaded.listCount == index.listCount)
      #expect(loaded.codes == index.codes)
      #expect(loaded.ids == index.ids && loaded.count == index.count && loaded.deletedCount == 3)
      #expect(try loaded.search(data.queries, parameters: parameters) == expected, "mapped: \(mapped)")
    }
    let header = try IndexFile.header(path)
    #expect(header.rows == 2000 && header.deletedRows == 3 && header.dimension == 384)
    #expect(header.sections.allSatisfy { $0.offset % 64 == 0 })
  }

  @Test("a loaded (mapped) index can be changed and saved again; the mapping is never written")
  func mutateLoaded() throws {
    let data = try #require(IndexTestData.miniLM)
    let path = Self.temporaryPath("mutate.vqx")
    try IndexFile.write(try Self.sampleIndex("rabitq:bits=2", rows: 1000), to: path)
    var loaded = try IndexFile.read(path, mapped: true)
    try loaded.add(data.base.slice(1000..<1200))
    try loaded.delete([0, 1])
    loaded.compact()
    try IndexFile.write(loaded, to: path)  // replaces the file the old mapping came from
    let again = try IndexFile.read(path, mapped: true)
    #expect(again.count == 1198 && again.codes == loaded.codes)
  }

  @Test("every truncation of a file is refused with a clear error, never a crash")
  func truncation() throws {
    let path = Self.temporaryPath("truncate.vqx")
    try IndexFile.write(try Self.sampleIndex("rabitq:bits=1", lists: 2, rows: 300), to: path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let cut = Self.temporaryPath("truncated.vqx")
    var cuts = Array(stride(from: 1, to: bytes.count, by: max(1, bytes.count / 97)))
    cuts += [1, 7, 8, 71, 72, 100, bytes.count - 1]
    for length in cuts {
      try bytes.prefix(length).write(to: URL(fileURLWithPath: cut))
      let error = #expect(throws: VQError.self, "cut at \(length)") { try IndexFile.read(cut) }
      let message = error?.description ?? ""
      #expect(message.contains("truncated") || message.contains("checksum") || message.contains("malformed"),
              "cut at \(length) of \(bytes.count): \(message)")
    }
    try Data().write(to: URL(fileURLWithPath: cut))
    #expect(throws: VQError.emptyFile(path: cut)) { try IndexFile.read(cut) }
  }

  @Test("a flipped bit anywhere is caught by a checksum naming the header or the section")
  func bitFlips() throws {
    let path = Self.temporaryPath("flip.vqx")
    let index = try Self.sampleIndex("rabitq:bits=2", lists: 2, metric: .l2, rows: 300)
    try IndexFile.write(index, to: path)
    let original = try Data(contentsOf: URL(fileURLWithPath: path))
    let header = try IndexFile.header(path)
    let flipped = Self.temporaryPath("flipped.vqx")
    var positions = [9, 20, 40, 80] + header.sections.map { $0.offset + $0.length / 2 }
    positions += header.sections.map { $0.offset }
    for position in positions {
      var bytes = original
      bytes[position] ^= 0x10
      try bytes.write(to: URL(fileURLWithPath: flipped))
      let error = #expect(throws: VQError.self, "flip at \(position)") { try IndexFile.read(flipped) }
      let message = error?.description ?? ""
      if let section = header.sections.first(where: { position >= $0.offset && position < $0.offset + $0.length }) {
        #expect(message.contains("checksum mismatch in section '\(section.name)'"), "\(message)")
      } else {
        #expect(message.contains("version") || message.contains("header checksum"), "\(message)")
      }
    }
  }

  @Test("a foreign file and an unknown version are named as such")
  func foreignAndVersion() throws {
    let path = Self.temporaryPath("foreign.vqx")
    try Data("this is not an index at all, just text".utf8).write(to: URL(fileURLWithPath: path))
    let foreign = #expect(throws: VQError.self) { try IndexFile.read(path) }
    #expect(foreign?.description.contains("not a swift-vq index") == true)

    try IndexFile.write(try Self.sampleIndex("sign", rows: 100), to: path)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    bytes[8] = 9
    try bytes.write(to: URL(fileURLWithPath: path))
    let version = #expect(throws: VQError.self) { try IndexFile.read(path) }
    #expect(version?.description.contains("unsupported .vqx version 9") == true)
  }

  @Test("CRC-32C check value and incremental use")
  func crc() {
    #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let whole = CRC32C.checksum(bytes)
    let split = bytes.withUnsafeBytes { b in
      CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[333...]), continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[..<333])))
    }
    #expect(whole == split)
  }
}
