import RealModule

/// bf16: every coordinate stored as a bfloat16, the upper half of a binary32 (Google Brain's
/// "brain floating point"; Kalamkar et al., "A Study of BFLOAT16 for Deep Learning Training", 2019):
/// 1 sign, 8 exponent bits (bias 127, binary32's range), 7 mantissa bits.
///
/// Algorithm (per coordinate, no side data):
/// 1. optionally rotate (`rotation=hadamard|haar`, zero-padded to the rotation's size);
/// 2. round the binary32 bits to their upper 16, to nearest, ties to even (`ScalarCodecs.bfloat16Bits`);
/// 3. a value that would round up to infinity saturates to ±0x1.FEp127 (never a silent Inf);
/// 4. decode appends 16 zero bits (exact) and inverse-rotates; the estimate is ⟨q, decoded code⟩.
///
/// Guarantee: relative error ≤ 2^-8 per coordinate (binary32's whole range, subnormals rounded on the
/// same grid); three mantissa bits fewer than fp16, so 64× its NMSE: ≈ 2.7e-6, cosine loss ≈ 1.4e-6
/// (measured on MiniLM-small, d = 384). 16 bits per coordinate.
public struct BFloat16Format: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "bf16", summary: "bfloat16 per coordinate (RNE from binary32)", family: "product format",
    parameters: Rotations.parameters(defaultKind: .none)
  ) { spec, dimension in BFloat16Format(spec: spec, dimension: dimension) }

  public let spec: QuantizerSpec
  public let dimension: Int
  let frame: ProductFormatFrame

  public init(spec: QuantizerSpec, dimension: Int) {
    self.spec = spec
    self.dimension = dimension
    frame = ProductFormatFrame(spec: spec, dimension: dimension)
  }

  public var layout: CodeLayout { CodeLayout(bytesPerCode: 2 * frame.codedDimension) }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    let n = frame.codedDimension
    frame.encode(x, layout: layout, into: &codes) { row, code, _ in
      let out = UnsafeMutableRawPointer(code)
      for j in 0..<n {
        out.storeBytes(of: ScalarCodecs.bfloat16Bits(row[j]).littleEndian, toByteOffset: 2 * j, as: UInt16.self)
      }
      return 0
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.codedDimension
    frame.decode(codes, into: &out) { code, _, y in
      let raw = UnsafeRawPointer(code)
      for j in 0..<n {
        y[j] = ScalarCodecs.float(bfloat16Bits: UInt16(littleEndian: raw.load(fromByteOffset: 2 * j, as: UInt16.self)))
      }
    }
  }

  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    return PreparedQuery(dimension: dimension, transformed: frame.transform(query: query))
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let n = frame.codedDimension
    precondition(query.transformed.count == n, "query prepared for another quantizer")
    frame.withCodes(codes) { base, bytes, _ in
      query.transformed.withUnsafeBufferPointer { qb in
        let q = qb.baseAddress!
        for i in range {
          let raw = UnsafeRawPointer(base + i * bytes)
          var s: Float = 0
          for j in 0..<n {
            let h = UInt16(littleEndian: raw.load(fromByteOffset: 2 * j, as: UInt16.self))
            s = Relaxed.multiplyAdd(q[j], ScalarCodecs.float(bfloat16Bits: h), s)
          }
          out[i - range.lowerBound] = s
        }
      }
    }
  }
}
