import VQ

/// The RaBitQ scan of the index, in two stages per chunk of rows (one pass over the probed rows, as
/// FAISS's multi-bit search):
///
/// 1. FastScan over the sign plane (32 rows per `vpshufb` table lookup) gives an estimate and an
///    interval [lower, upper] that holds with RaBitQ's ε0 guarantee widened by the LUT-quantization
///    term. A row whose upper bound is below the threshold, the `depth`-th best full estimate so far
///    (before `depth` rows have one: the `depth`-th best lower bound), cannot be among the best `depth`
///    and is dropped at once.
/// 2. The chunk's remaining rows get the quantizer's full estimate (sign plane and extended bits, with
///    the b-bit query), a few at a time, each group tested against the threshold as it rises.
///
/// For B ≥ 3 most rows never touch their extended bits. For B ≤ 2 the FastScan estimate ranks directly
/// (it is the full code's estimate up to the table rounding; at B = 2 the scan reads both bit planes).

/// What the FastScan path of a RaBitQ index derives from its flat codes once.
struct FastScanState: Sendable {
  /// Each list's codes in FastScan blocks.
  var lists: [FastScanCodes]
  /// Per row: the query-independent factor of RaBitQ's bound on the FastScan estimate
  /// (`RaBitQ.fastScanBoundFactors`); the half-width of a row's interval is ‖q‖·width + r·(LUT bound).
  var widths: [Float]
  /// Per row: the rescale r of the scanned code.
  var rescales: [Float]

  init(_ rabitq: RaBitQ, codes: CodeBuffer, listOffsets: [Int]) {
    lists = (0..<(listOffsets.count - 1)).map { l in rabitq.makeFastScanCodes(codes.slice(listOffsets[l]..<listOffsets[l + 1])) }
    widths = rabitq.fastScanBoundFactors(codes)
    rescales = codes.side(rabitq.fastScanRescaleField)
  }
}

extension VectorIndex {
  /// The RaBitQ FastScan scan of `query` (validated, normalized for cosine). The 1-bit case needs only the
  /// tables; B ≥ 2 also prepares the quantized query for stage 2.
  func scanFast(
    _ rabitq: RaBitQ, query: [Float], state: FastScanState, probes: [(list: Int, offset: Float)],
    filter: IDFilter?, into best: inout BestCandidates
  ) throws {
    let prepared = rabitq.fastScanCoversFullCode ? nil : try query.withUnsafeBufferPointer { try rabitq.prepare(query: $0) }
    let fastQuery = try prepared.map { rabitq.prepareFastScan($0) }
      ?? query.withUnsafeBufferPointer { try rabitq.prepareFastScan(query: $0) }
    let estimate = { (codes: FastScanCodes, blocks: Range<Int>, out: UnsafeMutableBufferPointer<Float>) in
      rabitq.estimateInnerProductsFastScan(fastQuery, codes: codes, blockRange: blocks, into: out)
    }
    if rabitq.fastScanCoversFullCode {
      // B ≤ 2: the FastScan estimate is the full code's estimate up to the LUT rounding (≤ r·lutErrorBound),
      // so it ranks directly, as FAISS's IndexRaBitQFastScan does at 1 bit; re-ranking with the
      // originals, when asked for, makes the final order exact.
      forEachFastScanChunk(lists: state.lists, probes: probes, estimate: estimate) { e, rows, offset in
        scanBlock(e, rows: rows, offset: offset, filter: filter, into: &best)
      }
      return
    }
    let depth = best.capacity
    let l2 = metric == .l2
    // One pass, as FAISS's multi-bit search: per chunk, the rows whose upper bound can still enter the
    // `depth` best get their full estimate at once. Until `best` holds `depth` rows, the depth-th best
    // lower bound seen so far is the threshold instead.
    var lowerBounds = BestCandidates(capacity: depth)
    var candidates: [Int] = []
    candidates.reserveCapacity(Self.scanBlockRows)
    var rows: [Int] = []
    rows.reserveCapacity(Self.refineChunk)
    var full = [Float](repeating: 0, count: Self.refineChunk)
    forEachFastScanChunk(lists: state.lists, probes: probes, estimate: estimate) { e, chunkRows, offset in
      refine(
        e, rows: chunkRows, offset: offset, rabitq: rabitq, prepared: prepared!, queryNorm: fastQuery.queryNorm,
        lutBound: fastQuery.lutErrorBound, state: state, l2: l2, filter: filter, lowerBounds: &lowerBounds,
        candidates: &candidates, refinedRows: &rows, full: &full, best: &best)
    }
  }

  /// FastScan estimates of the probed lists, `scanBlockRows` rows (whole blocks) at a time: `estimate`
  /// fills the buffer for a list's block range (RaBitQ's or BlockQuant's FastScan), `body` gets the
  /// estimates, the global rows they belong to and the list's ⟨q, centroid⟩.
  func forEachFastScanChunk(
    lists: [FastScanCodes], probes: [(list: Int, offset: Float)],
    estimate: (FastScanCodes, Range<Int>, UnsafeMutableBufferPointer<Float>) -> Void,
    _ body: (UnsafeMutableBufferPointer<Float>, Range<Int>, Float) -> Void
  ) {
    let chunkBlocks = Self.scanBlockRows / FastScanCodes.blockSize
    var estimates = [Float](repeating: 0, count: Self.scanBlockRows)
    for (list, offset) in probes {
      let codes = lists[list]
      let firstRow = listOffsets[list]
      var block = 0
      while block < codes.blockCount {
        let blocks = block..<min(codes.blockCount, block + chunkBlocks)
        estimates.withUnsafeMutableBufferPointer { e in
          estimate(codes, blocks, e)
          let first = firstRow + FastScanCodes.blockSize * blocks.lowerBound
          let last = firstRow + min(codes.count, FastScanCodes.blockSize * blocks.upperBound)
          body(e, first..<last, offset)
        }
        block = blocks.upperBound
      }
    }
  }

  /// Rows whose full estimate is computed per call.
  static let refineChunk = 32

  /// Both stages for one chunk of FastScan estimates (B ≥ 2): upper bounds as ranking keys; the rows that
  /// pass the threshold, the tombstones and the filter are candidates; candidates still above the (by
  /// then higher) threshold get their full estimate, `refineChunk` at a time, and go into `best`.
  @inline(never)
  func refine(
    _ estimates: UnsafeMutableBufferPointer<Float>, rows: Range<Int>, offset: Float, rabitq: RaBitQ,
    prepared: PreparedQuery, queryNorm: Float, lutBound: Float, state: FastScanState, l2: Bool, filter: IDFilter?,
    lowerBounds: inout BestCandidates, candidates: inout [Int], refinedRows: inout [Int], full: inout [Float],
    best: inout BestCandidates
  ) {
    let n = rows.count, first = rows.lowerBound
    func threshold() -> Float {
      best.isFull ? max(best.worst.key, lowerBounds.worst.key) : lowerBounds.isFull ? lowerBounds.worst.key : -.infinity
    }
    // Pass 1 (branch-free, vectorizes): upper bounds as ranking keys, in place of the estimates; the
    // half-widths go to `halfWidths`.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { halfWidths in
      state.widths.withUnsafeBufferPointer { allWidths in
        state.rescales.withUnsafeBufferPointer { allRescales in
          // Pointers at the chunk's first row: indexing from `first + k` kept this loop scalar.
          let widths = allWidths.baseAddress! + first, rescales = allRescales.baseAddress! + first
          for k in 0..<n { halfWidths[k] = queryNorm * widths[k] + rescales[k] * lutBound }
        }
      }
      if l2 {
        squaredNorms!.withUnsafeBufferPointer { allNorms in
          let norms = allNorms.baseAddress! + first
          for k in 0..<n { estimates[k] = 2 * (estimates[k] + offset + halfWidths[k]) - norms[k] }
        }
      } else {
        for k in 0..<n { estimates[k] = estimates[k] + offset + halfWidths[k] }
      }
      // Pass 2: most rows fail the threshold test; the rest go through tombstones and the filter and
      // become candidates. While `best` is not full, their lower keys (upper key − 2·half-width, or
      // − 4·half-width for l2's 2⟨q,x⟩) raise the lower-bound threshold.
      let widthToLower: Float = l2 ? 4 : 2
      var limit = threshold()
      candidates.removeAll(keepingCapacity: true)
      ids.withUnsafeBufferPointer { ids in
        tombstones.withUnsafeBufferPointer { tombstones in
          // A NaN upper bound counts as +∞ (the row is a candidate): `.!(x .< t)` holds for NaN lanes.
          Self.forEachRow(of: UnsafeBufferPointer(rebasing: estimates[0..<n]), passing: { .!($0 .< SIMD16(repeating: limit)) }) { k in
            if estimates[k].isNaN { estimates[k] = .infinity }
            let up = estimates[k]
            if up < limit { return }
            let row = first + k
            if tombstones[row >> 6] & (1 << UInt64(row & 63)) != 0 { return }
            if let filter, !filter.contains(ids[row]) { return }
            candidates.append(k)
            if best.isFull { return }
            let id = ids[row]
            var lo = up - widthToLower * halfWidths[k]
            if lo.isNaN { lo = -.infinity }
            if lowerBounds.admits(key: lo, id: id) {
              lowerBounds.insert(Candidate(key: lo, id: id, row: row))
              if lowerBounds.isFull { limit = lowerBounds.worst.key }
            }
          }
        }
      }
    }
    // The candidates that still pass the threshold, `refineChunk` at a time: full estimates into `best`.
    var next = 0
    while next < candidates.count {
      let limit = threshold()
      refinedRows.removeAll(keepingCapacity: true)
      while next < candidates.count && refinedRows.count < Self.refineChunk {
        let k = candidates[next]
        next += 1
        if !(estimates[k] < limit) { refinedRows.append(first + k) }
      }
      if refinedRows.isEmpty { continue }
      refinedRows.withUnsafeBufferPointer { refined in
        full.withUnsafeMutableBufferPointer { out in
          rabitq.estimateInnerProducts(prepared, codes: codes, rows: refined, into: out)
        }
      }
      for j in 0..<refinedRows.count {
        let row = refinedRows[j]
        var key = full[j] + offset + (centreCorrections?[row] ?? 0)
        if l2 { key = 2 * key - squaredNorms![row] }
        if key.isNaN { key = -.infinity }
        if best.isFull && key < best.worst.key { continue }
        let id = ids[row]
        if best.admits(key: key, id: id) { best.insert(Candidate(key: key, id: id, row: row)) }
      }
    }
  }
}
