/// mxfp4: OCP Microscaling MXFP4 (OCP "Microscaling Formats (MX) Specification" v1.0, 2023; Rouhani
/// et al., arXiv:2310.10537): blocks of 32 E2M1 elements sharing one E8M0 power-of-two scale.
///
/// Algorithm (no side floats: the scale bytes live in the code):
/// 1. optionally rotate (`rotation=hadamard|haar`, zero-padded to the rotation's size); cut the n
///    coordinates into blocks of 32 (the last may be shorter; one block if n < 32);
/// 2. per block, X = 2^(⌊log2 amax⌋ − 2) (2 = emax of E2M1), ⌊log2⌋ read exactly from the exponent
///    bits; an all-zero block gets the smallest scale 2^-127 (E8M0 byte 0);
/// 3. elements c_j = E2M1(x_j / X) (an exact power-of-two scaling), RNE, clamped at ±6: amax/X lies
///    in [4, 8), so at most the elements above 6·X saturate;
/// 4. code = ⌈n/32⌉ scale bytes (E8M0, 2^(byte − 127)), then ⌈n/2⌉ bytes of nibbles (low = even j);
///    decode x̂_j = X_b · E2M1⁻¹(c_j); the estimate is Σ_b X_b · Σ_{j∈b} q_j · table[c_j].
///
/// Known error (geometry.md §1.5, uniform unit vectors): cosine loss 0.00655 at d = 128, 0.00638 at
/// d = 768, about 1.1 bits from the spherical-code bound: the power-of-two scale wastes up to one
/// binade, so a block's largest element lands anywhere in [4, 8) and the grid is used unevenly.
/// 4 + 8/32 = 4.25 bits per coordinate.
public struct MXFP4Format: ProductFormat {
  public static let method = QuantizerMethod(
    name: "mxfp4", summary: "OCP MXFP4: E2M1 in blocks of 32 with an E8M0 power-of-two scale", family: "product format",
    parameters: Rotations.parameters(defaultKind: .none)
  ) { spec, dimension in MXFP4Format(spec: spec, dimension: dimension) }

  /// Elements per shared scale.
  public static let blockSize = 32

  public let spec: QuantizerSpec
  public let dimension: Int
  let frame: ProductFormatFrame

  public init(spec: QuantizerSpec, dimension: Int) {
    self.spec = spec
    self.dimension = dimension
    frame = ProductFormatFrame(spec: spec, dimension: dimension)
  }

  var blockCount: Int { (frame.codedDimension + Self.blockSize - 1) / Self.blockSize }

  public var layout: CodeLayout { CodeLayout(bytesPerCode: blockCount + (frame.codedDimension + 1) / 2) }

  /// The E8M0 byte of a block whose largest magnitude is `amax`: ⌊log2 amax⌋ − 2 + 127, at least 0.
  @inline(__always)
  public static func scaleByte(blockMaximum amax: Float) -> UInt8 {
    guard amax > 0 else { return 0 }
    return UInt8(Swift.max(ScalarCodecs.floorLog2(amax) - 2 + 127, 0))
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    let n = frame.codedDimension, blocks = blockCount, size = Self.blockSize
    frame.encode(x, layout: layout, into: &codes) { row, code, scratch in
      for b in 0..<blocks {
        let start = b * size, count = Swift.min(size, n - start)
        let byte = Self.scaleByte(blockMaximum: absoluteMaximum(row + start, count: count))
        code[b] = byte
        // x / X = x · 2^(127 − byte): exact (byte ≤ 254 keeps the factor ≥ 2^-127, a binary32 value).
        let inverse = ScalarCodecs.powerOfTwo(127 - Int(byte))
        for j in 0..<count { scratch[start + j] = row[start + j] * inverse }
      }
      E2M1Nibbles.pack(scratch, count: n, into: code + blocks)
      return 0
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.codedDimension, blocks = blockCount, size = Self.blockSize
    frame.decode(codes, into: &out) { code, _, y in
      for b in 0..<blocks {
        let start = b * size
        E2M1Nibbles.decode(
          code + blocks + start / 2, count: Swift.min(size, n - start),
          scale: ScalarCodecs.float(e8m0Bits: code[b]), into: y + start)
      }
    }
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let n = frame.codedDimension, blocks = blockCount, size = Self.blockSize
    frame.withQuery(query, codes: codes) { q, base, bytes, _ in
      E2M1Nibbles.withTable { table in
        for i in range {
          let code = base + i * bytes
          var total: Float = 0
          for b in 0..<blocks {
            let start = b * size
            let blockSum = E2M1Nibbles.dot(q + start, code + blocks + start / 2, count: Swift.min(size, n - start), table: table)
            total += ScalarCodecs.float(e8m0Bits: code[b]) * blockSum
          }
          out[i - range.lowerBound] = total
        }
      }
    }
  }
}
