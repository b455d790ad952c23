import VQ

/// The FastScan scan of a BlockQuant index with 16 codewords per block (b·p = 4: `bits=1,block=4`,
/// `bits=2,block=2`; `BlockQuant+FastScan.swift`).
///
/// Per query: the m per-block float tables of `prepare(query:)` quantized to bytes once
/// (`FastScanTables`), then every probed list's codes scanned 32 rows per `vpshufb` lookup; the estimate
/// scale·(Δ·S + Σ min) differs from the quantizer's own estimate by at most |scale|·M·Δ/2 and ranks
/// directly, as RaBitQ's 1-bit FastScan does (`VectorIndex+FastScan.swift`); re-ranking with the
/// originals, when asked for, makes the final order exact.
struct BlockQuantFastScanState: Sendable {
  /// Each list's codes in FastScan blocks.
  var lists: [FastScanCodes]

  /// The state for `quantizer` if it is a BlockQuant with 16 codewords per block, else nil.
  init?(_ quantizer: any VectorQuantizer, codes: CodeBuffer, listOffsets: [Int]) {
    guard let blockQuant = quantizer as? BlockQuant, blockQuant.supportsFastScan else { return nil }
    lists = (0..<(listOffsets.count - 1)).map { l in
      blockQuant.makeFastScanCodes(codes.slice(listOffsets[l]..<listOffsets[l + 1]))
    }
  }
}

extension VectorIndex {
  func scanFast(
    _ blockQuant: BlockQuant, _ prepared: PreparedQuery, state: BlockQuantFastScanState,
    probes: [(list: Int, offset: Float)], filter: IDFilter?, into best: inout BestCandidates
  ) {
    let tables = blockQuant.prepareFastScan(prepared)
    forEachFastScanChunk(
      lists: state.lists, probes: probes,
      estimate: { blockQuant.estimateInnerProductsFastScan(tables, codes: $0, blockRange: $1, into: $2) }
    ) { e, rows, offset in
      scanBlock(e, rows: rows, offset: offset, filter: filter, into: &best)
    }
  }
}
