import RealModule
import VQKernels

/// eden:bits=p with 0 < p < 1: EDEN below one bit per coordinate — keep a fixed random subset of
/// k = round(p·n) rotated coordinates and code those with 1-bit EDEN (one sign bit each, one scale).
///
/// Paper: S. Vargaftik, R. Ben-Basat, A. Portnoy, G. Mendelson, Y. Ben-Itzhak, M. Mitzenmacher, "EDEN:
/// Communication-Efficient and Robust Distributed Mean Estimation for Federated Learning" (ICML 2022,
/// arXiv:2108.08842), the b < 1 variant: random sparsification (RandomP: keep each coordinate with
/// probability p, scale by 1/p) followed by 1-bit EDEN. research/rotation.md §2.2, §7 item 12.
///
/// Algorithm (n = padded dimension of the rotation, k = max(1, round(p·n)) bits per code, side `scale`):
/// 1. rotate: y = Π·pad(x) (the shared `rotation`/`rounds`/`seed` keys, as in `EDEN`);
/// 2. sample: z = (y_j) for j in K, K a fixed set of k of the n positions drawn once from `seed`;
/// 3. code: a_j = [z_j > 0], c_j = ±centroid (the 1-bit Lloyd–Max table);
/// 4. scale: S = (n/k)·‖z‖²/⟨z,c⟩ (unbiased: RandomP's n/k times EDEN's scale) or S = ⟨z,c⟩/‖c‖²
///    (biased: the least-squares fit of the k kept coordinates, the others decoded as 0);
/// 5. decode x̂ = Πᵀ(S·c scattered onto K, 0 elsewhere); estimate ⟨q,x⟩ ≈ S·Σ_j (Πq)_{K_j}·c_j from codes.
///
/// Guarantee (uniformly random rotation Π; `rotation=hadamard` with 3 rounds reproduces it, §6.2): for
/// every x, E[x̂] = x, and E‖x̂−x‖²/‖x‖² = (n/k)(1 + v₁(k)) − 1 → π/(2p) − 1 (= 2.14 at p = ½, 5.28 at
/// p = ¼), where v₁(k) = E[k‖w‖²/‖w‖₁²] − 1 ≈ π/2 − 1 − 0.452/k (w uniform on the sphere of R^k;
/// the delta method, `predictedNMSE`) is 1-bit EDEN's vNMSE at dimension k. Derivation: Πx/‖x‖ = u is
/// uniform on the sphere, so z = u_K has a uniform direction independent of ‖z‖² ~ ‖x‖²·Beta(k/2, (n−k)/2); the
/// unbiased scale makes ⟨Sc, z⟩ = (n/k)‖z‖² exactly, hence E⟨Πᵀ(S c on K), x⟩ = ‖x‖², and by rotation
/// invariance E[x̂] = x; the error is ‖Sc‖² − 2(n/k)‖z‖² + ‖x‖² with ‖Sc‖² = (n/k)²‖z‖²·(1 + v(w)),
/// v(w) = k/‖w‖₁² − 1 for the direction w = z/‖z‖, whose mean is the formula (the sampling term
/// n/k − 1 plus (n/k)·v₁(k)). The inner-product error then has variance
/// ≈ vNMSE·(‖q‖²‖x‖² − ⟨q,x⟩²)/(n−1). The biased scale decodes S·c = (‖z‖₁/k)·sign(z), so ⟨x̂,x⟩ =
/// ‖x̂‖² = ‖z‖₁²/k and, with E‖z‖₁² = ‖x‖²·(1 + (k−1)·2/π)·k/n (E|u_i u_j| = 2/(πn) for i ≠ j), exactly
/// E[x̂] = γ·x and NMSE = 1 − γ for γ = (1 + (k−1)·2/π)/n → p·2/π (0.318 at p = ½).
/// Without a random rotation (`rotation=none`) the estimate is not unbiased for a fixed x.
///
/// Design choices (the code has a fixed size: k bits plus one Float):
/// - Exactly k positions, not a Bernoulli(p) mask, so every code has the same length. The bit budget is
///   p per padded coordinate, like EDEN's `bits` (k = round(p·n); n = d when d needs no padding).
/// - One sample per quantizer, drawn from `seed` like the rotation's signs, not one per vector: a query
///   is then prepared once (rotate, gather k coordinates) and scored against every code with one
///   contiguous k-long dot product, and all vectors are compared in the same k-dimensional subspace, so
///   nearest-neighbour rankings are not perturbed by per-vector sampling noise. A per-vector sample would
///   cost a stored seed and a re-gathered (or re-rotated) query per code. Unbiasedness is over the
///   quantizer's randomness either way; vectors coded by one quantizer share their rotation and sample,
///   so users who need independent errors (mean estimation across clients) vary `seed`, as for `eden`.
/// - Sampling after the rotation, not before: every vector then keeps ≈ k/n of its energy
///   (‖z‖²/‖x‖² concentrates at k/n with relative spread √(2/k)), whereas sampling raw coordinates
///   first would lose whole vectors whose mass lies off the sample (a one-hot x decodes to 0 with
///   probability 1 − p). After a random rotation the kept coordinates already have a uniformly random
///   direction, so no second rotation of the k-vector is needed, and k need not be padded to a power
///   of two (0.3·512 coordinates cost 154 bits, not 256).
/// - At one bit the decoded vector and the estimates do not depend on `codebook` (S·c is invariant to
///   the centroid's magnitude); the key is kept so the spec reads as EDEN's.
public struct EDENSubBit: VectorQuantizer {
  public let spec: QuantizerSpec
  public let dimension: Int
  /// The fraction p of (padded, rotated) coordinates kept, 0 < p < 1.
  public let keepFraction: Double
  public let unbiased: Bool
  public let codebook: ScalarCodebook
  let frame: RotatedCodingFrame
  /// The k kept positions of the rotated vector, ascending (drawn once from the spec's seed).
  public let keptPositions: [Int]
  let centroids: [Float]
  let zeroThreshold: [Float] = [0]

  /// The stream of `seed` the sample is drawn from (independent of the rotation's sign stream).
  static let sampleStream: UInt64 = 0x5355_4242_4954   // "SUBBIT"

  public init(spec: QuantizerSpec, dimension: Int) throws {
    guard spec.name == "eden" else {
      throw VQError.invalidArgument("EDENSubBit needs an eden spec, got '\(spec.description)'")
    }
    let p = spec.double("bits")
    guard p > 0 && p < 1 else {
      throw VQError.invalidArgument("\(spec.description): EDENSubBit needs 0 < bits < 1 (whole widths are EDEN's)")
    }
    self.spec = spec
    self.dimension = dimension
    keepFraction = p
    unbiased = spec.string("scale") == "unbiased"
    frame = RotatedCodingFrame(spec: spec, dimension: dimension)
    codebook = spec.string("codebook") == "beta"
      ? try ScalarCodebook.sphereCoordinate(dimension: frame.n, bits: 1)
      : try ScalarCodebook.gaussian(bits: 1)
    centroids = codebook.floatCentroids
    keptPositions = Self.sample(keeping: Self.keptCount(fraction: p, of: frame.n), of: frame.n, seed: spec.uint64("seed"))
  }

  /// k = round(p·n), at least 1 and at most n.
  public static func keptCount(fraction p: Double, of n: Int) -> Int {
    Swift.min(n, Swift.max(1, Int((p * Double(n)).rounded())))
  }

  /// The predicted E‖x̂−x‖²/‖x‖² when k of n rotated coordinates are kept (uniform rotation; header):
  /// unbiased (n/k)(1 + v₁(k)) − 1 with v₁(k) = π/2 − 1 + (3π²/4 − 5π/2)/k (delta method, accurate to
  /// O(1/k²)); biased 1 − γ with γ = `biasedShrinkage`.
  public static func predictedNMSE(kept k: Int, of n: Int, unbiased: Bool) -> Double {
    guard unbiased else { return 1 - biasedShrinkage(kept: k, of: n) }
    let oneBit = Double.pi / 2 - 1 + (3 * Double.pi * Double.pi / 4 - 5 * Double.pi / 2) / Double(k)
    return Double(n) / Double(k) * (1 + oneBit) - 1
  }

  /// γ with E[x̂] = γ·x for the biased scale (exact): (1 + (k−1)·2/π)/n.
  public static func biasedShrinkage(kept k: Int, of n: Int) -> Double {
    (1 + Double(k - 1) * 2 / Double.pi) / Double(n)
  }

  /// `k` distinct positions of 0..<n, ascending: a partial Fisher–Yates shuffle driven by
  /// `SeededGenerator` with a multiply-high bounded draw (the same on every machine and Swift version).
  static func sample(keeping k: Int, of n: Int, seed: UInt64) -> [Int] {
    var g = SeededGenerator(seed: seed, stream: sampleStream)
    var positions = Array(0..<n)
    for i in 0..<k {
      let j = i + Int(g.next().multipliedFullWidth(by: UInt64(n - i)).high)
      positions.swapAt(i, j)
    }
    return positions[0..<k].sorted()
  }

  /// Coded bits per vector (= kept coordinates).
  public var keptCount: Int { keptPositions.count }
  /// The rotation's padded dimension n.
  public var codedDimension: Int { frame.n }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: CodeLayout.packedBytes(count: keptCount, bits: 1), sideFields: ["scale"])
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    let k = keptCount, unbiased = unbiased
    let expansion = Float(Double(frame.n) / Double(k))
    let codeNormSquared = Float(k) * centroids[1] * centroids[1]
    try keptPositions.withUnsafeBufferPointer { kept in
      try zeroThreshold.withUnsafeBufferPointer { threshold in
        try centroids.withUnsafeBufferPointer { table in
          try frame.encode(x, layout: layout, scratchFloats: k, into: &codes) { y, _, code, side, z in
            for j in 0..<k { z[j] = y[kept[j]] }
            Kernels.quantizeThresholdsPack(
              z, count: k, scale: 1, thresholds: threshold.baseAddress!, thresholdCount: 1, bits: 1, into: code)
            // ⟨z,c⟩ = centroid·‖z‖₁ ≥ 0; it is 0 only for z = 0, which codes with scale 0 (decodes to 0).
            let projection = Kernels.unpackDot(code, count: k, bits: 1, table: table.baseAddress!, query: z)
            guard projection > 0 else { side[0] = 0; return }
            side[0] = unbiased
              ? expansion * CodecMath.squaredNorm(z, count: k) / projection
              : projection / codeNormSquared
          }
        }
      }
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let k = keptCount, n = frame.n
    let scales = codes.withUnsafeSide(0) { Array($0) }
    keptPositions.withUnsafeBufferPointer { kept in
      centroids.withUnsafeBufferPointer { table in
        frame.decode(codes, scratchFloats: k, into: &out) { i, code, y, values in
          Kernels.unpackDequantize(code, count: k, bits: 1, table: table.baseAddress!, scale: scales[i], into: values)
          y.update(repeating: 0, count: n)
          for j in 0..<k { y[kept[j]] = values[j] }
        }
      }
    }
  }

  /// The query rotated and gathered at the kept positions (k floats).
  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    let rotated = frame.rotate(query: query)
    return PreparedQuery(dimension: dimension, transformed: keptPositions.map { rotated[$0] })
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let k = keptCount
    precondition(query.transformed.count == k, "query prepared for another quantizer")
    RotatedCodingFrame.scaledCodebookEstimates(
      query.transformed, codes: codes, range: range, count: k, bits: 1, table: centroids, into: out.baseAddress!)
  }
}
