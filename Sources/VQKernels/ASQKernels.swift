import CVQKernels

/// The exact-ASQ layer kernel at the current `KernelLevel` (C, `cvq_asq.h`); `ASQLayerReference` is the
/// scalar specification it matches bit for bit.
extension Kernels {
  /// One layer of the exact ASQ dynamic program (see `ASQLayerReference.layer`): leftmost row minima of
  /// V(k, j) = (shifted[k] + y[k]·(−b[j])) + y[j]·b[k] over k ∈ [lower[j], j] by divide and conquer;
  /// `argmins[j]` the column, `out[j]` = m_j + (−e[j]) (then + e[j] when `shiftOut`). `out` must not
  /// alias `shifted`; `count` < 2^32.
  public static func asqLayer(
    shifted: UnsafePointer<Double>, y: UnsafePointer<Double>, b: UnsafePointer<Double>, e: UnsafePointer<Double>,
    count: Int, lower: UnsafePointer<UInt32>?, argmins: UnsafeMutablePointer<UInt32>, out: UnsafeMutablePointer<Double>,
    shiftOut: Bool
  ) {
    precondition(count >= 0 && count < Int(UInt32.max), "ASQ layer of \(count) rows")
    cvq_asq_layer(shifted, y, b, e, count, lower, argmins, out, shiftOut ? 1 : 0)
  }
}
