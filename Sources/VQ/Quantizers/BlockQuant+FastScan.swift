import VQKernels

/// BlockQuant with 16 codewords per block (b·p = 4: `bits=1,block=4` or `bits=2,block=2`) scanned with
/// FastScan (4-bit look-up tables, 32 codes per `vpshufb`; research/rotation.md §5.3).
///
/// Method: such a code is a list of m = ⌈n/p⌉ 4-bit block indices packed two per byte, low nibble first
/// (`BitField`), which is exactly the sub-code order of `FastScanCodes`, so the whole code goes into
/// FastScan blocks unchanged. The query's per-block float tables L_k[j] = ⟨(Πq)_block k, codeword j⟩
/// (`prepare(query:)`) are quantized to bytes by `FastScanTables` (L_k[j] ≈ min_k + Δ·T_k[j]), the kernel
/// sums S = Σ_k T_k[c_k] exactly in integers, and the estimate of vector i is
///   est_i = scale_i · (Δ·S + Σ_k min_k),
/// computed by `Kernels.fastScanAffine` (each operation rounded on its own).
///
/// Guarantee: |Δ·S + Σ_k min_k − Σ_k L_k[c_k]| ≤ `FastScanTables.errorBound` = M·Δ/2 (M = m rounded up to
/// even), so est_i differs from the exact lookup-table estimate `estimateInnerProducts` by at most
/// |scale_i|·M·Δ/2 plus float rounding; in practice ≈ |scale_i|·Δ·√(M/12). Re-ranking the best candidates
/// with the original vectors removes the effect on the final order.
///
/// API (the scale side values stay flat in `FastScanCodes.remainder`):
/// ```swift
/// let blocked = blockquant.makeFastScanCodes(codes)            // once, after encoding
/// let tables = blockquant.prepareFastScan(try blockquant.prepare(query: q))
/// blockquant.estimateInnerProductsFastScan(tables, codes: blocked, blockRange: 0..<blocked.blockCount, into: out)
/// // out[32·b + v] = estimate for vector 32·b + v (entries ≥ blocked.count are padding)
/// ```
extension BlockQuant {
  /// Whether codes of this quantizer can be scanned with FastScan: 16 codewords per block.
  public var supportsFastScan: Bool { codebook.indexBits == 4 }

  /// The codes in FastScan blocks (every code byte blocked; the scale kept flat). Needs `supportsFastScan`.
  public func makeFastScanCodes(_ codes: CodeBuffer) -> FastScanCodes {
    precondition(supportsFastScan, "FastScan needs bits*block = 4, this is \(spec.description)")
    precondition(codes.layout == layout, "codes were made by another quantizer (layout \(codes.layout))")
    return FastScanCodes(flat: codes, blockedBytes: layout.bytesPerCode)
  }

  /// The byte tables of a query prepared by this quantizer (`prepare(query:)`): its m float tables of 16
  /// entries quantized by `FastScanTables`.
  public func prepareFastScan(_ query: PreparedQuery) -> FastScanTables {
    precondition(supportsFastScan, "FastScan needs bits*block = 4, this is \(spec.description)")
    precondition(query.lookupTable.count == 16 * blockCount, "query was not prepared by this quantizer")
    return FastScanTables(query.lookupTable)
  }

  /// Estimates of ⟨q, x⟩ for the 32 vectors of each block in `blockRange`: `out[32·(b − start) + v]` for
  /// vector `32·b + v` (`out` holds `32·blockRange.count` floats; entries past `codes.count` are 0).
  public func estimateInnerProductsFastScan(
    _ tables: FastScanTables, codes: FastScanCodes, blockRange: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(codes.layout == layout && codes.blockedBytes == layout.bytesPerCode,
                 "codes were not made by makeFastScanCodes of this quantizer")
    precondition(blockRange.lowerBound >= 0 && blockRange.upperBound <= codes.blockCount,
                 "block range \(blockRange) outside 0..<\(codes.blockCount)")
    precondition(out.count >= 32 * blockRange.count, "output buffer shorter than 32 per block")
    guard !blockRange.isEmpty else { return }
    let chunk = Self.fastScanChunk, count = codes.count
    let step = tables.step, offset = tables.offset
    codes.remainder.withUnsafeSide(0) { scales in
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 32 * chunk) { sums in
        var block = blockRange.lowerBound
        while block < blockRange.upperBound {
          let n = Swift.min(chunk, blockRange.upperBound - block)
          codes.accumulate(tables, blockRange: block..<(block + n), into: sums.baseAddress!)
          let first = 32 * block, written = 32 * (block - blockRange.lowerBound)
          let valid = Swift.max(0, Swift.min(32 * n, count - first))
          let target = out.baseAddress! + written
          if valid > 0 {
            Kernels.fastScanAffine(sums.baseAddress!, count: valid, scale: scales.baseAddress! + first, step: step,
                                   offset: offset, add: 0, into: target)
          }
          for k in valid..<(32 * n) { target[k] = 0 }
          block += n
        }
      }
    }
  }

  /// Blocks per kernel call (the integer sums of one call live in a stack buffer).
  static var fastScanChunk: Int { 64 }
}
