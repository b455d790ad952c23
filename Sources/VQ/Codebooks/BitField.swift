/// Fixed-width unsigned fields packed tightly, LSB first (field `i` of width `w` occupies bits
/// `i·w ..< (i+1)·w` of the byte string, bit 0 being the least significant bit of byte 0): the layout of
/// BlockQuant's block indices and of the E8 codes. Only the bytes that hold a field are touched, so a
/// field at the end of a code never reads past it.
enum BitField {
  /// The `width`-bit field (width ≤ 32) starting at bit `offset`.
  @inline(__always)
  static func read(_ bytes: UnsafePointer<UInt8>, bitOffset offset: Int, width: Int) -> Int {
    var value = 0, filled = 0, byte = offset >> 3, shift = offset & 7
    while filled < width {
      value |= Int(bytes[byte] >> UInt8(shift)) << filled
      filled += 8 - shift
      byte += 1
      shift = 0
    }
    return value & ((1 << width) - 1)
  }

  /// ORs `value` (< 2^width) into the `width`-bit field at bit `offset`; the field must be zero.
  @inline(__always)
  static func write(_ value: Int, into bytes: UnsafeMutablePointer<UInt8>, bitOffset offset: Int, width: Int) {
    var rest = value, written = 0, byte = offset >> 3, shift = offset & 7
    while written < width {
      bytes[byte] |= UInt8(truncatingIfNeeded: rest << shift)
      let taken = 8 - shift
      rest >>= taken
      written += taken
      byte += 1
      shift = 0
    }
  }
}
