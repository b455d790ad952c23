/// e8:bits=2[,scale=unbiased|biased|none]: rotation, then QuIP#'s E8P lattice codebook (2^16 points of
/// E8 + ¼) on every 8 coordinates, with one per-vector scale.
///
/// Paper: A. Tseng, J. Chee, Q. Sun, V. Kuleshov, C. De Sa, "QuIP#: Even Better LLM Quantization with
/// Hadamard Incoherence and Lattice Codebooks" (ICML 2024, arXiv:2402.04396). research/geometry.md §3.2.
///
/// Algorithm (n = coded dimension, ⌈n/8⌉ blocks of 16 bits, one Float side value `scale`):
/// 1. rotate: y = Π·pad(x) and standardize s = y·√n/‖y‖ (≈ N(0,1) coordinates; a last partial block is
///    zero-filled);
/// 2. each block: index = the E8P codeword nearest to 1.04·s (exact search, `E8PCodebook.encode`);
/// 3. c = codeword/1.04 (standardized units); scale S as in EDEN (unbiased ‖y‖²/⟨y,c⟩, biased
///    ⟨y,c⟩/‖c‖², none ‖y‖/√n);
/// 4. decode x̂ = Πᵀ(S·c), each block by table lookup (pattern, signs, parity, shift);
/// 5. estimate ⟨q,x⟩ ≈ S·Σ_blocks ⟨(Πq)_block, c_block⟩ (decoded on the fly: 8 lookups per block).
///
/// Guarantee: on N(0,1) coordinates the codebook's MSE is 0.0913 per coordinate at 2 bits (Lloyd–Max:
/// 0.1175, Shannon: 0.0625), so with a uniform random rotation NMSE ≈ 0.091 (scale none or biased) and,
/// with the unbiased scale, E[x̂] = x and vNMSE ≈ D/(1−D) ≈ 0.10.
public struct E8P: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "e8",
    summary: "E8P (QuIP#): rotation + 2^16-point E8 lattice codebook per 8 coordinates + EDEN scale",
    family: "rotation + lattice",
    parameters: [
      SpecParameter("bits", .integer(2...2), default: "2", summary: "bits per coordinate (E8P is a 2-bit code)", alwaysShown: true),
      SpecParameter("scale", .choice(["unbiased", "biased", "none"]), default: "unbiased",
                    summary: "unbiased: S = |y|^2/<y,c>; biased: S = <y,c>/|c|^2 (least MSE); none: S = |y|/sqrt(n)"),
    ] + Rotations.parameters(defaultKind: .hadamard)
  ) { spec, dimension in try E8P(spec: spec, dimension: dimension) }

  /// The codebook is applied to 1.04·s: the best single scale for N(0,1) (geometry.md §3.2).
  public static let codebookScale = 1.04

  public let spec: QuantizerSpec
  public let dimension: Int
  public let scale: BlockQuant.Scale
  let frame: RotatedCodingFrame
  let codebook = E8PCodebook.shared

  public init(spec: QuantizerSpec, dimension: Int) throws {
    self.spec = spec
    self.dimension = dimension
    scale = BlockQuant.Scale(rawValue: spec.string("scale")) ?? .unbiased
    frame = RotatedCodingFrame(spec: spec, dimension: dimension)
  }

  public var codedDimension: Int { frame.n }
  public var blockCount: Int { (frame.n + 7) / 8 }

  public var layout: CodeLayout { CodeLayout(bytesPerCode: 2 * blockCount, sideFields: ["scale"]) }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    let n = frame.n, m = blockCount, scale = scale, book = codebook
    let root = Double(n).squareRoot(), inner = Self.codebookScale
    let unscale = Float(1 / inner)
    try frame.encode(x, layout: layout, scratchFloats: 8, into: &codes) { y, normSquared, code, side, work in
      let norm = Double(normSquared).squareRoot()
      let standardize = norm > 0 ? root / norm * inner : 0
      var block = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
      var projection: Float = 0, codeNormSquared: Float = 0
      withUnsafeMutableBytes(of: &block) { raw in
        let s = raw.baseAddress!.assumingMemoryBound(to: Double.self)
        for b in 0..<m {
          let start = b * 8, width = Swift.min(8, n - start)
          for j in 0..<8 { s[j] = j < width ? Double(y[start + j]) * standardize : 0 }
          let index = book.encode(s)
          code[2 * b] = UInt8(truncatingIfNeeded: index)
          code[2 * b + 1] = UInt8(truncatingIfNeeded: index >> 8)
          book.decode(index, into: work, scale: unscale)
          for j in 0..<width {
            projection += y[start + j] * work[j]
            codeNormSquared += work[j] * work[j]
          }
        }
      }
      side[0] = scale.value(normSquared: normSquared, projection: projection, codeNormSquared: codeNormSquared, n: n)
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.n, m = blockCount, book = codebook
    let scales = codes.withUnsafeSide(0) { Array($0) }
    let unscale = Float(1 / Self.codebookScale)
    frame.decode(codes, scratchFloats: 8, into: &out) { i, code, y, work in
      let s = scales[i] * unscale
      for b in 0..<m {
        let index = Int(code[2 * b]) | Int(code[2 * b + 1]) << 8
        book.decode(index, into: work, scale: s)
        let start = b * 8
        for j in 0..<Swift.min(8, n - start) { y[start + j] = work[j] }
      }
    }
  }

  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    return PreparedQuery(dimension: dimension, transformed: frame.rotate(query: query))
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let n = frame.n, m = blockCount, bytes = codes.layout.bytesPerCode, book = codebook
    precondition(query.transformed.count == n, "query prepared for another quantizer")
    let unscale = Float(1 / Self.codebookScale)
    var word = [Float](repeating: 0, count: 8)
    codes.withUnsafeCodes { raw in
      codes.withUnsafeSide(0) { scales in
        query.transformed.withUnsafeBufferPointer { q in
          word.withUnsafeMutableBufferPointer { w in
            for i in range {
              let code = raw.baseAddress! + i * bytes
              var sum: Float = 0
              for b in 0..<m {
                book.decode(Int(code[2 * b]) | Int(code[2 * b + 1]) << 8, into: w.baseAddress!, scale: 1)
                let start = b * 8
                for j in 0..<Swift.min(8, n - start) { sum += q[start + j] * w[j] }
              }
              out[i - range.lowerBound] = scales[i] * unscale * sum
            }
          }
        }
      }
    }
  }
}
