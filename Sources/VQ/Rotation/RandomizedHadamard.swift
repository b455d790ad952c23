import VQKernels

/// Randomized Hadamard rotation `Π = H D_R ⋯ H D_1` (default R = 3), signs from the seed.
///
/// One round is biased on sparse or structured input (research/rotation.md §6.2: e1 at 2 bits gives NMSE
/// 0.26 instead of 0.1175); three rounds match Haar-rotation theory. Orders 2^k use the FWHT; orders
/// 12·2^k (384, 768, 1536, 3072) use H12 ⊗ FWHT with the Paley H12, so they need no padding; any other
/// d is zero-padded to the smallest such order and every padded coordinate is kept (an isometry, never
/// a projection). Cost: R·n·log2 n additions per vector instead of d² for a dense rotation.
public struct RandomizedHadamard: Rotation {
  public let inputDimension: Int
  public let size: HadamardSize
  public let rounds: Int
  public let seed: UInt64
  /// `rounds × n` sign bits, round r at bits [r·n, (r+1)·n).
  public let signs: [UInt64]
  let scale: Float

  public var outputDimension: Int { size.n }

  /// The random stream the sign bits come from (independent of every other use of the seed).
  public static let signStream: UInt64 = 0x5248_5349_474E   // "RHSIGN"

  public init(dimension: Int, rounds: Int = 3, seed: UInt64) {
    precondition(dimension > 0 && rounds >= 1)
    inputDimension = dimension
    size = HadamardSize.fitting(dimension)
    self.rounds = rounds
    self.seed = seed
    var g = SeededGenerator(seed: seed, stream: Self.signStream)
    signs = (0..<((rounds * size.n + 63) / 64)).map { _ in g.next() }
    scale = Float(1 / Double(size.n).squareRoot() / Double(size.n).squareRoot().power(rounds - 1))
  }

  public func apply(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
    signs.withUnsafeBufferPointer { s in
      for i in 0..<count {
        Kernels.randomizedHadamard(
          x + i * inputDimension, inputCount: inputDimension, into: y + i * size.n,
          size: size, signs: s.baseAddress!, rounds: rounds, scale: scale)
      }
    }
  }

  /// The C kernel per row. Without padding the row's output serves as scratch; with padding the kernel
  /// uses its own stack scratch (n ≤ 16384), so neither direction allocates per call for common sizes.
  public func applyInverse(_ y: UnsafePointer<Float>, count: Int, into x: UnsafeMutablePointer<Float>) {
    let n = size.n
    let work: UnsafeMutablePointer<Float>? = inputDimension < n && n > 16384 ? .allocate(capacity: n) : nil
    defer { work?.deallocate() }
    signs.withUnsafeBufferPointer { s in
      for i in 0..<count {
        Kernels.randomizedHadamardInverse(
          y + i * n, into: x + i * inputDimension, outputCount: inputDimension,
          size: size, signs: s.baseAddress!, rounds: rounds, scale: scale, work: work)
      }
    }
  }
}

extension Double {
  fileprivate func power(_ k: Int) -> Double {
    var r = 1.0
    for _ in 0..<max(k, 0) { r *= self }
    return r
  }
}
