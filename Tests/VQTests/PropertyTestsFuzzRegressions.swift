import Foundation
import Testing
import VQ
import VQIndex
import VQTestSupport

/// Regression tests for findings of the fuzzers in Fuzz/ (each input is also kept in
/// Fuzz/corpus/<harness>/regression-*).
@Suite struct FuzzRegressionTests {
  /// fuzz-vqx, 2026-11-23: a section entry whose offset is above Int.max (a multiple of 64, so it
  /// passed the alignment check) made `UInt64(Int.max) - offset` overflow in `IndexFile.parse`: a trap
  /// instead of `corrupt`. The file here is a real index with its first section's offset set to
  /// 0xFFFF_FFFF_FFFF_FFC0 and the header checksum recomputed, so only the offset check can refuse it.
  @Test("a .vqx section offset above Int.max is 'corrupt', not a trap")
  func sectionOffsetAboveIntMax() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-fuzz-regression-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("offset.vqx").path
    let index = try VectorIndex.build(TestData.gaussian(count: 20, dimension: 8, seed: 1), configuration: IndexConfiguration(spec: QuantizerSpec("sign")))
    try IndexFile.write(index, to: path)
    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
    // Layout (IndexFile): 72-byte fixed header, the spec padded to 8, 32-byte section entries
    // (kind, crc, offset u64, length u64), then the header CRC32C.
    let sections = u32(56), specBytes = u32(60)
    let table = 72 + (specBytes + 7) / 8 * 8
    try #require(sections >= 1)
    for i in 0..<8 { bytes[table + 8 + i] = i == 0 ? 0xC0 : 0xFF }
    let crcAt = table + sections * 32
    let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<crcAt])) }
    for i in 0..<4 { bytes[crcAt + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    for mapped in [false, true] {
      #expect {
        _ = try IndexFile.read(path, mapped: mapped, verifyChecksums: false)
      } throws: { error in
        "\(error)".contains("bad offset 18446744073709551552") && "\(error)".contains("offset.vqx")
      }
    }
    #expect(throws: VQError.self) { _ = try IndexFile.header(path) }
  }
}
