import VQKernels

/// turbo-mse:bits=b: TurboQuant_mse, rotation plus the exact-d Lloyd–Max code, the norm stored, no scale.
///
/// Paper: A. Zandieh, M. Daliri, M. Hadian, V. Mirrokni, "TurboQuant: Online Vector Quantization with
/// Near-optimal Distortion Rate" (ICLR 2026, arXiv:2504.19874), Algorithm 1. research/rotation.md §4.1.
/// It is EDEN with the scale fixed at S = 1 (arXiv:2604.18555).
///
/// Algorithm (b = 1…8 bits per padded coordinate, one Float side value `norm`):
/// 1. rotate: y = Π·pad(x) (randomized Hadamard, 3 rounds by default; the paper uses a dense Haar
///    rotation, `rotation=haar`); n = padded dimension;
/// 2. code a_i = the Lloyd–Max cell of √n·y_i/‖x‖ for the exact law of a uniform unit vector's
///    coordinate at dimension n (`ScalarCodebook.sphereCoordinate(dimension: n, …)`);
/// 3. store the codes and ‖x‖;
/// 4. decode x̂ = ‖x‖·Πᵀ(centroid[a]/√n);
/// 5. estimate ⟨q,x⟩ ≈ ‖x‖/√n·Σ_i (Πq)_i·centroid[a_i] (`Kernels.unpackDot`).
///
/// Guarantee (uniform random rotation; Thm 1): E‖x̂−x‖²/‖x‖² = D_b(n), the exact-d Lloyd–Max MSE
/// (0.36089, 0.11600, 0.03397, 0.00931 at n = 128; → 0.3634, 0.1175, 0.0345, 0.0095), which is at most
/// (√3·π/2)·4^−b and at least 4^−b. Biased for inner products: E⟨q,x̂⟩ = (1−D_b(n))·⟨q,x⟩ exactly
/// (2/π at b = 1), by the centroid condition.
public struct TurboQuantMSE: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "turbo-mse",
    summary: "TurboQuant_mse: rotation + exact-d Lloyd-Max code, norm stored, S = 1 (biased by 1-D_b)",
    family: "rotation + scalar",
    parameters: [
      SpecParameter("bits", .integer(1...8), default: "4", summary: "bits per (padded) coordinate", alwaysShown: true),
    ] + Rotations.parameters(defaultKind: .hadamard)
  ) { spec, dimension in try TurboQuantMSE(spec: spec, dimension: dimension) }

  public let spec: QuantizerSpec
  public let dimension: Int
  public let bits: Int
  public let codebook: ScalarCodebook
  let frame: RotatedCodingFrame
  /// centroid[k]/√n: the reconstruction of a unit vector's rotated coordinate.
  let unitTable: [Float]

  public init(spec: QuantizerSpec, dimension: Int) throws {
    self.spec = spec
    self.dimension = dimension
    bits = spec.int("bits")
    frame = RotatedCodingFrame(spec: spec, dimension: dimension)
    codebook = try ScalarCodebook.sphereCoordinate(dimension: frame.n, bits: bits)
    let root = Double(frame.n).squareRoot()
    unitTable = codebook.centroids.map { Float($0 / root) }
  }

  public var codedDimension: Int { frame.n }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: CodeLayout.packedBytes(count: frame.n, bits: bits), sideFields: ["norm"])
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    let n = frame.n, bits = bits
    let root = Float(Double(n).squareRoot())
    // Validation (dimension, finite values) happens in the frame, from the rotated norm.
    try codebook.floatThresholds.withUnsafeBufferPointer { thresholds in
      try frame.encode(x, layout: layout, scratchFloats: 0, into: &codes) { y, normSquared, code, side, _ in
        let norm = normSquared.squareRoot()
        Kernels.quantizeThresholdsPack(
          y, count: n, scale: norm > 0 ? root / norm : 0, thresholds: thresholds.baseAddress!,
          thresholdCount: thresholds.count, bits: bits, into: code)
        side[0] = norm
      }
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    frame.decodeScaledCodebook(codes, bits: bits, table: unitTable, into: &out)
  }

  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    return PreparedQuery(dimension: dimension, transformed: frame.rotate(query: query))
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    frame.estimateScaledCodebook(query, codes: codes, range: range, bits: bits, table: unitTable, into: out.baseAddress!)
  }
}
