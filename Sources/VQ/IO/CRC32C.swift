/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every `.vqx` section, as in
/// iSCSI, ext4 and SSE4.2's `crc32` instruction. Slicing-by-8 in software: a few GB/s in release, so
/// verifying a section costs about as much as reading it from the page cache.
///
/// Check value: `checksum("123456789") == 0xE3069283`.
public enum CRC32C {
  /// The CRC-32C of `bytes`, continuing from `previous` (the result of an earlier call) when given.
  public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
    var crc = ~previous
    guard var p = bytes.baseAddress, bytes.count > 0 else { return previous }
    var n = bytes.count
    tables.withUnsafeBufferPointer { t in
      while n > 0 && Int(bitPattern: p) & 7 != 0 {
        crc = t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
        p += 1; n -= 1
      }
      while n >= 8 {
        let word = UInt64(littleEndian: p.load(as: UInt64.self)) ^ UInt64(crc)
        crc = t[7 * 256 + Int(word & 0xFF)] ^ t[6 * 256 + Int((word >> 8) & 0xFF)]
          ^ t[5 * 256 + Int((word >> 16) & 0xFF)] ^ t[4 * 256 + Int((word >> 24) & 0xFF)]
          ^ t[3 * 256 + Int((word >> 32) & 0xFF)] ^ t[2 * 256 + Int((word >> 40) & 0xFF)]
          ^ t[1 * 256 + Int((word >> 48) & 0xFF)] ^ t[Int(word >> 56)]
        p += 8; n -= 8
      }
      while n > 0 {
        crc = t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
        p += 1; n -= 1
      }
    }
    return ~crc
  }

  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0) }
  }

  /// Eight 256-entry tables: table k advances a byte through k further zero bytes.
  private static let tables: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 8 * 256)
    for i in 0..<256 {
      var c = UInt32(i)
      for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
      t[i] = c
    }
    for k in 1..<8 {
      for i in 0..<256 {
        let previous = t[(k - 1) * 256 + i]
        t[k * 256 + i] = t[Int(previous & 0xFF)] ^ (previous >> 8)
      }
    }
    return t
  }()
}
