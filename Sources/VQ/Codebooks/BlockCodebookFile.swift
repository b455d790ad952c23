/// The binary form of a trained `BlockCodebook`, as shipped in `Sources/VQ/Resources/BlockCodebooks` and
/// written by `vq blockcodebooks`.
///
/// Why a file at all: the codebooks are deterministic for (n, p, b, seed) but training a 4096-codeword
/// book (b·p = 12, the default block size at b ≤ 4) costs seconds per process; loading one costs
/// microseconds. A shipped file holds exactly the floats training produces (the test regenerates small
/// ones and compares bytes), so loading and training are interchangeable.
///
/// Layout (little-endian, 48-byte header, then the codewords, then a checksum):
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 4 | magic `VQBC` |
/// | 4 | 4 | format version (1) |
/// | 8 | 4 | trainer version (`BlockCodebook.trainerVersion`) |
/// | 12 | 4 | n, the sphere dimension |
/// | 16 | 4 | p, coordinates per block |
/// | 20 | 4 | b, bits per coordinate (K = 2^(b·p) codewords) |
/// | 24 | 8 | training seed |
/// | 32 | 4 | Lloyd iterations run |
/// | 36 | 4 | training samples |
/// | 40 | 8 | training distortion (Float64) |
/// | 48 | 4·K·p | codewords, row-major, Float32 |
/// | 48 + 4·K·p | 4 | CRC-32C of every byte before it |
enum BlockCodebookFile {
  static let magic: [UInt8] = Array("VQBC".utf8)
  static let formatVersion: UInt32 = 1
  static let headerBytes = 48
  static let fileExtension = "vqbc"

  /// The file name of the shipped codebook for (n, p, b) at the default seed.
  static func name(dimension: Int, blockSize: Int, bits: Int) -> String {
    "n\(dimension)-p\(blockSize)-b\(bits).\(fileExtension)"
  }

  /// The bytes of `book`.
  static func bytes(of book: BlockCodebook) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(headerBytes + 4 * book.codewords.count + 4)
    func append<T: FixedWidthInteger>(_ value: T) {
      withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
    out.append(contentsOf: magic)
    append(formatVersion)
    append(BlockCodebook.trainerVersion)
    append(UInt32(book.dimension))
    append(UInt32(book.blockSize))
    append(UInt32(book.bits))
    append(book.seed)
    append(UInt32(book.iterations))
    append(UInt32(book.sampleCount))
    append(book.trainingDistortion.bitPattern)
    for v in book.codewords { append(v.bitPattern) }
    append(CRC32C.checksum(out))
    return out
  }

  /// The fields of a codebook file, checked: magic, versions, size, checksum, and that it holds the
  /// codebook for `key`. `path` names the file in errors.
  static func decode(_ bytes: UnsafeRawBufferPointer, key: BlockCodebookKey, path: String) throws -> BlockCodebook.Stored {
    func fail(_ detail: String) -> VQError { .corrupt(path: path, detail: "block codebook: \(detail)") }
    guard bytes.count >= headerBytes + 4 else {
      throw fail("\(bytes.count) bytes, shorter than the \(headerBytes + 4)-byte header and checksum")
    }
    func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    guard Array(bytes[0..<4]) == magic else { throw fail("bytes 0..<4 are not the magic 'VQBC'") }
    guard u32(4) == formatVersion else { throw fail("format version \(u32(4)) at byte 4, expected \(formatVersion)") }
    guard u32(8) == BlockCodebook.trainerVersion else {
      throw fail("trainer version \(u32(8)) at byte 8, expected \(BlockCodebook.trainerVersion): regenerate with `vq blockcodebooks`")
    }
    let n = Int(u32(12)), p = Int(u32(16)), b = Int(u32(20)), seed = u64(24)
    guard n == key.dimension, p == key.blockSize, b == key.bits, seed == key.seed else {
      throw fail("holds (n \(n), p \(p), b \(b), seed \(seed)), expected (n \(key.dimension), p \(key.blockSize), b \(key.bits), seed \(key.seed))")
    }
    let count = 1 << (b * p)
    let expected = headerBytes + 4 * count * p + 4
    guard bytes.count == expected else { throw fail("\(bytes.count) bytes, expected \(expected) for \(count) codewords of \(p) floats") }
    let stored = u32(expected - 4)
    let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(expected - 4)]))
    guard stored == computed else {
      throw fail("checksum mismatch at byte \(expected - 4): stored \(stored), computed \(computed)")
    }
    var words = [Float](repeating: 0, count: count * p)
    for i in 0..<(count * p) { words[i] = Float(bitPattern: u32(headerBytes + 4 * i)) }
    return BlockCodebook.Stored(
      codewords: words, iterations: Int(u32(32)), sampleCount: Int(u32(36)),
      trainingDistortion: Double(bitPattern: u64(40)))
  }
}
