/// A dense Haar-random rotation: Q from the QR decomposition of a seeded Gaussian matrix with R's
/// diagonal made positive, which makes Q exactly Haar-distributed (Mezzadri 2007).
///
/// O(d²) memory and time per vector (a d = 1024 matrix is 4 MB; research/limits.md §2: about 140× the
/// cost of three Hadamard rounds). Here for comparison with theory and for small d; no padding.
public struct DenseRotation: Rotation {
  public let inputDimension: Int
  public let seed: UInt64
  /// Q, row-major d × d.
  public let matrix: [Float]

  public var outputDimension: Int { inputDimension }

  public static let gaussianStream: UInt64 = 0x4841_4152   // "HAAR"

  public init(dimension d: Int, seed: UInt64) {
    precondition(d > 0)
    inputDimension = d
    self.seed = seed
    var g = SeededGenerator(seed: seed, stream: Self.gaussianStream)
    // Columns of a Gaussian matrix, orthonormalized by modified Gram–Schmidt twice (in Double).
    var q = [Double](repeating: 0, count: d * d)   // column-major: column j at [j*d, (j+1)*d)
    for i in 0..<(d * d) { q[i] = g.nextGaussian() }
    q.withUnsafeMutableBufferPointer { a in
      for j in 0..<d {
        for _ in 0..<2 {
          for k in 0..<j {
            var dot = 0.0
            for i in 0..<d { dot += a[k * d + i] * a[j * d + i] }
            for i in 0..<d { a[j * d + i] -= dot * a[k * d + i] }
          }
        }
        var norm = 0.0
        for i in 0..<d { norm += a[j * d + i] * a[j * d + i] }
        norm = norm.squareRoot()
        for i in 0..<d { a[j * d + i] /= norm }
      }
    }
    // Gram–Schmidt makes R's diagonal positive (the norms), which is exactly the sign fix that makes Q
    // Haar-distributed.
    var m = [Float](repeating: 0, count: d * d)
    for r in 0..<d { for c in 0..<d { m[r * d + c] = Float(q[c * d + r]) } }
    matrix = m
  }

  public func apply(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
    let d = inputDimension
    matrix.withUnsafeBufferPointer { q in
      for v in 0..<count {
        for r in 0..<d { y[v * d + r] = DotProduct.dot(q.baseAddress! + r * d, x + v * d, count: d) }
      }
    }
  }

  public func applyInverse(_ y: UnsafePointer<Float>, count: Int, into x: UnsafeMutablePointer<Float>) {
    let d = inputDimension
    matrix.withUnsafeBufferPointer { q in
      for v in 0..<count {
        let out = x + v * d
        for c in 0..<d { out[c] = 0 }
        for r in 0..<d {
          let yr = y[v * d + r]
          let row = q.baseAddress! + r * d
          for c in 0..<d { out[c] += row[c] * yr }
        }
      }
    }
  }
}
