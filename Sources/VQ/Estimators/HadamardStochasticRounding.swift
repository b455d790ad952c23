import VQKernels

/// Stochastic rounding onto a per-vector level set as a client compressor: the Hadamard + min–max
/// grid baseline of DME (optionally without the rotation), and ASQ's optimal levels.
///
/// Papers: stochastic rounding on a uniform grid with a random rotation is the "rotation + SR"
/// baseline of Suresh et al., "Distributed Mean Estimation with Limited Communication" (ICML 2017) and of
/// the DRIVE/EDEN papers (Vargaftik et al., NeurIPS 2021 / ICML 2022); adaptive levels are ASQ (QUIVER,
/// Ben Basat et al., NeurIPS 2024). research/asq-ipaware.md §2, §6.
///
/// Algorithm (x ∈ R^d, b bits, s = 2^b levels, a message seed):
/// 1. optionally rotate: y = Π·pad(x) with a randomized Hadamard (3 rounds) drawn from the seed, n = padded d;
/// 2. levels: the uniform grid on [min y, max y] (`ASQ.uniformLevels`) or ASQ's optimal s levels
///    (`ASQ.exactLevels`, exact DP);
/// 3. round each y_i unbiasedly to a neighbouring level (`ASQRounding.roundIndex`), b bits per index;
/// 4. decode ŷ_i = level[index_i], x̂ = Πᵀŷ (dropping the padding);
/// 5. message bits: n·b + side values: 2 Floats (min, max) for the grid, s Floats for ASQ levels.
///
/// Guarantee: E[x̂] = x (each rounding is unbiased and Π is fixed given the seed);
/// E‖x̂ − x‖² = Σ_i (y_i − a_i)(b_i − y_i) ≤ n·Δ²/4 with Δ the grid step; the rotation shrinks the
/// range max y − min y to O(‖x‖·√(log n / n)), so the grid's vNMSE is O(log n / (s − 1)²).
public struct StochasticRoundingCompressor: ClientCompressor {
  public enum Grid: String, Sendable { case minMax, adaptive }

  public let dimension: Int
  public let bits: Int
  public let grid: Grid
  public let rotated: Bool
  public let rotationRounds: Int
  let codedDimension: Int

  /// Randomized Hadamard + stochastic rounding on the min–max grid at `bits` bits.
  public static func hadamard(bits: Int, dimension: Int) throws -> StochasticRoundingCompressor {
    try StochasticRoundingCompressor(bits: bits, grid: .minMax, rotated: true, dimension: dimension)
  }

  /// ASQ: 2^bits optimal levels of the (unrotated) vector, stochastic rounding.
  public static func asq(bits: Int, dimension: Int) throws -> StochasticRoundingCompressor {
    try StochasticRoundingCompressor(bits: bits, grid: .adaptive, rotated: false, dimension: dimension)
  }

  public init(bits: Int, grid: Grid, rotated: Bool, dimension: Int, rotationRounds: Int = 3) throws {
    guard dimension >= 1 else { throw VQError.outOfRange("compressor dimension must be ≥ 1, got \(dimension)") }
    guard (1...8).contains(bits) else { throw VQError.outOfRange("stochastic rounding bits must be in 1...8, got \(bits)") }
    guard (1...8).contains(rotationRounds) else {
      throw VQError.outOfRange("Hadamard rounds must be in 1...8, got \(rotationRounds)")
    }
    self.dimension = dimension
    self.bits = bits
    self.grid = grid
    self.rotated = rotated
    self.rotationRounds = rotationRounds
    codedDimension = rotated ? HadamardSize.fitting(dimension).n : dimension
  }

  public var levelCount: Int { 1 << bits }

  public var name: String {
    switch (grid, rotated) {
    case (.minMax, true): return "hadamard+sr b=\(bits)"
    case (.minMax, false): return "sr min-max b=\(bits)"
    case (.adaptive, false): return "asq b=\(bits)"
    case (.adaptive, true): return "hadamard+asq b=\(bits)"
    }
  }

  public var bitsPerMessage: Int { codedDimension * bits + 32 * (grid == .minMax ? 2 : levelCount) }
  public var isUnbiased: Bool { true }

  /// The random stream of the rounding (the rotation uses its own stream of the same seed).
  static let roundingStream: UInt64 = 0x5352_4F55_4E44   // "SROUND"

  public func roundTrip(_ x: UnsafeBufferPointer<Float>, seed: UInt64, into out: UnsafeMutableBufferPointer<Float>) throws {
    try validate(x, out)
    let n = codedDimension
    var y = [Float](repeating: 0, count: n)
    let rotation: RandomizedHadamard? = rotated ? RandomizedHadamard(dimension: dimension, rounds: rotationRounds, seed: seed) : nil
    y.withUnsafeMutableBufferPointer { yb in
      if let rotation {
        rotation.apply(x.baseAddress!, count: 1, into: yb.baseAddress!)
      } else {
        for i in 0..<n { yb[i] = x[i] }
      }
    }
    let solution = try y.withUnsafeBufferPointer { yb in
      grid == .minMax ? try ASQ.uniformLevels(yb, levels: levelCount) : try ASQ.exactLevels(yb, levels: levelCount)
    }
    // The levels as sent: Floats (grid levels are recomputed by the server from the Float min and max).
    let levels = grid == .minMax ? solution.levels : solution.levels.map { Double(Float($0)) }
    var generator = SeededGenerator(seed: seed, stream: Self.roundingStream)
    levels.withUnsafeBufferPointer { q in
      y.withUnsafeMutableBufferPointer { yb in
        for i in 0..<n { yb[i] = Float(q[ASQRounding.roundIndex(Double(yb[i]), levels: q, generator: &generator)]) }
      }
    }
    y.withUnsafeBufferPointer { yb in
      if let rotation {
        rotation.applyInverse(yb.baseAddress!, count: 1, into: out.baseAddress!)
      } else {
        for i in 0..<n { out[i] = yb[i] }
      }
    }
  }
}
