/// Scalar Swift references for the RaBitQ kernels (`cvq_rabitq.h`): the specification every C level
/// matches bit for bit.
///
/// Bit conventions: coordinate i of a 1-bit plane is bit `i & 7` of byte `i >> 3`; a b-bit field i
/// occupies bits [i·b, (i+1)·b) of its plane, least significant bit first (as `PackReference`).
/// Float arithmetic: each operation rounded on its own (never fused); double sums use 8 lanes
/// (coordinate i in lane i mod 8) combined as ((0+1)+(2+3))+((4+5)+(6+7)).
public enum RaBitQReference {
  /// For each of `count` codes (code k's sign plane: the `bytes` bytes at `codes + k·stride`):
  /// `dot[k] = Σ_j 2^j · popcount(code_k AND plane_j)` over the `planeCount` query planes (plane j at
  /// `planes + j·bytes`), and `popcount[k] = popcount(code_k)`.
  public static func signDot(
    codes: UnsafePointer<UInt8>, stride: Int, count: Int, bytes: Int,
    planes: UnsafePointer<UInt8>, planeCount: Int,
    dot: UnsafeMutablePointer<Int64>, popcount: UnsafeMutablePointer<Int64>
  ) {
    for k in 0..<count {
      let c = codes + k * stride
      var ones: Int64 = 0
      for i in 0..<bytes { ones += Int64(c[i].nonzeroBitCount) }
      var sum: Int64 = 0
      for j in 0..<planeCount {
        let q = planes + j * bytes
        var s: Int64 = 0
        for i in 0..<bytes { s += Int64((c[i] & q[i]).nonzeroBitCount) }
        sum += s << Int64(j)
      }
      dot[k] = sum
      popcount[k] = ones
    }
  }

  /// `out[k] = scale[k]·((step·Float(dot[k]) + lo·Float(pop[k])) − offset) + add`, each operation rounded
  /// on its own (the sign stage's estimate from the integer inner products).
  public static func signEstimates(
    dot: UnsafePointer<Int64>, popcount: UnsafePointer<Int64>, count: Int, scale: UnsafePointer<Float>,
    step: Float, lo: Float, offset: Float, add: Float, into out: UnsafeMutablePointer<Float>
  ) {
    for k in 0..<count {
      let inner = step * Float(dot[k]) + lo * Float(popcount[k]) - offset
      out[k] = scale[k] * inner + add
    }
  }

  /// For each of `count` codes (code k's ex plane at `codes + k·stride + offset`, `dimension` fields
  /// of `bits` bits): `dot[k] = Σ_i e_i·query_i` and `sum[k] = Σ_i e_i`.
  public static func exDot(
    codes: UnsafePointer<UInt8>, stride: Int, offset: Int, count: Int, dimension: Int, bits: Int,
    query: UnsafePointer<UInt16>, dot: UnsafeMutablePointer<Int64>, sum: UnsafeMutablePointer<Int64>
  ) {
    for k in 0..<count {
      let e = codes + k * stride + offset
      var d: Int64 = 0, s: Int64 = 0
      for i in 0..<dimension {
        let v = Int64(PackReference.code(e, i, bits: bits))
        d += v * Int64(query[i])
        s += v
      }
      dot[k] = d
      sum[k] = s
    }
  }

  /// `a_i = |x_i|` and `A_i = Int32(Double(a_i) · (2^22 / Double(max)))` (0 when max is 0); returns max.
  public static func magnitudes(
    _ x: UnsafePointer<Float>, count n: Int, into a: UnsafeMutablePointer<Float>, fixed A: UnsafeMutablePointer<Int32>
  ) -> Float {
    var largest: Float = 0
    for i in 0..<n {
      a[i] = abs(x[i])
      if a[i] > largest { largest = a[i] }
    }
    guard largest > 0 else {
      for i in 0..<n { A[i] = 0 }
      return 0
    }
    let scale = 4_194_304.0 / Double(largest)
    for i in 0..<n { A[i] = Int32(Double(a[i]) * scale) }
    return largest
  }

  /// `k = Int32(min(t·a, K))` (the product rounded to Float first).
  @inline(__always)
  public static func level(_ t: Float, _ a: Float, _ K: Int32) -> Int32 {
    let p = t * a
    return p > Float(K) ? K : Int32(p)
  }

  /// With `k_i = level(t, a_i, K)`: (Σ (2k_i+1)·A_i, Σ (2k_i+1)², Σ k_i).
  public static func rescaleEvaluate(
    _ a: UnsafePointer<Float>, fixed A: UnsafePointer<Int32>, count n: Int, t: Float, maxLevel K: Int32
  ) -> (numerator: Int64, squares: Int64, levels: Int64) {
    var N: Int64 = 0, S: Int64 = 0, C: Int64 = 0
    for i in 0..<n {
      let k = level(t, a[i], K)
      let m = Int64(2 * k + 1)
      N += m * Int64(A[i])
      S += m * m
      C += Int64(k)
    }
    return (N, S, C)
  }

  /// The breakpoints between `ta` and `tb`: for each coordinate i in ascending order whose level goes
  /// from `from` at ta to `to` at tb, the events m = from+1 … to with t = Float(m)/a_i,
  /// numerator = 2·A_i, squares = 8·m. At most `capacity` written; returns the total number.
  public static func events(
    _ a: UnsafePointer<Float>, fixed A: UnsafePointer<Int32>, count n: Int, from ta: Float, to tb: Float,
    maxLevel K: Int32, into events: UnsafeMutablePointer<RaBitQEvent>, capacity: Int
  ) -> Int {
    var c = 0
    for i in 0..<n {
      let from = level(ta, a[i], K), to = level(tb, a[i], K)
      guard from < to else { continue }
      for m in (from + 1)...to {
        if c < capacity { events[c] = RaBitQEvent(t: Float(m) / a[i], numerator: 2 * A[i], squares: 8 * m) }
        c += 1
      }
    }
    return c
  }

  /// The final code at rescale `t` (see `cvq_rabitq_quantize`): sign plane, ex plane (if exBits > 0),
  /// and (Σ (k_i+½)|x_i|, Σ (k_i+½)², Σ x_i², Σ |x_i|).
  public static func quantize(
    _ x: UnsafePointer<Float>, count n: Int, t: Float, exBits: Int,
    signs: UnsafeMutablePointer<UInt8>, ex: UnsafeMutablePointer<UInt8>?
  ) -> (codeDot: Double, codeSquares: Double, squares: Double, absoluteSum: Double) {
    let K = Int32((1 << exBits) - 1)
    var ip = [Double](repeating: 0, count: 8), sq = ip, ab = ip
    var squares: Int64 = 0
    signs.initialize(repeating: 0, count: (n + 7) / 8)
    var writer = ex.map { PackReference.BitWriter($0, bytes: (n * exBits + 7) / 8) }
    for i in 0..<n {
      let v = x[i]
      let m = abs(v)
      let k = level(t, m, K)
      let positive = v > 0
      if positive { signs[i >> 3] |= UInt8(1) << UInt8(i & 7) }
      let dm = Double(m)
      ip[i & 7] += (Double(k) + 0.5) * dm
      sq[i & 7] += Double(v) * Double(v)
      ab[i & 7] += dm
      squares += Int64(2 * k + 1) * Int64(2 * k + 1)
      if exBits > 0 { writer?.append(UInt32(positive ? k : K - k), bits: exBits) }
    }
    func combine(_ l: [Double]) -> Double { ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])) }
    return (combine(ip), Double(squares) / 4, combine(sq), combine(ab))
  }
}
