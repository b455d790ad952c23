import RealModule
import VQKernels

/// int:bits=b: symmetric b-bit integers with a per-vector absmax scale, the plain "INT-b" of LLM
/// weight/activation quantization (e.g. Dettmers et al., LLM.int8(), arXiv:2208.07339; as simulated in
/// geometry.md §1.4). With `rotation=hadamard` it is "rotation + INT-b" (QuaRot-style).
///
/// Algorithm (b = 2…8; one Float side value `scale` per vector):
/// 1. optionally rotate (`rotation=hadamard|haar`, zero-padded to the rotation's size);
/// 2. L = 2^(b−1) − 1 levels each side (2^b − 1 codes; INT2 is ternary), s = max|x_j| / L;
/// 3. q_j = clamp(round(x_j / s), −L, L), stored as q_j + L in b bits by the C quantize-and-pack
///    kernel (`Kernels.quantizeUniformPack`: x·(L/max) + L, rounded to nearest even, clamped);
/// 4. decode x̂_j = s · q_j; the estimate is s · Σ_j q_j·(prepared query)_j, straight from the codes.
/// b = 1 has no such level (L = 0), so it is the 2-level code {−s, +s} with s = mean|x_j|, the scale
/// that minimizes ‖x − s·sign(x)‖² for the given signs; q_j = +1 for x_j ≥ 0 (the kernel reads
/// negatives with |x_j| < max|x|·2^-100 as +, far below any effect on the reconstruction).
///
/// Known error (geometry.md §1.5, uniform unit vectors, cosine loss at d = 128 / 768): INT2 0.260 /
/// 0.363, INT3 0.0349 / 0.0489, INT4 0.00673 / 0.00955. It *grows* with d because max|x_j| grows like
/// √(2 ln d): most coordinates fall on few levels. A rotation does not change this on isotropic data;
/// it helps on outlier-heavy real data. b bits per coordinate + 32 bits of scale.
public struct IntFormat: ProductFormat {
  public static let method = QuantizerMethod(
    name: "int", summary: "symmetric b-bit integers, per-vector absmax scale (bits=1: ±mean|x|)",
    family: "product format",
    parameters: [SpecParameter("bits", .integer(1...8), default: "4", summary: "bits per coordinate", alwaysShown: true)]
      + Rotations.parameters(defaultKind: .none)
  ) { spec, dimension in IntFormat(spec: spec, dimension: dimension) }

  public let spec: QuantizerSpec
  public let dimension: Int
  public let bits: Int
  let frame: ProductFormatFrame

  public init(spec: QuantizerSpec, dimension: Int) {
    self.spec = spec
    self.dimension = dimension
    bits = spec.int("bits")
    frame = ProductFormatFrame(spec: spec, dimension: dimension)
  }

  /// Levels each side of zero, L = 2^(b−1) − 1 (0 for b = 1).
  public var levels: Int { (1 << (bits - 1)) - 1 }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: CodeLayout.packedBytes(count: frame.codedDimension, bits: bits), sideFields: ["scale"])
  }

  /// The stored index i ∈ [0, 2^b) decodes to s · (a·i + c): (a, c) = (1, −L), or (2, −1) for b = 1.
  var indexMap: (multiplier: Int32, offset: Int32) { bits == 1 ? (2, -1) : (1, Int32(-levels)) }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    let n = frame.codedDimension, bits = bits, levels = levels
    frame.encode(x, layout: layout, into: &codes) { row, code, scratch in
      let amax = absoluteMaximum(row, count: n)
      if bits == 1 {
        var total: Float = 0
        for j in 0..<n { total = Relaxed.sum(total, Swift.abs(row[j])) }
        // x·k + 1 with k large: any x ≥ 0 gives ≥ 1 (index 1, +s), any x ≤ −1/k gives ≤ 0 (index 0).
        let k = amax > 0 ? Float(Swift.min(0x1p100 / Double(amax), Double(Float.greatestFiniteMagnitude))) : 1
        Kernels.quantizeUniformPack(row, count: n, scale: k, offset: 1, maxIndex: 1, bits: 1, into: code)
        return total / Float(n)
      }
      let top = Float(levels)
      let s = absmaxScale(amax, top: top)
      var input = row
      var inverse = amax > 0 ? top / amax : 0
      if !inverse.isFinite {
        // max|x| < L·2^-128: scale the row up by 2^64 (exact) so that the reciprocal is finite.
        for j in 0..<n { scratch[j] = row[j] * 0x1p64 }
        input = UnsafePointer(scratch)
        inverse = top / (amax * 0x1p64)
      }
      Kernels.quantizeUniformPack(
        input, count: n, scale: inverse, offset: top, maxIndex: UInt32(2 * levels), bits: bits, into: code)
      return s
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.codedDimension, bits = bits, (a, c) = indexMap
    frame.decode(codes, into: &out) { code, s, y in
      withConstantBits(bits) { b in
        forEachPackedIndex(code, count: n, bits: b) { j, index in y[j] = s * Float(a * index + c) }
      }
    }
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let n = frame.codedDimension, bits = bits, (a, c) = indexMap
    // Not `frame.withQuery`: with that nesting the optimizer vectorizes packedDot's relaxed sums for
    // bits 3, 5-7 differently, which changes the estimates' last bits.
    precondition(query.transformed.count == n, "query prepared for another quantizer")
    frame.withCodes(codes) { base, bytes, scale in
      query.transformed.withUnsafeBufferPointer { qb in
        let q = qb.baseAddress!
        for i in range {
          out[i - range.lowerBound] = scale![i] * packedDot(q, base + i * bytes, count: n, bits: bits, multiplier: a, offset: c)
        }
      }
    }
  }
}

/// Σ_j q_j · (a·index_j + c) over `n` packed indices. The widths that divide a byte (8, 4, 2, 1) get
/// straight loops over bytes that vectorize; the others split groups of 8 codes out of `bits` bytes.
/// (Faster here than the fixed-order C `Kernels.unpackDot`, whose point is bit-identity across levels.)
@inline(__always)
func packedDot(
  _ q: UnsafePointer<Float>, _ code: UnsafePointer<UInt8>, count n: Int, bits: Int, multiplier a: Int32, offset c: Int32
) -> Float {
  var sum: Float = 0
  switch bits {
  case 8 where a == 1:
    for j in 0..<n { sum = Relaxed.multiplyAdd(q[j], Float(Int32(code[j]) &+ c), sum) }
  case 4 where a == 1:
    for k in 0..<(n / 2) {
      let byte = Int32(code[k])
      sum = Relaxed.multiplyAdd(q[2 * k], Float((byte & 0xF) &+ c), sum)
      sum = Relaxed.multiplyAdd(q[2 * k + 1], Float((byte >> 4) &+ c), sum)
    }
    if n % 2 == 1 { sum = Relaxed.multiplyAdd(q[n - 1], Float(Int32(code[n / 2] & 0xF) &+ c), sum) }
  case 2 where a == 1:
    for k in 0..<(n / 4) {
      let byte = Int32(code[k])
      for t in 0..<4 { sum = Relaxed.multiplyAdd(q[4 * k + t], Float(((byte >> Int32(2 * t)) & 3) &+ c), sum) }
    }
    for j in (4 * (n / 4))..<n { sum = Relaxed.multiplyAdd(q[j], Float(Int32(PackReference.code(code, j, bits: 2)) &+ c), sum) }
  case 1 where a == 2 && c == -1:
    // Values ±1: a clear bit flips the query coordinate's sign bit (Σ ±q_j without a multiply).
    for k in 0..<(n / 8) {
      let flips = UInt32(~code[k])
      for t in 0..<8 {
        sum = Relaxed.sum(sum, Float(bitPattern: q[8 * k + t].bitPattern ^ (((flips >> UInt32(t)) & 1) << 31)))
      }
    }
    for j in (8 * (n / 8))..<n { sum = Relaxed.multiplyAdd(q[j], Float(a &* Int32(PackReference.code(code, j, bits: 1)) &+ c), sum) }
  // Literal widths, so that the group loop specializes (shifts and byte counts become constants).
  case 3: sum = groupedDot(q, code, count: n, bits: 3, multiplier: a, offset: c)
  case 5: sum = groupedDot(q, code, count: n, bits: 5, multiplier: a, offset: c)
  case 6: sum = groupedDot(q, code, count: n, bits: 6, multiplier: a, offset: c)
  case 7: sum = groupedDot(q, code, count: n, bits: 7, multiplier: a, offset: c)
  default: sum = groupedDot(q, code, count: n, bits: bits, multiplier: a, offset: c)
  }
  return sum
}

/// Σ_j q_j · (a·index_j + c) for any width: 8 codes fill exactly `bits` bytes, so each group of 8
/// is read as one word and split by shifts.
@inline(__always)
func groupedDot(
  _ q: UnsafePointer<Float>, _ code: UnsafePointer<UInt8>, count n: Int, bits: Int, multiplier a: Int32, offset c: Int32
) -> Float {
  var sum: Float = 0
  forEachPackedIndex(code, count: n, bits: bits) { j, index in sum = Relaxed.multiplyAdd(q[j], Float(a &* index &+ c), sum) }
  return sum
}

/// Calls `body` with a literal bit width, so that the packed loops below specialize per width.
@inline(__always)
func withConstantBits<R>(_ bits: Int, _ body: (Int) -> R) -> R {
  switch bits {
  case 1: return body(1)
  case 2: return body(2)
  case 3: return body(3)
  case 4: return body(4)
  case 5: return body(5)
  case 6: return body(6)
  case 7: return body(7)
  default: return body(8)
  }
}

/// `body(j, index_j)` for the `n` codes of `bits` bits packed LSB-first (the `PackReference` layout):
/// 8 codes fill exactly `bits` bytes, so each group of 8 is read as one word and split by shifts.
@inline(__always)
func forEachPackedIndex(
  _ code: UnsafePointer<UInt8>, count n: Int, bits: Int, _ body: (Int, Int32) -> Void
) {
  let mask: UInt64 = (1 << UInt64(bits)) - 1
  let groups = n / 8
  for g in 0..<groups {
    let p = code + g * bits
    var word: UInt64 = 0
    for k in 0..<bits { word |= UInt64(p[k]) << UInt64(8 * k) }
    for t in 0..<8 {
      body(8 * g + t, Int32(truncatingIfNeeded: (word >> UInt64(t * bits)) & mask))
    }
  }
  for j in (8 * groups)..<n { body(j, Int32(PackReference.code(code, j, bits: bits))) }
}
