import Foundation
import RealModule

/// A dense row-major matrix of `Double` with the few factorizations the estimator and stream experiments
/// need: products (plain and transposed, blocked over rows so both cores' caches stay warm), Cholesky
/// solves for least squares, Householder thin QR for subspace tracking, and the thin SVD by one-sided
/// (Hestenes) Jacobi, which is accurate to the last digits on small singular values where the Gram-matrix
/// route loses half of them. Sizes here are at most a few thousand: no BLAS needed, none available in
/// Swift on Linux.
public struct DenseMatrix: Sendable, Equatable {
  public let rows: Int
  public let columns: Int
  /// Row-major: element (r, c) is `values[r * columns + c]`.
  public var values: [Double]

  public init(rows: Int, columns: Int, repeating value: Double = 0) {
    precondition(rows >= 0 && columns >= 0, "DenseMatrix: negative shape")
    self.rows = rows
    self.columns = columns
    values = [Double](repeating: value, count: rows * columns)
  }

  public init(rows: Int, columns: Int, values: [Double]) {
    precondition(values.count == rows * columns, "DenseMatrix: \(values.count) values for \(rows) × \(columns)")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  /// Row `r` of `rowsOf` becomes row `r` of the matrix (all rows the same length).
  public init(rowsOf list: [[Double]]) {
    let c = list.first?.count ?? 0
    precondition(list.allSatisfy { $0.count == c }, "DenseMatrix: ragged rows")
    self.init(rows: list.count, columns: c, values: list.flatMap { $0 })
  }

  public static func identity(_ n: Int) -> DenseMatrix {
    var m = DenseMatrix(rows: n, columns: n)
    for i in 0..<n { m.values[i * n + i] = 1 }
    return m
  }

  public subscript(r: Int, c: Int) -> Double {
    get { values[r * columns + c] }
    set { values[r * columns + c] = newValue }
  }

  public func row(_ r: Int) -> ArraySlice<Double> { values[(r * columns)..<((r + 1) * columns)] }

  public func column(_ c: Int) -> [Double] { (0..<rows).map { values[$0 * columns + c] } }

  public var transposed: DenseMatrix {
    var t = DenseMatrix(rows: columns, columns: rows)
    for r in 0..<rows { for c in 0..<columns { t.values[c * rows + r] = values[r * columns + c] } }
    return t
  }

  public var frobeniusNormSquared: Double {
    var s = 0.0
    for v in values { s = Relaxed.multiplyAdd(v, v, s) }
    return s
  }

  /// The first `count` columns.
  public func leadingColumns(_ count: Int) -> DenseMatrix {
    precondition(count <= columns)
    var m = DenseMatrix(rows: rows, columns: count)
    for r in 0..<rows { for c in 0..<count { m.values[r * count + c] = values[r * columns + c] } }
    return m
  }

  public static func - (a: DenseMatrix, b: DenseMatrix) -> DenseMatrix {
    precondition(a.rows == b.rows && a.columns == b.columns, "DenseMatrix: shapes differ")
    return DenseMatrix(rows: a.rows, columns: a.columns, values: zip(a.values, b.values).map { $0 - $1 })
  }

  /// `self · other`.
  public func multiplied(by other: DenseMatrix) -> DenseMatrix {
    precondition(columns == other.rows, "DenseMatrix: \(rows)×\(columns) · \(other.rows)×\(other.columns)")
    var out = DenseMatrix(rows: rows, columns: other.columns)
    let n = other.columns, inner = columns
    values.withUnsafeBufferPointer { a in
      other.values.withUnsafeBufferPointer { b in
        out.values.withUnsafeMutableBufferPointer { o in
          for r in 0..<rows {
            let orow = o.baseAddress! + r * n
            for k in 0..<inner {
              let s = a[r * inner + k]
              if s == 0 { continue }
              let brow = b.baseAddress! + k * n
              for c in 0..<n { orow[c] = Relaxed.multiplyAdd(s, brow[c], orow[c]) }
            }
          }
        }
      }
    }
    return out
  }

  /// `selfᵀ · other` without forming the transpose.
  public func transposeMultiplied(by other: DenseMatrix) -> DenseMatrix {
    precondition(rows == other.rows, "DenseMatrix: (\(rows)×\(columns))ᵀ · \(other.rows)×\(other.columns)")
    var out = DenseMatrix(rows: columns, columns: other.columns)
    let n = other.columns, m = columns
    values.withUnsafeBufferPointer { a in
      other.values.withUnsafeBufferPointer { b in
        out.values.withUnsafeMutableBufferPointer { o in
          for k in 0..<rows {
            let arow = a.baseAddress! + k * m, brow = b.baseAddress! + k * n
            for r in 0..<m {
              let s = arow[r]
              if s == 0 { continue }
              let orow = o.baseAddress! + r * n
              for c in 0..<n { orow[c] = Relaxed.multiplyAdd(s, brow[c], orow[c]) }
            }
          }
        }
      }
    }
    return out
  }

  /// `self · otherᵀ` (row-by-row dot products).
  public func multipliedTransposed(by other: DenseMatrix) -> DenseMatrix {
    precondition(columns == other.columns, "DenseMatrix: \(rows)×\(columns) · (\(other.rows)×\(other.columns))ᵀ")
    var out = DenseMatrix(rows: rows, columns: other.rows)
    let inner = columns
    values.withUnsafeBufferPointer { a in
      other.values.withUnsafeBufferPointer { b in
        out.values.withUnsafeMutableBufferPointer { o in
          for r in 0..<rows {
            let arow = a.baseAddress! + r * inner
            for c in 0..<other.rows {
              let brow = b.baseAddress! + c * inner
              var s = 0.0
              for k in 0..<inner { s = Relaxed.multiplyAdd(arow[k], brow[k], s) }
              o[r * other.rows + c] = s
            }
          }
        }
      }
    }
    return out
  }

  /// `selfᵀ · self`.
  public func gram() -> DenseMatrix { transposeMultiplied(by: self) }

  /// The lower Cholesky factor L of a symmetric positive-definite matrix (`self = L·Lᵀ`); `nil` when a
  /// pivot is not positive (the matrix is singular or indefinite to working precision).
  public func cholesky() -> DenseMatrix? {
    precondition(rows == columns, "cholesky: \(rows)×\(columns) is not square")
    let n = rows
    var l = DenseMatrix(rows: n, columns: n)
    for j in 0..<n {
      var d = self[j, j]
      for k in 0..<j { d -= l[j, k] * l[j, k] }
      guard d > 0, d.isFinite else { return nil }
      let pivot = d.squareRoot()
      l[j, j] = pivot
      for i in (j + 1)..<max(j + 1, n) {
        var s = self[i, j]
        for k in 0..<j { s -= l[i, k] * l[j, k] }
        l[i, j] = s / pivot
      }
    }
    return l
  }

  /// Solves `self · X = b` for symmetric positive-definite `self` (normal equations, ridge systems).
  public func choleskySolve(_ b: DenseMatrix) throws -> DenseMatrix {
    precondition(b.rows == rows, "choleskySolve: right-hand side has \(b.rows) rows, matrix \(rows)")
    guard let l = cholesky() else {
      throw VQError.invalidArgument("choleskySolve: the \(rows)×\(rows) matrix is not positive definite (add a ridge term)")
    }
    let n = rows
    var x = b
    for c in 0..<b.columns {
      for i in 0..<n {  // L y = b
        var s = x[i, c]
        for k in 0..<i { s -= l[i, k] * x[k, c] }
        x[i, c] = s / l[i, i]
      }
      for i in stride(from: n - 1, through: 0, by: -1) {  // Lᵀ x = y
        var s = x[i, c]
        for k in (i + 1)..<max(i + 1, n) { s -= l[k, i] * x[k, c] }
        x[i, c] = s / l[i, i]
      }
    }
    return x
  }

  /// The thin QR factorization by Householder reflections (`rows ≥ columns`): `q` is rows × columns with
  /// orthonormal columns, `r` upper triangular with a non-negative diagonal, `self = q·r`.
  public func thinQR() -> (q: DenseMatrix, r: DenseMatrix) {
    precondition(rows >= columns, "thinQR: needs rows ≥ columns, got \(rows)×\(columns)")
    let m = rows, n = columns
    var a = self
    var reflectors: [[Double]] = []
    reflectors.reserveCapacity(n)
    for j in 0..<n {
      var norm = 0.0
      for i in j..<m { norm = Relaxed.multiplyAdd(a[i, j], a[i, j], norm) }
      norm = norm.squareRoot()
      var v = [Double](repeating: 0, count: m - j)
      if norm == 0 {
        reflectors.append(v)
        continue
      }
      let alpha = a[j, j] >= 0 ? -norm : norm
      for i in j..<m { v[i - j] = a[i, j] }
      v[0] -= alpha
      var vv = 0.0
      for x in v { vv = Relaxed.multiplyAdd(x, x, vv) }
      if vv > 0 {
        for c in j..<n {
          var s = 0.0
          for i in j..<m { s = Relaxed.multiplyAdd(v[i - j], a[i, c], s) }
          let f = 2 * s / vv
          for i in j..<m { a[i, c] -= f * v[i - j] }
        }
      }
      reflectors.append(vv > 0 ? v : [Double](repeating: 0, count: m - j))
    }
    var r = DenseMatrix(rows: n, columns: n)
    for i in 0..<n { for c in i..<n { r[i, c] = a[i, c] } }
    // Q = H_0 ⋯ H_(n−1) applied to the first n columns of the identity.
    var q = DenseMatrix(rows: m, columns: n)
    for i in 0..<n { q[i, i] = 1 }
    for j in stride(from: n - 1, through: 0, by: -1) {
      let v = reflectors[j]
      var vv = 0.0
      for x in v { vv = Relaxed.multiplyAdd(x, x, vv) }
      if vv == 0 { continue }
      for c in 0..<n {
        var s = 0.0
        for i in j..<m { s = Relaxed.multiplyAdd(v[i - j], q[i, c], s) }
        let f = 2 * s / vv
        if f == 0 { continue }
        for i in j..<m { q[i, c] -= f * v[i - j] }
      }
    }
    // A non-negative diagonal makes the factorization unique (and tracked bases continuous).
    for i in 0..<n where r[i, i] < 0 {
      for c in i..<n { r[i, c] = -r[i, c] }
      for row in 0..<m { q[row, i] = -q[row, i] }
    }
    return (q, r)
  }

  /// The thin SVD `self = u · diag(s) · vᵀ` by one-sided Jacobi: singular values in descending order,
  /// `u` rows × p and `v` columns × p with orthonormal columns, p = min(rows, columns). Converges
  /// quadratically; `sweeps` caps the work (30 is far more than any matrix here needs).
  public func thinSVD(sweeps: Int = 30) -> (u: DenseMatrix, s: [Double], v: DenseMatrix) {
    if rows < columns {
      let t = transposed.thinSVD(sweeps: sweeps)
      return (t.v, t.s, t.u)
    }
    let m = rows, n = columns
    // Work on columns: store Aᵀ row-major so each column of A is contiguous.
    var w = transposed.values  // n rows of length m
    var v = DenseMatrix.identity(n).values  // row j of this buffer = column j of V
    let tolerance = 1e-15
    for _ in 0..<sweeps {
      var rotated = false
      for p in 0..<n {
        for q in (p + 1)..<max(p + 1, n) {
          var alpha = 0.0, beta = 0.0, gamma = 0.0
          for i in 0..<m {
            let x = w[p * m + i], y = w[q * m + i]
            alpha = Relaxed.multiplyAdd(x, x, alpha)
            beta = Relaxed.multiplyAdd(y, y, beta)
            gamma = Relaxed.multiplyAdd(x, y, gamma)
          }
          if gamma == 0 || abs(gamma) <= tolerance * (alpha * beta).squareRoot() { continue }
          rotated = true
          let zeta = (beta - alpha) / (2 * gamma)
          let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
          let c = 1 / (1 + t * t).squareRoot(), s = c * t
          for i in 0..<m {
            let x = w[p * m + i], y = w[q * m + i]
            w[p * m + i] = c * x - s * y
            w[q * m + i] = s * x + c * y
          }
          for i in 0..<n {
            let x = v[p * n + i], y = v[q * n + i]
            v[p * n + i] = c * x - s * y
            v[q * n + i] = s * x + c * y
          }
        }
      }
      if !rotated { break }
    }
    var norms = [Double](repeating: 0, count: n)
    for j in 0..<n {
      var s = 0.0
      for i in 0..<m { s = Relaxed.multiplyAdd(w[j * m + i], w[j * m + i], s) }
      norms[j] = s.squareRoot()
    }
    let order = (0..<n).sorted { norms[$0] > norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }
    var u = DenseMatrix(rows: m, columns: n), vm = DenseMatrix(rows: n, columns: n)
    var s = [Double](repeating: 0, count: n)
    for (k, j) in order.enumerated() {
      s[k] = norms[j]
      for i in 0..<n { vm[i, k] = v[j * n + i] }
      if norms[j] > 0 { for i in 0..<m { u[i, k] = w[j * m + i] / norms[j] } }
    }
    return (u, s, vm)
  }
}
