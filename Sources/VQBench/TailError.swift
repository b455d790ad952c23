import VQ

/// High-probability inner-product error: the 99th and 99.9th percentiles of |estimated − true|·√d over
/// (query, base) pairs. Scaled by √d so that, like `ip_var_d`, it is comparable across dimensions
/// (an error of typical size σ/√d reads as σ). A sub-Gaussian estimator has p99 ≈ 2.58·√ip_var_d and
/// p99.9 ≈ 3.29·√ip_var_d; heavier tails show as larger ratios.
public struct TailError: Sendable, Equatable {
  public var p99: Double
  public var p999: Double
  /// Number of pairs the percentiles are taken over.
  public var pairs: Int

  public init(p99: Double, p999: Double, pairs: Int) {
    self.p99 = p99
    self.p999 = p999
    self.pairs = pairs
  }
}

/// The |error| values of the sampled pairs (every query whose index is a multiple of `stride`).
struct TailErrorSample {
  /// At most this many pairs are kept (4 M Floats = 16 MB), by taking every `stride`-th query.
  static let pairLimit = 1 << 22

  static func stride(pairs: Int) -> Int { max(1, (pairs + pairLimit - 1) / pairLimit) }

  private var errors: [Float] = []

  mutating func add(estimated: UnsafeBufferPointer<Float>, exact: UnsafeBufferPointer<Double>) {
    errors.reserveCapacity(errors.count + estimated.count)
    for i in 0..<estimated.count { errors.append(Float(abs(Double(estimated[i]) - exact[i]))) }
  }

  mutating func merge(_ other: TailErrorSample) { errors.append(contentsOf: other.errors) }

  /// Percentiles by the nearest-rank rule (the ⌈p·N⌉-th smallest), scaled by √d.
  func result(dimension: Int) -> TailError {
    guard !errors.isEmpty else { return TailError(p99: .nan, p999: .nan, pairs: 0) }
    let sorted = errors.sorted()
    let scale = Double(dimension).squareRoot()
    func rank(_ p: Double) -> Double {
      let i = min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
      return Double(sorted[i]) * scale
    }
    return TailError(p99: rank(0.99), p999: rank(0.999), pairs: sorted.count)
  }
}
