/// Scalar Swift references for the Hadamard kernels: the definition every C level must match bit
/// for bit. The operation order here *is* the specification:
///
/// - FWHT of length p (a power of two), unnormalized: stages h = 1, 2, 4, …, p/2; in each stage, for
///   each pair (j, j+h) with j mod 2h < h: `(a, b) → (a + b, a − b)`.
/// - Order n = 12·p: the vector is 12 rows of p; FWHT on every row, then for every column c the 12-point
///   transform `out[r] = Σ_{r'} H12[r][r'] · x[r'][c]`, summed left to right from r' = 0 (the first
///   term starts the sum). Inverse uses H12ᵀ (the Paley H12 is skew, not symmetric).
/// - A randomized round: flip signs by the round's bits (bit i of the round set → negate coordinate i),
///   then the transform. After all rounds, one multiply by `scale`.
public enum HadamardReference {
  /// In-place unnormalized FWHT of `p` floats (p a power of two).
  public static func fwht(_ x: UnsafeMutablePointer<Float>, count p: Int) {
    var h = 1
    while h < p {
      var i = 0
      while i < p {
        for j in i..<(i + h) {
          let a = x[j], b = x[j + h]
          x[j] = a + b
          x[j + h] = a - b
        }
        i += 2 * h
      }
      h *= 2
    }
  }

  /// In-place unnormalized Hadamard transform of order `size.n` (H12 ⊗ H_p or H_p).
  public static func hadamard(_ x: UnsafeMutablePointer<Float>, size: HadamardSize, transposed: Bool) {
    let p = size.p
    for r in 0..<size.rows { fwht(x + r * p, count: p) }
    guard size.rows == 12 else { return }
    let h12 = Paley.h12
    var column = [Float](repeating: 0, count: 12)
    for c in 0..<p {
      for r in 0..<12 { column[r] = x[r * p + c] }
      for r in 0..<12 {
        var s: Float = 0
        for k in 0..<12 {
          let positive = transposed ? h12[k][r] > 0 : h12[r][k] > 0
          let term = positive ? column[k] : -column[k]
          s = k == 0 ? term : s + term
        }
        x[r * p + c] = s
      }
    }
  }

  /// `y = scale · H D_R ⋯ H D_1 · pad(x)`; x has `inputCount ≤ size.n` floats, y has `size.n`.
  /// `signs` holds `rounds × size.n` bits, round r at bits [r·n, (r+1)·n).
  public static func forward(
    _ x: UnsafePointer<Float>, inputCount: Int, into y: UnsafeMutablePointer<Float>,
    size: HadamardSize, signs: UnsafePointer<UInt64>, rounds: Int, scale: Float
  ) {
    let n = size.n
    for i in 0..<n { y[i] = i < inputCount ? x[i] : 0 }
    for r in 0..<rounds {
      flipSigns(y, count: n, signs: signs, firstBit: r * n)
      hadamard(y, size: size, transposed: false)
    }
    for i in 0..<n { y[i] = y[i] * scale }
  }

  /// `x = first outputCount coordinates of scale · D_1 Hᵀ ⋯ D_R Hᵀ · y`; uses `work` (n floats).
  public static func inverse(
    _ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, outputCount: Int,
    size: HadamardSize, signs: UnsafePointer<UInt64>, rounds: Int, scale: Float, work: UnsafeMutablePointer<Float>
  ) {
    let n = size.n
    for i in 0..<n { work[i] = y[i] }
    for r in stride(from: rounds - 1, through: 0, by: -1) {
      hadamard(work, size: size, transposed: true)
      flipSigns(work, count: n, signs: signs, firstBit: r * n)
    }
    for i in 0..<outputCount { x[i] = work[i] * scale }
  }

  @inline(__always)
  static func flipSigns(_ x: UnsafeMutablePointer<Float>, count n: Int, signs: UnsafePointer<UInt64>, firstBit: Int) {
    for i in 0..<n {
      let bit = (signs[(firstBit + i) >> 6] >> UInt64((firstBit + i) & 63)) & 1
      x[i] = Float(bitPattern: x[i].bitPattern ^ (UInt32(truncatingIfNeeded: bit) << 31))
    }
  }
}

/// The order of a fast Hadamard transform: n = rows · p with p a power of two and rows ∈ {1, 12}.
public struct HadamardSize: Hashable, Sendable {
  public let rows: Int
  public let p: Int
  public var n: Int { rows * p }

  public init(rows: Int, p: Int) {
    precondition((rows == 1 || rows == 12) && p > 0 && p & (p - 1) == 0, "unsupported Hadamard order \(rows)·\(p)")
    self.rows = rows
    self.p = p
  }

  /// The smallest order n ≥ d of the form 2^k or 12·2^k (no padding for 384, 768, 1536, 3072).
  public static func fitting(_ d: Int) -> HadamardSize {
    precondition(d > 0)
    var p2 = 1
    while p2 < d { p2 *= 2 }
    var p12 = 1
    while 12 * p12 < d { p12 *= 2 }
    return 12 * p12 < p2 ? HadamardSize(rows: 12, p: p12) : HadamardSize(rows: 1, p: p2)
  }
}

/// The Paley (type I, q = 11) Hadamard matrix of order 12: H = I + S with S = [[0, 1ᵀ], [−1, Q]] and
/// Q the Jacobsthal matrix Q[i][j] = χ(j − i) of the quadratic character mod 11. H Hᵀ = 12 I.
public enum Paley {
  public static let h12: [[Int8]] = {
    let residues: Set<Int> = [1, 3, 4, 5, 9]
    func chi(_ a: Int) -> Int8 {
      let m = ((a % 11) + 11) % 11
      return m == 0 ? 0 : (residues.contains(m) ? 1 : -1)
    }
    var h = [[Int8]](repeating: [Int8](repeating: 0, count: 12), count: 12)
    for j in 1..<12 { h[0][j] = 1; h[j][0] = -1 }
    for i in 1..<12 { for j in 1..<12 { h[i][j] = chi((j - 1) - (i - 1)) } }
    for i in 0..<12 { h[i][i] += 1 }
    return h
  }()
}
