import VQ

/// Mean and standard error of a sample, accumulated in Double (Welford).
public struct RunningStatistics: Sendable {
  public private(set) var count = 0
  public private(set) var mean = 0.0
  private var m2 = 0.0

  public init() {}
  public init<S: Sequence>(_ values: S) where S.Element: BinaryFloatingPoint {
    for v in values { add(Double(v)) }
  }

  public mutating func add(_ x: Double) {
    count += 1
    let delta = x - mean
    mean += delta / Double(count)
    m2 += delta * (x - mean)
  }

  /// Unbiased sample variance.
  public var variance: Double { count > 1 ? m2 / Double(count - 1) : 0 }
  /// Standard error of the mean.
  public var standardError: Double { (variance / Double(max(count, 1))).squareRoot() }
}

/// Seeded test data.
public enum TestData {
  /// `count` vectors with i.i.d. N(0,1) coordinates.
  public static func gaussian(count: Int, dimension: Int, seed: UInt64) -> VectorBatch {
    var g = SeededGenerator(seed: seed)
    let values = (0..<(count * dimension)).map { _ in Float(g.nextGaussian()) }
    return try! VectorBatch(dimension: dimension, values: values)
  }

  /// `count` vectors uniform on the unit sphere.
  public static func unitSphere(count: Int, dimension: Int, seed: UInt64) -> VectorBatch {
    try! gaussian(count: count, dimension: dimension, seed: seed).normalized(source: "test data")
  }
}
