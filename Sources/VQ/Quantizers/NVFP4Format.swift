/// nvfp4: NVIDIA's NVFP4 (NVIDIA Blackwell / Transformer Engine; "Pretraining Large Language Models
/// with NVFP4", arXiv:2509.25149): blocks of 16 E2M1 elements, each block with an FP8 E4M3 scale,
/// on top of one FP32 scale per vector.
///
/// Algorithm (one Float side value `global_scale` per vector; block scales inside the code):
/// 1. optionally rotate (`rotation=hadamard|haar`, zero-padded to the rotation's size); cut the n
///    coordinates into blocks of 16 (the last may be shorter);
/// 2. g = max_b amax_b / (6·448), so the largest block scale is E4M3's largest value 448;
/// 3. per block, s_b = E4M3(amax_b / 6 / g) (RNE, saturating), decoded back to its value;
/// 4. elements c_j = E2M1(x_j · (1/(s_b·g))), RNE, saturating at ±6 (a block whose scale rounds to
///    0 stores zeros);
/// 5. code = ⌈n/16⌉ E4M3 bytes, then ⌈n/2⌉ bytes of nibbles (low = even j); decode
///    x̂_j = (s_b·g)·E2M1⁻¹(c_j); the estimate is Σ_b (s_b·g) · Σ_{j∈b} q_j · table[c_j].
///
/// Known error (geometry.md §1.5, uniform unit vectors): cosine loss 0.00443 at d = 128, 0.00452 at
/// d = 768, the best 4-bit product format measured there: the E4M3 block scale puts each block's
/// largest element within a few percent of 6 (MXFP4 wastes up to a binade). 4 + 8/16 = 4.5 bits per
/// coordinate + 32 bits of global scale.
public struct NVFP4Format: ProductFormat {
  public static let method = QuantizerMethod(
    name: "nvfp4", summary: "NVFP4: E2M1 in blocks of 16 with E4M3 block scales and an FP32 vector scale",
    family: "product format", parameters: Rotations.parameters(defaultKind: .none)
  ) { spec, dimension in NVFP4Format(spec: spec, dimension: dimension) }

  /// Elements per block scale.
  public static let blockSize = 16

  public let spec: QuantizerSpec
  public let dimension: Int
  let frame: ProductFormatFrame
  /// The value of every E4M3 byte.
  let scaleTable: [Float]

  public init(spec: QuantizerSpec, dimension: Int) {
    self.spec = spec
    self.dimension = dimension
    frame = ProductFormatFrame(spec: spec, dimension: dimension)
    scaleTable = MiniFloat.e4m3.values
  }

  var blockCount: Int { (frame.codedDimension + Self.blockSize - 1) / Self.blockSize }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: blockCount + (frame.codedDimension + 1) / 2, sideFields: ["global_scale"])
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    let n = frame.codedDimension, blocks = blockCount, size = Self.blockSize
    scaleTable.withUnsafeBufferPointer { table in
      frame.encode(x, layout: layout, into: &codes) { row, code, scratch in
        let g = absmaxScale(absoluteMaximum(row, count: n), top: 6 * 448)
        for b in 0..<blocks {
          let start = b * size, count = Swift.min(size, n - start)
          let amax = absoluteMaximum(row + start, count: count)
          let byte = g > 0 ? UInt8(truncatingIfNeeded: MiniFloat.e4m3.encode(amax / 6 / g)) : 0
          code[b] = byte
          let blockScale = table[Int(byte)] * g
          if blockScale > 0 {
            scaledIntoScratch(row + start, count: count, scale: blockScale, into: scratch + start)
          } else {
            for j in 0..<count { scratch[start + j] = 0 }
          }
        }
        E2M1Nibbles.pack(scratch, count: n, into: code + blocks)
        return g
      }
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.codedDimension, blocks = blockCount, size = Self.blockSize
    scaleTable.withUnsafeBufferPointer { table in
      frame.decode(codes, into: &out) { code, g, y in
        for b in 0..<blocks {
          let start = b * size
          E2M1Nibbles.decode(
            code + blocks + start / 2, count: Swift.min(size, n - start), scale: table[Int(code[b])] * g, into: y + start)
        }
      }
    }
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let n = frame.codedDimension, blocks = blockCount, size = Self.blockSize
    frame.withQuery(query, codes: codes) { q, base, bytes, globalScale in
      scaleTable.withUnsafeBufferPointer { scales in
        E2M1Nibbles.withTable { table in
          for i in range {
            let code = base + i * bytes, g = globalScale![i]
            var total: Float = 0
            for b in 0..<blocks {
              let start = b * size
              let blockSum = E2M1Nibbles.dot(q + start, code + blocks + start / 2, count: Swift.min(size, n - start), table: table)
              total += (scales[Int(code[b])] * g) * blockSum
            }
            out[i - range.lowerBound] = total
          }
        }
      }
    }
  }
}
