import Testing
import VQ

@Suite("DenseMatrix")
struct DenseMatrixTests {
  static func random(_ rows: Int, _ columns: Int, seed: UInt64) -> DenseMatrix {
    var g = SeededGenerator(seed: seed)
    return DenseMatrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map { _ in Double.random(in: -1...1, using: &g) })
  }

  static func maxAbs(_ m: DenseMatrix) -> Double { m.values.map(abs).max() ?? 0 }

  @Test("products agree with each other and with the definition")
  func products() {
    let a = Self.random(7, 5, seed: 1), b = Self.random(5, 4, seed: 2), c = Self.random(7, 4, seed: 3)
    let ab = a.multiplied(by: b)
    var direct = DenseMatrix(rows: 7, columns: 4)
    for i in 0..<7 { for j in 0..<4 { for k in 0..<5 { direct[i, j] += a[i, k] * b[k, j] } } }
    #expect(Self.maxAbs(ab - direct) < 1e-14)
    #expect(Self.maxAbs(a.transposeMultiplied(by: c) - a.transposed.multiplied(by: c)) < 1e-14)
    #expect(Self.maxAbs(a.multipliedTransposed(by: b.transposed) - ab) < 1e-14)
  }

  @Test("Cholesky solves a ridge system to 1e-10")
  func cholesky() throws {
    let x = Self.random(40, 12, seed: 4)
    var g = x.gram()
    for i in 0..<12 { g[i, i] += 0.01 }
    let b = Self.random(12, 2, seed: 5)
    let solution = try g.choleskySolve(b)
    #expect(Self.maxAbs(g.multiplied(by: solution) - b) < 1e-10)
    let indefinite = DenseMatrix(rows: 2, columns: 2, values: [1, 2, 2, 1])
    #expect(throws: VQError.self) { try indefinite.choleskySolve(DenseMatrix(rows: 2, columns: 1, values: [1, 1])) }
  }

  @Test("thin QR: orthonormal Q, upper-triangular R with a non-negative diagonal, QR = A")
  func qr() {
    let a = Self.random(30, 8, seed: 6)
    let (q, r) = a.thinQR()
    #expect(Self.maxAbs(q.multiplied(by: r) - a) < 1e-13)
    #expect(Self.maxAbs(q.gram() - .identity(8)) < 1e-13)
    for i in 0..<8 {
      #expect(r[i, i] >= 0)
      for j in 0..<i { #expect(r[i, j] == 0) }
    }
  }

  @Test("thin SVD: reconstruction, orthonormal factors, known singular values of a planted matrix")
  func svd() {
    // A = U0 diag(σ) V0ᵀ with orthonormal U0, V0 from QR: the SVD must return σ (sorted) exactly to 1e-12.
    let u0 = Self.random(50, 6, seed: 7).thinQR().q, v0 = Self.random(6, 6, seed: 8).thinQR().q
    let sigma = [5.0, 3.0, 2.0, 1.0, 1e-3, 1e-9]
    var scaled = u0
    for i in 0..<50 { for j in 0..<6 { scaled[i, j] *= sigma[j] } }
    let a = scaled.multipliedTransposed(by: v0)
    let (u, s, v) = a.thinSVD()
    for (x, y) in zip(s, sigma) { #expect(abs(x - y) <= 1e-12 * 5) }
    var us = u
    for i in 0..<50 { for j in 0..<6 { us[i, j] *= s[j] } }
    #expect(Self.maxAbs(us.multipliedTransposed(by: v) - a) < 1e-12)
    #expect(Self.maxAbs(v.gram() - .identity(6)) < 1e-12)
    #expect(Self.maxAbs(u.leadingColumns(5).gram() - .identity(5)) < 1e-9)
    // Wide matrices go through the transpose.
    let wide = a.transposed.thinSVD()
    for (x, y) in zip(wide.s, sigma) { #expect(abs(x - y) <= 1e-12 * 5) }
  }
}
