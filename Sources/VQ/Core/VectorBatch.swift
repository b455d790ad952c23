/// `count` vectors of `dimension` floats, row-major and contiguous, 64-byte aligned.
///
/// The unit of work for every quantizer: rotations, encoders and metrics take a whole batch so the
/// protocol is crossed once per batch, never per vector.
public struct VectorBatch: Sendable {
  public let dimension: Int
  public let count: Int
  private var storage: AlignedStorage<Float>

  /// `count` zero vectors.
  public init(dimension: Int, count: Int) {
    precondition(dimension > 0 && count >= 0, "VectorBatch needs dimension > 0 and count >= 0")
    self.dimension = dimension
    self.count = count
    storage = AlignedStorage(count: dimension * count)
  }

  /// A read-only view of `count · dimension` floats kept elsewhere (a memory-mapped section), kept
  /// alive by `owner`. Nothing is copied until a write.
  public init(dimension: Int, count: Int, borrowing start: UnsafeRawPointer, owner: AnyObject) {
    precondition(dimension > 0 && count >= 0, "VectorBatch needs dimension > 0 and count >= 0")
    self.dimension = dimension
    self.count = count
    storage = AlignedStorage(borrowing: start, count: dimension * count, owner: owner)
  }

  /// The rows of `parts` one after the other (all of `dimension`).
  public static func concatenated(_ parts: [VectorBatch], dimension: Int) -> VectorBatch {
    precondition(parts.allSatisfy { $0.dimension == dimension }, "concatenating batches of different dimensions")
    var out = VectorBatch(dimension: dimension, count: parts.reduce(0) { $0 + $1.count })
    var start = 0
    out.withUnsafeMutableBufferPointer { dst in
      for part in parts {
        part.withUnsafeBufferPointer { src in
          if let s = src.baseAddress { (dst.baseAddress! + start).update(from: s, count: src.count) }
        }
        start += part.count * dimension
      }
    }
    return out
  }

  /// Rows taken from a flat row-major array; throws if its length is not a multiple of `dimension`.
  public init(dimension: Int, values: [Float]) throws {
    guard dimension > 0 else { throw VQError.invalidArgument("dimension must be positive, got \(dimension)") }
    guard values.count % dimension == 0 else {
      throw VQError.invalidArgument("\(values.count) values do not make whole vectors of dimension \(dimension)")
    }
    self.init(dimension: dimension, count: values.count / dimension)
    values.withUnsafeBufferPointer { src in
      if let base = src.baseAddress { storage.pointer.update(from: base, count: values.count) }
    }
  }

  /// Rows from an array of equal-length vectors.
  public init(rows: [[Float]]) throws {
    guard let first = rows.first else { throw VQError.invalidArgument("no vectors given") }
    for (i, row) in rows.enumerated() where row.count != first.count {
      throw VQError.dimensionMismatch(expected: first.count, got: row.count, what: "row \(i)")
    }
    try self.init(dimension: first.count, values: rows.flatMap { $0 })
  }

  /// All values, row-major.
  public var values: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: dimension * count)) }

  /// Row `i` as an array (convenient, not for hot loops).
  public subscript(row i: Int) -> [Float] {
    precondition(i >= 0 && i < count, "row \(i) out of range 0..<\(count)")
    return Array(UnsafeBufferPointer(start: storage.pointer + i * dimension, count: dimension))
  }

  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: storage.pointer, count: dimension * count))
  }

  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    AlignedStorage.prepareForWrite(&storage)
    return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: dimension * count))
  }

  /// Row `i` as a buffer, valid only inside `body`.
  public func withRow<R>(_ i: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    precondition(i >= 0 && i < count, "row \(i) out of range 0..<\(count)")
    return try body(UnsafeBufferPointer(start: storage.pointer + i * dimension, count: dimension))
  }

  /// The rows in `range` as a new batch.
  public func slice(_ range: Range<Int>) -> VectorBatch {
    precondition(range.lowerBound >= 0 && range.upperBound <= count)
    var out = VectorBatch(dimension: dimension, count: range.count)
    out.withUnsafeMutableBufferPointer { dst in
      if let d = dst.baseAddress { d.update(from: storage.pointer + range.lowerBound * dimension, count: dst.count) }
    }
    return out
  }

  /// The rows at `indices`, in that order, as a new batch.
  public func gather(_ indices: [Int]) -> VectorBatch {
    var out = VectorBatch(dimension: dimension, count: indices.count)
    out.withUnsafeMutableBufferPointer { dst in
      for (k, i) in indices.enumerated() {
        precondition(i >= 0 && i < count, "row \(i) out of range 0..<\(count)")
        (dst.baseAddress! + k * dimension).update(from: storage.pointer + i * dimension, count: dimension)
      }
    }
    return out
  }
}

extension VectorBatch: Equatable {
  /// Bitwise equality of shape and values.
  public static func == (a: VectorBatch, b: VectorBatch) -> Bool {
    guard a.dimension == b.dimension, a.count == b.count else { return false }
    return a.withUnsafeBufferPointer { x in
      b.withUnsafeBufferPointer { y in
        for i in 0..<x.count where x[i].bitPattern != y[i].bitPattern { return false }
        return true
      }
    }
  }
}

// MARK: - Validation

extension VectorBatch {
  /// Throws `nonFinite` at the first NaN or ±Inf, naming `source`, row and column.
  public func validateFinite(source: String) throws {
    try withUnsafeBufferPointer { buf in
      // 64 values per step: a value is NaN or infinite iff its bits without the sign are ≥ 0x7F80_0000, so
      // one vector max and one compare clear a step (the per-value branch cost as much as a rotation
      // round when encoding at d = 1024). The scalar loop then finds the first bad value, if any.
      let n = buf.count
      var start = 0
      if let base = buf.baseAddress {
        let raw = UnsafeRawPointer(base), magnitude = SIMD16<UInt32>(repeating: 0x7FFF_FFFF)
        let infinity = SIMD16<UInt32>(repeating: 0x7F80_0000)
        while start + 64 <= n {
          var largest = raw.loadUnaligned(fromByteOffset: 4 * start, as: SIMD16<UInt32>.self) & magnitude
          for part in 1..<4 {
            largest = pointwiseMax(
              largest, raw.loadUnaligned(fromByteOffset: 4 * (start + 16 * part), as: SIMD16<UInt32>.self) & magnitude)
          }
          if any(largest .>= infinity) { break }
          start += 64
        }
      }
      for i in start..<n where !buf[i].isFinite {
        throw VQError.nonFinite(source: source, row: i / dimension, column: i % dimension, value: buf[i])
      }
    }
  }

  /// Throws `zeroVector` at the first all-zero row.
  public func validateNonZero(source: String) throws {
    for r in 0..<count {
      let isZero = withRow(r) { row in row.allSatisfy { $0 == 0 } }
      if isZero { throw VQError.zeroVector(source: source, row: r) }
    }
  }

  /// Euclidean norm of every row (accumulated in Double).
  public func norms() -> [Float] { squareSums().map { Float($0.squareRoot()) } }

  /// ‖x_i‖² of every row, accumulated in Double.
  public func squaredNorms() -> [Float] { squareSums().map { Float($0) } }

  /// Σ_j x_ij² of every row in Double (the one loop behind `norms` and `squaredNorms`).
  private func squareSums() -> [Double] {
    (0..<count).map { r in
      withRow(r) { row in
        var s = 0.0
        for v in row { s += Double(v) * Double(v) }
        return s
      }
    }
  }

  /// Every row scaled to unit length. Throws `zeroVector` for an all-zero row.
  public func normalized(source: String) throws -> VectorBatch {
    let n = norms()
    if let r = n.firstIndex(where: { !($0 > 0) }) { throw VQError.zeroVector(source: source, row: r) }
    return scaledToUnitNorm(norms: n)
  }

  /// Every nonzero row scaled to unit length; an all-zero row stays zero (spherical k-means' centroids).
  public func unitRowsKeepingZeros() -> VectorBatch { scaledToUnitNorm(norms: norms()) }

  /// Rows divided by their norms `n` (rows whose norm is not positive are left as they are).
  private func scaledToUnitNorm(norms n: [Float]) -> VectorBatch {
    var out = self
    out.withUnsafeMutableBufferPointer { buf in
      for r in 0..<count where n[r] > 0 {
        let inv = 1 / n[r]
        for j in 0..<dimension { buf[r * dimension + j] *= inv }
      }
    }
    return out
  }
}
