import RealModule

/// QSGD as a client compressor: the norm, each coordinate's sign and a stochastically rounded level.
///
/// Paper: D. Alistarh, D. Grubic, J. Li, R. Tomioka, M. Vojnovic, "QSGD: Communication-Efficient SGD
/// via Gradient Quantization and Encoding" (NeurIPS 2017). research/asq-ipaware.md §5, §6.
///
/// Algorithm (x ∈ R^d, s ≥ 1 levels, a seeded generator):
/// 1. send ‖x‖ as one Float N (rounded up, so |x_i|/N ≤ 1 and the level never exceeds s);
/// 2. r_i = s·|x_i|/N; level l_i = ⌊r_i⌋ + 1 with probability r_i − ⌊r_i⌋, else ⌊r_i⌋;
/// 3. send sign(x_i)·l_i ∈ {−s, …, s} in ⌈log2(2s + 1)⌉ bits (a fixed-width code; no Elias coding);
/// 4. decode x̂_i = N·sign(x_i)·l_i/s;
/// 5. message bits: 32 + d·⌈log2(2s + 1)⌉.
///
/// Guarantee: E[x̂] = x and E‖x̂ − x‖² ≤ min(d/s², √d/s)·‖x‖² (Lemma 3.1); at s = 1 the vNMSE is
/// ‖x‖₁/‖x‖ − 1 ≈ √(2d/π) − 1 for Gaussian x, so QSGD needs many levels (or unbiased averaging over
/// many clients) where rotation-based EDEN needs one bit.
public struct QSGDCompressor: ClientCompressor {
  public let dimension: Int
  /// s: the number of non-zero magnitude levels.
  public let levels: Int

  public init(levels: Int, dimension: Int) throws {
    guard dimension >= 1 else { throw VQError.outOfRange("compressor dimension must be ≥ 1, got \(dimension)") }
    guard (1...(1 << 15)).contains(levels) else { throw VQError.outOfRange("QSGD levels s must be in 1...32768, got \(levels)") }
    self.dimension = dimension
    self.levels = levels
  }

  /// ⌈log2(2s + 1)⌉: bits of one signed level.
  public var bitsPerCoordinateCode: Int { ASQRounding.indexBits(levels: 2 * levels + 1) }

  public var name: String { "qsgd s=\(levels)" }
  public var bitsPerMessage: Int { 32 + dimension * bitsPerCoordinateCode }
  public var isUnbiased: Bool { true }

  /// The random stream of the level rounding (independent of rotation streams of the same seed).
  static let roundingStream: UInt64 = 0x5153_4744   // "QSGD"

  public func roundTrip(_ x: UnsafeBufferPointer<Float>, seed: UInt64, into out: UnsafeMutableBufferPointer<Float>) throws {
    try validate(x, out)
    var squares = 0.0
    for i in 0..<x.count { squares = Relaxed.multiplyAdd(Double(x[i]), Double(x[i]), squares) }
    let exactNorm = squares.squareRoot()
    var norm = Float(exactNorm)
    if Double(norm) < exactNorm { norm = norm.nextUp }
    guard norm > 0 else {
      for i in 0..<out.count { out[i] = 0 }
      return
    }
    let s = Double(levels), sentNorm = Double(norm)
    let step = sentNorm / s
    var generator = SeededGenerator(seed: seed, stream: Self.roundingStream)
    for i in 0..<x.count {
      let v = Double(x[i])
      let r = s * abs(v) / sentNorm
      var level = r.rounded(.down)
      if level < r, generator.nextUniform() < r - level { level += 1 }
      let magnitude = Float(level * step)
      out[i] = v < 0 ? -magnitude : magnitude
    }
  }
}
