import RealModule

/// fp16 / bf16: every coordinate stored as a 16-bit float; one type, two scalar codecs (`Encoding`).
/// - fp16: an IEEE 754 binary16 (IEEE 754-2019 §3.6; 1 sign, 5 exponent bits, bias 15, 10 mantissa
///   bits, subnormals down to 2^-24).
/// - bf16: a bfloat16, the upper half of a binary32 (Google Brain's "brain floating point"; Kalamkar
///   et al., "A Study of BFLOAT16 for Deep Learning Training", 2019): 1 sign, 8 exponent bits (bias
///   127, binary32's range), 7 mantissa bits.
///
/// Algorithm (per coordinate, no side data):
/// 1. optionally rotate (`rotation=hadamard|haar`, zero-padded to the rotation's size);
/// 2. fp16: round the binary32 value to the nearest binary16, ties to even (`ScalarCodecs.float16Bits`);
///    bf16: round the binary32 bits to their upper 16, to nearest, ties to even (`ScalarCodecs.bfloat16Bits`);
/// 3. fp16: a finite value beyond ±65504 saturates to ±65504 instead of becoming ±infinity: one Inf
///    coordinate would make every inner product and distance of the vector Inf or NaN, a silently
///    wrong answer, while saturation keeps the error to that coordinate;
///    bf16: a value that would round up to infinity saturates to ±0x1.FEp127 (never a silent Inf);
/// 4. decode widens exactly (bf16: appends 16 zero bits) and inverse-rotates; the estimate is
///    ⟨q, decoded code⟩.
///
/// Guarantee, fp16: relative error ≤ 2^-11 per coordinate in the normal range [2^-14, 65504]
/// (absolute ≤ 2^-25 below it); NMSE ≈ 4e-8 and cosine loss ≈ NMSE/2 ≈ 2e-8 on unit vectors
/// (measured on MiniLM-small, d = 384: 4.3e-8 and 2.1e-8), effectively exact.
/// bf16: relative error ≤ 2^-8 per coordinate (binary32's whole range, subnormals rounded on the same
/// grid); three mantissa bits fewer than fp16, so 64× its NMSE: ≈ 2.7e-6, cosine loss ≈ 1.4e-6
/// (measured on MiniLM-small, d = 384). Both: 16 bits per coordinate.
public struct HalfFloatFormat: ProductFormat {
  /// The 16-bit scalar codec.
  public enum Encoding: Sendable {
    /// IEEE binary16 (`fp16`).
    case binary16
    /// bfloat16 (`bf16`).
    case bfloat16
  }

  public static let float16Method = method(
    name: "fp16", summary: "IEEE binary16 per coordinate (RNE, saturating at ±65504)", encoding: .binary16)
  public static let bfloat16Method = method(
    name: "bf16", summary: "bfloat16 per coordinate (RNE from binary32)", encoding: .bfloat16)

  static func method(name: String, summary: String, encoding: Encoding) -> QuantizerMethod {
    QuantizerMethod(
      name: name, summary: summary, family: "product format", parameters: Rotations.parameters(defaultKind: .none)
    ) { spec, dimension in HalfFloatFormat(spec: spec, dimension: dimension, encoding: encoding) }
  }

  public let spec: QuantizerSpec
  public let dimension: Int
  public let encoding: Encoding
  let frame: ProductFormatFrame

  public init(spec: QuantizerSpec, dimension: Int, encoding: Encoding) {
    self.spec = spec
    self.dimension = dimension
    self.encoding = encoding
    frame = ProductFormatFrame(spec: spec, dimension: dimension)
  }

  public var layout: CodeLayout { CodeLayout(bytesPerCode: 2 * frame.codedDimension) }

  // Each entry point switches once on the encoding and runs a loop specialized for that codec.

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    switch encoding {
    case .binary16: encode(x, into: &codes, codec: Binary16Codec.self)
    case .bfloat16: encode(x, into: &codes, codec: BFloat16Codec.self)
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    switch encoding {
    case .binary16: decode(codes, into: &out, codec: Binary16Codec.self)
    case .bfloat16: decode(codes, into: &out, codec: BFloat16Codec.self)
    }
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    switch encoding {
    case .binary16: estimateInnerProducts(query, codes: codes, range: range, into: out, codec: Binary16Codec.self)
    case .bfloat16: estimateInnerProducts(query, codes: codes, range: range, into: out, codec: BFloat16Codec.self)
    }
  }

  @inline(__always)
  func encode<Codec: HalfFloatCodec>(_ x: VectorBatch, into codes: inout CodeBuffer, codec: Codec.Type) {
    let n = frame.codedDimension
    frame.encode(x, layout: layout, into: &codes) { row, code, _ in
      let out = UnsafeMutableRawPointer(code)
      for j in 0..<n { out.storeBytes(of: Codec.bits(row[j]).littleEndian, toByteOffset: 2 * j, as: UInt16.self) }
      return 0
    }
  }

  @inline(__always)
  func decode<Codec: HalfFloatCodec>(_ codes: CodeBuffer, into out: inout VectorBatch, codec: Codec.Type) {
    let n = frame.codedDimension
    frame.decode(codes, into: &out) { code, _, y in
      let raw = UnsafeRawPointer(code)
      for j in 0..<n { y[j] = Codec.value(UInt16(littleEndian: raw.load(fromByteOffset: 2 * j, as: UInt16.self))) }
    }
  }

  @inline(__always)
  func estimateInnerProducts<Codec: HalfFloatCodec>(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>,
    codec: Codec.Type
  ) {
    let n = frame.codedDimension
    frame.withQuery(query, codes: codes) { q, base, bytes, _ in
      for i in range {
        let raw = UnsafeRawPointer(base + i * bytes)
        var s: Float = 0
        for j in 0..<n {
          let h = UInt16(littleEndian: raw.load(fromByteOffset: 2 * j, as: UInt16.self))
          s = Relaxed.multiplyAdd(q[j], Codec.value(h), s)
        }
        out[i - range.lowerBound] = s
      }
    }
  }
}

/// A 16-bit float codec: binary32 → 16 bits (round to nearest even, saturating) and back (exact).
protocol HalfFloatCodec {
  static func bits(_ x: Float) -> UInt16
  static func value(_ bits: UInt16) -> Float
}

/// IEEE binary16; decoding never meets an infinity (encoding saturates), hence `finiteFloat`.
enum Binary16Codec: HalfFloatCodec {
  @inline(__always) static func bits(_ x: Float) -> UInt16 { ScalarCodecs.float16Bits(x) }
  @inline(__always) static func value(_ bits: UInt16) -> Float { ScalarCodecs.finiteFloat(float16Bits: bits) }
}

/// bfloat16, the upper half of a binary32.
enum BFloat16Codec: HalfFloatCodec {
  @inline(__always) static func bits(_ x: Float) -> UInt16 { ScalarCodecs.bfloat16Bits(x) }
  @inline(__always) static func value(_ bits: UInt16) -> Float { ScalarCodecs.float(bfloat16Bits: bits) }
}
