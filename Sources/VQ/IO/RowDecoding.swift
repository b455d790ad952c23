/// Conversion of stored rows into `VectorBatch` and `IntMatrix` values, shared by the whole-file
/// readers and `MappedVectorFile`: one bulk copy for contiguous float32 data, a tight loop otherwise,
/// then one vectorizable finiteness scan over the result.
enum RowDecoding {
  /// Rows `rows` of `layout` in `bytes` as floats. Checks each row's dimension field (vecs formats)
  /// and finiteness; errors name the absolute record/row.
  static func floats(_ bytes: UnsafeRawBufferPointer, _ layout: StoredLayout, rows: Range<Int>, path: String) throws -> VectorBatch {
    let d = layout.dimension
    var batch = VectorBatch(dimension: d, count: rows.count)
    guard let base = bytes.baseAddress, !rows.isEmpty else { return batch }
    try batch.withUnsafeMutableBufferPointer { out in
      let dst = out.baseAddress!
      if layout.isContiguous {
        let src = base + layout.firstRowOffset + rows.lowerBound * layout.rowStride
        convert(src, layout.element, count: rows.count * d, into: dst)
      } else {
        for (k, r) in rows.enumerated() {
          let rowOffset = layout.firstRowOffset + r * layout.rowStride
          if layout.hasDimensionFields { try checkDimensionField(bytes, layout, record: r, path: path) }
          convert(base + rowOffset, layout.element, count: d, into: dst + k * d)
        }
      }
      if let i = firstNonFinite(UnsafeBufferPointer(out)) {
        throw VQError.nonFinite(source: path, row: rows.lowerBound + i / d, column: i % d, value: out[i])
      }
    }
    return batch
  }

  /// All rows of `layout` as an `IntMatrix` (int32, or int64 values that fit in int32).
  static func integers(_ bytes: UnsafeRawBufferPointer, _ layout: StoredLayout, path: String) throws -> IntMatrix {
    let d = layout.dimension
    var values = [Int32](repeating: 0, count: layout.count * d)
    guard let base = bytes.baseAddress else { return IntMatrix(rows: layout.count, columns: d, values: values) }
    try values.withUnsafeMutableBufferPointer { out in
      for r in 0..<layout.count {
        if layout.hasDimensionFields { try checkDimensionField(bytes, layout, record: r, path: path) }
        let src = base + layout.firstRowOffset + r * layout.rowStride
        let dst = out.baseAddress! + r * d
        switch layout.element {
        case .int32:
          for j in 0..<d { dst[j] = Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * j, as: Int32.self)) }
        case .int64:
          for j in 0..<d {
            let v = Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * j, as: Int64.self))
            guard let narrow = Int32(exactly: v) else {
              throw VQError.corrupt(path: path, detail: "row \(r), column \(j) holds \(v), beyond the int32 range")
            }
            dst[j] = narrow
          }
        default:
          preconditionFailure("integer decoding of \(layout.element)")
        }
      }
    }
    return IntMatrix(rows: layout.count, columns: d, values: values)
  }

  private static func checkDimensionField(_ bytes: UnsafeRawBufferPointer, _ layout: StoredLayout, record r: Int, path: String) throws {
    let offset = r * layout.rowStride
    let field = Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
    guard field == layout.dimension else {
      throw VQError.corrupt(path: path, detail:
        "inconsistent dimension: record \(r) (byte offset \(offset)) has dimension \(field), but record 0 has dimension \(layout.dimension)")
    }
  }

  /// Converts `count` stored elements at `src` (any alignment, little-endian) into floats.
  @inline(__always)
  static func convert(_ src: UnsafeRawPointer, _ element: StoredElement, count: Int, into dst: UnsafeMutablePointer<Float>) {
    switch element {
    case .float32:
      #if _endian(little)
      UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * count)
      #else
      for j in 0..<count {
        dst[j] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self)))
      }
      #endif
    case .float16:
      for j in 0..<count {
        dst[j] = HalfPrecision.float(fromBits: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)))
      }
    case .uint8:
      let bytes = src.assumingMemoryBound(to: UInt8.self)
      for j in 0..<count { dst[j] = Float(bytes[j]) }
    case .int32, .int64:
      preconditionFailure("float decoding of integer data")
    }
  }

  /// Index of the first NaN or ±Inf, or nil. A branch-free maximum over the magnitude bits (which
  /// vectorizes) decides; only a file that has a bad value is scanned a second time to find it.
  static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
    guard let base = values.baseAddress else { return nil }
    let n = values.count
    return base.withMemoryRebound(to: UInt32.self, capacity: n) { bits -> Int? in
      var largest: UInt32 = 0
      for i in 0..<n { largest = max(largest, bits[i] & 0x7FFF_FFFF) }
      guard largest >= 0x7F80_0000 else { return nil }
      for i in 0..<n where bits[i] & 0x7FFF_FFFF >= 0x7F80_0000 { return i }
      return nil
    }
  }
}
