import VQKernels

/// qjl[:projections=m][,qjl=orthogonal|gaussian]: the 1-bit quantized Johnson–Lindenstrauss sketch,
/// m sign bits plus the norm.
///
/// Paper: A. Zandieh, M. Daliri, I. Han, "QJL: 1-Bit Quantized JL Transform for KV Cache Quantization
/// with Zero Overhead" (arXiv:2406.03482). research/rotation.md §4.5. Also the residual stage of
/// TurboQuant_prod (`TurboQuantProd`).
///
/// Algorithm (m projections, default m = the randomized-Hadamard size n of the dimension; side `norm`):
/// 1. project: p = S·x with S = m rows: i.i.d. N(0,1) (`qjl=gaussian`, the paper) or orthonormal rows of
///    randomized Hadamard transforms of pad(x) (`qjl=orthogonal`, the default, as FAISS; blocks of n rows
///    from independent seeds when m > n);
/// 2. store sign(p) (m bits, `Kernels.quantizeThresholdsPack` with the single threshold 0) and ‖x‖;
/// 3. estimate ⟨q,x⟩ ≈ κ·‖x‖·⟨S·q, sign(S·x)⟩ with κ = √(π/2)/m (Gaussian) or κ = 1/(m·E|z₁|)
///    (orthogonal; E|z₁| = Γ(n/2)/(√π·Γ((n+1)/2)), the mean absolute coordinate of a uniform unit
///    vector in R^n, which tends to √(2/(πn)));
/// 4. decode x̂ = κ·‖x‖·Sᵀ·sign(S·x), so that ⟨q, x̂⟩ is the estimate.
///
/// Guarantee: unbiased, E[estimate] = ⟨q,x⟩ (Gaussian: exactly; orthogonal: exactly for Haar-random
/// rows, which three Hadamard rounds approximate; the FAISS constant √(π/2)/m would be biased by
/// √(π/2)·√n·E|z₁| = 1.002 at n = 128). Gaussian variance ((π/2)‖q‖²‖x‖² − ⟨q,x⟩²)/m, i.e. d·Var =
/// π/2 − a² for unit vectors at m = d (1.21 at a = 0.6); orthogonal rows (m = n) are ~3× better
/// (0.389 at n = 128, a = 0.6 for Haar rows; rotation.md §7 item 20 measured 0.392).
public struct QJL: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "qjl",
    summary: "QJL: m sign bits of a random projection + the norm; unbiased inner products",
    family: "rotation + scalar",
    parameters: [
      SpecParameter("projections", .integer(0...1 << 20), default: "0",
                    summary: "number m of projections (sign bits); 0 means the padded dimension"),
      SpecParameter("qjl", .choice(QJLProjection.Kind.allCases.map(\.rawValue)), default: "orthogonal",
                    summary: "projection rows: randomized-Hadamard (orthonormal) or i.i.d. Gaussian"),
      SpecParameter("rounds", .integer(1...8), default: "3", summary: "randomized Hadamard rounds (orthogonal)"),
      SpecParameter("seed", .unsigned, default: "42", summary: "seed of the projection"),
    ]
  ) { spec, dimension in QJL(spec: spec, dimension: dimension) }

  public let spec: QuantizerSpec
  public let dimension: Int
  let projection: QJLProjection
  /// [−κ, +κ]: the sign table the estimator dots with.
  let signTable: [Float]

  public init(spec: QuantizerSpec, dimension: Int) {
    self.spec = spec
    self.dimension = dimension
    let requested = spec.int("projections")
    let m = requested == 0 ? HadamardSize.fitting(dimension).n : requested
    projection = QJLProjection(
      inputDimension: dimension, projections: m,
      kind: QJLProjection.Kind(rawValue: spec.string("qjl")) ?? .orthogonal,
      rounds: spec.int("rounds"), seed: spec.uint64("seed"))
    let kappa = Float(projection.estimatorScale)
    signTable = [-kappa, kappa]
  }

  /// The number m of projections (sign bits per vector).
  public var projections: Int { projection.projections }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: CodeLayout.packedBytes(count: projection.projections, bits: 1), sideFields: ["norm"])
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    guard x.dimension == dimension else { throw VQError.dimensionMismatch(expected: dimension, got: x.dimension, what: "input") }
    var result = CodeBuffer(layout: layout, count: x.count)
    guard x.count > 0 else { codes = result; return }
    let d = dimension, m = projection.projections, bytes = layout.bytesPerCode
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: m + projection.scratchFloats)
    defer { buffer.deallocate() }
    var norms = [Float](repeating: 0, count: x.count)
    let zero: [Float] = [0]
    try x.withUnsafeBufferPointer { src in
      try result.withUnsafeMutableCodes { dst in
        try zero.withUnsafeBufferPointer { threshold in
          for i in 0..<x.count {
            let row = src.baseAddress! + i * d
            let squaredNorm = CodecMath.squaredNorm(row, count: d)
            // Non-finite input shows in the norm; only then is the row scanned (see RotatedCodingFrame).
            if !squaredNorm.isFinite { try RotatedCodingFrame.reject(x, row: i) }
            norms[i] = squaredNorm.squareRoot()
            projection.project(row, into: buffer, scratch: buffer + m)
            Kernels.quantizeThresholdsPack(
              buffer, count: m, scale: 1, thresholds: threshold.baseAddress!, thresholdCount: 1, bits: 1,
              into: dst.baseAddress! + i * bytes)
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
    let d = dimension, m = projection.projections, bytes = layout.bytesPerCode
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: m + projection.scratchFloats)
    defer { buffer.deallocate() }
    let norms = codes.side("norm")
    codes.withUnsafeCodes { src in
      out.withUnsafeMutableBufferPointer { dst in
        signTable.withUnsafeBufferPointer { table in
          for i in 0..<codes.count {
            Kernels.unpackDequantize(
              src.baseAddress! + i * bytes, count: m, bits: 1, table: table.baseAddress!, scale: norms[i], into: buffer)
            projection.backProject(buffer, into: dst.baseAddress! + i * d, scratch: buffer + m)
          }
        }
      }
    }
  }

  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    var projected = [Float](repeating: 0, count: projection.projections)
    var scratch = [Float](repeating: 0, count: max(projection.scratchFloats, 1))
    projected.withUnsafeMutableBufferPointer { p in
      scratch.withUnsafeMutableBufferPointer { s in
        projection.project(query.baseAddress!, into: p.baseAddress!, scratch: s.baseAddress!)
      }
    }
    return PreparedQuery(dimension: dimension, transformed: projected)
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let m = projection.projections
    precondition(query.transformed.count == m, "query prepared for another quantizer")
    RotatedCodingFrame.scaledCodebookEstimates(
      query.transformed, codes: codes, range: range, count: m, bits: 1, table: signTable, into: out.baseAddress!)
  }
}

/// The m × d projection of a QJL sketch: i.i.d. N(0,1) rows, or orthonormal rows from randomized
/// Hadamard transforms (each block of n = `HadamardSize.fitting(d).n` rows from its own seed; the
/// first m rows of the stack are used). Seeded from its own streams, independent of every rotation
/// built from the same spec seed.
struct QJLProjection: Sendable {
  enum Kind: String, CaseIterable, Sendable { case orthogonal, gaussian }

  let inputDimension: Int
  let projections: Int
  let kind: Kind
  /// Gaussian: the m × d matrix, row-major. Empty for orthogonal.
  let matrix: [Float]
  /// Orthogonal: ⌈m/n⌉ randomized Hadamard transforms of order n. Empty for Gaussian.
  let blocks: [RandomizedHadamard]
  /// Orthogonal: the Hadamard order n (rows per block).
  let blockSize: Int
  /// κ in estimate = ‖x‖·κ·⟨S·q, sign(S·x)⟩: √(π/2)/m (Gaussian), 1/(m·E|z₁|) at dimension n (orthogonal).
  let estimatorScale: Double

  static let gaussianStream: UInt64 = 0x514A_4C47_4155   // "QJLGAU"
  static let hadamardStream: UInt64 = 0x514A_4C48_4144   // "QJLHAD"

  init(inputDimension d: Int, projections m: Int, kind: Kind, rounds: Int, seed: UInt64) {
    precondition(d > 0 && m > 0)
    inputDimension = d
    projections = m
    self.kind = kind
    switch kind {
    case .gaussian:
      var g = SeededGenerator(seed: seed, stream: Self.gaussianStream)
      matrix = (0..<(m * d)).map { _ in Float(g.nextGaussian()) }
      blocks = []
      blockSize = 0
      estimatorScale = (Double.pi / 2).squareRoot() / Double(m)
    case .orthogonal:
      var g = SeededGenerator(seed: seed, stream: Self.hadamardStream)
      let n = HadamardSize.fitting(d).n
      blocks = (0..<((m + n - 1) / n)).map { _ in RandomizedHadamard(dimension: d, rounds: rounds, seed: g.next()) }
      blockSize = n
      matrix = []
      estimatorScale = 1 / (Double(m) * CodecMath.meanAbsoluteSphereCoordinate(n))
    }
  }

  /// Floats of scratch `project` and `backProject` need.
  var scratchFloats: Int { kind == .gaussian ? 0 : blocks.count * blockSize + inputDimension }

  /// p = S·x (m floats).
  func project(_ x: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
    let d = inputDimension, m = projections
    switch kind {
    case .gaussian:
      matrix.withUnsafeBufferPointer { s in
        for j in 0..<m { p[j] = DotProduct.dot(s.baseAddress! + j * d, x, count: d) }
      }
    case .orthogonal:
      let n = blockSize
      for (k, block) in blocks.enumerated() { block.apply(x, count: 1, into: scratch + k * n) }
      p.update(from: scratch, count: m)
    }
  }

  /// x = Sᵀ·s (d floats) for s of m floats.
  func backProject(_ s: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
    let d = inputDimension, m = projections
    switch kind {
    case .gaussian:
      x.update(repeating: 0, count: d)
      matrix.withUnsafeBufferPointer { matrix in
        for j in 0..<m {
          let row = matrix.baseAddress! + j * d, sj = s[j]
          for i in 0..<d { x[i] += row[i] * sj }
        }
      }
    case .orthogonal:
      let n = blockSize
      let padded = scratch, part = scratch + n
      x.update(repeating: 0, count: d)
      for (k, block) in blocks.enumerated() {
        let first = k * n, count = Swift.min(n, m - first)
        padded.update(from: s + first, count: count)
        if count < n { (padded + count).update(repeating: 0, count: n - count) }
        block.applyInverse(padded, count: 1, into: part)
        for i in 0..<d { x[i] += part[i] }
      }
    }
  }
}
