import VQKernels

/// RaBitQ's 1-bit stage scanned with FastScan (4-bit look-up tables, 32 codes per `vpshufb`).
///
/// Method: the sign plane b ∈ {0,1}^D of a code splits into D/4 nibbles, each a 4-bit sub-code of 4
/// consecutive rotated coordinates. For the rotated query q' the table of nibble m holds, for each of its 16
/// values c, L_m[c] = Σ_{t: bit t of c} q'_{4m+t}, so ⟨b, q'⟩ = Σ_m L_m[b_m]. The tables are quantized to
/// bytes, L_m[c] ≈ min_m + Δ·T_m[c] (min_m = the sum of the nibble's negative coordinates,
/// Δ = max_m Σ_t |q'_{4m+t}| / 255, T_m[c] = round((L_m[c] − min_m)/Δ) ∈ 0…255), summed exactly by
/// `Kernels.fastScanAccumulate` (S = Σ_m T_m[b_m]), and the 1-bit estimate is
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
    /// `pairCount · 32` bytes: the quantized tables, pair p = table 2p then table 2p+1.
    public let tables: [UInt8]
    /// Δ: one table unit in inner-product units.
    public let step: Float
    /// Σ_m min_m − ½·Σ_i q'_i: added to Δ·S to give ⟨b − ½, q'⟩.
    public let offset: Float
    /// ⟨centre, q⟩ (0 without a centre).
    public let centreDot: Float
    /// ‖q‖.
    public let queryNorm: Float
    /// M·Δ/2: the largest error of Δ·S + Σ min_m against ⟨b, q'⟩ (before the per-vector rescale).
    public let lutErrorBound: Float
  }

  /// The codes in FastScan blocks: the sign plane (`signBytes` bytes, 2 sub-codes each) blocked, the
  /// extended bits and side values kept flat (`FastScanCodes.remainder`).
  public func makeFastScanCodes(_ codes: CodeBuffer) -> FastScanCodes {
    precondition(codes.layout == layout, "codes were made by another quantizer (layout \(codes.layout))")
    return FastScanCodes(flat: codes, blockedBytes: signBytes)
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
    let step = widest / 255
    var tables = [UInt8](repeating: 0, count: 16 * tableCount)
    if step > 0 {
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 16) { entry in
        entry[0] = 0
        for m in 0..<tableCount {
          for c in 1..<16 {
            let highest = Int.bitWidth - 1 - c.leadingZeroBitCount
            let coordinate = 4 * m + highest
            entry[c] = coordinate < D ? entry[c ^ (1 << highest)] + Double(rotated[coordinate]) : entry[c ^ (1 << highest)]
          }
          for c in 0..<16 {
            let level = ((entry[c] - minimum[m]) / step).rounded(.toNearestOrEven)
            tables[16 * m + c] = UInt8(min(255, max(0, level)))
          }
        }
      }
    }
    let minimumSum = minimum.reduce(0, +)
    return FastScanQuery(
      tables: tables, step: Float(step), offset: Float(minimumSum - total / 2), centreDot: centreDot,
      queryNorm: queryNorm, lutErrorBound: Float(Double(tableCount) * step / 2))
  }

  /// 1-bit estimates of ⟨o, q⟩ for the 32 vectors of each block in `blockRange`: `out[32·(b − start) + v]`
  /// for vector `32·b + v` (`out` holds `32·blockRange.count` floats; entries past `codes.count` are
  /// padding). See the extension's documentation for the formula and the error bound.
  public func estimateInnerProductsFastScan(
    _ query: FastScanQuery, codes: FastScanCodes, blockRange: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    fastScan(query, codes: codes, blockRange: blockRange, estimates: out, lower: nil, upper: nil, epsilon: epsilon)
  }

  /// Estimates and an interval per vector: RaBitQ's sign-stage bound (as `estimateWithBounds(stage:
  /// .sign)`, without the query-rounding term: the float query is used) plus the LUT term r·M·Δ/2.
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
    precondition(codes.layout == layout && codes.blockedBytes == signBytes, "codes were not made by makeFastScanCodes of this quantizer")
    precondition(query.tables.count == 32 * signBytes, "query was not prepared by this quantizer")
    precondition(blockRange.lowerBound >= 0 && blockRange.upperBound <= codes.blockCount,
                 "block range \(blockRange) outside 0..<\(codes.blockCount)")
    let outputs = 32 * blockRange.count
    precondition(estimates.count >= outputs && (lower?.count ?? outputs) >= outputs && (upper?.count ?? outputs) >= outputs,
                 "output buffers shorter than 32 per block")
    guard !blockRange.isEmpty else { return }
    let remainder = codes.remainder
    let rescaleField = remainder.sideIndex(bits == 1 ? Field.rescale : Field.signRescale)
    let centreDotField = layout.sideFields.firstIndex(of: Field.centreDot)
    let count = codes.count, pairs = codes.pairCount, bytesPerBlock = codes.bytesPerBlock
    let step = query.step, offset = query.offset, centreDot = query.centreDot
    let lutBound = Double(query.lutErrorBound)
    let boundScale = epsilon / Double(max(paddedDimension - 1, 1)).squareRoot()
    let halfCodeNorm = Double(paddedDimension).squareRoot() / 2, queryNorm = Double(query.queryNorm)
    let chunk = Self.fastScanChunk
    codes.withUnsafeBlocks { blocks in
      query.tables.withUnsafeBufferPointer { tables in
        remainder.withUnsafeSide(0) { norms in
          remainder.withUnsafeSide(rescaleField) { rescales in
           remainder.withUnsafeSide(centreDotField ?? 0) { centreDots in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 32 * chunk) { sums in
              var block = blockRange.lowerBound
              while block < blockRange.upperBound {
                let n = min(chunk, blockRange.upperBound - block)
                Kernels.fastScanAccumulate(
                  blocks: blocks.baseAddress! + block * bytesPerBlock, blockCount: n, pairCount: pairs,
                  luts: tables.baseAddress!, into: sums.baseAddress!)
                let first = 32 * block, written = 32 * (block - blockRange.lowerBound)
                let valid = max(0, min(32 * n, count - first))
                let out = estimates.baseAddress! + written
                Kernels.fastScanAffine(sums.baseAddress!, count: valid, scale: rescales.baseAddress! + first, step: step,
                                       offset: offset, add: centreDot,
                                       adds: centreDotField == nil ? nil : centreDots.baseAddress! + first, into: out)
                for k in valid..<(32 * n) { out[k] = centreDot }
                if let lower, let upper {
                  for k in 0..<(32 * n) {
                    var halfWidth = 0.0
                    if k < valid {
                      let i = first + k
                      let norm = Double(norms[i]), rescale = Double(rescales[i])
                      if norm > 0, rescale > 0 {
                        let gamma = min(1, norm / (rescale * halfCodeNorm))
                        let spread = max(0, 1 / (gamma * gamma) - 1).squareRoot()
                        halfWidth = norm * queryNorm * spread * boundScale + rescale * lutBound
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
