import RealModule
import VQKernels

/// eden:bits=b[,scale=unbiased|biased][,codebook=gaussian|beta]: EDEN / DRIVE, rotation plus a
/// Lloyd–Max scalar code with one per-vector scale.
///
/// Papers: S. Vargaftik, R. Ben-Basat, A. Portnoy, G. Mendelson, Y. Ben-Itzhak, M. Mitzenmacher,
/// "DRIVE: One-bit Distributed Mean Estimation" (NeurIPS 2021, arXiv:2105.08339) and "EDEN:
/// Communication-Efficient and Robust Distributed Mean Estimation for Federated Learning" (ICML 2022,
/// arXiv:2108.08842). DRIVE is the b = 1 case. research/rotation.md §2.
///
/// Algorithm (b = 1…8 bits per padded coordinate, one Float side value `scale`):
/// 1. rotate: y = Π·pad(x) (randomized Hadamard, 3 rounds by default; n = padded dimension);
/// 2. standardize: s_i = y_i·√n/‖y‖ (≈ N(0,1)) and code a_i = the Lloyd–Max cell of s_i
///    (`Kernels.quantizeThresholdsPack` with the codebook midpoints); c_i = centroid[a_i];
/// 3. scale S = ‖y‖²/⟨y,c⟩ (unbiased) or S = ⟨y,c⟩/‖c‖² (biased: the per-vector MSE optimum);
/// 4. decode x̂ = Πᵀ(S·c), dropping the padding;
/// 5. estimate ⟨q,x⟩ ≈ S·Σ_i (Πq)_i·centroid[a_i], straight from the codes (`Kernels.unpackDot`).
///
/// Guarantee (for a uniformly random rotation; three Hadamard rounds reproduce it, one does not on
/// sparse input, rotation.md §6.2): the unbiased scale gives E[x̂] = x and normalized variance
/// E‖x̂−x‖²/‖x‖² → D_b/(1−D_b) = 0.5708, 0.1331, 0.0358, 0.0096 for b = 1…4, the inner-product error
/// having variance ≈ vNMSE·(‖q‖²‖x‖² − ⟨q,x⟩²)/(n−1); the biased scale gives NMSE → D_b = 0.3634, 0.1175,
/// 0.0345, 0.0095 (the Lloyd–Max MSE of N(0,1)) and E⟨q,x̂⟩ ≈ (1−D_b)⟨q,x⟩. `codebook=beta` uses the
/// exact-d law of a rotated coordinate instead of its N(0,1) limit (better at small n).
///
/// `bits` below 1 (0 < b < 1, e.g. 0.5) builds `EDENSubBit` (1-bit EDEN on a fixed random b-fraction
/// of the rotated coordinates); fractional widths above 1 are refused by the spec.
public struct EDEN: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "eden",
    summary: "EDEN/DRIVE: rotation + Lloyd-Max N(0,1) code + one scale (unbiased 1/<z,c> or MSE-optimal)",
    family: "rotation + scalar",
    parameters: [
      SpecParameter("bits", .integer(1...8), default: "4",
                    summary: "bits per (padded) coordinate; 0<b<1 codes round(b*n) sampled rotated coordinates at 1 bit",
                    alwaysShown: true, acceptsFractionBelowOne: true),
      SpecParameter("scale", .choice(["unbiased", "biased"]), default: "unbiased",
                    summary: "unbiased: S = |y|^2/<y,c> (E x^ = x); biased: S = <y,c>/|c|^2 (least MSE)"),
      SpecParameter("codebook", .choice(["gaussian", "beta"]), default: "gaussian",
                    summary: "Lloyd-Max for N(0,1), or for the exact coordinate law at the padded dimension"),
    ] + Rotations.parameters(defaultKind: .hadamard)
  ) { spec, dimension in
    if EDEN.isSubBit(spec) { return try EDENSubBit(spec: spec, dimension: dimension) }
    return try EDEN(spec: spec, dimension: dimension)
  }

  /// Whether `spec` asks for fewer than one bit per coordinate (`bits` a fraction in (0, 1)).
  public static func isSubBit(_ spec: QuantizerSpec) -> Bool { Int(spec.string("bits")) == nil }

  public let spec: QuantizerSpec
  public let dimension: Int
  public let bits: Int
  public let unbiased: Bool
  public let codebook: ScalarCodebook
  let frame: RotatedCodingFrame
  /// Centroids and their squares (for ‖c‖² by `unpackDot` against ones).
  let centroids: [Float]
  let squaredCentroids: [Float]
  let ones: [Float]

  public init(spec: QuantizerSpec, dimension: Int) throws {
    guard !Self.isSubBit(spec) else {
      throw VQError.invalidArgument("\(spec.description): fewer than one bit per coordinate is EDENSubBit's (build it through the registry)")
    }
    self.spec = spec
    self.dimension = dimension
    bits = spec.int("bits")
    unbiased = spec.string("scale") == "unbiased"
    frame = RotatedCodingFrame(spec: spec, dimension: dimension)
    codebook = spec.string("codebook") == "beta"
      ? try ScalarCodebook.sphereCoordinate(dimension: frame.n, bits: bits)
      : try ScalarCodebook.gaussian(bits: bits)
    centroids = codebook.floatCentroids
    squaredCentroids = centroids.map { $0 * $0 }
    ones = [Float](repeating: 1, count: frame.n)
  }

  /// The coded (padded) dimension n.
  public var codedDimension: Int { frame.n }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: CodeLayout.packedBytes(count: frame.n, bits: bits), sideFields: ["scale"])
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    let n = frame.n, bits = bits, unbiased = unbiased
    let root = Float(Double(n).squareRoot())
    // Validation (dimension, finite values) happens in the frame, from the rotated norm.
    try codebook.floatThresholds.withUnsafeBufferPointer { thresholds in
      try centroids.withUnsafeBufferPointer { table in
        try squaredCentroids.withUnsafeBufferPointer { squares in
          try ones.withUnsafeBufferPointer { ones in
            try frame.encode(x, layout: layout, scratchFloats: 0, into: &codes) { y, normSquared, code, side, _ in
              // A zero row codes as all-"0⁺" with scale 0 and decodes to exactly 0.
              let standardize = normSquared > 0 ? root / normSquared.squareRoot() : 0
              Kernels.quantizeThresholdsPack(
                y, count: n, scale: standardize, thresholds: thresholds.baseAddress!,
                thresholdCount: thresholds.count, bits: bits, into: code)
              guard normSquared > 0 else { side[0] = 0; return }
              let projection = Kernels.unpackDot(code, count: n, bits: bits, table: table.baseAddress!, query: y)
              if unbiased {
                side[0] = projection > 0 ? normSquared / projection : 0
              } else {
                let codeNormSquared = Kernels.unpackDot(
                  code, count: n, bits: bits, table: squares.baseAddress!, query: ones.baseAddress!)
                side[0] = codeNormSquared > 0 ? projection / codeNormSquared : 0
              }
            }
          }
        }
      }
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    frame.decodeScaledCodebook(codes, bits: bits, table: centroids, into: &out)
  }

  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    return PreparedQuery(dimension: dimension, transformed: frame.rotate(query: query))
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    frame.estimateScaledCodebook(query, codes: codes, range: range, bits: bits, table: centroids, into: out.baseAddress!)
  }
}
