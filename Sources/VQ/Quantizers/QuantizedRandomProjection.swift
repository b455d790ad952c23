import RealModule
import VQKernels

/// qrp[:projections=k][,bits=b][,estimator=mle|normalized|linear][,seed=s]: quantized random
/// projections — k Gaussian projections of the direction x/‖x‖, each coded by the b-bit Lloyd–Max
/// quantizer of N(0, 1), plus the norm; inner products through the maximum-likelihood cosine.
///
/// Paper: P. Li, M. Mitzenmacher, M. Slawski, "Quantized Random Projections and Non-Linear Estimation
/// of Cosine Similarity", NeurIPS 2016; P. Li, M. Slawski, NeurIPS 2017. research/geometry.md §4.
///
/// Algorithm (k projections, default k = the dimension d, so b bits per coordinate; side `norm`):
/// 1. G: k × d with i.i.d. N(0, 1) entries from the spec's seed (its own stream);
/// 2. encode: z = G·x/‖x‖ (each z_j ~ N(0, 1) for any x), store the b-bit Lloyd–Max cell of every z_j
///    (`Kernels.quantizeThresholdsPack`) and ‖x‖ (a zero vector codes all z_j = 0);
/// 3. prepare a query q the same way (its k cells and ‖q‖);
/// 4. estimate ⟨q, x⟩ = ρ̂·‖q‖·‖x‖ with ρ̂ from the two code sequences: the MLE over the bivariate-normal
///    cell probabilities (`QRPCosineEstimator`, default), the normalised cos(Q(z), Q(z')) or the linear
///    (1/k)Σ Q(z)Q(z')/E[Q²];
/// 5. decode: x̂ = ‖x‖·v/‖v‖ with the back-projection v = Gᵀ·Q(z) (E[v] ∝ x: the direction's least
///    biased linear reconstruction; its error is O(√(d/k)) — QRP is an estimator of similarities, not a
///    reconstruction code, and ⟨q, x̂⟩ is not the estimate of step 4).
///
/// Guarantee: the projections of the query and of x are bivariate normal with correlation ρ = cos(q, x),
/// so the MLE's variance is ≈ 1/(k·I_b(ρ)) (k·Var = 2.16, 1.31, 0.231 at b = 1 and 1.04, 0.509, 0.0737
/// at b = 2 for ρ = 0.3, 0.6, 0.9); the estimate of ⟨q, x⟩ has variance ‖q‖²‖x‖²/(k·I_b(ρ)).
/// The MLE is unbiased; the normalised and linear estimators shrink toward 0, which near ρ = 0 buys
/// them a smaller MSE (the MLE's 1/I(0) = 1/(1 − D_b)² exceeds the normalised estimator's 1): on MiniLM
/// query–base pairs (cosines mostly below 0.3) `estimator=normalized` measured d·Var 1.04 against the
/// MLE's 1.26 at 2 bits, with the same recall@10. The MLE pays off at 1–2 bits and high similarity.
/// Cost: the MLE reads a table of ~4^b/4 classes × 1 999 grid points per code and refines by Newton,
/// ~4·10⁻⁵ s per code at b = 2 (25k codes/s on one thread; normalised: 78k) — an estimator for
/// statistics, not a fast scan (not in `vq bench`'s default set); `bits` stops at 6 because the
/// likelihood tables grow as 4^b.
public struct QuantizedRandomProjection: VectorQuantizer {
  public enum Estimator: String, CaseIterable, Sendable { case mle, normalized, linear }

  public static let method = QuantizerMethod(
    name: "qrp",
    summary: "quantized random projections: k Gaussian projections at b bits (Lloyd–Max) + the norm; MLE cosine",
    family: "random projection",
    parameters: [
      SpecParameter("projections", .integer(0...1 << 16), default: "0",
                    summary: "number k of Gaussian projections; 0 means the dimension"),
      SpecParameter("bits", .integer(QRPCosineEstimator.supportedBits), default: "2",
                    summary: "bits per projection (Lloyd–Max cells of N(0,1))", alwaysShown: true),
      SpecParameter("estimator", .choice(Estimator.allCases.map(\.rawValue)), default: "mle",
                    summary: "cosine estimator: maximum likelihood, normalised cos(Qz,Qz'), or linear"),
      SpecParameter("seed", .unsigned, default: "42", summary: "seed of the projection"),
    ]
  ) { spec, dimension in try QuantizedRandomProjection(spec: spec, dimension: dimension) }

  /// Stream of the projection matrix ("QRPGAU").
  static let projectionStream: UInt64 = 0x5152_5047_4155

  public let spec: QuantizerSpec
  public let dimension: Int
  /// k.
  public let projections: Int
  public let bits: Int
  public let estimator: Estimator
  /// The cells' statistics and the MLE (cached per b).
  public let cosineEstimator: QRPCosineEstimator
  /// G, k × d row-major.
  let matrix: [Float]
  let thresholds: [Float]

  public init(spec: QuantizerSpec, dimension: Int) throws {
    guard dimension > 0 else { throw VQError.invalidArgument("qrp: dimension must be positive, got \(dimension)") }
    self.spec = spec
    self.dimension = dimension
    let requested = spec.int("projections")
    projections = requested == 0 ? dimension : requested
    bits = spec.int("bits")
    estimator = Estimator(rawValue: spec.string("estimator")) ?? .mle
    cosineEstimator = try QRPCosineEstimator.cached(bits: bits)
    thresholds = cosineEstimator.codebook.floatThresholds
    var g = SeededGenerator(seed: spec.uint64("seed"), stream: Self.projectionStream)
    matrix = (0..<(projections * dimension)).map { _ in Float(g.nextGaussian()) }
  }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: CodeLayout.packedBytes(count: projections, bits: bits), sideFields: ["norm"])
  }

  /// z = G·x/‖x‖ (in Double, then rounded), or zeros for a zero vector; returns ‖x‖.
  private func project(_ x: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>) -> Float {
    let d = dimension
    var squared = 0.0
    for i in 0..<d { squared += Double(x[i]) * Double(x[i]) }
    let norm = squared.squareRoot()
    let inverse = norm > 0 ? 1 / norm : 0
    matrix.withUnsafeBufferPointer { m in
      for j in 0..<projections {
        let row = m.baseAddress! + j * d
        var s = 0.0
        for i in 0..<d { s += Double(row[i]) * Double(x[i]) }
        z[j] = Float(s * inverse)
      }
    }
    return Float(norm)
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    var result = CodeBuffer(layout: layout, count: x.count)
    guard x.count > 0 else { codes = result; return }
    let d = dimension, k = projections, bytes = layout.bytesPerCode
    var z = [Float](repeating: 0, count: k)
    var norms = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { src in
      result.withUnsafeMutableCodes { dst in
        z.withUnsafeMutableBufferPointer { zp in
          thresholds.withUnsafeBufferPointer { t in
            for i in 0..<x.count {
              norms[i] = project(src.baseAddress! + i * d, into: zp.baseAddress!)
              Kernels.quantizeThresholdsPack(
                zp.baseAddress!, count: k, scale: 1, thresholds: t.baseAddress!, thresholdCount: t.count, bits: bits,
                into: dst.baseAddress! + i * bytes)
            }
          }
        }
      }
    }
    result.withUnsafeMutableSide(0) { out in for i in 0..<x.count { out[i] = norms[i] } }
    codes = result
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    out = VectorBatch(dimension: dimension, count: codes.count)
    guard codes.count > 0 else { return }
    let d = dimension, k = projections, bytes = layout.bytesPerCode
    let centroids = cosineEstimator.codebook.centroids
    let norms = codes.side("norm")
    var v = [Double](repeating: 0, count: d)
    codes.withUnsafeCodes { src in
      out.withUnsafeMutableBufferPointer { dst in
        matrix.withUnsafeBufferPointer { m in
          for i in 0..<codes.count {
            for c in 0..<d { v[c] = 0 }
            let code = src.baseAddress! + i * bytes
            for j in 0..<k {
              let level = centroids[Int(PackReference.code(code, j, bits: bits))]
              let row = m.baseAddress! + j * d
              for c in 0..<d { v[c] += level * Double(row[c]) }
            }
            var squared = 0.0
            for c in 0..<d { squared += v[c] * v[c] }
            let scale = squared > 0 ? Double(norms[i]) / squared.squareRoot() : 0
            let row = dst.baseAddress! + i * d
            for c in 0..<d { row[c] = Float(v[c] * scale) }
          }
        }
      }
    }
  }

  /// The query's k cells (one per byte in `quantized`), its normalised projections in `transformed`
  /// and ‖q‖ in `factors[0]`.
  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    var z = [Float](repeating: 0, count: projections)
    let norm = z.withUnsafeMutableBufferPointer { project(query.baseAddress!, into: $0.baseAddress!) }
    let cells = z.map { value -> UInt8 in
      var q = 0
      for t in thresholds where t < value { q += 1 }
      return UInt8(q)
    }
    return PreparedQuery(dimension: dimension, transformed: z, quantized: cells, factors: [norm])
  }

  /// ⟨q, x_i⟩ ≈ ρ̂(codes of q, codes of x_i)·‖q‖·‖x_i‖ with the spec's estimator.
  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let k = projections, bytes = layout.bytesPerCode
    precondition(query.quantized.count == k && query.factors.count == 1, "query prepared for another quantizer")
    let queryNorm = Double(query.factors[0])
    var cells = [UInt8](repeating: 0, count: k)
    codes.withUnsafeCodes { raw in
      codes.withUnsafeSide(0) { norms in
        for i in range {
          let code = raw.baseAddress! + i * bytes
          for j in 0..<k { cells[j] = UInt8(truncatingIfNeeded: PackReference.code(code, j, bits: bits)) }
          let rho: Double
          switch estimator {
          case .mle: rho = cosineEstimator.maximumLikelihood(query.quantized, cells)
          case .normalized:
            let r = cosineEstimator.normalizedEstimate(query.quantized, cells)
            rho = r.isFinite ? r : 0
          case .linear: rho = cosineEstimator.linearEstimate(query.quantized, cells)
          }
          out[i - range.lowerBound] = Float(rho * queryNorm * Double(norms[i]))
        }
      }
    }
  }
}
