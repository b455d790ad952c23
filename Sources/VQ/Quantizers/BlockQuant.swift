/// blockquant:bits=b[,block=p][,scale=unbiased|biased|none]: rotation, then blocks of p coordinates coded
/// by the nearest of 2^(b·p) codewords of a data-oblivious k-means codebook, with EDEN's scales.
///
/// Paper: H. Ann, J. Lee, M. Oh, "Block-Sphere Vector Quantization" (arXiv:2605.19972, 2026; we could read
/// only its abstract). This is the reconstruction of research/rotation.md §5.2–5.3 (the codebook is the
/// k-means solution for the exact block marginal of a uniform unit vector; EDEN's three scales).
///
/// Algorithm (n = coded dimension after the rotation, m = ⌈n/p⌉ blocks, one Float side value `scale`):
/// 1. rotate: y = Π·pad(x) (randomized Hadamard, 3 rounds by default) and standardize s = y·√n/‖y‖;
/// 2. each block of p values of s gets the index of its nearest codeword in `BlockCodebook` (n, p, b)
///    (a last partial block is zero-filled); c = the concatenated codewords;
/// 3. scale S = ‖y‖²/⟨y,c⟩ (unbiased), ⟨y,c⟩/‖c‖² (biased: least MSE) or ‖y‖/√n (none, TurboQuant-style);
/// 4. decode x̂ = Πᵀ(S·c);
/// 5. estimate ⟨q,x⟩ ≈ S·Σ_blocks T_k[index_k], with one lookup table T_k[j] = ⟨(Πq)_block k, codeword j⟩
///    per block, built once per query by `prepare`.
///
/// Guarantee (uniform random rotation): the unbiased scale gives E[x̂] = x (EDEN's argument: the code is a
/// deterministic function of the rotated direction and S = 1/⟨z,c/‖…‖⟩ undoes the projection); the
/// biased NMSE is the codebook's block distortion, below scalar Lloyd–Max at equal bits (rotation.md
/// §7 item 22 at n = 1536: b1p4 0.340, b2p2 0.107, b2p4 0.097, b3p2 0.030 against 0.3634, 0.1175, 0.1175,
/// 0.0345), and unbiased vNMSE ≈ D/(1−D). Default p: the largest divisor of n with b·p ≤ 12.
public struct BlockQuant: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "blockquant",
    summary: "BlockQuant: rotation + k-means codebook of 2^(b*p) points for p-blocks of the sphere marginal + EDEN scale",
    family: "rotation + vector",
    parameters: [
      SpecParameter("bits", .integer(1...8), default: "2", summary: "bits per (padded) coordinate", alwaysShown: true),
      SpecParameter("block", .integer(0...12), default: "0",
                    summary: "coordinates per block p (bits*p <= 12); 0: the largest divisor of n with bits*p <= 12"),
      SpecParameter("scale", .choice(["unbiased", "biased", "none"]), default: "unbiased",
                    summary: "unbiased: S = |y|^2/<y,c>; biased: S = <y,c>/|c|^2 (least MSE); none: S = |y|/sqrt(n)"),
    ] + Rotations.parameters(defaultKind: .hadamard),
    validate: { spec in
      let b = spec.int("bits"), p = spec.int("block")
      if p > 0 && b * p > BlockCodebook.maximumIndexBits {
        throw VQError.invalidSpec(
          "blockquant: bits*block = \(b)*\(p) = \(b * p) is out of range (allowed: at most \(BlockCodebook.maximumIndexBits), 4096 codewords)")
      }
    }
  ) { spec, dimension in try BlockQuant(spec: spec, dimension: dimension) }

  /// EDEN's per-vector scales, shared by the block and lattice quantizers.
  public enum Scale: String, Sendable {
    case unbiased, biased, none

    /// S from ‖y‖², the projection ⟨y,c⟩ and ‖c‖² (c in standardized units, n coded coordinates).
    @inline(__always)
    func value(normSquared: Float, projection: Float, codeNormSquared: Float, n: Int) -> Float {
      guard normSquared > 0 else { return 0 }
      switch self {
      case .unbiased: return projection > 0 ? normSquared / projection : 0
      case .biased: return codeNormSquared > 0 ? projection / codeNormSquared : 0
      case .none: return (normSquared / Float(n)).squareRoot()
      }
    }
  }

  public let spec: QuantizerSpec
  public let dimension: Int
  public let bits: Int
  public let blockSize: Int
  public let scale: Scale
  public let codebook: BlockCodebook
  let frame: RotatedCodingFrame

  public init(spec: QuantizerSpec, dimension: Int) throws {
    self.spec = spec
    self.dimension = dimension
    bits = spec.int("bits")
    scale = Scale(rawValue: spec.string("scale")) ?? .unbiased
    frame = RotatedCodingFrame(spec: spec, dimension: dimension)
    let n = frame.n
    let requested = spec.int("block")
    blockSize = requested > 0 ? Swift.min(requested, n) : BlockCodebook.defaultBlockSize(dimension: n, bits: bits)
    guard bits * blockSize <= BlockCodebook.maximumIndexBits else {
      throw VQError.invalidSpec("blockquant: bits*block = \(bits * blockSize) exceeds \(BlockCodebook.maximumIndexBits)")
    }
    codebook = try BlockCodebook.cached(dimension: n, blockSize: blockSize, bits: bits)
  }

  /// The coded (padded) dimension n.
  public var codedDimension: Int { frame.n }
  /// Number of blocks, ⌈n/p⌉.
  public var blockCount: Int { (frame.n + blockSize - 1) / blockSize }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: CodeLayout.packedBytes(count: blockCount, bits: codebook.indexBits), sideFields: ["scale"])
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    let n = frame.n, p = blockSize, m = blockCount, width = codebook.indexBits
    let bytes = layout.bytesPerCode, scale = scale, book = codebook
    let root = Float(Double(n).squareRoot())
    try book.codewords.withUnsafeBufferPointer { words in
      // Scratch: the m·p standardized block values (the last block zero-filled), m scores, m indices.
      try frame.encode(x, layout: layout, scratchFloats: m * p + 2 * m, into: &codes) { y, normSquared, code, side, work in
        code.update(repeating: 0, count: bytes)
        let norm = normSquared.squareRoot()
        let standardize = norm > 0 ? root / norm : 0
        for j in 0..<n { work[j] = y[j] * standardize }
        for j in n..<(m * p) { work[j] = 0 }
        let scores = work + m * p
        (scores + m).withMemoryRebound(to: Int32.self, capacity: m) { indices in
          book.assign(work, count: m, indices: indices, scores: scores)
          var projection: Float = 0, codeNormSquared: Float = 0
          for b in 0..<m {
            let index = Int(indices[b])
            BitField.write(index, into: code, bitOffset: b * width, width: width)
            let c = words.baseAddress! + index * p, start = b * p
            for j in 0..<Swift.min(p, n - start) {
              projection += y[start + j] * c[j]
              codeNormSquared += c[j] * c[j]
            }
          }
          side[0] = scale.value(normSquared: normSquared, projection: projection, codeNormSquared: codeNormSquared, n: n)
        }
      }
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.n, p = blockSize, m = blockCount, width = codebook.indexBits
    let scales = codes.withUnsafeSide(0) { Array($0) }
    codebook.codewords.withUnsafeBufferPointer { words in
      frame.decode(codes, scratchFloats: 0, into: &out) { i, code, y, _ in
        let s = scales[i]
        for b in 0..<m {
          let index = BitField.read(code, bitOffset: b * width, width: width)
          let c = words.baseAddress! + index * p, start = b * p
          for j in 0..<Swift.min(p, n - start) { y[start + j] = s * c[j] }
        }
      }
    }
  }

  /// The rotated query and one table per block: `lookupTable[b·K + j] = ⟨(Πq)_block b, codeword j⟩`.
  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    let q = frame.rotate(query: query)
    let n = frame.n, p = blockSize, m = blockCount, k = codebook.count
    var table = [Float](repeating: 0, count: m * k)
    q.withUnsafeBufferPointer { qs in
      codebook.transposedCodewords.withUnsafeBufferPointer { t in
        table.withUnsafeMutableBufferPointer { out in
          for b in 0..<m {
            let row = out.baseAddress! + b * k
            for j in 0..<Swift.min(p, n - b * p) {
              let v = qs[b * p + j], column = t.baseAddress! + j * k
              for c in 0..<k { row[c] += v * column[c] }
            }
          }
        }
      }
    }
    return PreparedQuery(dimension: dimension, transformed: q, lookupTable: table)
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let m = blockCount, k = codebook.count, width = codebook.indexBits, bytes = codes.layout.bytesPerCode
    precondition(query.lookupTable.count == m * k, "query prepared for another quantizer")
    codes.withUnsafeCodes { raw in
      codes.withUnsafeSide(0) { scales in
        query.lookupTable.withUnsafeBufferPointer { table in
          let t = table.baseAddress!
          for i in range {
            let code = raw.baseAddress! + i * bytes
            var sum: Float = 0
            for b in 0..<m { sum += t[b * k + BitField.read(code, bitOffset: b * width, width: width)] }
            out[i - range.lowerBound] = scales[i] * sum
          }
        }
      }
    }
  }
}
