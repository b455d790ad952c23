/// e8-voronoi:bits=b[,scales=k][,scale=unbiased|biased|none]: rotation, then the nested-lattice (Voronoi)
/// code E8/qE8 (q = 2^b) on every 8 coordinates, each block choosing the best of k lattice scales.
///
/// Papers: J. H. Conway, N. J. A. Sloane, "A fast encoding method for lattice codes and quantizers"
/// (IEEE Trans. IT 29(6), 1983); S. Savkin, E. Porat, O. Ordentlich, Y. Polyanskiy, "NestQuant: Nested
/// Lattice Quantization for Matrix Products and LLMs" (ICML 2025, arXiv:2502.09720: Gosset-lattice Voronoi
/// codes with a union of scaled codebooks chosen per block). research/geometry.md §3.2.
///
/// Algorithm (n = coded dimension, ⌈n/8⌉ blocks of 8·b + log2 k bits, one Float side value `scale`):
/// 1. rotate y = Π·pad(x), standardize s = y·√n/‖y‖;
/// 2. per block and per lattice scale β_j (j < k): index_j = coordinates of NP_E8(s/β_j) mod q, and its
///    reconstruction β_j·v_j, v_j the representative of index_j in (qV(E8) + a) ∩ E8;
/// 3. keep the j with the least ‖s − β_j·v_j‖²; store index_j (8 fields of b bits) and j;
/// 4. scale S as in EDEN over the concatenated reconstructions c; decode x̂ = Πᵀ(S·c);
/// 5. estimate ⟨q,x⟩ ≈ S·Σ_blocks ⟨(Πq)_block, c_block⟩ (blocks decoded on the fly).
///
/// Guarantee: a Voronoi code has q^8 points and the granular gain of E8 (G = 0.0717 vs 1/12), but its
/// cube-like support region qV(E8) shapes a Gaussian poorly: with one scale it loses to scalar Lloyd–Max
/// at equal rate (N(0,1) MSE 0.230 / 0.057 / 0.0148 at b = 2/3/4 vs 0.1175 / 0.0345 / 0.0095, our
/// measurement). A union of scales fixes the overload at log2(k)/8 extra bits per coordinate (k = 4:
/// 0.084 / 0.019 / 0.0045 at 2.25 / 3.25 / 4.25 bits). Scales: β_j = β*(q)·lo(k)·ρ(k)^j, tuned on N(0,1).
public struct E8Voronoi: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "e8-voronoi",
    summary: "Nested E8/qE8 Voronoi lattice code per 8 coordinates with the best of k scales per block (NestQuant-style)",
    family: "rotation + lattice",
    parameters: [
      SpecParameter("bits", .integer(2...4), default: "2", summary: "bits per coordinate of the lattice index (q = 2^bits)", alwaysShown: true),
      SpecParameter("scales", .choice(["1", "2", "4", "8"]), default: "4",
                    summary: "lattice scales per block (adds log2(scales)/8 bits per coordinate)"),
      SpecParameter("scale", .choice(["unbiased", "biased", "none"]), default: "unbiased",
                    summary: "unbiased: S = |y|^2/<y,c>; biased: S = <y,c>/|c|^2 (least MSE); none: S = |y|/sqrt(n)"),
    ] + Rotations.parameters(defaultKind: .hadamard)
  ) { spec, dimension in try E8Voronoi(spec: spec, dimension: dimension) }

  /// The best single scale β*(q) for N(0,1) input, q = 4, 8, 16 (our scan, 20 000 blocks).
  static func baseScale(q: Int) -> Double {
    switch q { case 4: return 1.615; case 8: return 0.8265; default: return 0.418 }
  }

  /// The k lattice scales for q: β*·lo·ρ^j, (lo, ρ) from a grid search on N(0,1) (20 000 blocks).
  public static func latticeScales(q: Int, count k: Int) -> [Double] {
    let (lo, rho): (Double, Double)
    switch k {
    case 1: (lo, rho) = (1, 1)
    case 2: (lo, rho) = (0.7, 1.6)
    case 4: (lo, rho) = q == 4 ? (0.55, 1.3) : (0.5, 1.3)
    default: (lo, rho) = q == 4 ? (0.35, 1.2) : (0.45, 1.15)
    }
    var beta = baseScale(q: q) * lo
    var out: [Double] = []
    for _ in 0..<k { out.append(beta); beta *= rho }
    return out
  }

  /// The least squared error ‖x − β_j·v_j‖² over the scales, for one block of 8 values (tables, tests).
  public static func bestError(_ x: [Double], q: Int, scales: [Double]) -> Double {
    precondition(x.count == 8)
    var candidate = [Double](repeating: 0, count: 8), scratch = [Double](repeating: 0, count: 16)
    var k = [Int](repeating: 0, count: 8)
    var best = Double.infinity
    for beta in scales {
      for i in 0..<8 { candidate[i] = x[i] / beta }
      candidate.withUnsafeMutableBufferPointer { c in
        scratch.withUnsafeMutableBufferPointer { s in
          k.withUnsafeMutableBufferPointer { kk in
            E8Lattice.voronoiEncode(c.baseAddress!, q: q, into: kk.baseAddress!, scratch: s.baseAddress!)
            E8Lattice.voronoiDecode(kk.baseAddress!, q: q, into: c.baseAddress!, scratch: s.baseAddress!)
          }
        }
      }
      var e = 0.0
      for i in 0..<8 { let t = x[i] - beta * candidate[i]; e += t * t }
      best = Swift.min(best, e)
    }
    return best
  }

  public let spec: QuantizerSpec
  public let dimension: Int
  public let bits: Int
  public let scaleCount: Int
  public let scale: BlockQuant.Scale
  public let latticeScales: [Double]
  let frame: RotatedCodingFrame

  public init(spec: QuantizerSpec, dimension: Int) throws {
    self.spec = spec
    self.dimension = dimension
    bits = spec.int("bits")
    scaleCount = spec.int("scales")
    scale = BlockQuant.Scale(rawValue: spec.string("scale")) ?? .unbiased
    latticeScales = Self.latticeScales(q: 1 << bits, count: scaleCount)
    frame = RotatedCodingFrame(spec: spec, dimension: dimension)
  }

  public var codedDimension: Int { frame.n }
  public var blockCount: Int { (frame.n + 7) / 8 }
  /// Bits naming the scale of a block, log2 k.
  var scaleBits: Int { scaleCount.trailingZeroBitCount }
  var bitsPerBlock: Int { 8 * bits + scaleBits }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: CodeLayout.packedBytes(count: blockCount, bits: bitsPerBlock), sideFields: ["scale"])
  }

  /// Scratch doubles a block needs: input 8, candidate 8, best 8, lattice work 24; and 16 Ints.
  static let workDoubles = 48

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    let n = frame.n, m = blockCount, q = 1 << bits, b = bits, scale = scale
    let betas = latticeScales, width = bitsPerBlock, scaleBits = scaleBits, bytes = layout.bytesPerCode
    let root = Double(n).squareRoot()
    let work = UnsafeMutablePointer<Double>.allocate(capacity: Self.workDoubles)
    let ints = UnsafeMutablePointer<Int>.allocate(capacity: 16)
    defer { work.deallocate(); ints.deallocate() }
    try frame.encode(x, layout: layout, scratchFloats: 0, into: &codes) { y, normSquared, code, side, _ in
      code.update(repeating: 0, count: bytes)
      let norm = Double(normSquared).squareRoot()
      let standardize = norm > 0 ? root / norm : 0
      let s = work, candidate = work + 8, best = work + 16, lattice = work + 24
      var projection: Float = 0, codeNormSquared: Float = 0
      for block in 0..<m {
        let start = block * 8, used = Swift.min(8, n - start)
        for j in 0..<8 { s[j] = j < used ? Double(y[start + j]) * standardize : 0 }
        var bestError = Double.infinity, bestScale = 0
        for (j, beta) in betas.enumerated() {
          let inverse = 1 / beta
          for i in 0..<8 { candidate[i] = s[i] * inverse }
          E8Lattice.voronoiEncode(candidate, q: q, into: ints + 8, scratch: lattice)
          E8Lattice.voronoiDecode(ints + 8, q: q, into: candidate, scratch: lattice)
          var error = 0.0
          for i in 0..<8 { let e = s[i] - beta * candidate[i]; error += e * e }
          if error < bestError {
            bestError = error; bestScale = j
            for i in 0..<8 { ints[i] = ints[8 + i]; best[i] = beta * candidate[i] }
          }
        }
        let offset = block * width
        for i in 0..<8 { BitField.write(ints[i], into: code, bitOffset: offset + i * b, width: b) }
        if scaleBits > 0 { BitField.write(bestScale, into: code, bitOffset: offset + 8 * b, width: scaleBits) }
        for j in 0..<used {
          let c = Float(best[j])
          projection += y[start + j] * c
          codeNormSquared += c * c
        }
      }
      side[0] = scale.value(normSquared: normSquared, projection: projection, codeNormSquared: codeNormSquared, n: n)
    }
  }

  /// The 8 standardized reconstructions of block `block` of `code`, into `out` (work: 24 doubles, 8 ints).
  @inline(__always)
  func decodeBlock(_ code: UnsafePointer<UInt8>, block: Int, into out: UnsafeMutablePointer<Double>,
                   work: UnsafeMutablePointer<Double>, ints: UnsafeMutablePointer<Int>) {
    let offset = block * bitsPerBlock, b = bits
    for i in 0..<8 { ints[i] = BitField.read(code, bitOffset: offset + i * b, width: b) }
    let j = scaleBits > 0 ? BitField.read(code, bitOffset: offset + 8 * b, width: scaleBits) : 0
    E8Lattice.voronoiDecode(ints, q: 1 << b, into: out, scratch: work)
    let beta = latticeScales[j]
    for i in 0..<8 { out[i] *= beta }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.n, m = blockCount
    let scales = codes.withUnsafeSide(0) { Array($0) }
    let work = UnsafeMutablePointer<Double>.allocate(capacity: 32)
    let ints = UnsafeMutablePointer<Int>.allocate(capacity: 8)
    defer { work.deallocate(); ints.deallocate() }
    frame.decode(codes, scratchFloats: 0, into: &out) { i, code, y, _ in
      let s = scales[i]
      for block in 0..<m {
        decodeBlock(code, block: block, into: work + 24, work: work, ints: ints)
        let start = block * 8
        for j in 0..<Swift.min(8, n - start) { y[start + j] = s * Float(work[24 + j]) }
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
    let n = frame.n, m = blockCount, bytes = codes.layout.bytesPerCode
    precondition(query.transformed.count == n, "query prepared for another quantizer")
    let work = UnsafeMutablePointer<Double>.allocate(capacity: 32)
    let ints = UnsafeMutablePointer<Int>.allocate(capacity: 8)
    defer { work.deallocate(); ints.deallocate() }
    codes.withUnsafeCodes { raw in
      codes.withUnsafeSide(0) { scales in
        query.transformed.withUnsafeBufferPointer { q in
          for i in range {
            let code = raw.baseAddress! + i * bytes
            var sum = 0.0
            for block in 0..<m {
              decodeBlock(code, block: block, into: work + 24, work: work, ints: ints)
              let start = block * 8
              for j in 0..<Swift.min(8, n - start) { sum += Double(q[start + j]) * work[24 + j] }
            }
            out[i - range.lowerBound] = scales[i] * Float(sum)
          }
        }
      }
    }
  }
}
