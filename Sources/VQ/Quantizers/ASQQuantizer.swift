import RealModule

/// asq:levels=s[,approx=M][,polish=n][,seed=u] and qsgd:levels=s[,seed=u]: per-vector adaptive (or
/// uniform) levels with unbiased stochastic rounding, as a `VectorQuantizer`.
///
/// Papers: QUIVER (Ben Basat, Ben-Itzhak, Mitzenmacher, Vargaftik, NeurIPS 2024, arXiv:2402.03158) for
/// the levels; QSGD (Alistarh et al., NeurIPS 2017) for uniform levels with stochastic rounding;
/// research/asq-ipaware.md §2.
///
/// Algorithm (per vector x, s levels):
/// 1. levels: exact ASQ (sort + O(s·d log d) DP), or with `approx=M` the sort-free histogram DP
///    (+ `polish` coordinate-descent sweeps), or for `qsgd` the uniform grid on [min x, max x];
/// 2. the levels are stored as s Float side values `level0` … `level{s−1}` (data points and min/max are
///    Floats already; grid levels are rounded to Float, and the rounding uses the stored values);
/// 3. each coordinate is rounded unbiasedly to a neighbouring level (`ASQRounding`, generator seeded
///    by (seed, row)) and its index packed at ⌈log2 s⌉ bits;
/// 4. decode x̂_j = level[index_j]; estimate ⟨q, x⟩ ≈ Σ_j q_j·level[index_j] from the codes.
///
/// Guarantee: E[x̂] = x, E‖x̂ − x‖² = the level set's sum of variances (optimal for exact ASQ, within
/// the histogram bound for approx), so ⟨q, x̂⟩ is unbiased and averages down as 1/n. Storage per vector:
/// ⌈d·⌈log2 s⌉/8⌉ code bytes + 4·s bytes of levels (e.g. d = 384, s = 16: 192 + 64 = 256 bytes).
public struct ASQQuantizer: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "asq",
    summary: "adaptive stochastic quantization: per-vector optimal unbiased levels (QUIVER DP; approx=M: sort-free histogram)",
    family: "adaptive stochastic",
    parameters: [
      SpecParameter("levels", .integer(2...256), default: "16", summary: "levels per vector (index bits = ceil(log2 levels))", alwaysShown: true),
      SpecParameter("approx", .integer(0...(1 << 20)), default: "0",
                    summary: "0: exact DP on the sorted vector; M >= 2: DP on an M-point histogram (no sort)"),
      SpecParameter("polish", .integer(0...100), default: "0",
                    summary: "coordinate-descent sweeps after the histogram DP (on a 16x finer histogram)"),
      SpecParameter("seed", .unsigned, default: "42", summary: "seed of the stochastic rounding"),
    ],
    validate: { spec in
      let m = spec.int("approx")
      if m == 1 { throw VQError.invalidSpec("asq: approx must be 0 (exact) or at least 2 grid points, got 1") }
      if m == 0 && spec.int("polish") > 0 {
        throw VQError.invalidSpec("asq: polish applies to the histogram (approx=M); the exact DP is already optimal")
      }
    }
  ) { spec, dimension in ASQQuantizer(spec: spec, dimension: dimension, kind: .adaptive) }

  public static let qsgdMethod = QuantizerMethod(
    name: "qsgd",
    summary: "uniform levels on [min x, max x] with unbiased stochastic rounding (QSGD-style baseline for asq)",
    family: "adaptive stochastic",
    parameters: [
      SpecParameter("levels", .integer(2...256), default: "16", summary: "levels per vector (index bits = ceil(log2 levels))", alwaysShown: true),
      SpecParameter("seed", .unsigned, default: "42", summary: "seed of the stochastic rounding"),
    ]
  ) { spec, dimension in ASQQuantizer(spec: spec, dimension: dimension, kind: .uniform) }

  public enum Kind: Sendable { case adaptive, uniform }

  public let spec: QuantizerSpec
  public let dimension: Int
  public let kind: Kind
  public let levelCount: Int
  /// Histogram grid points (0: exact).
  public let gridPoints: Int
  public let polishSweeps: Int
  public let seed: UInt64
  public let indexBits: Int

  public init(spec: QuantizerSpec, dimension: Int, kind: Kind) {
    self.spec = spec
    self.dimension = dimension
    self.kind = kind
    levelCount = spec.int("levels")
    gridPoints = kind == .adaptive ? spec.int("approx") : 0
    polishSweeps = kind == .adaptive ? spec.int("polish") : 0
    seed = spec.uint64("seed")
    indexBits = ASQRounding.indexBits(levels: levelCount)
  }

  public var layout: CodeLayout {
    CodeLayout(bytesPerCode: CodeLayout.packedBytes(count: dimension, bits: indexBits),
               sideFields: (0..<levelCount).map { "level\($0)" })
  }

  /// The level set this quantizer uses for one vector (Doubles of the stored Floats).
  public func levels(for row: UnsafeBufferPointer<Float>) throws -> [Double] {
    let solution: ASQ.Solution
    switch kind {
    case .uniform: solution = try ASQ.uniformLevels(row, levels: levelCount)
    case .adaptive where gridPoints >= 2:
      solution = try ASQ.approximateLevels(row, levels: levelCount, gridPoints: gridPoints, polishSweeps: polishSweeps)
    case .adaptive: solution = try ASQ.exactLevels(row, levels: levelCount)
    }
    // Stored as Float: monotone rounding keeps them sorted; min and max are Floats already.
    return solution.levels.map { Double(Float($0)) }
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    let s = levelCount, bytes = layout.bytesPerCode
    var out = CodeBuffer(layout: layout, count: x.count)
    var allLevels = [Float](repeating: 0, count: s * x.count)
    try out.withUnsafeMutableCodes { codeBytes in
      for i in 0..<x.count {
        try x.withRow(i) { row in
          let levels = try self.levels(for: row)
          for l in 0..<s { allLevels[l * x.count + i] = Float(levels[l]) }
          var generator = SeededGenerator(seed: seed, stream: UInt64(i))
          levels.withUnsafeBufferPointer { q in
            ASQRounding.roundAndPack(row, levels: q, bits: indexBits, generator: &generator, into: codeBytes.baseAddress! + i * bytes)
          }
        }
      }
    }
    for l in 0..<s {
      out.withUnsafeMutableSide(l) { side in
        for i in 0..<x.count { side[i] = allLevels[l * x.count + i] }
      }
    }
    codes = out
  }

  /// Calls `body(i, code, table)` for each code `i` in `range` with its level table.
  private func forEachCode(_ codes: CodeBuffer, range: Range<Int>, _ body: (Int, UnsafePointer<UInt8>, UnsafePointer<Float>) -> Void) {
    let s = levelCount, bytes = layout.bytesPerCode
    var table = [Float](repeating: 0, count: s)
    codes.withUnsafeCodes { codeBytes in
      for i in range {
        for l in 0..<s { table[l] = codes.withUnsafeSide(l) { $0[i] } }
        table.withUnsafeBufferPointer { body(i, codeBytes.baseAddress! + i * bytes, $0.baseAddress!) }
      }
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let d = dimension, bits = indexBits
    var result = VectorBatch(dimension: d, count: codes.count)
    result.withUnsafeMutableBufferPointer { y in
      forEachCode(codes, range: 0..<codes.count) { i, code, table in
        let row = y.baseAddress! + i * d
        withConstantBits(bits) { b in forEachPackedIndex(code, count: d, bits: b) { j, index in row[j] = table[Int(index)] } }
      }
    }
    out = result
  }

  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    return PreparedQuery(dimension: dimension, transformed: Array(query))
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(query.transformed.count == dimension, "query prepared for another quantizer")
    let d = dimension, bits = indexBits
    query.transformed.withUnsafeBufferPointer { qb in
      let q = qb.baseAddress!
      forEachCode(codes, range: range) { i, code, table in
        var sum: Float = 0
        withConstantBits(bits) { b in
          forEachPackedIndex(code, count: d, bits: b) { j, index in sum = Relaxed.multiplyAdd(q[j], table[Int(index)], sum) }
        }
        out[i - range.lowerBound] = sum
      }
    }
  }
}
