import VQKernels

/// turbo-prod:bits=b[,qjl=orthogonal|gaussian]: TurboQuant_prod, a (b−1)-bit TurboQuant_mse code plus a
/// 1-bit QJL sketch of its residual: unbiased inner products.
///
/// Paper: A. Zandieh, M. Daliri, M. Hadian, V. Mirrokni, "TurboQuant: Online Vector Quantization with
/// Near-optimal Distortion Rate" (ICLR 2026, arXiv:2504.19874), Algorithm 2; the QJL stage from
/// A. Zandieh, M. Daliri, I. Han, arXiv:2406.03482. research/rotation.md §4.2–4.3.
///
/// Algorithm (b = 1…8 bits per padded coordinate; side values `norm` and, for b ≥ 2, `residualNorm`):
/// 1. rotate: y = Π·pad(x), n = padded dimension; u = y/‖x‖ (the rotated direction);
/// 2. code u with TurboQuant_mse at b−1 bits (exact-d Lloyd–Max; none at b = 1, which is pure QJL);
/// 3. residual r = u − û_mse (in the rotated basis, which is an isometry of the original one), γ = ‖r‖;
/// 4. store sign(S·r) (n bits), S = n×n QJL rows: orthonormal rows of a second randomized Hadamard
///    (`qjl=orthogonal`, default, as FAISS) or i.i.d. N(0,1) (`qjl=gaussian`, the paper), seeded from
///    a stream independent of Π;
/// 5. estimate ⟨q,x⟩ ≈ ‖x‖·(⟨Πq, û_mse⟩ + γ·κ·⟨S·Πq, sign(S·r)⟩), κ as in `QJL` (√(π/2)/n for
///    Gaussian rows, 1/(n·E|z₁|) for orthogonal ones); decode x̂ = ‖x‖·Πᵀ(û_mse + γ·κ·Sᵀ sign(S·r)).
///
/// Guarantee (Thm 2; uniform random rotations): E⟨q,x̂⟩ = ⟨q,x⟩, and for unit x and a random unit q,
/// d·E|⟨q,x̂⟩−⟨q,x⟩|² = (π/2 − 1/n)·D_{b−1}(n) with Gaussian rows (D_0 = 1): 1.571, 0.571, 0.185, 0.054
/// for b = 1…4 at large n (the paper's "0.047/d" at b = 4 comes from rounding D_3 to 0.03); orthogonal
/// rows give ≈ (π/2 − 1)·D_{b−1}: 0.571, 0.207, 0.067, 0.0195 (rotation.md §7 items 18–21). Unbiased
/// b-bit EDEN beats it at every b (0.133 at b = 2).
public struct TurboQuantProd: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "turbo-prod",
    summary: "TurboQuant_prod: (b-1)-bit TurboQuant_mse + 1-bit QJL of the residual; unbiased (b=1: pure QJL)",
    family: "rotation + scalar",
    parameters: [
      SpecParameter("bits", .integer(1...8), default: "4",
                    summary: "bits per (padded) coordinate: b-1 for the MSE code, 1 for the QJL signs", alwaysShown: true),
      SpecParameter("qjl", .choice(QJLProjection.Kind.allCases.map(\.rawValue)), default: "orthogonal",
                    summary: "QJL rows: randomized-Hadamard (orthonormal, as FAISS) or i.i.d. Gaussian (the paper)"),
    ] + Rotations.parameters(defaultKind: .hadamard)
  ) { spec, dimension in try TurboQuantProd(spec: spec, dimension: dimension) }

  /// The stream the QJL projection's seed is drawn from (independent of the rotation's sign stream).
  public static let qjlSeedStream: UInt64 = 0x5451_5052_4F44   // "TQPROD"

  public let spec: QuantizerSpec
  public let dimension: Int
  public let bits: Int
  /// The (b−1)-bit codebook (nil at b = 1).
  public let codebook: ScalarCodebook?
  let frame: RotatedCodingFrame
  let projection: QJLProjection
  /// centroid[k]/√n (b ≥ 2) and [−κ, κ].
  let unitTable: [Float]
  let signTable: [Float]
  let mseBytes: Int

  public init(spec: QuantizerSpec, dimension: Int) throws {
    self.spec = spec
    self.dimension = dimension
    bits = spec.int("bits")
    frame = RotatedCodingFrame(spec: spec, dimension: dimension)
    let n = frame.n
    if bits >= 2 {
      let book = try ScalarCodebook.sphereCoordinate(dimension: n, bits: bits - 1)
      codebook = book
      unitTable = book.centroids.map { Float($0 / Double(n).squareRoot()) }
    } else {
      codebook = nil
      unitTable = []
    }
    mseBytes = CodeLayout.packedBytes(count: n, bits: bits - 1)
    var seeds = SeededGenerator(seed: spec.uint64("seed"), stream: Self.qjlSeedStream)
    projection = QJLProjection(
      inputDimension: n, projections: n, kind: QJLProjection.Kind(rawValue: spec.string("qjl")) ?? .orthogonal,
      rounds: spec.int("rounds"), seed: seeds.next())
    let kappa = Float(projection.estimatorScale)
    signTable = [-kappa, kappa]
  }

  public var codedDimension: Int { frame.n }

  public var layout: CodeLayout {
    CodeLayout(
      bytesPerCode: mseBytes + CodeLayout.packedBytes(count: frame.n, bits: 1),
      sideFields: bits >= 2 ? ["norm", "residualNorm"] : ["norm"])
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    let n = frame.n, bits = bits, mseBytes = mseBytes, projection = projection
    let root = Float(Double(n).squareRoot())
    let thresholds = codebook?.floatThresholds ?? []
    let zero: [Float] = [0]
    // Validation (dimension, finite values) happens in the frame, from the rotated norm.
    try thresholds.withUnsafeBufferPointer { thresholds in
      try unitTable.withUnsafeBufferPointer { table in
        try zero.withUnsafeBufferPointer { zero in
          // Scratch: the residual (n), its projection (n), the projection's own scratch.
          try frame.encode(x, layout: layout, scratchFloats: 2 * n + projection.scratchFloats, into: &codes) {
            y, normSquared, code, side, scratch in
            let norm = normSquared.squareRoot()
            side[0] = norm
            let residual = scratch, projected = scratch + n
            let inverseNorm = norm > 0 ? 1 / norm : 0
            if bits >= 2 {
              Kernels.quantizeThresholdsPack(
                y, count: n, scale: root * inverseNorm, thresholds: thresholds.baseAddress!,
                thresholdCount: thresholds.count, bits: bits - 1, into: code)
              Kernels.unpackDequantize(code, count: n, bits: bits - 1, table: table.baseAddress!, scale: 1, into: residual)
              for i in 0..<n { residual[i] = y[i] * inverseNorm - residual[i] }
              side[1] = norm > 0 ? CodecMath.squaredNorm(residual, count: n).squareRoot() : 0
            } else {
              for i in 0..<n { residual[i] = y[i] * inverseNorm }
            }
            projection.project(residual, into: projected, scratch: scratch + 2 * n)
            Kernels.quantizeThresholdsPack(
              projected, count: n, scale: 1, thresholds: zero.baseAddress!, thresholdCount: 1, bits: 1,
              into: code + mseBytes)
          }
        }
      }
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.n, bits = bits, mseBytes = mseBytes, projection = projection
    let norms = codes.side("norm")
    let residualNorms = bits >= 2 ? codes.side("residualNorm") : []
    unitTable.withUnsafeBufferPointer { table in
      signTable.withUnsafeBufferPointer { signs in
        frame.decode(codes, scratchFloats: 2 * n + projection.scratchFloats, into: &out) { i, code, y, scratch in
          let gamma = bits >= 2 ? residualNorms[i] : 1
          Kernels.unpackDequantize(code + mseBytes, count: n, bits: 1, table: signs.baseAddress!, scale: gamma, into: scratch)
          projection.backProject(scratch, into: scratch + n, scratch: scratch + 2 * n)
          let back = scratch + n
          if bits >= 2 {
            Kernels.unpackDequantize(code, count: n, bits: bits - 1, table: table.baseAddress!, scale: 1, into: y)
            for j in 0..<n { y[j] = norms[i] * (y[j] + back[j]) }
          } else {
            for j in 0..<n { y[j] = norms[i] * back[j] }
          }
        }
      }
    }
  }

  /// `transformed` is Πq (n floats); `lookupTable` holds its QJL projection S·Πq (n floats).
  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    let rotated = frame.rotate(query: query)
    var projected = [Float](repeating: 0, count: projection.projections)
    var scratch = [Float](repeating: 0, count: max(projection.scratchFloats, 1))
    rotated.withUnsafeBufferPointer { q in
      projected.withUnsafeMutableBufferPointer { p in
        scratch.withUnsafeMutableBufferPointer { s in projection.project(q.baseAddress!, into: p.baseAddress!, scratch: s.baseAddress!) }
      }
    }
    return PreparedQuery(dimension: dimension, transformed: rotated, lookupTable: projected)
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let n = frame.n, bits = bits, bytes = layout.bytesPerCode, mseBytes = mseBytes
    precondition(query.transformed.count == n && query.lookupTable.count == n, "query prepared for another quantizer")
    codes.withUnsafeCodes { raw in
      codes.withUnsafeSide(0) { norms in
        query.transformed.withUnsafeBufferPointer { q in
          query.lookupTable.withUnsafeBufferPointer { p in
            unitTable.withUnsafeBufferPointer { table in
              signTable.withUnsafeBufferPointer { signs in
                if bits >= 2 {
                  codes.withUnsafeSide(1) { gammas in
                    for i in range {
                      let code = raw.baseAddress! + i * bytes
                      let mse = Kernels.unpackDot(code, count: n, bits: bits - 1, table: table.baseAddress!, query: q.baseAddress!)
                      let sketch = Kernels.unpackDot(code + mseBytes, count: n, bits: 1, table: signs.baseAddress!, query: p.baseAddress!)
                      out[i - range.lowerBound] = norms[i] * (mse + gammas[i] * sketch)
                    }
                  }
                } else {
                  for i in range {
                    let code = raw.baseAddress! + i * bytes
                    let sketch = Kernels.unpackDot(code, count: n, bits: 1, table: signs.baseAddress!, query: p.baseAddress!)
                    out[i - range.lowerBound] = norms[i] * sketch
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
