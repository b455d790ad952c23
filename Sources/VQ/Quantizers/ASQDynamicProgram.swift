import VQKernels

/// The layered dynamic program behind exact ASQ, its histogram approximation and the optimal 1-D
/// k-means quantizer: one layer = the row minima of a totally monotone matrix.
///
/// Papers: QUIVER (Ben Basat et al., NeurIPS 2024, arXiv:2402.03158) for ASQ; ZipML (Zhang et al., ICML
/// 2017) for the quadratic DP; Aggarwal–Klawe–Moran–Shor–Wilber (1987) for monotone row minima;
/// research/asq-ipaware.md §2.3.
///
/// Algorithm (rows j = 0..n−1, columns k = 0..j, matrix V(k, j) = D_{t−1}[k] + C(k, j)):
/// 1. the QI of C makes the leftmost argmin T(j) non-decreasing in j;
/// 2. divide and conquer: solve the middle row over its column range [klo, min(khi, mid)];
/// 3. recurse on the upper rows with columns [klo, T(mid)] and the lower rows with [T(mid), khi];
/// 4. each recursion depth scans ≤ n + (rows at that depth) cells: O(n log n) per layer;
/// 5. ties go to the smallest k (strict `<` in a left-to-right scan), as QUIVER's SMAWK and numpy.
///
/// Guarantee: the same minima and argmins as the O(n²) scan of every cell (`quadraticRowMinima`)
/// whenever the computed values are totally monotone (always in exact arithmetic); memory O(n) per
/// layer besides the caller's argmin table.
protocol ASQRowMinimaProblem {
  /// V(k, j) for k ≤ j.
  func value(_ k: Int, _ j: Int) -> Double
  /// The smallest V(k, row) over k ∈ [first, last] and its leftmost k.
  func leftmostMinimum(row j: Int, columns first: Int, _ last: Int) -> (Double, Int)
}

extension ASQRowMinimaProblem {
  @inline(__always)
  func leftmostMinimum(row j: Int, columns first: Int, _ last: Int) -> (Double, Int) {
    var best = value(first, j), arg = first
    var k = first + 1
    while k <= last {
      let v = value(k, j)
      if v < best { best = v; arg = k }
      k += 1
    }
    return (best, arg)
  }
}

/// Leftmost row minima of `problem` for rows 0..<n (columns 0...j) by divide and conquer.
func monotoneRowMinima<P: ASQRowMinimaProblem>(
  _ problem: P, rows n: Int, minima: UnsafeMutablePointer<Double>, argmins: UnsafeMutablePointer<UInt32>,
  lowerBounds: UnsafePointer<UInt32>? = nil
) {
  guard n > 0 else { return }
  var solver = DivideAndConquerRowMinima(problem: problem, minima: minima, argmins: argmins, lowerBounds: lowerBounds)
  solver.solve(rowLow: 0, rowHigh: n - 1, columnLow: 0, columnHigh: n - 1)
}

/// Reference: every cell of every row (O(n²)), leftmost argmin.
func quadraticRowMinima<P: ASQRowMinimaProblem>(
  _ problem: P, rows n: Int, minima: UnsafeMutablePointer<Double>, argmins: UnsafeMutablePointer<UInt32>
) {
  for j in 0..<n {
    var best = problem.value(0, j), arg = 0
    if j > 0 {
      for k in 1...j {
        let v = problem.value(k, j)
        if v < best { best = v; arg = k }
      }
    }
    minima[j] = best
    argmins[j] = UInt32(arg)
  }
}

private struct DivideAndConquerRowMinima<P: ASQRowMinimaProblem> {
  let problem: P
  let minima: UnsafeMutablePointer<Double>
  let argmins: UnsafeMutablePointer<UInt32>
  let lowerBounds: UnsafePointer<UInt32>?

  init(problem: P, minima: UnsafeMutablePointer<Double>, argmins: UnsafeMutablePointer<UInt32>, lowerBounds: UnsafePointer<UInt32>?) {
    self.problem = problem
    self.minima = minima
    self.argmins = argmins
    self.lowerBounds = lowerBounds
  }

  mutating func solve(rowLow: Int, rowHigh: Int, columnLow: Int, columnHigh: Int) {
    var rowLow = rowLow, columnLow = columnLow
    // The lower half is a loop (tail call), the upper half recursion: depth ≤ log2(n).
    while rowLow <= rowHigh {
      if rowHigh - rowLow < 16 && columnHigh - columnLow < 96 {
        // A small block: rows in order, each scanning from the previous row's argmin (monotone argmins
        // put the leftmost minimum there or later) — the same minima without the calls.
        var start = columnLow
        for row in rowLow...rowHigh {
          let first = lowerBounds.map { Swift.max(start, Int($0[row])) } ?? start
          let last = Swift.min(columnHigh, row)
          let (best, arg) = problem.leftmostMinimum(row: row, columns: Swift.min(first, last), last)
          minima[row] = best
          argmins[row] = UInt32(truncatingIfNeeded: arg)
          start = arg
        }
        return
      }
      let mid = (rowLow + rowHigh) >> 1
      let last = Swift.min(columnHigh, mid)
      let first = lowerBounds.map { Swift.max(columnLow, Int($0[mid])) } ?? columnLow
      let (best, arg) = problem.leftmostMinimum(row: mid, columns: Swift.min(first, last), last)
      minima[mid] = best
      argmins[mid] = UInt32(truncatingIfNeeded: arg)
      if rowLow < mid { solve(rowLow: rowLow, rowHigh: mid - 1, columnLow: columnLow, columnHigh: arg) }
      rowLow = mid + 1
      columnLow = arg
    }
  }
}

/// One ASQ layer: V(k, j) = (D_{t−1}[k] + E_k) + y_k·α_j + y_j·B_k; the row's γ_j = −E_j is added after the
/// minimum (it does not move the argmin).
struct ASQVarianceLayer: ASQRowMinimaProblem {
  let shifted: UnsafePointer<Double>  // D_{t−1}[k] + E_k
  let y: UnsafePointer<Double>
  let b: UnsafePointer<Double>

  init(shifted: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>) {
    self.shifted = UnsafePointer(shifted)
    self.y = UnsafePointer(y)
    self.b = UnsafePointer(b)
  }

  /// α_j = −B_j (the cost terms store only B).
  @inline(__always)
  func value(_ k: Int, _ j: Int) -> Double { shifted[k] + y[k] * -b[j] + y[j] * b[k] }
}

/// The most argmin-table entries (UInt32, one per point per inner layer) one solve may allocate:
/// 2^28 entries = 1 GiB, so d = 2^22 with s = 32 (30 layers, 480 MiB) fits and larger requests
/// fail with a message instead of exhausting memory.
public let asqMaximumArgminEntries = 1 << 28

enum ASQLayeredSolver {
  /// Checks the problem size; throws `outOfRange` naming the limit.
  static func checkSize(points n: Int, levels s: Int) throws {
    guard s >= 2 else { throw VQError.outOfRange("ASQ needs at least 2 levels, got \(s)") }
    guard n < Int(UInt32.max) else { throw VQError.outOfRange("ASQ input of \(n) points exceeds \(UInt32.max - 1)") }
    let entries = n.multipliedReportingOverflow(by: Swift.max(s - 2, 0))
    guard !entries.overflow, entries.partialValue <= asqMaximumArgminEntries else {
      throw VQError.outOfRange(
        "ASQ with \(s) levels on \(n) points needs \(n)·\(s - 2) argmin entries; the limit is \(asqMaximumArgminEntries) (e.g. d = 2^22 with s ≤ 66)")
    }
  }

  /// Minimum summed variance with `s` levels at point ranks (first and last included) and the level
  /// ranks, by the layered DP; `quadratic` scans every cell (the reference). Each layer of the fast path
  /// is one call of the C kernel `Kernels.asqLayer` (divide and conquer as above, AVX2 scan where the CPU
  /// has it, bit-identical to its Swift specification `ASQLayerReference` at every kernel level).
  static func solve(_ terms: ASQCostTerms, levels s: Int, quadratic: Bool = false) -> (objective: Double, ranks: [Int]) {
    let n = terms.count
    guard n > 0 else { return (0, []) }
    let layers = Swift.max(s - 2, 0)
    let rows = ASQBuffer<Double>(count: 2 * n)
    let table = ASQBuffer<UInt32>(count: layers * n)
    defer { withExtendedLifetime(rows) {}; withExtendedLifetime(table) {} }
    var previous = rows.pointer, current = rows.pointer + n
    let y = terms.points, e = terms.e, b = terms.b
    for j in 0..<n { previous[j] = terms.cost(0, j) }
    // D_{t−1} is read only through D_{t−1}[k] + E_k, so each layer stores that sum (the last one D_t).
    if layers > 0 { for k in 0..<n { previous[k] = previous[k] + e[k] } }
    for layer in 0..<layers {
      let row = table.pointer + layer * n
      let shiftOut = layer + 1 < layers
      if quadratic {
        let problem = ASQVarianceLayer(shifted: previous, y: y, b: b)
        quadraticRowMinima(problem, rows: n, minima: current, argmins: row)
        for j in 0..<n {
          let d = current[j] + -e[j]
          current[j] = shiftOut ? d + e[j] : d
        }
      } else {
        // The C kernel (AVX2 where available; `ASQLayerReference` is its specification).
        Kernels.asqLayer(shifted: previous, y: y, b: b, e: e, count: n,
                         lower: layer > 0 ? UnsafePointer(row - n) : nil, argmins: row, out: current,
                         shiftOut: shiftOut)
      }
      swap(&previous, &current)
    }
    let objective = previous[n - 1]
    let argmins = table.pointer
    var ranks = [Int](repeating: 0, count: s)
    var index = n - 1
    ranks[s - 1] = index
    for layer in stride(from: layers - 1, through: 0, by: -1) {
      index = Int(argmins[layer * n + index])
      ranks[layer + 1] = index
    }
    ranks[0] = 0
    return (objective, ranks)
  }
}
