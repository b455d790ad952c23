/// How one quantizer lays out a vector's code: packed code bytes, then named per-vector side values
/// (norms, scales, error bounds), each a Float32 stored structure-of-arrays.
public struct CodeLayout: Hashable, Sendable {
  /// Packed code bytes per vector (block scales that live inside the code, as in MXFP4, count here).
  public var bytesPerCode: Int
  /// Names of the Float32 side values stored per vector, in storage order (e.g. `["norm"]`).
  public var sideFields: [String]

  public init(bytesPerCode: Int, sideFields: [String] = []) {
    self.bytesPerCode = bytesPerCode
    self.sideFields = sideFields
  }

  /// Everything stored per vector: code bytes plus 4 bytes per side value.
  public var bytesPerVector: Int { bytesPerCode + 4 * sideFields.count }

  /// Bits per coordinate of a vector of `dimension` coordinates, side data included.
  public func bitsPerCoordinate(dimension: Int) -> Double {
    Double(bytesPerVector * 8) / Double(dimension)
  }

  /// Bytes needed to pack `count` codes of `bits` bits each, tightly (bit `i·bits` onwards, LSB first).
  public static func packedBytes(count: Int, bits: Int) -> Int { (count * bits + 7) / 8 }
}

/// The codes of `count` vectors: 64-byte-aligned code bytes (row-major, `layout.bytesPerCode` each)
/// and the side values structure-of-arrays (`side(field)` is `count` contiguous floats).
public struct CodeBuffer: Sendable {
  public let layout: CodeLayout
  public let count: Int
  private var codeStorage: AlignedStorage<UInt8>
  private var sideStorage: AlignedStorage<Float>

  public init(layout: CodeLayout, count: Int) {
    precondition(count >= 0)
    self.layout = layout
    self.count = count
    codeStorage = AlignedStorage(count: layout.bytesPerCode * count)
    sideStorage = AlignedStorage(count: layout.sideFields.count * count)
  }

  /// A read-only view of codes kept elsewhere (a memory-mapped `.vqx` section): `codes` holds
  /// `layout.bytesPerCode · count` bytes, `side` the `layout.sideFields.count · count` floats
  /// structure-of-arrays (4-byte aligned); `owner` keeps both alive. Nothing is copied until a write.
  public init(layout: CodeLayout, count: Int, borrowingCodes codes: UnsafeRawPointer, side: UnsafeRawPointer, owner: AnyObject) {
    precondition(count >= 0)
    self.layout = layout
    self.count = count
    codeStorage = AlignedStorage(borrowing: codes, count: layout.bytesPerCode * count, owner: owner)
    sideStorage = AlignedStorage(borrowing: side, count: layout.sideFields.count * count, owner: owner)
  }

  /// All side values (`layout.sideFields.count · count` floats, field after field).
  public func withUnsafeAllSides<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: sideStorage.pointer, count: layout.sideFields.count * count))
  }

  /// The codes of `parts` one after the other (all with `layout`).
  public static func concatenated(_ parts: [CodeBuffer], layout: CodeLayout) -> CodeBuffer {
    precondition(parts.allSatisfy { $0.layout == layout }, "concatenating codes of different layouts")
    let total = parts.reduce(0) { $0 + $1.count }
    var out = CodeBuffer(layout: layout, count: total)
    let b = layout.bytesPerCode
    var start = 0
    for part in parts {
      out.withUnsafeMutableCodes { dst in
        part.withUnsafeCodes { src in
          if let s = src.baseAddress, b > 0 { (dst.baseAddress! + start * b).update(from: s, count: part.count * b) }
        }
      }
      for f in 0..<layout.sideFields.count {
        out.withUnsafeMutableSide(f) { dst in
          part.withUnsafeSide(f) { src in
            if let s = src.baseAddress { (dst.baseAddress! + start).update(from: s, count: part.count) }
          }
        }
      }
      start += part.count
    }
    return out
  }

  /// The codes of vectors `rows` (in that order, repeats allowed), as a new buffer.
  public func gather(_ rows: [Int]) -> CodeBuffer {
    var out = CodeBuffer(layout: layout, count: rows.count)
    let b = layout.bytesPerCode
    out.withUnsafeMutableCodes { dst in
      guard b > 0 else { return }
      for (k, i) in rows.enumerated() {
        precondition(i >= 0 && i < count, "row \(i) out of 0..<\(count)")
        (dst.baseAddress! + k * b).update(from: codeStorage.pointer + i * b, count: b)
      }
    }
    for f in 0..<layout.sideFields.count {
      out.withUnsafeMutableSide(f) { dst in
        let src = sideStorage.pointer + f * count
        for (k, i) in rows.enumerated() { dst[k] = src[i] }
      }
    }
    return out
  }

  /// Total bytes stored (codes and side values).
  public var byteCount: Int { layout.bytesPerVector * count }

  /// Index of a side field by name; traps on a name the layout does not have (a programming error).
  public func sideIndex(_ field: String) -> Int {
    guard let i = layout.sideFields.firstIndex(of: field) else {
      preconditionFailure("code layout has no side field '\(field)' (has \(layout.sideFields))")
    }
    return i
  }

  // MARK: Code bytes

  public func withUnsafeCodes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: codeStorage.pointer, count: layout.bytesPerCode * count))
  }

  public mutating func withUnsafeMutableCodes<R>(_ body: (UnsafeMutableBufferPointer<UInt8>) throws -> R) rethrows -> R {
    AlignedStorage.prepareForWrite(&codeStorage)
    return try body(UnsafeMutableBufferPointer(start: codeStorage.pointer, count: layout.bytesPerCode * count))
  }

  /// The code bytes of vector `i` (convenient, not for hot loops).
  public func code(_ i: Int) -> [UInt8] {
    precondition(i >= 0 && i < count)
    return Array(UnsafeBufferPointer(start: codeStorage.pointer + i * layout.bytesPerCode, count: layout.bytesPerCode))
  }

  // MARK: Side values

  /// All values of side field `index` (`count` floats).
  public func withUnsafeSide<R>(_ index: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    precondition(index >= 0 && index < layout.sideFields.count)
    return try body(UnsafeBufferPointer(start: sideStorage.pointer + index * count, count: count))
  }

  public mutating func withUnsafeMutableSide<R>(_ index: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
    precondition(index >= 0 && index < layout.sideFields.count)
    AlignedStorage.prepareForWrite(&sideStorage)
    return try body(UnsafeMutableBufferPointer(start: sideStorage.pointer + index * count, count: count))
  }

  /// Side field `field` of every vector, as an array.
  public func side(_ field: String) -> [Float] { withUnsafeSide(sideIndex(field)) { Array($0) } }

  /// Codes and side values of the vectors in `range`, as a new buffer.
  public func slice(_ range: Range<Int>) -> CodeBuffer {
    precondition(range.lowerBound >= 0 && range.upperBound <= count)
    var out = CodeBuffer(layout: layout, count: range.count)
    let b = layout.bytesPerCode
    out.withUnsafeMutableCodes { dst in
      if let d = dst.baseAddress { d.update(from: codeStorage.pointer + range.lowerBound * b, count: range.count * b) }
    }
    for f in 0..<layout.sideFields.count {
      out.withUnsafeMutableSide(f) { dst in
        if let d = dst.baseAddress { d.update(from: sideStorage.pointer + f * count + range.lowerBound, count: range.count) }
      }
    }
    return out
  }

  /// Throws unless `self` has `layout` (a decoder given another quantizer's codes).
  public func validate(layout expected: CodeLayout) throws {
    guard layout == expected else {
      throw VQError.invalidArgument("code layout \(layout) does not match the quantizer's \(expected)")
    }
  }
}

extension CodeBuffer: Equatable {
  /// Bytewise equality of layout, codes and side values.
  public static func == (a: CodeBuffer, b: CodeBuffer) -> Bool {
    guard a.layout == b.layout, a.count == b.count else { return false }
    let codesEqual = a.withUnsafeCodes { x in b.withUnsafeCodes { y in x.elementsEqual(y) } }
    guard codesEqual else { return false }
    for f in 0..<a.layout.sideFields.count {
      let same = a.withUnsafeSide(f) { x in b.withUnsafeSide(f) { y in
        x.elementsEqual(y, by: { $0.bitPattern == $1.bitPattern }) } }
      if !same { return false }
    }
    return true
  }
}
