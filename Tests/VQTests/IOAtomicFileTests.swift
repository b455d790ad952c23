import Foundation
import Testing
import VQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct IOAtomicFileTests {
  let folder: IOScratchFolder
  init() throws { folder = try IOScratchFolder() }

  struct Interrupted: Error {}

  @Test func aThrowingBodyLeavesTheOldFileIntactAndNoTemporaryFile() throws {
    let p = try folder.write("keep.fvecs", [1, 2, 3])
    #expect(throws: Interrupted.self) {
      try AtomicFile.write(to: p) { sink in
        try sink.write([UInt8](repeating: 9, count: 3 << 20))  // more than the buffer: real writes happened
        throw Interrupted()
      }
    }
    #expect(try folder.bytes("keep.fvecs") == [1, 2, 3])
    #expect(try folder.contents() == ["keep.fvecs"])
  }

  @Test func aThrowingBodyCreatesNoFile() throws {
    #expect(throws: Interrupted.self) {
      try AtomicFile.write(to: folder.path("new.bin")) { sink in
        try sink.write(littleEndian: UInt32(7))
        throw Interrupted()
      }
    }
    #expect(try folder.contents().isEmpty)
  }

  @Test func failedVectorWriteKeepsTheOldFile() throws {
    let old = try VectorBatch(rows: [[1, 2], [3, 4]])
    let p = folder.path("v.bvecs")
    try VectorIO.writeVectors(old, to: p)
    let bad = try VectorBatch(rows: [[1, 2], [3, 400]])
    guard case .outOfRange = thrownVQError({ try VectorIO.writeVectors(bad, to: p) }) else { Issue.record("400 in bvecs"); return }
    #expect(try VectorIO.readVectors(at: p) == old)
    #expect(try folder.contents() == ["v.bvecs"])
  }

  @Test func writesEveryByteInOrderAcrossBufferBoundaries() throws {
    var g = SeededGenerator(seed: 9)
    let chunks: [[UInt8]] = (0..<40).map { k in
      let n = k % 5 == 0 ? Int(g.next() % 1_500_000) : Int(g.next() % 5000)
      return (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    }
    let p = folder.path("data.bin")
    var sizes: [Int] = []
    try AtomicFile.write(to: p) { sink in
      for c in chunks {
        try sink.write(c)
        sizes.append(sink.bytesWritten)
      }
      try sink.write(littleEndian: Int32(-2))
      var one = [Float(1.5)]
      try one.withUnsafeMutableBufferPointer { try sink.write(littleEndian: $0) }
      try sink.pad(toMultipleOf: 64)
      #expect(sink.bytesWritten % 64 == 0)
      try sink.write(utf8: "end")
      try sink.writeZeros(count: 2)
      try sink.write(littleEndian: [UInt8(0), 0, 0])
    }
    let expected = chunks.flatMap { $0 }
    let bytes = try folder.bytes("data.bin")
    #expect(Array(bytes.prefix(expected.count)) == expected)
    #expect(sizes.last == expected.count)
    let tailStart = expected.count
    #expect(Array(bytes[tailStart..<(tailStart + 8)]) == [0xFE, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xC0, 0x3F])
    let padded = (tailStart + 8 + 63) / 64 * 64
    #expect(bytes.count == padded + 8)
    #expect(bytes[(tailStart + 8)..<padded].allSatisfy { $0 == 0 })
    #expect(Array(bytes[padded...]) == Array("end".utf8) + [0, 0, 0, 0, 0])
    #expect(try folder.contents() == ["data.bin"])
  }

  @Test func replacingKeepsThePermissionBits() throws {
    let p = try folder.write("mode.bin", [1])
    chmod(p, 0o640)
    try AtomicFile.write(to: p) { try $0.write([2, 3]) }
    var info = stat()
    #expect(stat(p, &info) == 0)
    #expect(info.st_mode & 0o777 == 0o640)
    #expect(try folder.bytes("mode.bin") == [2, 3])
  }

  @Test func unwritableTargetsAreIOErrors() throws {
    let missing = folder.path("no/such/folder/x.fvecs")
    guard case .io(let path, let detail) = thrownVQError({ try AtomicFile.write(to: missing) { _ in } }) else {
      Issue.record("missing folder"); return
    }
    #expect(path == missing && detail.contains("temporary file"), "\(detail)")
    try FileManager.default.createDirectory(atPath: folder.path("d.npy"), withIntermediateDirectories: false)
    guard case .io = thrownVQError({ try VectorIO.writeVectors(VectorBatch(dimension: 2, count: 1), to: folder.path("d.npy")) }) else {
      Issue.record("directory target"); return
    }
    #expect(try folder.contents() == ["d.npy"])
  }

  @Test func aSinkUsedAfterItsWriteThrows() throws {
    var escaped: FileSink?
    try AtomicFile.write(to: folder.path("s.bin")) { sink in escaped = sink }
    guard var sink = escaped else { Issue.record("no sink"); return }
    guard case .io = thrownVQError({ try sink.write([1]) }) else { Issue.record("late write accepted"); return }
  }
}
