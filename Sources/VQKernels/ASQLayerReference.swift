import CVQKernels

/// Scalar Swift reference of the exact-ASQ layer kernel (`cvq_asq.h`): the specification every C level
/// matches bit for bit.
///
/// Paper: QUIVER (Ben Basat et al., NeurIPS 2024, arXiv:2402.03158); research/asq-ipaware.md §2.3.
/// A layer of the DP D_t[j] = min_k D_{t−1}[k] + C(k, j) with the cost regrouped as in `ASQCostTerms`:
/// row j's cells are V(k, j) = (shifted[k] + y[k]·(−b[j])) + y[j]·b[k] (shifted = D_{t−1} + E), each
/// rounded in that order, never fused. Search (monotone leftmost argmins, divide and conquer):
/// 1. a block of rows [r0, r1] with columns [c0, c1]: solve its middle row over
///    [max(c0, lower[mid]), min(c1, mid)] (clamped to start ≤ end), leftmost minimum by strict `<`;
/// 2. recurse on rows [r0, mid − 1] with columns [c0, argmin], then rows [mid + 1, r1] with [argmin, c1];
/// 3. a block with r1 − r0 < CVQ_ASQ_SMALL_ROWS and c1 − c0 < CVQ_ASQ_SMALL_COLUMNS is solved row by row
///    in order, each row over [max(previous argmin (c0 for the first), lower[row]), min(c1, row)];
/// 4. out[j] = m_j + (−e[j]), then + e[j] when `shiftOut` (the next layer's shifted row).
/// When V is totally monotone (always in exact arithmetic, by the quadrangle inequality) the result is
/// every row's leftmost minimum over [lower[j], j]; in floating point it is whatever this search finds,
/// and the kernels find the same.
public enum ASQLayerReference {
  public static func layer(
    shifted: UnsafePointer<Double>, y: UnsafePointer<Double>, b: UnsafePointer<Double>, e: UnsafePointer<Double>,
    count n: Int, lower: UnsafePointer<UInt32>?, argmins: UnsafeMutablePointer<UInt32>, out: UnsafeMutablePointer<Double>,
    shiftOut: Bool
  ) {
    guard n > 0 else { return }
    let smallRows = Int(CVQ_ASQ_SMALL_ROWS), smallColumns = Int(CVQ_ASQ_SMALL_COLUMNS)

    func scan(_ j: Int, _ first: Int, _ last: Int) -> (Double, Int) {
      let aj = -b[j], yj = y[j]
      var best = (shifted[first] + y[first] * aj) + yj * b[first], arg = first
      var k = first + 1
      while k <= last {
        let v = (shifted[k] + y[k] * aj) + yj * b[k]
        if v < best { best = v; arg = k }
        k += 1
      }
      return (best, arg)
    }
    func store(_ j: Int, _ minimum: Double, _ column: Int) {
      argmins[j] = UInt32(column)
      let d = minimum + -e[j]
      out[j] = shiftOut ? d + e[j] : d
    }
    func solve(_ rowLow: Int, _ rowHigh: Int, _ columnLow: Int, _ columnHigh: Int) {
      var rowLow = rowLow, columnLow = columnLow
      while rowLow <= rowHigh {
        if rowHigh - rowLow < smallRows && columnHigh - columnLow < smallColumns {
          var start = columnLow
          for row in rowLow...rowHigh {
            let first = Swift.max(start, lower.map { Int($0[row]) } ?? 0)
            let last = Swift.min(columnHigh, row)
            let (best, arg) = scan(row, Swift.min(first, last), last)
            store(row, best, arg)
            start = arg
          }
          return
        }
        let mid = (rowLow + rowHigh) >> 1
        let last = Swift.min(columnHigh, mid)
        let first = Swift.max(columnLow, lower.map { Int($0[mid]) } ?? 0)
        let (best, arg) = scan(mid, Swift.min(first, last), last)
        store(mid, best, arg)
        if rowLow < mid { solve(rowLow, mid - 1, columnLow, arg) }
        rowLow = mid + 1
        columnLow = arg
      }
    }
    solve(0, n - 1, 0, n - 1)
  }
}
