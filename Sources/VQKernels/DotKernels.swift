import CVQKernels

extension Kernels {
  /// `out[c] = ⟨x, rows[c]⟩` for the `count` rows of `dimension` floats at `rows` (row-major), in the
  /// fixed order of `DotRowsReference` at every kernel level (C, `cvq_dot.h`): IVF probing and k-means
  /// assignment, where Swift without a target-CPU flag gets neither AVX nor FMA.
  public static func dotRows(
    _ x: UnsafePointer<Float>, rows: UnsafePointer<Float>, count: Int, dimension: Int, into out: UnsafeMutablePointer<Float>
  ) {
    precondition(count >= 0 && dimension >= 0)
    cvq_dot_rows(x, rows, count, dimension, out)
  }

  /// Asks for the first `bytes` bytes of each row `rows[k]` of the table at `base` (rows `stride` bytes
  /// apart) to be brought toward the caches: a hint with no result, so that scattered rows read next
  /// (re-ranking's original vectors) arrive in parallel rather than one memory latency each.
  public static func prefetchRows(_ base: UnsafeRawPointer, stride: Int, rows: UnsafeBufferPointer<Int>, bytes: Int) {
    precondition(stride >= 0 && bytes >= 0)
    guard let first = rows.baseAddress, !rows.isEmpty else { return }
    cvq_prefetch_rows(base, stride, first, rows.count, bytes)
  }
}

/// The scalar specification of `Kernels.dotRows`: 16 running sums s[j mod 16], each updated in order of
/// j by a fused multiply-add (`addingProduct`, one rounding), then s[l] += s[l + w] for w = 8, 4, 2, 1.
public enum DotRowsReference {
  public static func dot(_ x: UnsafePointer<Float>, _ row: UnsafePointer<Float>, dimension: Int) -> Float {
    var s = [Float](repeating: 0, count: 16)
    for j in 0..<dimension { s[j % 16] = s[j % 16].addingProduct(x[j], row[j]) }
    var w = 8
    while w >= 1 {
      for l in 0..<w { s[l] = s[l] + s[l + w] }
      w /= 2
    }
    return s[0]
  }
}
