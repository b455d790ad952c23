import VQKernels

/// RaBitQ, 1-bit and extended (B = 1…9 bits per coordinate).
///
/// Papers: Gao & Long, "RaBitQ: Quantizing High-Dimensional Vectors with a Theoretical Error Bound for
/// ANN Search" (SIGMOD 2024); Gao et al., "Practical and Asymptotically Optimal Quantization of
/// High-Dimensional Vectors in Euclidean Space for ANN Search" (extended RaBitQ, SIGMOD 2025).
/// Formulas and the numbers the tests reproduce: research/rotation.md §3 and §7.
///
/// Algorithm (per vector o, centre c = 0 unless given or fitted; r = o − c; everything after the rotation lives
/// in the rotated, possibly zero-padded, D-dimensional space):
/// 1. y = P·r with the spec's rotation (randomized Hadamard by default; pads to 2^k or 12·2^k).
/// 2. Sign plane b_i = [y_i > 0]. For B ≥ 2, magnitudes k_i = min(⌊t·|y_i|⌋, 2^{B−1}−1) with the
///    per-vector rescale t that maximizes the cosine between y and the code vector
///    x̄_i = ±(k_i + ½) — found exactly by `RaBitQRescaleSearch` (the optimum over all codes of the
///    grid lies on this one-parameter family).
/// 3. Store the factors that make ⟨x̄, q'⟩ an unbiased estimate of ⟨r, q⟩:
///    rescale = ‖r‖² / ⟨x̄, y⟩, so that est = ⟨c, q⟩ + rescale·⟨x̄, P·q⟩.
/// 4. The query is rotated once and quantized to `query-bits` bits with randomized rounding (unbiased);
///    ⟨x̄, q̃⟩ then comes from integer kernels: AND + popcount over the query's bit planes for the sign
///    plane, an integer dot product for the extended bits.
///
/// Guarantee (Thm 3.2 of the 1-bit paper, per vector and query): E[est] = ⟨o, q⟩ over the rotation, and
/// |est − ⟨o, q⟩| ≤ ‖r‖·‖q‖·√((1−γ²)/γ²)·ε0/√(D−1) with probability ≥ 1 − 2·exp(−c0·ε0²), where
/// γ = ⟨x̄, y⟩/(‖x̄‖‖y‖) is the stored cosine; `estimateWithBounds` returns this interval (plus the
/// query-rounding term). D·Var ≈ (π/2 − 1)(1 − a²) at 1 bit.
///
/// Code layout (per vector): the sign plane ⌈D/8⌉ bytes, then for B ≥ 2 the ex plane
/// ⌈D·(B−1)/8⌉ bytes (e_i = k_i if b_i else 2^{B−1}−1−k_i, so that the unsigned B-bit value
/// b_i·2^{B−1} + e_i minus (2^B−1)/2 is x̄_i, as in RaBitQ-Library and FAISS). Side values:
/// - B = 1: `norm` (‖r‖), `rescale` (‖r‖²/⟨x̄, y⟩); the cosine follows from ‖x̄‖ = √D/2.
/// - B ≥ 2: `norm`, `signRescale` (the sign plane's own rescale, for a cheap first pass and its bound),
///   `rescale` (the full code's) and `cosine` (γ of the full code).
/// - With a centre (`centre=mean`, or one given at construction), also `centreDot` = ⟨r, c⟩, exact.
/// - `bound=none` (B = 1 only) drops `norm`: 4 bytes less per vector, the bytes of FAISS's IndexRaBitQ
///   (48 + 8 at d = 384 with a centre). The estimates are the same bits (they use only `rescale` and
///   `centreDot`); what goes is what needs ‖r‖: the error bound (`estimateWithBounds` returns ±∞) and
///   the MSE-optimal decode (decode then uses the unbiased scale, r̂ = P^T·rescale·x̄, whose norm is ‖r‖/γ).
///
/// Centred estimate (as FAISS's IndexRaBitQ): ⟨o, q⟩ = ⟨c, q⟩ + ⟨r, c⟩ + ⟨r, q − c⟩, with only the last
/// term estimated, from the rotated centred query P·(q − c). Estimating ⟨r, q⟩ from P·q instead would also
/// estimate ⟨r, c⟩ with the code's noise; on MiniLM (|mean| ≈ 0.24) the exact term lifts 1-bit recall@10
/// by about 0.01 (0.701 → 0.709–0.716 over three Haar rotations in a numpy check, FAISS 0.716). The bound
/// then carries ‖q − c‖ in place of ‖q‖.
public struct RaBitQ: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "rabitq",
    summary: "RaBitQ: rotation, 1-bit sign code + extended bits with per-vector optimal rescale; unbiased, error bound",
    family: "rotation + scalar",
    parameters: [
      SpecParameter("bits", .integer(1...9), default: "1", summary: "bits per coordinate (1 = sign code)", alwaysShown: true),
      SpecParameter(
        "query-bits", .choice(["auto"] + (1...maxQueryBits).map(String.init)), default: "auto",
        summary: "bits of the quantized query (auto: bits+3 clamped to 4...12; 4 is the paper's 1-bit default)"),
      SpecParameter("eps", .real(0...20), default: "1.9", summary: "ε0 of the per-vector error bound"),
      SpecParameter(
        "centre", .choice(["none", "mean"]), default: "none",
        summary: "quantize x − c: none (c = 0, data-oblivious) or the mean of the fit sample (as FAISS's IndexRaBitQ)"),
      SpecParameter(
        "bound", .choice(["stored", "none"]), default: "stored",
        summary: "stored: keep ‖x − c‖ for the error bound and the MSE decode; none (bits=1): 4 bytes less, same estimates, no bound"),
    ] + Rotations.parameters(defaultKind: .hadamard),
    validate: { spec in
      if spec.string("bound") == "none" && spec.int("bits") != 1 {
        throw VQError.invalidSpec(
          "rabitq: bound=none needs bits=1, got bits=\(spec.int("bits")) (from 2 bits on the index screens with the sign stage's bound)")
      }
    }
  ) { spec, dimension in RaBitQ(spec: spec, dimension: dimension) }

  /// The largest query precision (the extended kernel takes query values below 2^15).
  public static let maxQueryBits = 12

  public let spec: QuantizerSpec
  public let dimension: Int
  /// Bits per coordinate B (1…9): one sign bit plus B − 1 extended bits.
  public let bits: Int
  /// Bits of the quantized query.
  public let queryBits: Int
  /// ε0 of the error bound.
  public let epsilon: Double
  public let rotation: any Rotation
  /// The centre the vectors are quantized relative to (nil: the origin): given at construction (the
  /// IVF index's list centroids) or learnt by `fit` with `centre=mean`. The estimate adds ⟨centre, q⟩
  /// back.
  public private(set) var centre: [Float]?
  /// Whether `fit` learns the centre (`centre=mean`).
  public var learnsCentre: Bool { spec.string("centre") == "mean" }
  public let layout: CodeLayout

  /// Dimension after the rotation (the code has this many coordinates).
  public var paddedDimension: Int { rotation.outputDimension }
  /// Extra bits per coordinate beyond the sign.
  public var extendedBits: Int { bits - 1 }
  /// Largest magnitude level 2^{B−1} − 1.
  var maxLevel: Int32 { Int32((1 << extendedBits) - 1) }
  /// Bytes of the sign plane.
  public var signBytes: Int { (paddedDimension + 7) / 8 }
  /// Bytes of the extended plane (0 for B = 1).
  public var extendedBytes: Int { CodeLayout.packedBytes(count: paddedDimension, bits: extendedBits) }

  /// Side field names (see the type's documentation).
  public enum Field {
    public static let norm = "norm"
    public static let rescale = "rescale"
    public static let signRescale = "signRescale"
    public static let cosine = "cosine"
    public static let centreDot = "centreDot"
  }

  /// Whether codes carry `centreDot` and queries are centred (a centre is given or learnt).
  public var isCentred: Bool { centre != nil || learnsCentre }

  /// Whether codes carry `norm` (‖r‖), which the error bound and the MSE-optimal decode need
  /// (`bound=stored`, the default).
  public var storesNorm: Bool { spec.string("bound") != "none" }

  /// The stream the query's randomized rounding draws from (mixed with a hash of the query).
  static let queryRoundingStream: UInt64 = 0x5241_4251_5152   // "RABQQR"

  public init(spec: QuantizerSpec, dimension: Int, centre: [Float]? = nil) {
    precondition(centre == nil || centre!.count == dimension, "centre must have the quantizer's dimension")
    self.spec = spec
    self.dimension = dimension
    bits = spec.int("bits")
    let requested = spec.string("query-bits")
    queryBits = requested == "auto" ? Self.automaticQueryBits(bits: spec.int("bits")) : Int(requested)!
    epsilon = spec.double("eps")
    rotation = Rotations.make(spec, dimension: dimension)
    self.centre = centre
    let D = rotation.outputDimension
    let fields = (spec.string("bound") == "none" ? [] : [Field.norm])
      + (bits == 1 ? [Field.rescale] : [Field.signRescale, Field.rescale, Field.cosine])
      + (centre != nil || spec.string("centre") == "mean" ? [Field.centreDot] : [])
    layout = CodeLayout(
      bytesPerCode: (D + 7) / 8 + CodeLayout.packedBytes(count: D, bits: bits - 1), sideFields: fields)
  }

  /// Builds from a spec string (`rabitq:bits=4`).
  public init(_ text: String, dimension: Int, centre: [Float]? = nil) throws {
    let spec = try QuantizerSpec(text)
    guard spec.name == Self.method.name else { throw VQError.invalidSpec("'\(text)' is not a rabitq spec") }
    guard dimension > 0 else { throw VQError.invalidArgument("dimension must be positive, got \(dimension)") }
    if let centre, centre.count != dimension {
      throw VQError.dimensionMismatch(expected: dimension, got: centre.count, what: "centre")
    }
    self.init(spec: spec, dimension: dimension, centre: centre)
  }

  /// `query-bits=auto`: B + 3 clamped to 4…12, so the query's rounding noise stays well below the
  /// code's (the paper's 4 bits at B = 1; FAISS uses 4 or 8 for the sign stage and a float query
  /// for the extended bits).
  public static func automaticQueryBits(bits: Int) -> Int { min(max(bits + 3, 4), maxQueryBits) }

  // MARK: Fit

  /// With `centre=mean`, learns the centre as the mean of `sample` (accumulated in Double); a no-op
  /// otherwise (the method is data-oblivious).
  public mutating func fit(_ sample: VectorBatch) throws {
    guard learnsCentre else { return }
    try validateInput(sample, source: "fit sample")
    guard sample.count > 0 else { throw VQError.invalidArgument("rabitq:centre=mean: the fit sample is empty") }
    var sum = [Double](repeating: 0, count: dimension)
    sample.withUnsafeBufferPointer { v in
      for i in 0..<sample.count {
        for j in 0..<dimension { sum[j] += Double(v[i * dimension + j]) }
      }
    }
    centre = sum.map { Float($0 / Double(sample.count)) }
  }

  /// Throws when `centre=mean` has not been fitted.
  func checkFitted() throws {
    if learnsCentre, centre == nil {
      throw VQError.invalidArgument("\(spec.description): call fit(_:) first (centre=mean learns the centre from data)")
    }
  }

  // MARK: Encode

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try checkFitted()
    try validateInput(x)
    codes = CodeBuffer(layout: layout, count: x.count)
    guard x.count > 0 else { return }
    let D = paddedDimension, d = dimension, n = x.count
    let chunk = min(n, 64)
    var factors = [[Float]](repeating: [Float](repeating: 0, count: n), count: layout.sideFields.count)
    let fields = layout.sideFields
    let normField = fields.firstIndex(of: Field.norm), rescaleField = fields.firstIndex(of: Field.rescale)!
    let signRescaleField = fields.firstIndex(of: Field.signRescale), cosineField = fields.firstIndex(of: Field.cosine)
    var search = RaBitQRescaleSearch(dimension: D, extendedBits: extendedBits)
    var residual = [Float](repeating: 0, count: centre == nil ? 0 : chunk * d)
    var rotated = [Float](repeating: 0, count: chunk * D)
    let bytesPerCode = layout.bytesPerCode
    codes.withUnsafeMutableCodes { codeBytes in
      x.withUnsafeBufferPointer { input in
        rotated.withUnsafeMutableBufferPointer { y in
          var start = 0
          while start < n {
            let rows = min(chunk, n - start)
            let source = input.baseAddress! + start * d
            if let centre {
              residual.withUnsafeMutableBufferPointer { r in
                for row in 0..<rows {
                  var dot = 0.0
                  for j in 0..<d {
                    let v = source[row * d + j] - centre[j]
                    r[row * d + j] = v
                    dot += Double(v) * Double(centre[j])
                  }
                  factors[factors.count - 1][start + row] = Float(dot)
                }
                rotation.apply(r.baseAddress!, count: rows, into: y.baseAddress!)
              }
            } else {
              rotation.apply(source, count: rows, into: y.baseAddress!)
            }
            for row in 0..<rows {
              let f = encodeRow(
                y.baseAddress! + row * D, into: codeBytes.baseAddress! + (start + row) * bytesPerCode, search: &search)
              let i = start + row
              if let normField { factors[normField][i] = f.norm }
              factors[rescaleField][i] = f.rescale
              if bits > 1 {
                factors[signRescaleField!][i] = f.signRescale
                factors[cosineField!][i] = f.cosine
              }
            }
            start += rows
          }
        }
      }
    }
    for f in 0..<factors.count {
      codes.withUnsafeMutableSide(f) { dst in
        factors[f].withUnsafeBufferPointer { src in dst.baseAddress!.update(from: src.baseAddress!, count: n) }
      }
    }
  }

  /// Codes one rotated vector (`paddedDimension` floats, scaled in place by a power of two when its
  /// magnitude is extreme) and returns its factors.
  func encodeRow(
    _ y: UnsafeMutablePointer<Float>, into code: UnsafeMutablePointer<UInt8>, search: inout RaBitQRescaleSearch
  ) -> (norm: Float, signRescale: Float, rescale: Float, cosine: Float) {
    let D = paddedDimension
    var t: Float = 0
    var unscale = 1.0
    if bits > 1 {
      let found = search.bestRescale(y)
      t = found.t
      unscale = found.unscale
    }
    let extended: UnsafeMutablePointer<UInt8>? = bits > 1 ? code + signBytes : nil
    let sums = Kernels.rabitqQuantize(y, count: D, t: t, exBits: extendedBits, signs: code, ex: extended)
    let squares = sums.squares * unscale * unscale
    let codeDot = sums.codeDot * unscale
    guard squares > 0, codeDot > 0 else { return (0, 0, 0, 0) }
    let norm = squares.squareRoot()
    let signDot = 0.5 * sums.absoluteSum * unscale
    return (
      norm: Float(norm),
      signRescale: Float(squares / signDot),
      rescale: Float(squares / codeDot),
      cosine: Float(min(1, codeDot / (sums.codeSquares.squareRoot() * norm)))
    )
  }

  // MARK: Decode

  /// Reconstructs each vector with the MSE-optimal (biased) scale: r̂ = P^T·(⟨x̄, y⟩/‖x̄‖²)·x̄, the
  /// projection of the rotated vector on its code direction (‖r̂‖ = γ‖r‖, normalized MSE 1 − γ²;
  /// rotation.md §1). The estimator uses the unbiased scale ‖r‖²/⟨x̄, y⟩ instead; decoding with it
  /// would inflate norms by 1/γ, and is what `bound=none` codes (no ‖r‖) decode with.
  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try checkFitted()
    try validateCodes(codes)
    out = VectorBatch(dimension: dimension, count: codes.count)
    guard codes.count > 0 else { return }
    let D = paddedDimension, d = dimension, n = codes.count
    let chunk = min(n, 64)
    let norms = storesNorm ? codes.side(Field.norm) : nil, rescales = codes.side(Field.rescale)
    var rotated = [Float](repeating: 0, count: chunk * D)
    let bytesPerCode = layout.bytesPerCode
    codes.withUnsafeCodes { codeBytes in
      out.withUnsafeMutableBufferPointer { output in
        rotated.withUnsafeMutableBufferPointer { y in
          var start = 0
          while start < n {
            let rows = min(chunk, n - start)
            for row in 0..<rows {
              let i = start + row
              let code = codeBytes.baseAddress! + i * bytesPerCode
              let target = y.baseAddress! + row * D
              var codeSquares = 0.0
              for j in 0..<D {
                let value = codeValue(code, j)
                target[j] = value
                codeSquares += Double(value) * Double(value)
              }
              let rescale = Double(rescales[i])
              // Without ‖r‖ (`bound=none`): the unbiased scale.
              let scale = rescale <= 0 ? 0 : norms.map { Float(Double($0[i]) * Double($0[i]) / (rescale * codeSquares)) } ?? Float(rescale)
              for j in 0..<D { target[j] *= scale }
            }
            rotation.applyInverse(y.baseAddress!, count: rows, into: output.baseAddress! + start * d)
            if let centre {
              for row in 0..<rows {
                for j in 0..<d { output[(start + row) * d + j] += centre[j] }
              }
            }
            start += rows
          }
        }
      }
    }
  }

  // MARK: Query

  /// Rotates the query and quantizes it to `queryBits` bits on [min, max] of its rotated coordinates
  /// with randomized rounding (u_i = ⌊(q'_i − lo)/Δ + U_i⌋, U_i uniform; E[lo + Δ·u_i] = q'_i, which keeps
  /// the estimate unbiased; the uniforms come from the spec's seed and a hash of the query, so the same
  /// query always prepares the same way).
  ///
  /// `quantized` holds the `queryBits` bit planes (`signBytes` each, padded to 8 bytes), then the
  /// values u_i as little-endian UInt16. `factors` = [lo, Δ, Σu div 2^16, Σu mod 2^16, ‖q − c‖, ⟨c, q⟩]
  /// (c = 0 without a centre). With a centre the rotated query is P·(q − c) (see the type's documentation).
  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    let (rotated, norm, centreDot) = try rotate(query: query)
    let D = paddedDimension
    var lo = rotated[0], hi = rotated[0]
    for v in rotated {
      lo = min(lo, v)
      hi = max(hi, v)
    }
    let levels = (1 << queryBits) - 1
    let step = (hi - lo) / Float(levels)
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for v in query {
      hash = (hash ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3
    }
    var generator = SeededGenerator(seed: spec.uint64("seed"), stream: Self.queryRoundingStream ^ hash)
    let planeBytes = (queryBits * signBytes + 7) / 8 * 8
    var quantized = [UInt8](repeating: 0, count: planeBytes + 2 * D)
    var total = 0
    quantized.withUnsafeMutableBufferPointer { bytes in
      let planes = bytes.baseAddress!
      let values = UnsafeMutableRawPointer(planes + planeBytes)
      for i in 0..<D {
        var u = 0
        if step > 0 {
          let x = (Double(rotated[i]) - Double(lo)) / Double(step)
          u = min(levels, max(0, Int((x + generator.nextUniform()).rounded(.down))))
        }
        total += u
        values.storeBytes(of: UInt16(u).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        for j in 0..<queryBits where (u >> j) & 1 == 1 {
          planes[j * signBytes + (i >> 3)] |= UInt8(1) << UInt8(i & 7)
        }
      }
    }
    return PreparedQuery(
      dimension: dimension, transformed: rotated, quantized: quantized,
      factors: [lo, step, Float(total >> 16), Float(total & 0xFFFF), norm, centreDot])
  }

  /// The query's half of `prepare` that every scan needs: the rotated (centred) query P·(q − c), ‖q − c‖
  /// and ⟨c, q⟩ (c = 0 without a centre), after the fit and input checks. The FastScan 1-bit path stops
  /// here; it never uses the quantized query.
  public func rotate(query: UnsafeBufferPointer<Float>) throws -> (rotated: [Float], norm: Float, centreDot: Float) {
    try checkFitted()
    try validateQuery(query)
    var rotated = [Float](repeating: 0, count: paddedDimension)
    var squares = 0.0, centreDot = 0.0
    if let centre {
      var centred = [Float](repeating: 0, count: dimension)
      for (j, v) in query.enumerated() {
        centred[j] = v - centre[j]
        squares += Double(centred[j]) * Double(centred[j])
        centreDot += Double(v) * Double(centre[j])
      }
      rotated.withUnsafeMutableBufferPointer { rotation.apply(centred, count: 1, into: $0.baseAddress!) }
    } else {
      for v in query { squares += Double(v) * Double(v) }
      rotated.withUnsafeMutableBufferPointer { rotation.apply(query.baseAddress!, count: 1, into: $0.baseAddress!) }
    }
    return (rotated, Float(squares.squareRoot()), Float(centreDot))
  }
}
