import RealModule

/// How far reconstructed vectors x̂ are from the originals x (DESIGN.md §6), accumulated in Double:
///
/// - `nmse`: mean over vectors of ‖x̂ − x‖² / ‖x‖²;
/// - `cosineLoss`: mean of 1 − cos(x, x̂);
/// - `angleP99Degrees`: the 99th percentile of the angle between x and x̂, in degrees.
///
/// The cosine loss and the angle are computed from the unit vectors u = x/‖x‖, û = x̂/‖x̂‖ as
/// 1 − cos = ‖u − û‖²/2 and θ = 2·atan2(‖u − û‖, ‖u + û‖): both are exactly 0 for x̂ = x and keep full
/// relative precision at small angles, where 1 − dot/(‖x‖‖x̂‖) and acos lose it to cancellation.
/// A zero reconstruction has no direction: it counts as orthogonal (loss 1, 90°).
public struct ReconstructionError: Sendable, Equatable {
  public var nmse: Double
  public var cosineLoss: Double
  public var angleP99Degrees: Double

  public init(nmse: Double, cosineLoss: Double, angleP99Degrees: Double) {
    self.nmse = nmse
    self.cosineLoss = cosineLoss
    self.angleP99Degrees = angleP99Degrees
  }

  /// Measures `reconstructed` against `original` (same shape, no zero rows in `original`).
  public static func measure(original: VectorBatch, reconstructed: VectorBatch) throws -> ReconstructionError {
    guard original.dimension == reconstructed.dimension else {
      throw VQError.dimensionMismatch(expected: original.dimension, got: reconstructed.dimension, what: "reconstruction")
    }
    guard original.count == reconstructed.count else {
      throw VQError.invalidArgument("reconstruction has \(reconstructed.count) vectors, the original \(original.count)")
    }
    guard original.count > 0 else { throw VQError.invalidArgument("no vectors to measure") }
    let n = original.count, d = original.dimension
    var angles = [Double](repeating: 0, count: n)
    var nmseSum = 0.0, cosineLossSum = 0.0
    try original.withUnsafeBufferPointer { xs in
      try reconstructed.withUnsafeBufferPointer { ys in
        for r in 0..<n {
          let x = xs.baseAddress! + r * d, y = ys.baseAddress! + r * d
          var xx = 0.0, yy = 0.0, err = 0.0
          for j in 0..<d {
            let a = Double(x[j]), b = Double(y[j])
            xx += a * a; yy += b * b; err += (b - a) * (b - a)
          }
          guard xx > 0 else { throw VQError.zeroVector(source: "original", row: r) }
          nmseSum += err / xx
          let angle: Double, loss: Double
          if yy > 0 {
            let ix = 1 / xx.squareRoot(), iy = 1 / yy.squareRoot()
            var minus = 0.0, plus = 0.0
            for j in 0..<d {
              let u = Double(x[j]) * ix, v = Double(y[j]) * iy
              minus += (u - v) * (u - v); plus += (u + v) * (u + v)
            }
            loss = minus / 2
            angle = 2 * Double.atan2(y: minus.squareRoot(), x: plus.squareRoot())
          } else if yy == 0 {
            loss = 1; angle = Double.pi / 2
          } else {  // NaN in the reconstruction: let it show
            loss = .nan; angle = .nan
          }
          cosineLossSum += loss
          angles[r] = angle * 180 / Double.pi
        }
      }
    }
    return ReconstructionError(
      nmse: nmseSum / Double(n), cosineLoss: cosineLossSum / Double(n),
      angleP99Degrees: Percentile.of(angles, 0.99))
  }
}

/// Percentiles of a sample.
public enum Percentile {
  /// The `p`-quantile (0 ≤ p ≤ 1) of `values` by linear interpolation between order statistics at rank
  /// p·(n − 1) (NumPy's default "linear" method). NaN if `values` is empty or holds a NaN.
  public static func of(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty, !values.contains(where: \.isNaN) else { return .nan }
    let sorted = values.sorted()
    let rank = min(max(p, 0), 1) * Double(sorted.count - 1)
    let lo = Int(rank.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
    let t = rank - Double(lo)
    return t == 0 ? sorted[lo] : sorted[lo] + (sorted[hi] - sorted[lo]) * t
  }
}
