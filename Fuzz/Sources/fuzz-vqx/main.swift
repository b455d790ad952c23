// Fuzzes the .vqx index reader. The first byte is the mode: bit 0 mapped or read into memory, bit 1
// verify section checksums, bit 2 re-seal: recompute the header checksum and every section checksum
// of the mutated file first (the file format's layout: 72-byte fixed header, the spec padded to 8,
// 32-byte section entries, then the header CRC32C), so mutations get past the CRCs into the section
// parser and the consistency checks; bits 3-4 the search's rerank. Every read must return an index or
// throw VQError, and a loaded index must answer a search.
import FuzzSupport
import VQ
import VQIndex

func u32(_ b: [UInt8], _ at: Int) -> Int {
  Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24
}

func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
  (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) }
}

func put(_ b: inout [UInt8], _ at: Int, _ value: UInt32) {
  for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
}

/// Recomputes the checksums where the layout allows; leaves the rest as it is.
func reseal(_ b: inout [UInt8]) {
  guard b.count >= 72 else { return }
  let sections = u32(b, 56), specBytes = u32(b, 60)
  guard sections <= 64, specBytes <= 1 << 16 else { return }
  let table = 72 + (specBytes + 7) / 8 * 8
  let crcAt = table + sections * 32
  guard crcAt + 4 <= b.count else { return }
  for s in 0..<sections {
    let at = table + s * 32
    let offset = u64(b, at + 8), length = u64(b, at + 16)
    guard offset <= UInt64(b.count), length <= UInt64(b.count) - offset else { continue }
    let crc = b.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(offset + length)])) }
    put(&b, at + 4, crc)
  }
  let crc = b.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<crcAt])) }
  put(&b, crcAt, crc)
}

runFuzzer { data, count in
  guard let data, count >= 1 else { return 0 }
  let mode = data[0]
  var file = bytes(data + 1, count - 1)
  if mode & 4 != 0 { reseal(&file) }
  let path = file.withUnsafeBufferPointer { writeInput($0.baseAddress, $0.count, fileExtension: "vqx") }
  _ = try? IndexFile.header(path)
  guard let index = try? IndexFile.read(path, mapped: mode & 1 != 0, verifyChecksums: mode & 2 != 0) else { return 0 }
  let dimension = index.dimension
  guard dimension > 0 && dimension <= 4096 else { return 0 }
  let query = (0..<dimension).map { Float(($0 * 7919) % 13) - 6 }
  _ = try? index.search(query, parameters: SearchParameters(k: 3, rerank: Int(mode >> 3) % 3, nprobe: 2))
  return 0
}
