import RealModule

/// Float dot products with relaxed (reassociating) arithmetic, so they vectorize without target
/// flags (research/limits.md §4.5).
public enum DotProduct {
  @inlinable
  public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var s: Float = 0
    for i in 0..<count { s = Relaxed.multiplyAdd(a[i], b[i], s) }
    return s
  }

  /// Exact-ish dot product in Double (for metrics and references, not hot loops).
  public static func dotDouble(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Double {
    var s = 0.0
    for i in 0..<min(a.count, b.count) { s += Double(a[i]) * Double(b[i]) }
    return s
  }
}
