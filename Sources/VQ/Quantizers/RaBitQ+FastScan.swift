import VQKernels

/// RaBitQ's 1-bit stage scanned with FastScan (4-bit look-up tables, 32 codes per `vpshufb`).
///
/// Method: the sign plane b ∈ {0,1}^D of a code splits into D/4 nibbles, each a 4-bit sub-code of 4
/// consecutive rotated coordinates. For the rotated query q' the table of nibble m holds, for each of its 16
/// values c, L_m[c] = Σ_{t: bit t of c} q'_{4m+t}, so ⟨b, q'⟩ = Σ_m L_m[b_m]. The tables are quantized,
/// L_m[c] ≈ min_m + Δ·T_m[c] (min_m = the sum of the nibble's negative coordinates, Δ = max_m Σ_t
/// |q'_{4m+t}| / T, T_m[c] = round((L_m[c] − min_m)/Δ) ∈ 0…T, T = `fastScanTableMaximum`: 127 at B ≤ 2,
/// 255 at B ≥ 3), summed exactly by `Kernels.fastScanAccumulateNarrow` (7-bit tables: two look-ups add as
/// bytes before widening) or `Kernels.fastScanAccumulate` (S = Σ_m T_m[b_m]), and the 1-bit estimate is
///   est = r·(Δ·S + Σ_m min_m − ½·Σ_i q'_i) + ⟨c, q⟩ + ⟨o − c, c⟩,
/// with r the sign stage's rescale (`rescale` at B = 1, `signRescale` at B ≥ 2), c the centre (q' then
/// rotates q − c) and ⟨o − c, c⟩ the code's exact `centreDot` (0 without a centre).
///
/// Guarantee (LUT quantization): |Δ·S + Σ min_m − ⟨b, q'⟩| ≤ M·Δ/2 with M = 2·⌈D/8⌉ tables (each entry is
/// rounded to the nearest step), so the estimate differs from the exact 1-bit estimate with the float
/// query, r·⟨b − ½, q'⟩ + ⟨c, q⟩, by at most r·M·Δ/2 (`FastScanQuery.lutErrorBound` is M·Δ/2), plus float
/// rounding (relative 1e-6). In practice the rounding errors are independent and the error is near
/// r·Δ·√(M/12). Unlike the bit-plane estimator (randomized query rounding), this is deterministic and not
/// exactly unbiased; the bound makes it safe for re-ranking: `estimateWithBoundsFastScan` widens RaBitQ's
/// interval by the LUT term.
///
/// At B = 2 the extended plane (one bit e_i per coordinate, x̄_i = 2b_i + e_i − 3/2) is blocked too and
/// scanned with the same tables, quantized with step 2Δ so that one byte sum weighs the sign plane twice:
/// S = Σ_m T_m[b_m] + Σ_m T'_m[e_m] with T'_m[c] = round((L_m[c] − min_m)/(2Δ)), and
///   est = r·(2Δ·S + 3·(Σ_m min_m − ½·Σ_i q'_i)) + ⟨c, q⟩ + ⟨o − c, c⟩
/// is the full 2-bit estimate (r = `rescale`), within r·2·M·Δ of the exact one with the float query (each
/// plane contributes M·Δ). Two table passes over every row cost less than the sign pass with bounds plus
/// full estimates of the rows the bounds cannot drop, at every depth on MiniLM; from B = 3 on, B − 1
/// extended planes would each need their own pass and the exact integer estimate of the few surviving
/// rows wins, so the scan covers the sign plane only (`fastScanCoversFullCode`).
///
/// API for an index (the extended bits and every side value stay flat in `FastScanCodes.remainder`):
/// ```swift
/// let blocked = rabitq.makeFastScanCodes(codes)             // once, after encoding
/// let fq = try rabitq.prepareFastScan(query: q)              // per query (or prepareFastScan(prepared))
/// rabitq.estimateInnerProductsFastScan(fq, codes: blocked, blockRange: 0..<blocked.blockCount, into: out)
/// // out[32·b + v] = estimate of vector 32·b + v (ignore entries ≥ blocked.count); re-rank the best with
/// // estimateInnerProducts (full code) or the original vectors.
/// ```
extension RaBitQ {
  /// A query prepared for the FastScan 1-bit scan.
  public struct FastScanQuery: Sendable {
    /// `pairCount · 32` bytes: the quantized tables, pair p = table 2p then table 2p+1 (at B = 2 the
    /// extended plane's tables follow the sign plane's).
    public let tables: [UInt8]
    /// One unit of the byte sum S in ⟨x̄, q'⟩'s units: Δ (2Δ at B = 2).
    public let step: Float
    /// Added to step·S to give ⟨x̄, q'⟩: Σ_m min_m − ½·Σ_i q'_i (three times that at B = 2).
    public let offset: Float
    /// ⟨centre, q⟩ (0 without a centre).
    public let centreDot: Float
    /// ‖q‖.
    public let queryNorm: Float
    /// The largest error of step·S + offset against ⟨x̄, q'⟩ (before the per-vector rescale): M·Δ/2
    /// for the sign plane, 2·M·Δ at B = 2.
    public let lutErrorBound: Float
  }

  /// Whether the FastScan estimate is the full code's (B = 1, and B = 2 with its extended plane blocked
  /// too) rather than the sign stage's (B ≥ 3).
  public var fastScanCoversFullCode: Bool { bits <= 2 }

  /// The bit planes FastScan blocks and scans: the sign plane, and at B = 2 the extended plane.
  var fastScanPlanes: Int { bits == 2 ? 2 : 1 }

  /// The largest table entry: 127 (7-bit tables) when the scan ranks by the full code (B ≤ 2), so the
  /// narrow kernel adds two look-ups in a byte (about 18 % fewer operations per pair; on MiniLM flat
  /// search 1.04–1.13× faster, recall@10 within 0.001); 255 for the sign stage at B ≥ 3, whose
  /// bounds the doubled rounding would widen (more rows refined: 0.93× at flat 4-bit, depth 100).
  public var fastScanTableMaximum: Int { fastScanCoversFullCode ? 127 : 255 }

  /// The side field FastScan's estimate scales by: the full code's `rescale` when the scan covers the
  /// full code, else the sign stage's `signRescale`.
  public var fastScanRescaleField: String { fastScanCoversFullCode ? Field.rescale : Field.signRescale }

  /// ‖r‖·√(1/γ² − 1)·ε0/√(D − 1) for one code: the query-independent factor of RaBitQ's bound on the
  /// FastScan estimate, γ the scanned code's cosine (`cosine`, stored for the 2-bit code; from ‖x̄‖ = √D/2
  /// for the sign plane). Times ‖q‖, plus r·`lutErrorBound`, it is the interval's half-width. 0 for a zero
  /// vector.
  func fastScanBoundFactor(norm: Double, rescale: Double, cosine: Double?, epsilon: Double) -> Double {
    guard norm > 0, rescale > 0 else { return 0 }
    let D = Double(paddedDimension)
    let gamma = cosine ?? min(1, norm / (rescale * D.squareRoot() / 2))
    return norm * max(0, 1 / (gamma * gamma) - 1).squareRoot() * epsilon / max(D - 1, 1).squareRoot()
  }

  /// `fastScanBoundFactor` of every code at the spec's ε0 (+∞ for every code without ‖r‖, `bound=none`:
  /// no bound), for a scan that screens by the FastScan interval.
  public func fastScanBoundFactors(_ codes: CodeBuffer) -> [Float] {
    precondition(codes.layout == layout, "codes were made by another quantizer (layout \(codes.layout))")
    guard storesNorm else { return [Float](repeating: .infinity, count: codes.count) }
    let norms = codes.side(Field.norm), rescales = codes.side(fastScanRescaleField)
    let cosines = bits == 2 ? codes.side(Field.cosine) : nil
    return (0..<codes.count).map { i in
      Float(fastScanBoundFactor(
        norm: Double(norms[i]), rescale: Double(rescales[i]), cosine: cosines.map { Double($0[i]) }, epsilon: epsilon))
    }
  }

  /// The codes in FastScan blocks: the sign plane (`signBytes` bytes, 2 sub-codes each; at B = 2 also the
  /// extended plane) blocked, the other extended bits and the side values kept flat
  /// (`FastScanCodes.remainder`).
  public func makeFastScanCodes(_ codes: CodeBuffer) -> FastScanCodes {
    precondition(codes.layout == layout, "codes were made by another quantizer (layout \(codes.layout))")
    return FastScanCodes(flat: codes, blockedBytes: fastScanPlanes * signBytes)
  }

  /// Prepares `query` for `estimateInnerProductsFastScan`: the rotation of `prepare(query:)` without its
  /// quantized query (the same tables as `prepareFastScan(prepare(query:))`, at a fraction of the cost).
  public func prepareFastScan(query: UnsafeBufferPointer<Float>) throws -> FastScanQuery {
    let (rotated, norm, centreDot) = try rotate(query: query)
    return fastScanQuery(rotated: rotated, queryNorm: norm, centreDot: centreDot)
  }

  /// The FastScan tables of a query already prepared by this quantizer (its rotated coordinates).
  public func prepareFastScan(_ query: PreparedQuery) -> FastScanQuery {
    precondition(query.transformed.count == paddedDimension && query.factors.count == 6,
                 "query was not prepared by this quantizer")
    return fastScanQuery(rotated: query.transformed, queryNorm: query.factors[4], centreDot: query.factors[5])
  }

  /// Builds the tables from the rotated query q' (D coordinates). Entry c of table m is the sum of the
  /// q'_{4m+t} over the set bits t of c, in increasing t, so entry c = entry (c without its highest bit) +
  /// q'_{4m+highest}: the same Double additions in the same order as summing bit by bit, 16 per table
  /// instead of 64 tests.
  func fastScanQuery(rotated: [Float], queryNorm: Float, centreDot: Float) -> FastScanQuery {
    let D = paddedDimension
    let pairs = signBytes, tableCount = 2 * pairs
    var minimum = [Double](repeating: 0, count: tableCount)
    var range = [Double](repeating: 0, count: tableCount)
    var total = 0.0
    for i in 0..<D {
      let v = Double(rotated[i])
      total += v
      minimum[i >> 2] += min(v, 0)
      range[i >> 2] += abs(v)
    }
    let widest = range.max() ?? 0
    let step = widest / Double(fastScanTableMaximum)
    // Plane p's tables use step·weight(0)/weight(p): at B = 2 the extended plane's entries are halved.
    let planes = fastScanPlanes
    var tables = [UInt8](repeating: 0, count: 16 * tableCount * planes)
    if step > 0 {
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 16) { entry in
        entry[0] = 0
        for m in 0..<tableCount {
          for c in 1..<16 {
            let highest = Int.bitWidth - 1 - c.leadingZeroBitCount
            let coordinate = 4 * m + highest
            entry[c] = coordinate < D ? entry[c ^ (1 << highest)] + Double(rotated[coordinate]) : entry[c ^ (1 << highest)]
          }
          for plane in 0..<planes {
            let planeStep = step * Double(1 << plane)
            for c in 0..<16 {
              let level = ((entry[c] - minimum[m]) / planeStep).rounded(.toNearestOrEven)
              tables[16 * (plane * tableCount + m) + c] = UInt8(min(Double(fastScanTableMaximum), max(0, level)))
            }
          }
        }
      }
    }
    let minimumSum = minimum.reduce(0, +)
    // One sum unit is Δ in the sign plane's units; with the extended plane (weights 2 and 1), 2Δ in
    // ⟨x̄, q'⟩'s units, and the offset counts Σ min − ½·Σq' once per unit of weight (3).
    let unit = planes == 2 ? 2 * step : step
    let offsetWeight: Double = planes == 2 ? 3 : 1
    return FastScanQuery(
      tables: tables, step: Float(unit), offset: Float(offsetWeight * (minimumSum - total / 2)), centreDot: centreDot,
      queryNorm: queryNorm, lutErrorBound: Float(Double(planes * tableCount) * unit / 2))
  }

  /// Estimates of ⟨o, q⟩ (the sign stage's, or the full code's when `fastScanCoversFullCode`) for the 32
  /// vectors of each block in `blockRange`: `out[32·(b − start) + v]`
  /// for vector `32·b + v` (`out` holds `32·blockRange.count` floats; entries past `codes.count` are
  /// padding). See the extension's documentation for the formula and the error bound.
  public func estimateInnerProductsFastScan(
    _ query: FastScanQuery, codes: FastScanCodes, blockRange: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    fastScan(query, codes: codes, blockRange: blockRange, estimates: out, lower: nil, upper: nil, epsilon: epsilon)
  }

  /// Estimates and an interval per vector: RaBitQ's bound for the scanned code (as `estimateWithBounds`
  /// with `stage: .sign`, or `.full` at B ≤ 2, without the query-rounding term: the float query is used)
  /// plus the LUT term r·`lutErrorBound`.
  public func estimateWithBoundsFastScan(
    _ query: FastScanQuery, codes: FastScanCodes, blockRange: Range<Int>, epsilon: Double? = nil,
    estimates: UnsafeMutableBufferPointer<Float>, lower: UnsafeMutableBufferPointer<Float>,
    upper: UnsafeMutableBufferPointer<Float>
  ) {
    fastScan(query, codes: codes, blockRange: blockRange, estimates: estimates, lower: lower, upper: upper,
             epsilon: epsilon ?? self.epsilon)
  }

  /// Blocks per kernel call: the integer sums of one call live in a stack buffer.
  static var fastScanChunk: Int { 64 }

  func fastScan(
    _ query: FastScanQuery, codes: FastScanCodes, blockRange: Range<Int>, estimates: UnsafeMutableBufferPointer<Float>,
    lower: UnsafeMutableBufferPointer<Float>?, upper: UnsafeMutableBufferPointer<Float>?, epsilon: Double
  ) {
    precondition(codes.layout == layout && codes.blockedBytes == fastScanPlanes * signBytes,
                 "codes were not made by makeFastScanCodes of this quantizer")
    precondition(query.tables.count == 32 * fastScanPlanes * signBytes, "query was not prepared by this quantizer")
    precondition(blockRange.lowerBound >= 0 && blockRange.upperBound <= codes.blockCount,
                 "block range \(blockRange) outside 0..<\(codes.blockCount)")
    let outputs = 32 * blockRange.count
    precondition(estimates.count >= outputs && (lower?.count ?? outputs) >= outputs && (upper?.count ?? outputs) >= outputs,
                 "output buffers shorter than 32 per block")
    guard !blockRange.isEmpty else { return }
    let remainder = codes.remainder
    let rescaleField = remainder.sideIndex(fastScanRescaleField)
    let cosineField = bits == 2 ? remainder.sideIndex(Field.cosine) : rescaleField
    let centreDotField = layout.sideFields.firstIndex(of: Field.centreDot)
    let normField = layout.sideFields.firstIndex(of: Field.norm)
    let count = codes.count, pairs = codes.pairCount, bytesPerBlock = codes.bytesPerBlock
    let step = query.step, offset = query.offset, centreDot = query.centreDot
    let lutBound = Double(query.lutErrorBound)
    let queryNorm = Double(query.queryNorm)
    let chunk = Self.fastScanChunk
    let narrowTables = fastScanTableMaximum <= 127
    codes.withUnsafeBlocks { blocks in
      query.tables.withUnsafeBufferPointer { tables in
        remainder.withUnsafeSide(normField ?? 0) { norms in
          remainder.withUnsafeSide(rescaleField) { rescales in
           remainder.withUnsafeSide(cosineField) { cosines in
           remainder.withUnsafeSide(centreDotField ?? 0) { centreDots in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 32 * chunk) { sums in
              var block = blockRange.lowerBound
              while block < blockRange.upperBound {
                let n = min(chunk, blockRange.upperBound - block)
                if narrowTables {
                  Kernels.fastScanAccumulateNarrow(
                    blocks: blocks.baseAddress! + block * bytesPerBlock, blockCount: n, pairCount: pairs,
                    luts: tables.baseAddress!, into: sums.baseAddress!)
                } else {
                  Kernels.fastScanAccumulate(
                    blocks: blocks.baseAddress! + block * bytesPerBlock, blockCount: n, pairCount: pairs,
                    luts: tables.baseAddress!, into: sums.baseAddress!)
                }
                let first = 32 * block, written = 32 * (block - blockRange.lowerBound)
                let valid = max(0, min(32 * n, count - first))
                let out = estimates.baseAddress! + written
                Kernels.fastScanAffine(sums.baseAddress!, count: valid, scale: rescales.baseAddress! + first, step: step,
                                       offset: offset, add: centreDot,
                                       adds: centreDotField == nil ? nil : centreDots.baseAddress! + first, into: out)
                for k in valid..<(32 * n) { out[k] = centreDot }
                if let lower, let upper {
                  for k in 0..<(32 * n) {
                    // Without ‖r‖ (`bound=none`) there is no bound: the interval is (−∞, ∞).
                    var halfWidth = normField == nil ? Double.infinity : 0.0
                    if k < valid, normField != nil {
                      let i = first + k
                      let norm = Double(norms[i]), rescale = Double(rescales[i])
                      if norm > 0, rescale > 0 {
                        let factor = fastScanBoundFactor(
                          norm: norm, rescale: rescale, cosine: bits == 2 ? Double(cosines[i]) : nil, epsilon: epsilon)
                        halfWidth = factor * queryNorm + rescale * lutBound
                      }
                    }
                    lower[written + k] = Float(Double(out[k]) - halfWidth)
                    upper[written + k] = Float(Double(out[k]) + halfWidth)
                  }
                }
                block += n
              }
            }
           }
           }
          }
        }
      }
    }
  }
}
