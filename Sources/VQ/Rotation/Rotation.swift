/// An orthogonal map applied before quantization, so that every coordinate of a unit vector follows
/// the same known law (research/rotation.md §1, §6).
///
/// `outputDimension ≥ inputDimension`: a rotation that needs a special size zero-pads its input
/// (every padded coordinate is then quantized; the map stays an isometry, never a projection).
public protocol Rotation: Sendable {
  var inputDimension: Int { get }
  var outputDimension: Int { get }
  /// `y = Π · pad(x)` for `count` rows: reads `count × inputDimension`, writes `count × outputDimension`.
  func apply(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>)
  /// `x = first inputDimension coordinates of Πᵀ · y` for `count` rows.
  func applyInverse(_ y: UnsafePointer<Float>, count: Int, into x: UnsafeMutablePointer<Float>)
}

extension Rotation {
  /// The rotated batch (`outputDimension` columns).
  public func apply(_ x: VectorBatch) -> VectorBatch {
    precondition(x.dimension == inputDimension, "rotation expects dimension \(inputDimension), got \(x.dimension)")
    var y = VectorBatch(dimension: outputDimension, count: x.count)
    guard x.count > 0 else { return y }
    x.withUnsafeBufferPointer { src in
      y.withUnsafeMutableBufferPointer { dst in apply(src.baseAddress!, count: x.count, into: dst.baseAddress!) }
    }
    return y
  }

  /// The inverse-rotated batch (`inputDimension` columns).
  public func applyInverse(_ y: VectorBatch) -> VectorBatch {
    precondition(y.dimension == outputDimension, "inverse rotation expects dimension \(outputDimension), got \(y.dimension)")
    var x = VectorBatch(dimension: inputDimension, count: y.count)
    guard y.count > 0 else { return x }
    y.withUnsafeBufferPointer { src in
      x.withUnsafeMutableBufferPointer { dst in applyInverse(src.baseAddress!, count: y.count, into: dst.baseAddress!) }
    }
    return x
  }

  /// One rotated vector.
  public func apply(_ x: [Float]) -> [Float] {
    precondition(x.count == inputDimension)
    var y = [Float](repeating: 0, count: outputDimension)
    x.withUnsafeBufferPointer { s in y.withUnsafeMutableBufferPointer { d in apply(s.baseAddress!, count: 1, into: d.baseAddress!) } }
    return y
  }
}

/// The identity (no rotation): `rotation=none`.
public struct IdentityRotation: Rotation {
  public let inputDimension: Int
  public var outputDimension: Int { inputDimension }
  public init(dimension: Int) { inputDimension = dimension }
  public func apply(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
    y.update(from: x, count: count * inputDimension)
  }
  public func applyInverse(_ y: UnsafePointer<Float>, count: Int, into x: UnsafeMutablePointer<Float>) {
    x.update(from: y, count: count * inputDimension)
  }
}
