import RealModule

/// fp8-e4m3 / fp8-e5m2: every coordinate an OCP 8-bit float, scaled per vector (OCP "8-bit Floating
/// Point Specification (OFP8)" rev. 1.0, 2023; Micikevicius et al., "FP8 Formats for Deep Learning",
/// arXiv:2209.05433). E4M3: bias 7, max 448, subnormals from 2^-9, no infinity, NaN = S.1111.111.
/// E5M2: bias 15, max 57344, subnormals from 2^-16, IEEE infinities and NaNs.
///
/// Algorithm (one Float side value `scale` per vector):
/// 1. optionally rotate (`rotation=hadamard|haar`, zero-padded to the rotation's size);
/// 2. s = max|x_j| / M with M the format's largest finite value (448 or 57344);
/// 3. c_j = FP8(x_j · (1/s)), round to nearest even, saturating conversion (never NaN or Inf);
/// 4. decode x̂_j = s · FP8⁻¹(c_j) (and inverse-rotate); the estimate is s · Σ q_j · table[c_j].
///
/// Known error (geometry.md §1.5, uniform unit vectors): E4M3 cosine loss 3.47e-4 at d = 768
/// (2.7 bits from the spherical-code bound at 8 bits: range that unit directions do not need);
/// E5M2 has one mantissa bit less, so about 4× that. 8 bits per coordinate + 32 bits of scale.
public struct FP8Format: ProductFormat {
  public static let e4m3Method = method(name: "fp8-e4m3", format: .e4m3)
  public static let e5m2Method = method(name: "fp8-e5m2", format: .e5m2)

  static func method(name: String, format: MiniFloat) -> QuantizerMethod {
    QuantizerMethod(
      name: name, summary: "OCP FP8 \(format) per coordinate, per-vector absmax scale to \(Int(format.largestFinite))",
      family: "product format", parameters: Rotations.parameters(defaultKind: .none)
    ) { spec, dimension in FP8Format(spec: spec, dimension: dimension, format: format) }
  }

  public let spec: QuantizerSpec
  public let dimension: Int
  /// `MiniFloat.e4m3` or `MiniFloat.e5m2`.
  public let format: MiniFloat
  let frame: ProductFormatFrame
  /// The value of every code byte.
  let table: [Float]

  public init(spec: QuantizerSpec, dimension: Int, format: MiniFloat) {
    precondition(format.bitWidth == 8, "FP8Format needs an 8-bit format, got \(format)")
    self.spec = spec
    self.dimension = dimension
    self.format = format
    frame = ProductFormatFrame(spec: spec, dimension: dimension)
    table = format.values
  }

  public var layout: CodeLayout { CodeLayout(bytesPerCode: frame.codedDimension, sideFields: ["scale"]) }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    let n = frame.codedDimension, format = format, top = format.largestFinite
    frame.encode(x, layout: layout, into: &codes) { row, code, scratch in
      let amax = absoluteMaximum(row, count: n)
      guard amax > 0 else {
        code.initialize(repeating: 0, count: n)
        return 0
      }
      let s = absmaxScale(amax, top: top)
      scaledIntoScratch(row, count: n, scale: s, into: scratch)
      for j in 0..<n { code[j] = UInt8(truncatingIfNeeded: format.encode(scratch[j])) }
      return s
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.codedDimension
    table.withUnsafeBufferPointer { t in
      frame.decode(codes, into: &out) { code, s, y in
        for j in 0..<n { y[j] = s * t[Int(code[j])] }
      }
    }
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let n = frame.codedDimension
    frame.withQuery(query, codes: codes) { q, base, bytes, scale in
      table.withUnsafeBufferPointer { t in
        for i in range {
          let code = base + i * bytes
          var s: Float = 0
          for j in 0..<n { s = Relaxed.multiplyAdd(q[j], t[Int(code[j])], s) }
          out[i - range.lowerBound] = scale![i] * s
        }
      }
    }
  }
}
