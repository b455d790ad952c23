import RealModule
import VQKernels

/// Distributed mean estimation (DME): n clients each send one compressed vector, the server averages
/// the decoded vectors. research/asq-ipaware.md §6.
///
/// Papers: S. Vargaftik et al., "DRIVE: One-bit Distributed Mean Estimation" (NeurIPS 2021) and
/// "EDEN: Communication-Efficient and Robust Distributed Mean Estimation for Federated Learning"
/// (ICML 2022); D. Alistarh et al., "QSGD: Communication-Efficient SGD via Gradient Quantization and
/// Encoding" (NeurIPS 2017); R. Ben Basat et al., QUIVER (ASQ, NeurIPS 2024).
///
/// Algorithm (clients x_1 … x_n ∈ R^d, a compressor C, a seed):
/// 1. client i draws its own message seed from (seed, round, i): its own rotation and rounding randomness;
/// 2. client i sends C(x_i), a message of `bitsPerMessage` bits (side values included);
/// 3. the server decodes each message to x̂_i (clients run concurrently, in any order);
/// 4. the server returns (1/n) Σ x̂_i, summed in client order (so the result never depends on scheduling);
/// 5. error: NMSE = ‖mean̂ − mean‖² / ((1/n) Σ‖x_i‖²), = vNMSE ‖x̂ − x‖²/‖x‖² for n = 1.
///
/// Guarantee: for an unbiased compressor with vNMSE v and independent client randomness,
/// E NMSE = v/n (errors are independent with zero mean). EDEN at b bits has v → 1/(1 − D_b) − 1
/// (D_b the Lloyd–Max MSE of N(0,1): π/2 − 1 = 0.5708 at b = 1); DRIVE's biased scale ‖y‖₁/d has
/// NMSE → 1 − 2/π = 0.3634 for one client, and with n clients holding the same x it keeps its bias:
/// NMSE → (1 − 2/π)² + (2/π)(1 − 2/π)/n, never below 0.1323.

/// A client-side compressor: one vector in, the server's reconstruction out, at a known message size.
public protocol ClientCompressor: Sendable {
  /// A short label (`eden b=1`, `qsgd s=2`).
  var name: String { get }
  /// The vector dimension d.
  var dimension: Int { get }
  /// Bits of one message, every side value (norms, scales, levels) included; shared randomness
  /// (rotation seeds derived from the round and client number) costs nothing.
  var bitsPerMessage: Int { get }
  /// Whether E[x̂] = x over the compressor's randomness.
  var isUnbiased: Bool { get }
  /// Compresses `x` with the randomness of `seed` and writes the server's reconstruction to `out`.
  /// Throws on a wrong length or a non-finite value.
  func roundTrip(_ x: UnsafeBufferPointer<Float>, seed: UInt64, into out: UnsafeMutableBufferPointer<Float>) throws
}

extension ClientCompressor {
  /// Message bits per input coordinate.
  public var bitsPerCoordinate: Double { Double(bitsPerMessage) / Double(dimension) }

  /// The reconstruction of one vector.
  public func roundTrip(_ x: [Float], seed: UInt64) throws -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    try x.withUnsafeBufferPointer { xb in try out.withUnsafeMutableBufferPointer { try roundTrip(xb, seed: seed, into: $0) } }
    return out
  }

  /// Throws unless `x` has `dimension` finite values (`what` names the input).
  func validate(_ x: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>, what: String = "client vector") throws {
    guard x.count == dimension else { throw VQError.dimensionMismatch(expected: dimension, got: x.count, what: what) }
    guard out.count == dimension else {
      throw VQError.dimensionMismatch(expected: dimension, got: out.count, what: "\(what) output")
    }
    for i in 0..<x.count where !x[i].isFinite {
      throw VQError.nonFinite(source: what, row: 0, column: i, value: x[i])
    }
  }
}

/// No compression: 32 bits per coordinate.
public struct FullPrecisionCompressor: ClientCompressor {
  public let dimension: Int
  public init(dimension: Int) throws {
    guard dimension >= 1 else { throw VQError.outOfRange("compressor dimension must be ≥ 1, got \(dimension)") }
    self.dimension = dimension
  }
  public var name: String { "fp32" }
  public var bitsPerMessage: Int { 32 * dimension }
  public var isUnbiased: Bool { true }
  public func roundTrip(_ x: UnsafeBufferPointer<Float>, seed: UInt64, into out: UnsafeMutableBufferPointer<Float>) throws {
    try validate(x, out)
    for i in 0..<x.count { out[i] = x[i] }
  }
}

/// EDEN (unbiased scale) or DRIVE (1 bit, biased scale ‖y‖₁/n) as a client compressor: a randomized
/// Hadamard rotation (3 rounds) drawn from the message seed, then the existing `EDEN` quantizer on the
/// rotated vector (`rotation=none`: the rotation is per message here, not per quantizer). Message:
/// n·b code bits (n = the padded Hadamard order) + one Float scale.
public struct EDENCompressor: ClientCompressor {
  public let dimension: Int
  public let bits: Int
  public let biased: Bool
  public let rotationRounds: Int
  let quantizer: EDEN
  let paddedDimension: Int

  /// EDEN at `bits` (1…8) with the unbiased scale ‖y‖²/⟨y,c⟩.
  public static func eden(bits: Int, dimension: Int) throws -> EDENCompressor {
    try EDENCompressor(bits: bits, biased: false, dimension: dimension)
  }

  /// DRIVE: 1 bit with the biased (MSE-optimal) scale, S·c_i = sign(y_i)·‖y‖₁/n.
  public static func drive(dimension: Int) throws -> EDENCompressor {
    try EDENCompressor(bits: 1, biased: true, dimension: dimension)
  }

  public init(bits: Int, biased: Bool, dimension: Int, rotationRounds: Int = 3) throws {
    guard dimension >= 1 else { throw VQError.outOfRange("compressor dimension must be ≥ 1, got \(dimension)") }
    guard (1...8).contains(bits) else { throw VQError.outOfRange("EDEN bits must be in 1...8, got \(bits)") }
    guard (1...8).contains(rotationRounds) else {
      throw VQError.outOfRange("Hadamard rounds must be in 1...8, got \(rotationRounds)")
    }
    self.dimension = dimension
    self.bits = bits
    self.biased = biased
    self.rotationRounds = rotationRounds
    paddedDimension = HadamardSize.fitting(dimension).n
    let spec = try QuantizerSpec("eden:bits=\(bits),scale=\(biased ? "biased" : "unbiased"),rotation=none")
    quantizer = try EDEN(spec: spec, dimension: paddedDimension)
  }

  public var name: String { biased && bits == 1 ? "drive (biased)" : biased ? "eden b=\(bits) biased" : "eden b=\(bits)" }
  public var bitsPerMessage: Int { 8 * quantizer.layout.bytesPerVector }
  public var isUnbiased: Bool { !biased }

  public func roundTrip(_ x: UnsafeBufferPointer<Float>, seed: UInt64, into out: UnsafeMutableBufferPointer<Float>) throws {
    try validate(x, out)
    let rotation = RandomizedHadamard(dimension: dimension, rounds: rotationRounds, seed: seed)
    var rotated = VectorBatch(dimension: paddedDimension, count: 1)
    rotated.withUnsafeMutableBufferPointer { rotation.apply(x.baseAddress!, count: 1, into: $0.baseAddress!) }
    let decoded = try quantizer.decode(quantizer.encode(rotated))
    decoded.withUnsafeBufferPointer { rotation.applyInverse($0.baseAddress!, count: 1, into: out.baseAddress!) }
  }
}

/// The server side of distributed mean estimation, and the error measures.
public enum DistributedMeanEstimation {
  /// One estimate of the mean of n client vectors.
  public struct Estimate: Sendable {
    /// The server's mean (1/n) Σ x̂_i.
    public var mean: [Float]
    /// The exact mean (1/n) Σ x_i.
    public var exactMean: [Double]
    /// ‖mean̂ − mean‖² / ((1/n) Σ‖x_i‖²): the vNMSE for one client.
    public var normalizedError: Double
    /// Bits each client sent.
    public var bitsPerClient: Int
  }

  /// The seed of client `client`'s message in round `round`: an independent stream per (round, client).
  public static func messageSeed(_ seed: UInt64, client: Int, round: Int = 0) -> UInt64 {
    var g = SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: round) &* 0x9E37_79B9_7F4A_7C15),
                            stream: 0x444D_4500_0000_0000 &+ UInt64(truncatingIfNeeded: client))
    return g.next()
  }

  /// The mean of the rows of `clients` (n × d) as the server sees it. Clients run concurrently over
  /// `Parallel` (at most `threads` at a time); the result depends only on `seed` and `round`.
  ///
  /// Synchronous on purpose: the experiments and the CLI are synchronous, and blocking a thread of the
  /// 2-core cooperative pool to wait for a task group could starve the group. `estimateMeanConcurrently`
  /// is the structured-concurrency twin (same numbers, bit for bit).
  public static func estimateMean(
    _ clients: VectorBatch, compressor: any ClientCompressor, seed: UInt64, round: Int = 0, threads: Int = 1
  ) throws -> Estimate {
    try checkClients(clients, compressor)
    let decoded = try Parallel.mapChunks(count: clients.count, chunks: clients.count, threads: max(1, threads)) { range in
      try clientReconstruction(clients, range.lowerBound, compressor: compressor, seed: seed, round: round)
    }
    return combine(clients, decoded, bits: compressor.bitsPerMessage)
  }

  /// `estimateMean` with one child task per client (a task group); same result whatever the scheduling.
  public static func estimateMeanConcurrently(
    _ clients: VectorBatch, compressor: any ClientCompressor, seed: UInt64, round: Int = 0
  ) async throws -> Estimate {
    try checkClients(clients, compressor)
    let decoded = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
      for i in 0..<clients.count {
        group.addTask { (i, try clientReconstruction(clients, i, compressor: compressor, seed: seed, round: round)) }
      }
      var slots = [[Float]](repeating: [], count: clients.count)
      for try await (i, x) in group { slots[i] = x }
      return slots
    }
    return combine(clients, decoded, bits: compressor.bitsPerMessage)
  }

  /// ‖estimate − truth‖² / ‖truth‖² (Double accumulation); 0 for a zero truth and a zero estimate.
  public static func normalizedSquaredError(_ estimate: UnsafeBufferPointer<Float>, truth: UnsafeBufferPointer<Float>) -> Double {
    var error = 0.0, norm = 0.0
    for i in 0..<min(estimate.count, truth.count) {
      let t = Double(truth[i]), e = Double(estimate[i]) - t
      error = Relaxed.multiplyAdd(e, e, error)
      norm = Relaxed.multiplyAdd(t, t, norm)
    }
    return norm > 0 ? error / norm : (error > 0 ? .infinity : 0)
  }

  /// The vNMSE ‖x̂ − x‖²/‖x‖² of one message.
  public static func vNMSE(_ x: [Float], compressor: any ClientCompressor, seed: UInt64) throws -> Double {
    let xHat = try compressor.roundTrip(x, seed: seed)
    return xHat.withUnsafeBufferPointer { e in x.withUnsafeBufferPointer { normalizedSquaredError(e, truth: $0) } }
  }

  /// Theory for EDEN's unbiased scale at b bits: 1/(1 − D_b) − 1, D_b the Lloyd–Max MSE of N(0,1)
  /// (π/2 − 1 at b = 1, in the limit of large d).
  public static func edenTheoreticalVNMSE(bits: Int) throws -> Double {
    let distortion = try ScalarCodebook.gaussian(bits: bits).distortion
    return 1 / (1 - distortion) - 1
  }

  /// Theory for DRIVE's biased scale with n clients and independent rotations: each estimate is
  /// ≈ (2/π)x_i plus zero-mean noise of energy (2/π)(1 − 2/π)‖x_i‖², so
  /// NMSE ≈ (1 − 2/π)²·‖x̄‖²/E + (2/π)(1 − 2/π)/n with E = (1/n)Σ‖x_i‖² (`meanEnergyRatio` = ‖x̄‖²/E:
  /// 1 when every client holds the same vector, ≈ 1/n for independent zero-mean vectors); 1 − 2/π for n = 1.
  public static func driveTheoreticalNMSE(clients n: Int, meanEnergyRatio: Double = 1) -> Double {
    let shrink = 2 / Double.pi
    return (1 - shrink) * (1 - shrink) * meanEnergyRatio + shrink * (1 - shrink) / Double(max(n, 1))
  }

  static func checkClients(_ clients: VectorBatch, _ compressor: any ClientCompressor) throws {
    guard clients.count >= 1 else { throw VQError.invalidArgument("distributed mean estimation needs at least one client") }
    guard clients.dimension == compressor.dimension else {
      throw VQError.dimensionMismatch(expected: compressor.dimension, got: clients.dimension, what: "client vectors")
    }
  }

  static func clientReconstruction(
    _ clients: VectorBatch, _ i: Int, compressor: any ClientCompressor, seed: UInt64, round: Int
  ) throws -> [Float] {
    var out = [Float](repeating: 0, count: clients.dimension)
    try clients.withRow(i) { row in
      try out.withUnsafeMutableBufferPointer { o in
        do {
          try compressor.roundTrip(row, seed: messageSeed(seed, client: i, round: round), into: o)
        } catch VQError.nonFinite(let source, _, let column, let value) {
          throw VQError.nonFinite(source: source, row: i, column: column, value: value)
        }
      }
    }
    return out
  }

  /// Sums in client order (Double), so the estimate does not depend on which client finished first.
  static func combine(_ clients: VectorBatch, _ decoded: [[Float]], bits: Int) -> Estimate {
    let n = clients.count, d = clients.dimension
    var sum = [Double](repeating: 0, count: d), exact = [Double](repeating: 0, count: d)
    var energy = 0.0
    clients.withUnsafeBufferPointer { x in
      sum.withUnsafeMutableBufferPointer { s in
        exact.withUnsafeMutableBufferPointer { e in
          for i in 0..<n {
            decoded[i].withUnsafeBufferPointer { xHat in
              for j in 0..<d {
                let v = Double(x[i * d + j])
                s[j] += Double(xHat[j])
                e[j] += v
                energy = Relaxed.multiplyAdd(v, v, energy)
              }
            }
          }
        }
      }
    }
    var error = 0.0
    var mean = [Float](repeating: 0, count: d)
    for j in 0..<d {
      exact[j] /= Double(n)
      let m = sum[j] / Double(n)
      mean[j] = Float(m)
      let e = m - exact[j]
      error = Relaxed.multiplyAdd(e, e, error)
    }
    energy /= Double(n)
    let nmse = energy > 0 ? error / energy : (error > 0 ? .infinity : 0)
    return Estimate(mean: mean, exactMean: exact, normalizedError: nmse, bitsPerClient: bits)
  }
}
