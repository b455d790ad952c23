import RealModule

/// fp4: every coordinate an E2M1 4-bit float, scaled per vector so that the largest magnitude maps to
/// E2M1's largest value 6 (the element type of OCP "Microscaling Formats (MX)" v1.0, used here with
/// one per-vector scale; geometry.md §1.4 "FP4 E2M1 absmax").
///
/// Algorithm (one Float side value `scale` per vector):
/// 1. optionally rotate (`rotation=hadamard|haar`, zero-padded to the rotation's size);
/// 2. s = max|x_j| / 6;
/// 3. c_j = E2M1(x_j · (1/s)), round to nearest even, saturating at ±6; the values are
///    {0, ±0.5, ±1, ±1.5, ±2, ±3, ±4, ±6} (15 distinct, ±0 both stored);
/// 4. two codes per byte, low nibble = even coordinate; decode x̂_j = s · E2M1⁻¹(c_j); the estimate
///    is s · Σ q_j · table[c_j] with the 16-entry value table.
///
/// Known error (geometry.md §1.5, uniform unit vectors): cosine loss 0.00583 at d = 128, 0.00652 at
/// d = 768. E2M1's log-spaced levels beat INT4 absmax (0.00955 at d = 768) from d ≥ 32 at the same
/// 4 bits per coordinate (+ 32 bits of scale).
public struct FP4Format: ProductFormat {
  public static let method = QuantizerMethod(
    name: "fp4", summary: "E2M1 per coordinate, per-vector absmax scale to 6", family: "product format",
    parameters: Rotations.parameters(defaultKind: .none)
  ) { spec, dimension in FP4Format(spec: spec, dimension: dimension) }

  public let spec: QuantizerSpec
  public let dimension: Int
  let frame: ProductFormatFrame

  public init(spec: QuantizerSpec, dimension: Int) {
    self.spec = spec
    self.dimension = dimension
    frame = ProductFormatFrame(spec: spec, dimension: dimension)
  }

  public var layout: CodeLayout { CodeLayout(bytesPerCode: (frame.codedDimension + 1) / 2, sideFields: ["scale"]) }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    let n = frame.codedDimension
    frame.encode(x, layout: layout, into: &codes) { row, code, scratch in
      let amax = absoluteMaximum(row, count: n)
      let s = absmaxScale(amax, top: 6)
      if s > 0 { scaledIntoScratch(row, count: n, scale: s, into: scratch) } else { scratch.update(from: row, count: n) }
      E2M1Nibbles.pack(scratch, count: n, into: code)
      return s
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.codedDimension
    frame.decode(codes, into: &out) { code, s, y in E2M1Nibbles.decode(code, count: n, scale: s, into: y) }
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let n = frame.codedDimension
    frame.withQuery(query, codes: codes) { q, base, bytes, scale in
      E2M1Nibbles.withTable { table in
        for i in range {
          out[i - range.lowerBound] = scale![i] * E2M1Nibbles.dot(q, base + i * bytes, count: n, table: table)
        }
      }
    }
  }
}

/// E2M1 codes two per byte (element 2k in the low nibble, 2k+1 in the high one): shared by fp4,
/// mxfp4 and nvfp4.
enum E2M1Nibbles {
  /// Packs E2M1(x_j) for `n` floats already divided by their scale, into ⌈n/2⌉ bytes.
  @inline(__always)
  static func pack(_ x: UnsafePointer<Float>, count n: Int, into code: UnsafeMutablePointer<UInt8>) {
    for k in 0..<(n / 2) {
      code[k] = ScalarCodecs.e2m1Bits(x[2 * k]) | ScalarCodecs.e2m1Bits(x[2 * k + 1]) << 4
    }
    if n % 2 == 1 { code[n / 2] = ScalarCodecs.e2m1Bits(x[n - 1]) }
  }

  /// y_j = scale · E2M1⁻¹(c_j) for `n` codes.
  @inline(__always)
  static func decode(_ code: UnsafePointer<UInt8>, count n: Int, scale: Float, into y: UnsafeMutablePointer<Float>) {
    withTable { t in
      for k in 0..<(n / 2) {
        y[2 * k] = scale * t[Int(code[k] & 0xF)]
        y[2 * k + 1] = scale * t[Int(code[k] >> 4)]
      }
      if n % 2 == 1 { y[n - 1] = scale * t[Int(code[n / 2] & 0xF)] }
    }
  }

  /// Σ_j q_j · E2M1⁻¹(c_j) over `n` codes.
  @inline(__always)
  static func dot(_ q: UnsafePointer<Float>, _ code: UnsafePointer<UInt8>, count n: Int, table t: UnsafePointer<Float>) -> Float {
    var s: Float = 0
    for k in 0..<(n / 2) {
      let byte = UInt32(code[k])
      s = Relaxed.multiplyAdd(q[2 * k], value(byte & 0xF), s)
      s = Relaxed.multiplyAdd(q[2 * k + 1], value(byte >> 4), s)
    }
    if n % 2 == 1 { s = Relaxed.multiplyAdd(q[n - 1], t[Int(code[n / 2] & 0xF)], s) }
    return s
  }

  /// E2M1⁻¹(c) without a table (selects instead of loads, so loops over it vectorize): magnitude code
  /// m ≥ 2 is 2^((m>>1) − 1)·(1 + (m&1)/2), whose binary32 bits are (m + 252) << 22; m = 1 is 0.5.
  @inline(__always)
  static func value(_ c: UInt32) -> Float {
    let m = c & 7
    let bits: UInt32 = m >= 2 ? (m &+ 252) << 22 : (m == 1 ? 0x3F00_0000 : 0)
    return Float(bitPattern: bits | (c & 8) << 28)
  }

  @inline(__always)
  static func withTable<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
    ScalarCodecs.e2m1Values.withUnsafeBufferPointer { body($0.baseAddress!) }
  }
}
